// How long a run will take, before it starts, and how to fit it into a time budget.
//
// A repetition costs a fixed part (worker start, imports, load and compilation, the pipelined and
// energy windows, shutdown) and a measurement part that the sampler stops between min_time_s and
// max_time_s. Before a cell has ever run on this host the parts come from a built-in table of
// per-phase costs (ModelCost; measured on the 2-core development machine and on one H100, see
// docs/measurement.md); once it has, from the durations of its earlier repetitions (first and later
// ones apart, since the first compiles cold).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plan/experiment.h"
#include "result/history.h"

namespace dlb::run {

// One repetition of a cell, in seconds.
struct RepetitionCost {
  double first_fixed_s = 0;  // the first repetition: cold compile
  double later_fixed_s = 0;  // the others: warm compile cache
  double measure_low_s = 0;  // measurement if it converges at the floor (min_time_s)
  double measure_high_s = 0;  // ... if it runs to the cap (max_time_s)
  double measure_expected_s = 0;
};

// The built-in per-phase model for a cell (no history).
RepetitionCost ModelCost(const plan::Cell& cell);

using result::CellHistory;
using result::History;

struct RunEstimate {
  double expected_s = 0;  // at the minimum repetitions, measurement between floor and cap
  double low_s = 0;       // minimum repetitions, every measurement at its floor
  double high_s = 0;      // maximum repetitions, every measurement at its cap
  double validation_s = 0;
  int cells_from_history = 0;  // cells whose cost came from earlier repetitions
  int history_repetitions = 0;
};

// The whole run: every cell's repetitions, and the output validation when the experiment asks for
// it (one per model, precision and device; two workers each).
RunEstimate EstimateRun(const plan::Plan& plan, const History& history);

// "8m", "90s", "1h30m", "45" (seconds): seconds, or nullopt when malformed or not positive.
std::optional<double> ParseDuration(const std::string& text);

// What fitting a plan into a budget did.
struct BudgetFit {
  bool fits = false;
  double smallest_s = 0;          // the smallest budget this design can fit into
  std::vector<std::string> gave_up;  // "max_time_s 4 s -> 1.5 s in every cell", ...
  RunEstimate estimate;           // of the fitted plan
};

// Shrinks the plan (in place) to fit budget_s: the measurement caps (max_time_s, never below
// min_time_s) when the minimum design at its caps would overrun, and the repetitions above the
// minimum are left to the run's own deadline (RunPlan stops adding them when the next round would
// not fit). Refuses (fits = false) when even the minimum design at its floors does not fit.
BudgetFit FitBudget(plan::Plan& plan, const History& history, double budget_s);

}  // namespace dlb::run
