// GPUs through NVML, loaded at run time with dlopen("libnvidia-ml.so.1") and a few declared
// functions, so the controller has no link dependency on NVIDIA's libraries (docs/telemetry.md).
// Absent library or no GPU: an empty list and the reason, never a crash.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dlb::probe {

struct GpuInfo {
  int index = 0;
  std::string name;
  std::string uuid;
  long long memory_total_bytes = 0;
};

struct GpuProbe {
  bool nvml_available = false;
  std::string driver_version;
  std::string why_none;  // set when nvml_available is false or no GPU was found
  std::vector<GpuInfo> gpus;
};

GpuProbe ProbeGpus();

// The GPU's core temperature in °C through NVML (NVML_TEMPERATURE_GPU), or nullopt when NVML or
// the device is unavailable. Loads NVML once per process.
std::optional<int> GpuTemperatureC(int index);

// One reading of a GPU's counters; each field is nullopt where NVML does not answer it (an older
// GPU, a driver without the function, no permission).
struct GpuReading {
  std::optional<uint64_t> energy_mj;        // nvmlDeviceGetTotalEnergyConsumption: mJ since load
  std::optional<double> power_w;            // nvmlDeviceGetPowerUsage (an average, see T11)
  std::optional<int> temperature_c;
  std::optional<int> sm_clock_mhz, mem_clock_mhz;
  std::optional<uint64_t> clock_event_reasons;  // nvmlClocksEventReason* bits
  std::optional<int> gpu_util_pct, mem_util_pct;
  std::optional<int64_t> process_bytes;     // device memory of the given processes (per process)
};

// The NVML functions one reading calls, as dlsym found them (nullptr: absent in this driver). The
// signatures are nvml.h's; a test passes its own functions.
struct NvmlProcessInfo {  // nvmlProcessInfo_t as nvmlDeviceGetComputeRunningProcesses_v3 fills it
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
};
struct NvmlUtilization {  // nvmlUtilization_t
  unsigned int gpu, memory;
};
struct NvmlReadFunctions {
  int (*energy)(void* device, unsigned long long* mj) = nullptr;
  int (*power)(void* device, unsigned int* mw) = nullptr;
  int (*temperature)(void* device, int sensor, unsigned int* celsius) = nullptr;
  int (*clock)(void* device, int type, unsigned int* mhz) = nullptr;
  int (*reasons)(void* device, unsigned long long* mask) = nullptr;
  int (*utilization)(void* device, NvmlUtilization* util) = nullptr;
  int (*processes)(void* device, unsigned int* count, NvmlProcessInfo* infos) = nullptr;
};

// One reading through `f`: each counter from its own call, read only after that call returned
// success.
GpuReading ReadGpu(const NvmlReadFunctions& f, void* device, pid_t pgid);

// A GPU's telemetry handle: NVML loaded and initialised once per process (NVML is thread-safe).
class GpuTelemetry {
 public:
  // nullopt and why (NVML missing, no such GPU) when the device cannot be read.
  static std::optional<GpuTelemetry> Open(int index, std::string* why);
  // Reads every counter; process_bytes sums the compute processes whose process group is pgid.
  GpuReading Read(pid_t pgid) const;
  const std::string& name() const { return name_; }

 private:
  void* device_ = nullptr;
  std::string name_;
};

// The clock-event (throttle) reasons that mean the GPU ran slower than it could: power cap, thermal
// and hardware slowdowns. Idle, application clocks, sync boost and display settings are not.
inline constexpr uint64_t kThrottleMask = 0x4 | 0x8 | 0x20 | 0x40 | 0x80;
// "sw_power_cap, hw_thermal_slowdown" for the set bits of a reasons mask (all bits, named).
std::string ClockEventReasonNames(uint64_t reasons);

}  // namespace dlb::probe
