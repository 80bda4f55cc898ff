// Each command lives in its own file and registers itself here. A command's callback stores its
// exit code in `result`.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/exit_code.h"

namespace dlb::cli {

void AddRunCommand(CLI::App& app, ExitCode& result);
void AddDoctorCommand(CLI::App& app, ExitCode& result);
void AddListCommand(CLI::App& app, ExitCode& result);
void AddShowCommand(CLI::App& app, ExitCode& result);
void AddExportCommand(CLI::App& app, ExitCode& result);
void AddSelftestCommand(CLI::App& app, ExitCode& result);
void AddValidateCommand(CLI::App& app, ExitCode& result);
void AddStatsCommand(CLI::App& app, ExitCode& result);
void AddCompareCommand(CLI::App& app, ExitCode& result);
void AddReportCommand(CLI::App& app, ExitCode& result);
void AddDbCommand(CLI::App& app, ExitCode& result);
void AddRecommendCommand(CLI::App& app, ExitCode& result);
void AddPredictCommand(CLI::App& app, ExitCode& result);
void AddMergeCommand(CLI::App& app, ExitCode& result);
void AddCheckCommand(CLI::App& app, ExitCode& result);
void AddSlurmCommand(CLI::App& app, ExitCode& result);
void AddLoadCommand(CLI::App& app, ExitCode& result);

}  // namespace dlb::cli
