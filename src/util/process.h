// Child processes for workers: fork and exec with an explicit argv (never a shell), the child in
// its own process group so that a terminal's Ctrl-C reaches only the controller and a kill reaches
// the worker and everything it started (ninja's subprocess-posix.cc; pyperf's popen_killer). No
// child outlives the controller: each gets PR_SET_PDEATHSIG, and a watchdog process kills the
// groups of a controller that died without reaping them (SIGKILL included).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/fd.h"
#include "util/limits.h"

namespace dlb {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH
  std::vector<std::string> env;   // the child's whole environment, "NAME=value"
  int stdin_fd = -1;              // child ends; -1 means /dev/null
  int stdout_fd = -1;
  int stderr_fd = -1;
};

struct ExitStatus {
  int exit_code = -1;    // set when the process exited
  int term_signal = 0;   // set when a signal ended it
  int64_t max_rss_bytes = 0;  // ru_maxrss of the child from wait4
  // "exit status 3", "killed by signal 11 (Segmentation fault)"
  std::string Describe() const;
};

class Subprocess {
 public:
  // Throws EnvError naming argv[0] when the program cannot be started. Call it from the thread
  // that will reap the child: PR_SET_PDEATHSIG fires when the spawning thread ends.
  static Subprocess Spawn(const SpawnSpec& spec);

  Subprocess(Subprocess&& o) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  Subprocess(const Subprocess&) = delete;
  ~Subprocess();  // kills the group and reaps if still running

  pid_t pid() const { return pid_; }
  bool reaped() const { return pid_ < 0; }

  // Sends sig to the whole process group.
  void KillGroup(int sig);
  // Waits for the child; after a kill this returns promptly.
  ExitStatus Wait();
  // Waits up to timeout for the child to exit on its own.
  std::optional<ExitStatus> WaitFor(std::chrono::milliseconds timeout);

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_;  // -1 once reaped
};

// Where exec would find `name`: itself when it holds a '/', else the first executable regular
// file of that name on PATH; nullopt when there is none.
std::optional<std::string> FindOnPath(const std::string& name);

// The controller's own environment as "NAME=value" strings.
std::vector<std::string> CurrentEnvironment();

// Replaces or adds NAME=value in env.
void SetEnv(std::vector<std::string>& env, const std::string& name, const std::string& value);

// Reads newline-terminated lines from a descriptor, each read bounded by a deadline and woken early
// by the interrupt descriptor (a self-pipe written by the SIGINT handler).
class LineReader {
 public:
  enum class Status { kLine, kEof, kTimeout, kInterrupted, kTooLong, kError };
  struct Result {
    Status status;
    std::string line;  // without the newline, for kLine
  };
  explicit LineReader(int fd, size_t max_line_bytes = kMaxReplyBytes)
      : fd_(fd), max_line_bytes_(max_line_bytes) {}
  Result ReadLine(std::chrono::steady_clock::time_point deadline, int interrupt_fd);

 private:
  int fd_;
  size_t max_line_bytes_;
  std::string buffer_;
  size_t scanned_ = 0;  // buffer_[0, scanned_) holds no newline
};

}  // namespace dlb
