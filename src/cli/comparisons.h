// Comparisons of stored cells over repetitions, shared by `compare`, the run's summary and the
// regression gate: load each cell's per-repetition values of a metric, pair the cells along an
// axis (analysis/pairing.h), compare every pair (analysis/compare.h), and word the verdicts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/compare.h"
#include "analysis/verdict.h"
#include "store/db.h"
#include "store/query.h"

namespace dlb::cli {

// latency (ns per iteration, lower is better), throughput (samples/s), memory (peak RSS bytes per
// repetition), energy (joules per sample, one value per energy window), and for generation cells
// ttft and tpot (ns per measured request, from the stored traces: cli/generation.h).
const std::vector<std::string>& ComparisonMetrics();

// latency, ttft and tpot: values in ns, shown as durations, lower is better.
bool IsTimeMetric(const std::string& metric);

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
