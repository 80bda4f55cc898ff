// What one generation request did, as timestamps: the raw data every generation metric is derived
// from (serve/metrics.h), whether the tokens came over HTTP from a server or from an in-process
// engine's generate. Over HTTP all times are nanoseconds from the start of the load (one monotonic
// clock, CLOCK_MONOTONIC, read in the client's process); for an engine's generate they are from the
// start of that call, and each decode step is one chunk of one token per sequence.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dlb::result {

// One piece of the stream that carried tokens: when it arrived and how many it carried. A server
// may put several tokens in one SSE event (speculative decoding, reasoning and tool-call streams,
// or simply batching its writes); recording the count keeps the inter-token latency honest.
struct Chunk {
  int64_t arrival_ns = 0;
  int32_t tokens = 1;
  bool operator==(const Chunk&) const = default;
};

// How the per-chunk token counts were obtained, best first:
//   logprobs  the server returned one logprob entry per token: counts are exact;
//   usage     no logprobs, but the final usage's completion_tokens equals the number of chunks
//             with text, so each carried one token;
//   chunks    neither: each chunk with text is counted as one token (the figure may be off, and the
//             report says so).
inline constexpr const char* kTokensFromLogprobs = "logprobs";
inline constexpr const char* kTokensFromUsage = "usage";
inline constexpr const char* kTokensFromChunks = "chunks";
//   engine    an in-process engine's generate: one token per sequence per step, exactly.
inline constexpr const char* kTokensFromEngine = "engine";

struct RequestTrace {
  int64_t index = 0;
  bool warmup = false;
  int64_t input_tokens = 0;
  int64_t output_tokens_requested = 0;
  // due: when the schedule wanted it sent (open loop: the arrival; offline: 0; closed loop: when
  // its slot freed). sent: when the request's first byte was handed to the socket layer. done: when
  // the stream ended (or failed).
  int64_t due_ns = 0, sent_ns = 0, done_ns = 0;
  std::vector<Chunk> chunks;
  int64_t usage_output_tokens = -1;  // the server's own counts, -1 when it sent none
  int64_t usage_input_tokens = -1;
  std::string token_source = kTokensFromChunks;
  // ok, or a failure kind: connect, http_<status>, malformed, truncated, timeout, cancelled.
  std::string status = "ok";
  std::string error;  // the detail, empty when ok
  bool ok() const { return status == "ok"; }
  int64_t OutputTokens() const {
    int64_t n = 0;
    for (const Chunk& c : chunks) n += c.tokens;
    return n;
  }
};

}  // namespace dlb::result
