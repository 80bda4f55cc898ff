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

// utime + stime of a /proc/PID/stat line (fields 14 and 15, counted after the ")" that ends the
// command name, which may itself hold spaces and parentheses); nullopt when malformed. With
// `pgrp`, also its process group (field 5).
std::optional<uint64_t> ParseProcessTicks(std::string_view stat_line, pid_t* pgrp = nullptr);

// A CPU list as in /proc/PID/status Cpus_allowed_list or sysfs: "0-3,8,10-11".
std::vector<int> ParseCpuList(std::string_view text);

// The other processes' share of the worker's CPUs over a window.
struct Contention {
  double other_cpu_frac = 0;  // others' CPU time / (wall time x CPUs)
  double steal_frac = 0;      // stolen time / (wall time x CPUs)
  std::optional<double> load_avg_1m;  // at the window's start
  int cpus = 0;
  bool contaminated = false;  // either fraction above kContaminationThreshold
};

// A repetition is contaminated when neighbours or the hypervisor took more than this share of the
// worker's CPUs while it was timed. A quiet machine shows well under 1%.
inline constexpr double kContaminationThreshold = 0.10;

// Snapshots at the edges of a timed window. Begin reads the worker's CPUs (its affinity) and every
// counter; End reads them again. Anything unreadable leaves Result() empty, never an error.
class ContentionMeter {
 public:
  void Begin(pid_t worker_pgid);
  void End();
  std::optional<Contention> Result() const { return result_; }

 private:
  struct Snapshot {
    std::vector<CpuTicks> cpus;
    uint64_t group_ticks = 0, self_ticks = 0;
    int64_t wall_ns = 0;
  };
  std::optional<Snapshot> Take() const;

  pid_t pgid_ = -1;
  std::vector<int> allowed_;
  bool self_on_worker_cpus_ = false;
  std::optional<double> load_;
  std::optional<Snapshot> begin_;
  std::optional<Contention> result_;
};

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
