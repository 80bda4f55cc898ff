#include "store/query.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include <map>
#include <unordered_map>

#include "stats/descriptive.h"
#include "store/store.h"

#include "util/error.h"
#include "util/fd.h"
#include "util/strings.h"

namespace dlb::store {

using enum Written;

// runs: written by Store::BeginRun from the experiment, so read only here.
constexpr Column<RunRow> kRunTable[] = {
    {"run_id", &RunRow::run_id, kNever},
    {"experiment", &RunRow::experiment, kNever},
    {"experiment_file", &RunRow::experiment_file, kNever},
    {"experiment_toml", &RunRow::experiment_toml, kNever},
    {"status", &RunRow::status, kNever},
    {"started_at", &RunRow::started_at, kNever},
    {"finished_at", &RunRow::finished_at, kNever},
    {"host", &RunRow::host, kNever},
    {"dlbench_version", &RunRow::dlbench_version, kNever},
    {"dlbench_revision", &RunRow::dlbench_revision, kNever},
    {"command_line", &RunRow::command_line, kNever},
    {"host_json", &RunRow::host_json, kNever},
    {"order_kind", &RunRow::order_kind, kNever},
    {"seed", &RunRow::seed, kNever},
    {"repetitions", &RunRow::repetitions, kNever},
    {"controller_pid", &RunRow::controller_pid, kNever},
    {"cooldown_s", &RunRow::cooldown_s, kNever},
    {"max_repetitions", &RunRow::max_repetitions, kNever},
    {"target_ratio_ci", &RunRow::target_ratio_ci, kNever},
    {"compare_by", &RunRow::compare_by, kNever},  // NULL before schema 5: "framework"
    {"run_uuid", &RunRow::run_uuid, kNever},
    {"sweep_id", &RunRow::sweep_id, kNever},
    {"shard_index", &RunRow::shard_index, kNever},
    {"shard_count", &RunRow::shard_count, kNever},
    {"merged_from", &RunRow::merged_from, kNever},
    {"cells", &RunRow::cells, kNever, "(SELECT COUNT(*) FROM cells c WHERE c.run_id = r.run_id)"},
    {"cells_ok", &RunRow::cells_ok, kNever,
     "(SELECT COUNT(*) FROM cells c WHERE c.run_id = r.run_id AND c.status = 'ok')"},
    {"cells_failed", &RunRow::cells_failed, kNever,
     "(SELECT COUNT(*) FROM cells c WHERE c.run_id = r.run_id AND c.status IN ('failed', "
     "'partial'))"},
    {"cells_unsupported", &RunRow::cells_unsupported, kNever,
     "(SELECT COUNT(*) FROM cells c WHERE c.run_id = r.run_id AND c.status = 'unsupported')"},
    {"last_repetition_at", &RunRow::last_repetition_at, kNever,
     "(SELECT MAX(p.finished_at) FROM repetitions p JOIN cells c USING (cell_id) "
     "WHERE c.run_id = r.run_id)"},
};

// cells: the plan's columns are inserted when the run begins (Store::BeginRun), the summary's
// rewritten with each repetition (Store::AddRepetition); the rest is read from the cell's first ok
// repetition and its run.
constexpr Column<CellRow> kCellTable[] = {
    {"cell_id", &CellRow::cell_id, kNever},
    {"run_id", &CellRow::run_id, kInsert, {}, {.csv = true}},
    {"cell_idx", &CellRow::cell_idx, kInsert, {}, {.json = "cell_idx", .csv = true}},
    {"cell_key", &CellRow::key, kInsert, {}, {.json = "key"}},
    {"framework", &CellRow::framework, kInsert, {}, {.json = "framework", .csv = true}},
    {"model", &CellRow::model, kInsert, {}, {.json = "model", .csv = true}},
    {"batch", &CellRow::batch, kInsert, {}, {.json = "batch", .csv = true}},
    {"precision", &CellRow::precision, kInsert, {}, {.json = "precision", .csv = true}},
    {"device", &CellRow::device, kInsert, {}, {.json = "device", .csv = true}},
    {"mode", &CellRow::workload, kInsert, {}, {.json = "workload", .csv = true}},  // the column's name from before training existed
    {"layout", &CellRow::layout, kInsert, {}, {.json = "layout", .csv = true}},
    {"variant", &CellRow::variant, kInsert, {}, {.json = "variant", .csv = true}},
    {"environment", &CellRow::environment, kInsert, {}, {.json = "environment", .csv = true}},
    {"config_json", &CellRow::config_json, kInsert, {}, {.json = "config", .unit = Unit::kJson}},
    {"profile", &CellRow::profile, kInsert, {}, {.json = "profile", .csv = true}},
    {"dataset", &CellRow::dataset, kInsert, {}, {.json = "dataset.name", .csv = true}},
    {"epochs", &CellRow::epochs, kInsert, {}, {.json = "dataset.epochs", .csv = true}},
    {"status", &CellRow::status, kUpdate, {}, {.json = "status", .csv = true}},
    {"message", &CellRow::message, kUpdate, {}, {.json = "message", .csv = true}},
    {"repetitions_ok", &CellRow::repetitions_ok, kUpdate, {}, {.json = "repetitions_ok", .csv = true}},
    {"repetitions_run", &CellRow::repetitions_run, kUpdate, {}, {.json = "repetitions_run", .csv = true}},
    {"n_samples", &CellRow::n_samples, kUpdate, {}, {.json = "latency_ns.n", .csv = true}},
    {"mean_ns", &CellRow::mean_ns, kUpdate, {}, {.json = "latency_ns.mean", .unit = Unit::kNs, .better = Better::kLower, .csv = true}},
    {"std_ns", &CellRow::std_ns, kUpdate, {}, {.json = "latency_ns.std", .unit = Unit::kNs, .csv = true}},
    {"min_ns", &CellRow::min_ns, kUpdate, {}, {.json = "latency_ns.min", .unit = Unit::kNs, .better = Better::kLower, .csv = true}},
    {"p50_ns", &CellRow::p50_ns, kUpdate, {}, {.json = "latency_ns.p50", .unit = Unit::kNs, .better = Better::kLower, .csv = true}},
    {"p90_ns", &CellRow::p90_ns, kUpdate, {}, {.json = "latency_ns.p90", .unit = Unit::kNs, .better = Better::kLower, .csv = true}},
    {"p95_ns", &CellRow::p95_ns, kUpdate, {}, {.json = "latency_ns.p95", .unit = Unit::kNs, .better = Better::kLower, .csv = true}},
    {"p99_ns", &CellRow::p99_ns, kUpdate, {}, {.json = "latency_ns.p99", .unit = Unit::kNs, .better = Better::kLower, .csv = true}},
    {"max_ns", &CellRow::max_ns, kUpdate, {}, {.json = "latency_ns.max", .unit = Unit::kNs, .better = Better::kLower, .csv = true}},
    {"median_ci_lo_ns", &CellRow::median_ci_lo_ns, kUpdate, {}, {.json = "latency_ns.median_ci[0]", .unit = Unit::kNs, .csv = true}},
    {"median_ci_hi_ns", &CellRow::median_ci_hi_ns, kUpdate, {}, {.json = "latency_ns.median_ci[1]", .unit = Unit::kNs, .csv = true}},
    {"median_ci_coverage", &CellRow::median_ci_coverage, kUpdate, {}, {.json = "latency_ns.median_ci_coverage", .unit = Unit::kFraction, .csv = true}},
    {"throughput_sps", &CellRow::throughput_sps, kUpdate, {}, {.json = "throughput_sps", .better = Better::kHigher, .csv = true}},
    {"window_throughput_sps", &CellRow::window_throughput_sps, kUpdate, {}, {.json = "window_throughput_sps", .better = Better::kHigher, .csv = true}},
    {"parameters", &CellRow::parameters, kUpdate, {}, {.json = "parameters", .csv = true}},
    {"flops_per_sample", &CellRow::flops_per_sample, kUpdate, {}, {.json = "flops_per_sample", .csv = true}},
    {"load_s", &CellRow::load_s, kUpdate, {}, {.json = "load_s", .unit = Unit::kSeconds, .better = Better::kLower, .csv = true}},
    {"compile_s", &CellRow::compile_s, kUpdate, {}, {.json = "compile_s", .unit = Unit::kSeconds, .better = Better::kLower, .csv = true}},
    {"first_call_s", &CellRow::first_call_s, kUpdate, {}, {.json = "first_call_s", .unit = Unit::kSeconds, .better = Better::kLower, .csv = true}},
    {"peak_rss_bytes", &CellRow::peak_rss_bytes, kUpdate, {}, {.json = "peak_rss_bytes", .unit = Unit::kBytes, .better = Better::kLower, .csv = true}},
    {"peak_device_bytes", &CellRow::peak_device_bytes, kUpdate, {}, {.json = "peak_device_bytes", .unit = Unit::kBytes, .better = Better::kLower, .csv = true}},
    {"energy_source", &CellRow::energy_source, kUpdate, {}, {.json = "energy.source", .csv = true}},
    {"energy_per_sample_j", &CellRow::energy_per_sample_j, kUpdate, {}, {.json = "energy.per_sample_j", .better = Better::kLower, .csv = true}},
    {"energy_ci_lo_j", &CellRow::energy_ci_lo_j, kUpdate, {}, {.json = "energy.ci_j[0]", .csv = true}},
    {"energy_ci_hi_j", &CellRow::energy_ci_hi_j, kUpdate, {}, {.json = "energy.ci_j[1]", .csv = true}},
    {"avg_power_w", &CellRow::avg_power_w, kUpdate, {}, {.json = "energy.avg_power_w", .csv = true}},
    {"throttled_repetitions", &CellRow::throttled_repetitions, kUpdate, {}, {.json = "energy.throttled_repetitions", .csv = true}},
    {"profile_deviations", &CellRow::profile_deviations, kUpdate, {}, {.json = "profile_deviations", .csv = true}},
    {"contaminated_repetitions", &CellRow::contaminated_repetitions, kUpdate, {}, {.json = "contaminated_repetitions", .csv = true}},
    {"replaced_repetitions", &CellRow::replaced_repetitions, kUpdate, {}, {.json = "replaced_repetitions", .csv = true}},
    {"epoch_s", &CellRow::epoch_s, kUpdate, {}, {.json = "dataset.epoch_s", .unit = Unit::kSeconds, .better = Better::kLower, .csv = true}},
    {"accuracy", &CellRow::accuracy, kUpdate, {}, {.json = "dataset.accuracy", .unit = Unit::kFraction, .better = Better::kHigher, .csv = true}},
    {"hello_json", &CellRow::hello_json, kNever,
     "(SELECT hello_json FROM repetitions r WHERE r.cell_id = cells.cell_id AND r.status = 'ok' "
     "ORDER BY rep_idx LIMIT 1)"},
    {"settings_json", &CellRow::settings_json, kNever,
     "(SELECT settings_json FROM repetitions r WHERE r.cell_id = cells.cell_id AND r.status = 'ok' "
     "ORDER BY rep_idx LIMIT 1)"},
    {"energy_note", &CellRow::energy_note, kNever,
     "(SELECT energy_note FROM repetitions r WHERE r.cell_id = cells.cell_id AND r.status = 'ok' "
     "ORDER BY rep_idx LIMIT 1)"},
    {"repetitions_planned", &CellRow::repetitions_planned, kNever,
     "(SELECT repetitions FROM runs WHERE runs.run_id = cells.run_id)"},
    {"run_complete", &CellRow::run_complete, kNever,
     "(SELECT status = 'complete' FROM runs WHERE runs.run_id = cells.run_id)"},
};

// repetitions: inserted once, whole, by Store::AddRepetition.
constexpr Column<RepetitionRow> kRepetitionTable[] = {
    {"repetition_id", &RepetitionRow::repetition_id, kNever},
    {"cell_id", &RepetitionRow::cell_id},
    {"rep_idx", &RepetitionRow::rep_idx, kInsert, {}, {.json = "rep_idx"}},
    {"order_idx", &RepetitionRow::order_idx, kInsert, {}, {.json = "order_idx"}},
    {"status", &RepetitionRow::status, kInsert, {}, {.json = "status"}},
    {"error_kind", &RepetitionRow::error_kind, kInsert, {}, {.json = "error_kind"}},
    {"message", &RepetitionRow::message, kInsert, {}, {.json = "message"}},
    {"phase", &RepetitionRow::phase, kInsert, {}, {.json = "phase"}},
    {"exit_code", &RepetitionRow::exit_code, kInsert, {}, {.json = "exit_code"}},
    {"term_signal", &RepetitionRow::term_signal, kInsert, {}, {.json = "term_signal"}},
    {"started_at", &RepetitionRow::started_at, kInsert, {}, {.json = "started_at"}},
    {"finished_at", &RepetitionRow::finished_at, kInsert, {}, {.json = "finished_at"}},
    {"worker_argv", &RepetitionRow::worker_argv, kInsert, {}, {.json = "worker_argv", .unit = Unit::kJson}},
    {"launch_prefix", &RepetitionRow::launch_prefix, kInsert, {}, {.json = "launch_prefix", .unit = Unit::kJson}},
    {"env_json", &RepetitionRow::env_json, kInsert, {}, {.json = "env", .unit = Unit::kJson}},
    {"env_padding_bytes", &RepetitionRow::env_padding_bytes, kInsert, {}, {.json = "env_padding_bytes", .unit = Unit::kBytes}},
    {"hello_json", &RepetitionRow::hello_json, kInsert, {}, {.json = "hello", .unit = Unit::kJson}},
    {"settings_json", &RepetitionRow::settings_json, kInsert, {}, {.json = "settings", .unit = Unit::kJson}},
    {"parameters", &RepetitionRow::parameters, kInsert, {}, {.json = "parameters"}},
    {"flops_per_sample", &RepetitionRow::flops_per_sample, kInsert, {}, {.json = "flops_per_sample"}},
    {"load_s", &RepetitionRow::load_s, kInsert, {}, {.json = "load_s", .unit = Unit::kSeconds, .better = Better::kLower}},
    {"compile_s", &RepetitionRow::compile_s, kInsert, {}, {.json = "compile_s", .unit = Unit::kSeconds, .better = Better::kLower}},
    {"first_call_s", &RepetitionRow::first_call_s, kInsert, {}, {.json = "first_call_s", .unit = Unit::kSeconds, .better = Better::kLower}},
    {"sync_overhead_ns", &RepetitionRow::sync_overhead_ns, kInsert, {}, {.json = "sync_overhead_ns", .unit = Unit::kNs, .better = Better::kLower}},
    {"timer_overhead_ns", &RepetitionRow::timer_overhead_ns, kInsert, {}, {.json = "timer_overhead_ns", .unit = Unit::kNs, .better = Better::kLower}},
    {"warmup_iterations", &RepetitionRow::warmup_iterations, kInsert, {}, {.json = "warmup_iterations"}},
    {"warmup_settled", &RepetitionRow::warmup_settled, kInsert, {}, {.json = "warmup_settled", .unit = Unit::kBool}},
    {"n_samples", &RepetitionRow::n_samples, kInsert, {}, {.json = "n_samples"}},
    {"converged", &RepetitionRow::converged, kInsert, {}, {.json = "converged", .unit = Unit::kBool}},
    {"stop_reason", &RepetitionRow::stop_reason, kInsert, {}, {.json = "stop_reason"}},
    {"median_ns", &RepetitionRow::median_ns, kInsert, {}, {.json = "median_ns", .unit = Unit::kNs, .better = Better::kLower}},
    {"rel_ci", &RepetitionRow::rel_ci, kInsert, {}, {.json = "rel_ci", .unit = Unit::kFraction, .better = Better::kLower}},
    {"window_ns", &RepetitionRow::window_ns, kInsert, {}, {.json = "window_ns", .unit = Unit::kNs}},
    {"window_iterations", &RepetitionRow::window_iterations, kInsert, {}, {.json = "window_iterations"}},
    {"peak_rss_bytes", &RepetitionRow::peak_rss_bytes, kInsert, {}, {.json = "peak_rss_bytes", .unit = Unit::kBytes, .better = Better::kLower}},
    {"peak_device_bytes", &RepetitionRow::peak_device_bytes, kInsert, {}, {.json = "peak_device_bytes", .unit = Unit::kBytes, .better = Better::kLower}},
    {"log", &RepetitionRow::log, kInsert, {}, {.json = "log"}},
    {"block_iterations", &RepetitionRow::block_iterations, kInsert, {}, {.json = "block_iterations"}},
    {"near_overhead", &RepetitionRow::near_overhead, kInsert, {}, {.json = "near_overhead", .unit = Unit::kBool}},
    {"gate_status", &RepetitionRow::gate_status, kInsert, {}, {.json = "gate.status"}},
    {"gpu_temperature_c", &RepetitionRow::gpu_temperature_c, kInsert, {}, {.json = "gate.gpu_temperature_c"}},
    {"gate_wait_s", &RepetitionRow::gate_wait_s, kInsert, {}, {.json = "gate.waited_s", .unit = Unit::kSeconds}},
    {"profile_check", &RepetitionRow::profile_check, kInsert, {}, {.json = "profile_check"}},
    {"gpu_telemetry", &RepetitionRow::gpu_telemetry, kInsert, {}, {.json = "telemetry.gpu"}},
    {"cpu_telemetry", &RepetitionRow::cpu_telemetry, kInsert, {}, {.json = "telemetry.cpu"}},
    {"energy_source", &RepetitionRow::energy_source, kInsert, {}, {.json = "energy.source"}},
    {"energy_note", &RepetitionRow::energy_note, kInsert, {}, {.json = "energy.note"}},
    {"energy_per_sample_j", &RepetitionRow::energy_per_sample_j, kInsert, {}, {.json = "energy.per_sample_j", .better = Better::kLower}},
    {"avg_power_w", &RepetitionRow::avg_power_w, kInsert, {}, {.json = "energy.avg_power_w"}},
    {"max_temperature_c", &RepetitionRow::max_temperature_c, kInsert, {}, {.json = "telemetry.max_temperature_c"}},
    {"throttle_reasons", &RepetitionRow::throttle_reasons, kInsert, {}, {.json = "telemetry.throttle_reasons"}},
    {"peak_device_bytes_nvml", &RepetitionRow::peak_device_bytes_nvml, kInsert, {}, {.json = "telemetry.peak_device_bytes_nvml", .unit = Unit::kBytes, .better = Better::kLower}},
    {"other_cpu_frac", &RepetitionRow::other_cpu_frac, kInsert, {}, {.json = "contention.other_cpu_frac", .unit = Unit::kFraction, .better = Better::kLower, .cell_median = true}},
    {"steal_frac", &RepetitionRow::steal_frac, kInsert, {}, {.json = "contention.steal_frac", .unit = Unit::kFraction, .better = Better::kLower, .cell_median = true}},
    {"load_avg_1m", &RepetitionRow::load_avg_1m, kInsert, {}, {.json = "contention.load_avg_1m", .better = Better::kLower, .cell_median = true}},
    {"contaminated", &RepetitionRow::contaminated, kInsert, {}, {.json = "contention.contaminated", .unit = Unit::kBool}},
    {"contention_policy", &RepetitionRow::contention_policy, kInsert, {}, {.json = "contention.policy"}},
    {"contention_threshold", &RepetitionRow::contention_threshold, kInsert, {}, {.json = "contention.threshold", .unit = Unit::kFraction}},
    {"excluded_chunks", &RepetitionRow::excluded_chunks, kInsert, {}, {.json = "contention.excluded_chunks"}},
    {"quiet_gate", &RepetitionRow::quiet_gate, kInsert, {}, {.json = "contention.quiet_gate"}},
    {"quiet_wait_s", &RepetitionRow::quiet_wait_s, kInsert, {}, {.json = "contention.quiet_wait_s", .unit = Unit::kSeconds}},
    {"replaces_rep_idx", &RepetitionRow::replaces_rep_idx, kInsert, {}, {.json = "contention.replaces_rep_idx"}},
    {"minor_faults_per_call", &RepetitionRow::minor_faults_per_call, kInsert, {}, {.json = "contention.minor_faults_per_call", .better = Better::kLower, .label = "minor page faults per call", .cell_median = true}},
    {"voluntary_switches", &RepetitionRow::voluntary_switches, kInsert, {}, {.json = "contention.voluntary_switches", .label = "voluntary context switches while timed", .cell_median = true}},
    {"involuntary_switches", &RepetitionRow::involuntary_switches, kInsert, {}, {.json = "contention.involuntary_switches", .better = Better::kLower, .label = "involuntary context switches while timed", .cell_median = true}},
    {"ttft_p50_ns", &RepetitionRow::ttft_p50_ns, kInsert, {}, {.json = "generation.ttft_p50_ns", .unit = Unit::kNs, .better = Better::kLower, .label = "TTFT p50 (measured requests, from the request sent)", .cell_median = true}},
    {"tpot_p50_ns", &RepetitionRow::tpot_p50_ns, kInsert, {}, {.json = "generation.tpot_p50_ns", .unit = Unit::kNs, .better = Better::kLower, .label = "TPOT p50 (measured requests)", .cell_median = true}},
    {"itl_p50_ns", &RepetitionRow::itl_p50_ns, kInsert, {}, {.json = "generation.itl_p50_ns", .unit = Unit::kNs, .better = Better::kLower, .label = "ITL p50 (every gap between tokens)", .cell_median = true}},
};

const std::span<const Column<RunRow>> kRunColumns = kRunTable;
const std::span<const Column<CellRow>> kCellColumns = kCellTable;
const std::span<const Column<RepetitionRow>> kRepetitionColumns = kRepetitionTable;

namespace {

std::string HostName() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

// Seconds since the epoch at which process pid started, and whether it is a zombie, from /proc.
std::optional<std::pair<double, bool>> ProcessStart(pid_t pid) {
  std::string stat, uptime;
  if (!ReadFile(fmt::format("/proc/{}/stat", pid), &stat) || !ReadFile("/proc/stat", &uptime)) {
    return std::nullopt;
  }
  // Fields after the command name, which is in parentheses and may hold spaces: state is the
  // first, starttime (clock ticks since boot) the 20th.
  auto fields = Split(stat.substr(stat.rfind(')') + 2), ' ');
  size_t btime_at = uptime.find("btime ");
  if (fields.size() < 20 || btime_at == std::string::npos) return std::nullopt;
  const double boot = std::strtod(uptime.c_str() + btime_at + 6, nullptr);
  const double ticks = std::strtod(fields[19].c_str(), nullptr);
  return std::pair{boot + ticks / static_cast<double>(::sysconf(_SC_CLK_TCK)), fields[0] == "Z"};
}

// The run's controller was on this host and is gone: no such pid, a zombie, or a pid that a
// process started after the run has taken over.
bool ControllerGone(const RunRow& r) {
  static const std::string host = HostName();
  auto pid = static_cast<pid_t>(r.controller_pid);
  if (r.host != host || pid == ::getpid()) return false;
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  auto start = ProcessStart(pid);
  if (!start) return false;
  std::tm tm{};
  if (::strptime(r.started_at.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return start->second;
  const auto run_started = static_cast<double>(::timegm(&tm));
  return start->second || start->first > run_started + 2;
}

RunRow ReadRun(const Stmt& s) {
  RunRow r;
  ReadColumns(s, kRunColumns, r);
  if (r.status == "running" && ControllerGone(r)) {
    r.status = "incomplete";
    r.finished_at = r.last_repetition_at.value_or(r.started_at);
    r.controller_gone = true;
  }
  return r;
}

}  // namespace

plan::AxisValues AxisValuesOf(const CellRow& c) {
  return {c.framework, c.model, std::to_string(c.batch), c.precision, c.device,
          c.workload, c.layout, c.variant, c.environment, c.profile};
}

std::vector<RunRow> ListRuns(Db& db) {
  static const std::string sql =
      fmt::format("SELECT {} FROM runs r ORDER BY r.run_id", SelectList(kRunColumns));
  Stmt s = db.Prepare(sql);
  std::vector<RunRow> out;
  while (s.Step()) out.push_back(ReadRun(s));
  return out;
}

int64_t ResolveRun(Db& db, const std::string& spec) {
  if (spec == "latest" || spec == "last") {
    Stmt s = db.Prepare("SELECT MAX(run_id) FROM runs");
    s.Step();
    if (s.IsNull(0)) throw UserError(fmt::format("database {} holds no runs", db.path()));
    return s.Int(0);
  }
  auto id = ParseInt(spec);
  if (!id) {
    throw UserError(fmt::format("\"{}\" is not a run; allowed: a run id from `dlbench list`, or latest", spec));
  }
  Stmt s = db.Prepare("SELECT 1 FROM runs WHERE run_id = ?");
  s.Bind(1, *id);
  if (!s.Step()) throw UserError(fmt::format("database {} has no run {}", db.path(), *id));
  return *id;
}

RunRow GetRun(Db& db, int64_t run_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM runs r WHERE r.run_id = ?", SelectList(kRunColumns));
  Stmt s = db.Prepare(sql);
  s.Bind(1, run_id);
  if (!s.Step()) throw UserError(fmt::format("database {} has no run {}", db.path(), run_id));
  return ReadRun(s);
}

std::vector<int64_t> LogicalRun(Db& db, int64_t run_id) {
  Stmt s = db.Prepare(
      "SELECT o.run_id FROM runs r JOIN runs o ON o.sweep_id = r.sweep_id WHERE r.run_id = ? "
      "ORDER BY o.shard_index, o.run_id");
  s.Bind(1, run_id);
  std::vector<int64_t> out;
  while (s.Step()) out.push_back(s.Int(0));
  if (out.empty()) out.push_back(run_id);  // not a shard (sweep_id NULL joins nothing)
  return out;
}

result::History GetHistory(Db& db, const std::string& host, const plan::Plan& plan) {
  Stmt s = db.Prepare(
      "SELECT r.rep_idx = 0, (julianday(r.finished_at) - julianday(r.started_at)) * 86400.0 "
      "FROM repetitions r JOIN cells c USING (cell_id) JOIN runs USING (run_id) "
      "WHERE runs.host = ? AND c.cell_key = ? AND c.config_json = ? AND r.status = 'ok'");
  result::History h;
  for (const auto& cell : plan.cells) {
    s.Bind(1, host);
    s.Bind(2, cell.Key());
    s.Bind(3, CellConfigJson(cell));
    std::vector<double> first, later;
    while (s.Step()) (s.Int(0) ? first : later).push_back(s.Double(1));
    s.Reset();
    if (first.empty() && later.empty()) continue;
    result::CellHistory c;
    if (!first.empty()) c.first_s = stats::Median(first);
    if (!later.empty()) c.later_s = stats::Median(later);
    if (!c.first_s) c.first_s = c.later_s;  // only later repetitions survived: use those
    c.repetitions = static_cast<int>(first.size() + later.size());
    h[cell.cell_idx] = c;
  }
  return h;
}

std::vector<CellRow> GetCells(Db& db, int64_t run_id) {
  static const std::string sql = fmt::format(
      "SELECT {} FROM cells WHERE run_id = ? ORDER BY cell_idx", SelectList(kCellColumns));
  Stmt s = db.Prepare(sql);
  s.Bind(1, run_id);
  std::vector<CellRow> out;
  while (s.Step()) ReadColumns(s, kCellColumns, out.emplace_back());
  return out;
}

std::vector<RepetitionRow> GetRepetitions(Db& db, int64_t cell_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM repetitions WHERE cell_id = ? ORDER BY rep_idx",
                  SelectList(kRepetitionColumns));
  Stmt s = db.Prepare(sql);
  s.Bind(1, cell_id);
  std::vector<RepetitionRow> out;
  while (s.Step()) ReadColumns(s, kRepetitionColumns, out.emplace_back());
  return out;
}

std::vector<TelemetryRow> GetTelemetry(Db& db, int64_t repetition_id) {
  Stmt s = db.Prepare(
      "SELECT t_ns, phase, gpu_energy_j, gpu_power_w, gpu_temperature_c, sm_clock_mhz, "
      "mem_clock_mhz, clock_event_reasons, gpu_util_pct, mem_util_pct, device_bytes, cpu_energy_j, "
      "rss_bytes FROM telemetry WHERE repetition_id = ? ORDER BY t_ns");
  s.Bind(1, repetition_id);
  std::vector<TelemetryRow> out;
  while (s.Step()) {
    TelemetryRow t;
    int i = 0;
    t.t_ns = s.Int(i++);
    t.phase = s.Text(i++);
    t.gpu_energy_j = s.OptDouble(i++);
    t.gpu_power_w = s.OptDouble(i++);
    for (auto* f : {&t.gpu_temperature_c, &t.sm_clock_mhz, &t.mem_clock_mhz, &t.clock_event_reasons,
                    &t.gpu_util_pct, &t.mem_util_pct, &t.device_bytes}) {
      *f = s.OptInt(i++);
    }
    t.cpu_energy_j = s.OptDouble(i++);
    t.rss_bytes = s.OptInt(i++);
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<EnergyWindowRow> GetEnergyWindows(Db& db, int64_t repetition_id) {
  Stmt s = db.Prepare(
      "SELECT window_idx, t_start_ns, duration_ns, iterations, energy_j, avg_power_w, "
      "max_temperature_c, sm_clock_mhz, mem_clock_mhz, clock_event_reasons FROM energy_windows "
      "WHERE repetition_id = ? ORDER BY window_idx");
  s.Bind(1, repetition_id);
  std::vector<EnergyWindowRow> out;
  while (s.Step()) {
    EnergyWindowRow w;
    w.window_idx = s.Int(0);
    w.t_start_ns = s.Int(1);
    w.duration_ns = s.Int(2);
    w.iterations = s.Int(3);
    w.energy_j = s.Double(4);
    w.avg_power_w = s.Double(5);
    w.max_temperature_c = s.OptInt(6);
    w.sm_clock_mhz = s.OptDouble(7);
    w.mem_clock_mhz = s.OptDouble(8);
    w.clock_event_reasons = s.Int(9);
    out.push_back(w);
  }
  return out;
}

std::vector<result::EpochResult> GetTrainingEpochs(Db& db, int64_t repetition_id) {
  Stmt s = db.Prepare(
      "SELECT epoch_idx, epoch_ns, train_loss, accuracy FROM training_epochs "
      "WHERE repetition_id = ? ORDER BY epoch_idx");
  s.Bind(1, repetition_id);
  std::vector<result::EpochResult> out;
  while (s.Step()) {
    out.push_back({.epoch_idx = s.Int(0), .epoch_ns = s.Int(1), .train_loss = s.Double(2),
                   .accuracy = s.Double(3)});
  }
  return out;
}

std::vector<result::RequestTrace> GetRequests(Db& db, int64_t repetition_id, bool with_warmup) {
  Stmt s = db.Prepare(
      "SELECT request_idx, is_warmup, status, error, input_tokens, output_tokens_requested, due_ns, "
      "sent_ns, done_ns, token_source, usage_output_tokens, usage_input_tokens FROM requests "
      "WHERE repetition_id = ? AND (? OR is_warmup = 0) ORDER BY request_idx");
  s.Bind(1, repetition_id);
  s.Bind(2, static_cast<int64_t>(with_warmup));
  std::vector<result::RequestTrace> out;
  std::unordered_map<int64_t, size_t> at;
  while (s.Step()) {
    result::RequestTrace t;
    int i = 0;
    t.index = s.Int(i++);
    t.warmup = s.Int(i++) != 0;
    t.status = s.Text(i++);
    t.error = s.OptText(i++).value_or("");
    t.input_tokens = s.Int(i++);
    t.output_tokens_requested = s.Int(i++);
    t.due_ns = s.Int(i++);
    t.sent_ns = s.Int(i++);
    t.done_ns = s.Int(i++);
    t.token_source = s.Text(i++);
    t.usage_output_tokens = s.Int(i++);
    t.usage_input_tokens = s.Int(i++);
    at[t.index] = out.size();
    out.push_back(std::move(t));
  }
  Stmt c = db.Prepare(
      "SELECT request_idx, arrival_ns, tokens FROM token_chunks WHERE repetition_id = ? "
      "ORDER BY request_idx, chunk_idx");
  c.Bind(1, repetition_id);
  while (c.Step()) {
    auto it = at.find(c.Int(0));
    if (it == at.end()) continue;  // a warm-up request's chunks, left out
    out[it->second].chunks.push_back({c.Int(1), static_cast<int32_t>(c.Int(2))});
  }
  return out;
}

std::vector<double> GetEnergyPerSample(Db& db, int64_t repetition_id, int64_t batch) {
  std::vector<double> out;
  for (const auto& w : GetEnergyWindows(db, repetition_id)) {
    out.push_back(w.energy_j / (static_cast<double>(w.iterations) * static_cast<double>(batch)));
  }
  return out;
}

std::vector<ValidationRow> GetValidations(Db& db, int64_t run_id) {
  Stmt s = db.Prepare(
      "SELECT model, precision, device, framework_a, framework_b, status, inputs, max_abs_err, "
      "max_rel_err, cosine, top1_agreement, tolerance, tolerance_reason, settings_a, settings_b, "
      "weights_source, message, workload, steps, max_loss_err, weights_err, running_stats_err, "
      "loss_tolerance, weights_tolerance FROM validations WHERE run_id = ? ORDER BY validation_id");
  s.Bind(1, run_id);
  std::vector<ValidationRow> out;
  while (s.Step()) {
    ValidationRow v;
    int i = 0;
    v.model = s.Text(i++);
    v.precision = s.Text(i++);
    v.device = s.Text(i++);
    v.framework_a = s.Text(i++);
    v.framework_b = s.OptText(i++);
    v.status = s.Text(i++);
    v.inputs = s.Int(i++);
    for (auto* f : {&v.max_abs_err, &v.max_rel_err, &v.cosine, &v.top1_agreement, &v.tolerance}) {
      *f = s.OptDouble(i++);
    }
    for (auto* f : {&v.tolerance_reason, &v.settings_a, &v.settings_b, &v.weights_source, &v.message}) {
      *f = s.OptText(i++);
    }
    v.workload = s.Text(i++);
    v.steps = s.OptInt(i++);
    for (auto* f : {&v.max_loss_err, &v.weights_err, &v.running_stats_err, &v.loss_tolerance,
                    &v.weights_tolerance}) {
      *f = s.OptDouble(i++);
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<SampleRow> GetSamples(Db& db, int64_t repetition_id) {
  Stmt s = db.Prepare(
      "SELECT chunk_idx, iter_idx, is_warmup, wall_ns FROM samples WHERE repetition_id = ? "
      "ORDER BY iter_idx");
  s.Bind(1, repetition_id);
  std::vector<SampleRow> out;
  while (s.Step()) out.push_back({s.Int(0), s.Int(1), s.Int(2), s.Int(3)});
  return out;
}

std::vector<double> GetSteadyWallNs(Db& db, int64_t repetition_id, bool with_excluded) {
  Stmt s = db.Prepare(
      with_excluded
          ? "SELECT wall_ns FROM samples WHERE repetition_id = ?1 AND is_warmup = 0 AND wall_ns > 0 "
            "ORDER BY iter_idx"
          : "SELECT wall_ns FROM samples WHERE repetition_id = ?1 AND is_warmup = 0 AND wall_ns > 0 "
            "AND chunk_idx NOT IN (SELECT chunk_idx FROM chunks WHERE repetition_id = ?1 AND excluded) "
            "ORDER BY iter_idx");
  s.Bind(1, repetition_id);
  std::vector<double> out;
  while (s.Step()) out.push_back(static_cast<double>(s.Int(0)));
  return out;
}

std::vector<ChunkRow> GetChunks(Db& db, int64_t repetition_id) {
  Stmt s = db.Prepare(
      "SELECT chunk_idx, phase, wall_ns, other_cpu_frac, steal_frac, minor_faults, contaminated, excluded "
      "FROM chunks WHERE repetition_id = ? ORDER BY chunk_idx");
  s.Bind(1, repetition_id);
  std::vector<ChunkRow> out;
  while (s.Step()) {
    out.push_back({s.Int(0), s.Text(1), s.Int(2), s.OptDouble(3), s.OptDouble(4), s.OptInt(5), s.Int(6),
                   s.Int(7)});
  }
  return out;
}

BusyTime GetRunBusyTime(Db& db, int64_t run_id) {
  Stmt s = db.Prepare(
      "SELECT COALESCE(SUM(k.wall_ns), 0), COALESCE(SUM(CASE WHEN k.contaminated THEN k.wall_ns END), 0) "
      "FROM chunks k JOIN repetitions r USING (repetition_id) JOIN cells c USING (cell_id) "
      "WHERE c.run_id = ? AND k.phase != 'window'");
  s.Bind(1, run_id);
  BusyTime b;
  if (s.Step()) {
    b.chunk_s = static_cast<double>(s.Int(0)) * 1e-9;
    b.contaminated_s = static_cast<double>(s.Int(1)) * 1e-9;
  }
  return b;
}

}  // namespace dlb::store
