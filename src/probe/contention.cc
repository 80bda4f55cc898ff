#include "probe/contention.h"

#include <dirent.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <charconv>
#include <fstream>
#include <sstream>
#include <cstdlib>
#include <thread>
#include <unordered_set>

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

std::optional<ProcessStat> ReadProcessStat(const std::string& pid) {
  auto text = ReadFile("/proc/" + pid + "/stat");
  if (!text) return std::nullopt;
  return ParseProcessStat(*text);
}

// Calls member(pid, stat) for every process of a process group: the worker and whatever it
// started (compile workers), found by scanning /proc. `others` holds the pids already seen outside
// the group, whose stat files are not read again: a scan then costs a directory listing and the
// group's own files, not one read per process on the machine (a pid reused by a new member of the
// group within one repetition would be missed). Returns false when /proc cannot be listed.
template <typename Member>
bool ForEachGroupProcess(pid_t pgid, std::unordered_set<pid_t>& others, Member&& member) {
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return false;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const pid_t pid = static_cast<pid_t>(std::strtol(e->d_name, nullptr, 10));
    if (others.count(pid)) continue;
    if (auto t = ReadProcessStat(e->d_name)) {
      if (t->pgrp != pgid) {
        others.insert(pid);
        continue;
      }
      member(e->d_name, *t);
    }
  }
  ::closedir(d);
  return true;
}

// CPU ticks and minor faults of every process in a process group.
ProcessStat GroupStat(pid_t pgid, std::unordered_set<pid_t>& others) {
  ProcessStat sum;
  ForEachGroupProcess(pgid, others, [&](const char*, const ProcessStat& t) {
    sum.ticks += t.ticks;
    sum.minor_faults += t.minor_faults;
  });
  return sum;
}

}  // namespace

std::optional<ContextSwitches> ParseContextSwitches(std::string_view status) {
  std::optional<uint64_t> voluntary, involuntary;
  while (!status.empty()) {
    const size_t nl = status.find('\n');
    const std::string_view line = status.substr(0, nl);
    status.remove_prefix(nl == std::string_view::npos ? status.size() : nl + 1);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, colon);
    if (key != "voluntary_ctxt_switches" && key != "nonvoluntary_ctxt_switches") continue;
    const auto f = Fields(line.substr(colon + 1));
    if (f.size() != 1) return std::nullopt;
    auto v = Number<uint64_t>(f[0]);
    if (!v) return std::nullopt;
    (key == "voluntary_ctxt_switches" ? voluntary : involuntary) = *v;
  }
  if (!voluntary || !involuntary) return std::nullopt;
  return ContextSwitches{*voluntary, *involuntary};
}

namespace {

// GroupContextSwitches with the meter's cache of pids outside the group (ForEachGroupProcess).
std::optional<ContextSwitches> GroupContextSwitches(pid_t pgid, std::unordered_set<pid_t>& others) {
  ContextSwitches sum;
  bool found = false;
  ForEachGroupProcess(pgid, others, [&](const char* pid, const ProcessStat&) {
    const std::string tasks = fmt::format("/proc/{}/task", pid);
    DIR* t = ::opendir(tasks.c_str());
    if (t == nullptr) return;
    while (dirent* te = ::readdir(t)) {
      if (te->d_name[0] < '0' || te->d_name[0] > '9') continue;
      auto text = ReadFile(fmt::format("{}/{}/status", tasks, te->d_name));
      if (auto c = text ? ParseContextSwitches(*text) : std::nullopt) {
        sum.voluntary += c->voluntary;
        sum.involuntary += c->involuntary;
        found = true;
      }
    }
    ::closedir(t);
  });
  if (!found) return std::nullopt;
  return sum;
}

}  // namespace

std::optional<ContextSwitches> GroupContextSwitches(pid_t pgid) {
  std::unordered_set<pid_t> others;
  return GroupContextSwitches(pgid, others);
}

namespace {

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

std::optional<ProcessStat> ParseProcessStat(std::string_view line) {
  size_t close = line.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  auto f = Fields(line.substr(close + 1));
  // After ")": state(3) ppid(4) pgrp(5) ... minflt(10) ... utime(14) stime(15): indices 0, 1, 2,
  // ..., 7, ..., 11, 12.
  if (f.size() < 13) return std::nullopt;
  auto pgrp = Number<pid_t>(f[2]);
  auto minflt = Number<uint64_t>(f[7]);
  auto utime = Number<uint64_t>(f[11]);
  auto stime = Number<uint64_t>(f[12]);
  if (!pgrp || !minflt || !utime || !stime) return std::nullopt;
  return ProcessStat{*pgrp, *minflt, *utime + *stime};
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

bool AboveThreshold(double fraction, double capacity_ticks, int cpus, double threshold) {
  if (!(capacity_ticks > 0)) return false;
  const double resolution = static_cast<double>(cpus + 2) / capacity_ticks;
  return fraction - resolution > threshold;
}

std::optional<Contention> ContentionBetween(const ProcSnapshot& a, const ProcSnapshot& b,
                                            const std::vector<int>& cpus, bool count_self,
                                            double ticks_per_s, double threshold) {
  const double wall_s = static_cast<double>(b.wall_ns - a.wall_ns) * 1e-9;
  if (!(wall_s > 0) || !(ticks_per_s > 0)) return std::nullopt;
  uint64_t busy = 0, steal = 0;
  int n = 0;
  std::vector<int> read;
  auto find = [](const std::vector<CpuTicks>& v, int c) {
    return std::find_if(v.begin(), v.end(), [c](const CpuTicks& t) { return t.cpu == c; });
  };
  for (int c : cpus) {
    auto x = find(a.cpus, c), y = find(b.cpus, c);
    if (x == a.cpus.end() || y == b.cpus.end()) continue;
    busy += y->busy - std::min(y->busy, x->busy);
    steal += y->steal - std::min(y->steal, x->steal);
    ++n;
    read.push_back(c);
  }
  if (n == 0) return std::nullopt;
  double ours = static_cast<double>(b.group_ticks - std::min(b.group_ticks, a.group_ticks));
  if (count_self) ours += static_cast<double>(b.self_ticks - std::min(b.self_ticks, a.self_ticks));
  Contention r;
  r.cpus = n;
  r.cpu_list = std::move(read);
  r.capacity_ticks = wall_s * ticks_per_s * n;
  r.other_cpu_frac = std::clamp((static_cast<double>(busy) - ours) / r.capacity_ticks, 0.0, 1.0);
  r.steal_frac = std::clamp(static_cast<double>(steal) / r.capacity_ticks, 0.0, 1.0);
  r.minor_faults = b.group_minor_faults - std::min(b.group_minor_faults, a.group_minor_faults);
  r.contaminated = AboveThreshold(r.other_cpu_frac, r.capacity_ticks, n, threshold) ||
                   AboveThreshold(r.steal_frac, r.capacity_ticks, n, threshold);
  return r;
}

std::optional<ProcSnapshot> ContentionMeter::Take() {
  auto stat = ReadFile("/proc/stat");
  auto self = ReadProcessStat("self");
  if (!stat || !self) return std::nullopt;
  ProcSnapshot s;
  s.wall_ns = NowNs();
  s.cpus = ParseProcStat(*stat);
  const ProcessStat group = GroupStat(pgid_, others_);
  s.group_ticks = group.ticks;
  s.group_minor_faults = group.minor_faults;
  s.self_ticks = self->ticks;
  if (s.cpus.empty()) return std::nullopt;
  return s;
}

void ContentionMeter::Begin(pid_t worker_pgid, double threshold) {
  pgid_ = worker_pgid;
  threshold_ = threshold;
  others_.clear();
  allowed_ = AffinityOf(worker_pgid);
  std::vector<int> mine = AffinityOf(0);
  self_on_worker_cpus_ = std::any_of(mine.begin(), mine.end(), [&](int c) {
    return std::find(allowed_.begin(), allowed_.end(), c) != allowed_.end();
  });
  load_ = LoadAverage1m();
  begin_ = allowed_.empty() ? std::nullopt : Take();  // fills others_, which the next read skips
  switches_at_begin_ = GroupContextSwitches(worker_pgid, others_);
  last_ = begin_;
  result_.reset();
}

std::optional<Contention> ContentionMeter::Mark() {
  if (!last_) return std::nullopt;
  auto now = Take();
  if (!now) return std::nullopt;
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  auto r = ContentionBetween(*last_, *now, allowed_, self_on_worker_cpus_, hz, threshold_);
  last_ = std::move(now);
  return r;
}

void ContentionMeter::End() {
  if (!begin_) return;
  auto end = Take();
  if (!end) return;
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  result_ = ContentionBetween(*begin_, *end, allowed_, self_on_worker_cpus_, hz, threshold_);
  if (!result_) return;
  result_->load_avg_1m = load_;
  const auto switches = GroupContextSwitches(pgid_, others_);
  if (switches && switches_at_begin_ && switches->voluntary >= switches_at_begin_->voluntary &&
      switches->involuntary >= switches_at_begin_->involuntary) {
    result_->voluntary_switches = static_cast<int64_t>(switches->voluntary - switches_at_begin_->voluntary);
    result_->involuntary_switches = static_cast<int64_t>(switches->involuntary - switches_at_begin_->involuntary);
  }
}

std::optional<Contention> SampleCpus(const std::vector<int>& cpus, double seconds, double threshold) {
  auto snapshot = []() -> std::optional<ProcSnapshot> {
    auto stat = ReadFile("/proc/stat");
    auto self = ReadProcessStat("self");
    if (!stat || !self) return std::nullopt;
    ProcSnapshot s{ParseProcStat(*stat), 0, self->ticks, NowNs(), 0};
    if (s.cpus.empty()) return std::nullopt;
    return s;
  };
  auto a = snapshot();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  auto b = snapshot();
  if (!a || !b) return std::nullopt;
  std::vector<int> watched = cpus;
  if (watched.empty()) {
    for (const auto& t : a->cpus) watched.push_back(t.cpu);
  }
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  auto r = ContentionBetween(*a, *b, watched, /*count_self=*/true, hz, threshold);
  if (r) r->load_avg_1m = LoadAverage1m();
  return r;
}

std::optional<BusyMachine> SampleMachineBusy(double seconds) {
  auto c = SampleCpus({}, seconds);
  if (!c) return std::nullopt;
  BusyMachine m;
  m.cpus = c->cpus;
  m.busy_frac = std::min(1.0, c->other_cpu_frac + c->steal_frac);
  m.load_avg_1m = c->load_avg_1m.value_or(0);
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
