// The GPU temperature gate (methodology rule 9; ML.ENERGY: power and clocks follow temperature):
// before a repetition on a GPU, wait until the device is at or below a threshold, with a timeout.
// The waiting is a pure loop over an injected reader and sleeper, so it is tested without a GPU;
// the scheduler passes NVML's reading.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "plan/experiment.h"
#include "probe/contention.h"

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

// The quiet gate, the noisy-neighbour twin of the temperature gate: before a repetition, wait
// until other processes have stayed at or under the contention threshold on the worker's CPUs for
// one whole window, reading window after window, for at most timeout_s of windows. read() samples
// one window (it takes the window's time itself, so the time spent is counted in windows) and
// returns the share, judged (probe::Contention::contaminated), or nullopt when /proc cannot be
// read; interrupted() is checked after each window.
struct QuietOutcome {
  std::string status;  // "quiet", "timeout" (never quiet: the repetition starts anyway), "unavailable", "interrupted"
  double waited_s = 0;                 // the windows read, the passing one included
  std::optional<double> last_share;    // others' share of the CPUs in the last window
};
QuietOutcome WaitForQuiet(const std::function<std::optional<probe::Contention>()>& read, double window_s,
                          double timeout_s, const std::function<bool()>& interrupted);

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
