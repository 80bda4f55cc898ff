#include "stats/descriptive.h"

#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>

namespace dlb::stats {

double PercentileSorted(std::span<const double> sorted, double q) {
  // numpy: h = (n - 1) * q / 100; x[floor h] + (h - floor h) * (x[floor h + 1] - x[floor h])
  double h = (static_cast<double>(sorted.size()) - 1) * q / 100.0;
  auto lo = static_cast<size_t>(std::floor(h));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double g = h - static_cast<double>(lo), gap = sorted[hi] - sorted[lo];
  // The gap overflows only between huge values of opposite signs; then weigh the two instead.
  if (!std::isfinite(gap)) return (1 - g) * sorted[lo] + g * sorted[hi];
  return sorted[lo] + g * gap;
}

std::optional<Summary> Summarize(std::span<const double> values) {
  if (values.empty()) return std::nullopt;
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  Summary s;
  s.n = static_cast<int64_t>(sorted.size());
  // Sums on values scaled by a power of two (exact): the same roundings as unscaled, but no sum
  // overflows near 1e308 and no square overflows near 1e154 or underflows near 1e-160.
  const Scaled scaled = ScaleTogether(sorted);
  double sum = 0;
  for (double v : scaled.a) sum += v;
  const double mean = sum / static_cast<double>(s.n);
  s.mean = std::ldexp(mean, scaled.exponent);
  if (s.n >= 2) {
    double ss = 0;
    for (double v : scaled.a) ss += (v - mean) * (v - mean);
    s.std = std::ldexp(std::sqrt(ss / static_cast<double>(s.n - 1)), scaled.exponent);
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

std::optional<MeanCi> MeanConfidenceInterval(std::span<const double> values, double confidence) {
  const auto n = static_cast<double>(values.size());
  if (values.size() < 2) return std::nullopt;
  const Scaled scaled = ScaleTogether(values);  // as in Summarize
  double mean = 0;
  for (double v : scaled.a) mean += v;
  mean /= n;
  double ss = 0;
  for (double v : scaled.a) ss += (v - mean) * (v - mean);
  double sem = std::sqrt(ss / (n - 1)) / std::sqrt(n);
  double t = boost::math::quantile(boost::math::students_t_distribution<double>(n - 1),
                                   0.5 + confidence / 2);
  auto back = [&](double v) { return std::ldexp(v, scaled.exponent); };
  return MeanCi{back(mean), back(mean - t * sem), back(mean + t * sem)};
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

std::optional<QuantileCi> QuantileConfidenceInterval(std::span<const double> sorted, double p,
                                                     double confidence) {
  const auto n = static_cast<int64_t>(sorted.size());
  if (n < 1 || !(p > 0 && p < 1)) return std::nullopt;
  boost::math::binomial_distribution<double> b(static_cast<double>(n), p);
  auto cdf = [&](int64_t k) {
    if (k < 0) return 0.0;
    if (k >= n) return 1.0;
    return boost::math::cdf(b, static_cast<double>(k));
  };
  const double tail = (1.0 - confidence) / 2;
  if (cdf(0) > tail || cdf(n - 1) < 1.0 - tail) return std::nullopt;
  // Start three standard deviations out and walk, so the cost does not grow with n.
  const double np = static_cast<double>(n) * p, sd = std::sqrt(np * (1 - p));
  auto l = std::clamp<int64_t>(static_cast<int64_t>(std::floor(np - 3 * sd)), 1, n);
  while (l > 1 && cdf(l - 1) > tail) --l;
  while (l < n && cdf(l) <= tail) ++l;
  auto u = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(np + 3 * sd)) + 1, 1, n);
  while (u < n && cdf(u - 1) < 1.0 - tail) ++u;
  while (u > 1 && cdf(u - 2) >= 1.0 - tail) --u;
  return QuantileCi{sorted[static_cast<size_t>(l - 1)], sorted[static_cast<size_t>(u - 1)], l, u,
                    cdf(u - 1) - cdf(l - 1)};
}

int64_t MinSamplesForMedianCi(double confidence) {
  for (int64_t n = 1; n < 100; ++n) {
    // [x(1), x(n)] has coverage 1 - 2 * 0.5^n.
    if (1.0 - 2.0 * std::pow(0.5, static_cast<double>(n)) >= confidence) return n;
  }
  return 100;
}

namespace {

OutlierFences Fences(std::span<const double> sorted) {
  OutlierFences f{.q1 = PercentileSorted(sorted, 25), .q3 = PercentileSorted(sorted, 75)};
  const double iqr = f.q3 - f.q1;
  f.mild_lo = f.q1 - 1.5 * iqr;
  f.mild_hi = f.q3 + 1.5 * iqr;
  f.severe_lo = f.q1 - 3 * iqr;
  f.severe_hi = f.q3 + 3 * iqr;
  f.median = PercentileSorted(sorted, 50);
  std::vector<double> deviations;
  for (double v : sorted) deviations.push_back(std::abs(v - f.median));
  std::sort(deviations.begin(), deviations.end());
  // scipy.stats.median_abs_deviation(scale='normal') divides by ndtri(0.75) = 0.6744897...
  const double normal_q3 = boost::math::quantile(boost::math::normal_distribution<double>(), 0.75);
  f.mad = PercentileSorted(deviations, 50) / normal_q3;
  f.mad_lo = f.median - 3 * f.mad;
  f.mad_hi = f.median + 3 * f.mad;
  return f;
}

}  // namespace

TukeyClass ClassifyTukey(double value, const OutlierFences& fences) {
  if (value < fences.severe_lo || value > fences.severe_hi) return TukeyClass::Severe;
  if (value < fences.mild_lo || value > fences.mild_hi) return TukeyClass::Mild;
  return TukeyClass::Inside;
}

Expected<OutlierReport> FindOutliers(std::span<const double> values) {
  if (auto ok = CheckSample(values, {.method = "outliers", .min_n = 1}); !ok) {
    return std::unexpected(ok.error());
  }
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  OutlierReport r{.fences = Fences(sorted)};
  const OutlierFences& f = r.fences;
  OutlierCounts& c = r.counts;
  for (double v : sorted) {
    c.mild_low += v < f.mild_lo;
    c.mild_high += v > f.mild_hi;
    c.severe_low += v < f.severe_lo;
    c.severe_high += v > f.severe_hi;
  }
  if (f.mad > 0) {
    c.mad_low = std::count_if(sorted.begin(), sorted.end(), [&](double v) { return v < f.mad_lo; });
    c.mad_high =
        std::count_if(sorted.begin(), sorted.end(), [&](double v) { return v > f.mad_hi; });
  }
  return r;
}

}  // namespace dlb::stats
