// Comparisons of stored cells over repetitions, shared by `compare`, the run's summary and the
// regression gate: load each cell's per-repetition values of a metric, pair the cells along an
// axis (analysis/pairing.h), compare every pair (analysis/compare.h), and word the verdicts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/compare.h"
#include "analysis/pairing.h"
#include "analysis/verdict.h"
#include "store/db.h"
#include "store/query.h"

namespace dlb::cli {

// The figures compare and check compare cells on: one row each, and every property of a metric
// (its values, unit, direction, wording) is read from its row. A repetition gives a group of values.
enum class MetricUnit { kNs, kPerSecond, kBytes, kJoules };
struct ComparisonMetric {
  std::string_view name;
  std::string_view help;  // what --metric's help says of it
  MetricUnit unit;
  bool lower_is_better;
  // One ok repetition's values; contaminated chunks' samples are included only when asked.
  std::vector<double> (*values)(store::Db& db, const store::CellRow& cell, const store::RepetitionRow& rep,
                                bool include_contaminated);
};
const std::vector<ComparisonMetric>& ComparisonMetricTable();
// The row of `name`; a UserError naming `flag` and the allowed names otherwise.
const ComparisonMetric& FindComparisonMetric(const std::string& name, const std::string& flag = "--metric");
// The names, in table order, and the help line of --metric listing them.
const std::vector<std::string>& ComparisonMetrics();
std::string ComparisonMetricsHelp();

// latency, ttft and tpot: values in ns, shown as durations, lower is better.
bool IsTimeMetric(const std::string& metric);

// Every metric but throughput is better lower.
bool MetricLowerIsBetter(const std::string& metric);

// A metric's value as compare and check print it: a duration, bytes, joules or a rate.
std::string MetricValueText(double v, const std::string& metric);

// Stein's first stage of a cell (analysis::RepetitionRatio), when its run chose repetitions by a
// two-stage design: the run, its comparison axis, and the first stage's size, set only when all of
// the cell's first-stage repetitions succeeded.
struct CellDesign {
  int64_t run_id = 0;
  int stage1 = 0;
  std::string axis;
};
struct ComparedCell {
  int64_t run_id = 0;  // the logical run: a sweep's shards share their first shard's id
  std::string host;    // where the cell ran (shards of a sweep may differ)
  store::CellRow cell;
  analysis::Sample sample;          // one group per ok repetition used
  size_t contaminated = 0;          // ok repetitions left out as contaminated (MetricGroups)
  std::string settings_json = "{}";  // of its first ok repetition
  CellDesign design;
};

CellDesign DesignOf(const store::RunRow& run, const std::vector<store::RepetitionRow>& reps);

// The first stage a pair's comparison uses: the shared design of both cells' run when the pair
// runs along its axis, else 0.
int PairStage1(const CellDesign& a, const CellDesign& b, const std::string& by);

// Loads a stored cell's values of a metric and its design (above). The design's first stage is
// kept only when the contaminated repetitions are left out, as the run left them out of it.
ComparedCell LoadComparedCell(store::Db& db, const store::RunRow& run, const store::CellRow& c,
                              const std::string& metric, bool include_contaminated = false);

// What to compare: the runs' ok cells (a sweep's rate cells are never a pair), paired along each
// of `axes` (analysis::PairAlong), all pairs one Holm family.
struct CompareQuery {
  std::vector<int64_t> runs;
  std::vector<std::string> axes = {"framework"};
  std::string metric = "latency";
  bool include_contaminated = false;  // compare --include-contaminated
  analysis::CompareOptions options;
};

struct Comparisons {
  std::string by, metric;                          // by: the axes joined with "+"
  analysis::CompareOptions options;
  bool include_contaminated = false;
  std::vector<ComparedCell> cells;                 // the ok cells with values
  std::vector<analysis::PairComparison> results;   // a and b index into cells
  std::vector<std::string> axis;                   // per result: the axis it pairs along
};

// Per-repetition values of a metric for one stored cell: one group per ok repetition with values,
// in repetition order. Contaminated repetitions (measured beside a busy neighbour) are left out and
// counted, unless include_contaminated; then so are the samples of their excluded chunks.
struct MetricValues {
  std::vector<std::vector<double>> groups;
  size_t contaminated = 0;  // left out
};
MetricValues MetricGroups(store::Db& db, const store::CellRow& c, const std::string& metric,
                          bool include_contaminated = false);

// The ok cells of a logical run (store::LogicalRun) with their values of a metric; a sweep's rate
// cells are left out, and so are cells with neither values nor contaminated repetitions. Each
// cell's run_id is the logical run's first part.
std::vector<ComparedCell> LoadRunCells(store::Db& db, int64_t run_id, const std::string& metric,
                                       bool include_contaminated = false);

// The pairs along the query's axes among `cells` (at `coordinates`, one per cell), compared over
// repetitions as one Holm family (q.runs is not read). CompareStored is this over the cells of its
// runs; check is this over two runs that may come from two database files, paired along "run".
Comparisons CompareCells(std::vector<ComparedCell> cells,
                         const std::vector<analysis::CellCoordinates>& coordinates, const CompareQuery& q);

// Every pair along the query's axes among the ok cells of its runs, compared over repetitions; the
// Holm family is the whole table. Each run stands for its logical run (store::LogicalRun): the
// shards of a sweep in one merged file compare as the single run they are parts of.
// options.lower_is_better is set from the metric. compare, check, run, show, report and the
// decisions across runs all load and pair cells here.
Comparisons CompareStored(store::Db& db, const CompareQuery& q);

// The subject of result i's verdict sentence: where, the two sides' names on its axis, their
// repetitions and the contaminated ones left out.
analysis::VerdictSubject SubjectOf(const Comparisons& c, size_t i);

// One sentence per comparison, the verdict first: "resnet18 bs1 fp32: jax 1.21x faster than torch
// (95% CI 1.13-1.27x; 3 and 3 repetitions)". Empty when there are none.
// The sentences are analysis::VerdictSentence's, which the report's opening prints too.
std::string VerdictSentences(const Comparisons& c);

// What other processes did to the runs, in a few sentences for the run's summary, show and the
// report's opening: the share of the measured time the workers' CPUs were busy with others, the
// contaminated repetitions (replaced, or left out of the verdicts), the quiet gates that timed
// out, and what to do. Empty for a quiet run; one short sentence when others were there for less
// than kBusyShare of the time and cost no repetition.
inline constexpr double kBusyShare = 0.05;
std::string ContentionSummary(store::Db& db, const std::vector<int64_t>& run_ids);

// "faster" for latency and throughput, "lower" for memory and energy.
std::string BetterWord(const std::string& metric);

}  // namespace dlb::cli
