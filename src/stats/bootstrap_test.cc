// Pins the bootstrap (methodology S3, S4). The resampling is dlbench's own, so SciPy cannot
// check it; instead SciPy 1.18.1 computed BCa and percentile intervals from fixed theta* arrays
// (tests/stats/bca.json) and BcaInterval/PercentileInterval must reproduce them to 1e-9 from the
// same arrays. The resampler is checked for what it promises: the standard's mt19937_64 sequence,
// the same theta* for the same seed, and a BCa result identical to BcaInterval on its own theta*.
#include "stats/bootstrap.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "stats/oracle_test_util.h"
#include "util/random.h"

namespace dlb::stats {
namespace {

using oracle::Doubles;
using oracle::Near;

const std::vector<double> kA = {10.2, 9.8, 11.5, 10.9, 10.1, 9.7, 12.3, 10.4, 10.0, 11.1};
const std::vector<double> kB = {12.1, 11.8, 12.9, 13.4, 11.2, 12.6, 12.0, 14.1, 11.9, 12.2, 12.5};

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(StatsBootstrap, QuantileMatchesTypeSeven) {
  std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(QuantileLinear(v, 0.9), 3.7);  // np.percentile([1,2,3,4], 90)
  EXPECT_DOUBLE_EQ(QuantileLinear(v, 0.0), 1);
  EXPECT_DOUBLE_EQ(QuantileLinear(v, 1.0), 4);
  EXPECT_DOUBLE_EQ(QuantileLinear(v, 0.5), 2.5);
}

TEST(StatsBootstrap, PercentileIntervalByHand) {
  std::vector<double> theta;
  for (int i = 0; i <= 100; ++i) theta.push_back(i);  // quantile p is 100 p
  auto ci = PercentileInterval(theta, 0.9);
  ASSERT_TRUE(ci);
  EXPECT_NEAR(ci->lo, 5, 1e-9);
  EXPECT_NEAR(ci->hi, 95, 1e-9);
}

TEST(StatsBootstrap, GeneratorIsTheStandardsMt19937_64) {
  // [rand.predef]: the 10000th output of a default-constructed mt19937_64 is 9981545732273789042.
  Rng rng;
  Rng::result_type v = 0;
  for (int i = 0; i < 10000; ++i) v = rng();
  EXPECT_EQ(v, 9981545732273789042ull);
}

TEST(StatsBootstrap, SameSeedSameThetaStarAndBcaAgreesWithItsOwnThetaStar) {
  const TwoSampleRatio data{.a = kA, .b = kB, .statistic = RatioStatistic::Medians};
  auto r1 = BootstrapRatio(data, {.n_resamples = 2000, .seed = 7});
  auto r2 = BootstrapRatio(data, {.n_resamples = 2000, .seed = 7});
  auto r3 = BootstrapRatio(data, {.n_resamples = 2000, .seed = 8});
  ASSERT_TRUE(r1 && r2 && r3);
  EXPECT_EQ(*r1, *r2);
  EXPECT_NE(r1->theta_star, r3->theta_star);
  EXPECT_EQ(r1->theta_star.size(), 2000u);
  EXPECT_DOUBLE_EQ(r1->estimate, 10.3 / 12.2);
  ASSERT_TRUE(r1->bca) << r1->bca.error();
  EXPECT_EQ(*r1->bca, *BcaInterval(data, r1->theta_star));
  EXPECT_EQ(r1->percentile, *PercentileInterval(r1->theta_star));
  EXPECT_LT(r1->bca->interval.lo, r1->estimate);
  EXPECT_GT(r1->bca->interval.hi, r1->estimate);
  EXPECT_GT(r1->standard_error, 0);
}

TEST(StatsBootstrap, DefaultsAreScipys) {
  BootstrapOptions o;
  EXPECT_EQ(o.n_resamples, 9999);
  EXPECT_EQ(o.confidence_level, 0.95);
}

TEST(StatsBootstrap, RatioOfMeansCoversTheEstimate) {
  const TwoSampleRatio data{.a = kA, .b = kB, .statistic = RatioStatistic::Means};
  auto r = BootstrapRatio(data, {.seed = 1});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->theta_star.size(), 9999u);
  ASSERT_TRUE(r->bca);
  EXPECT_LT(r->bca->interval.lo, r->estimate);
  EXPECT_GT(r->bca->interval.hi, r->estimate);
}

TEST(StatsBcaOracle, MatchesScipyForTheSameThetaStar) {
  const auto fixture = oracle::LoadFixture("bca.json");
  ASSERT_GE(fixture["cases"].size(), 8u);
  for (const auto& c : fixture["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto a = Doubles(c["a"]), b = Doubles(c["b"]), theta = Doubles(c["theta_star"]);
    const double cl = c["confidence_level"];
    const TwoSampleRatio data{
        .a = a,
        .b = b,
        .statistic = c["statistic"] == "medians" ? RatioStatistic::Medians : RatioStatistic::Means};
    auto pct = PercentileInterval(theta, cl);
    ASSERT_TRUE(pct);
    EXPECT_TRUE(Near(pct->lo, c["percentile"]["lo"]));
    EXPECT_TRUE(Near(pct->hi, c["percentile"]["hi"]));
    auto bca = BcaInterval(data, theta, cl);
    ASSERT_EQ(bca.has_value(), !c["bca"]["lo"].is_null()) << (bca ? "" : bca.error());
    if (!bca) continue;
    EXPECT_TRUE(Near(bca->interval.lo, c["bca"]["lo"]));
    EXPECT_TRUE(Near(bca->interval.hi, c["bca"]["hi"]));
    EXPECT_TRUE(Near(bca->alpha_lo, c["bca"]["alpha_lo"]));
    EXPECT_TRUE(Near(bca->alpha_hi, c["bca"]["alpha_hi"]));
    // For medians a-hat is 0 in exact arithmetic and rounding noise (~1e-15) on both sides.
    EXPECT_TRUE(Near(bca->acceleration, c["bca"]["acceleration"], oracle::kRelTol, 1e-12));
  }
}

TEST(StatsBcaOracle, DegenerateJackknifeIsAnErrorLine) {
  std::vector<double> a = {1, 1, 1, 1, 2}, b = {1, 1, 1, 1, 1}, theta = {1, 1, 2, 1};
  auto r = BcaInterval({.a = a, .b = b}, theta);
  ASSERT_FALSE(r);
  EXPECT_TRUE(Contains(r.error(), "bca interval: undefined for degenerate data")) << r.error();
  auto full = BootstrapRatio({.a = a, .b = b}, {.n_resamples = 200});
  ASSERT_TRUE(full);  // the percentile fallback stays available
  EXPECT_FALSE(full->bca);
}


TEST(StatsBootstrapErrors, EmptyOneValueAndNan) {
  std::vector<double> empty, one = {2}, nan = {1, NAN};
  EXPECT_EQ(RatioEstimate({.a = empty, .b = kB}).error(),
            "bootstrap: sample a has 0 values; needs at least 2");
  EXPECT_EQ(BootstrapRatio({.a = kA, .b = one}, {}).error(),
            "bootstrap: sample b has 1 value; needs at least 2");
  EXPECT_EQ(BootstrapRatio({.a = nan, .b = kB}, {}).error(),
            "bootstrap: sample a holds a non-finite value (nan) at index 1");
}

TEST(StatsBootstrapErrors, ZeroDenominator) {
  std::vector<double> zeros = {0, 0, 0, 1};
  EXPECT_EQ(RatioEstimate({.a = kA, .b = zeros}).error(),
            "bootstrap: median(a) / median(b) is 10.3 / 0; the ratio is undefined");
  std::vector<double> some_zeros = {0, 0, 1, 2, 3};  // median 1, but many resamples have median 0
  auto r = BootstrapRatio({.a = kA, .b = some_zeros}, {.n_resamples = 500});
  ASSERT_FALSE(r);
  EXPECT_TRUE(Contains(r.error(), "bootstrap: resample ")) << r.error();
  EXPECT_TRUE(Contains(r.error(), " / 0; the ratio is undefined")) << r.error();
}

TEST(StatsBootstrapErrors, BadOptionsAndThetaStar) {
  const TwoSampleRatio data{.a = kA, .b = kB};
  EXPECT_EQ(BootstrapRatio(data, {.n_resamples = 0}).error(),
            "bootstrap: n_resamples is 0; needs at least 1");
  EXPECT_EQ(BootstrapRatio(data, {.confidence_level = 1.5}).error(),
            "bootstrap: confidence level 1.5 is not in (0, 1)");
  std::vector<double> empty, nan = {1, NAN};
  EXPECT_EQ(BcaInterval(data, empty).error(),
            "bca interval: theta* has 0 values; needs at least 1");
  EXPECT_EQ(BcaInterval(data, kA, 1.0).error(),
            "bca interval: confidence level 1 is not in (0, 1)");
  EXPECT_EQ(PercentileInterval(nan).error(),
            "percentile interval: theta* holds a non-finite value (nan) at index 1");
}


}  // namespace
}  // namespace dlb::stats
