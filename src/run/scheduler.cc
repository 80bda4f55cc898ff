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
        next_rep_idx_(plan.cells.size(), plan.experiment.repetitions),
        replacements_(plan.cells.size(), 0),
        medians_(plan.cells.size()),
        worker_cpus_(plan.cells.size()),
        padding_rng_(e_.seed ^ 0x9e3779b97f4a7c15ULL) {}

  RunTotals Run() {
    std::optional<int> round;
    for (const plan::Task& task : plan_.tasks) {
      const std::optional<int> key = RoundOf(task);
      if (round && key != round && !RunReplacements()) break;
      round = key;
      if (task.order_idx >= 0) next_process_index_ = task.order_idx;
      if (!RunTask(task.cell_idx, task.rep_idx, "")) break;
    }
    if (!totals_.interrupted) RunReplacements();
    if (!totals_.interrupted && e_.target_ratio_ci && e_.max_repetitions > e_.repetitions) {
      RunToPrecision();
    }
    progress_.Done();
    return totals_;
  }

 private:
  // The first stage's rounds, after which contaminated repetitions are replaced: the repetitions of
  // one index (interleaved), one cell's (sequential), the whole stage (shuffled: nullopt).
  std::optional<int> RoundOf(const plan::Task& task) const {
    switch (e_.order) {
      case plan::Order::kInterleaved: return task.rep_idx;
      case plan::Order::kSequential: return task.cell_idx;
      case plan::Order::kShuffled: break;
    }
    return std::nullopt;
  }

  // Runs the replacements queued during the round that just ended, and those of the replacements
  // themselves while the cells have replacements left; false when the run was interrupted.
  bool RunReplacements() {
    for (size_t i = 0; i < pending_.size(); ++i) {
      const auto [cell, replaced] = pending_[i];
      progress_.Extend(1);
      std::string why = fmt::format("replaces repetition {}, measured beside a busy neighbour", replaced + 1);
      if (!RunTask(static_cast<int>(cell), next_rep_idx_[cell], why, replaced)) {
        pending_.clear();
        return false;
      }
    }
    pending_.clear();
    return true;
  }

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
        // Replacements do not count: they stand in for contaminated repetitions.
        if (!unsupported_[cell] && reps_run_[cell] - replacements_[cell] < wanted[cell]) round.push_back(cell);
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
        std::string why = fmt::format("{}: repetition {} of {}", reason[cell],
                                      reps_run_[cell] - replacements_[cell] + 1, wanted[cell]);
        if (!RunTask(static_cast<int>(cell), next_rep_idx_[cell], why)) return;
      }
      if (!RunReplacements()) return;
    }
  }

  // The quiet gate before a repetition of `cell`, on the CPUs its last worker was allowed (the
  // controller's own before its first): warns once per run when it times out.
  QuietOutcome QuietGate(const plan::Cell& cell, size_t ci) {
    const plan::ContentionSettings& k = cell.contention;
    QuietOutcome q = WaitForQuiet(
        [&] { return probe::SampleCpus(worker_cpus_[ci], k.quiet_window_s, k.threshold); },
        k.quiet_window_s, k.quiet_timeout_s, [] { return Interrupted(); });
    if (q.status == "timeout") {
      ++totals_.quiet_gate_timeouts;
      if (!quiet_warned_) {
        progress_.Note(fmt::format(
            "dlbench: warning: the worker's CPUs did not become quiet within {} before {} (other "
            "processes took {:.0f}% of them); it starts anyway, and each repetition records its gate",
            FormatDuration(k.quiet_timeout_s), cell.Label(), q.last_share.value_or(0) * 100));
        quiet_warned_ = true;
      }
    }
    return q;
  }

  // Whether `n` more repetitions, at the mean duration of those so far, end within the budget.
  bool RoundFits(size_t n) const {
    if (!limits_.budget_s || order_idx_ == 0) return true;
    double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    double mean = elapsed / order_idx_;
    return elapsed + mean * static_cast<double>(n) + limits_.reserve_s <= *limits_.budget_s;
  }

  // Runs one repetition (`replaces`: the contaminated repetition it stands in for); false when the
  // run was interrupted.
  bool RunTask(int cell_idx, int rep_idx, const std::string& reason,
               std::optional<int> replaces = std::nullopt) {
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
    QuietOutcome quiet;
    if (cell.contention.Excludes()) {
      quiet = QuietGate(cell, ci);
      if (quiet.status == "interrupted") {
        totals_.interrupted = true;
        return false;
      }
    }
    const int planned = std::max(e_.repetitions, rep_idx + 1);
    progress_.Start(cell.Label(), rep_idx, planned, reason);
    RepetitionSpec spec{&cell, rep_idx, next_process_index_, e_.seed, padding};
    RepetitionResult r = RunRepetition(spec, launch_);
    r.gate_status = gate.status;
    r.gpu_temperature_c = gate.end_c;
    r.gate_wait_s = gate.waited_s;
    r.quiet_gate = quiet.status;
    r.quiet_wait_s = quiet.waited_s;
    r.replaces_rep_idx = replaces;
    if (replaces) {
      ++replacements_[ci];
      ++totals_.repetitions_replaced;
    }
    ++order_idx_;
    ++next_process_index_;
    if (r.status == RepStatus::kInterrupted) {
      totals_.interrupted = true;
      return false;  // an interrupted repetition is incomplete: it is not stored
    }
    sink_.OnRepetition(cell, r, summaries_.Add(cell, r));
    ++reps_run_[ci];
    next_rep_idx_[ci] = std::max(next_rep_idx_[ci], rep_idx + 1);
    progress_.Finish(cell.Label(), planned, r);
    if (r.contention && !r.contention->cpu_list.empty()) worker_cpus_[ci] = r.contention->cpu_list;
    switch (r.status) {
      case RepStatus::kOk:
        ++totals_.repetitions_ok;
        if (r.contention && r.contention->contaminated) {
          ++totals_.repetitions_contaminated;
          Contaminated(cell, ci, r);
        } else if (r.series() && r.series()->median_ns) {
          medians_[ci].push_back(*r.series()->median_ns);  // the precision target's first stage: clean only
        }
        break;
      case RepStatus::kUnsupported:
        ++totals_.repetitions_unsupported;
        unsupported_[ci] = true;
        break;
      default: ++totals_.repetitions_failed; break;
    }
    return true;
  }

  // A contaminated repetition: queued for replacement at the end of its round while its cell has
  // replacements left, and said either way.
  void Contaminated(const plan::Cell& cell, size_t ci, const RepetitionResult& r) {
    const bool replace = cell.contention.Excludes() &&
                         CountQueued(ci) + replacements_[ci] < cell.contention.replacements;
    if (replace) pending_.push_back({ci, r.rep_idx});
    const int excluded = r.series() ? r.series()->ExcludedChunks() : 0;
    progress_.Note(fmt::format(
        "dlbench: {} rep {}: contaminated (other processes took {:.0f}% of its CPUs while it was "
        "timed{}); {}",
        cell.Label(), r.rep_idx + 1, r.contention->other_cpu_frac * 100,
        excluded > 0 ? fmt::format(", {} chunks beside them left out, too few clean samples left", excluded)
                     : "",
        replace ? "replaced at the end of its round, and left out of the verdicts"
        : cell.contention.Excludes()
            ? fmt::format("its cell has used its {} replacement(s); left out of the verdicts",
                          cell.contention.replacements)
            : "recorded (policy record), and left out of the verdicts"));
  }

  int CountQueued(size_t ci) const {
    return static_cast<int>(std::count_if(pending_.begin(), pending_.end(),
                                          [&](const auto& p) { return p.first == ci; }));
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
  // Per cell: the rep_idx the next repetition beyond the plan's takes. The plan numbers the first
  // stage 0..repetitions-1 whatever the order, so a replacement run in the middle of it starts
  // after them.
  std::vector<int> next_rep_idx_;
  std::vector<int> replacements_;             // per cell: those run to replace contaminated ones
  std::vector<std::pair<size_t, int>> pending_;  // (cell, contaminated rep_idx) to replace this round
  CellSummaries summaries_;
  std::vector<std::vector<double>> medians_;  // per cell: each clean ok repetition's median
  std::vector<std::vector<int>> worker_cpus_;  // per cell: its last worker's CPUs (the quiet gate's)
  Rng padding_rng_;
  int order_idx_ = 0;           // repetitions started by this run
  int next_process_index_ = 0;  // the next one's place in the run's order (Task::order_idx)
  bool gate_warned_ = false;
  bool quiet_warned_ = false;
};

}  // namespace

RunTotals RunPlan(const plan::Plan& plan, const WorkerLaunch& launch, ResultSink& sink,
                  Progress& progress, const RunLimits& limits) {
  return Runner(plan, launch, sink, progress, limits).Run();
}

}  // namespace dlb::run
