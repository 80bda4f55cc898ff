// One worker process: spawned with an explicit argv (launch prefix + worker command) in its own
// process group, requests on its stdin, replies on its stdout, stderr into an unlinked temporary
// file that becomes the repetition's log. Every read has a deadline and wakes on Ctrl-C.
#pragma once

#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/fd.h"
#include "util/process.h"

namespace dlb::run {

enum class ChannelFault {
  kStartFailed,  // the program could not be started
  kTimeout,      // no reply before the deadline
  kExited,       // the worker closed its reply stream (died or exited)
  kInterrupted,  // the user pressed Ctrl-C
  kWriteFailed,  // the request could not be written (the worker is gone)
  kTooLong,      // a reply line beyond any sane size
};
std::string_view ChannelFaultName(ChannelFault f);

class WorkerProcess {
 public:
  // Starts argv with env; on failure returns the reason (a missing launcher such as numactl is a
  // failed repetition, not a failed run).
  static std::expected<WorkerProcess, std::string> Start(const std::vector<std::string>& argv,
                                                         const std::vector<std::string>& env);

  WorkerProcess(WorkerProcess&&) = default;
  ~WorkerProcess() = default;  // Subprocess's destructor kills the group and reaps

  // Writes one request line and waits up to timeout for one reply line.
  std::expected<std::string, ChannelFault> Call(std::string_view request,
                                                std::chrono::milliseconds timeout);

  // Waits up to timeout for one line without sending anything (a worker that speaks first, as
  // `--capabilities` does).
  std::expected<std::string, ChannelFault> ReadLine(std::chrono::milliseconds timeout);
  // After bye: waits briefly for a clean exit, then kills. Always reaps.
  ExitStatus Finish(std::chrono::milliseconds grace);
  // Kills the whole process group now and reaps.
  ExitStatus Kill();

  // The worker's stderr so far: all of it up to max_bytes, else its head and tail with a marker.
  std::string Log(size_t max_bytes = 256 * 1024) const;

  pid_t pid() const { return process_.pid(); }
  // True once the controller has sent the SIGKILL (Kill, or Finish past its grace).
  bool killed() const { return killed_; }

 private:
  WorkerProcess(Subprocess p, UniqueFd to_worker, UniqueFd from_worker, UniqueFd log)
      : process_(std::move(p)),
        to_worker_(std::move(to_worker)),
        from_worker_(std::move(from_worker)),
        log_(std::move(log)),
        reader_(from_worker_.get()) {}

  Subprocess process_;
  UniqueFd to_worker_;
  UniqueFd from_worker_;
  UniqueFd log_;  // unlinked temporary file holding the worker's stderr
  LineReader reader_;
  bool killed_ = false;
};

}  // namespace dlb::run
