#include "run/worker.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "util/error.h"
#include "util/interrupt.h"

namespace dlb::run {

std::string_view ChannelFaultName(ChannelFault f) {
  switch (f) {
    case ChannelFault::kStartFailed: return "could not start";
    case ChannelFault::kTimeout: return "timed out";
    case ChannelFault::kExited: return "exited";
    case ChannelFault::kInterrupted: return "interrupted";
    case ChannelFault::kWriteFailed: return "could not be written to";
    case ChannelFault::kTooLong: return "sent an oversized reply";
  }
  return "?";
}

namespace {

UniqueFd MakeLogFile() {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp") + "/dlbench-worker-log-XXXXXX";
  int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) throw EnvError(fmt::format("cannot create a log file in {}: {}", path, std::strerror(errno)));
  ::unlink(path.c_str());
  return UniqueFd(fd);
}

}  // namespace

std::expected<WorkerProcess, std::string> WorkerProcess::Start(
    const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  Pipe to_worker = MakePipe();
  Pipe from_worker = MakePipe();
  UniqueFd log = MakeLogFile();
  SpawnSpec spec{argv, env, to_worker.read.get(), from_worker.write.get(), log.get()};
  try {
    Subprocess p = Subprocess::Spawn(spec);
    // The child holds its own copies; closing ours lets EOF reach each side when the other dies.
    to_worker.read.Reset();
    from_worker.write.Reset();
    return WorkerProcess(std::move(p), std::move(to_worker.write), std::move(from_worker.read),
                         std::move(log));
  } catch (const EnvError& e) {
    return std::unexpected(std::string(e.what()));
  }
}

std::expected<std::string, ChannelFault> WorkerProcess::Call(std::string_view request,
                                                             std::chrono::milliseconds timeout) {
  std::string line(request);
  line += '\n';
  if (!WriteAll(to_worker_.get(), line)) return std::unexpected(ChannelFault::kWriteFailed);
  return ReadLine(timeout);
}

std::expected<std::string, ChannelFault> WorkerProcess::ReadLine(std::chrono::milliseconds timeout) {
  auto r = reader_.ReadLine(std::chrono::steady_clock::now() + timeout, InterruptFd());
  switch (r.status) {
    case LineReader::Status::kLine: return std::move(r.line);
    case LineReader::Status::kTimeout: return std::unexpected(ChannelFault::kTimeout);
    case LineReader::Status::kInterrupted: return std::unexpected(ChannelFault::kInterrupted);
    case LineReader::Status::kTooLong: return std::unexpected(ChannelFault::kTooLong);
    case LineReader::Status::kEof:
    case LineReader::Status::kError: return std::unexpected(ChannelFault::kExited);
  }
  return std::unexpected(ChannelFault::kExited);
}

ExitStatus WorkerProcess::Finish(std::chrono::milliseconds grace) {
  to_worker_.Reset();  // EOF on stdin also tells the worker to leave
  if (auto st = process_.WaitFor(grace)) {
    process_.KillGroup(SIGKILL);  // anything it left behind in its group
    return *st;
  }
  return Kill();
}

ExitStatus WorkerProcess::Kill() {
  killed_ = true;
  process_.KillGroup(SIGKILL);
  return process_.Wait();
}

std::string WorkerProcess::Log(size_t max_bytes) const {
  struct stat st{};
  if (::fstat(log_.get(), &st) != 0 || st.st_size <= 0) return {};
  auto size = static_cast<size_t>(st.st_size);
  auto read_at = [&](size_t offset, size_t len) {
    std::string buf(len, '\0');
    ssize_t n = ::pread(log_.get(), buf.data(), len, static_cast<off_t>(offset));
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  };
  if (size <= max_bytes) return read_at(0, size);
  size_t head = max_bytes / 16;
  size_t tail = max_bytes - head;
  return read_at(0, head) +
         fmt::format("\n[... {} bytes of the log omitted ...]\n", size - head - tail) +
         read_at(size - tail, tail);
}

}  // namespace dlb::run
