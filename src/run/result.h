// What one repetition (one worker process) produced: the value the scheduler hands to the store.
// Failures are values here, not exceptions: a failed or unsupported repetition is a result
// with a status, an error kind, a message and the worker's log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "plan/experiment.h"
#include "probe/contention.h"
#include "probe/telemetry.h"
#include "run/energy.h"

namespace dlb::run {

enum class RepStatus { kOk, kFailed, kUnsupported, kInterrupted };
std::string RepStatusName(RepStatus s);

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

  std::vector<std::string> argv;  // the whole command line: prefix + worker
  std::vector<std::string> prefix;
  plan::EnvVars env;              // the variables dlbench set, plus framework-relevant inherited ones
  int env_padding_bytes = 0;

  std::string hello_json;     // the hello reply as the worker sent it
  std::string settings_json;  // numeric settings read back after load
  std::optional<int64_t> parameters, flops_per_sample;
  std::optional<double> load_s, compile_s, first_call_s;
  std::optional<int64_t> sync_overhead_ns, timer_overhead_ns;

  // Samples in arrival order: the first warmup_count are warm-up, the rest steady state.
  std::vector<int64_t> wall_ns;
  std::vector<int32_t> chunk_idx;
  int64_t warmup_count = 0;
  int64_t block_iterations = 1;  // steady samples are block means over this many iterations
  bool near_overhead = false;    // median within 100x of the harness overhead (flagged)
  bool warmup_settled = false;
  bool converged = false;
  std::string stop_reason;
  std::optional<double> median_ns, rel_ci;

  std::optional<int64_t> window_ns, window_iterations;
  std::optional<int64_t> peak_rss_bytes, peak_device_bytes;
  std::string log;

  // The profile's expectations checked against settings_json after load: empty without a
  // profile, "ok", or the deviations joined by "; " (plan/profile.h).
  std::string profile_check;

  // Telemetry (probe/telemetry.h): the series, each source's state ("nvml", "rapl: ...", or
  // "unavailable: why"), and the energy phase's windows from the cell's energy source.
  std::vector<probe::TelemetrySample> telemetry;
  std::string gpu_telemetry, cpu_telemetry;
  EnergySource energy_source = EnergySource::kNone;
  std::string energy_note;  // why there is no energy figure, when there is none
  std::vector<EnergyWindow> energy_windows;

  // Other processes on the worker's CPUs from the start of warm-up to the end of the pipelined
  // window (probe/contention.h); empty where /proc could not be read.
  std::optional<probe::Contention> contention;

  // Where the time went, for the controller-overhead figure (selftest --bench).
  double wall_s = 0;          // spawn to reaped
  double worker_start_s = 0;  // spawn to hello reply
  double load_call_s = 0;     // load request to reply
  double sample_s = 0;        // sum of all samples and windows
};

}  // namespace dlb::run
