// The number files of `dlbench stats` on arbitrary bytes: every input parses into at least two
// finite numbers, not all equal, or is one UserError.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "stats/number_file.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const std::vector<double> v = dlb::stats::ParseNumberFile(text, "fuzz.txt");
    if (v.size() < 2) std::abort();
    for (double x : v) {
      if (!std::isfinite(x)) std::abort();
    }
  } catch (const dlb::UserError&) {
  }
  return 0;
}
