// Predictions for unmeasured configurations: the batch fit recovers a known power law, its interval
// is the textbook prediction interval (checked by hand against numpy's polyfit on the same points),
// it refuses to extrapolate far or to fit too few batches, and leave-one-out reports error and
// coverage; the model fit scales by FLOPs with an interval from the models' spread.
#include "analysis/predict.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dlb::analysis {
namespace {

// latency = 1 ms * batch^0.75, each batch's three repetitions at x0.98, x1, x1.02.
std::vector<BatchObservation> PowerLaw() {
  std::vector<BatchObservation> out;
  for (int64_t b : {1, 2, 4, 8, 16}) {
    double base = 1e6 * std::pow(static_cast<double>(b), 0.75);
    out.push_back({b, {base * 0.98, base, base * 1.02}});
  }
  return out;
}

TEST(PredictBatch, RecoversAPowerLawWithAnIntervalAroundIt) {
  auto obs = PowerLaw();
  auto p = PredictBatch(obs, 32);
  ASSERT_TRUE(p) << p.error();
  EXPECT_NEAR(p->exponent, 0.75, 1e-3);
  const double truth = 1e6 * std::pow(32.0, 0.75);
  EXPECT_NEAR(p->latency_ns / truth, 1, 1e-3);
  EXPECT_LT(p->latency_pi.lo, truth * 0.98);
  EXPECT_GT(p->latency_pi.hi, truth * 1.02);
  EXPECT_LT(p->latency_pi.hi / p->latency_pi.lo, 1.15);  // a tight fit gives a tight interval
  EXPECT_EQ(p->points, 15u);
}

TEST(PredictBatch, RefusesFarExtrapolationAndTooFewBatches) {
  auto obs = PowerLaw();
  auto far = PredictBatch(obs, 64);
  ASSERT_FALSE(far);
  EXPECT_EQ(far.error(),
            "batch 64 is more than a factor 2 outside the measured batches (1 to 16); refusing to "
            "extrapolate that far");
  std::vector<BatchObservation> two(obs.begin(), obs.begin() + 2);
  auto few = PredictBatch(two, 2);
  ASSERT_FALSE(few);
  EXPECT_EQ(few.error(), "a batch-scaling fit needs 3 measured batch sizes; this configuration has 2");
}

TEST(LeaveOneOut, PredictsEachBatchFromTheOthers) {
  auto v = LeaveOneOut(PowerLaw());
  EXPECT_EQ(v.held_out.size(), 5u);
  EXPECT_EQ(v.skipped, 0u);
  EXPECT_LT(v.median_abs_error, 0.01);
  EXPECT_DOUBLE_EQ(v.coverage, 1.0);
}

TEST(LeaveOneOut, ABendTheFitCannotSeeShowsAsErrorAndMissedCoverage) {
  auto obs = PowerLaw();
  for (double& ns : obs.back().latency_ns) ns *= 3;  // batch 16 falls off the curve
  auto v = LeaveOneOut(obs);
  ASSERT_EQ(v.held_out.back().batch, 16);
  EXPECT_EQ(v.held_out.back().covered, 0u);
  EXPECT_LT(v.coverage, 1.0);
}

TEST(PredictModel, ScalesByFlopsWithTheModelsSpread) {
  // Two models at 100 and 120 TFLOP/s achieved: the geometric mean 109.5 TFLOP/s.
  std::vector<ModelObservation> obs = {{"a", 1e9, {1e5, 1e5}}, {"b", 4e9, {3e4, 3e4}}};
  auto p = PredictModel(obs, 2e9);
  ASSERT_TRUE(p) << p.error();
  EXPECT_NEAR(p->throughput_sps, std::sqrt(1e14 * 1.2e14) / 2e9, 1e-6);
  EXPECT_LT(p->throughput_pi.lo, p->throughput_sps);
  EXPECT_GT(p->throughput_pi.hi, p->throughput_sps);
  EXPECT_FALSE(PredictModel(obs, 1e11));           // far outside the measured FLOPs
  EXPECT_FALSE(PredictModel({obs.begin(), 1}, 2e9));  // one model
}

}  // namespace
}  // namespace dlb::analysis
