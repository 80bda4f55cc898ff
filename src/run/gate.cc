#include "run/gate.h"

#include <algorithm>
#include <cstdlib>

#include "probe/nvml.h"

#include "util/strings.h"

namespace dlb::run {

GateOutcome WaitForTemperature(const std::function<std::optional<int>()>& read, int max_c,
                               double timeout_s, double poll_s,
                               const std::function<bool(double)>& sleep) {
  GateOutcome g;
  g.start_c = g.end_c = read();
  if (!g.start_c) {
    g.status = "unavailable";
    return g;
  }
  while (*g.end_c > max_c) {
    if (g.waited_s >= timeout_s) {
      g.status = "timeout";
      return g;
    }
    if (!sleep(poll_s)) {
      g.status = "interrupted";
      return g;
    }
    g.waited_s += poll_s;
    auto t = read();
    if (!t) {
      g.status = "unavailable";
      return g;
    }
    g.end_c = t;
  }
  g.status = "passed";
  return g;
}

QuietOutcome WaitForQuiet(const std::function<std::optional<probe::Contention>()>& read, double window_s,
                          double timeout_s, const std::function<bool()>& interrupted) {
  QuietOutcome q;
  while (true) {
    auto c = read();
    q.waited_s += window_s;
    if (!c) {
      q.status = "unavailable";
      return q;
    }
    q.last_share = std::max(c->other_cpu_frac, c->steal_frac);
    if (!c->contaminated) {
      q.status = "quiet";
      return q;
    }
    if (interrupted()) {
      q.status = "interrupted";
      return q;
    }
    if (q.waited_s >= timeout_s) {
      q.status = "timeout";
      return q;
    }
  }
}

std::optional<int> CudaIndex(const std::string& device) {
  if (device == "cuda") return 0;
  if (!StartsWith(device, "cuda:")) return std::nullopt;
  auto n = ParseInt(device.substr(5));
  if (!n || *n < 0) return std::nullopt;
  return static_cast<int>(*n);
}

std::optional<int> NvmlIndex(const std::string& device, const std::string& cuda_visible_devices) {
  auto cuda = CudaIndex(device);
  if (!cuda || Trim(cuda_visible_devices).empty()) return cuda;
  auto listed = Split(cuda_visible_devices, ',');
  if (static_cast<size_t>(*cuda) >= listed.size()) return std::nullopt;
  std::string entry(Trim(listed[static_cast<size_t>(*cuda)]));
  if (auto n = ParseInt(entry)) return *n >= 0 ? std::optional<int>(static_cast<int>(*n)) : std::nullopt;
  if (!StartsWith(entry, "GPU-") && !StartsWith(entry, "MIG-")) return std::nullopt;
  for (const auto& gpu : probe::ProbeGpus().gpus) {
    if (StartsWith(gpu.uuid, entry)) return gpu.index;
  }
  return std::nullopt;
}

std::string CudaVisibleDevices(const plan::EnvVars& cell_env) {
  for (const auto& [k, v] : cell_env) {
    if (k == "CUDA_VISIBLE_DEVICES") return v;
  }
  const char* env = std::getenv("CUDA_VISIBLE_DEVICES");
  return env ? env : "";
}

}  // namespace dlb::run
