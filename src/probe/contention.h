// Noisy neighbours: how much CPU time processes other than the worker (and this controller) took
// on the worker's CPUs while it was being timed, and how much the hypervisor stole. Read from
// /proc/stat (per-CPU busy and steal ticks), /proc/PID/stat (the worker's process group and the
// controller) and /proc/loadavg. On 2 cores, one busy neighbour made torch's ResNet-18 35x slower
// and nothing in the results said so; with this, such a repetition is flagged.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace dlb::probe {

// One CPU's cumulative ticks (USER_HZ) from a /proc/stat "cpuN" line.
struct CpuTicks {
  int cpu = -1;
  uint64_t busy = 0;   // user + nice + system + irq + softirq (guest time is inside user/nice)
  uint64_t steal = 0;
  uint64_t total = 0;  // every field but guest and guest_nice
};

// The per-CPU lines of a /proc/stat text (not the aggregate "cpu" line).
std::vector<CpuTicks> ParseProcStat(std::string_view text);

// What the controller reads of a /proc/PID/stat line (fields counted after the ")" that ends the
// command name, which may itself hold spaces and parentheses); nullopt when malformed.
struct ProcessStat {
  pid_t pgrp = -1;            // field 5
  uint64_t minor_faults = 0;  // field 10: page faults served without I/O (a fresh page, say)
  uint64_t ticks = 0;         // utime + stime, fields 14 and 15
};
std::optional<ProcessStat> ParseProcessStat(std::string_view stat_line);

// A CPU list as in /proc/PID/status Cpus_allowed_list or sysfs: "0-3,8,10-11".
std::vector<int> ParseCpuList(std::string_view text);

// The other processes' share of the worker's CPUs over a window.
struct Contention {
  double other_cpu_frac = 0;  // others' CPU time / (wall time x CPUs)
  double steal_frac = 0;      // stolen time / (wall time x CPUs)
  std::optional<double> load_avg_1m;  // at the window's start
  int cpus = 0;
  std::vector<int> cpu_list;  // the CPUs read
  double capacity_ticks = 0;  // wall time x CPUs in clock ticks: a fraction's resolution is 1 / this
  bool contaminated = false;  // either fraction above the threshold (AboveThreshold)
  // Not a neighbour's doing but read from the same snapshots: the minor page faults the worker's
  // process group took in the window. A call that maps fresh memory each time (glibc returning a
  // large buffer to the kernel after every call) shows thousands per call.
  uint64_t minor_faults = 0;
  // Set by ContentionMeter::End only: the context switches of the worker's threads over the timed
  // phases (GroupContextSwitches at Begin and at End); nullopt when unreadable, or when threads
  // that ended in between took more counts with them than the others added.
  std::optional<int64_t> voluntary_switches = {}, involuntary_switches = {};
};

// Context switches of a thread: voluntary (it blocked: I/O, a lock, a sleep) and involuntary (the
// scheduler took the CPU away: another runnable thread, or the end of its time slice). A worker
// that is preempted thousands of times per second is sharing its CPUs.
struct ContextSwitches {
  uint64_t voluntary = 0, involuntary = 0;
};
// The voluntary_ctxt_switches and nonvoluntary_ctxt_switches lines of a /proc/PID/task/TID/status
// text; nullopt when either is missing.
std::optional<ContextSwitches> ParseContextSwitches(std::string_view status);
// Their sum over every thread of every process in the process group; nullopt when /proc cannot
// be read or no thread of the group is found.
std::optional<ContextSwitches> GroupContextSwitches(pid_t pgid);

// The contamination rule, the one rule for a chunk, a whole repetition and the quiet gate: a
// fraction is above the threshold only when it stays above after taking off what the counters'
// resolution can add. /proc/stat counts whole clock ticks (USER_HZ, 100 a second) per CPU, and a
// process's CPU time is read in whole ticks too, so each of the `cpus` per-CPU counters and the two
// process counters subtracted from them (the worker's group and the controller) may be off by one
// tick: over a 0.25-s chunk on 2 CPUs (50 ticks) that is up to 8%, over a 5-s repetition 0.4%.
bool AboveThreshold(double fraction, double capacity_ticks, int cpus, double threshold);

// The default threshold: a quiet machine shows well under 1%.
inline constexpr double kContaminationThreshold = 0.10;

// What the contention arithmetic reads at one instant: every CPU's ticks, the CPU time of the
// worker's process group and of this controller, and the time.
struct ProcSnapshot {
  std::vector<CpuTicks> cpus;
  uint64_t group_ticks = 0, self_ticks = 0;
  int64_t wall_ns = 0;
  uint64_t group_minor_faults = 0;
};

// The others' share of `cpus` between two snapshots: busy ticks on those CPUs minus the group's
// ticks and, when the controller shares those CPUs, its own. nullopt when no CPU of the list is in
// both snapshots or no time passed. Pure arithmetic: tested without /proc.
std::optional<Contention> ContentionBetween(const ProcSnapshot& a, const ProcSnapshot& b,
                                            const std::vector<int>& cpus, bool count_self,
                                            double ticks_per_s, double threshold);

// Snapshots of the worker's CPUs (its affinity when Begin ran): Begin at the start of the timed
// phases, Mark at each chunk's end (the share since the previous Mark or Begin), End at the end
// of the timed phases (the share over the whole). Each read costs the controller a /proc scan
// (the worker's group may hold several processes), between the worker's chunks, never inside
// one. Anything unreadable gives nullopt, never an error.
class ContentionMeter {
 public:
  void Begin(pid_t worker_pgid, double threshold = kContaminationThreshold);
  std::optional<Contention> Mark();
  void End();
  std::optional<Contention> Result() const { return result_; }
  const std::vector<int>& cpus() const { return allowed_; }

 private:
  std::optional<ProcSnapshot> Take();

  pid_t pgid_ = -1;
  double threshold_ = kContaminationThreshold;
  std::vector<int> allowed_;
  std::unordered_set<pid_t> others_;  // pids seen outside the worker's group (GroupStat)
  bool self_on_worker_cpus_ = false;
  std::optional<double> load_;
  std::optional<ProcSnapshot> begin_, last_;
  std::optional<ContextSwitches> switches_at_begin_;
  std::optional<Contention> result_;
};

// The others' share of `cpus` (every CPU when empty) over the next `seconds`, this process's own
// time taken off: what the quiet gate reads before a repetition, when no worker runs. Sleeps for
// `seconds`; nullopt when /proc cannot be read.
std::optional<Contention> SampleCpus(const std::vector<int>& cpus, double seconds,
                                     double threshold = kContaminationThreshold);

// The machine over `seconds` before a run: busy share of all CPUs not spent by this process, and
// the 1-minute load average. For the "the machine is busy" warning of run and doctor.
struct BusyMachine {
  double busy_frac = 0;
  double load_avg_1m = 0;
  int cpus = 0;
};
std::optional<BusyMachine> SampleMachineBusy(double seconds);

// "other processes used 73% of 2 CPUs over 0.5 s (load average 1.9)" when busy_frac > 0.2; empty
// otherwise. The load average is for information only: it lags by a minute.
std::string BusyMachineWarning(const BusyMachine& b, double seconds);

}  // namespace dlb::probe
