// The controller's side of the worker protocol on arbitrary bytes: every reply decoder and the
// capabilities line. A malformed line is a ProtocolError, a failure reply a WorkerFailure value;
// nothing else may escape. The first byte picks the decoder (and, for measure, the sync mode and
// block), the rest is the line.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "run/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t pick = data[0];
  const std::string_view line(reinterpret_cast<const char*>(data) + 1, size - 1);
  using namespace dlb::run;
  try {
    switch (pick % 10) {
      case 0: (void)DecodeHello(line); break;
      case 1: (void)DecodeLoad(line); break;
      case 2: (void)DecodeMeasure(line, (pick & 0x10) ? Sync::kWindow : Sync::kEach, 1 + (pick >> 5)); break;
      case 3: (void)DecodeBye(line); break;
      case 4: (void)DecodeSaveWeights(line); break;
      case 5: (void)DecodeOutputs(line); break;
      case 6: (void)DecodeTrain(line); break;
      case 7: (void)DecodeFit(line); break;
      case 8: (void)DecodeProbe(line); break;
      default: (void)DecodeCapabilities(line); break;
    }
  } catch (const ProtocolError&) {
  }
  return 0;
}
