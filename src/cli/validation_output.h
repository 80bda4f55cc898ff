// Rendering validation results (dlbench validate, and validate = true in dlbench run).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "run/validation.h"

namespace dlb::cli {

std::string ValidationText(const std::vector<run::ModelValidation>& results,
                           const run::ValidationSpec& spec);
nlohmann::json ValidationJson(const std::vector<run::ModelValidation>& results,
                              const run::ValidationSpec& spec);

// The numeric settings that explain output differences, one short line ("conv ieee, matmul tf32, NCHW").
std::string NumericSummary(const std::string& settings_json);

}  // namespace dlb::cli
