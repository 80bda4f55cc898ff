// Energy per sample from the telemetry series (methodology T11): the energy phase of a repetition
// runs the workload back to back in windows of at least a few seconds, reading the counters
// exactly at each window's edges; a window's energy is the counter's difference (NVML's
// total-energy counter on GPUs that have it, RAPL on the CPU), else NVML's power integrated over
// the window (trapezoids over the series). Pure functions over recorded readings.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "probe/telemetry.h"

namespace dlb::run {

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

// The window between two exact readings `begin` and `end`, using the readings of `series` that lie
// between them for the integrated-power source and the per-window conditions. nullopt when the
// source has no value at either edge.
std::optional<EnergyWindow> MakeEnergyWindow(EnergySource source, const probe::TelemetrySample& begin,
                                             const probe::TelemetrySample& end,
                                             std::span<const probe::TelemetrySample> series,
                                             int64_t iterations);

// Joules per input sample (one image of a batch) for each window: energy / (iterations * batch).
std::vector<double> JoulesPerSample(std::span<const EnergyWindow> windows, int batch);

// The shortest window each source can resolve (T11: NVML counters update about every 100 ms and
// power is a 1-s average, so windows of several seconds; RAPL updates about every millisecond).
double MinWindowSeconds(EnergySource source, double gpu_window_s, double cpu_window_s);

}  // namespace dlb::run
