#include "plan/catalog.h"

#include <regex>

namespace dlb::plan {

namespace {
const std::vector<std::string> kVisionModels = {"resnet18", "resnet50", "vit_b_16",
                                                "mobilenet_v3_small", "efficientnet_b0"};
}

const std::vector<FrameworkInfo>& Frameworks() {
  static const std::vector<FrameworkInfo> frameworks = {
      {"torch", kVisionModels, kPrecisions, {"default", "channels_last", "channels_first"},
       {"num_threads", "compile", "cudnn_benchmark", "fp32_precision"}, kWorkloads},
      {"jax", kVisionModels, kPrecisions, {"default", "channels_last"},
       {"matmul_precision"}, kWorkloads},
      {"synthetic", {"synthetic"}, kPrecisions, {"default", "channels_last", "channels_first"},
       {"latency", "faults", "unsupported"}, kWorkloads},
  };
  return frameworks;
}

std::string DominantFlopOp(const std::string& model) {
  if (model == "vit_b_16") return "matmul";
  if (model == "resnet18" || model == "resnet50" || model == "mobilenet_v3_small" ||
      model == "efficientnet_b0") {
    return "conv";
  }
  return "";
}

const FrameworkInfo* FindFramework(const std::string& name) {
  for (const auto& f : Frameworks()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::vector<std::string> FrameworkNames() {
  std::vector<std::string> names;
  for (const auto& f : Frameworks()) names.push_back(f.name);
  return names;
}

std::vector<std::string> AllModels() {
  std::vector<std::string> models = kVisionModels;
  models.push_back("synthetic");
  return models;
}

bool IsValidDevice(const std::string& device) {
  static const std::regex re("cpu|cuda(:[0-9]+)?");
  return std::regex_match(device, re);
}

}  // namespace dlb::plan
