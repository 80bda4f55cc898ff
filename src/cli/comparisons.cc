#include "cli/comparisons.h"

#include <fmt/format.h>

#include "analysis/verdict.h"
#include "cli/common.h"
#include "cli/generation.h"
#include "report/summary.h"
#include "util/strings.h"

namespace dlb::cli {

const std::vector<std::string>& ComparisonMetrics() {
  static const std::vector<std::string> metrics = {"latency", "throughput", "memory", "energy", "ttft",
                                                   "tpot"};
  return metrics;
}

std::vector<std::vector<double>> MetricGroups(store::Db& db, const store::CellRow& c,
                                              const std::string& metric) {
  if (metric == "ttft" || metric == "tpot") return GenerationGroups(db, c, metric);
  std::vector<std::vector<double>> groups;
  for (const auto& r : store::GetRepetitions(db, c.cell_id)) {
    if (r.status != "ok") continue;
    if (metric == "memory") {
      if (r.peak_rss_bytes) groups.push_back({static_cast<double>(*r.peak_rss_bytes)});
      continue;
    }
    if (metric == "energy") {
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

CellDesign DesignOf(const store::RunRow& run, const std::vector<store::RepetitionRow>& reps) {
  CellDesign d{run.run_id, 0, run.compare_by};
  if (!run.target_ratio_ci || run.repetitions < 2) return d;
  int ok_in_stage1 = 0;
  for (const auto& r : reps) {
    if (r.rep_idx < run.repetitions && r.status == "ok") ++ok_in_stage1;
  }
  if (ok_in_stage1 == run.repetitions) d.stage1 = static_cast<int>(run.repetitions);
  return d;
}

int PairStage1(const CellDesign& a, const CellDesign& b, const std::string& by) {
  if (a.stage1 == 0 || a.stage1 != b.stage1 || a.run_id != b.run_id) return 0;
  return a.axis == by && b.axis == by ? a.stage1 : 0;
}

ComparedCell LoadComparedCell(store::Db& db, const store::RunRow& run, const store::CellRow& c,
                              const std::string& metric) {
  ComparedCell s{run.run_id, run.host, c, {c.key, MetricGroups(db, c, metric)}, "{}", {}};
  if (c.settings_json) s.settings_json = *c.settings_json;
  s.design = DesignOf(run, store::GetRepetitions(db, c.cell_id));
  return s;
}

Comparisons CompareStored(store::Db& db, const std::vector<int64_t>& run_ids, const std::string& by,
                          const std::string& metric, analysis::CompareOptions options) {
  Comparisons out;
  out.by = by;
  out.metric = metric;
  options.lower_is_better = metric != "throughput";
  out.options = options;
  for (int64_t run_id : run_ids) {
    const std::vector<int64_t> parts = store::LogicalRun(db, run_id);
    for (int64_t part : parts) {
      store::RunRow run = store::GetRun(db, part);
      for (const auto& c : store::GetCells(db, part)) {
        if (c.status != "ok" && c.status != "partial") continue;
        ComparedCell s = LoadComparedCell(db, run, c, metric);
        if (s.sample.groups.empty()) continue;
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
  auto pairs = analysis::PairAlong(coordinates, by);
  std::vector<int> stage1;
  for (const auto& [a, b] : pairs) {
    stage1.push_back(PairStage1(out.cells[a].design, out.cells[b].design, by));
  }
  if (!pairs.empty()) {
    out.results =
        analysis::CompareFamily(samples, pairs, analysis::Grouping::kRepetitions, options, stage1);
  }
  return out;
}

std::string VerdictSentences(const Comparisons& c) {
  std::string out;
  for (const auto& r : c.results) {
    const auto& a = c.cells[r.a];
    const auto& b = c.cells[r.b];
    analysis::VerdictSubject subject{
        fmt::format("{} bs{} {}", a.cell.model, a.cell.batch,
                    report::PrecisionLabel(a.cell.precision, a.cell.profile)),
        analysis::AxisValue(CoordinatesOf(a.run_id, a.cell), c.by),
        analysis::AxisValue(CoordinatesOf(b.run_id, b.cell), c.by), a.sample.groups.size(),
        b.sample.groups.size(), BetterWord(c.metric)};
    out += analysis::VerdictSentence(r, subject, c.options) + "\n";
  }
  return out;
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
