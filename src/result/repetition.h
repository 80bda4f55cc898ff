// What one repetition (one worker process) produced: the value the scheduler hands to the store.
// Its common facts (which cell, host-side times, status, environment, the settings read back,
// telemetry) are the same for every workload; what it measured is the workload's payload
// (result/measurement.h). Failures are values here, not exceptions: a failed or unsupported
// repetition is a result with a status, an error kind, a message and the worker's log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "probe/contention.h"
#include "probe/telemetry.h"
#include "result/energy.h"
#include "result/measurement.h"

namespace dlb::result {

enum class RepStatus { kOk, kFailed, kUnsupported, kInterrupted };
std::string RepStatusName(RepStatus s);

// What a repetition's telemetry says in a few numbers (run::SummarizeTelemetry computes them):
// energy per input sample and average power over the energy windows, the hottest GPU reading, the
// slowdown reasons seen from warm-up on, and the worker's peak device memory as NVML saw it.
struct TelemetrySummary {
  std::optional<double> energy_per_sample_j, avg_power_w;
  std::optional<int> max_temperature_c;
  std::optional<std::string> throttle_reasons;
  std::optional<int64_t> peak_device_bytes_nvml;
};

struct RepetitionResult {
  int cell_idx = 0;
  int rep_idx = 0;
  int order_idx = 0;  // position of this repetition in the run's order
  RepStatus status = RepStatus::kFailed;
  std::string error_kind;  // protocol kinds, or "crashed", "timeout", "protocol", "start_failed"
  std::string message;
  std::string phase;       // the step that failed: start, hello, load, warmup, measure, window, bye
  std::optional<int> exit_code;
  std::optional<int> term_signal;
  std::string started_at, finished_at;
  // The GPU temperature gate before this repetition: passed, timeout, unavailable, or empty when
  // no gate applied (CPU cells, or no gpu_temperature_max_c).
  std::string gate_status;
  std::optional<int> gpu_temperature_c;  // at the start of the repetition, when read
  double gate_wait_s = 0;
  // The quiet gate before this repetition (run/gate.h): "quiet", "timeout" (the CPUs never became
  // quiet: started anyway and said so), "unavailable" (/proc unreadable), or empty when no gate
  // applied (policy record); and how long it waited.
  std::string quiet_gate;
  double quiet_wait_s = 0;
  // Set when this repetition replaces a contaminated one of its cell: that one's rep_idx.
  std::optional<int> replaces_rep_idx;

  std::vector<std::string> argv;  // the whole command line: prefix + worker
  std::vector<std::string> prefix;
  std::vector<std::pair<std::string, std::string>> env;  // set by dlbench, plus relevant inherited
  int env_padding_bytes = 0;

  std::string hello_json;     // the hello reply as the worker sent it
  std::string settings_json;  // numeric settings read back after load
  std::optional<int64_t> parameters, flops_per_sample;
  std::optional<double> load_s, compile_s, first_call_s;
  std::optional<int64_t> sync_overhead_ns, timer_overhead_ns;
  std::optional<int64_t> peak_rss_bytes, peak_device_bytes;
  std::string log;

  // The profile's expectations checked against settings_json after load: empty without a
  // profile, "ok", or the deviations joined by "; " (plan/profile.h).
  std::string profile_check;

  // What the workload measured; the cell's workload decides the alternative.
  Measurement measurement;

  // Telemetry (probe/telemetry.h): the series, each source's state ("nvml", "rapl: ...", or
  // "unavailable: why"), the energy phase's windows from the cell's energy source, and their
  // summary.
  std::vector<probe::TelemetrySample> telemetry;
  std::string gpu_telemetry, cpu_telemetry;
  EnergySource energy_source = EnergySource::kNone;
  std::string energy_note;  // why there is no energy figure, when there is none
  std::vector<EnergyWindow> energy_windows;
  TelemetrySummary telemetry_summary;

  // Other processes on the worker's CPUs from the start of warm-up to the end of the pipelined
  // window (probe/contention.h); empty where /proc could not be read. Its `contaminated` is the
  // repetition's verdict under the cell's policy: under `exclude`, whether the repetition could not
  // gather enough clean samples (its chunks are judged one by one, TimedSeries::chunks); under
  // `record`, whether the whole window was above the threshold.
  std::optional<probe::Contention> contention;
  std::string contention_policy;  // the cell's: exclude or record
  double contention_threshold = probe::kContaminationThreshold;

  // Where the time went, for the controller-overhead figure (selftest --bench).
  double wall_s = 0;          // spawn to reaped
  double worker_start_s = 0;  // spawn to hello reply
  double load_call_s = 0;     // load request to reply
  double sample_s = 0;        // sum of all samples and windows

  TimedSeries* series() { return SeriesOf(measurement); }
  const TimedSeries* series() const { return SeriesOf(measurement); }
};

}  // namespace dlb::result
