#include "run/scheduler.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "analysis/compare.h"
#include "analysis/pairing.h"
#include "probe/nvml.h"
#include "run/cell_summaries.h"
#include "run/gate.h"
#include "util/interrupt.h"
#include "util/random.h"
#include "util/strings.h"

namespace dlb::run {
namespace {

// The confidence of the intervals the precision target reads: compare's default (1 - alpha).
constexpr double kPrecisionConfidence = 0.95;

class Runner {
 public:
  Runner(const plan::Plan& plan, const WorkerLaunch& launch, ResultSink& sink, Progress& progress,
         const RunLimits& limits)
      : limits_(limits),
        plan_(plan),
        e_(plan.experiment),
        launch_(launch),
        sink_(sink),
        progress_(progress),
        unsupported_(plan.cells.size(), false),
        reps_run_(plan.cells.size(), 0),
        medians_(plan.cells.size()),
        padding_rng_(e_.seed ^ 0x9e3779b97f4a7c15ULL) {}

  RunTotals Run() {
    for (const plan::Task& task : plan_.tasks) {
      if (task.order_idx >= 0) next_process_index_ = task.order_idx;
      if (!RunTask(task.cell_idx, task.rep_idx, "")) break;
    }
    if (!totals_.interrupted && e_.target_ratio_ci && e_.max_repetitions > e_.repetitions) {
      RunToPrecision();
    }
    progress_.Done();
    return totals_;
  }

 private:
  // Stein's two-stage design: the minimum is the first stage. From its scatter, each comparison
  // gets the number of repetitions per side that brings its interval within the target
  // (analysis::SteinRepetitions), capped at the maximum; a cell takes the largest its comparisons
  // ask for. Rounds then give one more repetition to every cell still short of its number, in cell
  // order (shuffled for a shuffled experiment). The number is fixed once, from the first stage, so
  // the comparison at the end keeps its level (docs/statistics.md).
  void RunToPrecision() {
    std::vector<analysis::CellCoordinates> coords;
    for (const auto& c : plan_.cells) coords.push_back(analysis::Coordinates(c));
    auto pairs = analysis::PairAlong(coords, e_.compare_by);
    if (pairs.empty()) {
      progress_.Note(fmt::format(
          "dlbench: precision target: no two cells differ only in {}, so no comparison to make "
          "precise; every cell keeps its {} repetitions", e_.compare_by, e_.repetitions));
      return;
    }
    std::vector<int> wanted(plan_.cells.size(), 0);
    std::vector<std::string> reason(plan_.cells.size());
    for (const auto& [a, b] : pairs) {
      auto stein = analysis::SteinRepetitions(medians_[a], medians_[b], *e_.target_ratio_ci,
                                              kPrecisionConfidence);
      int n = stein ? std::min(stein->repetitions, e_.max_repetitions) : e_.max_repetitions;
      const plan::Cell& cell = plan_.cells[a];
      std::string why =
          stein ? fmt::format("{} bs{} {}: ratio CI ±{:.1f}% after {} repetitions, target ±{:g}% "
                              "needs {}{}",
                              cell.model, cell.batch, cell.precision, stein->stage1_half_width * 100,
                              e_.repetitions, *e_.target_ratio_ci * 100, stein->repetitions,
                              stein->repetitions > e_.max_repetitions
                                  ? fmt::format(", capped at {}", e_.max_repetitions)
                                  : "")
                : fmt::format("{} bs{} {}: no interval after the first {} repetitions (too few "
                              "succeeded); up to the cap of {}",
                              cell.model, cell.batch, cell.precision, e_.repetitions,
                              e_.max_repetitions);
      for (size_t side : {a, b}) {
        if (n > wanted[side]) {
          wanted[side] = n;
          reason[side] = why;
        }
      }
    }
    Rng shuffle_rng(e_.seed ^ 0x5bd1e995ULL);
    while (!totals_.interrupted) {
      std::vector<size_t> round;
      for (size_t cell = 0; cell < plan_.cells.size(); ++cell) {
        if (!unsupported_[cell] && reps_run_[cell] < wanted[cell]) round.push_back(cell);
      }
      if (round.empty()) break;
      if (!RoundFits(round.size())) {
        std::set<size_t> short_cells(round.begin(), round.end());
        int open = 0;
        for (const auto& [a, b] : pairs) open += short_cells.count(a) || short_cells.count(b);
        totals_.imprecise_at_budget = open;
        progress_.Note(fmt::format(
            "dlbench: budget: another round of {} repetitions would not end within {}; stopping "
            "with {} comparison(s) short of the repetitions their ±{:g}% needs",
            round.size(), FormatDuration(*limits_.budget_s), open, *e_.target_ratio_ci * 100));
        break;
      }
      if (e_.order == plan::Order::kShuffled) Shuffle(round, shuffle_rng);
      progress_.Extend(static_cast<int>(round.size()));
      for (size_t cell : round) {
        std::string why = fmt::format("{}: repetition {} of {}", reason[cell], reps_run_[cell] + 1,
                                      wanted[cell]);
        if (!RunTask(static_cast<int>(cell), reps_run_[cell], why)) return;
      }
    }
  }

  // Whether `n` more repetitions, at the mean duration of those so far, end within the budget.
  bool RoundFits(size_t n) const {
    if (!limits_.budget_s || order_idx_ == 0) return true;
    double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    double mean = elapsed / order_idx_;
    return elapsed + mean * static_cast<double>(n) + limits_.reserve_s <= *limits_.budget_s;
  }

  // Runs one repetition; false when the run was interrupted.
  bool RunTask(int cell_idx, int rep_idx, const std::string& reason) {
    const auto ci = static_cast<size_t>(cell_idx);
    const plan::Cell& cell = plan_.cells[ci];
    int padding = static_cast<int>(UniformIndex(padding_rng_, 4096));
    if (unsupported_[ci]) {
      ++totals_.repetitions_skipped;
      progress_.Skip();
      return true;
    }
    if (Interrupted()) {
      totals_.interrupted = true;
      return false;
    }
    if (order_idx_ > 0 && e_.cooldown_s > 0 && !InterruptibleSleep(e_.cooldown_s)) {
      totals_.interrupted = true;
      return false;
    }
    GateOutcome gate;
    if (auto gpu = NvmlIndex(cell.device, CudaVisibleDevices(cell.env));
        gpu && e_.gpu_temperature_max_c) {
      gate = WaitForTemperature([&] { return probe::GpuTemperatureC(*gpu); },
                                *e_.gpu_temperature_max_c, e_.gpu_temperature_timeout_s, 1.0,
                                InterruptibleSleep);
      if (gate.status == "interrupted") {
        totals_.interrupted = true;
        return false;
      }
      if (gate.status != "passed" && !gate_warned_) {
        progress_.Note(fmt::format("dlbench: warning: GPU temperature gate for {}: {} (recorded per "
                                   "repetition)", cell.device, gate.status));
        gate_warned_ = true;
      }
    }
    const int planned = std::max(e_.repetitions, rep_idx + 1);
    progress_.Start(cell.Label(), rep_idx, planned, reason);
    RepetitionSpec spec{&cell, rep_idx, next_process_index_, e_.seed, padding};
    RepetitionResult r = RunRepetition(spec, launch_);
    r.gate_status = gate.status;
    r.gpu_temperature_c = gate.end_c;
    r.gate_wait_s = gate.waited_s;
    ++order_idx_;
    ++next_process_index_;
    if (r.status == RepStatus::kInterrupted) {
      totals_.interrupted = true;
      return false;  // an interrupted repetition is incomplete: it is not stored
    }
    sink_.OnRepetition(cell, r, summaries_.Add(cell, r));
    ++reps_run_[ci];
    progress_.Finish(cell.Label(), planned, r);
    switch (r.status) {
      case RepStatus::kOk:
        ++totals_.repetitions_ok;
        if (r.series() && r.series()->median_ns) medians_[ci].push_back(*r.series()->median_ns);
        break;
      case RepStatus::kUnsupported:
        ++totals_.repetitions_unsupported;
        unsupported_[ci] = true;
        break;
      default: ++totals_.repetitions_failed; break;
    }
    return true;
  }

  using Clock = std::chrono::steady_clock;
  const RunLimits limits_;
  const Clock::time_point start_ = Clock::now();
  const plan::Plan& plan_;
  const plan::Experiment& e_;
  const WorkerLaunch& launch_;
  ResultSink& sink_;
  Progress& progress_;
  RunTotals totals_;
  std::vector<bool> unsupported_;
  std::vector<int> reps_run_;                 // stored repetitions per cell, whatever their status
  CellSummaries summaries_;
  std::vector<std::vector<double>> medians_;  // per cell: each ok repetition's median
  Rng padding_rng_;
  int order_idx_ = 0;           // repetitions started by this run
  int next_process_index_ = 0;  // the next one's place in the run's order (Task::order_idx)
  bool gate_warned_ = false;
};

}  // namespace

RunTotals RunPlan(const plan::Plan& plan, const WorkerLaunch& launch, ResultSink& sink,
                  Progress& progress, const RunLimits& limits) {
  return Runner(plan, launch, sink, progress, limits).Run();
}

}  // namespace dlb::run
