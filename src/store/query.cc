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
namespace {

constexpr const char* kRunColumns =
    "r.run_id, r.experiment, r.experiment_file, r.experiment_toml, r.status, r.started_at, "
    "r.finished_at, r.host, r.dlbench_version, r.dlbench_revision, r.command_line, r.host_json, "
    "r.order_kind, r.seed, r.repetitions, r.controller_pid, r.cooldown_s, "
    "(SELECT COUNT(*) FROM cells c WHERE c.run_id = r.run_id), "
    "(SELECT COUNT(*) FROM cells c WHERE c.run_id = r.run_id AND c.status = 'ok'), "
    "(SELECT COUNT(*) FROM cells c WHERE c.run_id = r.run_id AND c.status IN ('failed', 'partial')), "
    "(SELECT COUNT(*) FROM cells c WHERE c.run_id = r.run_id AND c.status = 'unsupported'), "
    "r.max_repetitions, r.target_ratio_ci, r.compare_by, "
    "(SELECT MAX(p.finished_at) FROM repetitions p JOIN cells c USING (cell_id) "
    "WHERE c.run_id = r.run_id), "
    "r.run_uuid, r.sweep_id, r.shard_index, r.shard_count, r.merged_from";

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
  int i = 0;
  r.run_id = s.Int(i++);
  r.experiment = s.Text(i++);
  r.experiment_file = s.Text(i++);
  r.experiment_toml = s.Text(i++);
  r.status = s.Text(i++);
  r.started_at = s.Text(i++);
  r.finished_at = s.OptText(i++);
  r.host = s.Text(i++);
  r.dlbench_version = s.Text(i++);
  r.dlbench_revision = s.Text(i++);
  r.command_line = s.Text(i++);
  r.host_json = s.Text(i++);
  r.order_kind = s.Text(i++);
  r.seed = s.Int(i++);
  r.repetitions = s.Int(i++);
  r.controller_pid = s.Int(i++);
  r.cooldown_s = s.Double(i++);
  r.cells = s.Int(i++);
  r.cells_ok = s.Int(i++);
  r.cells_failed = s.Int(i++);
  r.cells_unsupported = s.Int(i++);
  r.max_repetitions = s.OptInt(i++);
  r.target_ratio_ci = s.OptDouble(i++);
  if (auto by = s.OptText(i++)) r.compare_by = *by;
  std::optional<std::string> last_repetition_at = s.OptText(i++);
  r.run_uuid = s.OptText(i++).value_or("");
  r.sweep_id = s.OptText(i++).value_or("");
  r.shard_index = s.OptInt(i++).value_or(0);
  r.shard_count = s.OptInt(i++).value_or(1);
  r.merged_from = s.OptText(i++);
  if (r.status == "running" && ControllerGone(r)) {
    r.status = "incomplete";
    r.finished_at = last_repetition_at.value_or(r.started_at);
    r.controller_gone = true;
  }
  return r;
}

}  // namespace

std::vector<RunRow> ListRuns(Db& db) {
  Stmt s = db.Prepare(fmt::format("SELECT {} FROM runs r ORDER BY r.run_id", kRunColumns));
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
  Stmt s = db.Prepare(fmt::format("SELECT {} FROM runs r WHERE r.run_id = ?", kRunColumns));
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
  Stmt s = db.Prepare(
      "SELECT cell_id, cell_idx, cell_key, framework, model, batch, precision, device, mode, "
      "layout, variant, environment, config_json, status, message, repetitions_ok, "
      "repetitions_run, n_samples, mean_ns, std_ns, min_ns, p50_ns, p90_ns, p95_ns, p99_ns, max_ns, "
      "median_ci_lo_ns, median_ci_hi_ns, median_ci_coverage, throughput_sps, "
      "window_throughput_sps, parameters, flops_per_sample, load_s, compile_s, first_call_s, "
      "peak_rss_bytes, peak_device_bytes, profile, energy_source, energy_per_sample_j, "
      "energy_ci_lo_j, energy_ci_hi_j, avg_power_w, throttled_repetitions, profile_deviations, "
      "contaminated_repetitions, dataset, epochs, epoch_s, accuracy, "
      "(SELECT hello_json FROM repetitions r WHERE r.cell_id = cells.cell_id AND r.status = 'ok' "
      " ORDER BY rep_idx LIMIT 1), "
      "(SELECT settings_json FROM repetitions r WHERE r.cell_id = cells.cell_id AND r.status = 'ok' "
      " ORDER BY rep_idx LIMIT 1), "
      "(SELECT energy_note FROM repetitions r WHERE r.cell_id = cells.cell_id AND r.status = 'ok' "
      " ORDER BY rep_idx LIMIT 1), "
      "(SELECT repetitions FROM runs WHERE runs.run_id = cells.run_id), "
      "(SELECT status = 'complete' FROM runs WHERE runs.run_id = cells.run_id) "
      "FROM cells WHERE run_id = ? ORDER BY cell_idx");
  s.Bind(1, run_id);
  std::vector<CellRow> out;
  while (s.Step()) {
    CellRow c;
    int i = 0;
    c.cell_id = s.Int(i++);
    c.cell_idx = s.Int(i++);
    c.key = s.Text(i++);
    c.framework = s.Text(i++);
    c.model = s.Text(i++);
    c.batch = s.Int(i++);
    c.precision = s.Text(i++);
    c.device = s.Text(i++);
    c.workload = s.Text(i++);  // the column's name from before training existed
    c.layout = s.Text(i++);
    c.variant = s.Text(i++);
    c.environment = s.Text(i++);
    c.config_json = s.Text(i++);
    c.status = s.Text(i++);
    c.message = s.OptText(i++);
    c.repetitions_ok = s.Int(i++);
    c.repetitions_run = s.Int(i++);
    c.n_samples = s.OptInt(i++);
    for (auto* f : {&c.mean_ns, &c.std_ns, &c.min_ns, &c.p50_ns, &c.p90_ns, &c.p95_ns, &c.p99_ns,
                    &c.max_ns, &c.median_ci_lo_ns, &c.median_ci_hi_ns, &c.median_ci_coverage,
                    &c.throughput_sps, &c.window_throughput_sps}) {
      *f = s.OptDouble(i++);
    }
    c.parameters = s.OptInt(i++);
    c.flops_per_sample = s.OptInt(i++);
    c.load_s = s.OptDouble(i++);
    c.compile_s = s.OptDouble(i++);
    c.first_call_s = s.OptDouble(i++);
    c.peak_rss_bytes = s.OptInt(i++);
    c.peak_device_bytes = s.OptInt(i++);
    c.profile = s.Text(i++);
    c.energy_source = s.OptText(i++);
    for (auto* f : {&c.energy_per_sample_j, &c.energy_ci_lo_j, &c.energy_ci_hi_j, &c.avg_power_w}) {
      *f = s.OptDouble(i++);
    }
    c.throttled_repetitions = s.OptInt(i++);
    c.profile_deviations = s.OptInt(i++);
    c.contaminated_repetitions = s.OptInt(i++);
    c.dataset = s.OptText(i++);
    c.epochs = s.OptInt(i++);
    c.epoch_s = s.OptDouble(i++);
    c.accuracy = s.OptDouble(i++);
    c.hello_json = s.OptText(i++);
    c.settings_json = s.OptText(i++);
    c.energy_note = s.OptText(i++);
    c.repetitions_planned = s.Int(i++);
    c.run_complete = s.Int(i++) != 0;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<RepetitionRow> GetRepetitions(Db& db, int64_t cell_id) {
  Stmt s = db.Prepare(
      "SELECT repetition_id, cell_id, rep_idx, order_idx, status, error_kind, message, phase, "
      "exit_code, term_signal, started_at, finished_at, worker_argv, launch_prefix, env_json, "
      "env_padding_bytes, hello_json, settings_json, parameters, flops_per_sample, load_s, "
      "compile_s, first_call_s, sync_overhead_ns, timer_overhead_ns, warmup_iterations, "
      "warmup_settled, n_samples, converged, stop_reason, median_ns, rel_ci, window_ns, "
      "window_iterations, peak_rss_bytes, peak_device_bytes, log, block_iterations, near_overhead, "
      "gate_status, gpu_temperature_c, gate_wait_s, profile_check, gpu_telemetry, cpu_telemetry, "
      "energy_source, energy_note, energy_per_sample_j, avg_power_w, max_temperature_c, "
      "throttle_reasons, peak_device_bytes_nvml, other_cpu_frac, steal_frac, load_avg_1m, "
      "contaminated FROM repetitions WHERE cell_id = ? ORDER BY rep_idx");
  s.Bind(1, cell_id);
  std::vector<RepetitionRow> out;
  while (s.Step()) {
    RepetitionRow r;
    int i = 0;
    r.repetition_id = s.Int(i++);
    r.cell_id = s.Int(i++);
    r.rep_idx = s.Int(i++);
    r.order_idx = s.Int(i++);
    r.status = s.Text(i++);
    r.error_kind = s.OptText(i++);
    r.message = s.OptText(i++);
    r.phase = s.OptText(i++);
    r.exit_code = s.OptInt(i++);
    r.term_signal = s.OptInt(i++);
    r.started_at = s.Text(i++);
    r.finished_at = s.Text(i++);
    r.worker_argv = s.Text(i++);
    r.launch_prefix = s.Text(i++);
    r.env_json = s.Text(i++);
    r.env_padding_bytes = s.Int(i++);
    r.hello_json = s.OptText(i++);
    r.settings_json = s.OptText(i++);
    r.parameters = s.OptInt(i++);
    r.flops_per_sample = s.OptInt(i++);
    r.load_s = s.OptDouble(i++);
    r.compile_s = s.OptDouble(i++);
    r.first_call_s = s.OptDouble(i++);
    r.sync_overhead_ns = s.OptInt(i++);
    r.timer_overhead_ns = s.OptInt(i++);
    r.warmup_iterations = s.Int(i++);
    r.warmup_settled = s.Int(i++);
    r.n_samples = s.Int(i++);
    r.converged = s.Int(i++);
    r.stop_reason = s.OptText(i++);
    r.median_ns = s.OptDouble(i++);
    r.rel_ci = s.OptDouble(i++);
    r.window_ns = s.OptInt(i++);
    r.window_iterations = s.OptInt(i++);
    r.peak_rss_bytes = s.OptInt(i++);
    r.peak_device_bytes = s.OptInt(i++);
    r.log = s.Text(i++);
    r.block_iterations = s.Int(i++);
    r.near_overhead = s.Int(i++);
    r.gate_status = s.OptText(i++);
    r.gpu_temperature_c = s.OptInt(i++);
    r.gate_wait_s = s.Double(i++);
    for (auto* f : {&r.profile_check, &r.gpu_telemetry, &r.cpu_telemetry, &r.energy_source,
                    &r.energy_note}) {
      *f = s.OptText(i++);
    }
    r.energy_per_sample_j = s.OptDouble(i++);
    r.avg_power_w = s.OptDouble(i++);
    r.max_temperature_c = s.OptInt(i++);
    r.throttle_reasons = s.OptText(i++);
    r.peak_device_bytes_nvml = s.OptInt(i++);
    r.other_cpu_frac = s.OptDouble(i++);
    r.steal_frac = s.OptDouble(i++);
    r.load_avg_1m = s.OptDouble(i++);
    r.contaminated = s.OptInt(i++);
    out.push_back(std::move(r));
  }
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

std::vector<double> GetSteadyWallNs(Db& db, int64_t repetition_id) {
  Stmt s = db.Prepare(
      "SELECT wall_ns FROM samples WHERE repetition_id = ? AND is_warmup = 0 AND wall_ns > 0 "
      "ORDER BY iter_idx");
  s.Bind(1, repetition_id);
  std::vector<double> out;
  while (s.Step()) out.push_back(static_cast<double>(s.Int(0)));
  return out;
}

}  // namespace dlb::store
