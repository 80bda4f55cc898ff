#include "util/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
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

ExitStatus FromWaitStatus(int status, const rusage& ru) {
  ExitStatus st;
  if (WIFEXITED(status)) st.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) st.term_signal = WTERMSIG(status);
  st.max_rss_bytes = static_cast<int64_t>(ru.ru_maxrss) * 1024;
  return st;
}

// argv[0] looked up on the controller's PATH as execvp would, but before fork: between fork and
// exec the child of a threaded process may only make async-signal-safe calls, and execvp is not one.
// The first executable regular file `name` on PATH; nullopt when there is none, with
// *first_error ENOENT, or EACCES when one was found but is not executable.
std::optional<std::string> SearchPath(const std::string& name, int* first_error) {
  const char* path = std::getenv("PATH");
  std::string dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  *first_error = ENOENT;
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    struct stat st{};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
      *first_error = EACCES;
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::string FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  int first_error = ENOENT;
  if (auto found = SearchPath(name, &first_error)) return *found;
  throw EnvError("cannot start " + name + ": " + std::strerror(first_error));
}

// Reports errno to the parent through error_fd and exits as a shell does for a failed exec.
[[noreturn]] void ChildFail(int error_fd) {
  int e = errno;
  (void)!::write(error_fd, &e, sizeof e);
  ::_exit(127);
}

// The child's side of Spawn, between fork and exec: async-signal-safe calls only.
[[noreturn]] void ExecChild(const char* program, char* const* argv, char* const* envp,
                            const int (&fds)[3], pid_t parent, int error_fd) {
  auto fail = [error_fd] { ChildFail(error_fd); };
  if (::setpgid(0, 0) != 0) fail();  // its own process group
  // Dies with the controller, even a SIGKILLed one. The signal survives exec (not setuid ones),
  // so it covers the worker and every launch prefix that execs it (taskset, numactl, env, nice).
  // A prefix that forks instead is covered by the watchdog.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail();
  if (::getppid() != parent) ::_exit(127);  // the controller died before prctl took effect
  for (int to = 0; to < 3; ++to) {
    int from = fds[to];
    if (from < 0) {
      from = ::open("/dev/null", to == 0 ? O_RDONLY : O_WRONLY);
      if (from < 0) fail();
    }
    if (from != to && ::dup2(from, to) < 0) fail();  // dup2 clears O_CLOEXEC on the target
  }
  for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGQUIT, SIGHUP, SIGXFSZ}) ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(program, argv, envp);
  ChildFail(error_fd);
}

// One process per controller, started with the first worker, that outlives the controller: it
// holds the read end of a pipe whose only writer is the controller, so a controller that dies in
// any way (SIGKILL included) closes it. The controller tells it "+PGID" for every worker group it
// starts and "-PGID" once it has reaped one; at end of file it sends SIGKILL to the groups still
// listed, then exits. It reaches what PR_SET_PDEATHSIG cannot: the worker behind a launch prefix
// that forks rather than execs (a shell script, srun), and anything the worker started.
class Watchdog {
 public:
  static Watchdog& Get() {
    static Watchdog w;
    return w;
  }
  void Watch(pid_t pgid) { Send('+', pgid); }
  void Forget(pid_t pgid) { Send('-', pgid); }

 private:
  Watchdog() {
    Pipe p = MakePipe();
    pid_t pid = ::fork();
    if (pid < 0) throw EnvError(std::string("cannot start the worker watchdog: ") + std::strerror(errno));
    if (pid == 0) Serve(p.read.get());
    write_ = std::move(p.write);
  }

  void Send(char op, pid_t pgid) {
    if (!write_.valid()) return;
    char line[32];
    int n = std::snprintf(line, sizeof line, "%c%d\n", op, static_cast<int>(pgid));
    (void)WriteAll(write_.get(), std::string_view(line, static_cast<size_t>(n)));
  }

  // The watchdog process: async-signal-safe calls only (it is forked from a threaded process).
  [[noreturn]] static void Serve(int read_fd) {
    ::setsid();  // out of the controller's group: a signal to that group leaves the watchdog be
    ::prctl(PR_SET_NAME, "dlbench-watch");
    int null_fd = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; ++fd) ::dup2(null_fd, fd);  // holds no terminal and no pipe of ours
    ::dup2(read_fd, 3);
    if (::syscall(SYS_close_range, 4u, ~0u, 0u) != 0) {
      for (int fd = 4; fd < 65536; ++fd) ::close(fd);
    }
    constexpr int kMaxGroups = 256;
    pid_t groups[kMaxGroups] = {};
    char buf[512];
    int value = 0;
    char op = 0;
    while (true) {
      ssize_t n = ::read(3, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      for (ssize_t i = 0; i < n; ++i) {
        char c = buf[i];
        if (c == '+' || c == '-') {
          op = c;
          value = 0;
        } else if (c >= '0' && c <= '9') {
          value = value * 10 + (c - '0');
        } else if (c == '\n' && value > 0) {
          for (pid_t& g : groups) {
            if (op == '-' && g == value) {
              g = 0;
              break;
            }
            if (op == '+' && g == 0) {
              g = value;
              break;
            }
          }
        }
      }
    }
    for (pid_t g : groups) {
      if (g > 0) ::kill(-g, SIGKILL);
    }
    ::_exit(0);
  }

  UniqueFd write_;
};

}  // namespace

Subprocess Subprocess::Spawn(const SpawnSpec& spec) {
  DLB_CHECK(!spec.argv.empty()) << "empty argv";
  const std::string program = FindProgram(spec.argv[0]);
  std::vector<char*> argv, envp;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const int fds[3] = {spec.stdin_fd, spec.stdout_fd, spec.stderr_fd};

  Watchdog& watchdog = Watchdog::Get();  // started before the first worker exists
  Pipe exec_error = MakePipe();          // closed by a successful exec (O_CLOEXEC)
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw EnvError("cannot start " + spec.argv[0] + ": " + std::strerror(errno));
  if (pid == 0) ExecChild(program.c_str(), argv.data(), envp.data(), fds, parent, exec_error.write.get());
  ::setpgid(pid, pid);  // also here, so that a kill right after Spawn finds the group
  exec_error.write.Reset();
  int child_errno = 0;
  ssize_t n;
  while ((n = ::read(exec_error.read.get(), &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
  }
  if (n > 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw EnvError("cannot start " + spec.argv[0] + ": " + std::strerror(child_errno));
  }
  watchdog.Watch(pid);
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
  Watchdog::Get().Forget(std::exchange(pid_, -1));
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
      Watchdog::Get().Forget(std::exchange(pid_, -1));
      return FromWaitStatus(status, ru);
    }
    DLB_CHECK(r == 0 || errno == EINTR) << "wait4: " << std::strerror(errno);
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::optional<std::string> FindOnPath(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    struct stat st{};
    bool ok = ::stat(name.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(name.c_str(), X_OK) == 0;
    return ok ? std::optional<std::string>(name) : std::nullopt;
  }
  int ignored = 0;
  return SearchPath(name, &ignored);
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
    // Only the bytes that arrived since the last look are searched: a long line that comes in
    // 64 KiB reads costs linear time, not quadratic.
    size_t nl = buffer_.find('\n', scanned_);
    if (nl != std::string::npos) {
      Result r{Status::kLine, buffer_.substr(0, nl)};
      buffer_.erase(0, nl + 1);
      scanned_ = 0;
      return r;
    }
    scanned_ = buffer_.size();
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
