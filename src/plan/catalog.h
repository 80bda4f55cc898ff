// What each worker can run, as the controller knows it before starting anything: used to reject a
// bad experiment file with the allowed values before a single worker starts. The workers stay the
// authority at run time (a combination they cannot run is recorded as unsupported).
#pragma once

#include <string>
#include <vector>

namespace dlb::plan {

struct FrameworkInfo {
  std::string name;  // worker name: python -m dlbench_worker NAME
  std::vector<std::string> models;
  std::vector<std::string> precisions;
  std::vector<std::string> layouts;
  std::vector<std::string> options;  // the option keys the worker accepts
  std::vector<std::string> workloads;
};

const std::vector<FrameworkInfo>& Frameworks();
const FrameworkInfo* FindFramework(const std::string& name);
std::vector<std::string> FrameworkNames();
std::vector<std::string> AllModels();

inline const std::vector<std::string> kPrecisions = {"fp32", "bf16", "fp16"};
inline const std::vector<std::string> kWorkloads = {"inference", "training"};
inline const std::vector<std::string> kLayouts = {"default", "channels_last", "channels_first"};

// "conv" or "matmul": the operation class that holds most of a model's FLOPs (the CNNs: over 99%
// in convolutions; vit_b_16: over 99% in matmuls, its patch embedding is one convolution); "" for
// a model not in the catalog.
std::string DominantFlopOp(const std::string& model);

// cpu, cuda, cuda:N
bool IsValidDevice(const std::string& device);

}  // namespace dlb::plan
