// BCa and percentile intervals transcribed from SciPy 1.18.1 scipy/stats/_resampling.py (bootstrap,
// _bca_interval, _percentile_of_score, _jackknife_resample; read 2026-05 in the project venv),
// which follows Efron & Tibshirani, An Introduction to the Bootstrap (1993) §14.3 and eq. 15.36.
// SciPy 1.18.1 reads the bounds with scipy.stats.quantile(method='linear'), not np.percentile
// (1.10.1); both are type 7 and differ only in rounding, so QuantileLinear copies the former's
// arithmetic.
#include "stats/bootstrap.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cfloat>
#include <cmath>
#include <limits>

#include "stats/descriptive.h"
#include "stats/two_sample.h"
#include "util/random.h"

namespace dlb::stats {
namespace {

constexpr std::string_view kBootstrap = "bootstrap";
constexpr std::string_view kBca = "bca interval";

const boost::math::normal_distribution<double> kNormal;

// ndtri with SciPy's limits: -inf at 0, +inf at 1 (Boost would report an overflow).
double Ndtri(double p) {
  if (p <= 0) return -std::numeric_limits<double>::infinity();
  if (p >= 1) return std::numeric_limits<double>::infinity();
  return boost::math::quantile(kNormal, p);
}

// Median or mean of a scratch buffer, which is reordered.
double LocationInPlace(RatioStatistic statistic, std::span<double> v) {
  if (statistic == RatioStatistic::Means) return Mean(v);
  const size_t mid = v.size() / 2;
  const auto mid_it = v.begin() + static_cast<std::ptrdiff_t>(mid);
  std::nth_element(v.begin(), mid_it, v.end());
  if (v.size() % 2 == 1) return *mid_it;
  return Midpoint(*std::max_element(v.begin(), mid_it), *mid_it);
}

double Location(RatioStatistic statistic, std::span<const double> values) {
  std::vector<double> scratch(values.begin(), values.end());
  return LocationInPlace(statistic, scratch);
}

Expected<void> CheckOptions(const BootstrapOptions& options) {
  if (options.n_resamples < 1) {
    return std::unexpected(
        fmt::format("{}: n_resamples is {}; needs at least 1", kBootstrap, options.n_resamples));
  }
  if (!(options.confidence_level > 0 && options.confidence_level < 1)) {
    return std::unexpected(fmt::format("{}: confidence level {} is not in (0, 1)", kBootstrap,
                                       options.confidence_level));
  }
  return {};
}

Expected<void> CheckRatioData(const TwoSampleRatio& data, std::string_view method) {
  if (auto ok = CheckSample(data.a, {.method = method, .name = "sample a", .min_n = 2}); !ok) {
    return ok;
  }
  return CheckSample(data.b, {.method = method, .name = "sample b", .min_n = 2});
}

// a / b or a - b.
double Combine(Contrast contrast, double a, double b) {
  return contrast == Contrast::kRatio ? a / b : a - b;
}

// The jackknife values theta_(-i) of one sample with the other held fixed, in sorted order of the
// left-out value (only their multiset matters). `other` is the other sample's location.
std::vector<double> JackknifeOne(RatioStatistic statistic, Contrast contrast,
                                 std::span<const double> sample, double other,
                                 bool sample_is_numerator) {
  std::vector<double> sorted(sample.begin(), sample.end());
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  const double mean = Mean(sorted);
  const double sum = mean * static_cast<double>(n);
  auto leave_out = [&](size_t r) {  // median or mean of sorted without position r
    if (statistic == RatioStatistic::Means) {
      // The sum overflows near 1e308; the same mean then comes from the mean itself.
      if (!std::isfinite(sum)) return mean + (mean - sorted[r]) / static_cast<double>(n - 1);
      return (sum - sorted[r]) / static_cast<double>(n - 1);
    }
    auto at = [&](size_t q) { return sorted[q < r ? q : q + 1]; };
    const size_t len = n - 1;
    return len % 2 == 1 ? at(len / 2) : Midpoint(at(len / 2 - 1), at(len / 2));
  };
  std::vector<double> theta(n);
  for (size_t r = 0; r < n; ++r) {
    theta[r] = sample_is_numerator ? Combine(contrast, leave_out(r), other)
                                   : Combine(contrast, other, leave_out(r));
  }
  return theta;
}

// Leave-one-out values of each sample in turn, the other held whole (_bca_interval's loop).
std::vector<std::vector<double>> Jackknife(const TwoSampleRatio& data) {
  const double loc_a = Location(data.statistic, data.a), loc_b = Location(data.statistic, data.b);
  return {JackknifeOne(data.statistic, data.contrast, data.a, loc_b, true),
          JackknifeOne(data.statistic, data.contrast, data.b, loc_a, false)};
}

// a-hat = (1/6) sum_j [sum U^3 / n_j^3] / (sum_j [sum U^2 / n_j^2])^(3/2), with
// U_ji = (n_j - 1)(mean theta_j - theta_ji): SciPy's multi-sample jackknife (S3).
double Acceleration(const std::vector<std::vector<double>>& jackknife) {
  double num = 0, den = 0;
  for (const auto& theta : jackknife) {
    const auto n = static_cast<double>(theta.size());
    const double mean = Mean(theta);
    double s2 = 0, s3 = 0;
    for (double t : theta) {
      const double u = (n - 1) * (mean - t);
      s2 += u * u;
      s3 += u * u * u;
    }
    num += s3 / (n * n * n);
    den += s2 / (n * n);
  }
  return 1.0 / 6 * num / std::pow(den, 1.5);
}

Expected<BcaResult> BcaFromParts(double theta_hat, std::span<const double> theta_star,
                                 const std::vector<std::vector<double>>& jackknife,
                                 double confidence_level) {
  std::vector<double> sorted(theta_star.begin(), theta_star.end());
  std::sort(sorted.begin(), sorted.end());
  const auto below = std::lower_bound(sorted.begin(), sorted.end(), theta_hat) - sorted.begin();
  const auto at_or_below =
      std::upper_bound(sorted.begin(), sorted.end(), theta_hat) - sorted.begin();
  for (const auto& theta : jackknife) {
    if (!std::all_of(theta.begin(), theta.end(), [](double t) { return std::isfinite(t); })) {
      return std::unexpected(fmt::format(
          "{}: a jackknife ratio is not finite (a leave-one-out denominator is 0)", kBca));
    }
  }
  BcaResult r;
  r.z0 = Ndtri(static_cast<double>(below + at_or_below) / (2 * static_cast<double>(sorted.size())));
  r.acceleration = Acceleration(jackknife);
  const double z_alpha = Ndtri((1 - confidence_level) / 2);
  auto adjusted = [&](double z) {
    const double num = r.z0 + z;
    return r.z0 + num / (1 - r.acceleration * num);
  };
  const double lo = adjusted(z_alpha), hi = adjusted(-z_alpha);
  if (std::isnan(lo) || std::isnan(hi)) {
    auto shown = [](double v) { return std::isnan(v) ? std::string("undefined") : fmt::format("{}", v); };
    return std::unexpected(fmt::format(
        "{}: undefined for degenerate data (z0 {}, acceleration {}); use the percentile interval",
        kBca, shown(r.z0), shown(r.acceleration)));
  }
  r.alpha_lo = boost::math::cdf(kNormal, lo);
  r.alpha_hi = boost::math::cdf(kNormal, hi);
  r.interval = {QuantileLinear(sorted, r.alpha_lo), QuantileLinear(sorted, r.alpha_hi)};
  return r;
}

Expected<void> CheckThetaStar(std::span<const double> theta_star, double confidence_level,
                              std::string_view method) {
  if (!(confidence_level > 0 && confidence_level < 1)) {
    return std::unexpected(
        fmt::format("{}: confidence level {} is not in (0, 1)", method, confidence_level));
  }
  return CheckSample(theta_star, {.method = method, .name = "theta*", .min_n = 1});
}

Expected<double> Contrasted(Contrast contrast, double a, double b, std::string_view what) {
  const double r = Combine(contrast, a, b);
  const bool underflow = contrast == Contrast::kRatio && a != 0 && std::abs(r) < DBL_MIN;
  if (underflow) {
    return std::unexpected(fmt::format("{}: {} is {} / {}, below the range of a double", kBootstrap,
                                       what, a, b));
  }
  if (!std::isfinite(r)) {
    if (contrast == Contrast::kDifference) {
      return std::unexpected(fmt::format("{}: {} is {} - {}, beyond the range of a double",
                                         kBootstrap, what, a, b));
    }
    return std::unexpected(
        fmt::format("{}: {} is {} / {}; the ratio is undefined", kBootstrap, what, a, b));
  }
  return r;
}

double StandardError(std::span<const double> theta_star) {
  if (theta_star.size() < 2) return 0;
  const double mean = Mean(theta_star);
  return std::sqrt(SumSquaredDeviations(theta_star, mean) /
                   static_cast<double>(theta_star.size() - 1));
}

// Fills out the parts of a BootstrapResult that follow from theta* and the jackknife.
BootstrapResult Summarise(double estimate, std::vector<double> theta_star,
                          const std::vector<std::vector<double>>& jackknife,
                          double confidence_level) {
  BootstrapResult r{.estimate = estimate, .theta_star = std::move(theta_star)};
  r.standard_error = StandardError(r.theta_star);
  r.percentile = *PercentileInterval(r.theta_star, confidence_level);
  r.bca = BcaFromParts(estimate, r.theta_star, jackknife, confidence_level);
  return r;
}

}  // namespace

double QuantileLinear(std::span<const double> sorted, double p) {
  // scipy/stats/_quantile.py _quantile_hf, method 'linear': m = 1 - p, jg = p n + m,
  // j = floor(jg) - 1, g = jg mod 1, result (1 - g) y[j] + g y[j + 1], indices clipped.
  const auto n = static_cast<double>(sorted.size());
  const double jg = p * n + (1 - p);
  const double jp1 = std::floor(jg);
  const double j = jp1 - 1;
  const double g = j < 0 ? 0 : jg - jp1;
  auto at = [&](double idx) { return sorted[static_cast<size_t>(std::clamp(idx, 0.0, n - 1))]; };
  return (1 - g) * at(j) + g * at(jp1);
}

namespace {

Expected<Interval> CheckedPercentileInterval(std::span<const double> theta_star, double confidence_level) {
  if (auto ok = CheckThetaStar(theta_star, confidence_level, "percentile interval"); !ok) {
    return std::unexpected(ok.error());
  }
  std::vector<double> sorted(theta_star.begin(), theta_star.end());
  std::sort(sorted.begin(), sorted.end());
  const double alpha = (1 - confidence_level) / 2;
  return Interval{QuantileLinear(sorted, alpha), QuantileLinear(sorted, 1 - alpha)};
}

Expected<double> CheckedRatioEstimate(const TwoSampleRatio& data) {
  if (auto ok = CheckRatioData(data, kBootstrap); !ok) return std::unexpected(ok.error());
  const bool medians = data.statistic == RatioStatistic::Medians;
  const bool ratio = data.contrast == Contrast::kRatio;
  return Contrasted(data.contrast, Location(data.statistic, data.a), Location(data.statistic, data.b),
                    medians ? (ratio ? "median(a) / median(b)" : "median(a) - median(b)")
                            : (ratio ? "mean(a) / mean(b)" : "mean(a) - mean(b)"));
}

Expected<BcaResult> CheckedBcaInterval(const TwoSampleRatio& data, std::span<const double> theta_star,
                                       double confidence_level) {
  auto theta_hat = CheckedRatioEstimate(data);
  if (!theta_hat) return std::unexpected(theta_hat.error());
  if (auto ok = CheckThetaStar(theta_star, confidence_level, kBca); !ok) {
    return std::unexpected(ok.error());
  }
  return BcaFromParts(*theta_hat, theta_star, Jackknife(data), confidence_level);
}

Expected<BootstrapResult> CheckedBootstrapRatio(const TwoSampleRatio& data,
                                                const BootstrapOptions& options) {
  if (auto ok = CheckOptions(options); !ok) return std::unexpected(ok.error());
  auto theta_hat = CheckedRatioEstimate(data);
  if (!theta_hat) return std::unexpected(theta_hat.error());
  Rng rng(options.seed);
  std::vector<double> theta_star(static_cast<size_t>(options.n_resamples));
  std::vector<double> scratch_a(data.a.size()), scratch_b(data.b.size());
  for (size_t k = 0; k < theta_star.size(); ++k) {
    for (double& v : scratch_a) v = data.a[UniformIndex(rng, data.a.size())];
    for (double& v : scratch_b) v = data.b[UniformIndex(rng, data.b.size())];
    auto r = Contrasted(data.contrast, LocationInPlace(data.statistic, scratch_a),
                        LocationInPlace(data.statistic, scratch_b), fmt::format("resample {}", k));
    if (!r) return std::unexpected(r.error());
    theta_star[k] = *r;
  }
  return Summarise(*theta_hat, std::move(theta_star), Jackknife(data), options.confidence_level);
}



Expected<ContrastInterval> BootstrappedContrast(const TwoSampleRatio& data,
                                                const BootstrapOptions& options) {
  auto boot = CheckedBootstrapRatio(data, options);
  if (!boot) return std::unexpected(boot.error());
  if (boot->bca) return ContrastInterval{boot->estimate, boot->bca->interval, "BCa", ""};
  return ContrastInterval{boot->estimate, boot->percentile, "percentile",
                          "BCa undefined (" + boot->bca.error() + "); percentile interval"};
}

// A median's standard error from its distribution-free 95% interval [x(j), x(k)]: the interval's
// half-width over the normal quantile of its exact coverage. `transform` is applied to the order
// statistics first (log for a ratio).
template <typename F>
Expected<double> MedianStandardError(std::span<const double> sorted, F transform) {
  auto ci = MedianConfidenceInterval(sorted, 0.95);
  if (!ci) return std::unexpected(fmt::format("a sample of {} values is too small", sorted.size()));
  return (transform(ci->hi) - transform(ci->lo)) / (2 * Ndtri((1 + ci->coverage) / 2));
}

// The analytic intervals described in bootstrap.h, for large samples.
Expected<ContrastInterval> AnalyticContrast(const TwoSampleRatio& data, double confidence_level) {
  if (auto ok = CheckRatioData(data, "analytic interval"); !ok) return std::unexpected(ok.error());
  const bool ratio = data.contrast == Contrast::kRatio;
  const double z = Ndtri(1 - (1 - confidence_level) / 2);
  if (data.statistic == RatioStatistic::Means && !ratio) {
    auto w = WelchInterval(data.a, data.b, confidence_level);
    if (!w) return std::unexpected(w.error());
    return ContrastInterval{w->difference, {w->lo, w->hi}, "Welch", ""};
  }
  auto positive = [](std::span<const double> v) {
    return std::all_of(v.begin(), v.end(), [](double x) { return x > 0; });
  };
  if (ratio && !(positive(data.a) && positive(data.b))) {
    return std::unexpected("a ratio needs values > 0 on both sides");
  }
  if (data.statistic == RatioStatistic::Means) {
    const double ma = Mean(data.a), mb = Mean(data.b);
    const Scaled sa = ScaleTogether(data.a), sb = ScaleTogether(data.b);
    // Relative variances (s^2 / n) / m^2, each on its own scale, so nothing overflows.
    auto rel_var = [](const Scaled& s) {
      const double m = Mean(s.a), n = static_cast<double>(s.a.size());
      return SumSquaredDeviations(s.a, m) / (n - 1) / n / (m * m);
    };
    const double se = std::sqrt(rel_var(sa) + rel_var(sb));
    const double log_ratio = std::log(ma) - std::log(mb);
    return ContrastInterval{ma / mb, {std::exp(log_ratio - z * se), std::exp(log_ratio + z * se)},
                            "delta method", ""};
  }
  std::vector<double> a(data.a.begin(), data.a.end()), b(data.b.begin(), data.b.end());
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  const double ma = Median(a), mb = Median(b);
  if (ratio) {
    auto log = [](double x) { return std::log(x); };
    auto se_a = MedianStandardError(a, log), se_b = MedianStandardError(b, log);
    if (!se_a || !se_b) return std::unexpected(se_a ? se_b.error() : se_a.error());
    const double se = std::hypot(*se_a, *se_b);
    const double log_ratio = std::log(ma) - std::log(mb);
    return ContrastInterval{ma / mb, {std::exp(log_ratio - z * se), std::exp(log_ratio + z * se)},
                            "Price-Bonett", ""};
  }
  auto same = [](double x) { return x; };
  auto se_a = MedianStandardError(a, same), se_b = MedianStandardError(b, same);
  if (!se_a || !se_b) return std::unexpected(se_a ? se_b.error() : se_a.error());
  const double d = ma - mb, se = std::hypot(*se_a, *se_b);
  return ContrastInterval{d, {d - z * se, d + z * se}, "McKean-Schrader", ""};
}

}  // namespace

Expected<Interval> PercentileInterval(std::span<const double> theta_star, double confidence_level) {
  return Guarded<Interval>("percentile interval",
                           [&] { return CheckedPercentileInterval(theta_star, confidence_level); });
}

Expected<double> RatioEstimate(const TwoSampleRatio& data) {
  return Guarded<double>(kBootstrap, [&] { return CheckedRatioEstimate(data); });
}

Expected<BcaResult> BcaInterval(const TwoSampleRatio& data, std::span<const double> theta_star,
                                double confidence_level) {
  return Guarded<BcaResult>(kBca, [&] { return CheckedBcaInterval(data, theta_star, confidence_level); });
}

Expected<BootstrapResult> BootstrapRatio(const TwoSampleRatio& data,
                                         const BootstrapOptions& options) {
  return Guarded<BootstrapResult>(kBootstrap, [&] { return CheckedBootstrapRatio(data, options); });
}


Expected<ContrastInterval> IntervalOfContrast(const TwoSampleRatio& data,
                                              const BootstrapOptions& options) {
  const auto draws = static_cast<double>(options.n_resamples) *
                     static_cast<double>(data.a.size() + data.b.size());
  Expected<ContrastInterval> r;
  if (draws <= kMaxBootstrapDraws) {
    r = Guarded<ContrastInterval>(kBootstrap, [&] { return BootstrappedContrast(data, options); });
  } else {
    r = Guarded<ContrastInterval>("analytic interval",
                                  [&] { return AnalyticContrast(data, options.confidence_level); });
    if (r) {
      r->note = fmt::format("{} + {} values: {} interval, not the bootstrap ({} resamples would "
                            "draw {:.2g} values)", data.a.size(), data.b.size(), r->method,
                            options.n_resamples, draws);
    }
  }
  if (r && !(std::isfinite(r->estimate) && std::isfinite(r->interval.lo) &&
             std::isfinite(r->interval.hi))) {
    return std::unexpected(fmt::format("{} interval: beyond the range of a double", r->method));
  }
  return r;
}

}  // namespace dlb::stats
