// Reading results back: runs, cells and repetitions as plain rows for list, show and export.
#pragma once

#include "plan/experiment.h"
#include "result/history.h"
#include "result/measurement.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "result/request_trace.h"
#include "store/columns.h"
#include "plan/axes.h"
#include "store/db.h"

namespace dlb::store {

struct RunRow {
  int64_t run_id = 0;
  // A run stored as `running` whose controller is gone from this host reads `incomplete`, with
  // finished_at the time of its last stored repetition (its start if none), and controller_gone
  // set; only a command that writes marks it so in the file.
  std::string experiment, experiment_file, experiment_toml, status, started_at;
  std::optional<std::string> finished_at;
  bool controller_gone = false;
  std::string host, dlbench_version, dlbench_revision, command_line, host_json, order_kind;
  int64_t seed = 0, repetitions = 0, controller_pid = 0;
  double cooldown_s = 0;
  int64_t cells = 0, cells_ok = 0, cells_failed = 0, cells_unsupported = 0;
  // A precision target: repetitions is then the first stage of a two-stage design.
  std::optional<int64_t> max_repetitions;
  std::optional<double> target_ratio_ci;
  std::string compare_by = "framework";
  // The run's name in every file (store::NewUuid), and its part of a sweep (dlbench run --shard):
  // sweep_id is empty when the run is not a shard; shard_index counts from 0.
  std::string run_uuid, sweep_id;
  int64_t shard_index = 0, shard_count = 1;
  std::optional<std::string> merged_from;  // the file `dlbench merge` copied it from
  std::optional<std::string> last_repetition_at;  // finished_at of its last stored repetition
};

struct CellRow {
  int64_t cell_id = 0, run_id = 0, cell_idx = 0;
  std::string key, framework, model;
  int64_t batch = 0;
  std::string precision, device, workload, layout, variant, environment, config_json, status;
  std::optional<std::string> message;
  int64_t repetitions_ok = 0, repetitions_run = 0;
  int64_t repetitions_planned = 0;  // the run's repetitions per cell
  bool run_complete = false;        // the run finished (stored as complete)
  std::optional<int64_t> n_samples;
  std::optional<double> mean_ns, std_ns, min_ns, p50_ns, p90_ns, p95_ns, p99_ns, max_ns;
  std::optional<double> median_ci_lo_ns, median_ci_hi_ns, median_ci_coverage;
  std::optional<double> throughput_sps, window_throughput_sps;
  std::optional<int64_t> parameters, flops_per_sample;
  std::optional<double> load_s, compile_s, first_call_s;
  std::optional<int64_t> peak_rss_bytes, peak_device_bytes;
  std::string profile;  // empty: none
  std::optional<std::string> energy_source;
  std::optional<double> energy_per_sample_j, energy_ci_lo_j, energy_ci_hi_j, avg_power_w;
  std::optional<int64_t> throttled_repetitions, profile_deviations;
  std::optional<int64_t> contaminated_repetitions;  // ok repetitions beside busy neighbours
  std::optional<int64_t> replaced_repetitions;      // schema 9: repetitions run to replace them
  // Training with a dataset (schema 7): its name, the epochs per repetition, time per epoch and
  // accuracy after the last epoch (CellSummary's epoch_s and accuracy).
  std::optional<std::string> dataset;
  std::optional<int64_t> epochs;
  std::optional<double> epoch_s, accuracy;
  // From the cell's first ok repetition: the device as the worker named it, and its settings.
  std::optional<std::string> hello_json, settings_json;
  std::optional<std::string> energy_note;  // why there is no energy figure (first ok repetition)
};

// A stored cell's position on the matrix's axes (plan/axes.h): its key, its label and its pairing
// come from these, as a planned cell's do.
plan::AxisValues AxisValuesOf(const CellRow& c);

struct RepetitionRow {
  int64_t repetition_id = 0, cell_id = 0, rep_idx = 0, order_idx = 0;
  std::string status;
  std::optional<std::string> error_kind, message, phase;
  std::optional<int64_t> exit_code, term_signal;
  std::string started_at, finished_at, worker_argv, launch_prefix, env_json;
  int64_t env_padding_bytes = 0;
  std::optional<std::string> hello_json, settings_json;
  std::optional<int64_t> parameters, flops_per_sample;
  std::optional<double> load_s, compile_s, first_call_s;
  std::optional<int64_t> sync_overhead_ns, timer_overhead_ns;
  int64_t warmup_iterations = 0, warmup_settled = 0, n_samples = 0, converged = 0;
  std::optional<std::string> stop_reason;
  std::optional<double> median_ns, rel_ci;
  std::optional<int64_t> window_ns, window_iterations, peak_rss_bytes, peak_device_bytes;
  std::string log;
  int64_t block_iterations = 1;
  int64_t near_overhead = 0;
  std::optional<std::string> gate_status;
  std::optional<int64_t> gpu_temperature_c;
  double gate_wait_s = 0;
  std::optional<std::string> profile_check, gpu_telemetry, cpu_telemetry, energy_source, energy_note;
  std::optional<double> energy_per_sample_j, avg_power_w;
  std::optional<int64_t> max_temperature_c;
  std::optional<std::string> throttle_reasons;
  std::optional<int64_t> peak_device_bytes_nvml;
  // Noisy neighbours while it was timed (probe/contention.h); NULL where unknown.
  std::optional<double> other_cpu_frac, steal_frac, load_avg_1m;
  std::optional<int64_t> contaminated;
  // Schema 9: the contention policy and threshold it ran under, its excluded chunks, the quiet
  // gate before it, and the contaminated repetition it replaces; NULL in older rows.
  std::optional<std::string> contention_policy;
  std::optional<double> contention_threshold;
  std::optional<int64_t> excluded_chunks;
  std::optional<std::string> quiet_gate;
  std::optional<double> quiet_wait_s;
  std::optional<int64_t> replaces_rep_idx;
  std::optional<double> minor_faults_per_call;
  std::optional<int64_t> voluntary_switches, involuntary_switches;  // schema 10
  std::optional<double> ttft_p50_ns, tpot_p50_ns, itl_p50_ns;        // schema 10: generation
};

struct TelemetryRow {
  int64_t t_ns = 0;
  std::string phase;
  std::optional<double> gpu_energy_j, gpu_power_w;
  std::optional<int64_t> gpu_temperature_c, sm_clock_mhz, mem_clock_mhz, clock_event_reasons;
  std::optional<int64_t> gpu_util_pct, mem_util_pct, device_bytes;
  std::optional<double> cpu_energy_j;
  std::optional<int64_t> rss_bytes;
};

struct EnergyWindowRow {
  int64_t window_idx = 0, t_start_ns = 0, duration_ns = 0, iterations = 0;
  double energy_j = 0, avg_power_w = 0;
  std::optional<int64_t> max_temperature_c;
  std::optional<double> sm_clock_mhz, mem_clock_mhz;
  int64_t clock_event_reasons = 0;
};

struct ChunkRow {
  int64_t chunk_idx = 0;
  std::string phase;
  int64_t wall_ns = 0;
  std::optional<double> other_cpu_frac, steal_frac;
  std::optional<int64_t> minor_faults;
  int64_t contaminated = 0, excluded = 0;
};

struct SampleRow {
  int64_t chunk_idx = 0, iter_idx = 0, is_warmup = 0, wall_ns = 0;
};

struct ValidationRow {
  std::string model, precision, device, framework_a;
  std::optional<std::string> framework_b;
  std::string status;
  int64_t inputs = 0;
  std::optional<double> max_abs_err, max_rel_err, cosine, top1_agreement, tolerance;
  std::optional<std::string> tolerance_reason, settings_a, settings_b, weights_source, message;
  // Schema 7: "inference" (the fields above) or "training" (these; docs/validation.md).
  std::string workload = "inference";
  std::optional<int64_t> steps;
  std::optional<double> max_loss_err, weights_err, running_stats_err, loss_tolerance,
      weights_tolerance;
};

// Each stored row's columns (store/columns.h), in one place: what ListRuns and GetRun, GetCells and
// GetRepetitions select and read, and what Store writes of a cell (its plan on insert, its summary
// on update) and of a repetition.
extern const std::span<const Column<RunRow>> kRunColumns;
extern const std::span<const Column<CellRow>> kCellColumns;
extern const std::span<const Column<RepetitionRow>> kRepetitionColumns;

std::vector<RunRow> ListRuns(Db& db);
std::vector<ValidationRow> GetValidations(Db& db, int64_t run_id);
// "latest" or a run id; throws UserError naming the database when there is no such run.
int64_t ResolveRun(Db& db, const std::string& spec);
RunRow GetRun(Db& db, int64_t run_id);
// The runs that make one logical run with run_id: every shard of its sweep in this file, in
// shard order (ties: run id), or run_id alone when it is not a shard. The first is the group's
// representative: comparisons label the logical run with its id.
std::vector<int64_t> LogicalRun(Db& db, int64_t run_id);

// Earlier ok repetitions, on `host`, of each of the plan's cells: same key and same resolved
// settings (sampling, options, environment). Medians of whole-repetition wall times, a cell's first
// repetitions apart from the later ones (run::EstimateRun reads it).
result::History GetHistory(Db& db, const std::string& host, const plan::Plan& plan);
std::vector<CellRow> GetCells(Db& db, int64_t run_id);
std::vector<RepetitionRow> GetRepetitions(Db& db, int64_t cell_id);
std::vector<SampleRow> GetSamples(Db& db, int64_t repetition_id);

// A repetition's request traces (generation: one per generate call, or per HTTP request of a load),
// in request order, each with its chunks; the warm-up requests only when asked for.
std::vector<result::RequestTrace> GetRequests(Db& db, int64_t repetition_id, bool with_warmup = false);
std::vector<TelemetryRow> GetTelemetry(Db& db, int64_t repetition_id);
std::vector<EnergyWindowRow> GetEnergyWindows(Db& db, int64_t repetition_id);
// A training repetition's epochs over its dataset, in order (none without a dataset).
std::vector<result::EpochResult> GetTrainingEpochs(Db& db, int64_t repetition_id);
// Joules per input sample of each energy window of a repetition (energy / (iterations * batch)).
std::vector<double> GetEnergyPerSample(Db& db, int64_t repetition_id, int64_t batch);
// One repetition's steady-state samples (warm-up excluded), in order: what every comparison uses.
// The samples of its excluded chunks (measured beside a neighbour, policy `exclude`) are left out,
// as the run's estimate left them out, unless `with_excluded`.
std::vector<double> GetSteadyWallNs(Db& db, int64_t repetition_id, bool with_excluded = false);
// A repetition's chunks in order (schema 9; none for older rows).
std::vector<ChunkRow> GetChunks(Db& db, int64_t repetition_id);
// The measured time of a run's ok repetitions' warm-up and measure chunks, and the part of it in
// chunks above their threshold: how much of the run the worker's CPUs were busy with others.
struct BusyTime {
  double chunk_s = 0, contaminated_s = 0;
};
BusyTime GetRunBusyTime(Db& db, int64_t run_id);

}  // namespace dlb::store
