#include "analysis/peaks.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "analysis/settings.h"

namespace dlb::analysis {

const std::vector<DevicePeak>& DevicePeaks() {
  // NVIDIA datasheets, read 2026-11 (docs/peaks.md has the links). Tensor-core figures halved
  // from the "with sparsity" ones the datasheets print.
  static const std::vector<DevicePeak> peaks = {
      {"H200 NVL", "H200 NVL", 60, 417.5, 835.5, 835.5, 4800, "NVIDIA H200 datasheet"},
      {"H200 SXM 141GB", "H200", 67, 494.7, 989.4, 989.4, 4800, "NVIDIA H200 datasheet"},
      {"H100 NVL", "H100 NVL", 60, 417.5, 835.5, 835.5, 3900, "NVIDIA H100 datasheet"},
      {"H100 PCIe", "H100 PCIe", 51, 378, 756, 756, 2000, "NVIDIA H100 datasheet"},
      {"H100 SXM5 80GB", "H100", 67, 494.7, 989.4, 989.4, 3350, "NVIDIA H100 datasheet"},
      {"A100 SXM4 80GB", "A100-SXM4-80GB", 19.5, 156, 312, 312, 2039, "NVIDIA A100 datasheet"},
      {"A100 PCIe 80GB", "A100 80GB PCIe", 19.5, 156, 312, 312, 1935, "NVIDIA A100 datasheet"},
      {"A100 40GB", "A100", 19.5, 156, 312, 312, 1555, "NVIDIA A100 datasheet"},
      {"L40S", "L40S", 91.6, 183, 366.5, 366.5, 864, "NVIDIA L40S datasheet"},
      {"L4", "L4", 30.3, 60, 121, 121, 300, "NVIDIA L4 datasheet"},
  };
  return peaks;
}

const DevicePeak* FindDevicePeak(const std::string& device_name) {
  if (device_name.empty()) return nullptr;
  // A whole-word match: "L4" is not "L40S", "H200" is not "GH200".
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (const auto& p : DevicePeaks()) {
    for (size_t at = device_name.find(p.matches); at != std::string::npos;
         at = device_name.find(p.matches, at + 1)) {
      size_t end = at + p.matches.size();
      if ((at == 0 || !word(device_name[at - 1])) && (end == device_name.size() || !word(device_name[end]))) {
        return &p;
      }
    }
  }
  return nullptr;
}

std::string MathMode(const std::string& precision, const std::string& settings_json,
                     const std::string& device, const std::string& flops_mostly) {
  if (precision != "fp32") return precision;
  auto profile = NumericProfile(settings_json, device);
  bool matmul = profile["fp32 matmul"] == "tf32", conv = profile["fp32 conv"] == "tf32";
  bool tf32 = flops_mostly == "conv" ? conv : flops_mostly == "matmul" ? matmul : (matmul || conv);
  return tf32 ? "tf32" : "fp32";
}

std::string ExpectedMathMode(const std::string& precision, const std::string& profile,
                             const std::string& framework, const std::string& flops_mostly,
                             bool device_has_tf32) {
  if (precision != "fp32") return precision;
  if (!device_has_tf32 || profile == "fp32-strict") return "fp32";
  if (profile == "tf32") return "tf32";
  if (framework == "jax") return "tf32";
  if (framework == "torch") return flops_mostly == "conv" ? "tf32" : "fp32";
  return "fp32";
}

std::optional<double> PeakFlops(const DevicePeak& peak, const std::string& math) {
  double tflops = math == "fp32"   ? peak.fp32_tflops
                  : math == "tf32" ? peak.tf32_tflops
                  : math == "bf16" ? peak.bf16_tflops
                  : math == "fp16" ? peak.fp16_tflops
                                   : 0;
  if (tflops <= 0) return std::nullopt;
  return tflops * 1e12;
}

std::string DeviceNameFromHello(const std::string& hello_json, const std::string& device) {
  auto hello = nlohmann::json::parse(hello_json, nullptr, false);
  if (!hello.is_object() || !hello.contains("devices") || !hello["devices"].is_array()) return "";
  std::string id = device == "cuda" ? "cuda:0" : device;
  // A stored hello is input: a field of another type is skipped, not an exception.
  auto text = [](const nlohmann::json& d, const char* key) {
    return d.contains(key) && d[key].is_string() ? d[key].get<std::string>() : std::string();
  };
  for (const auto& d : hello["devices"]) {
    if (d.is_object() && text(d, "id") == id) return text(d, "name");
  }
  return "";
}

}  // namespace dlb::analysis
