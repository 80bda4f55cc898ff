#include "plan/profile.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace dlb::plan {
namespace {

using nlohmann::json;

bool IsCuda(const std::string& device) { return device.rfind("cuda", 0) == 0; }

}  // namespace

ProfileSettings ResolveProfile(const std::string& profile, const std::string& framework,
                               const std::string& device) {
  ProfileSettings p{"fp32", "default", "{}", {}};
  const bool cuda = IsCuda(device);
  json options = json::object();
  if (profile == "fp32-strict" || profile == "tf32") {
    const bool tf32 = profile == "tf32";
    if (framework == "torch") options["fp32_precision"] = tf32 ? "tf32" : "ieee";
    if (framework == "jax") options["matmul_precision"] = tf32 ? "tensorfloat32" : "highest";
  } else if (profile == "bf16-tuned") {
    p.precision = "bf16";
    if (framework == "torch") {
      p.layout = "channels_last";
      options["compile"] = "default";
      if (cuda) options["cudnn_benchmark"] = true;
    }
    if (framework == "jax" && cuda) p.env.emplace_back("XLA_FLAGS", "--xla_gpu_autotune_level=4");
  }
  p.options_json = options.dump();
  return p;
}

std::vector<std::pair<std::string, std::string>> ProfileExpectations(const std::string& profile,
                                                                     const std::string& framework,
                                                                     const std::string& device) {
  std::vector<std::pair<std::string, std::string>> e;
  const bool cuda = IsCuda(device);
  auto q = [](const char* s) { return json(s).dump(); };
  if (framework == "synthetic") return e;
  if (profile == "bf16-tuned") {
    e.emplace_back("dtype", q("bfloat16"));
    e.emplace_back("layout", q("NHWC"));
  } else {
    e.emplace_back("dtype", q("float32"));
  }
  if (framework == "torch") {
    if (profile == "fp32-strict" || profile == "tf32") {
      const char* want = profile == "tf32" ? "tf32" : "ieee";
      e.emplace_back("matmul_fp32_precision", q(want));
      e.emplace_back("conv_fp32_precision", q(want));
    }
    if (profile == "bf16-tuned") {
      e.emplace_back("compile", q("default"));
      if (cuda) e.emplace_back("cudnn_benchmark", "true");
    }
  }
  if (framework == "jax") {
    if (profile == "fp32-strict") e.emplace_back("jax_default_matmul_precision", q("highest"));
    if (profile == "tf32") e.emplace_back("jax_default_matmul_precision", q("tensorfloat32"));
    if (profile == "bf16-tuned" && cuda) e.emplace_back("xla_gpu_autotune_level", q("4"));
  }
  return e;
}

std::vector<std::string> CheckProfile(const std::string& profile, const std::string& framework,
                                      const std::string& device, const std::string& settings_json) {
  std::vector<std::string> deviations;
  if (profile.empty()) return deviations;
  json settings = json::parse(settings_json, nullptr, false);
  if (!settings.is_object()) {
    deviations.push_back("no settings were read back");
    return deviations;
  }
  for (const auto& [key, want] : ProfileExpectations(profile, framework, device)) {
    std::string got = settings.contains(key) ? settings[key].dump() : "absent";
    if (got != want) {
      deviations.push_back(fmt::format("{} is {}; {} expects {}", key, got, profile, want));
    }
  }
  return deviations;
}

}  // namespace dlb::plan
