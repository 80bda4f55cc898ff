// Numeric edges (methodology S11): values near 1e154 whose squares overflow, near 1e-200 and
// denormals whose squares underflow, near 5e306 whose sums overflow, and 1e300 against 1e-300.
// SciPy returns nan or a wrong t at these scales; the answers it gives at scale 1 hold at every
// scale (tests/stats/edges.json says how each was made), so each entry point must match them to
// 1e-9 here. Then the guard that turns a library's exception into an error line, and the analytic
// intervals that replace the bootstrap for large samples, with their coverage checked by simulation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "stats/bootstrap.h"
#include "stats/descriptive.h"
#include "stats/oracle_test_util.h"
#include "stats/shapiro.h"
#include "stats/two_sample.h"

namespace dlb::stats {
namespace {

using oracle::Doubles;
using oracle::Near;

std::vector<double> Times(const nlohmann::json& j, double scale) {
  std::vector<double> v = Doubles(j);
  for (double& x : v) x *= scale;
  return v;
}

TEST(StatsEdges, EveryEntryPointMatchesSciPyAtEveryScale) {
  for (const auto& c : oracle::LoadFixture("edges.json")["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const double sx = c["x_scale"], sy = c["y_scale"];
    const std::vector<double> x = Times(c["x"], sx), y = Times(c["y"], sy);
    auto w = WelchTTest(x, y);
    ASSERT_TRUE(w) << w.error();
    EXPECT_TRUE(Near(w->t, c["welch"]["t"]));
    EXPECT_TRUE(Near(w->df, c["welch"]["df"]));
    EXPECT_TRUE(Near(w->p, c["welch"]["p"]));
    auto m = MannWhitneyU(x, y);
    ASSERT_TRUE(m) << m.error();
    EXPECT_TRUE(Near(m->p, c["mwu"]["p"]));
    auto d = CohensD(x, y);
    ASSERT_TRUE(d) << d.error();
    EXPECT_TRUE(Near(d->cohens_d, c["cohen"]["d"]));
    for (const auto& [values, key] : {std::pair{&x, "shapiro_x"}, std::pair{&y, "shapiro_y"}}) {
      auto s = ShapiroWilk(*values);
      ASSERT_TRUE(s) << s.error();
      EXPECT_TRUE(Near(s->w, c[key]["w"]));
      EXPECT_TRUE(Near(s->p, c[key]["p"]));
      EXPECT_TRUE(std::isfinite(s->p));
    }
    auto summary = Summarize(std::span<const double>(x));
    ASSERT_TRUE(summary);
    EXPECT_TRUE(Near(summary->mean, c["x_mean"].get<double>() * sx));
    EXPECT_TRUE(Near(*summary->std, c["x_std"].get<double>() * sx));
  }
}

TEST(StatsEdges, TheRatioOfMediansNeverLeavesDoublesRangeSilently) {
  const std::vector<double> huge = {1e300, 2e300, 3e300}, tiny = {1e-300, 2e-300, 3e-300};
  auto r = RatioEstimate({.a = tiny, .b = huge});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("below the range of a double"), std::string::npos) << r.error();
  auto big = RatioEstimate({.a = huge, .b = tiny});
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().find("the ratio is undefined"), std::string::npos) << big.error();
  // The difference is defined where the ratio is not.
  auto diff = RatioEstimate({.a = tiny, .b = huge, .contrast = Contrast::kDifference});
  ASSERT_TRUE(diff) << diff.error();
  EXPECT_DOUBLE_EQ(*diff, -2e300);
}

TEST(StatsEdges, ALibraryExceptionBecomesTheMethodsErrorLine) {
  auto r = Guarded<double>("welch t-test", []() -> Expected<double> {
    throw std::domain_error(
        "Error in function boost::math::students_t_distribution<double>::students_t_distribution: "
        "Degrees of freedom argument is -nan, but must be > 0 !");
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "welch t-test: Degrees of freedom argument is -nan, but must be > 0 !");
}

std::vector<double> Lognormal(std::mt19937_64& rng, double median, double sigma, size_t n) {
  std::lognormal_distribution<double> d(std::log(median), sigma);  // test data only
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

// Large n takes the analytic intervals. Their coverage, over 400 simulated pairs of 3,000
// lognormal values each (skewed, like latencies), must be near 95%: the binomial sd of the rate
// at 400 trials is 1.1 points, so [91%, 98.5%] is more than three of them either way.
TEST(StatsEdges, AnalyticIntervalsCoverTheirTargetForLargeSamples) {
  const BootstrapOptions large{.n_resamples = 9999};  // 9999 * 6000 draws > kMaxBootstrapDraws
  std::mt19937_64 rng(11);
  const double median_a = 1.0, median_b = 1.05, sigma = 0.4;
  const double mean_a = median_a * std::exp(sigma * sigma / 2), mean_b = median_b * std::exp(sigma * sigma / 2);
  int covered[4] = {0, 0, 0, 0};
  const int trials = 400;
  std::string methods[4];
  for (int t = 0; t < trials; ++t) {
    auto b = Lognormal(rng, median_b, sigma, 3000), a = Lognormal(rng, median_a, sigma, 3000);
    const TwoSampleRatio cases[4] = {
        {b, a, RatioStatistic::Medians, Contrast::kRatio},
        {b, a, RatioStatistic::Means, Contrast::kRatio},
        {b, a, RatioStatistic::Medians, Contrast::kDifference},
        {b, a, RatioStatistic::Means, Contrast::kDifference}};
    const double truth[4] = {median_b / median_a, mean_b / mean_a, median_b - median_a, mean_b - mean_a};
    for (int k = 0; k < 4; ++k) {
      auto r = IntervalOfContrast(cases[k], large);
      ASSERT_TRUE(r) << r.error();
      methods[k] = r->method;
      covered[k] += r->interval.lo <= truth[k] && truth[k] <= r->interval.hi;
    }
  }
  EXPECT_EQ(methods[0], "Price-Bonett");
  EXPECT_EQ(methods[1], "delta method");
  EXPECT_EQ(methods[2], "McKean-Schrader");
  EXPECT_EQ(methods[3], "Welch");
  for (int k = 0; k < 4; ++k) {
    SCOPED_TRACE(methods[k]);
    EXPECT_GE(covered[k], trials * 0.91) << covered[k] << " of " << trials;
    EXPECT_LE(covered[k], trials * 0.985) << covered[k] << " of " << trials;
  }
}

TEST(StatsEdges, SmallSamplesKeepTheBootstrap) {
  std::mt19937_64 rng(3);
  auto b = Lognormal(rng, 1.1, 0.3, 200), a = Lognormal(rng, 1.0, 0.3, 200);
  auto r = IntervalOfContrast({b, a}, {.n_resamples = 2000, .seed = 1});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->method, "BCa");
  EXPECT_EQ(r->note, "");
  auto boot = BootstrapRatio({b, a}, {.n_resamples = 2000, .seed = 1});
  EXPECT_EQ(r->interval, boot->bca->interval);  // the same resamples, the same interval
}

}  // namespace
}  // namespace dlb::stats
