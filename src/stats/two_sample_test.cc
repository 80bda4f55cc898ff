// Pins Welch's t, Mann-Whitney U and Cohen's d to SciPy 1.18.1 (methodology S5, S6, S8): first
// values checkable by hand or quoted in methodology S6, then every case of
// tests/stats/two_sample.json to 1e-9 relative, then one test per degenerate input asserting its
// error line (S11).
#include "stats/two_sample.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "stats/oracle_test_util.h"

namespace dlb::stats {
namespace {

using oracle::Doubles;
using oracle::Near;

TEST(StatsMannWhitney, HandCheckedExactThreeVsFour) {
  // All 35 arrangements of 3 among 7; U1 = 0 is the single most extreme one on each side: 2/35.
  std::vector<double> x = {1, 2, 3}, y = {4, 5, 6, 7};
  auto r = MannWhitneyU(x, y);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->u1, 0);
  EXPECT_EQ(r->method, MwuMethod::Exact);
  EXPECT_TRUE(Near(r->p, 2.0 / 35));  // 0.0571428...
  EXPECT_FALSE(r->z);
}

TEST(StatsMannWhitney, NineVsNineIsAsymptoticUnlessAskedExact) {
  // S6: asymptotic 0.72393 against exact 0.73044 for 9 vs 9 without ties.
  std::vector<double> x, y;
  for (int i = 0; i < 9; ++i) {
    x.push_back(i);
    y.push_back(i + 0.5);
  }
  auto r = MannWhitneyU(x, y);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method, MwuMethod::Asymptotic);
  EXPECT_NEAR(r->p, 0.72393, 5e-6);
  auto exact = MannWhitneyU(x, y, MwuMethod::Exact);
  ASSERT_TRUE(exact);
  EXPECT_NEAR(exact->p, 0.73044, 5e-6);
}

TEST(StatsMannWhitney, ExactDistributionHandValues) {
  // n1 = n2 = 2: U takes 0,1,2,2,3,4 over the 6 arrangements; 2 P(U <= 0) = 1/3, P(U <= 1) -> 2/3.
  EXPECT_TRUE(Near(MannWhitneyExactP(2, 2, 0), 1.0 / 3));
  EXPECT_TRUE(Near(MannWhitneyExactP(2, 2, 4), 1.0 / 3));
  EXPECT_TRUE(Near(MannWhitneyExactP(2, 2, 1), 2.0 / 3));
  EXPECT_EQ(MannWhitneyExactP(2, 2, 2), 1.0);  // 2 * 4/6 clipped to 1
}

TEST(StatsMannWhitney, EightVsFiftyWithoutTiesIsExact) {
  std::vector<double> x, y;
  for (int i = 0; i < 8; ++i) x.push_back(3.0 * i + 0.25);
  for (int i = 0; i < 50; ++i) y.push_back(i);
  auto r = MannWhitneyU(x, y);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method, MwuMethod::Exact);
}

TEST(StatsWelch, HandCheckedThreeVsFour) {
  // means 2 and 5.5, variances 1 and 5/3: t = -3.5 / sqrt(1/3 + 5/12) = -4.0414518843...
  std::vector<double> a = {1, 2, 3}, b = {4, 5, 6, 7};
  auto r = WelchTTest(a, b);
  ASSERT_TRUE(r) << r.error();
  EXPECT_TRUE(Near(r->t, -3.5 / std::sqrt(1.0 / 3 + 5.0 / 12)));
  const double vn1 = 1.0 / 3, vn2 = 5.0 / 12;
  EXPECT_TRUE(Near(r->df, (vn1 + vn2) * (vn1 + vn2) / (vn1 * vn1 / 2 + vn2 * vn2 / 3)));
}

TEST(StatsWelch, BothConstantWithDifferentMeansIsInfiniteTNotNan) {
  std::vector<double> a = {1, 1, 1}, b = {2, 2, 2};
  auto r = WelchTTest(a, b);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->both_constant);
  EXPECT_EQ(r->t, -INFINITY);
  EXPECT_EQ(r->p, 0);
  EXPECT_EQ(r->df, 1);
}

TEST(StatsEffectSize, HandCheckedCohenAndHedges) {
  // pooled sd = sqrt((2 * 1 + 3 * 5/3) / 5) = sqrt(7/5); g factor 1 - 3 / (4 * 7 - 9) = 16/19.
  std::vector<double> a = {1, 2, 3}, b = {4, 5, 6, 7};
  auto r = CohensD(a, b);
  ASSERT_TRUE(r);
  EXPECT_TRUE(Near(r->cohens_d, -3.5 / std::sqrt(7.0 / 5)));
  EXPECT_TRUE(Near(r->hedges_g, -3.5 / std::sqrt(7.0 / 5) * 16 / 19));
}

TEST(StatsTwoSampleOracle, MatchesScipyOnEveryFixtureCase) {
  const auto fixture = oracle::LoadFixture("two_sample.json");
  ASSERT_GE(fixture["cases"].size(), 20u);
  for (const auto& c : fixture["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto x = Doubles(c["x"]), y = Doubles(c["y"]);
    const auto& m = c["mwu"];
    const std::string method_name = m["method"];
    const MwuMethod method = method_name == "exact" ? MwuMethod::Exact : MwuMethod::Asymptotic;
    const bool forced = !c.contains("welch");
    auto mwu = MannWhitneyU(x, y, forced ? method : MwuMethod::Auto);
    ASSERT_TRUE(mwu) << mwu.error();
    EXPECT_EQ(mwu->u1, m["u1"].get<double>());
    EXPECT_EQ(mwu->method, method);
    EXPECT_TRUE(Near(mwu->p, m["p"]));
    if (forced) continue;
    auto welch = WelchTTest(x, y);
    EXPECT_EQ(welch.has_value(), !c["welch"]["t"].is_null());
    if (welch) {
      EXPECT_TRUE(Near(welch->t, c["welch"]["t"]));
      EXPECT_TRUE(Near(welch->df, c["welch"]["df"]));
      EXPECT_TRUE(Near(welch->p, c["welch"]["p"]));
      for (const auto& [key, level] : {std::pair{"ci95", 0.95}, std::pair{"ci99", 0.99}}) {
        auto ci = WelchInterval(x, y, level);
        EXPECT_EQ(ci.has_value(), !c["welch"][key].is_null()) << key;
        if (ci) {
          // The quantile comes from Boost's inverse t, SciPy's from stdtrit: 1e-9 relative.
          EXPECT_TRUE(Near(ci->lo, c["welch"][key][0])) << key;
          EXPECT_TRUE(Near(ci->hi, c["welch"][key][1])) << key;
        }
      }
    }
    auto effect = CohensD(x, y);
    EXPECT_EQ(effect.has_value(), !c["cohen"]["d"].is_null());
    if (effect) {
      EXPECT_TRUE(Near(effect->cohens_d, c["cohen"]["d"]));
      EXPECT_TRUE(Near(effect->hedges_g, c["cohen"]["g"]));
    }
  }
}

TEST(StatsTwoSampleErrors, EmptySample) {
  std::vector<double> empty, some = {1, 2, 3};
  EXPECT_EQ(MannWhitneyU(empty, some).error(),
            "mann-whitney u: sample a has 0 values; needs at least 1");
  EXPECT_EQ(WelchTTest(some, empty).error(),
            "welch t-test: sample b has 0 values; needs at least 2");
}

TEST(StatsTwoSampleErrors, OneValue) {
  std::vector<double> one = {3}, some = {1, 2, 3};
  EXPECT_EQ(WelchTTest(one, some).error(), "welch t-test: sample a has 1 value; needs at least 2");
  EXPECT_EQ(CohensD(some, one).error(), "cohen's d: sample b has 1 value; needs at least 2");
}

TEST(StatsTwoSampleErrors, NanAndInf) {
  std::vector<double> bad = {1, NAN, 3}, inf = {1, 2, INFINITY}, some = {1, 2, 3};
  EXPECT_EQ(WelchTTest(bad, some).error(),
            "welch t-test: sample a holds a non-finite value (nan) at index 1");
  EXPECT_EQ(MannWhitneyU(some, inf).error(),
            "mann-whitney u: sample b holds a non-finite value (inf) at index 2");
}

TEST(StatsTwoSampleErrors, ZeroVariance) {
  std::vector<double> a = {2, 2, 2}, b = {2, 2, 2, 2};
  EXPECT_EQ(WelchTTest(a, b).error(),
            "welch t-test: both samples are constant and equal (2); t is undefined");
  EXPECT_EQ(MannWhitneyU(a, b).error(),
            "mann-whitney u: all 7 values are equal; the test is undefined");
  EXPECT_EQ(CohensD(a, b).error(),
            "cohen's d: the pooled standard deviation is 0; the effect size is undefined");
}

TEST(StatsTwoSampleErrors, ExactWithTiesOrTooLarge) {
  std::vector<double> a = {1, 2, 2}, b = {3, 4};
  EXPECT_EQ(MannWhitneyU(a, b, MwuMethod::Exact).error(),
            "mann-whitney u: the exact method needs data without ties");
  std::vector<double> big_a, big_b;
  for (int i = 0; i < 3000; ++i) {
    big_a.push_back(2 * i);
    big_b.push_back(2 * i + 1);
  }
  EXPECT_EQ(MannWhitneyU(big_a, big_b, MwuMethod::Exact).error(),
            "mann-whitney u: the exact method is too costly for n1=3000, n2=3000; use the "
            "asymptotic one");
}

}  // namespace
}  // namespace dlb::stats
