// A serving stack's process, started by dlbench: its argv (never a shell), its whole output in a
// log file that outlives it, started and ready once `health` answers 200 under the base URL, and
// stopped with its whole process group (SIGTERM, then SIGKILL after 10 s). `dlbench load --server`
// and the serving cells of an experiment both start servers through it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/fd.h"
#include "util/process.h"

namespace dlb::serve {

struct ServerLaunch {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // the whole environment, "NAME=value"
  std::string log_path;          // created or truncated
  std::string url, health;       // ready once url + health answers 200
  double startup_timeout_s = 120;
  std::string what;              // names the server in messages: `--server "CMD"`, `server llama-cpp`
};

class ServerProcess {
 public:
  // Starts it and waits until it is ready. Throws EnvError, one line naming the log, when it
  // cannot be started, exits first, or is not ready within the timeout or before Ctrl-C (stopped
  // then).
  explicit ServerProcess(const ServerLaunch& launch);
  ~ServerProcess() { Stop(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  void Stop();
  // How it ended, when it has within `grace` (it may die during the load; a process that has just
  // closed its sockets on its way out can take a moment to be reaped); nullopt while it runs.
  std::optional<ExitStatus> Exited(std::chrono::milliseconds grace);
  const std::string& log_path() const { return log_path_; }
  double startup_s() const { return startup_s_; }

 private:
  std::string log_path_;
  UniqueFd log_;
  std::optional<Subprocess> proc_;
  double startup_s_ = 0;
};

// The first `max_bytes` of a file, whole when shorter; "" when unreadable.
std::string FileHead(const std::string& path, size_t max_bytes);
// The last `max_bytes` of a file (a server's log), whole when shorter; "" when unreadable.
std::string FileTail(const std::string& path, size_t max_bytes);

}  // namespace dlb::serve
