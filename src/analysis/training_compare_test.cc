#include "analysis/training_compare.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dlb::analysis {
namespace {

NamedTensors Weights(float conv, float running) {
  return {{"conv.weight", {conv, conv}}, {"bn.running_mean", {running}}};
}

TEST(TrainingCompare, RelativeToTheDistanceMoved) {
  // A moved the parameters by (1, 1) and the statistics by 1; B lands 0.1 and 0.001 away.
  NamedTensors start = Weights(0, 0), a = Weights(1, 1), b = Weights(1.1f, 1.001f);
  auto c = CompareTraining({6.9, 6.0, 5.0}, {6.9, 6.006, 5.0}, start, a, b);
  EXPECT_TRUE(c.problem.empty()) << c.problem;
  ASSERT_EQ(c.loss_errors.size(), 3u);
  EXPECT_DOUBLE_EQ(c.loss_errors[0], 0);
  EXPECT_NEAR(c.loss_errors[1], 1e-3, 1e-9);
  EXPECT_NEAR(c.weights_error, 0.1, 1e-6);
  EXPECT_NEAR(c.running_stats_error, 1e-3, 1e-6);
  EXPECT_TRUE(c.trains);
  EXPECT_TRUE(Passes(c, TrainingToleranceFor("fp32", "cpu", false)));
}

TEST(TrainingCompare, EachBoundFails) {
  NamedTensors start = Weights(0, 0), a = Weights(1, 1);
  auto tol = TrainingToleranceFor("fp32", "cpu", false);
  // The first loss: one forward, held tightly.
  EXPECT_FALSE(Passes(CompareTraining({6.9, 6.0}, {6.9001, 6.0}, start, a, a), tol));
  // A later loss.
  EXPECT_FALSE(Passes(CompareTraining({6.9, 6.0}, {6.9, 6.4}, start, a, a), tol));
  // The weights: B moved three times as far.
  EXPECT_FALSE(Passes(CompareTraining({6.9, 6.0}, {6.9, 6.0}, start, a, Weights(3, 1)), tol));
  // Running statistics.
  EXPECT_FALSE(Passes(CompareTraining({6.9, 6.0}, {6.9, 6.0}, start, a, Weights(1, 1.3f)), tol));
  // A loss that does not fall: nothing was trained, whatever agrees.
  EXPECT_FALSE(Passes(CompareTraining({6.9, 7.0}, {6.9, 7.0}, start, a, a), tol));
  EXPECT_TRUE(Passes(CompareTraining({6.9, 6.0}, {6.9, 6.0}, start, a, a), tol));
}

TEST(TrainingCompare, NanAndMissingTensorsFail) {
  NamedTensors start = Weights(0, 0), a = Weights(1, 1);
  auto tol = TrainingToleranceFor("bf16", "cpu", false);
  auto nan = CompareTraining({6.9, 6.0}, {6.9, std::nan("")}, start, a, a);
  EXPECT_TRUE(std::isnan(nan.loss_errors[1]));
  EXPECT_FALSE(Passes(nan, tol));
  auto missing = CompareTraining({6.9, 6.0}, {6.9, 6.0}, start, a, {{"conv.weight", {1, 1}}});
  EXPECT_NE(missing.problem.find("bn.running_mean"), std::string::npos);
  EXPECT_FALSE(Passes(missing, tol));
  auto unmoved = CompareTraining({6.9, 6.0}, {6.9, 6.0}, start, start, start);
  EXPECT_FALSE(unmoved.problem.empty());
}

TEST(TrainingCompare, TolerancesByPrecision) {
  auto fp32 = TrainingToleranceFor("fp32", "cpu", false);
  auto bf16 = TrainingToleranceFor("bf16", "cpu", false);
  auto tf32 = TrainingToleranceFor("fp32", "cuda", true);
  EXPECT_LT(fp32.first_loss, bf16.first_loss);
  EXPECT_LT(fp32.weights, bf16.weights);
  EXPECT_DOUBLE_EQ(tf32.weights, bf16.weights);
  EXPECT_NE(tf32.reason.find("TF32"), std::string::npos);
}

}  // namespace
}  // namespace dlb::analysis
