// dlbench db DB [DB ...]: every measured configuration across runs and hosts, with its best
// figure, that figure's interval over repetitions, and where it came from; optionally the speedup
// over the same configuration on a baseline device (the CPU where measured). Read-only.
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "analysis/compare.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/measured.h"
#include "report/escape.h"
#include "report/summary.h"
#include "report/table.h"
#include "util/error.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

using nlohmann::ordered_json;

struct DbOptions {
  std::vector<std::string> dbs;
  std::vector<std::string> models, devices, frameworks, where;
  std::string format = "text";
  std::string baseline_device = "cpu";
};

struct Row {
  const MeasuredCell* best = nullptr;
  size_t measurements = 0;  // cells of this configuration across runs and databases
  analysis::Figure figure;  // throughput, samples/s
  std::optional<analysis::RatioEstimate> speedup;  // over the baseline device's same configuration
  std::string baseline;                            // its label
};

std::string Interval(const std::optional<stats::Interval>& ci) {
  return ci ? FormatFigure(ci->lo) + " to " + FormatFigure(ci->hi) : "-";
}

ordered_json Opt(const std::optional<stats::Interval>& ci) {
  return ci ? ordered_json::array({ci->lo, ci->hi}) : ordered_json(nullptr);
}

std::vector<Row> Rows(const std::vector<MeasuredCell>& cells, const std::string& baseline_device) {
  std::map<std::string, Row> by_key;
  std::vector<std::string> order;
  for (const auto& m : cells) {
    auto f = analysis::GeometricMeanFigure(ThroughputPerRepetition(m));
    if (!f) continue;
    std::string key = CombinationKey(m);
    auto [it, fresh] = by_key.try_emplace(key);
    if (fresh) order.push_back(key);
    Row& r = it->second;
    ++r.measurements;
    if (!r.best || f->value > r.figure.value) {
      r.best = &m;
      r.figure = *f;
    }
  }
  std::vector<Row> rows;
  for (const auto& k : order) rows.push_back(by_key[k]);
  if (baseline_device == "none") return rows;
  // The baseline of a row: the same configuration on the baseline device, on the same host if it
  // was measured there, else on any host.
  for (Row& r : rows) {
    if (r.best->cell.device == baseline_device) continue;
    const Row* base = nullptr;
    for (const Row& b : rows) {
      if (b.best->cell.device != baseline_device) continue;
      if (CombinationKey(*b.best, {"device"}) == CombinationKey(*r.best, {"device"})) {
        base = &b;  // same host
        break;
      }
      if (!base && CombinationKey(*b.best, {"device", "host"}) ==
                       CombinationKey(*r.best, {"device", "host"})) {
        base = &b;
      }
    }
    if (!base) continue;
    auto ratio = analysis::RepetitionRatio(ThroughputPerRepetition(*base->best),
                                           ThroughputPerRepetition(*r.best), 0.95);
    if (ratio) {
      r.speedup = *ratio;
      r.baseline = Label(*base->best);
    }
  }
  return rows;
}

ExitCode Db(const DbOptions& o) {
  if (o.format != "text" && o.format != "json" && o.format != "csv") {
    throw UserError(fmt::format("--format {}: {}", o.format, AllowedValues(o.format, {"text", "json", "csv"})));
  }
  std::vector<Filter> filters;
  for (const auto& v : o.models) filters.push_back({"model", v});
  for (const auto& v : o.devices) filters.push_back({"device", v});
  for (const auto& v : o.frameworks) filters.push_back({"framework", v});
  for (const auto& w : o.where) filters.push_back(ParseWhere(w));
  const std::vector<MeasuredCell> all = LoadMeasured(o.dbs);
  const std::vector<MeasuredCell> cells = Select(all, filters);
  if (cells.empty()) {
    throw UserError(fmt::format("no measured cell in {} matches the filters ({} cells in all)",
                                Join(o.dbs, ", "), all.size()));
  }
  std::vector<Row> rows = Rows(cells, o.baseline_device);
  const std::vector<std::string> header = {
      "model", "workload", "framework", "profile", "precision", "batch", "device", "host",
      "throughput (samples/s)", "95% CI", "median latency", "reps", "measured",
      "speedup vs " + o.baseline_device, "speedup 95% CI", "from"};
  if (o.format == "json") {
    ordered_json j = {{"format", "dlbench-db"}, {"version", 1}, {"databases", o.dbs},
                      {"baseline_device", o.baseline_device}, {"rows", ordered_json::array()}};
    for (const auto& r : rows) {
      const auto& m = *r.best;
      const auto& c = m.cell;
      j["rows"].push_back(
          {{"model", c.model}, {"workload", c.workload}, {"framework", c.framework},
           {"profile", c.profile}, {"precision", c.precision}, {"batch", c.batch},
           {"layout", c.layout}, {"variant", c.variant}, {"environment", c.environment},
           {"device", c.device}, {"device_name", m.device_name}, {"host", m.run.host},
           {"throughput_sps", r.figure.value}, {"throughput_ci", Opt(r.figure.ci)},
           {"median_latency_ns", static_cast<double>(c.batch) * 1e9 / r.figure.value},
           {"repetitions", r.figure.n}, {"measurements", r.measurements},
           {"speedup", r.speedup ? ordered_json(r.speedup->ratio) : ordered_json(nullptr)},
           {"speedup_ci", r.speedup ? Opt(r.speedup->ci) : ordered_json(nullptr)},
           {"baseline", r.baseline},
           {"source", {{"db", m.db}, {"run", m.run.run_id}, {"cell", c.cell_idx},
                       {"started_at", m.run.started_at}, {"host", m.run.host}}}});
    }
    fmt::print("{}\n", j.dump(2, ' ', false, ordered_json::error_handler_t::replace));
    return ExitCode::kDone;
  }
  std::vector<std::vector<std::string>> table;
  for (const auto& r : rows) {
    const auto& m = *r.best;
    const auto& c = m.cell;
    std::string device = m.device_name.empty() ? c.device : c.device + " (" + m.device_name + ")";
    table.push_back({c.model, c.workload, c.framework, c.profile.empty() ? "-" : c.profile,
                     c.precision, std::to_string(c.batch), device, m.run.host,
                     FormatFigure(r.figure.value), Interval(r.figure.ci),
                     FormatNs(static_cast<double>(c.batch) * 1e9 / r.figure.value),
                     std::to_string(r.figure.n), std::to_string(r.measurements),
                     r.speedup ? fmt::format("{:.3g}x", r.speedup->ratio) : "-",
                     r.speedup ? Interval(r.speedup->ci) : "-", Provenance(m)});
  }
  if (o.format == "csv") {
    std::vector<std::string> h;
    for (const auto& x : header) h.push_back(CsvField(x));
    fmt::print("{}\n", Join(h, ","));
    for (const auto& row : table) {
      std::vector<std::string> f;
      for (const auto& x : row) f.push_back(CsvField(x));
      fmt::print("{}\n", Join(f, ","));
    }
    return ExitCode::kDone;
  }
  std::vector<bool> right(header.size(), false);
  for (size_t i : {5, 8, 9, 10, 11, 12, 13, 14}) right[i] = true;
  report::TextTable t(header, right);
  for (auto& row : table) t.AddRow(row);
  fmt::print("{} configurations from {} cells in {}\n\n", rows.size(), cells.size(), Join(o.dbs, ", "));
  fmt::print("{}", TerminalSafe(t.Render(), true));
  fmt::print("\nthroughput: the best cell of each configuration, batch / the geometric mean of its "
             "per-repetition median latencies, with Student's 95% interval over repetitions on the "
             "log scale; speedup: throughput over the same configuration on {} (same host where "
             "measured), Welch's interval on the log scale.\n",
             o.baseline_device);
  return ExitCode::kDone;
}

}  // namespace

void AddDbCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand(
      "db", "Every measured configuration across runs and hosts: best figure, CI, provenance");
  auto o = std::make_shared<DbOptions>();
  cmd->add_option("DB", o->dbs, "SQLite database(s)")->required();
  cmd->add_option("--model", o->models, "only this model (repeatable)");
  cmd->add_option("--device", o->devices, "only this device: cpu, cuda, or part of its name (H100)");
  cmd->add_option("--framework", o->frameworks, "only this framework (repeatable)");
  cmd->add_option("--where", o->where, "AXIS=VALUE on any axis or host (repeatable)");
  cmd->add_option("--format", o->format, "text, json, csv")->capture_default_str();
  cmd->add_option("--baseline-device", o->baseline_device,
                  "speedup over the same configuration on this device; none: no speedup column")
      ->capture_default_str();
  cmd->callback([o, &result] { result = Db(*o); });
}

}  // namespace dlb::cli
