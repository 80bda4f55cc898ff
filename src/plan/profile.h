// Numeric profiles: one name that sets the numeric world explicitly and identically for
// every framework, so that a framework comparison is not a comparison of defaults. A profile fixes
// the precision, the layout, the worker options and environment of a cell; after `load`, the
// settings the worker reads back are checked against what the profile expects, and every
// deviation is recorded with the repetition (docs/settings.md "Profiles").
//
//   framework-default  fp32, each framework's default layout and math, recorded as read back
//   fp32-strict        fp32, no TF32 anywhere (torch fp32_precision ieee; jax precision highest)
//   tf32               fp32 with TF32 matmuls and convolutions (CUDA only: the CPU has no TF32)
//   bf16-tuned         bf16, channels-last (torch) / NHWC (Flax's own), cudnn benchmark,
//                      torch.compile (default mode), XLA autotuning at level 4 (its default)
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "plan/experiment.h"

namespace dlb::plan {

inline const std::vector<std::string> kProfiles = {"framework-default", "fp32-strict", "tf32",
                                                   "bf16-tuned"};

struct ProfileSettings {
  std::string precision;
  std::string layout;
  std::string options_json = "{}";  // the worker options the profile sets (variants may override)
  EnvVars env;
};

// What a profile asks of one framework on one device ("cpu", "cuda", "cuda:N").
ProfileSettings ResolveProfile(const std::string& profile, const std::string& framework,
                               const std::string& device);

// The read-back settings (key, expected value as the worker reports it, JSON-dumped) that prove
// the profile took effect.
std::vector<std::pair<std::string, std::string>> ProfileExpectations(const std::string& profile,
                                                                     const std::string& framework,
                                                                     const std::string& device);

// Deviations of a worker's read-back settings from the profile's expectations:
// {"cudnn_benchmark is false; bf16-tuned expects true", ...}; empty when it holds.
std::vector<std::string> CheckProfile(const std::string& profile, const std::string& framework,
                                      const std::string& device, const std::string& settings_json);

}  // namespace dlb::plan
