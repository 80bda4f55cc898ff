// Experiment file (TOML) -> Experiment. Every problem is one UserError line naming the file, the
// line, the field and the allowed values, with a "did you mean" where one is close.
// docs/experiments.md documents every key.
#pragma once

#include <string>

#include "plan/experiment.h"
#include "plan/registry.h"

namespace dlb::plan {

// Reads and parses path; throws UserError when the file is unreadable or invalid. The matrix's
// workers (and, for some messages, every worker) are checked against what `capabilities` says
// they can run; a cell they do not cover is an error naming the file, line, field and allowed values.
Experiment ParseExperimentFile(const std::string& path, CapabilitySource& capabilities);

// Parses text; path is used only in messages.
Experiment ParseExperiment(const std::string& text, const std::string& path,
                           CapabilitySource& capabilities);

}  // namespace dlb::plan
