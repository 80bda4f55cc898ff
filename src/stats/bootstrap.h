// Bootstrap confidence intervals for the ratio of two samples' medians or means: BCa and percentile
// intervals with the arithmetic of scipy.stats.bootstrap (SciPy 1.18.1, method='BCa',
// paired=False, two-sided).
//
// Resampling is ours, not NumPy's: one dlb::Rng (std::mt19937_64, fixed by the standard) seeded
// with BootstrapOptions::seed, and dlb::UniformIndex for unbiased bounded draws, so a seed gives
// the same theta* on every machine and standard library. Draw order, per resample in turn: n_a
// indices into a, then n_b indices into b. Because NumPy's draws cannot be reproduced, the SciPy
// oracle works the other way round: tests/stats/bca.json holds data plus fixed theta* arrays and
// SciPy's interval for them (bootstrap(..., n_resamples=0, bootstrap_result=BootstrapResult(None,
// theta_star, se))), and BcaInterval() must reproduce it from the same theta* (S3).

#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "stats/sample_check.h"

namespace dlb::stats {

enum class RatioStatistic {
  Medians,  // median(a) / median(b), numpy.median
  Means,    // mean(a) / mean(b)
};

// How the two locations are set against each other. A ratio means something only for values of
// one sign away from zero (times, throughputs); the difference serves any values.
enum class Contrast {
  kRatio,       // location(a) / location(b)
  kDifference,  // location(a) - location(b)
};

struct TwoSampleRatio {
  std::span<const double> a{};  // numerator sample, >= 2 values
  std::span<const double> b{};  // denominator sample, >= 2 values
  RatioStatistic statistic = RatioStatistic::Medians;
  Contrast contrast = Contrast::kRatio;
};

struct BootstrapOptions {
  int64_t n_resamples = 9999;  // SciPy's default
  double confidence_level = 0.95;
  uint64_t seed = 0;  // record it: the same seed gives the same theta* everywhere
};

struct Interval {
  double lo = 0, hi = 0;
  bool operator==(const Interval&) const = default;
};

struct BcaResult {
  Interval interval{};
  double z0 = 0;  // bias correction, Phi^-1((#{theta* < theta} + #{theta* <= theta}) / 2B)
  double acceleration = 0;            // jackknife a-hat, summed over samples as SciPy does
  double alpha_lo = 0, alpha_hi = 0;  // the percentiles (in [0, 1]) read from theta*
  bool operator==(const BcaResult&) const = default;
};

struct BootstrapResult {
  double estimate = 0;               // the statistic on the data
  std::vector<double> theta_star{};  // one statistic per resample, in draw order
  double standard_error = 0;         // sd of theta_star, ddof = 1
  Interval percentile{};             // the fallback interval (S4)
  Expected<BcaResult> bca{};         // an error line where BCa is undefined (degenerate theta*)
  bool operator==(const BootstrapResult&) const = default;
};

// The statistic on the data. Errors: a sample below 2 values, a NaN/inf, a zero denominator.
[[nodiscard]] Expected<double> RatioEstimate(const TwoSampleRatio& data);

// Resamples a and b independently. Errors: those of RatioEstimate, n_resamples < 1, a confidence
// level outside (0, 1), or a resample whose denominator is 0.
[[nodiscard]] Expected<BootstrapResult> BootstrapRatio(const TwoSampleRatio& data,
                                                       const BootstrapOptions& options);

// SciPy's BCa interval for the data and a given bootstrap distribution theta_star (the oracle
// hook). Errors: bad data, an empty or non-finite theta_star, a confidence level outside (0, 1), a
// jackknife ratio with a zero denominator, or an undefined interval (all jackknife values equal, or
// z0 infinite with a nonzero acceleration), where SciPy warns DegenerateDataWarning.
[[nodiscard]] Expected<BcaResult> BcaInterval(const TwoSampleRatio& data,
                                              std::span<const double> theta_star,
                                              double confidence_level = 0.95);

// Percentile interval: the (1 - CL) / 2 and 1 - (1 - CL) / 2 quantiles of theta_star. Errors: an
// empty or non-finite theta_star, a confidence level outside (0, 1).
[[nodiscard]] Expected<Interval> PercentileInterval(std::span<const double> theta_star,
                                                    double confidence_level = 0.95);

// The interval that `dlbench stats` reports for a contrast of two plain samples: the BCa bootstrap
// (percentile where BCa is undefined) while resampling is affordable, n_resamples * (n_a + n_b) <=
// kMaxBootstrapDraws, and an analytic interval beyond, where the large-sample approximations hold
// and 10^4 resamples of 10^6 values would take minutes:
// - medians: each median's standard error from its distribution-free 95% order-statistic interval,
//   se = (x(k) - x(j)) / (2 z) with z for that interval's exact coverage (McKean & Schrader 1984);
//   a ratio on the log scale, exp(log(m_a / m_b) +- z sqrt(se_log_a^2 + se_log_b^2)) with se_log
//   from log x(k) - log x(j) (Price & Bonett 2002), a difference on the raw scale;
// - means: a ratio by the delta method on the log scale, se^2 = s_a^2 / (n_a m_a^2) +
//   s_b^2 / (n_b m_b^2); a difference by Welch's interval (two_sample.h).
inline constexpr double kMaxBootstrapDraws = 5e7;

struct ContrastInterval {
  double estimate = 0;
  Interval interval{};
  std::string method;  // "BCa", "percentile", "Price-Bonett", "McKean-Schrader", "delta method", "Welch"
  std::string note;    // why BCa or the bootstrap was not used; empty otherwise
};

// Errors: those of BootstrapRatio; for a ratio, a value <= 0 in the analytic case.
[[nodiscard]] Expected<ContrastInterval> IntervalOfContrast(const TwoSampleRatio& data,
                                                            const BootstrapOptions& options);

// Quantile p in [0, 1] of sorted values, scipy.stats.quantile(method='linear') (Hyndman-Fan type 7,
// the same as numpy.percentile's default), written the way SciPy computes it.
[[nodiscard]] double QuantileLinear(std::span<const double> sorted, double p);

}  // namespace dlb::stats
