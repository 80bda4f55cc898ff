// Descriptive statistics of one sample (METHODOLOGY §3 S1, S2). Percentiles interpolate linearly
// between order statistics as numpy.percentile's default (type 7), the standard deviation uses
// ddof=1 and two passes, and an empty sample gives nullopt, never 0.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

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
  int64_t j = 0, k = 0;   // 1-based ranks
  double coverage = 0;    // achieved, >= confidence
};
std::optional<MedianCi> MedianConfidenceInterval(std::span<const double> sorted, double confidence);

// The smallest n for which a median CI at `confidence` exists.
int64_t MinSamplesForMedianCi(double confidence);

// The fewest samples for which a tail percentile is reported (MLPerf LoadGen early stopping,
// METHODOLOGY §1): p90 >= 64, p95 >= 130, p99 >= 662.
inline constexpr int64_t kMinSamplesP90 = 64;
inline constexpr int64_t kMinSamplesP95 = 130;
inline constexpr int64_t kMinSamplesP99 = 662;

}  // namespace dlb::stats
