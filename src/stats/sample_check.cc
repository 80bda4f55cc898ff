// Input checks and the small numeric helpers (median, mean, squared deviations) that every method
// in src/stats shares, so each convention lives in one function.
#include "stats/sample_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace dlb::stats {

Expected<void> CheckSample(std::span<const double> values, const SampleRule& rule) {
  const std::string who = rule.name.empty() ? "sample" : std::string(rule.name);
  if (values.size() < rule.min_n) {
    return std::unexpected(fmt::format("{}: {} has {} value{}; needs at least {}", rule.method, who,
                                       values.size(), values.size() == 1 ? "" : "s", rule.min_n));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return std::unexpected(fmt::format("{}: {} holds a non-finite value ({}) at index {}",
                                         rule.method, who, values[i], i));
    }
  }
  return {};
}

bool AllEqual(std::span<const double> values) {
  return std::all_of(values.begin(), values.end(), [&](double v) { return v == values.front(); });
}

double Median(std::span<const double> values) {
  std::vector<double> v(values.begin(), values.end());
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return Midpoint(lower, upper);
}

namespace {

double NeumaierMean(std::span<const double> values) {
  // Neumaier's compensated sum: NumPy's pairwise sum and this agree to a few ulps.
  double sum = 0, compensation = 0;
  for (double v : values) {
    const double t = sum + v;
    compensation += std::abs(sum) >= std::abs(v) ? (sum - t) + v : (v - t) + sum;
    sum = t;
  }
  return (sum + compensation) / static_cast<double>(values.size());
}

int ExponentOfLargest(std::span<const double> a, std::span<const double> b) {
  double largest = 0;
  for (double v : a) largest = std::max(largest, std::abs(v));
  for (double v : b) largest = std::max(largest, std::abs(v));
  if (largest == 0 || !std::isfinite(largest)) return 0;
  int exponent = 0;
  std::frexp(largest, &exponent);  // largest = f * 2^exponent, f in [0.5, 1)
  return exponent;
}

std::vector<double> DividedBy(std::span<const double> values, int exponent) {
  std::vector<double> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = std::ldexp(values[i], -exponent);
  return out;
}

}  // namespace

double Midpoint(double a, double b) {
  const double sum = a + b;
  return std::isfinite(sum) ? sum / 2 : a / 2 + b / 2;
}

double Mean(std::span<const double> values) {
  const double mean = NeumaierMean(values);
  if (std::isfinite(mean)) return mean;
  // The sum overflowed (values near 1e308): the mean of the scaled values, scaled back.
  const Scaled s = ScaleTogether(values);
  return std::ldexp(NeumaierMean(s.a), s.exponent);
}

Scaled ScaleTogether(std::span<const double> a, std::span<const double> b) {
  const int exponent = ExponentOfLargest(a, b);
  return {DividedBy(a, exponent), DividedBy(b, exponent), exponent};
}

std::string LibraryMessage(const std::exception& e) {
  std::string_view what = e.what();
  constexpr std::string_view kBoost = "Error in function ";
  if (what.starts_with(kBoost)) {
    // "Error in function boost::math::f<double>(double): Random variate x is nan, but must be finite!"
    const size_t colon = what.find(": ", kBoost.size());
    if (colon != std::string_view::npos) what.remove_prefix(colon + 2);
  }
  return std::string(what);
}

double SumSquaredDeviations(std::span<const double> values, double mean) {
  double ss = 0;
  for (double v : values) ss += (v - mean) * (v - mean);
  return ss;
}

}  // namespace dlb::stats
