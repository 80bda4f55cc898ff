// Runs a plan's tasks in order, one fresh worker process per repetition, with cooldown between
// them, and hands every result to the sink as soon as it exists, so a killed run keeps everything
// finished before the kill. A cell whose worker says "unsupported" is not tried again. Under the
// contention policy `exclude`, each repetition waits for the quiet gate first, and a contaminated
// one is replaced at the end of its round (interleaved order: the repetitions of one index;
// sequential: the cell's repetitions; shuffled: the first stage; a precision round), at most
// `replacements` times per cell; it stays stored, flagged, and out of the verdicts.
#pragma once

#include <functional>
#include <optional>

#include "plan/experiment.h"
#include "run/progress.h"
#include "run/repetition.h"
#include "analysis/cell_summary.h"
#include "result/repetition.h"

namespace dlb::run {

class ResultSink {
 public:
  virtual ~ResultSink() = default;
  // summary: the cell's summary over its repetitions so far, this one included (CellSummaries).
  virtual void OnRepetition(const plan::Cell& cell, const RepetitionResult& result,
                            const analysis::CellSummary& summary) = 0;
};

struct RunTotals {
  int repetitions_ok = 0;
  int repetitions_failed = 0;
  int repetitions_unsupported = 0;
  int repetitions_skipped = 0;  // not run because the cell was unsupported
  bool interrupted = false;
  // Comparisons still wider than the precision target when the run stopped adding repetitions
  // because its time budget had no room for another round.
  int imprecise_at_budget = 0;
  // Noisy neighbours (plan::ContentionSettings): ok repetitions that were contaminated, the
  // repetitions run to replace them, and the quiet gates that timed out.
  int repetitions_contaminated = 0;
  int repetitions_replaced = 0;
  int quiet_gate_timeouts = 0;
};

struct RunLimits {
  std::optional<double> budget_s;  // the whole run's time budget (dlbench run --budget)
  double reserve_s = 0;            // of it, kept for what follows the repetitions (validation)
};

// The minimum repetitions always run; a precision round (plan.experiment.target_ratio_ci) starts
// only when the mean repetition so far says it ends within the budget.
RunTotals RunPlan(const plan::Plan& plan, const WorkerLaunch& launch, ResultSink& sink,
                  Progress& progress, const RunLimits& limits = {});

}  // namespace dlb::run
