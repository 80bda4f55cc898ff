// One comparison over repetitions said in one sentence, the verdict first. `compare`, `show`, the
// run's summary and the report's opening all print this sentence, so the same pair reads with the
// same interval and the same words wherever it appears.
#pragma once

#include <string>

#include "analysis/compare.h"

namespace dlb::analysis {

// What a sentence names: where the pair sits and the two sides' values on the compared axis.
struct VerdictSubject {
  std::string where;           // "resnet50 bs1 fp32"
  std::string name_a, name_b;  // "torch", "jax"
  size_t reps_a = 0, reps_b = 0;
  // The word for "better" on this metric: "faster" (latency, throughput) or "lower" (memory,
  // energy; lower is better there).
  std::string better = "faster";
};

// Why a pair was not decided, in a few words: too few repetitions for an interval, an interval
// that reaches across the equivalence band's edge, or a difference that Holm's adjustment over
// the table no longer calls significant. Empty for a decided pair.
std::string UndecidedReason(const PairComparison& r, const CompareOptions& options);

// "resnet50 bs1 fp32: jax 1.92x faster than torch (95% CI 1.85-2.00x; 3 and 3 repetitions)",
// "...: torch and jax equivalent within ±1% (ratio 1.004; 95% CI ...)", or "...: not decided, jax
// vs torch ratio 1.030 (95% CI ...): <UndecidedReason>". The factor is always >= 1 (the winner's
// advantage), so the interval is inverted with it when B/A is below 1.
std::string VerdictSentence(const PairComparison& r, const VerdictSubject& s,
                            const CompareOptions& options);

// The factor by which the better side beats the other (>= 1) and its interval, from B/A.
struct Advantage {
  bool b_better = false;
  double factor = 1;
  std::optional<stats::Interval> ci;
};
Advantage AdvantageOf(const PairComparison& r, const CompareOptions& options);

}  // namespace dlb::analysis
