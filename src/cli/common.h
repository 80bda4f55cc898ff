// What several commands share: where the workers and their Python are, the database path, and
// how errors are printed.
#pragma once

#include <string>
#include <vector>

#include "analysis/pairing.h"
#include "run/repetition.h"
#include "store/query.h"

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

// A stored cell's coordinates for pairing (analysis/pairing.h).
analysis::CellCoordinates CoordinatesOf(int64_t run_id, const store::CellRow& c);

// The command line dlbench was started with, recorded with every run.
void SetCommandLine(int argc, char** argv);
const std::vector<std::string>& CommandLine();

}  // namespace dlb::cli
