// The server-sent-events reader and the streamed-chunk parser on arbitrary bytes. Beyond not
// crashing, one property: the events do not depend on how the bytes were cut into reads. The first
// byte seeds the cut points; the stream is fed whole and in pieces, and both must give the same
// events (a \r at the end of one read and the \n at the start of the next are one line ending),
// and both refuse the stream at the same byte when an event outgrows the bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "serve/sse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 17;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  // A small bound, so that the fuzzer also reaches streams past it.
  const size_t bound = 64 + data[0] % 512;
  dlb::serve::SseParser whole(bound);
  const std::vector<std::string> expected = whole.Feed(stream);

  dlb::serve::SseParser pieces(bound);
  std::vector<std::string> got;
  for (size_t at = 0, n = step; at < stream.size(); at += n, n = n % 13 + 1) {
    for (std::string& e : pieces.Feed(stream.substr(at, n))) got.push_back(std::move(e));
  }
  if (got != expected || pieces.Pending() != whole.Pending() || pieces.Overflowed() != whole.Overflowed()) {
    std::abort();
  }
  for (const std::string& event : expected) {
    if (event.size() > bound) std::abort();  // nothing past the bound is ever handed out
  }

  for (const std::string& event : expected) {
    std::string error;
    const std::optional<dlb::serve::StreamEvent> ev = dlb::serve::ParseStreamEvent(event, &error);
    if (!ev && error.empty()) std::abort();  // a refusal always says why
  }
  return 0;
}
