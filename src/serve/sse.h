// Server-sent events (the WHATWG "text/event-stream" format) read incrementally, and the OpenAI
// streaming chunks they carry. Bytes arrive in pieces of any size: an event may be split across
// reads, or many events may come in one. An event is bounded (kMaxSseEventBytes), far above any
// real server's: a long context's first event, tens of thousands of tokens echoed back, is a few
// hundred KB. A stream past the bound is refused rather than buffered, so a server that never ends
// a line costs at most that much memory per stream in flight.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dlb::serve {

// The most bytes one event may hold, its data lines and the line being read together: 16 MiB.
inline constexpr size_t kMaxSseEventBytes = size_t{16} << 20;

class SseParser {
 public:
  explicit SseParser(size_t max_event_bytes = kMaxSseEventBytes) : max_event_bytes_(max_event_bytes) {}
  // Feeds bytes; returns the data of each event completed by them ("data:" lines joined by "\n").
  // Comments (":"), "event:", "id:" and "retry:" lines are read and ignored.
  std::vector<std::string> Feed(std::string_view bytes);
  // True when bytes are buffered that no blank line has ended yet: a stream that stops here was
  // cut in the middle of an event.
  bool Pending() const { return !line_.empty() || has_data_; }
  // True once an event grew past the bound: what it had buffered is dropped, and every later byte
  // is ignored; the stream is malformed.
  bool Overflowed() const { return overflowed_; }

 private:
  void Line(std::string_view line, std::vector<std::string>& out);
  std::string line_;
  std::string data_;
  bool has_data_ = false;
  bool last_was_cr_ = false;
  bool overflowed_ = false;
  size_t max_event_bytes_;
};

// What one streamed event of /v1/completions or /v1/chat/completions holds for the benchmark.
struct StreamEvent {
  bool done = false;                  // "[DONE]"
  std::string text;                   // the choice's text or delta content (reasoning included)
  std::optional<int64_t> logprob_tokens;  // entries in the choice's logprobs, when present
  std::optional<int64_t> usage_completion_tokens, usage_prompt_tokens;
  std::optional<std::string> error;   // an {"error": ...} event
};
// Parses one event's data; an error names what was wrong ("not JSON: ...").
std::optional<StreamEvent> ParseStreamEvent(std::string_view data, std::string* error);

}  // namespace dlb::serve
