// dlbench compare RUN [RUN2] --by AXIS: cells that differ only in AXIS, compared over repetitions
// (each repetition a fresh process is one observation; methodology rule 1): B/A as the ratio of the
// geometric means of the per-repetition medians with Welch's interval on the log scale, Welch and
// Mann-Whitney on per-repetition medians with Holm across the table, Hedges' g, a two-gate verdict,
// between- beside within-repetition variation, and a flag where the two sides ran with different
// numeric settings (TF32, layout, dtype).
#include <cmath>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "analysis/compare.h"
#include "analysis/pairing.h"
#include "analysis/settings.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/comparisons.h"
#include "plan/axes.h"
#include "report/summary.h"
#include "report/table.h"
#include "stats/sample_check.h"
#include "store/query.h"
#include "store/store.h"
#include "util/error.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;


struct CompareCliOptions {
  std::vector<std::string> runs;
  std::string db = kDefaultDb;
  std::string by = "framework";
  std::string metric = "latency";
  bool json_output = false;
  bool include_contaminated = false;
  analysis::CompareOptions compare;
};

using Side = ComparedCell;

std::string AxisValue(const Side& s, const std::string& by) {
  return analysis::AxisValue(CoordinatesOf(s.run_id, s.cell), by);
}

std::string SettingsDiff(const Side& a, const Side& b) {
  return analysis::NumericDifference(a.settings_json, a.cell.device, b.settings_json, b.cell.device);
}

// CV of per-repetition medians (between) and mean CV within repetitions.
std::pair<std::optional<double>, std::optional<double>> Variation(const analysis::Sample& s) {
  std::vector<double> medians, within;
  for (const auto& g : s.groups) {
    medians.push_back(stats::Median(g));
    if (g.size() >= 2) {
      double m = stats::Mean(g);
      if (m != 0) within.push_back(std::sqrt(stats::SumSquaredDeviations(g, m) / static_cast<double>(g.size() - 1)) / m);
    }
  }
  std::optional<double> between, within_mean;
  if (medians.size() >= 2) {
    double m = stats::Mean(medians);
    if (m != 0) between = std::sqrt(stats::SumSquaredDeviations(medians, m) / static_cast<double>(medians.size() - 1)) / m;
  }
  if (!within.empty()) within_mean = stats::Mean(within);
  return {between, within_mean};
}

std::string Pct(const std::optional<double>& v) { return v ? fmt::format("{:.2f}%", *v * 100) : "-"; }

ExitCode Compare(CompareCliOptions o) {
  const auto& axes = plan::ComparisonAxes();
  if (std::find(axes.begin(), axes.end(), o.by) == axes.end()) {
    throw UserError(fmt::format("--by {}: {}", o.by, AllowedValues(o.by, axes)));
  }
  FindComparisonMetric(o.metric);
  if (o.runs.size() > 2) throw UserError("give one run, or two to compare runs");
  if (o.by == "run" && o.runs.size() != 2) throw UserError("--by run: give two runs (RUN RUN2)");
  if (o.runs.size() == 2 && o.by != "run") {
    throw UserError(fmt::format("two runs given but --by {}; use --by run to compare runs", o.by));
  }
  auto store = store::Store::OpenExisting(o.db);
  std::vector<int64_t> run_ids;
  for (const auto& spec : o.runs) run_ids.push_back(store::ResolveRun(store.db(), spec));
  Comparisons cmp = CompareStored(store.db(), {.runs = run_ids,
                                               .axes = {o.by},
                                               .metric = o.metric,
                                               .include_contaminated = o.include_contaminated,
                                               .options = o.compare});
  o.compare = cmp.options;
  if (cmp.results.empty() && o.metric == "energy") {
    throw UserError(fmt::format("--metric energy: no two cells that differ only in {} both have "
                                "energy windows in {} (energy needs NVML on a GPU or readable RAPL: "
                                "see `dlbench show RUN --cell N`)",
                                o.by, o.db));
  }
  if (cmp.results.empty()) {
    throw UserError(fmt::format("no two successful cells differ only in {}; nothing to compare", o.by));
  }
  const std::vector<Side>& sides = cmp.cells;
  const auto& results = cmp.results;

  report::TextTable t({"model", "batch", "precision", "device", "A", "B", "median A", "median B",
                       "B/A [95% CI]", "reps", "Welch p", "M-W p", "g", "verdict", "CV between/within A",
                       "settings differ"},
                      {false, true, false, false, false, false, true, true, true, true, true, true,
                       true, false, true, false});
  ordered_json jc = ordered_json::array();
  std::string notes;
  for (const auto& r : results) {
    const Side& a = sides[r.a];
    const Side& b = sides[r.b];
    auto [between_a, within_a] = Variation(a.sample);
    auto [between_b, within_b] = Variation(b.sample);
    std::string diff = SettingsDiff(a, b);
    auto p = [](const auto& v) { return v ? fmt::format("{:.3g}", *v) : std::string("-"); };
    t.AddRow({a.cell.model, std::to_string(a.cell.batch),
              report::PrecisionLabel(a.cell.precision, a.cell.profile), a.cell.device,
              AxisValue(a, o.by), AxisValue(b, o.by), MetricValueText(r.median_a, o.metric), MetricValueText(r.median_b, o.metric),
              r.ratio_ci ? fmt::format("{:.3f} [{:.3f}, {:.3f}]", r.ratio, r.ratio_ci->lo, r.ratio_ci->hi)
                         : fmt::format("{:.3f}", r.ratio),
              fmt::format("{}/{}", a.sample.groups.size(), b.sample.groups.size()),
              p(r.p_welch_adjusted), p(r.p_mwu_adjusted),
              r.effect ? fmt::format("{:.2f}", r.effect->hedges_g) : "-", r.verdict,
              Pct(between_a) + " / " + Pct(within_a), diff.empty() ? "-" : "yes"});
    if (!diff.empty()) {
      notes += fmt::format("{} bs{} {}: {} vs {} ran with different numeric settings: {}\n",
                           a.cell.model, a.cell.batch,
                           report::PrecisionLabel(a.cell.precision, a.cell.profile), AxisValue(a, o.by),
                           AxisValue(b, o.by), diff);
    }
    if (a.host != b.host) {
      notes += fmt::format("{} bs{} {}: {} ran on host {}, {} on host {}: the ratio includes the "
                           "difference between the machines\n",
                           a.cell.model, a.cell.batch,
                           report::PrecisionLabel(a.cell.precision, a.cell.profile), AxisValue(a, o.by),
                           a.host, AxisValue(b, o.by), b.host);
    }
    const int64_t contaminated_a = a.cell.contaminated_repetitions.value_or(0);
    const int64_t contaminated_b = b.cell.contaminated_repetitions.value_or(0);
    if (contaminated_a + contaminated_b > 0) {
      notes += fmt::format(
          "{} bs{} {}: {} of A's and {} of B's repetitions were measured beside other processes "
          "(contaminated); {}\n",
          a.cell.model, a.cell.batch, report::PrecisionLabel(a.cell.precision, a.cell.profile),
          contaminated_a, contaminated_b,
          o.include_contaminated ? "they are INCLUDED in this row (--include-contaminated)"
                                 : "they are left out of this row; --include-contaminated puts them back");
    }
    auto opt = [](const auto& v) { return v ? ordered_json(*v) : ordered_json(nullptr); };
    jc.push_back({{"a", {{"run", a.run_id}, {"cell", a.cell.cell_idx}, {"key", a.cell.key}, {"host", a.host},
                         {"repetitions", a.sample.groups.size()}, {"median", r.median_a},
                         {"contaminated_repetitions", opt(a.cell.contaminated_repetitions)},
                         {"contaminated_left_out", a.contaminated},
                         {"cv_between_repetitions", opt(between_a)}, {"cv_within_repetitions", opt(within_a)}}},
                  {"b", {{"run", b.run_id}, {"cell", b.cell.cell_idx}, {"key", b.cell.key}, {"host", b.host},
                         {"repetitions", b.sample.groups.size()}, {"median", r.median_b},
                         {"contaminated_repetitions", opt(b.cell.contaminated_repetitions)},
                         {"contaminated_left_out", b.contaminated},
                         {"cv_between_repetitions", opt(between_b)}, {"cv_within_repetitions", opt(within_b)}}},
                  {"ratio_b_over_a", r.ratio},
                  {"ratio_ci", r.ratio_ci ? ordered_json::array({r.ratio_ci->lo, r.ratio_ci->hi}) : ordered_json(nullptr)},
                  {"ci_method", r.ci_method},
                  {"ratio_of_means", r.ratio_of_means},
                  {"ratio_of_means_ci", r.ratio_of_means_ci ? ordered_json::array({r.ratio_of_means_ci->lo, r.ratio_of_means_ci->hi}) : ordered_json(nullptr)},
                  {"repetitions_per_side_for_80pct_power", opt(r.n_for_power)},
                  {"p_welch", r.welch ? ordered_json(r.welch->p) : nullptr},
                  {"p_welch_holm", opt(r.p_welch_adjusted)},
                  {"p_mann_whitney", r.mwu ? ordered_json(r.mwu->p) : nullptr},
                  {"p_mann_whitney_holm", opt(r.p_mwu_adjusted)},
                  {"hedges_g", r.effect ? ordered_json(r.effect->hedges_g) : nullptr},
                  {"verdict", r.verdict},
                  {"undecided_because", analysis::WhyUndecided(r, SubjectOf(cmp, &r - results.data()), o.compare).words},
                  {"repetitions_per_side_to_decide",
                   r.outlook && r.outlook->repetitions ? ordered_json(*r.outlook->repetitions) : ordered_json(nullptr)},
                  {"settings_differ", diff}, {"notes", r.notes}});
  }
  if (o.json_output) {
    ordered_json j = {{"format", "dlbench-compare"}, {"version", 2}, {"runs", o.runs},
                      {"by", o.by}, {"metric", o.metric}, {"alpha", o.compare.alpha},
                      {"threshold", o.compare.threshold},
                      {"include_contaminated", o.include_contaminated},
                      {"interval", "welch-log"}, {"comparisons", jc}};
    fmt::print("{}\n", j.dump(2, ' ', false, ordered_json::error_handler_t::replace));
    return ExitCode::kDone;
  }
  fmt::print("{} by {}: B relative to A over repetitions (each repetition one observation)\n\n",
             o.metric, o.by);
  fmt::print("{}", t.Render());
  fmt::print("\n{}", TerminalSafe(VerdictSentences(cmp), true));  // the sentences show and run print
  fmt::print("\n{}\n", analysis::RepetitionMethodText(o.compare, results.size()));
  if (auto busy = ContentionSummary(store.db(), run_ids); !busy.empty()) fmt::print("\n{}\n", busy);
  if (!notes.empty()) fmt::print("\n{}", TerminalSafe(notes, true));  // notes quote stored names
  return ExitCode::kDone;
}

}  // namespace

void AddCompareCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand("compare", "Compare cells that differ in one axis, over repetitions");
  auto o = std::make_shared<CompareCliOptions>();
  cmd->add_option("RUN", o->runs, "run id(s) or latest; two runs with --by run")->required();
  cmd->add_option("--db", o->db, "SQLite database")->capture_default_str();
  cmd->add_option("--by", o->by, "axis that differs: framework, precision, variant, environment, layout, batch, profile, run")
      ->capture_default_str();
  cmd->add_option("--metric", o->metric, ComparisonMetricsHelp())
      ->capture_default_str();
  cmd->add_option("--alpha", o->compare.alpha, "significance level")->capture_default_str()->check(CLI::Range(1e-6, 0.5));
  cmd->add_option("--threshold", o->compare.threshold, "practical-equivalence band, as a fraction")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--json", o->json_output, "machine-readable output (format dlbench-compare, version 2)");
  cmd->add_flag("--include-contaminated", o->include_contaminated,
                "put back the repetitions measured beside busy neighbours (contaminated), and the "
                "samples of the chunks their estimates left out");
  cmd->callback([o, &result] { result = Compare(*o); });
}

}  // namespace dlb::cli
