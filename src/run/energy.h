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
#include "result/energy.h"
#include "result/repetition.h"

namespace dlb::run {

using result::EnergySource;
using result::EnergySourceName;
using result::EnergyWindow;

// The window between two exact readings `begin` and `end`, using the readings of `series` that lie
// between them for the integrated-power source and the per-window conditions. nullopt when the
// source has no value at either edge.
std::optional<EnergyWindow> MakeEnergyWindow(EnergySource source, const probe::TelemetrySample& begin,
                                             const probe::TelemetrySample& end,
                                             std::span<const probe::TelemetrySample> series,
                                             int64_t iterations);

// Joules per input sample (one image of a batch) for each window: energy / (iterations * batch).
std::vector<double> JoulesPerSample(std::span<const EnergyWindow> windows, int batch);

// What a repetition's telemetry says in a few numbers: energy per input sample (batch inputs per
// call) and average power over its energy windows, the hottest GPU reading, the slowdown reasons
// seen from warm-up on (the phases warmup, measure, window and energy), and the peak device memory
// NVML saw.
result::TelemetrySummary SummarizeTelemetry(const result::RepetitionResult& r, int batch);

// The shortest window each source can resolve (T11: NVML counters update about every 100 ms and
// power is a 1-s average, so windows of several seconds; RAPL updates about every millisecond).
double MinWindowSeconds(EnergySource source, double gpu_window_s, double cpu_window_s);

}  // namespace dlb::run
