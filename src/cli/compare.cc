// dlbench compare RUN [RUN2] --by AXIS: cells that differ only in AXIS, compared over repetitions
// (each repetition a fresh process is one observation; METHODOLOGY §2 rule 1): ratio of medians B/A
// with a hierarchical bootstrap CI, Welch and Mann-Whitney on per-repetition medians with Holm across
// the table, Hedges' g, a two-gate verdict, between- beside within-repetition variation, and a flag
// where the two sides ran with different numeric settings (TF32, layout, dtype, threads).
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

const std::vector<std::string> kMetrics = {"latency", "throughput", "memory", "energy"};

struct CompareCliOptions {
  std::vector<std::string> runs;
  std::string db = kDefaultDb;
  std::string by = "framework";
  std::string metric = "latency";
  bool json_output = false;
  analysis::CompareOptions compare;
};

struct Side {
  int64_t run_id;
  store::CellRow cell;
  analysis::Sample sample;     // one group per ok repetition
  std::string settings_json;  // of the first ok repetition
};

std::string AxisValue(const Side& s, const std::string& by) {
  return analysis::AxisValue(CoordinatesOf(s.run_id, s.cell), by);
}

// Per-repetition values of the metric. Throughput is per sample, batch / time.
std::vector<std::vector<double>> Groups(store::Db& db, const store::CellRow& c, const std::string& metric) {
  std::vector<std::vector<double>> groups;
  for (const auto& r : store::GetRepetitions(db, c.cell_id)) {
    if (r.status != "ok") continue;
    if (metric == "memory") {
      if (r.peak_rss_bytes) groups.push_back({static_cast<double>(*r.peak_rss_bytes)});
      continue;
    }
    if (metric == "energy") {  // joules per input sample, one value per energy window
      auto g = store::GetEnergyPerSample(db, r.repetition_id, c.batch);
      if (!g.empty()) groups.push_back(std::move(g));
      continue;
    }
    std::vector<double> g = store::GetSteadyWallNs(db, r.repetition_id);
    if (metric == "throughput") {
      for (double& v : g) v = static_cast<double>(c.batch) * 1e9 / v;
    }
    if (!g.empty()) groups.push_back(std::move(g));
  }
  return groups;
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

std::string Value(double v, const std::string& metric) {
  if (metric == "latency") return FormatNs(v);
  if (metric == "memory") return FormatBytes(v);
  if (metric == "energy") return fmt::format("{:.4g} J", v);
  return fmt::format("{:.4g}/s", v);
}

ExitCode Compare(CompareCliOptions o) {
  const auto& axes = analysis::ComparisonAxes();
  if (std::find(axes.begin(), axes.end(), o.by) == axes.end()) {
    throw UserError(fmt::format("--by {}: {}", o.by, AllowedValues(o.by, axes)));
  }
  if (std::find(kMetrics.begin(), kMetrics.end(), o.metric) == kMetrics.end()) {
    throw UserError(fmt::format("--metric {}: {}", o.metric, AllowedValues(o.metric, kMetrics)));
  }
  if (o.runs.size() > 2) throw UserError("give one run, or two to compare runs");
  if (o.by == "run" && o.runs.size() != 2) throw UserError("--by run: give two runs (RUN RUN2)");
  if (o.runs.size() == 2 && o.by != "run") {
    throw UserError(fmt::format("two runs given but --by {}; use --by run to compare runs", o.by));
  }
  auto store = store::Store::OpenExisting(o.db);
  o.compare.lower_is_better = o.metric != "throughput";

  std::vector<Side> sides;
  for (const auto& spec : o.runs) {
    int64_t run_id = store::ResolveRun(store.db(), spec);
    for (const auto& c : store::GetCells(store.db(), run_id)) {
      if (c.status != "ok" && c.status != "partial") continue;
      Side s{run_id, c, {}, "{}"};
      s.sample.name = c.key;
      s.sample.groups = Groups(store.db(), c, o.metric);
      for (const auto& r : store::GetRepetitions(store.db(), c.cell_id)) {
        if (r.status == "ok" && r.settings_json) {
          s.settings_json = *r.settings_json;
          break;
        }
      }
      if (!s.sample.groups.empty()) sides.push_back(std::move(s));
    }
  }
  std::vector<analysis::CellCoordinates> coordinates;
  for (const auto& side : sides) coordinates.push_back(CoordinatesOf(side.run_id, side.cell));
  std::vector<std::pair<size_t, size_t>> pairs = analysis::PairAlong(coordinates, o.by);
  std::vector<analysis::Sample> samples;
  for (const auto& s : sides) samples.push_back(s.sample);
  if (pairs.empty() && o.metric == "energy") {
    throw UserError(fmt::format("--metric energy: no two cells that differ only in {} both have "
                                "energy windows in {} (energy needs NVML on a GPU or readable RAPL: "
                                "see `dlbench show RUN --cell N`)",
                                o.by, o.db));
  }
  if (pairs.empty()) {
    throw UserError(fmt::format("no two successful cells differ only in {}; nothing to compare", o.by));
  }
  auto results = analysis::CompareFamily(samples, pairs, analysis::Grouping::kRepetitions, o.compare);

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
              AxisValue(a, o.by), AxisValue(b, o.by), Value(r.median_a, o.metric), Value(r.median_b, o.metric),
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
    auto opt = [](const auto& v) { return v ? ordered_json(*v) : ordered_json(nullptr); };
    jc.push_back({{"a", {{"run", a.run_id}, {"cell", a.cell.cell_idx}, {"key", a.cell.key},
                         {"repetitions", a.sample.groups.size()}, {"median", r.median_a},
                         {"cv_between_repetitions", opt(between_a)}, {"cv_within_repetitions", opt(within_a)}}},
                  {"b", {{"run", b.run_id}, {"cell", b.cell.cell_idx}, {"key", b.cell.key},
                         {"repetitions", b.sample.groups.size()}, {"median", r.median_b},
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
                  {"verdict", r.verdict}, {"settings_differ", diff}, {"notes", r.notes}});
  }
  if (o.json_output) {
    ordered_json j = {{"format", "dlbench-compare"}, {"version", 1}, {"runs", o.runs},
                      {"by", o.by}, {"metric", o.metric}, {"alpha", o.compare.alpha},
                      {"threshold", o.compare.threshold}, {"seed", o.compare.seed},
                      {"n_resamples", o.compare.n_resamples}, {"comparisons", jc}};
    fmt::print("{}\n", j.dump(2, ' ', false, ordered_json::error_handler_t::replace));
    return ExitCode::kDone;
  }
  fmt::print("{} by {}: B relative to A over repetitions (each repetition one observation)\n\n",
             o.metric, o.by);
  fmt::print("{}", t.Render());
  fmt::print("\nverdict: both Holm-adjusted p < {:g} (Welch and Mann-Whitney on per-repetition medians, "
             "family of {}) and the ratio's hierarchical-bootstrap CI outside ±{:g}%; \"equivalent\": "
             "the CI inside ±{:g}%. Few repetitions cannot reach significance: Mann-Whitney needs at least "
             "4 per side for p < 0.05.\n",
             o.compare.alpha, results.size(), o.compare.threshold * 100, o.compare.threshold * 100);
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
  cmd->add_option("--metric", o->metric, "latency, throughput, memory, energy (J per sample over energy windows)")
      ->capture_default_str();
  cmd->add_option("--alpha", o->compare.alpha, "significance level")->capture_default_str()->check(CLI::Range(1e-6, 0.5));
  cmd->add_option("--threshold", o->compare.threshold, "practical-equivalence band, as a fraction")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--resamples", o->compare.n_resamples, "bootstrap resamples")->capture_default_str()->check(CLI::Range(100, 1'000'000));
  cmd->add_option("--seed", o->compare.seed, "bootstrap seed")->capture_default_str();
  cmd->add_flag("--json", o->json_output, "machine-readable output (format dlbench-compare, version 1)");
  cmd->callback([o, &result] { result = Compare(*o); });
}

}  // namespace dlb::cli
