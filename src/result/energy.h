// The energy values a repetition carries: which source measured it and the windows of the energy
// phase. The arithmetic that makes a window from readings is run/energy.h's; these are the values
// the store writes and reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace dlb::result {

enum class EnergySource { kNone, kNvmlCounter, kNvmlPower, kRapl };
// "nvml-total-energy", "nvml-power-integrated", "rapl-package", "" for kNone.
std::string EnergySourceName(EnergySource s);

struct EnergyWindow {
  int64_t t_start_ns = 0, duration_ns = 0;
  int64_t iterations = 0;     // calls of the model (each a batch)
  double energy_j = 0;
  double avg_power_w = 0;     // energy / duration
  // From the series inside the window (GPU cells): hottest reading, median clocks, and every
  // clock-event reason seen (OR of the masks).
  std::optional<int> max_temperature_c;
  std::optional<double> sm_clock_mhz, mem_clock_mhz;
  uint64_t clock_event_reasons = 0;
};

}  // namespace dlb::result
