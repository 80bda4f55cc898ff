#include "probe/contention.h"

#include <dirent.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <charconv>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "util/strings.h"

namespace dlb::probe {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string_view> Fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\n') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    if (j < s.size() && s[j] == '\n') break;
    i = j;
  }
  return out;
}

template <typename T>
std::optional<T> Number(std::string_view s) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> LoadAverage1m() {
  auto text = ReadFile("/proc/loadavg");
  if (!text) return std::nullopt;
  auto f = Fields(*text);
  if (f.empty()) return std::nullopt;
  try {
    return std::stod(std::string(f[0]));
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<uint64_t> ProcessTicks(const std::string& pid, pid_t* pgrp = nullptr) {
  auto text = ReadFile("/proc/" + pid + "/stat");
  if (!text) return std::nullopt;
  return ParseProcessTicks(*text, pgrp);
}

// CPU ticks of every process in a process group: the worker and whatever it started (compile
// workers), found by scanning /proc.
uint64_t GroupTicks(pid_t pgid) {
  uint64_t sum = 0;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    pid_t pgrp = -1;
    if (auto t = ProcessTicks(e->d_name, &pgrp); t && pgrp == pgid) sum += *t;
  }
  ::closedir(d);
  return sum;
}

std::vector<int> AffinityOf(pid_t pid) {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> out;
  if (::sched_getaffinity(pid, sizeof set, &set) != 0) return out;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) out.push_back(c);
  }
  return out;
}

}  // namespace

std::vector<CpuTicks> ParseProcStat(std::string_view text) {
  std::vector<CpuTicks> out;
  for (const std::string& text_line : Split(text, '\n')) {
    std::string_view line = text_line;
    if (line.size() < 4 || line.substr(0, 3) != "cpu" || line[3] < '0' || line[3] > '9') continue;
    auto f = Fields(line);
    if (f.size() < 9) continue;  // cpuN user nice system idle iowait irq softirq steal
    auto cpu = Number<int>(f[0].substr(3));
    std::vector<uint64_t> v;
    for (size_t i = 1; i < f.size() && i <= 8; ++i) {
      auto n = Number<uint64_t>(f[i]);
      if (!n) break;
      v.push_back(*n);
    }
    if (!cpu || v.size() < 8) continue;
    CpuTicks t;
    t.cpu = *cpu;
    t.busy = v[0] + v[1] + v[2] + v[5] + v[6];
    t.steal = v[7];
    t.total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
    out.push_back(t);
  }
  return out;
}

std::optional<uint64_t> ParseProcessTicks(std::string_view line, pid_t* pgrp) {
  size_t close = line.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  auto f = Fields(line.substr(close + 1));
  // After ")": state(3) ppid(4) pgrp(5) ... utime(14) stime(15): indices 0, 1, 2, ..., 11, 12.
  if (f.size() < 13) return std::nullopt;
  auto utime = Number<uint64_t>(f[11]);
  auto stime = Number<uint64_t>(f[12]);
  if (!utime || !stime) return std::nullopt;
  if (pgrp != nullptr) {
    auto g = Number<pid_t>(f[2]);
    if (!g) return std::nullopt;
    *pgrp = *g;
  }
  return *utime + *stime;
}

std::vector<int> ParseCpuList(std::string_view text) {
  std::vector<int> out;
  for (const std::string& text_part : Split(text, ',')) {
    std::string_view part = text_part;
    while (!part.empty() && (part.back() == '\n' || part.back() == ' ')) part.remove_suffix(1);
    if (part.empty()) continue;
    size_t dash = part.find('-');
    auto lo = Number<int>(part.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : Number<int>(part.substr(dash + 1));
    if (!lo || !hi || *hi < *lo) return {};
    for (int c = *lo; c <= *hi; ++c) out.push_back(c);
  }
  return out;
}

std::optional<ContentionMeter::Snapshot> ContentionMeter::Take() const {
  auto stat = ReadFile("/proc/stat");
  auto self = ProcessTicks("self");
  if (!stat || !self) return std::nullopt;
  Snapshot s;
  s.wall_ns = NowNs();
  s.cpus = ParseProcStat(*stat);
  s.group_ticks = GroupTicks(pgid_);
  s.self_ticks = *self;
  if (s.cpus.empty()) return std::nullopt;
  return s;
}

void ContentionMeter::Begin(pid_t worker_pgid) {
  pgid_ = worker_pgid;
  allowed_ = AffinityOf(worker_pgid);
  std::vector<int> mine = AffinityOf(0);
  self_on_worker_cpus_ = std::any_of(mine.begin(), mine.end(), [&](int c) {
    return std::find(allowed_.begin(), allowed_.end(), c) != allowed_.end();
  });
  load_ = LoadAverage1m();
  begin_ = allowed_.empty() ? std::nullopt : Take();
  result_.reset();
}

void ContentionMeter::End() {
  if (!begin_) return;
  auto end = Take();
  if (!end) return;
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double wall_s = static_cast<double>(end->wall_ns - begin_->wall_ns) * 1e-9;
  if (!(wall_s > 0) || !(hz > 0)) return;
  uint64_t busy = 0, steal = 0;
  int cpus = 0;
  for (int c : allowed_) {
    auto find = [c](const std::vector<CpuTicks>& v) {
      return std::find_if(v.begin(), v.end(), [c](const CpuTicks& t) { return t.cpu == c; });
    };
    auto a = find(begin_->cpus), b = find(end->cpus);
    if (a == begin_->cpus.end() || b == end->cpus.end()) continue;
    busy += b->busy - a->busy;
    steal += b->steal - a->steal;
    ++cpus;
  }
  if (cpus == 0) return;
  double ours = static_cast<double>(end->group_ticks - std::min(end->group_ticks, begin_->group_ticks));
  if (self_on_worker_cpus_) ours += static_cast<double>(end->self_ticks - begin_->self_ticks);
  const double capacity = wall_s * hz * cpus;
  Contention r;
  r.cpus = cpus;
  r.other_cpu_frac = std::clamp((static_cast<double>(busy) - ours) / capacity, 0.0, 1.0);
  r.steal_frac = std::clamp(static_cast<double>(steal) / capacity, 0.0, 1.0);
  r.load_avg_1m = load_;
  r.contaminated = r.other_cpu_frac > kContaminationThreshold || r.steal_frac > kContaminationThreshold;
  result_ = r;
}

std::optional<BusyMachine> SampleMachineBusy(double seconds) {
  auto a = ReadFile("/proc/stat");
  auto self_a = ProcessTicks("self");
  int64_t t0 = NowNs();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  auto b = ReadFile("/proc/stat");
  auto self_b = ProcessTicks("self");
  int64_t t1 = NowNs();
  if (!a || !b || !self_a || !self_b) return std::nullopt;
  auto ca = ParseProcStat(*a), cb = ParseProcStat(*b);
  if (ca.empty() || ca.size() != cb.size()) return std::nullopt;
  uint64_t busy = 0;
  for (size_t i = 0; i < ca.size(); ++i) busy += (cb[i].busy + cb[i].steal) - (ca[i].busy + ca[i].steal);
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double capacity = static_cast<double>(t1 - t0) * 1e-9 * hz * static_cast<double>(ca.size());
  BusyMachine m;
  m.cpus = static_cast<int>(ca.size());
  m.busy_frac = std::clamp((static_cast<double>(busy) - static_cast<double>(*self_b - *self_a)) / capacity, 0.0, 1.0);
  m.load_avg_1m = LoadAverage1m().value_or(0);
  return m;
}

std::string BusyMachineWarning(const BusyMachine& b, double seconds) {
  if (b.busy_frac <= 0.2) return "";
  return fmt::format(
      "the machine is busy: other processes used {:.0f}% of its {} CPUs over {:g} s (load average "
      "{:.1f}); timings will be slower and noisier, and repetitions measured beside them are "
      "flagged as contaminated",
      b.busy_frac * 100, b.cpus, seconds, b.load_avg_1m);
}

}  // namespace dlb::probe
