// The server-sent-events reader and the streamed-chunk parser on arbitrary bytes. Beyond not
// crashing, one property: the events do not depend on how the bytes were cut into reads. The first
// byte seeds the cut points; the stream is fed whole and in pieces, and both must give the same
// events (a \r at the end of one read and the \n at the start of the next are one line ending).
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

  dlb::serve::SseParser whole;
  const std::vector<std::string> expected = whole.Feed(stream);

  dlb::serve::SseParser pieces;
  std::vector<std::string> got;
  for (size_t at = 0, n = step; at < stream.size(); at += n, n = n % 13 + 1) {
    for (std::string& e : pieces.Feed(stream.substr(at, n))) got.push_back(std::move(e));
  }
  if (got != expected || pieces.Pending() != whole.Pending()) std::abort();

  for (const std::string& event : expected) {
    std::string error;
    const std::optional<dlb::serve::StreamEvent> ev = dlb::serve::ParseStreamEvent(event, &error);
    if (!ev && error.empty()) std::abort();  // a refusal always says why
  }
  return 0;
}
