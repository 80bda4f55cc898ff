// Pins Shapiro-Wilk to SciPy 1.18.1's scipy.stats.shapiro (methodology S7): the exact n = 3
// case by hand, every case of tests/stats/shapiro.json to 1e-9 relative, and the degenerate inputs.
#include "stats/shapiro.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "stats/oracle_test_util.h"

namespace dlb::stats {
namespace {

using oracle::Near;

TEST(StatsShapiro, ThreeEvenlySpacedIsPerfectlyNormal) {
  // a = (-1/sqrt2, 0, 1/sqrt2), y = (-1, 0, 1): (a.y)^2 = 2, sum of squares 2, W = 1, p = 1.
  std::vector<double> x = {1, 2, 3};
  auto r = ShapiroWilk(x);
  ASSERT_TRUE(r) << r.error();
  EXPECT_TRUE(Near(r->w, 1));
  EXPECT_TRUE(Near(r->p, 1));
}

TEST(StatsShapiro, ThreeValuesExactPValue) {
  // y = (0, 1, 10) - mean: (a.y)^2 = 50, sum of squares = 182/3 -> W = 75/91;
  // p = 1 - (6 / pi) acos(sqrt W) (Shapiro & Wilk 1965, Corollary 4).
  std::vector<double> x = {0, 1, 10};
  auto r = ShapiroWilk(x);
  ASSERT_TRUE(r);
  EXPECT_TRUE(Near(r->w, 75.0 / 91));
  EXPECT_TRUE(Near(r->p, 1 - 6 / std::numbers::pi * std::acos(std::sqrt(75.0 / 91))));
}

TEST(StatsShapiro, OverFiveThousandFlagsThePValue) {
  std::vector<double> x;
  for (int i = 0; i < 5001; ++i) x.push_back(std::sin(i * 0.37) + 0.001 * i);
  auto r = ShapiroWilk(x);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->p_may_be_inaccurate);
  EXPECT_GE(r->p, 0);
  EXPECT_LE(r->p, 1);
}

TEST(StatsShapiroOracle, MatchesScipyOnEveryFixtureCase) {
  const auto fixture = oracle::LoadFixture("shapiro.json");
  ASSERT_GE(fixture["cases"].size(), 20u);
  for (const auto& c : fixture["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto x = oracle::Doubles(c["x"]);
    auto r = ShapiroWilk(x);
    ASSERT_EQ(r.has_value(), !c["w"].is_null()) << (r ? "" : r.error());
    if (!r) continue;
    EXPECT_TRUE(Near(r->w, c["w"]));
    // n = 3: p = 1 - (6/pi) acos(sqrt W) cancels to ~1e-16 absolute near W = 0.75, where SciPy
    // itself returns 7.8e-16 for a p that is 0 in exact arithmetic.
    EXPECT_TRUE(Near(r->p, c["p"], oracle::kRelTol, x.size() == 3 ? 1e-15 : 0));
  }
}

TEST(StatsShapiroErrors, TooFewValues) {
  std::vector<double> empty, two = {1, 2};
  EXPECT_EQ(ShapiroWilk(empty).error(), "shapiro-wilk: sample has 0 values; needs at least 3");
  EXPECT_EQ(ShapiroWilk(two).error(), "shapiro-wilk: sample has 2 values; needs at least 3");
}

TEST(StatsShapiroErrors, NanInfAndZeroRange) {
  std::vector<double> nan = {1, 2, NAN, 4}, inf = {-INFINITY, 1, 2}, flat = {5, 5, 5, 5};
  EXPECT_EQ(ShapiroWilk(nan).error(),
            "shapiro-wilk: sample holds a non-finite value (nan) at index 2");
  EXPECT_EQ(ShapiroWilk(inf).error(),
            "shapiro-wilk: sample holds a non-finite value (-inf) at index 0");
  EXPECT_EQ(ShapiroWilk(flat).error(), "shapiro-wilk: all 4 values are equal; w is undefined");
}

}  // namespace
}  // namespace dlb::stats
