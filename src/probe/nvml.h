// GPUs through NVML, loaded at run time with dlopen("libnvidia-ml.so.1") and a few declared
// functions, so the controller has no link dependency on NVIDIA's libraries (DESIGN.md Telemetry).
// Absent library or no GPU: an empty list and the reason, never a crash.
#pragma once

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

}  // namespace dlb::probe
