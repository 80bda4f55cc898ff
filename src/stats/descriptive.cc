#include "stats/descriptive.h"

#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <cmath>

namespace dlb::stats {

double PercentileSorted(std::span<const double> sorted, double q) {
  // numpy: h = (n - 1) * q / 100; x[floor h] + (h - floor h) * (x[floor h + 1] - x[floor h])
  double h = (static_cast<double>(sorted.size()) - 1) * q / 100.0;
  auto lo = static_cast<size_t>(std::floor(h));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

std::optional<Summary> Summarize(std::span<const double> values) {
  if (values.empty()) return std::nullopt;
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  Summary s;
  s.n = static_cast<int64_t>(sorted.size());
  double sum = 0;
  for (double v : sorted) sum += v;
  s.mean = sum / static_cast<double>(s.n);
  if (s.n >= 2) {
    double ss = 0;
    for (double v : sorted) ss += (v - s.mean) * (v - s.mean);
    s.std = std::sqrt(ss / static_cast<double>(s.n - 1));
    if (s.mean != 0) s.cv = *s.std / s.mean;
  }
  s.min = sorted.front();
  s.max = sorted.back();
  s.p50 = PercentileSorted(sorted, 50);
  s.p90 = PercentileSorted(sorted, 90);
  s.p95 = PercentileSorted(sorted, 95);
  s.p99 = PercentileSorted(sorted, 99);
  return s;
}

std::optional<Summary> Summarize(std::span<const int64_t> values) {
  std::vector<double> d(values.begin(), values.end());
  return Summarize(std::span<const double>(d));
}

std::optional<MedianCi> MedianConfidenceInterval(std::span<const double> sorted,
                                                 double confidence) {
  const auto n = static_cast<int64_t>(sorted.size());
  if (n < 1) return std::nullopt;
  boost::math::binomial_distribution<double> b(static_cast<double>(n), 0.5);
  // Coverage of [x(j), x(n+1-j)] is B(n-j) - B(j-1), B the Binomial(n, 1/2) CDF; it falls as j
  // grows, so the answer is the largest j whose coverage still reaches the confidence. Start near
  // the normal approximation (Hoefler & Belli: (n - z sqrt n) / 2) and walk, so the cost does not
  // grow with n.
  auto coverage = [&](int64_t j) {
    return boost::math::cdf(b, static_cast<double>(n - j)) -
           boost::math::cdf(b, static_cast<double>(j - 1));
  };
  const int64_t j_max = (n + 1) / 2;
  double z = 4.0;  // generous start, walked down or up below
  auto j = static_cast<int64_t>(std::floor((static_cast<double>(n) - z * std::sqrt(n)) / 2));
  j = std::clamp<int64_t>(j, 1, j_max);
  while (j > 1 && coverage(j) < confidence) --j;
  if (coverage(j) < confidence) return std::nullopt;
  while (j < j_max && coverage(j + 1) >= confidence) ++j;
  int64_t k = n + 1 - j;
  return MedianCi{sorted[static_cast<size_t>(j - 1)], sorted[static_cast<size_t>(k - 1)], j, k,
                  coverage(j)};
}

int64_t MinSamplesForMedianCi(double confidence) {
  for (int64_t n = 1; n < 100; ++n) {
    // [x(1), x(n)] has coverage 1 - 2 * 0.5^n.
    if (1.0 - 2.0 * std::pow(0.5, static_cast<double>(n)) >= confidence) return n;
  }
  return 100;
}

}  // namespace dlb::stats
