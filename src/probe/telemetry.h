// The controller's telemetry during a repetition (docs/telemetry.md; methodology T11): a thread
// that reads, every interval, the GPU through NVML (probe/nvml.h), the CPU packages' energy through
// RAPL (/sys/class/powercap) and the worker's resident set (/proc/PID/status), into a time series.
// The repetition also takes readings on its own thread at the edges of its energy windows
// (SampleNow), so a window's energy is an exact counter difference, not an interpolation.
// Any source that cannot be read is recorded as unavailable with the reason, never a crash.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "probe/nvml.h"

namespace dlb::probe {

// RAPL package energy: the sum over the top-level powercap zones intel-rapl:N (AMD's RAPL driver
// uses the same names). energy_uj wraps at max_energy_range_uj; reads in between add up the wraps.
// Since Linux 5.10 energy_uj is readable by root only (CVE-2020-8694 / PLATYPUS).
class RaplReader {
 public:
  // nullopt and why when no package zone exists or one cannot be read.
  static std::optional<RaplReader> Open(const std::string& powercap_root, std::string* why);
  // Joules since Open (monotonic across counter wraps, as long as reads are closer together than
  // one wrap: minutes at full load); nullopt if a read fails.
  std::optional<double> ReadJ();
  const std::vector<std::string>& zones() const { return names_; }

 private:
  struct Zone {
    std::string energy_path;
    uint64_t max_range_uj = 0;
    uint64_t last_uj = 0;
    uint64_t accumulated_uj = 0;
  };
  std::vector<Zone> zones_;
  std::vector<std::string> names_;  // "package-0 (intel-rapl:0)"
};

// The default powercap root, or $DLBENCH_POWERCAP_ROOT (for containers that mount it elsewhere).
std::string PowercapRoot();

// VmRSS of a process in bytes from /proc/PID/status, nullopt once it is gone.
std::optional<int64_t> ProcessRssBytes(pid_t pid);

struct TelemetrySample {
  int64_t t_ns = 0;  // steady clock, since the sampler was created
  std::string phase; // the repetition's phase when read: load, warmup, measure, window, energy
  GpuReading gpu;
  std::optional<double> gpu_energy_j;  // NVML's total-energy counter, since the sampler was created
  std::optional<double> cpu_energy_j;  // RAPL, since the sampler was created
  std::optional<int64_t> rss_bytes;    // the worker's
};

struct TelemetryConfig {
  std::optional<int> gpu_index;  // NVML index of the cell's GPU; nullopt for CPU cells
  std::string no_gpu_reason = "not a GPU cell";  // recorded when gpu_index is nullopt
  double interval_s = 0.1;       // 0: no thread; SampleNow still reads
  std::string powercap_root = PowercapRoot();
};

class TelemetrySampler {
 public:
  explicit TelemetrySampler(const TelemetryConfig& config);
  ~TelemetrySampler();
  TelemetrySampler(const TelemetrySampler&) = delete;
  TelemetrySampler& operator=(const TelemetrySampler&) = delete;

  // Starts the thread (if interval_s > 0) reading the worker pid and its process group.
  void Start(pid_t worker_pid);
  void SetPhase(const std::string& phase);
  // Reads every source now, on the caller's thread; the reading also joins the series.
  TelemetrySample SampleNow();
  // Stops the thread; the series is then complete.
  void Stop();
  std::vector<TelemetrySample> Series() const;

  // "nvml" or "unavailable: why"; "rapl" or "unavailable: why".
  const std::string& gpu_source() const { return gpu_source_; }
  const std::string& cpu_source() const { return cpu_source_; }
  bool has_gpu() const { return gpu_.has_value(); }
  bool has_rapl() const { return rapl_.has_value(); }
  bool gpu_has_energy_counter() const { return gpu_has_energy_counter_; }
  const std::string& gpu_name() const;

 private:
  TelemetrySample ReadLocked();
  void Loop();

  TelemetryConfig config_;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  std::optional<GpuTelemetry> gpu_;
  std::optional<RaplReader> rapl_;
  std::string gpu_source_, cpu_source_;
  std::optional<uint64_t> gpu_energy_base_mj_;
  bool gpu_has_energy_counter_ = false;
  pid_t pid_ = -1;
  std::string phase_ = "start";
  mutable std::mutex mu_;
  std::vector<TelemetrySample> series_;
  std::atomic<bool> stop_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace dlb::probe
