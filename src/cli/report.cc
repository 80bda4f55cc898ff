// dlbench report RUN [RUN ...]: the runs as report.html (self-contained, plots inline as SVG),
// report.md, tables.tex (booktabs) and CSV, with gnuplot plots in DIR/plots. This file reads the
// database and computes the findings (analysis::CompareFamily over repetitions, as `compare`
// does); src/report/ lays them out. The report's own duration goes to stderr.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "analysis/compare.h"
#include "analysis/settings.h"
#include "analysis/verdict.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/comparisons.h"
#include "cli/generation.h"
#include "cli/measured.h"
#include "report/document.h"
#include "report/gnuplot.h"
#include "report/summary.h"
#include "stats/descriptive.h"
#include "store/query.h"
#include "store/store.h"
#include "util/error.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

using nlohmann::json;

const std::vector<std::string> kFormats = {"html", "md", "latex", "csv"};

struct ReportCliOptions {
  std::vector<std::string> runs;
  std::string db = kDefaultDb;
  std::string out = "report";
  std::string format = "html,md,latex,csv";
  bool png = false;
  analysis::CompareOptions compare;
  std::string objective;  // empty: no recommendation
  std::vector<std::string> constraints;
};

struct Side {
  size_t cell_idx;  // into ReportInput::cells
  analysis::Sample sample;
  std::string settings_json = "{}";
  CellDesign design;
};

report::LatencyBox Box(std::vector<double> all) {
  std::sort(all.begin(), all.end());
  auto q = [&](double p) { return stats::PercentileSorted(all, p); };
  return {q(1), q(25), q(50), q(75), q(99), static_cast<int64_t>(all.size())};
}

std::string Scalar(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// Numeric settings read back from both workers that differ: the layout (the cell's, else the
// workers'), the dtype, and any precision setting both sides report under the same name. Settings
// named differently by the two frameworks (torch's matmul_fp32_precision against jax's
// jax_default_matmul_precision) are not matched here; `dlbench compare` maps them.
std::string SettingsNote(const store::CellRow& a, const store::CellRow& b, const std::string& sa,
                         const std::string& sb) {
  std::string diff = analysis::NumericDifference(sa, a.device, sb, b.device);
  if (a.layout != b.layout && diff.find("layout") == std::string::npos) {
    std::string requested = fmt::format("requested layout {} vs {}", a.layout, b.layout);
    diff = diff.empty() ? requested : diff + "; " + requested;
  }
  return diff;
}

std::vector<report::Finding> Findings(const report::ReportInput& in, const std::vector<Side>& sides,
                                      const analysis::CompareOptions& options) {
  std::vector<analysis::Sample> samples;
  for (const auto& s : sides) samples.push_back(s.sample);
  std::vector<std::pair<size_t, size_t>> pairs;
  std::vector<std::string> axis_of;
  std::vector<int> stage1;
  std::vector<analysis::CellCoordinates> coordinates;
  for (const auto& side : sides) {
    const auto& rc = in.cells[side.cell_idx];
    coordinates.push_back(CoordinatesOf(rc.run_id, rc.cell));
  }
  for (const std::string axis : {"framework", "variant"}) {
    for (const auto& pair : analysis::PairAlong(coordinates, axis)) {
      pairs.push_back(pair);
      axis_of.push_back(axis);
      stage1.push_back(PairStage1(sides[pair.first].design, sides[pair.second].design, axis));
    }
  }
  std::vector<report::Finding> out;
  if (pairs.empty()) return out;
  auto results =
      analysis::CompareFamily(samples, pairs, analysis::Grouping::kRepetitions, options, stage1);
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    const auto& a = in.cells[sides[r.a].cell_idx].cell;
    const auto& b = in.cells[sides[r.b].cell_idx].cell;
    bool fw = axis_of[i] == "framework";
    out.push_back({axis_of[i], fw ? a.framework : a.variant, fw ? b.framework : b.variant, a.model,
                   report::PrecisionLabel(a.precision, a.profile), a.device, a.batch, sides[r.a].sample.groups.size(),
                   sides[r.b].sample.groups.size(), r.median_a, r.median_b, r.ratio, r.ratio_ci,
                   r.verdict,
                   r.kind == analysis::VerdictKind::kBLower || r.kind == analysis::VerdictKind::kBHigher,
                   SettingsNote(a, b, sides[r.a].settings_json, sides[r.b].settings_json)});
    report::Finding& f = out.back();
    f.kind = r.kind;
    f.reason = analysis::UndecidedReason(r, options);
    f.sentence = analysis::VerdictSentence(
        r, {fmt::format("{} bs{} {}", a.model, a.batch, f.precision), f.a, f.b, f.reps_a, f.reps_b},
        options);
  }
  return out;
}

report::ReportOptions ParseFormats(const ReportCliOptions& o) {
  report::ReportOptions r{
      .out_dir = o.out, .html = false, .md = false, .latex = false, .csv = false, .png = o.png};
  for (const auto& raw : Split(o.format, ',')) {
    std::string f(Trim(raw));
    if (f == "html")
      r.html = true;
    else if (f == "md")
      r.md = true;
    else if (f == "latex")
      r.latex = true;
    else if (f == "csv")
      r.csv = true;
    else
      throw UserError(fmt::format("--format {}: {}", f, AllowedValues(f, kFormats)));
  }
  return r;
}

ExitCode Report(const ReportCliOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  report::ReportOptions options = ParseFormats(o);
  report::RequireGnuplot();
  auto store = store::Store::OpenExisting(o.db);
  report::ReportInput in;
  in.command = Join(CommandLine(), " ");
  std::vector<Side> sides;
  std::set<std::string> seen_frameworks;
  std::set<int64_t> seen_runs;
  int64_t n_samples = 0;
  for (const auto& spec : o.runs) {
    int64_t run_id = store::ResolveRun(store.db(), spec);
    if (!seen_runs.insert(run_id).second) continue;
    in.runs.push_back(store::GetRun(store.db(), run_id));
    for (auto& v : store::GetValidations(store.db(), run_id))
      in.validations.push_back(std::move(v));
    auto run_cells = store::GetCells(store.db(), run_id);
    for (auto& sweep : SweepsOf(store.db(), run_id, run_cells)) in.sweeps.push_back(std::move(sweep));
    for (auto& c : run_cells) {
      report::ReportCell rc{run_id, std::move(c), {}, {}, {}, {}, {}, {}};
      std::vector<double> warm_compiles;
      Side side{in.cells.size(), {rc.cell.key, {}}, "{}", {}};
      std::vector<double> pooled;
      bool ok_cell = rc.cell.status == "ok" || rc.cell.status == "partial";
      auto reps = store::GetRepetitions(store.db(), rc.cell.cell_id);
      side.design = DesignOf(in.runs.back(), reps);
      for (auto& r : reps) {
        if (r.status != "ok") {
          r.log.clear();
          rc.failed_reps.push_back(std::move(r));
          continue;
        }
        if (r.compile_s) {
          if (!rc.compile_cold_s) {
            rc.compile_cold_s = r.compile_s;
          } else {
            warm_compiles.push_back(*r.compile_s);
          }
        }
        if (r.contaminated.value_or(0)) rc.contaminated.emplace_back(r.rep_idx, r.other_cpu_frac.value_or(0));
        if (r.hello_json && seen_frameworks.insert(rc.cell.framework).second) {
          auto h = json::parse(*r.hello_json, nullptr, false);
          std::vector<std::string> kv;
          if (h.is_object() && h.contains("versions") && h["versions"].is_object()) {
            for (const auto& [k, v] : h["versions"].items()) kv.push_back(k + " " + Scalar(v));
          }
          if (h.is_object() && h.contains("devices") && h["devices"].is_array()) {
            for (const auto& d : h["devices"]) {
              if (d.is_object() && d.contains("name")) kv.push_back("device " + Scalar(d["name"]));
            }
          }
          in.versions.emplace_back(rc.cell.framework, Join(kv, ", "));
        }
        if (!ok_cell) continue;
        if (r.settings_json && side.sample.groups.empty()) side.settings_json = *r.settings_json;
        std::vector<double> g = store::GetSteadyWallNs(store.db(), r.repetition_id);
        n_samples += static_cast<int64_t>(g.size());
        if (g.empty()) continue;
        if (rc.cell.batch == 1) pooled.insert(pooled.end(), g.begin(), g.end());
        side.sample.groups.push_back(std::move(g));
      }
      if (!pooled.empty()) rc.box = Box(std::move(pooled));
      if (!warm_compiles.empty()) rc.compile_warm_s = stats::Median(warm_compiles);
      if (ok_cell) rc.generation = GenerationFiguresOf(store.db(), rc.cell);
      in.cells.push_back(std::move(rc));
      // A sweep's cells are rates of one load, each run once: not a pair to compare.
      if (!side.sample.groups.empty() && !IsSweepCell(in.cells.back().cell)) sides.push_back(std::move(side));
    }
  }
  in.findings = Findings(in, sides, o.compare);
  in.findings_method = analysis::RepetitionMethodText(o.compare, in.findings.size());
  in.threshold = o.compare.threshold;
  if (!o.objective.empty()) {
    std::vector<MeasuredCell> measured = LoadMeasured({o.db});
    std::erase_if(measured, [&](const MeasuredCell& m) { return !seen_runs.count(m.run.run_id); });
    in.recommendation = RecommendSentences(measured, o.objective, o.constraints, o.compare);
  }
  auto written = report::WriteReport(in, options);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& p : written) {
    if (p.filename() == "report.html" || p.filename() == "report.md" ||
        p.filename() == "tables.tex") {
      fmt::print("{}\n", p.string());
    }
  }
  fmt::print(stderr,
             "dlbench: report of {} run(s), {} cells, {} samples written to {} in {:.2f} s\n",
             in.runs.size(), in.cells.size(), n_samples, o.out, seconds);
  return ExitCode::kDone;
}

}  // namespace

void AddReportCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand(
      "report", "Write a run's report: HTML, Markdown, LaTeX tables, CSV and plots");
  auto o = std::make_shared<ReportCliOptions>();
  cmd->add_option("RUN", o->runs, "run id(s) from `dlbench list`, or latest")->required();
  cmd->add_option("--db", o->db, "SQLite database")->capture_default_str();
  cmd->add_option("--out", o->out, "output directory")->capture_default_str();
  cmd->add_option("--format", o->format, "comma-separated: html, md, latex, csv")
      ->capture_default_str();
  cmd->add_flag("--png", o->png, "also write plots/*.png (gnuplot pngcairo)");
  cmd->add_option("--objective", o->objective,
                  "open with a recommendation for: throughput, latency, energy (see dlbench recommend)");
  cmd->add_option("--constraint", o->constraints, "with --objective: FIELD OP VALUE, e.g. 'p99 < 20ms'");
  cmd->callback([o, &result] { result = Report(*o); });
}

}  // namespace dlb::cli
