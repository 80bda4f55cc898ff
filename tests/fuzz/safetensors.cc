// The safetensors reader (weights, validation inputs and outputs) on arbitrary bytes: every input
// is read or is one UserError; and what is read has as many values as its shape says.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "util/error.h"
#include "util/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    dlb::Metadata metadata;
    for (const auto& [name, t] : dlb::ParseSafetensors(bytes, "fuzz.safetensors", &metadata)) {
      int64_t count = 1;
      for (int64_t d : t.shape) count *= d;
      if (static_cast<size_t>(count) != t.data.size()) std::abort();
    }
  } catch (const dlb::UserError&) {
  }
  return 0;
}
