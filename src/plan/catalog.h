// The protocol's vocabulary, the same for every worker: the precisions, workloads and layouts a
// load may name, and the form of a device. What each worker offers of them is its own to say
// (plan/registry.h, capabilities); these lists only say which words exist.
#pragma once

#include <string>
#include <vector>

namespace dlb::plan {

inline const std::vector<std::string> kPrecisions = {"fp32", "bf16", "fp16"};
inline const std::vector<std::string> kWorkloads = {"inference", "training", "generation"};
inline const std::vector<std::string> kLayouts = {"default", "channels_last", "channels_first"};

// "conv" or "matmul": the operation class that holds most of a model's FLOPs (the CNNs: over 99%
// in convolutions; vit_b_16: over 99% in matmuls, its patch embedding is one convolution); "" for
// a model not in the catalog.
std::string DominantFlopOp(const std::string& model);

// cpu, cuda, cuda:N
bool IsValidDevice(const std::string& device);

}  // namespace dlb::plan
