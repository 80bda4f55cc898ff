// The load a generation cell is driven with, written once by the controller from a seed, so that
// every engine and every repetition executes the same requests at the same offsets.
//
//   offline   every request is due at t = 0 (MLPerf LoadGen's Offline scenario);
//   closed    `concurrency` requests in flight; each finished one frees its slot for the next;
//   poisson   open loop: exponential gaps at `rate` requests/s;
//   gamma     open loop: gamma gaps with mean 1/rate and shape `burstiness` (1 is Poisson; below 1
//             the arrivals bunch, above 1 they even out), as vLLM's bench and GuideLLM define it.
//
// Input and output lengths are fixed or drawn uniformly from [min, max] with the same seed. The
// first `warmup` requests are the warm-up set: they run before the measured ones and are left out
// of every figure (serve/metrics.h says how the window is cut).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "stats/sample_check.h"

namespace dlb::serve {

enum class Arrival { kOffline, kClosed, kPoisson, kGamma };
std::string ArrivalName(Arrival a);
// "offline", "closed", "poisson", "gamma"; an error names the allowed values.
stats::Expected<Arrival> ParseArrival(const std::string& name);

struct Lengths {
  int64_t min = 1, max = 1;  // min == max: fixed
  bool operator==(const Lengths&) const = default;
};

struct LoadSpec {
  Arrival arrival = Arrival::kOffline;
  double rate = 0;          // requests/s, open loop only
  double burstiness = 1.0;  // gamma shape, open loop only
  int64_t concurrency = 1;  // closed loop only
  int64_t requests = 1;     // measured requests
  int64_t warmup = 0;       // warm-up requests, run first
  Lengths input{128, 128}, output{128, 128};
  uint64_t seed = 0;
};

// One line per bad field ("rate: must be > 0 for poisson arrivals, got 0"); empty when valid.
std::vector<std::string> CheckLoadSpec(const LoadSpec& spec);

struct ScheduledRequest {
  int64_t index = 0;  // 0-based over warm-up then measured requests
  bool warmup = false;
  // Due time from the start of the load: 0 for offline, the arrival for open loop, and -1 for the
  // closed loop, where a request is due when a slot frees.
  int64_t due_ns = 0;
  int64_t input_tokens = 0, output_tokens = 0;
  bool operator==(const ScheduledRequest&) const = default;
};

// The whole schedule, warm-up first. The spec must pass CheckLoadSpec. Open-loop arrivals start with
// one gap (the first request is not at 0), as a Poisson process observed from t = 0 would.
std::vector<ScheduledRequest> MakeSchedule(const LoadSpec& spec);

}  // namespace dlb::serve
