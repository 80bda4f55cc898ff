// Pins power and sample size (methodology S10): d = 0 gives power alpha exactly, Noether's N
// matches CRAN WMWssp's own test (114.74467 for p = 0.349), and tests/stats/power.json
// (statsmodels' ttest_power on SciPy 1.18.1's nct) agrees to 1e-9, with the smallest n equal.
#include "stats/power.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "stats/oracle_test_util.h"

namespace dlb::stats {
namespace {

using oracle::Near;

TEST(StatsPower, NoEffectGivesAlpha) {
  auto p = TTestPower({.effect_size = 0, .n1 = 10, .n2 = 14, .alpha = 0.05});
  ASSERT_TRUE(p);
  EXPECT_TRUE(Near(*p, 0.05, 1e-12));
}

TEST(StatsPower, FiniteWhereScipyNctGivesNan) {
  // df = 3 and delta = 8: SciPy 1.18.1's nct.cdf(-3.18, 3, 8) is nan; Boost gives about 0.99830.
  auto p = TTestPower({.effect_size = 8 / std::sqrt(1.2), .n1 = 2, .n2 = 3, .alpha = 0.05});
  ASSERT_TRUE(p) << p.error();
  EXPECT_GT(*p, 0.99);
  EXPECT_LE(*p, 1);
}

TEST(StatsPower, CohenTableHalfSdNeeds64PerGroup) {
  // Cohen (1988) Table 2.4.1: d = 0.5, alpha 0.05 two-sided, power 0.80 -> n = 64 per group.
  auto n = SmallestNPerGroup({.effect_size = 0.5});
  ASSERT_TRUE(n) << n.error();
  EXPECT_EQ(*n, 64);
}

TEST(StatsNoether, MatchesWmwsspTest) {
  // WMWssp tests/testthat/test_noether.R: alpha 0.05, power 0.8, t 1/2, p 0.349 -> N = 114.74467.
  auto r = NoetherSampleSize({.relative_effect = 0.349});
  ASSERT_TRUE(r);
  EXPECT_NEAR(r->total_n, 114.74467, 1e-4);
  EXPECT_EQ(r->n1, 58);
  EXPECT_EQ(r->n2, 58);
}

TEST(StatsRelativeEffect, CountsPairsWithHalfTies) {
  // pairs (x < y): 1<2, 1<3, 2<3 = 3 of 9, plus the tie 2=2 and 3=3 counting 1/2 each: 4/9.
  std::vector<double> x = {1, 2, 3}, y = {2, 3, 0};
  auto p = RelativeEffect(x, y);
  ASSERT_TRUE(p);
  EXPECT_TRUE(Near(*p, 4.0 / 9));
}

TEST(StatsPowerOracle, MatchesStatsmodelsFormulaOnScipy) {
  const auto fixture = oracle::LoadFixture("power.json");
  ASSERT_GE(fixture["cases"].size(), 100u);
  for (const auto& c : fixture["cases"]) {
    SCOPED_TRACE(c.dump());
    const PowerDf df = c["df"] == "pooled" ? PowerDf::Pooled : PowerDf::Welch;
    if (c["kind"] == "power") {
      auto p = TTestPower(
          {.effect_size = c["d"], .n1 = c["n1"], .n2 = c["n2"], .alpha = c["alpha"], .df = df});
      ASSERT_TRUE(p) << p.error();
      EXPECT_TRUE(Near(*p, c["power"]));
    } else {
      auto n = SmallestNPerGroup(
          {.effect_size = c["d"], .alpha = c["alpha"], .target_power = c["target"], .df = df});
      ASSERT_TRUE(n) << n.error();
      EXPECT_EQ(*n, c["n"].get<int64_t>());
    }
  }
}

TEST(StatsPowerErrors, BadInputs) {
  EXPECT_EQ(TTestPower({.effect_size = 0.5, .n1 = 1, .n2 = 5}).error(),
            "t-test power: n1=1, n2=5; each group needs at least 2");
  EXPECT_EQ(TTestPower({.effect_size = NAN, .n1 = 5, .n2 = 5}).error(),
            "t-test power: effect size nan is not finite");
  EXPECT_EQ(TTestPower({.effect_size = 0.5, .n1 = 5, .n2 = 5, .alpha = 1}).error(),
            "t-test power: alpha 1 is not in (0, 1)");
  EXPECT_EQ(SmallestNPerGroup({.effect_size = 0, .max_n = 1000}).error(),
            "t-test power: effect size 0 does not reach power 0.8 with n <= 1000 per group");
  EXPECT_EQ(NoetherSampleSize({.relative_effect = 0.5}).error(),
            "noether sample size: relative effect 0.5 is no effect; no finite n detects it");
  EXPECT_EQ(NoetherSampleSize({.relative_effect = 1.2}).error(),
            "noether sample size: relative effect 1.2, alpha 0.05, power 0.8 and allocation 0.5 "
            "must each be in (0, 1)");
  std::vector<double> empty, some = {1};
  EXPECT_EQ(RelativeEffect(empty, some).error(),
            "relative effect: sample x has 0 values; needs at least 1");
}

}  // namespace
}  // namespace dlb::stats
