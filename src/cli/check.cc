// dlbench check --baseline RUN|DB --candidate RUN|DB: a regression gate for CI. Cells with the same
// key on both sides are compared over repetitions, exactly as `compare` does (Welch on the logs of
// the per-repetition medians, Holm across the cells: analysis::CompareFamily) and decided by the
// same rule (analysis::Decide). A cell regresses only when the difference is statistically
// significant (Holm-adjusted p < alpha) AND its whole interval lies beyond the threshold: a tiny but
// real slowdown passes, and so does a large one the repetitions cannot pin down. Exit 0 pass, 1
// regression, 2 bad input.
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "analysis/compare.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/comparisons.h"
#include "report/table.h"
#include "stats/descriptive.h"
#include "store/query.h"
#include "store/store.h"
#include "util/error.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

using nlohmann::ordered_json;

struct CheckOptions {
  std::string baseline, candidate;
  std::string db = kDefaultDb;
  std::string threshold = "2%";
  std::string format = "text";
  std::string metric = "latency";
  double alpha = 0.05;
};

// One side of the gate: a logical run's cells, loaded into memory.
struct Side {
  std::string file;
  int64_t run_id = 0;
  std::string experiment, host;
  std::vector<ComparedCell> cells;
};

// "2%" or "0.02": a fraction in (0, 1).
double ParseThreshold(const std::string& text) {
  std::string number = text;
  double scale = 1;
  if (!number.empty() && number.back() == '%') {
    number.pop_back();
    scale = 0.01;
  }
  char* end = nullptr;
  const double v = std::strtod(number.c_str(), &end) * scale;
  if (number.empty() || end != number.c_str() + number.size() || !(v > 0 && v < 1)) {
    throw UserError(fmt::format("--threshold {}: expected a percentage such as 2% or a fraction "
                                "such as 0.02, above 0 and below 100%",
                                text));
  }
  return v;
}

// SPEC is a database file (its latest run) or a run in --db ("3", "latest"). Cells are loaded as
// compare loads them (LoadRunCells).
Side LoadSide(const std::string& flag, const std::string& spec, const std::string& db,
              const std::string& metric) {
  std::error_code ec;
  const bool is_file = std::filesystem::is_regular_file(spec, ec);
  Side side;
  side.file = is_file ? spec : db;
  try {
    auto store = store::Store::OpenExisting(side.file);
    const int64_t first = store::ResolveRun(store.db(), is_file ? "latest" : spec);
    const std::vector<int64_t> parts = store::LogicalRun(store.db(), first);
    side.run_id = parts.front();
    for (int64_t part : parts) {
      store::RunRow run = store::GetRun(store.db(), part);
      side.experiment = run.experiment;
      if (side.host.empty() || side.host == run.host) {
        side.host = run.host;
      } else if (side.host.find(run.host) == std::string::npos) {
        side.host += "+" + run.host;
      }
    }
    side.cells = LoadRunCells(store.db(), first, metric);
  } catch (const UserError& e) {
    throw UserError(fmt::format("{} {}: {}", flag, spec, e.what()));
  }
  return side;
}

enum class Outcome { kPass, kRegression, kImprovement, kUndecided };

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kRegression: return "REGRESSION";
    case Outcome::kImprovement: return "improvement";
    case Outcome::kUndecided: return "undecided";
    case Outcome::kPass: break;
  }
  return "pass";
}

struct Row {
  const ComparedCell* base;
  const ComparedCell* cand;
  analysis::PairComparison r;
  Outcome outcome = Outcome::kPass;
  std::string why;
};

std::string RatioText(const analysis::PairComparison& r) {
  return r.ratio_ci ? fmt::format("{:.3f} [{:.3f}, {:.3f}]", r.ratio, r.ratio_ci->lo, r.ratio_ci->hi)
                    : fmt::format("{:.3f}", r.ratio);
}

std::string PText(const std::optional<double>& p) { return p ? fmt::format("{:.3g}", *p) : "-"; }

ExitCode Check(const CheckOptions& o) {
  const double threshold = ParseThreshold(o.threshold);
  const std::vector<std::string> formats = {"text", "markdown", "json"};
  if (std::find(formats.begin(), formats.end(), o.format) == formats.end()) {
    throw UserError(fmt::format("--format {}: {}", o.format, AllowedValues(o.format, formats)));
  }
  FindComparisonMetric(o.metric);
  Side base = LoadSide("--baseline", o.baseline, o.db, o.metric);
  Side cand = LoadSide("--candidate", o.candidate, o.db, o.metric);
  if (base.file == cand.file && base.run_id == cand.run_id) {
    throw UserError(fmt::format("--baseline and --candidate are the same run ({} in {})", base.run_id,
                                base.file));
  }

  // The two sides paired along "run" (cells that agree on every other axis), compared as one Holm
  // family: CompareCells, which compare uses too. The baseline's cells come first, so each pair's
  // A is the baseline. The sides may come from two files with the same run ids, so the pairing
  // sees them as runs 0 and 1.
  std::vector<ComparedCell> cells;
  std::vector<analysis::CellCoordinates> coordinates;
  const size_t n_base = base.cells.size();
  for (const Side* side : {&base, &cand}) {
    for (const ComparedCell& c : side->cells) {
      coordinates.push_back(CoordinatesOf(side == &base ? 0 : 1, c.cell));
      cells.push_back(c);
    }
  }
  CompareQuery q{.runs = {}, .axes = {"run"}, .metric = o.metric, .include_contaminated = false, .options = {}};
  q.options.alpha = o.alpha;
  q.options.threshold = threshold;
  const Comparisons cmp = CompareCells(std::move(cells), coordinates, q);
  const analysis::CompareOptions& options = cmp.options;
  const auto& results = cmp.results;
  std::vector<bool> paired(cmp.cells.size(), false);
  for (const auto& r : results) paired[r.a] = paired[r.b] = true;
  std::vector<std::string> unmatched;
  for (size_t i = 0; i < cmp.cells.size(); ++i) {
    if (!paired[i]) {
      unmatched.push_back(cmp.cells[i].cell.key + (i < n_base ? " (not in the candidate)" : " (not in the baseline)"));
    }
  }
  if (results.empty()) {
    throw UserError(fmt::format("no successful cell of the candidate (run {} in {}) has a key that a "
                                "successful cell of the baseline (run {} in {}) has; nothing to check",
                                cand.run_id, cand.file, base.run_id, base.file));
  }

  // One rule with compare: analysis::Decide. A regression is a pair whose whole interval lies
  // beyond the band the wrong way, with the Holm-adjusted p below alpha: the verdict compare gives
  // the same pair ("B slower" for latency) under the same --alpha and --threshold.
  std::vector<Row> rows;
  int regressions = 0, decided = 0;
  const std::string band = fmt::format("±{:g}%", threshold * 100);
  for (const auto& r : results) {
    Row row{&cmp.cells[r.a], &cmp.cells[r.b], r, Outcome::kPass, ""};
    const bool worse = r.kind == (options.lower_is_better ? analysis::VerdictKind::kBHigher
                                                          : analysis::VerdictKind::kBLower);
    const bool better = r.kind == (options.lower_is_better ? analysis::VerdictKind::kBLower
                                                           : analysis::VerdictKind::kBHigher);
    if (!r.p_welch_adjusted || !r.ratio_ci) {
      row.outcome = Outcome::kUndecided;
      row.why = r.notes.empty() ? "no test" : r.notes.front();
    } else {
      ++decided;
      if (worse) {
        row.outcome = Outcome::kRegression;
        ++regressions;
        row.why = fmt::format("interval beyond {}", band);
      } else if (better) {
        row.outcome = Outcome::kImprovement;
        row.why = fmt::format("interval beyond {}", band);
      } else if (r.kind == analysis::VerdictKind::kEquivalent) {
        row.why = fmt::format("equivalent: interval inside {}", band);
      } else if (*r.p_welch_adjusted >= o.alpha) {
        row.why = "not significant";
      } else {
        row.why = fmt::format("significant, but the interval reaches inside {}", band);
      }
    }
    rows.push_back(std::move(row));
  }
  if (decided == 0) {
    throw UserError(fmt::format("no cell pair can be tested: each side needs at least 2 successful "
                                "repetitions per cell (baseline run {}, candidate run {})",
                                base.run_id, cand.run_id));
  }
  const bool cross_host = base.host != cand.host;
  const std::string method = fmt::format(
      "Each repetition is one observation (its median); candidate/baseline is the ratio of the "
      "geometric means with the {:g}% Welch interval on the log scale. A regression needs Welch's "
      "p, Holm-adjusted over the {} cell(s), below {:g} and the whole interval beyond {:g}% the "
      "wrong way: compare's rule, so compare gives the same pair the same verdict.",
      (1 - o.alpha) * 100, rows.size(), o.alpha, threshold * 100);
  const std::string host_note =
      cross_host ? fmt::format("baseline ran on {}, candidate on {}: the ratios include the "
                               "difference between the machines",
                               base.host, cand.host)
                 : "";

  if (o.format == "json") {
    ordered_json jr = ordered_json::array();
    for (const auto& row : rows) {
      const auto& r = row.r;
      jr.push_back({{"key", row.base->cell.key},
                    {"baseline", {{"run", row.base->run_id}, {"host", row.base->host},
                                  {"repetitions", row.base->sample.groups.size()}, {"median", r.median_a}}},
                    {"candidate", {{"run", row.cand->run_id}, {"host", row.cand->host},
                                   {"repetitions", row.cand->sample.groups.size()}, {"median", r.median_b}}},
                    {"ratio", r.ratio},
                    {"ratio_ci", r.ratio_ci ? ordered_json::array({r.ratio_ci->lo, r.ratio_ci->hi})
                                            : ordered_json(nullptr)},
                    {"p_welch", r.welch ? ordered_json(r.welch->p) : ordered_json(nullptr)},
                    {"p_welch_holm", r.p_welch_adjusted ? ordered_json(*r.p_welch_adjusted) : ordered_json(nullptr)},
                    {"repetitions_per_side_for_80pct_power",
                     r.n_for_power ? ordered_json(*r.n_for_power) : ordered_json(nullptr)},
                    {"verdict", r.verdict}, {"outcome", OutcomeName(row.outcome)}, {"why", row.why}});
    }
    ordered_json j = {{"format", "dlbench-check"}, {"version", 1},
                      {"baseline", {{"file", base.file}, {"run", base.run_id}, {"host", base.host}}},
                      {"candidate", {{"file", cand.file}, {"run", cand.run_id}, {"host", cand.host}}},
                      {"metric", o.metric}, {"alpha", o.alpha}, {"threshold", threshold},
                      {"regressions", regressions}, {"passed", regressions == 0},
                      {"cross_host", cross_host}, {"cells", jr}, {"unmatched", unmatched}};
    fmt::print("{}\n", j.dump(2, ' ', false, ordered_json::error_handler_t::replace));
  } else if (o.format == "markdown") {
    std::string md = fmt::format(
        "### dlbench check: {}\n\n",
        regressions ? fmt::format("{} regression(s) in {} cells", regressions, rows.size())
                    : fmt::format("no regression in {} cells", rows.size()));
    md += fmt::format("Baseline: run {} of `{}` on `{}`; candidate: run {} of `{}` on `{}`; {}, "
                      "threshold {:g}%, alpha {:g}.\n\n",
                      base.run_id, base.experiment, base.host, cand.run_id, cand.experiment,
                      cand.host, o.metric, threshold * 100, o.alpha);
    md += "| cell | baseline | candidate | ratio [CI] | p (Holm) | reps | result |\n";
    md += "|---|---:|---:|---:|---:|---:|---|\n";
    auto cell = [](std::string s) {  // a Markdown table cell: no pipes, no newlines
      for (char& ch : s) {
        if (ch == '|' || ch == '\n' || ch == '\r') ch = ' ';
      }
      return s;
    };
    for (const auto& row : rows) {
      md += fmt::format("| `{}` | {} | {} | {} | {} | {}/{} | {}{} ({}) |\n", cell(row.base->cell.key),
                        MetricValueText(row.r.median_a, o.metric), MetricValueText(row.r.median_b, o.metric),
                        RatioText(row.r), PText(row.r.p_welch_adjusted),
                        row.base->sample.groups.size(), row.cand->sample.groups.size(),
                        row.outcome == Outcome::kRegression ? ":x: " : "", OutcomeName(row.outcome),
                        cell(row.why));
    }
    md += "\n" + method + "\n";
    if (cross_host) md += "\n**Note:** " + host_note + ".\n";
    if (!unmatched.empty()) md += "\nNot compared: `" + Join(unmatched, "`, `") + "`.\n";
    fmt::print("{}", md);
  } else {
    report::TextTable t({"cell", "baseline", "candidate", "ratio [CI]", "p (Holm)", "reps", "result"},
                        {false, true, true, true, true, true, false});
    for (const auto& row : rows) {
      t.AddRow({row.base->cell.key, MetricValueText(row.r.median_a, o.metric), MetricValueText(row.r.median_b, o.metric),
                RatioText(row.r), PText(row.r.p_welch_adjusted),
                fmt::format("{}/{}", row.base->sample.groups.size(), row.cand->sample.groups.size()),
                fmt::format("{} ({})", OutcomeName(row.outcome), row.why)});
    }
    fmt::print("check {} of run {} ({}) against run {} ({}):\n\n{}\n{}\n", o.metric, cand.run_id,
               cand.file, base.run_id, base.file, TerminalSafe(t.Render(), true), method);
    if (cross_host) fmt::print("note: {}\n", TerminalSafe(host_note));
    if (!unmatched.empty()) fmt::print("not compared: {}\n", TerminalSafe(Join(unmatched, ", ")));
    fmt::print("{}\n", regressions ? fmt::format("FAIL: {} regression(s)", regressions) : "PASS");
  }
  return regressions ? ExitCode::kSomeFailed : ExitCode::kDone;
}

}  // namespace

void AddCheckCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand(
      "check", "Regression gate: candidate vs baseline, per cell; exit 1 on a regression");
  auto o = std::make_shared<CheckOptions>();
  cmd->add_option("--baseline", o->baseline, "baseline: a run in --db (id or latest), or a database file (its latest run)")
      ->required();
  cmd->add_option("--candidate", o->candidate, "candidate: a run in --db, or a database file (its latest run)")
      ->required();
  cmd->add_option("--db", o->db, "SQLite database that run ids refer to")->capture_default_str();
  cmd->add_option("--threshold", o->threshold,
                  "smallest slowdown that counts, as 2% or 0.02 (practical significance)")
      ->capture_default_str();
  cmd->add_option("--alpha", o->alpha, "significance level, Holm-adjusted across the cells")
      ->capture_default_str()->check(CLI::Range(1e-6, 0.5));
  cmd->add_option("--metric", o->metric, ComparisonMetricsHelp())->capture_default_str();
  cmd->add_option("--format", o->format, "text, markdown (for a pull-request comment) or json")
      ->capture_default_str();
  cmd->callback([o, &result] { result = Check(*o); });
}

}  // namespace dlb::cli
