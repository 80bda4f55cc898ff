#include "run/gate.h"

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

std::optional<int> CudaIndex(const std::string& device) {
  if (device == "cuda") return 0;
  if (!StartsWith(device, "cuda:")) return std::nullopt;
  auto n = ParseInt(device.substr(5));
  if (!n || *n < 0) return std::nullopt;
  return static_cast<int>(*n);
}

}  // namespace dlb::run
