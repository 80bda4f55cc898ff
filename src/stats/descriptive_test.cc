// Pins the descriptive statistics to numpy's conventions (type-7 percentiles, ddof=1) and the
// median CI to Le Boudec's table (Performance Evaluation, Table A.1), values checkable by hand; the
// outlier fences (S1) by hand and against numpy/SciPy 1.18.1 (tests/stats/outliers.json).
#include "stats/descriptive.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "stats/oracle_test_util.h"

namespace dlb::stats {
namespace {

std::vector<double> Range(int n) {
  std::vector<double> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 1.0);
  return v;
}

TEST(Percentile, MatchesNumpyLinear) {
  std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(PercentileSorted(v, 90), 3.7);  // np.percentile([1,2,3,4], 90)
  EXPECT_DOUBLE_EQ(PercentileSorted(v, 50), 2.5);
  EXPECT_DOUBLE_EQ(PercentileSorted(v, 0), 1);
  EXPECT_DOUBLE_EQ(PercentileSorted(v, 100), 4);
}

TEST(Summarize, MeanStdCv) {
  std::vector<double> v = {2, 4, 4, 4, 5, 5, 7, 9};
  auto s = Summarize(std::span<const double>(v));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->n, 8);
  EXPECT_DOUBLE_EQ(s->mean, 5);
  EXPECT_NEAR(*s->std, std::sqrt(32.0 / 7.0), 1e-12);  // ddof = 1
  EXPECT_NEAR(*s->cv, std::sqrt(32.0 / 7.0) / 5, 1e-12);
  EXPECT_DOUBLE_EQ(s->min, 2);
  EXPECT_DOUBLE_EQ(s->max, 9);
  EXPECT_DOUBLE_EQ(s->p50, 4.5);
}

TEST(Summarize, EmptyIsNulloptAndOneValueHasNoStd) {
  std::vector<double> empty;
  EXPECT_FALSE(Summarize(std::span<const double>(empty)));
  std::vector<double> one = {3};
  auto s = Summarize(std::span<const double>(one));
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->std);
}

TEST(Summarize, StableForLargeOffsets) {
  // mean(x^2) - mean^2 would lose every digit here; two passes do not.
  std::vector<double> v = {1e12 + 1, 1e12 + 2, 1e12 + 3};
  auto s = Summarize(std::span<const double>(v));
  EXPECT_NEAR(*s->std, 1.0, 1e-9);
}

TEST(MedianCi, NoneForFiveOrFewerAt95) {
  auto v = Range(5);
  EXPECT_FALSE(MedianConfidenceInterval(v, 0.95));
  EXPECT_EQ(MinSamplesForMedianCi(0.95), 6);
}

TEST(MedianCi, LeBoudecTable) {
  auto v6 = Range(6);
  auto ci6 = MedianConfidenceInterval(v6, 0.95);
  ASSERT_TRUE(ci6);
  EXPECT_EQ(ci6->j, 1);
  EXPECT_EQ(ci6->k, 6);
  EXPECT_NEAR(ci6->coverage, 0.96875, 1e-12);

  auto v10 = Range(10);
  auto ci10 = MedianConfidenceInterval(v10, 0.95);
  EXPECT_EQ(ci10->j, 2);
  EXPECT_EQ(ci10->k, 9);
  EXPECT_DOUBLE_EQ(ci10->lo, 2);
  EXPECT_DOUBLE_EQ(ci10->hi, 9);

  auto v20 = Range(20);
  auto ci20 = MedianConfidenceInterval(v20, 0.95);
  EXPECT_EQ(ci20->j, 6);
  EXPECT_EQ(ci20->k, 15);
  EXPECT_NEAR(ci20->coverage, 0.9586, 1e-4);
}

TEST(MedianCi, LargeNIsNearNormalApproximation) {
  auto v = Range(10'000);
  auto ci = MedianConfidenceInterval(v, 0.95);
  ASSERT_TRUE(ci);
  // Hoefler & Belli: j ~ floor((n - 1.96 sqrt n) / 2) = 4902
  EXPECT_NEAR(static_cast<double>(ci->j), 4902, 2);
  EXPECT_GE(ci->coverage, 0.95);
  EXPECT_EQ(ci->j + ci->k, 10'001);
}

TEST(StatsOutliers, HandCheckedFencesAndCounts) {
  // q1 = 3.25, q3 = 7.75 (type 7), IQR 4.5: mild fences -3.5 / 14.5, severe -10.25 / 21.25.
  // median 5.5, raw MAD 2.5, scaled 2.5 / 0.6744897501960817.
  std::vector<double> v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 100};
  auto r = FindOutliers(v);
  ASSERT_TRUE(r) << r.error();
  EXPECT_DOUBLE_EQ(r->fences.q1, 3.25);
  EXPECT_DOUBLE_EQ(r->fences.q3, 7.75);
  EXPECT_DOUBLE_EQ(r->fences.mild_hi, 14.5);
  EXPECT_DOUBLE_EQ(r->fences.severe_lo, -10.25);
  EXPECT_NEAR(r->fences.mad, 2.5 / 0.6744897501960817, 1e-12);
  EXPECT_EQ(r->counts.mild_high, 1);
  EXPECT_EQ(r->counts.severe_high, 1);
  EXPECT_EQ(r->counts.mild_low, 0);
  EXPECT_EQ(r->counts.mad_high, 1);
  EXPECT_EQ(r->counts.mad_low, 0);
  EXPECT_EQ(ClassifyTukey(100, r->fences), TukeyClass::Severe);
  EXPECT_EQ(ClassifyTukey(15, r->fences), TukeyClass::Mild);
  EXPECT_EQ(ClassifyTukey(5, r->fences), TukeyClass::Inside);
}

TEST(StatsOutliers, ZeroMadGivesNoMadCounts) {
  std::vector<double> v = {5, 5, 5, 5, 5, 6, 50};
  auto r = FindOutliers(v);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->fences.mad, 0);
  EXPECT_FALSE(r->counts.mad_low);
  EXPECT_FALSE(r->counts.mad_high);
  // q1 5, q3 5.5: 50 is beyond 5.5 + 3 * 0.5; 6 is inside 5.5 + 1.5 * 0.5.
  EXPECT_EQ(r->counts.severe_high, 1);
  EXPECT_EQ(r->counts.mild_high, 1);
}

TEST(StatsOutliersOracle, MatchesNumpyAndScipy) {
  const auto fixture = oracle::LoadFixture("outliers.json");
  ASSERT_GE(fixture["cases"].size(), 5u);
  for (const auto& c : fixture["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    auto r = FindOutliers(oracle::Doubles(c["x"]));
    ASSERT_TRUE(r) << r.error();
    // Fences rounded differently by numpy's lerp; counts must still be equal.
    EXPECT_TRUE(oracle::Near(r->fences.q1, c["q1"], 1e-12, 1e-300));
    EXPECT_TRUE(oracle::Near(r->fences.q3, c["q3"], 1e-12, 1e-300));
    EXPECT_TRUE(oracle::Near(r->fences.median, c["median"], 1e-12, 1e-300));
    EXPECT_TRUE(oracle::Near(r->fences.mad, c["mad"], 1e-12, 1e-300));
    EXPECT_EQ(r->counts.mild_low, c["mild_low"].get<int64_t>());
    EXPECT_EQ(r->counts.mild_high, c["mild_high"].get<int64_t>());
    EXPECT_EQ(r->counts.severe_low, c["severe_low"].get<int64_t>());
    EXPECT_EQ(r->counts.severe_high, c["severe_high"].get<int64_t>());
    EXPECT_EQ(r->counts.mad_low.has_value(), !c["mad_low"].is_null());
    if (r->counts.mad_low) {
      EXPECT_EQ(*r->counts.mad_low, c["mad_low"].get<int64_t>());
      EXPECT_EQ(*r->counts.mad_high, c["mad_high"].get<int64_t>());
    }
  }
}

TEST(StatsOutliersErrors, EmptyAndNan) {
  std::vector<double> empty, nan = {1, NAN};
  EXPECT_EQ(FindOutliers(empty).error(), "outliers: sample has 0 values; needs at least 1");
  EXPECT_EQ(FindOutliers(nan).error(),
            "outliers: sample holds a non-finite value (nan) at index 1");
}

}  // namespace
}  // namespace dlb::stats
