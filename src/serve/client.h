// The load generator's HTTP side: drives a schedule (serve/schedule.h) against an OpenAI-compatible
// streaming endpoint (/v1/completions or /v1/chat/completions over SSE) with libcurl's multi
// interface, one thread, every stream in one event loop, and records each request's trace.
//
// Timing. Every timestamp is CLOCK_MONOTONIC in this process. A chunk's arrival is read when
// libcurl hands its bytes over; a request's send time is when libcurl first asks for its body, its
// connection ready and its headers written (libcurl's own pre-transfer figure overstated it by
// about 25 us on reused connections; a retry on a new connection rewinds the body and the time). A request's transfer is built before it is due. Due times are kept by sleeping in
// curl_multi_poll until shortly before the next one and spinning the rest, because poll's timeout
// rounds to a millisecond and an open loop at 1,000 requests/s needs better. Each request carries
// X-Request-Id: 00000000-0000-4000-8000-<index as 12 hex digits>, for the server's logs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "serve/schedule.h"
#include "serve/trace.h"

namespace dlb::serve {

enum class Api { kCompletions, kChat };
std::string ApiName(Api a);  // "completions", "chat"

struct Endpoint {
  std::string base_url;  // http(s)://host:port, the /v1/... path is added
  Api api = Api::kCompletions;
  std::string model = "default";
  // Prompts are token ids drawn from [vocab_lo, vocab_hi) with the schedule's seed, so the input
  // length is exact (vLLM, SGLang and llama.cpp's own server accept a token array). With
  // text_prompts, and always for chat, they are words: the length in tokens is then the server's
  // to count, and its usage's prompt_tokens is recorded.
  int64_t vocab_lo = 10, vocab_hi = 200;
  bool text_prompts = false;
  // Ask for one logprob per token so that each chunk's token count is exact.
  bool logprobs = true;
  // EOS ignored so every request produces the length it asked for: ignore_eos (vLLM, SGLang,
  // llama.cpp) and, when known, a logit bias of -100 on the EOS token (OpenAI's own field).
  std::optional<int64_t> eos_token;
  double request_timeout_s = 600;  // a whole request
  double stall_timeout_s = 30;     // no byte for this long: the server stopped answering
};

struct DriveOptions {
  LoadSpec spec;  // arrival, concurrency, seed (prompts)
  // Called after each finished request, with the number finished so far; never inside the timed
  // path of another request's bytes.
  std::function<void(int64_t done, int64_t total)> progress;
};

// Runs the schedule; returns one trace per request in schedule order. A request that fails is a
// trace with its status; Ctrl-C (util/interrupt.h) ends the load with the rest marked cancelled.
struct LoadResult {
  int64_t origin_ns = 0;  // CLOCK_MONOTONIC at t = 0 of the load: the traces' times are after it
  std::vector<RequestTrace> traces;
};
LoadResult Drive(const Endpoint& endpoint, const std::vector<ScheduledRequest>& schedule,
                 const DriveOptions& options);

// One GET (a health check): the HTTP status, or nullopt when no answer came within timeout_s.
std::optional<long> HttpGetStatus(const std::string& url, double timeout_s);

int64_t MonotonicNs();

}  // namespace dlb::serve
