// dlbench's entry point: parses the command line, runs one command, and turns the two kinds of
// command-ending errors into one line on stderr and an exit code.
#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/exit_code.h"
#include "util/error.h"

namespace dlb::cli {
namespace {

ExitCode Dispatch(int argc, char** argv) {
  SetCommandLine(argc, argv);
  CLI::App app{"dlbench: benchmarks deep-learning frameworks and explains what it finds"};
  app.set_version_flag("--version", DlbenchVersion());
  app.require_subcommand(1);
  ExitCode result = ExitCode::kDone;
  AddRunCommand(app, result);
  AddDoctorCommand(app, result);
  AddListCommand(app, result);
  AddShowCommand(app, result);
  AddExportCommand(app, result);
  AddValidateCommand(app, result);
  AddStatsCommand(app, result);
  AddCompareCommand(app, result);
  AddReportCommand(app, result);
  AddDbCommand(app, result);
  AddRecommendCommand(app, result);
  AddPredictCommand(app, result);
  AddSelftestCommand(app, result);
  AddMergeCommand(app, result);
  AddCheckCommand(app, result);
  AddSlurmCommand(app, result);
  AddLoadCommand(app, result);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    app.exit(e);
    return ExitCode::kDone;
  } catch (const CLI::CallForAllHelp& e) {
    app.exit(e);
    return ExitCode::kDone;
  } catch (const CLI::CallForVersion& e) {
    app.exit(e);
    return ExitCode::kDone;
  } catch (const CLI::ParseError& e) {
    throw UserError(std::string(e.what()) + " (see dlbench --help)");
  }
  return result;
}

}  // namespace
}  // namespace dlb::cli

int main(int argc, char** argv) {
  using dlb::cli::ExitCode;
  using dlb::cli::ToInt;
  // A file size limit (ulimit -f) makes a write fail with EFBIG, which is reported like a full
  // disk, rather than kill dlbench with SIGXFSZ halfway through a file.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    return ToInt(dlb::cli::Dispatch(argc, argv));
  } catch (const dlb::UserError& e) {
    dlb::cli::PrintError(e.what());
    return ToInt(ExitCode::kUsage);
  } catch (const dlb::EnvError& e) {
    dlb::cli::PrintError(e.what());
    return ToInt(ExitCode::kEnvironment);
  }
}
