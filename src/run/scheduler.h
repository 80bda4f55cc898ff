// Runs a plan's tasks in order, one fresh worker process per repetition, with cooldown between
// them, and hands every result to the sink as soon as it exists, so a killed run keeps everything
// finished before the kill. A cell whose worker says "unsupported" is not tried again.
#pragma once

#include <functional>

#include "plan/experiment.h"
#include "run/progress.h"
#include "run/repetition.h"
#include "run/result.h"

namespace dlb::run {

class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void OnRepetition(const plan::Cell& cell, const RepetitionResult& result) = 0;
};

struct RunTotals {
  int repetitions_ok = 0;
  int repetitions_failed = 0;
  int repetitions_unsupported = 0;
  int repetitions_skipped = 0;  // not run because the cell was unsupported
  bool interrupted = false;
};

RunTotals RunPlan(const plan::Plan& plan, const WorkerLaunch& launch, ResultSink& sink,
                  Progress& progress);

}  // namespace dlb::run
