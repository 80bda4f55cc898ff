#include "util/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "util/error.h"

extern char** environ;

namespace dlb {

std::string ExitStatus::Describe() const {
  if (term_signal != 0) {
    const char* name = ::strsignal(term_signal);
    return "killed by signal " + std::to_string(term_signal) + " (" + (name ? name : "?") + ")";
  }
  return "exit status " + std::to_string(exit_code);
}

namespace {

class SpawnActions {
 public:
  SpawnActions() { posix_spawn_file_actions_init(&fa_); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&fa_); }
  posix_spawn_file_actions_t* get() { return &fa_; }

 private:
  posix_spawn_file_actions_t fa_;
};

class SpawnAttr {
 public:
  SpawnAttr() { posix_spawnattr_init(&attr_); }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr_); }
  posix_spawnattr_t* get() { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

void MapFd(posix_spawn_file_actions_t* fa, int from, int to) {
  if (from < 0) {
    posix_spawn_file_actions_addopen(fa, to, "/dev/null", to == 0 ? O_RDONLY : O_WRONLY, 0);
  } else {
    posix_spawn_file_actions_adddup2(fa, from, to);  // dup2 clears O_CLOEXEC on the target
  }
}

ExitStatus FromWaitStatus(int status, const rusage& ru) {
  ExitStatus st;
  if (WIFEXITED(status)) st.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) st.term_signal = WTERMSIG(status);
  st.max_rss_bytes = static_cast<int64_t>(ru.ru_maxrss) * 1024;
  return st;
}

}  // namespace

Subprocess Subprocess::Spawn(const SpawnSpec& spec) {
  DLB_CHECK(!spec.argv.empty()) << "empty argv";
  SpawnActions fa;
  MapFd(fa.get(), spec.stdin_fd, 0);
  MapFd(fa.get(), spec.stdout_fd, 1);
  MapFd(fa.get(), spec.stderr_fd, 2);

  SpawnAttr attr;
  sigset_t no_signals, default_signals;
  sigemptyset(&no_signals);
  sigemptyset(&default_signals);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGQUIT, SIGHUP}) sigaddset(&default_signals, sig);
  posix_spawnattr_setsigmask(attr.get(), &no_signals);
  posix_spawnattr_setsigdefault(attr.get(), &default_signals);
  posix_spawnattr_setpgroup(attr.get(), 0);  // its own process group
  posix_spawnattr_setflags(attr.get(),
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv, envp;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0], fa.get(), attr.get(), argv.data(), envp.data());
  if (rc != 0) {
    throw EnvError("cannot start " + spec.argv[0] + ": " + std::strerror(rc));
  }
  return Subprocess(pid);
}

Subprocess::Subprocess(Subprocess&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}

Subprocess::~Subprocess() {
  if (pid_ > 0) {
    KillGroup(SIGKILL);
    Wait();
  }
}

void Subprocess::KillGroup(int sig) {
  if (pid_ > 0) {
    ::kill(-pid_, sig);  // the group, whose id is the child's pid
    ::kill(pid_, sig);   // and the child itself, should it have left the group
  }
}

ExitStatus Subprocess::Wait() {
  DLB_CHECK(pid_ > 0) << "wait on a reaped process";
  int status = 0;
  rusage ru{};
  while (::wait4(pid_, &status, 0, &ru) < 0) {
    DLB_CHECK(errno == EINTR) << "wait4: " << std::strerror(errno);
  }
  pid_ = -1;
  return FromWaitStatus(status, ru);
}

std::optional<ExitStatus> Subprocess::WaitFor(std::chrono::milliseconds timeout) {
  DLB_CHECK(pid_ > 0) << "wait on a reaped process";
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    rusage ru{};
    pid_t r = ::wait4(pid_, &status, WNOHANG, &ru);
    if (r == pid_) {
      pid_ = -1;
      return FromWaitStatus(status, ru);
    }
    DLB_CHECK(r == 0 || errno == EINTR) << "wait4: " << std::strerror(errno);
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::vector<std::string> CurrentEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return env;
}

void SetEnv(std::vector<std::string>& env, const std::string& name, const std::string& value) {
  std::string prefix = name + "=";
  for (auto& e : env) {
    if (e.compare(0, prefix.size(), prefix) == 0) {
      e = prefix + value;
      return;
    }
  }
  env.push_back(prefix + value);
}

LineReader::Result LineReader::ReadLine(std::chrono::steady_clock::time_point deadline,
                                        int interrupt_fd) {
  while (true) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      Result r{Status::kLine, buffer_.substr(0, nl)};
      buffer_.erase(0, nl + 1);
      return r;
    }
    if (buffer_.size() > max_line_bytes_) return {Status::kTooLong, {}};
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return {Status::kTimeout, {}};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    pollfd fds[2] = {{fd_, POLLIN, 0}, {interrupt_fd, POLLIN, 0}};
    int nfds = interrupt_fd >= 0 ? 2 : 1;
    int rc = ::poll(fds, nfds, static_cast<int>(std::min<int64_t>(left + 1, 60'000)));
    if (rc < 0) {
      if (errno == EINTR) continue;
      return {Status::kError, std::strerror(errno)};
    }
    if (nfds == 2 && (fds[1].revents & POLLIN)) return {Status::kInterrupted, {}};
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[65536];
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return {Status::kError, std::strerror(errno)};
      }
      if (n == 0) return {Status::kEof, std::move(buffer_)};
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }
}

}  // namespace dlb
