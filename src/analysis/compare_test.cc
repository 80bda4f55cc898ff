// Pins the verdict rule (statistical and practical significance, methodology rule 11) and that a
// family of comparisons is Holm-adjusted and oriented as B relative to A.
#include "analysis/compare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace dlb::analysis {
namespace {

Sample Normal(const std::string& name, double mean, double sd, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(mean, sd);  // test data only: portability is not needed here
  Sample s{name, {}};
  for (int i = 0; i < n; ++i) s.groups.push_back({d(rng)});
  return s;
}

TEST(Verdict, NeedsBothKindsOfSignificance) {
  CompareOptions o;
  EXPECT_EQ(Verdict(0.001, 0.001, stats::Interval{0.80, 0.90}, o), "B faster");
  EXPECT_EQ(Verdict(0.001, 0.001, stats::Interval{1.10, 1.20}, o), "B slower");
  EXPECT_EQ(Verdict(0.001, 0.20, stats::Interval{0.80, 0.90}, o), "no significant difference");
  EXPECT_EQ(Verdict(0.001, 0.001, stats::Interval{0.985, 1.02}, o), "no significant difference");
  EXPECT_EQ(Verdict(0.001, 0.001, stats::Interval{0.995, 1.004}, o), "equivalent within ±1%");
  EXPECT_EQ(Verdict(std::nullopt, 0.001, stats::Interval{0.80, 0.90}, o), "no significant difference");
  o.lower_is_better = false;
  EXPECT_EQ(Verdict(0.001, 0.001, stats::Interval{1.10, 1.20}, o), "B higher");
}

TEST(CompareFamily, OrientationAndHolm) {
  std::vector<Sample> s = {Normal("a", 100, 2, 60, 1), Normal("b", 120, 2, 60, 2),
                           Normal("c", 100, 2, 60, 3)};
  CompareOptions o;
  o.n_resamples = 2000;
  auto r = CompareFamily(s, {{0, 1}, {0, 2}}, Grouping::kNone, o);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_NEAR(r[0].ratio, 1.2, 0.02);
  EXPECT_EQ(r[0].verdict, "B slower");
  EXPECT_EQ(r[0].ci_method, "BCa");
  EXPECT_GT(r[0].effect->hedges_g, 5);  // B's mean above A's: positive
  EXPECT_GE(*r[0].p_welch_adjusted, r[0].welch->p);
  EXPECT_NEAR(r[0].ratio_of_means, 1.2, 0.02);
  ASSERT_TRUE(r[0].ratio_of_means_ci);
  EXPECT_LT(r[0].ratio_of_means_ci->lo, r[0].ratio_of_means);
  // sd 2 around 100: detecting a 1 unit shift (d = 0.5) needs 64 per side (Cohen's table)
  ASSERT_TRUE(r[1].n_for_power);
  EXPECT_NEAR(static_cast<double>(*r[1].n_for_power), 64, 20);
  EXPECT_EQ(r[1].verdict.rfind("no significant difference", 0) == 0 ||
                r[1].verdict.rfind("equivalent", 0) == 0,
            true)
      << r[1].verdict;
  // Holm with two tests: the smaller p is doubled.
  double pmin = std::min(r[0].welch->p, r[1].welch->p);
  EXPECT_DOUBLE_EQ(std::min(*r[0].p_welch_adjusted, *r[1].p_welch_adjusted), std::min(1.0, 2 * pmin));
}

TEST(CompareFamily, RepetitionsAreTheUnit) {
  // Two repetitions per side with 50 samples each: the tests see 2 observations per side (their
  // medians), however many samples there are. A 10% shift with little between-repetition noise is
  // still found by Welch on the log medians; Mann-Whitney cannot be significant and is not asked.
  Sample a{"a", {}}, b{"b", {}};
  for (int r = 0; r < 2; ++r) {
    a.groups.push_back({});
    for (const auto& g : Normal("", 100, 1, 50, 30 + r).groups) a.groups.back().push_back(g[0]);
    b.groups.push_back({});
    for (const auto& g : Normal("", 110, 1, 50, 20 + r).groups) b.groups.back().push_back(g[0]);
  }
  CompareOptions o;
  auto r = CompareFamily({a, b}, {{0, 1}}, Grouping::kRepetitions, o);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NEAR(r[0].ratio, 1.1, 0.01);
  EXPECT_EQ(r[0].ci_method, "welch-log");
  ASSERT_TRUE(r[0].ratio_ci);
  EXPECT_LT(r[0].ratio_ci->lo, r[0].ratio);
  EXPECT_GT(r[0].ratio_ci->hi, r[0].ratio);
  EXPECT_GT(*r[0].p_mwu_adjusted, 0.05);
  EXPECT_EQ(r[0].kind, VerdictKind::kBHigher);
  EXPECT_EQ(r[0].verdict, "B slower");
  EXPECT_FALSE(r[0].notes.empty());  // Mann-Whitney below 9 per side

  // One repetition a side: a ratio, no interval, no verdict.
  Sample a1{"a", {a.groups[0]}}, b1{"b", {b.groups[0]}};
  r = CompareFamily({a1, b1}, {{0, 1}}, Grouping::kRepetitions, o);
  EXPECT_FALSE(r[0].ratio_ci);
  EXPECT_EQ(r[0].verdict, "no significant difference");
}

TEST(RepetitionRatio, IsWelchOnTheLogsOfTheMedians) {
  // scipy.stats.ttest_ind(log(b), log(a), equal_var=False) and its confidence_interval(0.95),
  // exponentiated (SciPy 1.18.1).
  std::vector<double> a = {10.0, 10.4, 9.8}, b = {12.0, 11.5, 12.3, 11.9};
  auto r = RepetitionRatio(a, b, 0.95);
  ASSERT_TRUE(r) << r.error();
  EXPECT_NEAR(r->ratio, 1.1846216117788144, 1e-12);
  ASSERT_TRUE(r->ci);
  EXPECT_NEAR(r->ci->lo, 1.114841160402657, 1e-9);
  EXPECT_NEAR(r->ci->hi, 1.2587697807879499, 1e-9);
  EXPECT_NEAR(r->welch->p, 0.001304689909379839, 1e-9);
  EXPECT_NEAR(RelativeHalfWidth(*r->ci), std::sqrt(r->ci->hi / r->ci->lo) - 1, 1e-15);
}

TEST(RepetitionRatio, RefusesValuesARatioCannotUse) {
  std::vector<double> ok = {1, 2}, zero = {0, 1}, negative = {-1, -2};
  EXPECT_FALSE(RepetitionRatio(ok, zero, 0.95));
  EXPECT_FALSE(RepetitionRatio(negative, ok, 0.95));
  EXPECT_FALSE(RepetitionRatio({}, ok, 0.95));
}

TEST(SteinRepetitions, TheSecondStageSizeFromTheFirstStagesScatter) {
  // By hand with SciPy 1.18.1: Welch-Satterthwaite df of the stage-1 logs, t at 97.5%,
  // N = ceil(t^2 (s_a^2 + s_b^2) / log(1.02)^2).
  std::vector<double> a = {10.0, 10.4, 9.8}, b = {12.0, 11.5, 12.3};
  auto plan = SteinRepetitions(a, b, 0.02, 0.95);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->repetitions, 42);
  EXPECT_NEAR(plan->stage1_half_width, 0.07609436001796976, 1e-9);
  // Twice the target: about a quarter of the repetitions, never below the first stage.
  EXPECT_EQ(SteinRepetitions(a, b, 0.5, 0.95)->repetitions, 3);
  // The number depends on the scatter, not on where the ratio lies: stopping never selects for a
  // verdict.
  std::vector<double> far = {20.0, 20.8, 19.6}, near = {10.1, 10.504, 9.898};
  EXPECT_EQ(SteinRepetitions(a, far, 0.02, 0.95)->repetitions,
            SteinRepetitions(a, near, 0.02, 0.95)->repetitions);
  EXPECT_FALSE(SteinRepetitions(std::vector<double>{5.0}, b, 0.02, 0.95));  // one value a side
}

TEST(RepetitionRatio, TwoStageTakesTheVarianceFromTheFirstStage) {
  std::vector<double> a = {10.0, 10.4, 9.8, 10.1, 9.9}, b = {12.0, 11.5, 12.3, 12.1, 11.8, 12.2};
  auto r = RepetitionRatio(a, b, 0.95, 3);
  ASSERT_TRUE(r) << r.error();
  EXPECT_TRUE(r->two_stage);
  EXPECT_NEAR(r->ratio, 1.1935081006306205, 1e-12);
  EXPECT_NEAR(r->ci->lo, 1.1306588968950644, 1e-9);
  EXPECT_NEAR(r->ci->hi, 1.2598508623446623, 1e-9);
  EXPECT_NEAR(r->welch->p, 0.0008520603512501187, 1e-9);
  EXPECT_NEAR(r->welch->df, 3.945023130329316, 1e-9);
  // A first stage longer than a side: the ordinary interval over everything, with a note.
  auto fallback = RepetitionRatio(a, b, 0.95, 6);
  EXPECT_FALSE(fallback->two_stage);
  EXPECT_FALSE(fallback->note.empty());
}

TEST(Decide, OverRepetitionsWelchAloneDecides) {
  CompareOptions o;
  stats::Interval above{1.05, 1.10}, inside{0.995, 1.004}, straddle{0.98, 1.08};
  EXPECT_EQ(Decide(0.001, 0.3, false, above, o), VerdictKind::kBHigher);
  EXPECT_EQ(Decide(0.001, 0.3, true, above, o), VerdictKind::kUndecided);
  EXPECT_EQ(Decide(0.2, 0.3, false, above, o), VerdictKind::kUndecided);
  EXPECT_EQ(Decide(0.2, 0.3, false, inside, o), VerdictKind::kEquivalent);
  EXPECT_EQ(Decide(0.001, 0.001, false, straddle, o), VerdictKind::kUndecided);
  EXPECT_EQ(Decide(0.001, 0.001, false, std::nullopt, o), VerdictKind::kUndecided);
}

// A ratio of a negative median over a positive one read "B lower" although every value of B was
// larger. Without positive values on both sides the comparison is the difference B - A.
TEST(CompareFamily, SignsAndZeroCompareTheDifference) {
  CompareOptions o;
  o.n_resamples = 2000;
  o.lower_is_better = false;
  std::vector<Sample> s = {Normal("neg", -6.5, 0.3, 40, 1), Normal("pos", 7.5, 0.3, 40, 2),
                           Normal("around zero", 0, 1, 40, 3)};
  auto r = CompareFamily(s, {{0, 1}, {1, 0}, {0, 2}}, Grouping::kNone, o);
  ASSERT_EQ(r.size(), 3u);
  ASSERT_TRUE(r[0].difference);
  EXPECT_TRUE(std::isnan(r[0].ratio));
  EXPECT_FALSE(r[0].ratio_ci);
  EXPECT_NEAR(r[0].difference->medians, 14, 0.5);
  ASSERT_TRUE(r[0].difference->medians_ci);
  EXPECT_GT(r[0].difference->medians_ci->lo, 13);
  EXPECT_EQ(r[0].verdict, "B higher");
  EXPECT_EQ(r[1].verdict, "B lower");
  EXPECT_EQ(r[2].verdict, "B higher");
  ASSERT_TRUE(r[2].difference->means_ci);
  EXPECT_EQ(r[2].difference->means_ci_method, "BCa");  // bootstrapped at this size
}

TEST(RelativeChange, IsTheRatioForPositiveAAndSignOnlyAtZero) {
  EXPECT_EQ(RelativeChange({-2, 4}, 100), (stats::Interval{0.98, 1.04}));
  EXPECT_EQ(RelativeChange({-2, 4}, -100), (stats::Interval{0.98, 1.04}));
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(RelativeChange({1, 4}, 0), (stats::Interval{inf, inf}));
  EXPECT_EQ(RelativeChange({-4, -1}, 0), (stats::Interval{-inf, -inf}));
  EXPECT_EQ(RelativeChange({-4, 1}, 0), (stats::Interval{-inf, inf}));
  EXPECT_EQ(RelativeChange({0, 0}, 0), (stats::Interval{1, 1}));
}

// The repetitions per side that would decide a pair at its ratio and scatter. Oracle: SciPy 1.x,
// the smallest n with stats.t.ppf(1 - alpha / m / 2, df) * sqrt((va + vb) / n) below
// |mean log b - mean log a| - log(1.01), va and vb the log medians' variances (ddof=1), df =
// (n - 1)(va + vb)^2 / (va^2 + vb^2), and at least one more than a side has.
TEST(DecideOutlook, MatchesTheSearchOverSciPysQuantiles) {
  const std::vector<double> a = {100, 104, 97, 102, 99}, b = {103, 108, 101, 107, 104};
  CompareOptions o;
  auto one = DecideOutlook(a, b, o, 1);
  ASSERT_TRUE(one && one->repetitions);
  EXPECT_EQ(*one->repetitions, 8);
  EXPECT_NEAR(one->scatter, 0.027215153337607337, 1e-12);
  auto six = DecideOutlook(a, b, o, 6);  // Bonferroni's share of alpha over six pairs
  EXPECT_EQ(*six->repetitions, 13);
  const std::vector<double> c = {100, 130, 85, 110}, d = {101, 125, 95, 108};
  EXPECT_EQ(*DecideOutlook(c, d, o, 1)->repetitions, 4938);
  // Decided already by the approximation, undecided in fact: one more than there are.
  const std::vector<double> g = {100, 101, 99, 100}, h = {150, 151, 149, 150};
  EXPECT_EQ(*DecideOutlook(g, h, o, 1)->repetitions, 5);
  EXPECT_FALSE(DecideOutlook(std::vector<double>{100}, b, o, 1));
  // A ratio exactly on the band's edge: no number of repetitions clears it.
  const std::vector<double> e = {100, 101, 99}, f = {101, 102.01, 99.99};
  EXPECT_FALSE(DecideOutlook(e, f, o, 1)->repetitions);
}

// The replacement bookkeeping of the two-stage design: a contaminated first-stage repetition does
// not count, its replacement (and a replacement's replacement) does; a precision round's does not.
TEST(FirstStageWhole, CountsCleanPlannedRepetitionsAndTheirReplacements) {
  using R = StageRepetition;
  std::vector<R> plain = {{0, {}, true}, {1, {}, true}, {2, {}, true}, {3, {}, true}};
  EXPECT_TRUE(FirstStageWhole(plain, 3));
  std::vector<R> replaced = {{0, {}, true}, {1, {}, false}, {2, {}, true}, {3, 1, false}, {4, 3, true}};
  EXPECT_TRUE(FirstStageWhole(replaced, 3));
  std::vector<R> short_of_one = {{0, {}, true}, {1, {}, false}, {2, {}, true}, {3, {}, true}};
  EXPECT_FALSE(FirstStageWhole(short_of_one, 3));  // rep 3 is a precision round's, not a replacement
}

// An undecided pair over repetitions carries its outlook; a decided one does not.
TEST(CompareFamily, UndecidedPairsCarryTheirOutlook) {
  std::vector<Sample> s = {{"a", {{100}, {104}, {97}}}, {"b", {{103}, {108}, {101}}},
                           {"c", {{200}, {201}, {199}}}};
  auto r = CompareFamily(s, {{0, 1}, {0, 2}}, Grouping::kRepetitions, {});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].kind, VerdictKind::kUndecided);
  ASSERT_TRUE(r[0].outlook);
  EXPECT_TRUE(r[0].outlook->repetitions);
  EXPECT_EQ(r[1].kind, VerdictKind::kBHigher);
  EXPECT_FALSE(r[1].outlook);
}

}  // namespace
}  // namespace dlb::analysis
