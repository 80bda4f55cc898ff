// Pins the output comparison (errors relative to the output scale, cosine, top-1 agreement) and the
// tolerance table, including that TF32 read back from either side loosens fp32 on a GPU.
#include "analysis/output_compare.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dlb::analysis {
namespace {

TEST(CompareOutputs, ErrorsCosineAndTop1) {
  std::vector<float> a = {1, 2, 4, /**/ 3, 0, -1};
  std::vector<float> b = {1, 2.5f, 4, /**/ 3, 3.5f, -1};
  auto c = CompareOutputs(a, b, 2, 3);
  EXPECT_DOUBLE_EQ(c.max_abs_err, 3.5);
  EXPECT_DOUBLE_EQ(c.scale, 4);
  EXPECT_DOUBLE_EQ(c.max_rel_err, 3.5 / 4);
  EXPECT_DOUBLE_EQ(c.top1_agreement, 0.5);  // row 0 agrees (index 2), row 1 does not
  double dot = 1 + 5 + 16 + 9 + 0 + 1, na = 1 + 4 + 16 + 9 + 0 + 1, nb = 1 + 6.25 + 16 + 9 + 12.25 + 1;
  EXPECT_NEAR(c.cosine, dot / std::sqrt(na * nb), 1e-12);
}

TEST(CompareOutputs, IdenticalIsExact) {
  std::vector<float> a = {0.1f, -0.2f, 0.3f};
  auto c = CompareOutputs(a, a, 1, 3);
  EXPECT_EQ(c.max_abs_err, 0);
  EXPECT_NEAR(c.cosine, 1, 1e-15);
  EXPECT_TRUE(Passes(c, ToleranceFor("fp32", "cpu", false)));
}

TEST(CompareOutputs, NanIsNeverAZeroError) {
  std::vector<float> a = {1, 2, 3, 4};
  std::vector<float> b = {NAN, NAN, NAN, NAN};
  auto c = CompareOutputs(a, b, 2, 2);
  EXPECT_EQ(c.nonfinite_a, 0);
  EXPECT_EQ(c.nonfinite_b, 4);
  EXPECT_TRUE(std::isnan(c.max_abs_err));
  EXPECT_TRUE(std::isnan(c.max_rel_err));
  EXPECT_FALSE(Passes(c, ToleranceFor("bf16", "cpu", false)));
  std::vector<float> inf = {1, 2, INFINITY, 4};
  EXPECT_EQ(CompareOutputs(inf, a, 2, 2).nonfinite_a, 1);
}

TEST(Tolerance, DependsOnPrecisionDeviceAndTf32) {
  EXPECT_DOUBLE_EQ(ToleranceFor("fp32", "cpu", false).max_rel_err, 2e-5);
  EXPECT_DOUBLE_EQ(ToleranceFor("fp32", "cuda", false).max_rel_err, 1e-4);
  EXPECT_DOUBLE_EQ(ToleranceFor("fp32", "cuda:1", true).max_rel_err, 2e-2);
  EXPECT_DOUBLE_EQ(ToleranceFor("bf16", "cpu", false).max_rel_err, 5e-2);
  EXPECT_DOUBLE_EQ(ToleranceFor("fp16", "cuda", true).max_rel_err, 1e-2);
  OutputComparison c;
  c.max_rel_err = 3e-5;
  c.cosine = 1;
  EXPECT_FALSE(Passes(c, ToleranceFor("fp32", "cpu", false)));
  c.max_rel_err = NAN;
  EXPECT_FALSE(Passes(c, ToleranceFor("bf16", "cpu", false)));
}

TEST(Tolerance, Tf32ReadBackFromSettings) {
  EXPECT_TRUE(SettingsShowTf32(R"({"matmul_fp32_precision":"ieee","conv_fp32_precision":"tf32"})"));
  EXPECT_FALSE(SettingsShowTf32(R"({"matmul_fp32_precision":"ieee","conv_fp32_precision":"ieee"})"));
  EXPECT_TRUE(SettingsShowTf32(R"({"platform":"gpu","jax_default_matmul_precision":null})"));
  EXPECT_FALSE(SettingsShowTf32(R"({"platform":"gpu","jax_default_matmul_precision":"float32"})"));
  EXPECT_FALSE(SettingsShowTf32(R"({"platform":"cpu","jax_default_matmul_precision":null})"));
  EXPECT_FALSE(SettingsShowTf32("not json"));
}

}  // namespace
}  // namespace dlb::analysis
