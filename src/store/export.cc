#include "store/export.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "store/query.h"
#include "util/error.h"
#include "util/strings.h"

namespace dlb::store {
namespace {

using nlohmann::ordered_json;

template <typename T>
ordered_json Opt(const std::optional<T>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}

ordered_json ParsedOrNull(const std::optional<std::string>& s) {
  if (!s || s->empty()) return nullptr;
  return ordered_json::parse(*s, nullptr, false);
}

template <typename T>
std::string CsvOpt(const std::optional<T>& v) {
  if (!v) return "";
  if constexpr (std::is_floating_point_v<T>) {
    return fmt::format("{:.6g}", *v);
  } else {
    return fmt::format("{}", *v);
  }
}

// The CSV's columns, in the order and under the names of its header: each is a column of
// kCellColumns (query.h), which says where its value is; `mode` is exported as `workload`.
struct CsvColumn {
  std::string_view header, column = header;
};
constexpr CsvColumn kCsvColumns[] = {
    {"run_id"}, {"cell_idx"}, {"framework"}, {"model"}, {"batch"}, {"precision"}, {"device"},
    {"workload", "mode"}, {"layout"}, {"variant"}, {"environment"}, {"status"},
    {"repetitions_ok"}, {"repetitions_run"}, {"n_samples"}, {"mean_ns"}, {"std_ns"}, {"min_ns"},
    {"p50_ns"}, {"p90_ns"}, {"p95_ns"}, {"p99_ns"}, {"max_ns"}, {"median_ci_lo_ns"},
    {"median_ci_hi_ns"}, {"throughput_sps"}, {"window_throughput_sps"}, {"parameters"},
    {"flops_per_sample"}, {"load_s"}, {"compile_s"}, {"first_call_s"}, {"peak_rss_bytes"},
    {"peak_device_bytes"}, {"message"}, {"profile"}, {"energy_source"}, {"energy_per_sample_j"},
    {"energy_ci_lo_j"}, {"energy_ci_hi_j"}, {"avg_power_w"}, {"throttled_repetitions"},
    {"dataset"}, {"epochs"}, {"epoch_s"}, {"accuracy"}, {"contaminated_repetitions"},
    {"replaced_repetitions"}};

// A cell's value in one column: text as a CSV field, a number as CsvOpt writes it, NULL empty.
std::string CsvValue(const CellRow& c, const Member<CellRow>& member) {
  return std::visit(
      [&](auto m) -> std::string {
        const auto& v = c.*m;
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return CsvField(v);
        } else if constexpr (std::is_same_v<T, std::optional<std::string>>) {
          return CsvField(v.value_or(""));
        } else if constexpr (std::is_same_v<T, std::optional<int64_t>> ||
                             std::is_same_v<T, std::optional<double>>) {
          return CsvOpt(v);
        } else {
          return CsvOpt(std::optional<T>(v));
        }
      },
      member);
}

}  // namespace

void ExportCsv(Db& db, int64_t run_id, std::ostream& out) {
  static const std::vector<const Column<CellRow>*> columns = [] {
    std::vector<const Column<CellRow>*> out;
    for (const CsvColumn& csv : kCsvColumns) {
      auto it = std::find_if(kCellColumns.begin(), kCellColumns.end(),
                             [&](const Column<CellRow>& c) { return c.name == csv.column; });
      DLB_CHECK(it != kCellColumns.end()) << "the CSV's column " << csv.column << " is not a cell's";
      out.push_back(&*it);
    }
    return out;
  }();
  for (size_t i = 0; i < std::size(kCsvColumns); ++i) out << (i ? "," : "") << kCsvColumns[i].header;
  out << "\n";
  for (const CellRow& c : GetCells(db, run_id)) {
    for (size_t i = 0; i < columns.size(); ++i) out << (i ? "," : "") << CsvValue(c, columns[i]->member);
    out << "\n";
  }
}

nlohmann::ordered_json RequestsJson(std::span<const result::RequestTrace> requests) {
  ordered_json out = ordered_json::array();
  for (const auto& t : requests) {
    ordered_json chunks = ordered_json::array();
    for (const auto& c : t.chunks) chunks.push_back({c.arrival_ns, c.tokens});
    out.push_back({{"index", t.index}, {"warmup", t.warmup}, {"status", t.status}, {"error", t.error},
                   {"input_tokens", t.input_tokens}, {"output_tokens_requested", t.output_tokens_requested},
                   {"output_tokens", t.OutputTokens()}, {"usage_output_tokens", t.usage_output_tokens},
                   {"usage_input_tokens", t.usage_input_tokens}, {"token_source", t.token_source},
                   {"due_ns", t.due_ns}, {"sent_ns", t.sent_ns}, {"done_ns", t.done_ns}, {"chunks", chunks}});
  }
  return out;
}

void ExportJson(Db& db, int64_t run_id, bool with_samples, std::ostream& out) {
  RunRow run = GetRun(db, run_id);
  ordered_json j;
  j["format"] = "dlbench-run";
  j["version"] = 1;
  j["run"] = {{"run_id", run.run_id},
              {"experiment", run.experiment},
              {"experiment_file", run.experiment_file},
              {"status", run.status},
              {"started_at", run.started_at},
              {"finished_at", Opt(run.finished_at)},
              {"host", run.host},
              {"dlbench_version", run.dlbench_version},
              {"dlbench_revision", run.dlbench_revision},
              {"command_line", ordered_json::parse(run.command_line)},
              {"host_facts", ordered_json::parse(run.host_json)},
              {"order", run.order_kind},
              {"seed", run.seed},
              {"repetitions", run.repetitions},
              {"cooldown_s", run.cooldown_s},
              {"experiment_toml", run.experiment_toml}};
  ordered_json cells = ordered_json::array();
  for (const CellRow& c : GetCells(db, run_id)) {
    ordered_json cj = {
        {"cell_idx", c.cell_idx}, {"key", c.key}, {"framework", c.framework},
        {"model", c.model}, {"batch", c.batch}, {"precision", c.precision},
        {"device", c.device}, {"workload", c.workload}, {"layout", c.layout}, {"variant", c.variant},
        {"environment", c.environment}, {"config", ordered_json::parse(c.config_json)},
        {"status", c.status}, {"message", Opt(c.message)},
        {"repetitions_ok", c.repetitions_ok}, {"repetitions_run", c.repetitions_run},
        {"latency_ns", {{"n", Opt(c.n_samples)}, {"mean", Opt(c.mean_ns)}, {"std", Opt(c.std_ns)},
                        {"min", Opt(c.min_ns)}, {"p50", Opt(c.p50_ns)}, {"p90", Opt(c.p90_ns)},
                        {"p95", Opt(c.p95_ns)}, {"p99", Opt(c.p99_ns)}, {"max", Opt(c.max_ns)},
                        {"median_ci", {Opt(c.median_ci_lo_ns), Opt(c.median_ci_hi_ns)}},
                        {"median_ci_coverage", Opt(c.median_ci_coverage)}}},
        {"throughput_sps", Opt(c.throughput_sps)},
        {"window_throughput_sps", Opt(c.window_throughput_sps)},
        {"parameters", Opt(c.parameters)}, {"flops_per_sample", Opt(c.flops_per_sample)},
        {"load_s", Opt(c.load_s)}, {"compile_s", Opt(c.compile_s)},
        {"first_call_s", Opt(c.first_call_s)}, {"peak_rss_bytes", Opt(c.peak_rss_bytes)},
        {"peak_device_bytes", Opt(c.peak_device_bytes)},
        {"profile", c.profile},
        {"profile_deviations", Opt(c.profile_deviations)},
        {"energy", {{"source", Opt(c.energy_source)},
                    {"per_sample_j", Opt(c.energy_per_sample_j)},
                    {"ci_j", {Opt(c.energy_ci_lo_j), Opt(c.energy_ci_hi_j)}},
                    {"avg_power_w", Opt(c.avg_power_w)},
                    {"throttled_repetitions", Opt(c.throttled_repetitions)}}},
        {"contaminated_repetitions", Opt(c.contaminated_repetitions)},
        {"replaced_repetitions", Opt(c.replaced_repetitions)}};
    if (c.dataset) {
      cj["dataset"] = {{"name", *c.dataset}, {"epochs", Opt(c.epochs)},
                       {"epoch_s", Opt(c.epoch_s)}, {"accuracy", Opt(c.accuracy)}};
    }
    ordered_json reps = ordered_json::array();
    for (const RepetitionRow& r : GetRepetitions(db, c.cell_id)) {
      ordered_json rj = {
          {"rep_idx", r.rep_idx}, {"order_idx", r.order_idx}, {"status", r.status},
          {"error_kind", Opt(r.error_kind)}, {"message", Opt(r.message)},
          {"phase", Opt(r.phase)}, {"exit_code", Opt(r.exit_code)},
          {"term_signal", Opt(r.term_signal)}, {"started_at", r.started_at},
          {"finished_at", r.finished_at}, {"worker_argv", ordered_json::parse(r.worker_argv)},
          {"launch_prefix", ordered_json::parse(r.launch_prefix)},
          {"env", ordered_json::parse(r.env_json)}, {"env_padding_bytes", r.env_padding_bytes},
          {"hello", ParsedOrNull(r.hello_json)}, {"settings", ParsedOrNull(r.settings_json)},
          {"parameters", Opt(r.parameters)}, {"flops_per_sample", Opt(r.flops_per_sample)},
          {"load_s", Opt(r.load_s)}, {"compile_s", Opt(r.compile_s)},
          {"first_call_s", Opt(r.first_call_s)}, {"sync_overhead_ns", Opt(r.sync_overhead_ns)},
          {"timer_overhead_ns", Opt(r.timer_overhead_ns)},
          {"warmup_iterations", r.warmup_iterations}, {"warmup_settled", r.warmup_settled != 0},
          {"n_samples", r.n_samples}, {"converged", r.converged != 0},
          {"stop_reason", Opt(r.stop_reason)}, {"median_ns", Opt(r.median_ns)},
          {"rel_ci", Opt(r.rel_ci)}, {"window_ns", Opt(r.window_ns)},
          {"window_iterations", Opt(r.window_iterations)},
          {"peak_rss_bytes", Opt(r.peak_rss_bytes)},
          {"peak_device_bytes", Opt(r.peak_device_bytes)},
          {"block_iterations", r.block_iterations}, {"near_overhead", r.near_overhead != 0},
          {"gate", {{"status", Opt(r.gate_status)}, {"gpu_temperature_c", Opt(r.gpu_temperature_c)},
                    {"waited_s", r.gate_wait_s}}},
          {"profile_check", Opt(r.profile_check)},
          {"telemetry", {{"gpu", Opt(r.gpu_telemetry)}, {"cpu", Opt(r.cpu_telemetry)},
                         {"max_temperature_c", Opt(r.max_temperature_c)},
                         {"throttle_reasons", Opt(r.throttle_reasons)},
                         {"peak_device_bytes_nvml", Opt(r.peak_device_bytes_nvml)}}},
          {"energy", {{"source", Opt(r.energy_source)}, {"note", Opt(r.energy_note)},
                      {"per_sample_j", Opt(r.energy_per_sample_j)},
                      {"avg_power_w", Opt(r.avg_power_w)}}},
          {"contention", {{"policy", Opt(r.contention_policy)},
                          {"threshold", Opt(r.contention_threshold)},
                          {"other_cpu_frac", Opt(r.other_cpu_frac)},
                          {"steal_frac", Opt(r.steal_frac)},
                          {"load_avg_1m", Opt(r.load_avg_1m)},
                          {"contaminated", r.contaminated ? ordered_json(*r.contaminated != 0) : ordered_json(nullptr)},
                          {"excluded_chunks", Opt(r.excluded_chunks)},
                          {"quiet_gate", Opt(r.quiet_gate)},
                          {"quiet_wait_s", Opt(r.quiet_wait_s)},
                          {"replaces_rep_idx", Opt(r.replaces_rep_idx)},
                          {"minor_faults_per_call", Opt(r.minor_faults_per_call)}}},
          {"log", r.log}};
      ordered_json windows = ordered_json::array();
      for (const EnergyWindowRow& w : GetEnergyWindows(db, r.repetition_id)) {
        windows.push_back({{"duration_ns", w.duration_ns}, {"iterations", w.iterations},
                           {"energy_j", w.energy_j}, {"avg_power_w", w.avg_power_w},
                           {"max_temperature_c", Opt(w.max_temperature_c)},
                           {"sm_clock_mhz", Opt(w.sm_clock_mhz)},
                           {"mem_clock_mhz", Opt(w.mem_clock_mhz)},
                           {"clock_event_reasons", w.clock_event_reasons}});
      }
      rj["energy"]["windows"] = std::move(windows);
      if (c.dataset) {
        ordered_json epochs = ordered_json::array();
        for (const auto& e : GetTrainingEpochs(db, r.repetition_id)) {
          epochs.push_back({{"epoch_ns", e.epoch_ns}, {"train_loss", e.train_loss},
                            {"accuracy", e.accuracy}});
        }
        rj["epochs"] = std::move(epochs);
      }
      if (with_samples) {
        ordered_json series = ordered_json::array();
        for (const TelemetryRow& t : GetTelemetry(db, r.repetition_id)) {
          series.push_back({{"t_ns", t.t_ns}, {"phase", t.phase}, {"gpu_energy_j", Opt(t.gpu_energy_j)},
                            {"gpu_power_w", Opt(t.gpu_power_w)},
                            {"gpu_temperature_c", Opt(t.gpu_temperature_c)},
                            {"sm_clock_mhz", Opt(t.sm_clock_mhz)}, {"mem_clock_mhz", Opt(t.mem_clock_mhz)},
                            {"clock_event_reasons", Opt(t.clock_event_reasons)},
                            {"gpu_util_pct", Opt(t.gpu_util_pct)}, {"mem_util_pct", Opt(t.mem_util_pct)},
                            {"device_bytes", Opt(t.device_bytes)}, {"cpu_energy_j", Opt(t.cpu_energy_j)},
                            {"rss_bytes", Opt(t.rss_bytes)}});
        }
        rj["telemetry"]["series"] = std::move(series);
      }
      if (with_samples) {
        ordered_json chunk = ordered_json::array(), wall = ordered_json::array();
        int64_t warm = 0;
        for (const SampleRow& s : GetSamples(db, r.repetition_id)) {
          chunk.push_back(s.chunk_idx);
          wall.push_back(s.wall_ns);
          warm += s.is_warmup;
        }
        rj["samples"] = {{"warmup_count", warm}, {"chunk_idx", chunk}, {"wall_ns", wall}};
        ordered_json chunks = ordered_json::array();
        for (const ChunkRow& k : GetChunks(db, r.repetition_id)) {
          chunks.push_back({{"chunk_idx", k.chunk_idx}, {"phase", k.phase}, {"wall_ns", k.wall_ns},
                            {"other_cpu_frac", Opt(k.other_cpu_frac)}, {"steal_frac", Opt(k.steal_frac)},
                            {"minor_faults", Opt(k.minor_faults)}, {"contaminated", k.contaminated != 0},
                            {"excluded", k.excluded != 0}});
        }
        rj["chunks"] = std::move(chunks);
        if (c.workload == "generation") {
          rj["requests"] = RequestsJson(GetRequests(db, r.repetition_id, /*with_warmup=*/true));
        }
      }
      reps.push_back(std::move(rj));
    }
    cj["repetitions"] = std::move(reps);
    cells.push_back(std::move(cj));
  }
  j["cells"] = std::move(cells);
  ordered_json validations = ordered_json::array();
  for (const ValidationRow& v : GetValidations(db, run_id)) {
    validations.push_back({{"model", v.model}, {"precision", v.precision}, {"device", v.device},
                           {"framework_a", v.framework_a}, {"framework_b", Opt(v.framework_b)},
                           {"status", v.status}, {"inputs", v.inputs},
                           {"max_abs_err", Opt(v.max_abs_err)}, {"max_rel_err", Opt(v.max_rel_err)},
                           {"cosine", Opt(v.cosine)}, {"top1_agreement", Opt(v.top1_agreement)},
                           {"tolerance", Opt(v.tolerance)},
                           {"tolerance_reason", Opt(v.tolerance_reason)},
                           {"settings_a", ParsedOrNull(v.settings_a)},
                           {"settings_b", ParsedOrNull(v.settings_b)},
                           {"weights_source", Opt(v.weights_source)}, {"message", Opt(v.message)},
                           {"workload", v.workload}});
    if (v.workload == "training") {
      validations.back()["training"] = {
          {"steps", Opt(v.steps)}, {"max_loss_err", Opt(v.max_loss_err)},
          {"weights_err", Opt(v.weights_err)}, {"running_stats_err", Opt(v.running_stats_err)},
          {"loss_tolerance", Opt(v.loss_tolerance)}, {"weights_tolerance", Opt(v.weights_tolerance)}};
    }
  }
  j["validations"] = std::move(validations);
  out << j.dump(2, ' ', false, ordered_json::error_handler_t::replace) << "\n";
}

}  // namespace dlb::store
