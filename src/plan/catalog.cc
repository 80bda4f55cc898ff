#include "plan/catalog.h"

#include <regex>

namespace dlb::plan {

std::string DominantFlopOp(const std::string& model) {
  if (model == "vit_b_16") return "matmul";
  if (model == "resnet18" || model == "resnet50" || model == "mobilenet_v3_small" ||
      model == "efficientnet_b0") {
    return "conv";
  }
  return "";
}

bool IsValidDevice(const std::string& device) {
  static const std::regex re("cpu|cuda(:[0-9]+)?");
  return std::regex_match(device, re);
}

}  // namespace dlb::plan
