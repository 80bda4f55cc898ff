// What a repetition measured, by workload: the part of a result that differs between workloads.
// Inference times calls of the model, training times optimizer steps (and, with a dataset, trains
// whole epochs and scores them), generation times whole generates and keeps each one's prefill
// and decode-step times. Each
// workload's payload is one alternative of `Measurement`; adding one is a local change: a struct
// here, its case in EmptyMeasurement, the code that fills it in run/, and the function that writes
// it in store/measurement.cc (std::visit makes a missing case a compile error).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "result/request_trace.h"

namespace dlb::result {

// One request for samples (or for the pipelined window) as the controller saw it: the phase, the
// time from request to reply, and the other processes' share of the worker's CPUs meanwhile
// (probe/contention.h; absent where /proc could not be read). A chunk above the threshold is
// contaminated; under the contention policy `exclude` a contaminated measure chunk is excluded:
// its samples are stored but left out of the repetition's estimate.
struct SampleChunk {
  std::string phase;  // warmup, measure or window
  int64_t wall_ns = 0;
  std::optional<double> other_cpu_frac, steal_frac;
  std::optional<int64_t> minor_faults;  // the worker's process group's, in the chunk
  bool contaminated = false;
  bool excluded = false;
};

// The adaptive sampler's output: per-iteration times in arrival order, the first warmup_count of
// them warm-up, then the steady state; plus the pipelined window. An iteration is one call of the
// model (inference) or one optimizer step (training).
struct TimedSeries {
  std::vector<int64_t> wall_ns;
  std::vector<int32_t> chunk_idx;  // one per sample, an index into chunks
  std::vector<SampleChunk> chunks;  // every request, in order; the window's last
  int64_t warmup_count = 0;
  int64_t block_iterations = 1;  // steady samples are block means over this many iterations
  bool near_overhead = false;    // median within 100x of the harness overhead (flagged)
  bool warmup_settled = false;
  bool converged = false;
  std::string stop_reason;
  std::optional<double> median_ns, rel_ci;
  std::optional<int64_t> window_ns, window_iterations;
  // Minor page faults of the worker per measured iteration, over the kept measure chunks: about 0
  // when the call reuses its memory, thousands when it maps fresh pages each time.
  std::optional<double> minor_faults_per_call;

  int64_t steady_count() const { return static_cast<int64_t>(wall_ns.size()) - warmup_count; }
  // The steady samples the estimate uses: those of chunks not excluded, in order.
  std::vector<int64_t> SteadyKept() const;
  int ExcludedChunks() const;
};

struct InferenceMeasurement {
  TimedSeries calls;
};

// One epoch over a real dataset (training with a dataset, the worker's `fit`): the time the
// epoch's steps took and the accuracy on the dataset's held-out split after it.
struct EpochResult {
  int64_t epoch_idx = 0;
  int64_t epoch_ns = 0;   // the epoch's training steps, synced at its end
  double train_loss = 0;  // mean over the epoch's steps
  double accuracy = 0;    // fraction of the held-out split classified correctly, after the epoch
};

struct TrainingMeasurement {
  TimedSeries steps;
  std::vector<EpochResult> epochs;  // empty without a dataset
};

// One sample is one greedy generate (a prefill, then new_tokens - 1 decode steps, each synced);
// beside it, per sample in the same order (warm-up included), the worker's trace of that call as a
// request trace: sent at 0, the prefill's end as the first token's arrival (the time to first
// token), then one chunk of one token per decode step (docs/protocol.md, "Generation"). The
// serving metrics (serve/metrics.h) apply to it unchanged.
struct GenerationMeasurement {
  TimedSeries calls;
  std::vector<RequestTrace> requests;
};

using Measurement = std::variant<InferenceMeasurement, TrainingMeasurement, GenerationMeasurement>;

// The payload a cell of this workload fills in (plan/axes.cc names the workloads).
Measurement EmptyMeasurement(std::string_view workload);

// The sampler's series of payloads that have one; every payload today does.
TimedSeries* SeriesOf(Measurement& m);
const TimedSeries* SeriesOf(const Measurement& m);

}  // namespace dlb::result
