// What several commands share: where the workers and their Python are, the database path, and
// how errors are printed.
#pragma once

#include <string>
#include <vector>

#include "run/repetition.h"

namespace dlb::cli {

inline constexpr const char* kDefaultDb = "dlbench.db";

void PrintError(const std::string& message);    // "dlbench: error: ..."
void PrintWarning(const std::string& message);  // "dlbench: warning: ..."

struct LaunchChoice {
  run::WorkerLaunch launch;
  std::string python_source;   // "--python", "DLBENCH_PYTHON", ".venv", "PATH"
  std::string workers_source;  // "DLBENCH_WORKERS_DIR", "installed", "source tree"
};

// --python PATH, else $DLBENCH_PYTHON, else the source tree's .venv, else python3 on PATH.
// Throws UserError when an explicitly given Python does not exist.
LaunchChoice ChooseLaunch(const std::string& python_flag);

// The directory of the running executable.
std::string ExecutableDir();

std::string DlbenchVersion();

// The command line dlbench was started with, recorded with every run.
void SetCommandLine(int argc, char** argv);
const std::vector<std::string>& CommandLine();

}  // namespace dlb::cli
