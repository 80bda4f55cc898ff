#include "cli/common.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "util/error.h"
#include "util/strings.h"

#ifndef DLBENCH_SOURCE_DIR
#error "DLBENCH_SOURCE_DIR must be defined by the build"
#endif
#ifndef DLBENCH_VERSION
#error "DLBENCH_VERSION must be defined by the build"
#endif

namespace dlb::cli {
namespace fs = std::filesystem;

// Messages quote names and files from outside: their control characters are shown, not obeyed.
void PrintError(const std::string& message) {
  std::fprintf(stderr, "dlbench: error: %s\n", TerminalSafe(message).c_str());
}

void PrintWarning(const std::string& message) {
  std::fprintf(stderr, "dlbench: warning: %s\n", TerminalSafe(message).c_str());
}

std::string ExecutableDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

std::string DlbenchVersion() { return DLBENCH_VERSION; }

analysis::CellCoordinates CoordinatesOf(int64_t run_id, const store::CellRow& c) {
  return {run_id, store::AxisValuesOf(c)};
}

namespace {
std::vector<std::string>& CommandLineStorage() {
  static std::vector<std::string> argv;
  return argv;
}
}  // namespace

void SetCommandLine(int argc, char** argv) {
  CommandLineStorage().assign(argv, argv + argc);
}

const std::vector<std::string>& CommandLine() { return CommandLineStorage(); }

LaunchChoice ChooseLaunch(const std::string& python_flag) {
  LaunchChoice c;
  // Workers: an explicit directory, else an installed copy beside the binary, else the source tree.
  fs::path installed = fs::path(ExecutableDir()) / ".." / "share" / "dlbench" / "workers" / "python";
  if (const char* dir = std::getenv("DLBENCH_WORKERS_DIR"); dir && *dir) {
    c.launch.workers_dir = dir;
    c.workers_source = "DLBENCH_WORKERS_DIR";
  } else if (fs::exists(installed / "dlbench_worker")) {
    c.launch.workers_dir = fs::weakly_canonical(installed).string();
    c.workers_source = "installed";
  } else {
    c.launch.workers_dir = std::string(DLBENCH_SOURCE_DIR) + "/workers/python";
    c.workers_source = "source tree";
  }
  auto check = [](const std::string& path, const char* what) {
    if (path.find('/') != std::string::npos && ::access(path.c_str(), X_OK) != 0) {
      throw UserError(fmt::format("{} {}: no executable Python there", what, path));
    }
  };
  // The serving stacks' tools: workers/serve beside the worker package, and the interpreter of the
  // serving environment (.venv-serve, which scripts/setup.sh makes for the tests).
  c.launch.serve_dir = (fs::path(c.launch.workers_dir).parent_path() / "serve").string();
  if (const char* env = std::getenv("DLBENCH_SERVE_PYTHON"); env && *env) {
    c.launch.serve_python = env;
  } else {
    c.launch.serve_python = (fs::path(DLBENCH_SOURCE_DIR) / ".venv-serve" / "bin" / "python").string();
  }
  fs::path venv = fs::path(DLBENCH_SOURCE_DIR) / ".venv" / "bin" / "python";
  if (!python_flag.empty()) {
    check(python_flag, "--python");
    c.launch.python = python_flag;
    c.python_source = "--python";
  } else if (const char* env = std::getenv("DLBENCH_PYTHON"); env && *env) {
    check(env, "DLBENCH_PYTHON=");
    c.launch.python = env;
    c.python_source = "DLBENCH_PYTHON";
  } else if (fs::exists(venv)) {
    c.launch.python = venv.string();
    c.python_source = ".venv";
  } else {
    c.launch.python = "python3";
    c.python_source = "PATH";
  }
  return c;
}

}  // namespace dlb::cli
