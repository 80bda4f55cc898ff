#include "report/gnuplot.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/error.h"
#include "util/process.h"
#include "util/strings.h"

namespace dlb::report {

namespace fs = std::filesystem;

void RequireGnuplot() {
  if (FindOnPath("gnuplot")) return;
  throw EnvError(
      "gnuplot not found on PATH; dlbench report draws its plots with it: install the Debian "
      "package gnuplot-nox (apt-get install gnuplot-nox, or scripts/setup.sh)");
}

void RunGnuplot(const fs::path& dir, const std::string& script_name) {
  fs::path err_path = dir / "gnuplot.stderr";
  int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (err_fd < 0)
    throw EnvError(fmt::format("cannot create {}: {}", err_path.string(), strerror(errno)));
  SpawnSpec spec;
  spec.argv = {"gnuplot", (dir / script_name).string()};
  spec.env = CurrentEnvironment();
  spec.stdout_fd = err_fd;
  spec.stderr_fd = err_fd;
  ExitStatus status;
  try {
    auto child = Subprocess::Spawn(spec);
    close(err_fd);
    status = child.Wait();
  } catch (...) {
    close(err_fd);
    throw;
  }
  if (status.exit_code == 0) return;
  std::ifstream in(err_path);
  std::string line, first;
  while (std::getline(in, line)) {
    if (line.find("rror") != std::string::npos || line.find("line ") != std::string::npos) {
      first = line;
      break;
    }
    if (first.empty() && !Trim(line).empty()) first = line;
  }
  throw EnvError(
      fmt::format("gnuplot failed ({}) on {}: {}", status.Describe(), script_name, first));
}

}  // namespace dlb::report
