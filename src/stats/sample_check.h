// Input checks shared by every method in src/stats (METHODOLOGY §3 S11): an empty sample, too few
// values for a method, or a NaN/inf each become one named error line, never a crash or a NaN in a
// table. Methods prefix the problem with their own name, e.g.
// "welch t-test: sample a has 1 value; needs at least 2".
#pragma once

#include <cstddef>
#include <expected>
#include <span>
#include <string>
#include <string_view>

namespace dlb::stats {

// Every fallible function in src/stats returns this: the value, or a finished one-line message.
template <typename T>
using Expected = std::expected<T, std::string>;

// What a sample must satisfy before a method may use it.
struct SampleRule {
  std::string_view method{};  // e.g. "welch t-test"; starts the message
  std::string_view name{};    // e.g. "sample a"; empty for one-sample methods ("sample")
  size_t min_n = 1;
};

// An error line when `values` has fewer than rule.min_n values or holds a NaN or an infinity.
[[nodiscard]] Expected<void> CheckSample(std::span<const double> values, const SampleRule& rule);

// True when every value equals the first (an empty span counts as constant).
[[nodiscard]] bool AllEqual(std::span<const double> values);

// Median as numpy.median: the mean of the two middle order statistics for even n. n > 0.
[[nodiscard]] double Median(std::span<const double> values);

// Arithmetic mean with Neumaier-compensated summation. n > 0.
[[nodiscard]] double Mean(std::span<const double> values);

// Sum of squared deviations from the mean, two passes (STYLE.md §8). n > 0.
[[nodiscard]] double SumSquaredDeviations(std::span<const double> values, double mean);

}  // namespace dlb::stats
