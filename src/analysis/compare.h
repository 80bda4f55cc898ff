// Two-sample comparisons for a family of pairs (dlbench stats, dlbench compare): the ratio of
// medians B/A with a bootstrap CI, Welch's t-test and Mann-Whitney U with Holm-adjusted p-values
// across the family, Hedges' g, and a verdict that needs statistical *and* practical significance
// (METHODOLOGY §2 rule 11): both adjusted p-values below alpha and the ratio's CI entirely outside
// ±threshold; a CI entirely inside ±threshold is "equivalent"; anything else "no significant
// difference".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "stats/bootstrap.h"
#include "stats/two_sample.h"

namespace dlb::analysis {

struct CompareOptions {
  double alpha = 0.05;
  double threshold = 0.01;  // practical-equivalence band: ±1% (criterion's noise_threshold)
  int64_t n_resamples = 9999;
  uint64_t seed = 0;
  bool lower_is_better = true;  // latency: a ratio below 1 means B is faster
};

// One side of a comparison: values in groups (repetitions). Plain samples are one group each value
// is its own observation of; see Grouping.
struct Sample {
  std::string name;
  std::vector<std::vector<double>> groups;
};

enum class Grouping {
  kNone,          // every value is an observation (dlbench stats)
  kRepetitions,   // the repetition is the unit (dlbench compare): tests on per-repetition medians,
                  // the ratio's CI from the hierarchical bootstrap (repetitions, then samples)
};

struct PairComparison {
  size_t a = 0, b = 0;  // indices into the samples
  double median_a = 0, median_b = 0;
  double ratio = 0;     // median(B) / median(A)
  std::optional<stats::Interval> ratio_ci;
  std::string ci_method;  // "BCa", "percentile" (when BCa is undefined), or empty with an error
  std::optional<stats::WelchResult> welch;
  std::optional<stats::MannWhitneyResult> mwu;
  double ratio_of_means = 0;  // mean(B) / mean(A)
  std::optional<stats::Interval> ratio_of_means_ci;
  std::optional<stats::EffectSize> effect;  // B relative to A
  // Observations per side a t-test needs for 80% power at alpha to detect a shift of `threshold`
  // of A's mean, at the pooled standard deviation seen here (statsmodels' TTestIndPower rule).
  std::optional<int64_t> n_for_power;
  std::optional<double> p_welch_adjusted, p_mwu_adjusted;  // Holm over the family
  std::string verdict;
  std::vector<std::string> notes;  // why a test or interval is missing, small-n warnings

  // Plain values (Grouping::kNone) with a value <= 0 on either side. A ratio means nothing there
  // (a negative median over a positive one reads "lower" when B is higher), so the comparison is
  // the difference B - A instead, and the ratio fields stay empty (ratio and ratio_of_means NaN).
  struct Difference {
    double medians = 0, means = 0;  // median(B) - median(A), mean(B) - mean(A)
    std::optional<stats::Interval> medians_ci{}, means_ci{};
    std::string means_ci_method{};  // the medians' method is ci_method
  };
  std::optional<Difference> difference;
};

// Compares each (a, b) pair. The Holm family is the whole list of pairs, per test.
std::vector<PairComparison> CompareFamily(const std::vector<Sample>& samples,
                                          const std::vector<std::pair<size_t, size_t>>& pairs,
                                          Grouping grouping, const CompareOptions& options);

// The interval the verdict rule reads for a difference: B - A relative to |median A|, that is
// 1 + (B - A) / |A|, which is B / A for a positive A. With median A = 0 the band has no width: the
// interval becomes +-infinity on the side(s) the difference's CI reaches, and exactly 1 for [0, 0].
stats::Interval RelativeChange(const stats::Interval& difference_ci, double median_a);

// The verdict rule alone, for tests and reports.
std::string Verdict(std::optional<double> p_welch_adj, std::optional<double> p_mwu_adj,
                    std::optional<stats::Interval> ci, const CompareOptions& options);

}  // namespace dlb::analysis
