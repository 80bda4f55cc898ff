#include "run/scheduler.h"

#include <vector>

#include <fmt/format.h>

#include "probe/nvml.h"
#include "run/gate.h"
#include "util/interrupt.h"
#include "util/random.h"

namespace dlb::run {

RunTotals RunPlan(const plan::Plan& plan, const WorkerLaunch& launch, ResultSink& sink,
                  Progress& progress) {
  RunTotals totals;
  const auto& e = plan.experiment;
  std::vector<bool> unsupported(plan.cells.size(), false);
  Rng padding_rng(e.seed ^ 0x9e3779b97f4a7c15ULL);
  int order_idx = 0;
  bool gate_warned = false;
  for (const plan::Task& task : plan.tasks) {
    const plan::Cell& cell = plan.cells[static_cast<size_t>(task.cell_idx)];
    int padding = static_cast<int>(UniformIndex(padding_rng, 4096));
    if (unsupported[static_cast<size_t>(task.cell_idx)]) {
      ++totals.repetitions_skipped;
      progress.Skip();
      continue;
    }
    if (Interrupted()) {
      totals.interrupted = true;
      break;
    }
    if (order_idx > 0 && e.cooldown_s > 0 && !InterruptibleSleep(e.cooldown_s)) {
      totals.interrupted = true;
      break;
    }
    GateOutcome gate;
    if (auto gpu = NvmlIndex(cell.device, CudaVisibleDevices(cell.env)); gpu && e.gpu_temperature_max_c) {
      gate = WaitForTemperature([&] { return probe::GpuTemperatureC(*gpu); }, *e.gpu_temperature_max_c,
                                e.gpu_temperature_timeout_s, 1.0, InterruptibleSleep);
      if (gate.status == "interrupted") {
        totals.interrupted = true;
        break;
      }
      if (gate.status != "passed" && !gate_warned) {
        progress.Note(fmt::format("dlbench: warning: GPU temperature gate for {}: {} (recorded per "
                                  "repetition)", cell.device, gate.status));
        gate_warned = true;
      }
    }
    progress.Start(cell.Label(), task.rep_idx, e.repetitions);
    RepetitionSpec spec{&cell, task.rep_idx, order_idx, e.seed, padding};
    RepetitionResult r = RunRepetition(spec, launch);
    r.gate_status = gate.status;
    r.gpu_temperature_c = gate.end_c;
    r.gate_wait_s = gate.waited_s;
    ++order_idx;
    if (r.status == RepStatus::kInterrupted) {
      totals.interrupted = true;
      break;  // an interrupted repetition is incomplete: it is not stored
    }
    sink.OnRepetition(cell, r);
    progress.Finish(cell.Label(), e.repetitions, r);
    switch (r.status) {
      case RepStatus::kOk: ++totals.repetitions_ok; break;
      case RepStatus::kUnsupported:
        ++totals.repetitions_unsupported;
        unsupported[static_cast<size_t>(task.cell_idx)] = true;
        break;
      default: ++totals.repetitions_failed; break;
    }
  }
  progress.Done();
  return totals;
}

}  // namespace dlb::run

