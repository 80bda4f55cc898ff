// The GPU temperature gate (methodology rule 9; ML.ENERGY: power and clocks follow temperature):
// before a repetition on a GPU, wait until the device is at or below a threshold, with a timeout.
// The waiting is a pure loop over an injected reader and sleeper, so it is tested without a GPU;
// the scheduler passes NVML's reading.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "plan/experiment.h"

namespace dlb::run {

struct GateOutcome {
  std::string status;               // "passed", "timeout", "unavailable" (no reading), "interrupted"
  std::optional<int> start_c;       // first reading
  std::optional<int> end_c;         // last reading, when the repetition started
  double waited_s = 0;
};

// read() returns the temperature or nullopt; sleep(s) sleeps and returns false if interrupted.
GateOutcome WaitForTemperature(const std::function<std::optional<int>()>& read, int max_c,
                               double timeout_s, double poll_s,
                               const std::function<bool(double)>& sleep);

// The NVML index for a device string: "cuda" -> 0, "cuda:N" -> N, anything else nullopt.
std::optional<int> CudaIndex(const std::string& device);

// The NVML index of a cell's CUDA device: CUDA numbers the devices CUDA_VISIBLE_DEVICES lists
// (indices, or GPU-/MIG- UUID prefixes, looked up through NVML); nullopt when it cannot be told.
// CUDA's default order (fastest first) can differ from NVML's (PCI bus) on mixed multi-GPU hosts:
// set CUDA_DEVICE_ORDER=PCI_BUS_ID there.
std::optional<int> NvmlIndex(const std::string& device, const std::string& cuda_visible_devices);

// The CUDA_VISIBLE_DEVICES a cell's worker sees: the cell's own, else the controller's, else "".
std::string CudaVisibleDevices(const plan::EnvVars& cell_env);

}  // namespace dlb::run
