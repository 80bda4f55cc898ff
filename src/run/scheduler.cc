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
#include "run/gate.h"
#include "util/interrupt.h"
#include "util/random.h"
#include "util/strings.h"

namespace dlb::run {
namespace {

// The confidence of the intervals the precision target reads: compare's default (1 - alpha).
constexpr double kPrecisionConfidence = 0.95;

// "ratio CI ±3.1%" or, below 2 repetitions a side, "no interval yet".
std::string HalfWidthText(const std::optional<double>& h) {
  return h ? fmt::format("ratio CI ±{:.1f}%", *h * 100) : std::string("no interval yet");
}

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
      if (!RunTask(task.cell_idx, task.rep_idx, "")) break;
    }
    if (!totals_.interrupted && e_.target_ratio_ci && e_.max_repetitions > e_.repetitions) {
      RunToPrecision();
    }
    progress_.Done();
    return totals_;
  }

 private:
  // Rounds after the minimum: each round gives one more repetition to every cell of a comparison
  // whose ratio interval is still wider than the target, in cell order (shuffled for a shuffled
  // experiment), until every interval is narrow enough or its cells reach the cap.
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
    Rng shuffle_rng(e_.seed ^ 0x5bd1e995ULL);
    while (!totals_.interrupted) {
      auto widths = analysis::PairHalfWidths(medians_, pairs, kPrecisionConfidence);
      // Each cell that needs more, with the widest interval among its unmet pairs (the reason).
      std::map<size_t, std::pair<size_t, std::optional<double>>> need;
      for (size_t k = 0; k < pairs.size(); ++k) {
        const auto& h = widths[k];
        if (h && *h <= *e_.target_ratio_ci) continue;
        for (size_t cell : {pairs[k].first, pairs[k].second}) {
          if (unsupported_[cell] || reps_run_[cell] >= e_.max_repetitions) continue;
          auto [it, inserted] = need.try_emplace(cell, k, h);
          bool wider = !h || (it->second.second && *h > *it->second.second);
          if (!inserted && wider) it->second = {k, h};
        }
      }
      if (need.empty()) break;
      std::vector<size_t> round;
      for (const auto& [cell, why] : need) round.push_back(cell);
      if (!RoundFits(round.size())) {
        std::set<size_t> open;
        for (size_t k = 0; k < pairs.size(); ++k) {
          if (!widths[k] || *widths[k] > *e_.target_ratio_ci) open.insert(k);
        }
        totals_.imprecise_at_budget = static_cast<int>(open.size());
        progress_.Note(fmt::format(
            "dlbench: budget: another round of {} repetitions would not end within {}; stopping "
            "with {} comparison(s) still wider than ±{:g}%",
            round.size(), FormatDuration(*limits_.budget_s), open.size(),
            *e_.target_ratio_ci * 100));
        break;
      }
      if (e_.order == plan::Order::kShuffled) Shuffle(round, shuffle_rng);
      progress_.Extend(static_cast<int>(round.size()));
      for (size_t cell : round) {
        const auto& [pair_idx, h] = need[cell];
        const plan::Cell& a = plan_.cells[pairs[pair_idx].first];
        std::string reason = fmt::format("{} bs{} {}: {}, target ±{:g}%: repetition {} of at most {}",
                                         a.model, a.batch, a.precision, HalfWidthText(h),
                                         *e_.target_ratio_ci * 100, reps_run_[cell] + 1,
                                         e_.max_repetitions);
        if (!RunTask(static_cast<int>(cell), reps_run_[cell], reason)) return;
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
    RepetitionSpec spec{&cell, rep_idx, order_idx_, e_.seed, padding};
    RepetitionResult r = RunRepetition(spec, launch_);
    r.gate_status = gate.status;
    r.gpu_temperature_c = gate.end_c;
    r.gate_wait_s = gate.waited_s;
    ++order_idx_;
    if (r.status == RepStatus::kInterrupted) {
      totals_.interrupted = true;
      return false;  // an interrupted repetition is incomplete: it is not stored
    }
    sink_.OnRepetition(cell, r);
    ++reps_run_[ci];
    progress_.Finish(cell.Label(), planned, r);
    switch (r.status) {
      case RepStatus::kOk:
        ++totals_.repetitions_ok;
        if (r.median_ns) medians_[ci].push_back(*r.median_ns);
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
  std::vector<std::vector<double>> medians_;  // per cell: each ok repetition's median
  Rng padding_rng_;
  int order_idx_ = 0;
  bool gate_warned_ = false;
};

}  // namespace

RunTotals RunPlan(const plan::Plan& plan, const WorkerLaunch& launch, ResultSink& sink,
                  Progress& progress, const RunLimits& limits) {
  return Runner(plan, launch, sink, progress, limits).Run();
}

}  // namespace dlb::run
