#include "store/export.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "stats/descriptive.h"
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

// Stored JSON text as a value of its own: null when absent or empty, the text itself when it does
// not parse (rather than nlohmann's "discarded" value).
ordered_json ParsedOrNull(const std::optional<std::string>& s) {
  if (!s || s->empty()) return nullptr;
  ordered_json parsed = ordered_json::parse(*s, nullptr, false);
  return parsed.is_discarded() ? ordered_json(*s) : parsed;
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

// One column's value as JSON, as its unit says: JSON text parsed (kept as text when it does not
// parse), 0/1 as false/true, NULL as null.
template <typename Row>
ordered_json JsonValue(const Row& row, const Column<Row>& c) {
  return std::visit(
      [&](auto m) -> ordered_json {
        const auto& v = row.*m;
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::optional<std::string>> || std::is_same_v<T, std::string>) {
          const std::optional<std::string> text(v);
          if (c.out.unit == Unit::kJson) return ParsedOrNull(text);
          return text ? ordered_json(*text) : ordered_json(nullptr);
        } else if constexpr (std::is_same_v<T, std::optional<int64_t>> || std::is_same_v<T, std::optional<double>>) {
          if (!v) return nullptr;
          if (c.out.unit == Unit::kBool) return *v != 0;
          return *v;
        } else {
          if (c.out.unit == Unit::kBool) return v != 0;
          return v;
        }
      },
      c.member);
}

// Puts v at path in obj: "name", "group.name" or "group.name[i]" (an array, grown with nulls).
void Place(ordered_json& obj, std::string_view path, ordered_json v) {
  ordered_json* at = &obj;
  for (size_t dot; (dot = path.find('.')) != std::string_view::npos; path.remove_prefix(dot + 1)) {
    at = &(*at)[std::string(path.substr(0, dot))];
  }
  if (const size_t bracket = path.find('['); bracket != std::string_view::npos) {
    ordered_json& array = (*at)[std::string(path.substr(0, bracket))];
    if (!array.is_array()) array = ordered_json::array();
    const size_t i = std::stoul(std::string(path.substr(bracket + 1)));
    while (array.size() <= i) array.push_back(nullptr);
    array[i] = std::move(v);
    return;
  }
  (*at)[std::string(path)] = std::move(v);
}

// A row as the JSON object its table's exports describe.
template <typename Row>
ordered_json RowJson(const Row& row, std::span<const Column<Row>> columns) {
  ordered_json out = ordered_json::object();
  for (const Column<Row>& c : columns) {
    if (!c.out.json.empty()) Place(out, c.out.json, JsonValue(row, c));
  }
  return out;
}

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

std::optional<double> NumericValue(const RepetitionRow& row, const Column<RepetitionRow>& c) {
  return std::visit(
      [&](auto m) -> std::optional<double> {
        const auto& v = row.*m;
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::optional<int64_t>> || std::is_same_v<T, std::optional<double>>) {
          return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
        } else if constexpr (std::is_arithmetic_v<T>) {
          return static_cast<double>(v);
        } else {
          return std::nullopt;
        }
      },
      c.member);
}

const std::vector<const Column<RepetitionRow>*>& CellMedianColumns() {
  static const std::vector<const Column<RepetitionRow>*> columns = [] {
    std::vector<const Column<RepetitionRow>*> out;
    for (const auto& c : kRepetitionColumns) {
      if (c.out.cell_median) out.push_back(&c);
    }
    return out;
  }();
  return columns;
}

std::vector<std::optional<double>> CellMedians(const std::vector<RepetitionRow>& reps) {
  std::vector<std::optional<double>> out;
  for (const Column<RepetitionRow>* c : CellMedianColumns()) {
    std::vector<double> values;
    for (const RepetitionRow& r : reps) {
      if (r.status != "ok") continue;
      if (auto v = NumericValue(r, *c)) values.push_back(*v);
    }
    out.push_back(values.empty() ? std::nullopt : std::optional<double>(stats::Median(values)));
  }
  return out;
}

std::string FigureText(double v, Unit unit) {
  switch (unit) {
    case Unit::kNs: return FormatNs(v);
    case Unit::kSeconds: return FormatDuration(v);
    case Unit::kBytes: return FormatBytes(v);
    case Unit::kFraction: return fmt::format("{:.1f}%", v * 100);
    case Unit::kBool: return v != 0 ? "yes" : "no";
    case Unit::kPlain:
    case Unit::kJson: break;
  }
  return fmt::format("{:.4g}", v);
}

namespace {

std::string CsvHeader(const Column<CellRow>& c) {
  // A top-level JSON name is the figure's exported name (mode is "workload"); else the column's.
  const std::string_view json = c.out.json;
  return std::string(!json.empty() && json.find_first_of(".[") == std::string_view::npos ? json : c.name);
}

}  // namespace

void ExportCsv(Db& db, int64_t run_id, std::ostream& out) {
  const auto& medians = CellMedianColumns();
  bool first = true;
  for (const auto& c : kCellColumns) {
    if (!c.out.csv) continue;
    out << (first ? "" : ",") << CsvHeader(c);
    first = false;
  }
  for (const auto* c : medians) out << "," << c->name << "_median";
  out << "\n";
  for (const CellRow& row : GetCells(db, run_id)) {
    first = true;
    for (const auto& c : kCellColumns) {
      if (!c.out.csv) continue;
      out << (first ? "" : ",") << CsvValue(row, c.member);
      first = false;
    }
    for (const auto& m : CellMedians(GetRepetitions(db, row.cell_id))) out << "," << CsvOpt(m);
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
    ordered_json cj = RowJson(c, kCellColumns);
    const std::vector<RepetitionRow> rep_rows = GetRepetitions(db, c.cell_id);
    const auto& medians = CellMedianColumns();
    const auto median_values = CellMedians(rep_rows);
    for (size_t i = 0; i < medians.size(); ++i) {
      cj["repetition_medians"][std::string(medians[i]->name)] = Opt(median_values[i]);
    }
    ordered_json reps = ordered_json::array();
    for (const RepetitionRow& r : rep_rows) {
      ordered_json rj = RowJson(r, kRepetitionColumns);
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
        // Every repetition that has request traces: generation cells, and load --db's serving cells.
        const std::vector<result::RequestTrace> requests = GetRequests(db, r.repetition_id, /*with_warmup=*/true);
        if (!requests.empty()) rj["requests"] = RequestsJson(requests);
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
