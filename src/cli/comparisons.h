// Comparisons of stored cells over repetitions, shared by `compare`, the run's summary and the
// regression gate: load each cell's per-repetition values of a metric, pair the cells along an
// axis (analysis/pairing.h), compare every pair (analysis/compare.h), and word the verdicts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/compare.h"
#include "store/db.h"
#include "store/query.h"

namespace dlb::cli {

// latency (ns per iteration, lower is better), throughput (samples/s), memory (peak RSS bytes per
// repetition), energy (joules per sample, one value per energy window).
const std::vector<std::string>& ComparisonMetrics();

struct ComparedCell {
  int64_t run_id = 0;
  store::CellRow cell;
  analysis::Sample sample;          // one group per ok repetition
  std::string settings_json = "{}";  // of its first ok repetition
};

struct Comparisons {
  std::string by, metric;
  analysis::CompareOptions options;
  std::vector<ComparedCell> cells;                 // the ok cells with values
  std::vector<analysis::PairComparison> results;   // a and b index into cells
};

// Per-repetition values of a metric for one stored cell.
std::vector<std::vector<double>> MetricGroups(store::Db& db, const store::CellRow& c,
                                              const std::string& metric);

// Every pair along `by` among the ok cells of the runs, compared over repetitions; the Holm family
// is the whole table. options.lower_is_better is set from the metric.
Comparisons CompareStored(store::Db& db, const std::vector<int64_t>& run_ids, const std::string& by,
                          const std::string& metric, analysis::CompareOptions options);

// One sentence per comparison, the verdict first: "resnet18 bs1 fp32: jax 1.21x faster than torch
// (95% CI 1.13-1.27x; 3 and 3 repetitions)". Empty when there are none.
std::string VerdictSentences(const Comparisons& c);

}  // namespace dlb::cli
