// Two-sample comparisons for a family of pairs, with Holm-adjusted p-values across the family and
// a verdict that needs statistical *and* practical significance: the adjusted p below alpha and the
// ratio's CI entirely outside ±threshold; a CI entirely inside ±threshold is "equivalent"; anything
// else "no significant difference" (docs/statistics.md).
// - Over repetitions (dlbench compare, the report, the run's precision target) each repetition is
//   one observation, its median: the ratio is exp(mean log B - mean log A) with the Welch interval
//   on the log scale, and Welch's test there decides.
// - Over plain values (dlbench stats): the ratio of medians with a bootstrap CI, and both Welch's
//   test and Mann-Whitney must agree.
#pragma once

#include <optional>
#include <span>
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
                  // the ratio's interval Welch's on the log medians (RepetitionRatio)
};

enum class VerdictKind { kBLower, kBHigher, kEquivalent, kUndecided };

struct PairComparison {
  size_t a = 0, b = 0;  // indices into the samples
  double median_a = 0, median_b = 0;
  double ratio = 0;     // over repetitions: geometric mean ratio of medians; else median(B) / median(A)
  std::optional<stats::Interval> ratio_ci;
  // "welch-log" over repetitions; "BCa" or "percentile" (BCa undefined) over values; empty when
  // there is no interval (see notes).
  std::string ci_method;
  std::optional<stats::WelchResult> welch;
  std::optional<stats::MannWhitneyResult> mwu;
  double ratio_of_means = 0;  // mean(B) / mean(A)
  std::optional<stats::Interval> ratio_of_means_ci;
  std::optional<stats::EffectSize> effect;  // B relative to A
  // Observations per side a t-test needs for 80% power at alpha to detect a shift of `threshold`
  // of A's mean, at the pooled standard deviation seen here (statsmodels' TTestIndPower rule).
  std::optional<int64_t> n_for_power;
  std::optional<double> p_welch_adjusted, p_mwu_adjusted;  // Holm over the family
  VerdictKind kind = VerdictKind::kUndecided;
  // Over repetitions, for an undecided pair with an interval: what more repetitions could do
  // (DecideOutlook).
  struct Outlook {
    double scatter = 0;  // a repetition's relative scatter: the pooled sd of the log medians
    // Repetitions per side at which the pair would be decided if its ratio and scatter stay as
    // they are; nullopt when none up to kMaxOutlookRepetitions would (a ratio on the band's edge).
    std::optional<int> repetitions;
  };
  std::optional<Outlook> outlook;
  std::string verdict;  // VerdictText(kind)
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

// Compares each (a, b) pair. The Holm family is the whole list of pairs, per test. stage1, when
// given (one entry per pair; 0 = none), marks pairs whose repetitions a two-stage design chose
// (RepetitionRatio); only with Grouping::kRepetitions.
std::vector<PairComparison> CompareFamily(const std::vector<Sample>& samples,
                                          const std::vector<std::pair<size_t, size_t>>& pairs,
                                          Grouping grouping, const CompareOptions& options,
                                          const std::vector<int>& stage1 = {});

// The interval the verdict rule reads for a difference: B - A relative to |median A|, that is
// 1 + (B - A) / |A|, which is B / A for a positive A. With median A = 0 the band has no width: the
// interval becomes +-infinity on the side(s) the difference's CI reaches, and exactly 1 for [0, 0].
stats::Interval RelativeChange(const stats::Interval& difference_ci, double median_a);

// The verdict rule: `require_mwu` asks Mann-Whitney to agree with Welch (over plain values).
VerdictKind Decide(std::optional<double> p_welch_adj, std::optional<double> p_mwu_adj,
                   bool require_mwu, std::optional<stats::Interval> ci, const CompareOptions& options);
// "B faster" / "B slower" (lower is better) or "B lower" / "B higher", "equivalent within ±1%",
// "no significant difference".
std::string VerdictText(VerdictKind kind, const CompareOptions& options);
// Decide with both tests, worded.
std::string Verdict(std::optional<double> p_welch_adj, std::optional<double> p_mwu_adj,
                    std::optional<stats::Interval> ci, const CompareOptions& options);

// B/A over repetitions from one positive value per repetition (its median), in repetition order:
// the geometric mean ratio, Welch's test on the logs and its `confidence` interval, exponentiated.
// With fewer than 2 repetitions a side there is a ratio but no interval (`note` says why).
//
// stage1 > 0: the repetitions were chosen by Stein's two-stage rule from their first `stage1` per
// side (SteinRepetitions). Then the variances and the degrees of freedom come from those first
// stage1 values only, and the means from all: the interval and test of Stein's procedure, whose
// level is exact whatever the first stage said. Errors: an empty side, or a value that is not
// positive and finite.
struct RatioEstimate {
  double ratio = 0;
  std::optional<stats::Interval> ci;
  std::optional<stats::WelchResult> welch;
  bool two_stage = false;  // the interval is Stein's (stage1 applied)
  std::string note;
};
[[nodiscard]] stats::Expected<RatioEstimate> RepetitionRatio(std::span<const double> medians_a,
                                                             std::span<const double> medians_b,
                                                             double confidence, int stage1 = 0);

// Stein's second stage: the repetitions per side that make the pair's `confidence` interval on the
// log scale no wider than ±log(1 + target), from the first-stage values (at least 2 a side):
// N = ceil(t^2 (s_a^2 + s_b^2) / log(1 + target)^2), t at the first stage's Welch-Satterthwaite
// degrees of freedom. Never below the first stage's size; nullopt when a side has fewer than 2
// values or a value a ratio cannot use. With the first stage's width for progress lines.
struct SteinPlan {
  int repetitions = 0;
  double stage1_half_width = 0;  // relative, as RelativeHalfWidth
};
std::optional<SteinPlan> SteinRepetitions(std::span<const double> stage1_a,
                                          std::span<const double> stage1_b, double target,
                                          double confidence);

// The repetitions per side that would decide a pair at the ratio and scatter its repetitions show:
// the smallest n at which t(1 - alpha / (2 m), df) * sqrt((s_a^2 + s_b^2) / n), the Welch
// half-width on the log scale with equal sides and df their Welch-Satterthwaite degrees of
// freedom (n - 1)(s_a^2 + s_b^2)^2 / (s_a^4 + s_b^4), is below the distance from the log ratio to the
// band's edge (|log r| - log(1 + threshold) beyond the band, the other way inside it). alpha / m is
// Bonferroni's share for a family of m pairs: Holm rejects at least what Bonferroni does, so the
// estimate errs towards more repetitions. Never fewer than one more than the larger side has (the
// pair is undecided with those). A planning figure, not a promise: the ratio itself moves as
// repetitions come in. nullopt with fewer than 2 values a side or a value that is not positive.
inline constexpr int kMaxOutlookRepetitions = 100'000;
std::optional<PairComparison::Outlook> DecideOutlook(std::span<const double> medians_a,
                                                     std::span<const double> medians_b,
                                                     const CompareOptions& options, size_t family_size);

// A cell's repetitions as the two-stage design's bookkeeping reads them, in rep_idx order.
struct StageRepetition {
  int64_t rep_idx = 0;
  std::optional<int64_t> replaces;  // the contaminated repetition it replaced
  bool clean_ok = false;            // ok and not contaminated
};
// Whether the first stage of `stage1` repetitions is whole: the planned repetitions 0..stage1-1
// and those that replaced a contaminated one of them (run before any precision round, so they come
// first among the clean ones in rep_idx order) hold exactly stage1 clean ok repetitions.
bool FirstStageWhole(std::span<const StageRepetition> reps, int64_t stage1);

// One paragraph that says how comparisons over repetitions are made and decided, for `compare`
// and the report alike.
std::string RepetitionMethodText(const CompareOptions& options, size_t family_size);

// The interval's half-width relative to its centre on the log scale: sqrt(hi / lo) - 1, so a
// ±2% interval gives 0.02. The precision target compares against this.
double RelativeHalfWidth(const stats::Interval& ci);

}  // namespace dlb::analysis
