// Predictions for unmeasured configurations: the batch fit recovers a known power law, its interval
// is the textbook prediction interval (checked by hand against numpy's polyfit on the same points),
// it refuses to extrapolate far or to fit too few batches, and leave-one-out reports error and
// coverage; the model fit scales by FLOPs with an interval from the models' spread; the device
// transfer scales by the roofline's ceilings, is corrected and given an interval only by pairs
// measured on both devices, and its leave-one-out and uncorrected errors are what they should be.
#include "analysis/predict.h"

#include <gtest/gtest.h>

#include <cmath>
#include <span>

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

TEST(LeaveOneModelOut, PredictsEachModelFromTheOthers) {
  // Three models at exactly 1e14 FLOP/s achieved: each predicted exactly, inside its interval
  // (whose width, with no spread, is zero).
  std::vector<ModelObservation> obs = {
      {"a", 1e9, {1e5, 1e5}}, {"b", 2e9, {5e4, 5e4}}, {"c", 4e9, {2.5e4, 2.5e4}}};
  auto v = LeaveOneModelOut(obs);
  EXPECT_EQ(v.held_out, 3u);
  EXPECT_EQ(v.skipped, 0u);
  EXPECT_NEAR(v.median_abs_error, 0, 1e-12);
  EXPECT_EQ(v.repetitions, 6u);
  // One model at half the others' FLOP/s: predicted 2x too fast, outside the others' interval.
  obs[2].throughput_sps = {1.25e4, 1.25e4};
  v = LeaveOneModelOut(obs);
  EXPECT_LT(v.coverage, 1.0);
  // With two models, each would be predicted from one: skipped, not invented.
  auto two = LeaveOneModelOut(std::span(obs).first(2));
  EXPECT_EQ(two.held_out, 0u);
  EXPECT_EQ(two.skipped, 2u);
}

TEST(Roofline, ScalesByTheCeilingsOfBothDevices) {
  const Roofline cpu{1e11, 1e10}, gpu{5e14, 3e12};
  // Compute-bound on both (intensity 1000 FLOP/B is above both ridges, 10 and 167): the FLOP/s ratio.
  EXPECT_DOUBLE_EQ(ScaleByPeaks(10, cpu, gpu, 1000), 10 * 5e14 / 1e11);
  // Memory-bound on the GPU (intensity 50 < 167): 50 x 3e12 = 1.5e14 FLOP/s there.
  EXPECT_DOUBLE_EQ(ScaleByPeaks(10, cpu, gpu, 50), 10 * 1.5e14 / 1e11);
  // A bandwidth unknown on one side: FLOP/s alone on both.
  EXPECT_DOUBLE_EQ(ScaleByPeaks(10, {1e11, 0}, gpu, 50), 10 * 5e14 / 1e11);
  EXPECT_DOUBLE_EQ(Ceiling(gpu, 0), 5e14);
}

// Targets measured at 0.5x, 0.25x and 1x their scaled figures (log ratios -ln2, -2 ln2, 0).
std::vector<TransferPair> Pairs() {
  return {{100, {50, 50}}, {200, {50, 50}}, {400, {400, 400}}};
}

TEST(PredictTransfer, CorrectsByThePairsAndTakesItsIntervalFromTheirSpread) {
  auto pairs = Pairs();
  auto p = PredictTransfer(1000, pairs);
  EXPECT_EQ(p.pairs, 3u);
  EXPECT_NEAR(p.correction, 0.5, 1e-12);  // exp(mean(-ln2, -2 ln2, 0)) = exp(-ln2)
  EXPECT_NEAR(p.throughput_sps, 500, 1e-9);
  ASSERT_TRUE(p.throughput_pi);
  // s = ln2, k = 3: half-width t(2) x ln2 x sqrt(4/3) on the log scale.
  const double half = 4.302652729749464 * std::log(2.0) * std::sqrt(4.0 / 3);
  EXPECT_NEAR(std::log(p.throughput_pi->hi / 500), half, 1e-9);
  EXPECT_NEAR(std::log(500 / p.throughput_pi->lo), half, 1e-9);
  // One pair corrects but gives no spread; none leaves the peaks' figure alone.
  auto one = PredictTransfer(1000, std::span(pairs).first(1));
  EXPECT_NEAR(one.throughput_sps, 500, 1e-9);
  EXPECT_FALSE(one.throughput_pi);
  auto none = PredictTransfer(1000, {});
  EXPECT_EQ(none.throughput_sps, 1000);
  EXPECT_FALSE(none.throughput_pi);
}

TEST(LeaveOnePairOut, ReportsErrorAndCoverage) {
  // Pairs that all sit at 0.5x: each is predicted exactly from the others.
  std::vector<TransferPair> exact = {{100, {50}}, {200, {100}}, {400, {200}}};
  auto v = LeaveOnePairOut(exact);
  EXPECT_EQ(v.held_out, 3u);
  EXPECT_NEAR(v.median_abs_error, 0, 1e-12);
  EXPECT_DOUBLE_EQ(v.coverage, 1.0);
  // Three pairs: each held out leaves two, enough for an interval; two pairs leave one: skipped.
  auto w = LeaveOnePairOut(Pairs());
  EXPECT_EQ(w.held_out, 3u);
  EXPECT_GT(w.median_abs_error, 0.3);
  EXPECT_EQ(LeaveOnePairOut(std::span(exact).first(2)).skipped, 2u);
}

TEST(UncorrectedError, RangeOfMeasuredOverScaled) {
  auto e = UncorrectedError(Pairs());
  EXPECT_DOUBLE_EQ(e.min_ratio, 0.25);
  EXPECT_DOUBLE_EQ(e.max_ratio, 1);
  EXPECT_DOUBLE_EQ(e.median_abs_error, 1);  // |1/0.5 - 1|, the middle of 3, 1, 0
}

}  // namespace
}  // namespace dlb::analysis
