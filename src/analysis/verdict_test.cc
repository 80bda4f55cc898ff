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
  EXPECT_EQ(WhyUndecided(no_ci, kSubject, o).cause, UndecidedCause::kTooFew);
  auto holm = Pair(1.2, stats::Interval{1.1, 1.3}, VerdictKind::kUndecided);
  EXPECT_EQ(WhyUndecided(holm, kSubject, o).cause, UndecidedCause::kHolm);
  EXPECT_NE(WhyUndecided(holm, kSubject, o).words.find("Holm"), std::string::npos);
  EXPECT_EQ(WhyUndecided(Pair(0.5, stats::Interval{0.4, 0.6}, VerdictKind::kBLower), kSubject, o).cause,
            UndecidedCause::kNone);
}

// "More repetitions would narrow it" only where about as many more as there are would decide the
// pair (kFeasibleRepetitionFactor); otherwise the bound the repetitions give, and how far off a
// decision is.
TEST(VerdictSentence, MoreRepetitionsOnlyWhenThatIsTrue) {
  CompareOptions o;
  auto near = Pair(1.05, stats::Interval{0.98, 1.12}, VerdictKind::kUndecided);
  near.outlook = PairComparison::Outlook{0.04, 8};
  Undecided why = WhyUndecided(near, kSubject, o);
  EXPECT_EQ(why.cause, UndecidedCause::kNeedsMore);
  EXPECT_NE(why.words.find("more repetitions would narrow it: about 8 a side would decide it (a "
                           "repetition scatters 4.1% here)"),
            std::string::npos) << why.words;

  auto far = Pair(1.02, stats::Interval{0.90, 1.15}, VerdictKind::kUndecided);
  far.outlook = PairComparison::Outlook{0.10, 300};
  why = WhyUndecided(far, kSubject, o);
  EXPECT_EQ(why.cause, UndecidedCause::kScatter);
  EXPECT_EQ(why.words.find("more repetitions would narrow it"), std::string::npos) << why.words;
  EXPECT_NE(why.words.find("jax and torch are within 0.900-1.150x of each other here (jax/torch); "
                           "this machine's repetitions scatter 10.5%, so nothing finer can be said "
                           "with 3 a side (deciding it would take about 300)"),
            std::string::npos) << why.words;

  auto edge = Pair(1.01, stats::Interval{0.95, 1.07}, VerdictKind::kUndecided);
  edge.outlook = PairComparison::Outlook{0.03, std::nullopt};
  why = WhyUndecided(edge, kSubject, o);
  EXPECT_EQ(why.cause, UndecidedCause::kScatter);
  EXPECT_NE(why.words.find("the ratio sits so near the ±1% band's edge"), std::string::npos) << why.words;
}

// Contaminated repetitions left out are named in every sentence, and when they are why there is
// no interval, the reason says so and what to do.
TEST(VerdictSentence, ContaminatedRepetitionsAreNamed) {
  CompareOptions o;
  VerdictSubject s = kSubject;
  s.contaminated_a = 1;
  auto won = Pair(0.5, stats::Interval{0.4, 0.625}, VerdictKind::kBLower);
  EXPECT_EQ(VerdictSentence(won, s, o),
            "resnet50 bs1 fp32: jax 2.00x faster than torch (95% CI 1.600-2.500x; 3 and 3 "
            "repetitions); 1 torch repetition measured beside a busy neighbour was left out");
  s.reps_a = 1;
  s.contaminated_b = 2;
  auto none = Pair(1.1, std::nullopt, VerdictKind::kUndecided);
  Undecided why = WhyUndecided(none, s, o);
  EXPECT_EQ(why.cause, UndecidedCause::kContaminated);
  EXPECT_NE(why.words.find("an interval needs 2 clean repetitions a side, and 1 torch and 2 jax "
                           "repetitions measured beside a busy neighbour were left out"),
            std::string::npos) << why.words;
  EXPECT_NE(why.words.find("--include-contaminated"), std::string::npos);
}

}  // namespace
}  // namespace dlb::analysis
