// Input checks shared by every method in src/stats (methodology S11): an empty sample, too few
// values for a method, or a NaN/inf each become one named error line, never a crash or a NaN in a
// table. Methods prefix the problem with their own name, e.g.
// "welch t-test: sample a has 1 value; needs at least 2".
#pragma once

#include <cstddef>
#include <exception>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

// (a + b) / 2 as numpy.median computes it, and a / 2 + b / 2 where that sum overflows.
[[nodiscard]] double Midpoint(double a, double b);

// Arithmetic mean with Neumaier-compensated summation. n > 0.
[[nodiscard]] double Mean(std::span<const double> values);

// Sum of squared deviations from the mean, in two passes (the one-pass mean(x^2) - mean^2 loses
// digits to cancellation). n > 0.
[[nodiscard]] double SumSquaredDeviations(std::span<const double> values, double mean);

// Two samples divided by one power of two that brings the largest magnitude into [0.5, 1). The
// division is exact (only values about 2^1000 below the largest lose bits or become 0), and
// afterwards squares and sums of squares stay inside double's range whatever the input's scale:
// 1e154 no longer overflows, 1e-200 and denormals no longer underflow. Statistics that do not
// depend on the scale (t, df, d, W, ratios) are computed on these; those that do are multiplied
// back by 2^exponent.
struct Scaled {
  std::vector<double> a, b;
  int exponent = 0;
};
[[nodiscard]] Scaled ScaleTogether(std::span<const double> a, std::span<const double> b = {});

// The text of a library exception without Boost.Math's "Error in function f(...): " preamble.
[[nodiscard]] std::string LibraryMessage(const std::exception& e);

// Runs one entry point of src/stats and turns any exception a library throws into the method's
// error line. Boost.Math reports a domain error or an overflow by throwing: this keeps every input
// to a clear message, never an abort.
template <typename T, typename F>
[[nodiscard]] Expected<T> Guarded(std::string_view method, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return std::unexpected(std::string(method) + ": " + LibraryMessage(e));
  }
}

}  // namespace dlb::stats
