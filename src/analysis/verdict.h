// One comparison over repetitions said in one sentence, the verdict first. `compare`, `show`, the
// run's summary and the report's opening all print this sentence, so the same pair reads with the
// same interval and the same words wherever it appears. An undecided pair says why, and the reason
// is the true one: too few repetitions, repetitions left out because a neighbour was busy, Holm's
// adjustment over the table, or scatter; "more repetitions would decide it" only where about as
// many more as there are would (DecideOutlook), and otherwise the bound the repetitions do give.
#pragma once

#include <optional>
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
  // Repetitions of each side left out as contaminated (measured beside a busy neighbour).
  size_t contaminated_a = 0, contaminated_b = 0;
};

// Why a pair was not decided, as a kind (the report's opening counts pairs by it) and in words.
enum class UndecidedCause {
  kNone,          // decided
  kTooFew,        // fewer than 2 repetitions a side: no interval
  kContaminated,  // no interval because contaminated repetitions were left out
  kHolm,          // the interval clears the band, but not Holm's adjustment over the table
  kNeedsMore,     // about as many more repetitions as there are would decide it
  kScatter,       // repetitions scatter too much for more of them to help soon: a bound instead
};
// A few words for the opening's count: "too few repetitions for an interval", ...
std::string UndecidedCauseText(UndecidedCause cause);

struct Undecided {
  UndecidedCause cause = UndecidedCause::kNone;
  std::string words;  // empty when decided
};
// "More repetitions" is offered when the outlook's number is at most this many times the
// repetitions a side already has; beyond it the sentence gives the bound instead.
inline constexpr int kFeasibleRepetitionFactor = 4;
Undecided WhyUndecided(const PairComparison& r, const VerdictSubject& s, const CompareOptions& options);

// "resnet50 bs1 fp32: jax 1.92x faster than torch (95% CI 1.85-2.00x; 3 and 3 repetitions)",
// "...: torch and jax equivalent within ±1% (ratio 1.004; 95% CI ...)", or "...: not decided, jax
// vs torch ratio 1.030 (95% CI ...): <WhyUndecided>". The factor is always >= 1 (the winner's
// advantage), so the interval is inverted with it when B/A is below 1. Repetitions left out as
// contaminated are named at the end.
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
