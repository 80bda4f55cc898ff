// Experiment file (TOML) -> Experiment. Every problem is one UserError line naming the file, the
// line, the field and the allowed values, with a "did you mean" where one is close.
// docs/experiments.md documents every key.
#pragma once

#include <string>

#include "plan/experiment.h"

namespace dlb::plan {

// Reads and parses path; throws UserError when the file is unreadable or invalid.
Experiment ParseExperimentFile(const std::string& path);

// Parses text; path is used only in messages.
Experiment ParseExperiment(const std::string& text, const std::string& path);

}  // namespace dlb::plan
