// The verdict sentence that compare, show, run and the report all print: the winner's factor is
// at least 1 with its interval inverted alongside it, equivalence and indecision keep B/A, and an
// undecided pair says why.
#include "analysis/verdict.h"

#include <gtest/gtest.h>

namespace dlb::analysis {
namespace {

PairComparison Pair(double ratio, std::optional<stats::Interval> ci, VerdictKind kind) {
  PairComparison r;
  r.ratio = ratio;
  r.ratio_ci = ci;
  r.kind = kind;
  return r;
}

const VerdictSubject kSubject{"resnet50 bs1 fp32", "torch", "jax", 3, 3, "faster"};

TEST(VerdictSentence, LatencyWinnerIsTheSideWithTheLowerRatioAndItsIntervalIsInverted) {
  CompareOptions o;  // latency: lower is better
  auto r = Pair(0.5, stats::Interval{0.4, 0.625}, VerdictKind::kBLower);
  EXPECT_EQ(VerdictSentence(r, kSubject, o),
            "resnet50 bs1 fp32: jax 2.00x faster than torch (95% CI 1.600-2.500x; 3 and 3 "
            "repetitions)");
}

TEST(VerdictSentence, ThroughputWinnerIsTheSideWithTheHigherRatio) {
  CompareOptions o;
  o.lower_is_better = false;
  auto r = Pair(0.5, stats::Interval{0.4, 0.625}, VerdictKind::kBLower);
  EXPECT_EQ(VerdictSentence(r, kSubject, o),
            "resnet50 bs1 fp32: torch 2.00x faster than jax (95% CI 1.600-2.500x; 3 and 3 "
            "repetitions)");
}

TEST(VerdictSentence, EquivalenceKeepsTheRatioAndItsInterval) {
  CompareOptions o;
  auto r = Pair(0.998, stats::Interval{0.995, 1.001}, VerdictKind::kEquivalent);
  EXPECT_EQ(VerdictSentence(r, kSubject, o),
            "resnet50 bs1 fp32: torch and jax equivalent within ±1% (ratio 0.998; 95% CI "
            "0.995-1.001; 3 and 3 repetitions)");
}

TEST(VerdictSentence, UndecidedSaysWhy) {
  CompareOptions o;
  auto no_ci = Pair(1.2, std::nullopt, VerdictKind::kUndecided);
  EXPECT_NE(VerdictSentence(no_ci, kSubject, o).find("an interval needs 2 repetitions a side"),
            std::string::npos);
  auto wide = Pair(1.02, stats::Interval{0.9, 1.15}, VerdictKind::kUndecided);
  EXPECT_NE(VerdictSentence(wide, kSubject, o).find("reaches across the ±1% band's edge"),
            std::string::npos);
  auto holm = Pair(1.2, stats::Interval{1.1, 1.3}, VerdictKind::kUndecided);
  EXPECT_NE(UndecidedReason(holm, o).find("Holm"), std::string::npos);
  EXPECT_EQ(UndecidedReason(Pair(0.5, stats::Interval{0.4, 0.6}, VerdictKind::kBLower), o), "");
}

}  // namespace
}  // namespace dlb::analysis
