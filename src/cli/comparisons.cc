#include "cli/comparisons.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analysis/verdict.h"
#include "cli/common.h"
#include "cli/generation.h"
#include "probe/contention.h"
#include "report/summary.h"
#include "util/error.h"
#include "util/strings.h"

namespace dlb::cli {

namespace {

std::vector<double> SteadyNs(store::Db& db, const store::CellRow&, const store::RepetitionRow& r,
                             bool include_contaminated) {
  return store::GetSteadyWallNs(db, r.repetition_id, include_contaminated);
}

std::vector<double> SamplesPerSecond(store::Db& db, const store::CellRow& c, const store::RepetitionRow& r,
                                     bool include_contaminated) {
  std::vector<double> v = store::GetSteadyWallNs(db, r.repetition_id, include_contaminated);
  for (double& x : v) x = static_cast<double>(c.batch) * 1e9 / x;
  return v;
}

std::vector<double> PeakRss(store::Db&, const store::CellRow&, const store::RepetitionRow& r, bool) {
  if (!r.peak_rss_bytes) return {};
  return {static_cast<double>(*r.peak_rss_bytes)};
}

std::vector<double> JoulesPerSample(store::Db& db, const store::CellRow& c, const store::RepetitionRow& r,
                                    bool) {
  return store::GetEnergyPerSample(db, r.repetition_id, c.batch);
}

std::vector<double> Ttft(store::Db& db, const store::CellRow&, const store::RepetitionRow& r, bool) {
  return GenerationValues(db, r.repetition_id, "ttft");
}

std::vector<double> Tpot(store::Db& db, const store::CellRow&, const store::RepetitionRow& r, bool) {
  return GenerationValues(db, r.repetition_id, "tpot");
}

}  // namespace

const std::vector<ComparisonMetric>& ComparisonMetricTable() {
  static const std::vector<ComparisonMetric> table = {
      {"latency", "ns per iteration of the steady phase", MetricUnit::kNs, true, SteadyNs},
      {"throughput", "samples/s of the steady phase", MetricUnit::kPerSecond, false, SamplesPerSecond},
      {"memory", "peak RSS per repetition", MetricUnit::kBytes, true, PeakRss},
      {"energy", "J per sample over energy windows", MetricUnit::kJoules, true, JoulesPerSample},
      {"ttft", "generation: time to first token, per request", MetricUnit::kNs, true, Ttft},
      {"tpot", "generation: time per output token, per request", MetricUnit::kNs, true, Tpot},
  };
  return table;
}

const ComparisonMetric& FindComparisonMetric(const std::string& name, const std::string& flag) {
  for (const ComparisonMetric& m : ComparisonMetricTable()) {
    if (m.name == name) return m;
  }
  throw UserError(fmt::format("{} {}: {}", flag, name, AllowedValues(name, ComparisonMetrics())));
}

const std::vector<std::string>& ComparisonMetrics() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const ComparisonMetric& m : ComparisonMetricTable()) v.emplace_back(m.name);
    return v;
  }();
  return names;
}

std::string ComparisonMetricsHelp() {
  std::vector<std::string> parts;
  for (const ComparisonMetric& m : ComparisonMetricTable()) parts.push_back(fmt::format("{} ({})", m.name, m.help));
  return Join(parts, ", ");
}

MetricValues MetricGroups(store::Db& db, const store::CellRow& c, const std::string& metric,
                          bool include_contaminated) {
  const ComparisonMetric& m = FindComparisonMetric(metric);
  MetricValues out;
  for (const auto& r : store::GetRepetitions(db, c.cell_id)) {
    if (r.status != "ok") continue;
    if (r.contaminated.value_or(0) && !include_contaminated) {
      ++out.contaminated;
      continue;
    }
    std::vector<double> g = m.values(db, c, r, include_contaminated);
    if (!g.empty()) out.groups.push_back(std::move(g));
  }
  return out;
}

CellDesign DesignOf(const store::RunRow& run, const std::vector<store::RepetitionRow>& reps) {
  CellDesign d{run.run_id, 0, run.compare_by};
  if (!run.target_ratio_ci || run.repetitions < 2) return d;
  std::vector<analysis::StageRepetition> stage;
  for (const auto& r : reps) {  // in rep_idx order
    stage.push_back({r.rep_idx, r.replaces_rep_idx, r.status == "ok" && !r.contaminated.value_or(0)});
  }
  if (analysis::FirstStageWhole(stage, run.repetitions)) d.stage1 = static_cast<int>(run.repetitions);
  return d;
}

int PairStage1(const CellDesign& a, const CellDesign& b, const std::string& by) {
  if (a.stage1 == 0 || a.stage1 != b.stage1 || a.run_id != b.run_id) return 0;
  return a.axis == by && b.axis == by ? a.stage1 : 0;
}

ComparedCell LoadComparedCell(store::Db& db, const store::RunRow& run, const store::CellRow& c,
                              const std::string& metric, bool include_contaminated) {
  MetricValues values = MetricGroups(db, c, metric, include_contaminated);
  ComparedCell s{run.run_id, run.host, c, {c.key, std::move(values.groups)}, values.contaminated, "{}", {}};
  if (c.settings_json) s.settings_json = *c.settings_json;
  s.design = DesignOf(run, store::GetRepetitions(db, c.cell_id));
  if (include_contaminated && c.contaminated_repetitions.value_or(0) > 0) s.design.stage1 = 0;
  return s;
}

std::vector<ComparedCell> LoadRunCells(store::Db& db, int64_t run_id, const std::string& metric,
                                       bool include_contaminated) {
  std::vector<ComparedCell> out;
  const std::vector<int64_t> parts = store::LogicalRun(db, run_id);
  for (int64_t part : parts) {
    store::RunRow run = store::GetRun(db, part);
    for (const auto& c : store::GetCells(db, part)) {
      if (c.status != "ok" && c.status != "partial") continue;
      // A sweep's cells are rates of one load, each run once: not a pair to compare.
      if (IsSweepCell(c)) continue;
      ComparedCell s = LoadComparedCell(db, run, c, metric, include_contaminated);
      if (s.sample.groups.empty() && s.contaminated == 0) continue;
      s.run_id = s.design.run_id = parts.front();
      out.push_back(std::move(s));
    }
  }
  return out;
}

Comparisons CompareCells(std::vector<ComparedCell> cells,
                         const std::vector<analysis::CellCoordinates>& coordinates, const CompareQuery& q) {
  DLB_CHECK(cells.size() == coordinates.size());
  Comparisons out;
  out.by = Join(q.axes, "+");
  out.metric = q.metric;
  out.options = q.options;
  out.options.lower_is_better = MetricLowerIsBetter(q.metric);
  out.include_contaminated = q.include_contaminated;
  out.cells = std::move(cells);
  std::vector<analysis::Sample> samples;
  for (const auto& s : out.cells) samples.push_back(s.sample);
  std::vector<std::pair<size_t, size_t>> pairs;
  std::vector<int> stage1;
  for (const auto& axis : q.axes) {
    for (const auto& [a, b] : analysis::PairAlong(coordinates, axis)) {
      // A cell every repetition of which was contaminated has no values, yet its pairs are kept:
      // their verdict says why there is none.
      pairs.push_back({a, b});
      out.axis.push_back(axis);
      stage1.push_back(PairStage1(out.cells[a].design, out.cells[b].design, axis));
    }
  }
  if (!pairs.empty()) {
    out.results =
        analysis::CompareFamily(samples, pairs, analysis::Grouping::kRepetitions, out.options, stage1);
  }
  return out;
}

Comparisons CompareStored(store::Db& db, const CompareQuery& q) {
  std::vector<ComparedCell> cells;
  for (int64_t run_id : q.runs) {
    for (ComparedCell& s : LoadRunCells(db, run_id, q.metric, q.include_contaminated)) {
      cells.push_back(std::move(s));
    }
  }
  std::vector<analysis::CellCoordinates> coordinates;
  for (const auto& s : cells) coordinates.push_back(CoordinatesOf(s.run_id, s.cell));
  return CompareCells(std::move(cells), coordinates, q);
}

analysis::VerdictSubject SubjectOf(const Comparisons& c, size_t i) {
  const auto& r = c.results[i];
  const auto& a = c.cells[r.a];
  const auto& b = c.cells[r.b];
  const std::string& axis = c.axis[i];
  analysis::VerdictSubject s{fmt::format("{} bs{} {}", a.cell.model, a.cell.batch,
                                         report::PrecisionLabel(a.cell.precision, a.cell.profile)),
                             analysis::AxisValue(CoordinatesOf(a.run_id, a.cell), axis),
                             analysis::AxisValue(CoordinatesOf(b.run_id, b.cell), axis),
                             a.sample.groups.size(),
                             b.sample.groups.size(),
                             BetterWord(c.metric)};
  s.contaminated_a = a.contaminated;
  s.contaminated_b = b.contaminated;
  return s;
}

std::string VerdictSentences(const Comparisons& c) {
  std::string out;
  for (size_t i = 0; i < c.results.size(); ++i) {
    out += analysis::VerdictSentence(c.results[i], SubjectOf(c, i), c.options) + "\n";
  }
  return out;
}

std::string ContentionSummary(store::Db& db, const std::vector<int64_t>& run_ids) {
  store::BusyTime busy;
  int64_t contaminated = 0, replaced = 0, gate_timeouts = 0, repetitions = 0;
  double threshold = 0;  // the largest the runs used
  for (int64_t run_id : run_ids) {
    for (int64_t part : store::LogicalRun(db, run_id)) {
      const store::BusyTime b = store::GetRunBusyTime(db, part);
      busy.chunk_s += b.chunk_s;
      busy.contaminated_s += b.contaminated_s;
      for (const auto& c : store::GetCells(db, part)) {
        for (const auto& r : store::GetRepetitions(db, c.cell_id)) {
          ++repetitions;
          if (r.status == "ok" && r.contaminated.value_or(0)) ++contaminated;
          if (r.replaces_rep_idx) ++replaced;
          if (r.quiet_gate.value_or("") == "timeout") ++gate_timeouts;
          threshold = std::max(threshold, r.contention_threshold.value_or(probe::kContaminationThreshold));
        }
      }
    }
  }
  if (contaminated == 0 && gate_timeouts == 0 && busy.contaminated_s <= 0) return "";
  const double share = busy.chunk_s > 0 ? busy.contaminated_s / busy.chunk_s : 0;
  if (contaminated == 0 && gate_timeouts == 0 && share < kBusyShare) {
    return fmt::format("Other processes briefly took the workers' CPUs (during {:.0f}% of the "
                       "measured time); the chunks measured then were left out of their "
                       "repetitions' estimates.",
                       std::max(1.0, std::round(100 * share)));
  }
  std::vector<std::string> parts;
  if (busy.chunk_s > 0) {
    parts.push_back(fmt::format("other processes took more than {:g}% of the workers' CPUs during "
                                "{:.0f}% of the measured time",
                                100 * threshold, 100 * busy.contaminated_s / busy.chunk_s));
  }
  if (contaminated > 0) {
    parts.push_back(fmt::format(
        "{} of {} repetitions could not gather enough clean samples and are left out of the "
        "verdicts{}",
        contaminated, repetitions,
        replaced > 0 ? fmt::format(" ({} replacement repetitions ran in their place)", replaced) : ""));
  }
  if (gate_timeouts > 0) {
    parts.push_back(fmt::format("{} repetitions started without a quiet window (the quiet gate "
                                "timed out)", gate_timeouts));
  }
  std::string s = "The machine was busy: " + Join(parts, "; ") + ".";
  if (contaminated > 0 || gate_timeouts > 0) {
    s += " Stop what else runs on it and run again, or raise [contention] replacements and "
         "quiet_timeout_s; dlbench compare --include-contaminated shows the verdicts with the "
         "contaminated repetitions put back.";
  } else {
    s += " The chunks measured then were left out of their repetitions' estimates, which sampled "
         "on until they had enough clean ones.";
  }
  return s;
}

std::string BetterWord(const std::string& metric) {
  const MetricUnit u = FindComparisonMetric(metric).unit;
  return u == MetricUnit::kNs || u == MetricUnit::kPerSecond ? "faster" : "lower";
}

bool IsTimeMetric(const std::string& metric) { return FindComparisonMetric(metric).unit == MetricUnit::kNs; }

bool MetricLowerIsBetter(const std::string& metric) { return FindComparisonMetric(metric).lower_is_better; }

std::string MetricValueText(double v, const std::string& metric) {
  switch (FindComparisonMetric(metric).unit) {
    case MetricUnit::kNs: return FormatNs(v);
    case MetricUnit::kBytes: return FormatBytes(v);
    case MetricUnit::kJoules: return fmt::format("{:.4g} J", v);
    case MetricUnit::kPerSecond: break;
  }
  return fmt::format("{:.4g}/s", v);
}

}  // namespace dlb::cli
