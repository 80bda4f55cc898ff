#include "cli/comparisons.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analysis/verdict.h"
#include "cli/common.h"
#include "cli/generation.h"
#include "probe/contention.h"
#include "report/summary.h"
#include "util/strings.h"

namespace dlb::cli {

const std::vector<std::string>& ComparisonMetrics() {
  static const std::vector<std::string> metrics = {"latency", "throughput", "memory", "energy", "ttft",
                                                   "tpot"};
  return metrics;
}

MetricValues MetricGroups(store::Db& db, const store::CellRow& c, const std::string& metric,
                          bool include_contaminated) {
  MetricValues out;
  for (const auto& r : store::GetRepetitions(db, c.cell_id)) {
    if (r.status != "ok") continue;
    if (r.contaminated.value_or(0) && !include_contaminated) {
      ++out.contaminated;
      continue;
    }
    std::vector<double> g;
    if (metric == "ttft" || metric == "tpot") {
      g = GenerationValues(db, r.repetition_id, metric);
    } else if (metric == "memory") {
      if (r.peak_rss_bytes) g = {static_cast<double>(*r.peak_rss_bytes)};
    } else if (metric == "energy") {
      g = store::GetEnergyPerSample(db, r.repetition_id, c.batch);
    } else {
      g = store::GetSteadyWallNs(db, r.repetition_id, include_contaminated);
      if (metric == "throughput") {
        for (double& v : g) v = static_cast<double>(c.batch) * 1e9 / v;
      }
    }
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

Comparisons CompareStored(store::Db& db, const CompareQuery& q) {
  Comparisons out;
  out.by = Join(q.axes, "+");
  out.metric = q.metric;
  out.options = q.options;
  out.options.lower_is_better = q.metric != "throughput";
  out.include_contaminated = q.include_contaminated;
  for (int64_t run_id : q.runs) {
    const std::vector<int64_t> parts = store::LogicalRun(db, run_id);
    for (int64_t part : parts) {
      store::RunRow run = store::GetRun(db, part);
      for (const auto& c : store::GetCells(db, part)) {
        if (c.status != "ok" && c.status != "partial") continue;
        // A sweep's cells are rates of one load, each run once: not a pair to compare.
        if (IsSweepCell(c)) continue;
        ComparedCell s = LoadComparedCell(db, run, c, q.metric, q.include_contaminated);
        if (s.sample.groups.empty() && s.contaminated == 0) continue;
        s.run_id = s.design.run_id = parts.front();
        out.cells.push_back(std::move(s));
      }
    }
  }
  std::vector<analysis::CellCoordinates> coordinates;
  std::vector<analysis::Sample> samples;
  for (const auto& s : out.cells) {
    coordinates.push_back(CoordinatesOf(s.run_id, s.cell));
    samples.push_back(s.sample);
  }
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
  return IsTimeMetric(metric) || metric == "throughput" ? "faster" : "lower";
}

bool IsTimeMetric(const std::string& metric) {
  return metric == "latency" || metric == "ttft" || metric == "tpot";
}

std::string MetricValueText(double v, const std::string& metric) {
  if (IsTimeMetric(metric)) return FormatNs(v);
  if (metric == "memory") return FormatBytes(v);
  if (metric == "energy") return fmt::format("{:.4g} J", v);
  return fmt::format("{:.4g}/s", v);
}

}  // namespace dlb::cli
