// `dlbench predict --on-device NAME [--probe FILE ...]`: measured configurations predicted on a
// device they were not measured on, by the roofline of the two devices' peaks
// (analysis::ScaleByPeaks), corrected and given an interval by the configurations measured on
// both (analysis::PredictTransfer), and checked on those by leave-one-out (docs/decisions.md).
#pragma once

#include <string>
#include <vector>

#include "cli/exit_code.h"
#include "cli/measured.h"

namespace dlb::cli {

struct DeviceRequest {
  std::string target;               // --on-device: part of a device name ("H100")
  std::vector<std::string> probes;  // --probe: `dlbench doctor --probe --json` outputs
  bool json_output = false;
};

// Throws UserError when no peaks are known for the target, a --probe file cannot be read, or no
// source device has peaks either.
ExitCode PredictOnDevice(const DeviceRequest& request, const std::vector<MeasuredCell>& cells);

}  // namespace dlb::cli
