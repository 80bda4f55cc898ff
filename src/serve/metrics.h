// Serving metrics, each with one definition, derived from request traces (serve/trace.h).
// docs/generation.md compares these definitions with vLLM's bench, AIPerf and MLPerf LoadGen.
//
// Per request (only requests that finished ok and produced at least one token):
//   TTFT (due)   first token's arrival - due time: queueing in the client and server counted;
//   TTFT (sent)  first token's arrival - send time;
//   TPOT         (last token's arrival - first token's arrival) / (output tokens - 1), needs >= 2;
//   E2E          done - due.
// Pooled over tokens:
//   ITL          for every chunk after the first, its gap to the previous chunk divided evenly over
//                the tokens it carried, one value per token. A chunk of k tokens thus gives k values
//                of gap/k: their sum is the time the stream took, however the server chunked it, so
//                chunking neither inflates ITL (one large gap counted once) nor deflates it (zeros).
//                The first chunk's extra tokens get no ITL: their time is inside TTFT.
// Over the measured window:
//   the window opens at the last token event of the warm-up requests (their last chunk or their
//   end, whichever is later; the load's start without warm-up) and closes at the measured requests'
//   last token event. Output tokens/s counts the measured requests' tokens that arrived in it;
//   requests/s the measured requests that finished ok in it; goodput those that also met the SLO.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "serve/trace.h"

namespace dlb::serve {

struct RequestMetrics {
  std::optional<double> ttft_due_s, ttft_sent_s, tpot_s, e2e_s;
  int64_t output_tokens = 0;
};
RequestMetrics MetricsOf(const RequestTrace& t);

// ITL values of one request, in seconds, in stream order (see above).
std::vector<double> InterTokenLatencies(const RequestTrace& t);

// A request meets the SLO when every limit that is set holds.
struct Slo {
  std::optional<double> ttft_s, tpot_s;
};
bool MeetsSlo(const RequestMetrics& m, const Slo& slo);

// One latency metric over the measured requests: the percentiles with their distribution-free 95%
// intervals where the sample allows them (a tail percentile needs the sample sizes of
// stats::kMinSamplesP90/P95/P99 before it is reported at all).
struct Quantile {
  double q = 0;  // 0.5, 0.9, 0.99
  std::optional<double> value, lo, hi;
  std::string why_not;  // when value is missing: "n<662"
};
struct Distribution {
  int64_t n = 0;
  std::optional<double> mean;
  std::vector<Quantile> quantiles;  // p50, p90, p99
};
Distribution Describe(std::vector<double> values);

// "12.3 [11.9, 12.8]": the quantile in ms with its interval, or why it is missing ("n<662").
std::string QuantileMs(const Quantile& q);

struct LoadMetrics {
  int64_t measured = 0, ok = 0, failed = 0, warmup = 0;
  std::vector<std::pair<std::string, int64_t>> failures;  // status -> count
  double window_start_s = 0, window_s = 0;
  int64_t window_tokens = 0;
  std::optional<double> output_tokens_per_s, requests_per_s, goodput_per_s;
  int64_t met_slo = 0;
  // Sending: the rate achieved ((n - 1) / (last send - first send)) and each request's delay
  // from its due time (open loop and offline; the closed loop has no due time of its own).
  std::optional<double> achieved_rate;
  Distribution send_delay_s;
  Distribution ttft_due_s, ttft_sent_s, tpot_s, itl_s, e2e_s;
  std::string token_sources;  // e.g. "logprobs" or "usage 12, chunks 3"
};
LoadMetrics Summarize(std::span<const RequestTrace> traces, const Slo& slo, bool has_due_times);

}  // namespace dlb::serve
