#include "analysis/settings.h"

#include <vector>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "util/strings.h"

namespace dlb::analysis {

std::map<std::string, std::string> NumericProfile(const std::string& settings_json,
                                                  const std::string& device) {
  std::map<std::string, std::string> p;
  auto s = nlohmann::json::parse(settings_json, nullptr, false);
  if (!s.is_object()) return p;
  auto str = [&](const char* k) -> std::string {
    if (!s.contains(k) || s[k].is_null()) return "";
    return s[k].is_string() ? s[k].get<std::string>() : s[k].dump();
  };
  p["layout"] = str("layout");
  p["dtype"] = str("dtype");
  if (s.contains("matmul_fp32_precision")) {  // torch: effective values of the fp32_precision flags
    p["fp32 matmul"] = str("matmul_fp32_precision");
    p["fp32 conv"] = str("conv_fp32_precision");
  } else if (s.contains("jax_default_matmul_precision")) {
    // jax: one precision for dots and convolutions; the default is TF32 on Ampere+ GPUs, full fp32
    // on the CPU (docs.jax.dev "precision", read 2026-11).
    std::string prec = str("jax_default_matmul_precision");
    bool gpu = device != "cpu";
    std::string effective = prec.empty() || prec == "default"        ? (gpu ? "tf32" : "ieee")
                            : (prec == "float32" || prec == "highest") ? "ieee"
                            : prec == "tensorfloat32"                 ? "tf32"
                                                                      : prec;
    p["fp32 matmul"] = p["fp32 conv"] = effective;
  }
  p["threads"] = str("observed_threads");
  return p;
}

std::string NumericDifference(const std::string& settings_a, const std::string& device_a,
                              const std::string& settings_b, const std::string& device_b) {
  auto pa = NumericProfile(settings_a, device_a);
  auto pb = NumericProfile(settings_b, device_b);
  std::vector<std::string> diffs;
  for (const auto& [k, va] : pa) {
    if (k == "threads") continue;
    auto it = pb.find(k);
    if (it != pb.end() && !va.empty() && !it->second.empty() && va != it->second) {
      diffs.push_back(fmt::format("{} {} vs {}", k, va, it->second));
    }
  }
  return Join(diffs, "; ");
}

}  // namespace dlb::analysis
