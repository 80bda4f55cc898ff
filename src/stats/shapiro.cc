// Shapiro-Wilk W and p as scipy.stats.shapiro in SciPy 1.18.1 (scipy/stats/_morestats.py: shapiro,
// _swilk, _swilk_w; read 2026-05 in the project venv). Coefficients follow Royston, "A toolkit for
// testing for non-normality in complete and censored samples", The Statistician 42 (1993) §2.2;
// the p-value transform is its Table 1. For n = 3, W is exact: Shapiro & Wilk (1965) Corollary 4
// gives p = 1 - (6 / pi) acos(sqrt W), with W clipped to [0.75, 1] (SciPy gh-18322).
#include "stats/shapiro.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <numbers>
#include <vector>

namespace dlb::stats {
namespace {

constexpr std::string_view kShapiro = "shapiro-wilk";

// W = (a . y)^2 / sum (y - mean y)^2 (_swilk_w).
double StatisticW(std::span<const double> y, std::span<const double> a) {
  double ay = 0;
  for (size_t i = 0; i < y.size(); ++i) ay += a[i] * y[i];
  return ay * ay / SumSquaredDeviations(y, Mean(y));
}

// Royston's approximate coefficients for n >= 4: scaled expected normal order statistics with the
// two outermost pairs replaced by polynomials in u = 1/sqrt(n).
std::vector<double> Coefficients(size_t n_values) {
  const auto n = static_cast<double>(n_values);
  const boost::math::normal_distribution<double> normal;
  std::vector<double> m(n_values);
  for (size_t i = 0; i < n_values; ++i) {
    m[i] = boost::math::quantile(normal, (static_cast<double>(i + 1) - 3.0 / 8) / (n + 1.0 / 4));
  }
  double mtm = 0;
  for (double v : m) mtm += v * v;
  const double u = std::pow(n, -0.5);
  const double u2 = u * u, u3 = u2 * u, u4 = u3 * u, u5 = u4 * u;
  const double mn = m[n_values - 1], mnm1 = m[n_values - 2];
  const double an = mn / std::sqrt(mtm) + 0.221157 * u - 0.147981 * u2 - 2.071190 * u3 +
                    4.434685 * u4 - 2.706056 * u5;
  const double anm1 = mnm1 / std::sqrt(mtm) + 0.042981 * u - 0.293762 * u2 - 1.752461 * u3 +
                      5.682633 * u4 - 3.582633 * u5;
  const double phi =
      n_values <= 5 ? (mtm - 2 * mn * mn) / (1 - 2 * an * an)
                    : (mtm - 2 * mn * mn - 2 * mnm1 * mnm1) / (1 - 2 * an * an - 2 * anm1 * anm1);
  std::vector<double> a(n_values);
  for (size_t i = 0; i < n_values; ++i) a[i] = m[i] / std::sqrt(phi);
  if (n_values > 5) {
    a[n_values - 2] = anm1;
    a[1] = -anm1;
  }
  a[n_values - 1] = an;
  a[0] = -an;
  return a;
}

// Royston (1993) Table 1: a normalising transform of W with mean and sd polynomial in n (n <= 11)
// or in log n; p is the upper tail.
double PValue(double w, size_t n_values) {
  if (1 - w <= 0) return 1;  // W rounds to 1: the limit of the transform (SciPy would give nan)
  double g = 0, mu = 0, sigma = 0;
  if (n_values <= 11) {
    const auto u = static_cast<double>(n_values);
    const double gamma = -2.273 + 0.459 * u;
    mu = 0.5440 - 0.39978 * u + 0.025054 * u * u - 0.0006714 * u * u * u;
    sigma = std::exp(1.3822 - 0.77857 * u + 0.062767 * u * u - 0.0020322 * u * u * u);
    g = -std::log(gamma - std::log(1 - w));
  } else {
    const double u = std::log(static_cast<double>(n_values));
    mu = -1.5861 - 0.31082 * u - 0.083751 * u * u + 0.0038915 * u * u * u;
    sigma = std::exp(-0.4803 - 0.082676 * u + 0.0030302 * u * u);
    g = std::log(1 - w);
  }
  const double z = (g - mu) / sigma;
  return boost::math::cdf(boost::math::normal_distribution<double>(), -z);
}

ShapiroResult ExactThree(std::span<const double> y) {
  const double c = std::numbers::sqrt2 / 2;
  const double a[] = {-c, 0, c};
  const double w = std::clamp(StatisticW(y, a), 0.75, 1.0);
  const double p = std::clamp(1 - 6 / std::numbers::pi * std::acos(std::sqrt(w)), 0.0, 1.0);
  return {.w = w, .p = p};
}

}  // namespace

namespace {

Expected<ShapiroResult> CheckedShapiroWilk(std::span<const double> values) {
  // SciPy sorts, then subtracts x[n // 2] of the unsorted input ("the median (or a nearby value)",
  // gh-15777): W does not depend on the shift, but the rounding does, so do the same.
  std::vector<double> shifted(values.begin(), values.end());
  std::sort(shifted.begin(), shifted.end());
  const double shift = values[values.size() / 2];
  for (double& v : shifted) v -= shift;
  // Then a power-of-two scale (exact): W is scale-free, but its sums of squares would overflow
  // near 1e154 and underflow near 1e-160 and for denormals.
  const std::vector<double> y = ScaleTogether(shifted).a;
  if (y.size() == 3) return ExactThree(y);
  const std::vector<double> a = Coefficients(y.size());
  const double w = StatisticW(y, a);
  if (!std::isfinite(w)) {
    return std::unexpected(fmt::format("{}: w is not finite for these values", kShapiro));
  }
  return ShapiroResult{.w = w, .p = PValue(w, y.size()), .p_may_be_inaccurate = y.size() > 5000};
}

}  // namespace

Expected<ShapiroResult> ShapiroWilk(std::span<const double> values) {
  if (auto ok = CheckSample(values, {.method = kShapiro, .min_n = 3}); !ok) {
    return std::unexpected(ok.error());
  }
  if (AllEqual(values)) {
    return std::unexpected(
        fmt::format("{}: all {} values are equal; w is undefined", kShapiro, values.size()));
  }
  return Guarded<ShapiroResult>(kShapiro, [&] { return CheckedShapiroWilk(values); });
}

}  // namespace dlb::stats
