// The experiment file's parser (TOML -> Experiment -> Plan) on arbitrary bytes: every input either
// parses and expands, or is one UserError line. Workers are the golden capability lines, so nothing
// is started.
#include <cstddef>
#include <cstdint>
#include <string>

#include "plan/expand.h"
#include "run/golden_capabilities.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const dlb::plan::Experiment e = dlb::run::ParseWithGoldenWorkers(text, "fuzz.toml");
    (void)dlb::plan::Expand(e, {});
  } catch (const dlb::UserError&) {
  }
  return 0;
}
