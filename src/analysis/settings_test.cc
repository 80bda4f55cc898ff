// The numeric-settings vocabulary shared by compare and report: torch's and jax's settings mapped to
// the same names, so that a TF32-vs-fp32 or NCHW-vs-NHWC difference is flagged across frameworks.
#include "analysis/settings.h"

#include <gtest/gtest.h>

namespace dlb::analysis {
namespace {

const char* kTorch = R"({"layout":"NCHW","dtype":"float32","matmul_fp32_precision":"ieee","conv_fp32_precision":"tf32","observed_threads":9})";
const char* kJax = R"({"layout":"NHWC","dtype":"float32","jax_default_matmul_precision":null,"observed_threads":30})";

TEST(NumericSettings, SameVocabularyForBothFrameworks) {
  auto t = NumericProfile(kTorch, "cuda");
  EXPECT_EQ(t["fp32 conv"], "tf32");
  auto j = NumericProfile(kJax, "cuda");
  EXPECT_EQ(j["fp32 matmul"], "tf32");  // jax's default on a GPU
  EXPECT_EQ(NumericProfile(kJax, "cpu")["fp32 matmul"], "ieee");
}

TEST(NumericSettings, DifferencesExceptThreads) {
  EXPECT_EQ(NumericDifference(kTorch, "cuda", kJax, "cuda"), "fp32 matmul ieee vs tf32; layout NCHW vs NHWC");
  EXPECT_EQ(NumericDifference(kTorch, "cuda", kTorch, "cuda"), "");
  EXPECT_EQ(NumericDifference("not json", "cpu", kJax, "cpu"), "");
}

}  // namespace
}  // namespace dlb::analysis
