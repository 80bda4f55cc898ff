// Each cell's summary, kept up to date by the run as its repetitions arrive: the run computes it
// from the results it holds and hands it to the sink with the repetition, so that the store writes
// both in one transaction and never computes, nor reads back, anything itself. The arithmetic is
// analysis::SummarizeCell's; this holds what it needs between repetitions (each repetition's facts
// and its steady samples, 8 bytes per sample) for the length of one run.
#pragma once

#include <map>
#include <vector>

#include "analysis/cell_summary.h"
#include "plan/experiment.h"
#include "result/repetition.h"

namespace dlb::run {

// The facts of one repetition that SummarizeCell reads.
analysis::RepetitionFacts FactsOf(const result::RepetitionResult& r);

class CellSummaries {
 public:
  // Adds a repetition of `cell` (repetitions arrive in rep_idx order per cell) and returns the
  // cell's summary over every repetition added so far.
  analysis::CellSummary Add(const plan::Cell& cell, const result::RepetitionResult& r);

 private:
  struct Cell {
    std::vector<analysis::RepetitionFacts> facts;
    // The ok repetitions' kept steady samples (TimedSeries::SteadyKept), pooled: the clean
    // repetitions' apart from the contaminated ones', which the summary reads only when a cell
    // has no clean repetition (the verdicts leave contaminated repetitions out the same way).
    std::vector<double> clean_wall_ns, contaminated_wall_ns;
    std::vector<double> first_energy_windows_j;  // joules per input sample, first ok repetition with energy
  };
  std::map<int, Cell> cells_;  // by cell_idx
};

}  // namespace dlb::run
