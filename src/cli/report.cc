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

// The findings: every pair along framework and along variant among the runs' cells, one family
// (CompareStored, as compare, run and show do).
std::vector<report::Finding> Findings(const Comparisons& cmp) {
  std::vector<report::Finding> out;
  for (size_t i = 0; i < cmp.results.size(); ++i) {
    const auto& r = cmp.results[i];
    const ComparedCell& sa = cmp.cells[r.a];
    const ComparedCell& sb = cmp.cells[r.b];
    const auto& a = sa.cell;
    const auto& b = sb.cell;
    const analysis::VerdictSubject subject = SubjectOf(cmp, i);
    out.push_back({cmp.axis[i], subject.name_a, subject.name_b, a.model,
                   report::PrecisionLabel(a.precision, a.profile), a.device, a.batch,
                   sa.sample.groups.size(), sb.sample.groups.size(), r.median_a, r.median_b, r.ratio,
                   r.ratio_ci, r.verdict,
                   r.kind == analysis::VerdictKind::kBLower || r.kind == analysis::VerdictKind::kBHigher,
                   SettingsNote(a, b, sa.settings_json, sb.settings_json)});
    report::Finding& f = out.back();
    f.kind = r.kind;
    const analysis::Undecided why = analysis::WhyUndecided(r, subject, cmp.options);
    f.reason = why.words;
    f.cause = why.cause;
    f.sentence = analysis::VerdictSentence(r, subject, cmp.options);
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
  std::set<std::string> seen_frameworks;
  std::vector<int64_t> run_ids;
  for (const auto& spec : o.runs) {
    int64_t run_id = store::ResolveRun(store.db(), spec);
    if (std::find(run_ids.begin(), run_ids.end(), run_id) == run_ids.end()) run_ids.push_back(run_id);
  }
  CompareQuery q;
  q.runs = run_ids;
  q.axes = {"framework", "variant"};
  q.options = o.compare;
  const Comparisons cmp = CompareStored(store.db(), q);
  // Each compared cell's kept samples, by (run, cell): the latency boxes read them.
  std::map<std::pair<int64_t, int64_t>, const ComparedCell*> compared;
  for (const auto& c : cmp.cells) compared[{c.run_id, c.cell.cell_idx}] = &c;
  int64_t n_samples = 0;
  for (int64_t run_id : run_ids) {
    in.runs.push_back(store::GetRun(store.db(), run_id));
    for (auto& v : store::GetValidations(store.db(), run_id))
      in.validations.push_back(std::move(v));
    auto run_cells = store::GetCells(store.db(), run_id);
    for (auto& sweep : SweepsOf(store.db(), run_id, run_cells)) in.sweeps.push_back(std::move(sweep));
    for (auto& c : run_cells) {
      report::ReportCell rc{run_id, std::move(c), {}, {}, {}, {}, {}, {}};
      std::vector<double> warm_compiles;
      bool ok_cell = rc.cell.status == "ok" || rc.cell.status == "partial";
      for (auto& r : store::GetRepetitions(store.db(), rc.cell.cell_id)) {
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
      }
      // The run id a compared cell carries is its logical run's (a sweep's first shard).
      const int64_t logical = store::LogicalRun(store.db(), run_id).front();
      if (auto it = compared.find({logical, rc.cell.cell_idx}); ok_cell && it != compared.end()) {
        std::vector<double> pooled;
        for (const auto& g : it->second->sample.groups) {
          n_samples += static_cast<int64_t>(g.size());
          if (rc.cell.batch == 1) pooled.insert(pooled.end(), g.begin(), g.end());
        }
        if (!pooled.empty()) rc.box = Box(std::move(pooled));
      }
      if (!warm_compiles.empty()) rc.compile_warm_s = stats::Median(warm_compiles);
      if (ok_cell) rc.generation = GenerationFiguresOf(store.db(), rc.cell);
      in.cells.push_back(std::move(rc));
    }
  }
  in.findings = Findings(cmp);
  in.contention = ContentionSummary(store.db(), run_ids);
  in.findings_method = analysis::RepetitionMethodText(cmp.options, in.findings.size());
  in.threshold = o.compare.threshold;
  if (!o.objective.empty()) {
    std::vector<MeasuredCell> measured = LoadMeasured({o.db});
    std::erase_if(measured, [&](const MeasuredCell& m) {
      return std::find(run_ids.begin(), run_ids.end(), m.run.run_id) == run_ids.end();
    });
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
