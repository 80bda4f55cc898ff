#include "serve/server_process.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>

#include <fmt/format.h>

#include "serve/client.h"
#include "util/error.h"
#include "util/interrupt.h"

namespace dlb::serve {

ServerProcess::ServerProcess(const ServerLaunch& launch) : log_path_(launch.log_path) {
  const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw EnvError(fmt::format("{}: cannot create its log {}", launch.what, log_path_));
  log_ = UniqueFd(fd);
  SpawnSpec spec;
  spec.argv = launch.argv;
  spec.env = launch.env;
  spec.stdout_fd = log_.get();
  spec.stderr_fd = log_.get();
  const auto t0 = std::chrono::steady_clock::now();
  proc_.emplace(Subprocess::Spawn(spec));
  const auto deadline = t0 + std::chrono::milliseconds(static_cast<int64_t>(launch.startup_timeout_s * 1000));
  for (;;) {
    if (auto st = proc_->WaitFor(std::chrono::milliseconds(0))) {
      proc_.reset();
      throw EnvError(fmt::format("{} exited ({}) before {}{} answered 200; its log: {}", launch.what,
                                 st->Describe(), launch.url, launch.health, log_path_));
    }
    if (HttpGetStatus(launch.url + launch.health, 2) == 200) break;
    if (std::chrono::steady_clock::now() > deadline || Interrupted()) {
      Stop();
      throw EnvError(fmt::format("{}: {}{} did not answer 200 within {} s{}; its log: {}", launch.what, launch.url,
                                 launch.health, launch.startup_timeout_s, Interrupted() ? " (interrupted)" : "",
                                 log_path_));
    }
    InterruptibleSleep(0.2);
  }
  startup_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void ServerProcess::Stop() {
  if (!proc_) return;
  proc_->KillGroup(SIGTERM);
  if (!proc_->WaitFor(std::chrono::seconds(10))) {
    proc_->KillGroup(SIGKILL);
    proc_->Wait();
  }
  proc_.reset();
}

std::optional<ExitStatus> ServerProcess::Exited(std::chrono::milliseconds grace) {
  if (!proc_) return std::nullopt;
  auto st = proc_->WaitFor(grace);
  if (st) proc_.reset();
  return st;
}

namespace {

// Up to `length` bytes of a file from `start`, and the file's size; nullopt when unreadable.
std::optional<std::pair<std::string, size_t>> ReadRange(const std::string& path, bool from_end, size_t length) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) return std::nullopt;
  const auto size = static_cast<size_t>(st.st_size);
  const size_t start = from_end && size > length ? size - length : 0;
  std::string out(std::min(length, size - start), '\0');
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::pread(fd.get(), out.data() + got, out.size() - got, static_cast<off_t>(start + got));
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return std::pair{std::move(out), start};
}

}  // namespace

std::string FileHead(const std::string& path, size_t max_bytes) {
  auto r = ReadRange(path, false, max_bytes);
  return r ? r->first : "";
}

std::string FileTail(const std::string& path, size_t max_bytes) {
  auto r = ReadRange(path, true, max_bytes);
  if (!r) return "";
  return r->second > 0 ? fmt::format("[... {} earlier bytes of the log left out]\n", r->second) + r->first : r->first;
}

}  // namespace dlb::serve
