// Pins the verdict rule (statistical and practical significance, METHODOLOGY rule 11) and that a
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
  // Two repetitions per side with 50 samples each: the tests see 2 observations per side, so
  // nothing can be significant however many samples there are, and the notes say why.
  Sample a{"a", {}}, b{"b", {}};
  for (int r = 0; r < 2; ++r) {
    a.groups.push_back(Normal("", 100, 1, 50, 10 + r).groups[0]);
    b.groups.push_back({});
    for (const auto& g : Normal("", 110, 1, 50, 20 + r).groups) b.groups.back().push_back(g[0]);
    a.groups.back().clear();
    for (const auto& g : Normal("", 100, 1, 50, 30 + r).groups) a.groups.back().push_back(g[0]);
  }
  CompareOptions o;
  o.n_resamples = 1000;
  auto r = CompareFamily({a, b}, {{0, 1}}, Grouping::kRepetitions, o);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NEAR(r[0].ratio, 1.1, 0.01);
  EXPECT_EQ(r[0].verdict, "no significant difference");
  EXPECT_FALSE(r[0].notes.empty());
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

}  // namespace
}  // namespace dlb::analysis
