// The math a configuration is expected to run on a device it was not measured on: what
// `predict --on-device` picks the target's peak by. It must follow the frameworks' defaults as
// docs/settings.md records them (torch: TF32 convolutions, IEEE matmuls; jax: TF32 both), or a
// ViT would be set against a TF32 peak that torch never uses.
#include "analysis/peaks.h"

#include <gtest/gtest.h>

namespace dlb::analysis {
namespace {

TEST(ExpectedMathMode, FollowsProfileFrameworkAndDevice) {
  EXPECT_EQ(ExpectedMathMode("bf16", "bf16-tuned", "torch", "conv", true), "bf16");
  EXPECT_EQ(ExpectedMathMode("fp32", "fp32-strict", "jax", "conv", true), "fp32");
  EXPECT_EQ(ExpectedMathMode("fp32", "tf32", "torch", "matmul", true), "tf32");
  EXPECT_EQ(ExpectedMathMode("fp32", "framework-default", "jax", "matmul", true), "tf32");
  EXPECT_EQ(ExpectedMathMode("fp32", "framework-default", "torch", "conv", true), "tf32");
  EXPECT_EQ(ExpectedMathMode("fp32", "", "torch", "matmul", true), "fp32");
  EXPECT_EQ(ExpectedMathMode("fp32", "", "synthetic", "", true), "fp32");
  // No TF32 on the device (a CPU): fp32 whatever the profile asked.
  EXPECT_EQ(ExpectedMathMode("fp32", "framework-default", "jax", "conv", false), "fp32");
  EXPECT_EQ(ExpectedMathMode("fp32", "tf32", "jax", "conv", false), "fp32");
}

TEST(FindDevicePeak, MatchesWholeWordsMostSpecificFirst) {
  ASSERT_NE(FindDevicePeak("NVIDIA H100 80GB HBM3"), nullptr);
  EXPECT_EQ(FindDevicePeak("NVIDIA H100 80GB HBM3")->name, "H100 SXM5 80GB");
  EXPECT_EQ(FindDevicePeak("H100")->name, "H100 SXM5 80GB");
  EXPECT_EQ(FindDevicePeak("NVIDIA H100 NVL")->name, "H100 NVL");
  EXPECT_EQ(FindDevicePeak("NVIDIA L40S")->name, "L40S");
  EXPECT_EQ(FindDevicePeak("AMD EPYC"), nullptr);
  EXPECT_EQ(FindDevicePeak(""), nullptr);
}

TEST(DeviceNameFromHello, AStoredHelloOfTheWrongShapeGivesNoNameAndNoException) {
  EXPECT_EQ(DeviceNameFromHello(R"({"devices":[{"id":"cuda:0","name":"NVIDIA H100"}]})", "cuda"), "NVIDIA H100");
  EXPECT_EQ(DeviceNameFromHello(R"({"devices":[{"id":7,"name":"x"},{"id":"cpu","name":5}]})", "cpu"), "");
  EXPECT_EQ(DeviceNameFromHello(R"({"devices":{"id":"cpu"}})", "cpu"), "");
  EXPECT_EQ(DeviceNameFromHello("not json", "cpu"), "");
}

}  // namespace
}  // namespace dlb::analysis
