// The decisions a repetition's sampling makes, as pure functions of the samples so far: when the
// warm-up has settled, how many iterations the next chunk asks for, and when to stop. Every rule
// lives here once; the worker only times (docs/protocol.md). Methodology rules 4 and 7.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "plan/experiment.h"

namespace dlb::run {

struct WarmupDecision {
  bool done = false;
  bool settled = false;  // false when the cap ended a warm-up that was still drifting
};

// The warm-up is settled once it has at least warmup_min_iterations samples and the medians of its
// last two windows of w samples differ by less than warmup_tolerance, w = max(3, min/2). It ends
// unsettled at warmup_max_iterations.
WarmupDecision DecideWarmup(std::span<const int64_t> warmup_ns, const plan::SamplingSettings& s);

// Window size used by DecideWarmup.
int WarmupWindow(const plan::SamplingSettings& s);

// Iterations for the next chunk: about chunk_target_s of work at the current per-iteration
// estimate, never beyond what the caps leave.
int64_t NextChunk(double estimate_ns, int64_t already, int64_t cap, double chunk_target_s);

// Harness calibration (methodology rule 8, after torch.utils.benchmark's blocked_autorange):
// an iteration whose median is within 100 times the harness overhead (clock read or
// synchronisation, whichever is larger) is timed in blocks, each block lasting at least 1e4 times
// the overhead. Anything slower keeps one iteration per sample, so that latency tails stay visible.
// 1 when no block is needed.
int64_t BlockSize(double median_ns, int64_t overhead_ns);

// A cell whose median is within 100 times the harness overhead is flagged.
bool NearOverhead(double median_ns, int64_t overhead_ns);

// The median of values sorted ascending, and the half-width of its distribution-free confidence
// interval over the median (rel_ci: 0 for a point interval at a median of 0, infinite for a wider
// one; absent where there are too few values for an interval). Empty input: neither.
struct MedianEstimate {
  std::optional<double> median, rel_ci;
};
MedianEstimate EstimateMedian(const std::vector<double>& sorted, double confidence);

struct StopDecision {
  bool stop = false;
  bool converged = false;
  bool floors_met = false;      // the kept samples reach min_iterations and min_time_s
  std::string reason;           // "converged", "max_iterations", "max_time", or why not yet
  std::optional<double> median_ns;
  std::optional<double> rel_ci;  // half-width of the median's CI over the median
};

// The floors (methodology rule 7): at least min_iterations samples and min_time_s of summed sample
// time, each sample standing for `block` iterations.
bool FloorsMet(std::span<const int64_t> samples, const plan::SamplingSettings& s, int64_t block = 1);

// Whether excluded chunks left a stopped repetition without enough clean samples (it is then
// contaminated): none kept at all, or the kept ones miss the floors because of the exclusions,
// that is every steady sample would have met them, or at least half of the samples were left out.
// A slow cell whose cap no sample could reach keeps a clean estimate from what it has when a few
// chunks go. kept: the steady samples of chunks not excluded; all: every steady sample.
bool LacksCleanSamples(int excluded_chunks, std::span<const int64_t> kept, std::span<const int64_t> all,
                       const plan::SamplingSettings& s, int64_t block = 1);

// Floors first (min_iterations and min_time_s of summed sample time), then stop once the
// distribution-free CI of the median is within target_rel_ci; caps end it as not converged.
// kept_ns: the steady samples the estimate uses (those of excluded chunks left out: the floors
// count clean samples only, so a neighbour's chunks make the repetition sample longer, within its
// caps); steady_total: every steady sample, kept or not, which max_iterations counts (-1: as many
// as kept). elapsed_s is the wall time since the measurement phase began; each sample stands for
// `block` iterations (BlockSize), which the time floor counts.
StopDecision DecideStop(std::span<const int64_t> kept_ns, const plan::SamplingSettings& s,
                        double elapsed_s, int64_t block = 1, int64_t steady_total = -1);

}  // namespace dlb::run
