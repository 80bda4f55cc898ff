// Datasheet peaks by device and math mode, for achieved FLOP/s against peak (methodology rule 15,
// Hoefler R11) and `dlbench doctor --probe`. Dense figures (NVIDIA quotes tensor-core figures
// "with sparsity", twice the dense ones; the table holds the dense halves). Sources and the
// matching rule are in docs/peaks.md; the table is the one copy, printed by `dlbench doctor`.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace dlb::analysis {

struct DevicePeak {
  std::string name;     // "H100 SXM5 80GB"
  std::string matches;  // substring of the device name NVML and the frameworks report
  double fp32_tflops = 0;  // CUDA cores, no tensor cores
  double tf32_tflops = 0;  // tensor cores, dense; 0 where the device has no TF32
  double bf16_tflops = 0;  // tensor cores, dense, fp32 accumulate
  double fp16_tflops = 0;
  double memory_gbps = 0;  // HBM/GDDR bandwidth, GB/s (1e9 bytes)
  std::string source;      // datasheet
};

const std::vector<DevicePeak>& DevicePeaks();

// The first entry whose `matches` occurs in the device name as whole words (the table lists
// specific names first: "H100 NVL" before "H100"; "L4" does not match "L40S"); nullptr for a
// device not in the table (every CPU).
const DevicePeak* FindDevicePeak(const std::string& device_name);

// "fp32", "tf32", "bf16" or "fp16": the math a cell ran, from its precision and read-back
// settings. An fp32 cell counts as tf32 when the operation class that holds most of the model's
// FLOPs runs in TF32 (`flops_mostly`: "conv" or "matmul", plan::DominantFlopOp): torch's defaults
// run convolutions in TF32 but matmuls in IEEE fp32, so ResNet-50 is tf32 there and ViT-B/16 fp32.
// Where the class is unknown, TF32 in either counts, so the utilization shown is not flattered.
std::string MathMode(const std::string& precision, const std::string& settings_json,
                     const std::string& device, const std::string& flops_mostly = "");

// The math a configuration would run on a device it was not measured on, for `predict
// --on-device`: bf16 and fp16 as such; fp32 by its profile (fp32-strict: fp32; tf32: tf32 where
// the device has TF32); at the frameworks' defaults (profile framework-default, or none) as
// docs/settings.md records them on a GPU with TF32: jax TF32 for dots and convolutions, torch TF32
// for convolutions and IEEE fp32 for matmuls, so the operation class that holds most of the
// model's FLOPs (`flops_mostly`) decides. Any other framework, or a device without TF32: fp32.
std::string ExpectedMathMode(const std::string& precision, const std::string& profile,
                             const std::string& framework, const std::string& flops_mostly,
                             bool device_has_tf32);

// Peak FLOP/s (not TFLOP/s) of a device for a math mode; nullopt where the table has none.
std::optional<double> PeakFlops(const DevicePeak& peak, const std::string& math);

// The name of `device` ("cpu", "cuda", "cuda:1") in a worker's hello reply (its `devices`).
std::string DeviceNameFromHello(const std::string& hello_json, const std::string& device);

}  // namespace dlb::analysis
