// Descriptive statistics of one sample (methodology S1, S2). Percentiles interpolate linearly
// between order statistics as numpy.percentile's default (type 7), the standard deviation uses
// ddof=1 and two passes, and an empty sample gives nullopt, never 0. The outlier fences of S1 live
// here too.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "stats/sample_check.h"

namespace dlb::stats {

struct Summary {
  int64_t n = 0;
  double mean = 0;
  std::optional<double> std;  // needs n >= 2
  std::optional<double> cv;   // std / mean
  double min = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;
};

std::optional<Summary> Summarize(std::span<const double> values);
std::optional<Summary> Summarize(std::span<const int64_t> values);

// Type-7 percentile of already sorted values, q in [0, 100].
double PercentileSorted(std::span<const double> sorted, double q);

// Distribution-free confidence interval of the median from order statistics (Le Boudec,
// Performance Evaluation, Thm 2.1): [x(j), x(k)] with k = n + 1 - j, the narrowest symmetric pair
// whose binomial coverage reaches `confidence`. None exists for n <= 5 at 95%.
struct MedianCi {
  double lo = 0, hi = 0;
  int64_t j = 0, k = 0;  // 1-based ranks
  double coverage = 0;   // achieved, >= confidence
};
std::optional<MedianCi> MedianConfidenceInterval(std::span<const double> sorted, double confidence);

// Student-t confidence interval of the mean, scipy.stats.t.interval(confidence, n - 1, mean,
// sem) with sem = std(ddof=1) / sqrt(n); needs n >= 2 (energy per sample across windows, T11).
struct MeanCi {
  double mean = 0, lo = 0, hi = 0;
};
std::optional<MeanCi> MeanConfidenceInterval(std::span<const double> values, double confidence);

// Distribution-free confidence interval of the p-quantile from order statistics, equal-tailed:
// [x(l), x(u)] with l the largest rank whose P(B < l) <= (1 - confidence) / 2 and u the smallest
// with P(B >= u) <= (1 - confidence) / 2, B ~ Binomial(n, p). For a tail percentile this is the
// interval MLPerf LoadGen's early stopping bounds from one side. None when n is too small for the
// ranks to exist (a 95% interval of p99 needs n >= 367). p in (0, 1).
struct QuantileCi {
  double lo = 0, hi = 0;
  int64_t l = 0, u = 0;  // 1-based ranks
  double coverage = 0;
};
std::optional<QuantileCi> QuantileConfidenceInterval(std::span<const double> sorted, double p,
                                                     double confidence);

// The smallest n for which a median CI at `confidence` exists.
int64_t MinSamplesForMedianCi(double confidence);

// The fewest samples for which a tail percentile is reported (MLPerf LoadGen early stopping,
// methodology rule 6): p90 >= 64, p95 >= 130, p99 >= 662.
inline constexpr int64_t kMinSamplesP90 = 64;
inline constexpr int64_t kMinSamplesP95 = 130;
inline constexpr int64_t kMinSamplesP99 = 662;

// Outliers (S1): Tukey's fences at 1.5 and 3 IQR, as criterion.rs labels "mild" and "severe", and
// median -+ 3 MAD. They flag, never drop: callers show the counts beside the statistics. Quartiles
// are type-7 percentiles (numpy.percentile 25 and 75). The MAD is scaled to the normal sd, median
// |x - median| / Phi^-1(3/4) (scipy.stats.median_abs_deviation(x, scale='normal')), so 3 MAD means
// about 3 sd for normal data; methodology S1 leaves the scaling open, and the raw 3 MAD would flag
// about 4.5% of normal samples. A value is an outlier when strictly outside a fence.
struct OutlierFences {
  double q1 = 0, q3 = 0;
  double mild_lo = 0, mild_hi = 0;      // q1 - 1.5 IQR, q3 + 1.5 IQR
  double severe_lo = 0, severe_hi = 0;  // q1 - 3 IQR, q3 + 3 IQR
  double median = 0;
  double mad = 0;                 // scaled, see above
  double mad_lo = 0, mad_hi = 0;  // median - 3 MAD, median + 3 MAD
  bool operator==(const OutlierFences&) const = default;
};

struct OutlierCounts {
  int64_t mild_low = 0, mild_high = 0;      // outside the 1.5 IQR fences (severe ones included)
  int64_t severe_low = 0, severe_high = 0;  // outside the 3 IQR fences
  // Outside median -+ 3 MAD; nullopt when MAD is 0 (over half the values equal), where every other
  // value would count.
  std::optional<int64_t> mad_low{}, mad_high{};
  bool operator==(const OutlierCounts&) const = default;
};

struct OutlierReport {
  OutlierFences fences{};
  OutlierCounts counts{};
  bool operator==(const OutlierReport&) const = default;
};

// Errors: an empty sample or a NaN/inf.
[[nodiscard]] Expected<OutlierReport> FindOutliers(std::span<const double> values);

enum class TukeyClass { Inside, Mild, Severe };

// Which Tukey band one value falls in, to mark (never remove) single samples.
[[nodiscard]] TukeyClass ClassifyTukey(double value, const OutlierFences& fences);

}  // namespace dlb::stats
