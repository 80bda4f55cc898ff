// A cell's summary from its repetitions: the `cells` columns that describe what the repetitions
// and their samples say (status, latency statistics, throughputs, medians of the phase times,
// peaks, energy per sample with its interval, counts of flagged repetitions). Pure arithmetic over
// plain values: the store reads the inputs and writes the result in the repetition's transaction,
// so the summary always agrees with the stored samples, but decides nothing about them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stats/descriptive.h"

namespace dlb::analysis {

// One stored repetition, as far as the summary reads it.
struct RepetitionFacts {
  std::string status;  // ok, failed, unsupported
  std::optional<std::string> message;
  std::optional<int64_t> parameters, flops_per_sample, peak_rss_bytes, peak_device_bytes;
  std::optional<int64_t> window_ns, window_iterations;
  std::optional<double> load_s, compile_s, first_call_s;
  std::optional<double> energy_per_sample_j, avg_power_w;
  std::optional<std::string> energy_source, throttle_reasons, profile_check;
  std::optional<int64_t> contaminated;
  bool replacement = false;  // it replaced a contaminated repetition of its cell
  // Training with a dataset: the mean time of the repetition's epochs, and the held-out accuracy
  // after its last epoch.
  std::optional<double> mean_epoch_s, final_accuracy;
};

struct CellSummary {
  // ok when every repetition was, unsupported when any said so, failed when none was ok,
  // else partial; message: the first non-ok repetition's.
  std::string status = "pending";
  std::optional<std::string> message;
  int repetitions_ok = 0, repetitions_run = 0;
  std::optional<stats::Summary> latency;     // steady samples of the ok repetitions, pooled
  std::optional<stats::MedianCi> median_ci;  // 95%, order statistics
  std::optional<double> throughput_sps;      // batch * n / sum(wall), synced iterations
  std::optional<double> window_throughput_sps;  // batch * iterations / window time, pipelined
  std::optional<int64_t> parameters, flops_per_sample;  // the last ok repetition's
  std::optional<double> load_s, compile_s, first_call_s;  // medians over ok repetitions
  std::optional<int64_t> peak_rss_bytes, peak_device_bytes;  // maxima over ok repetitions
  // Energy per input sample: the mean over ok repetitions with a Student-t 95% CI across them
  // (the repetition is the unit); with one repetition, across its windows.
  std::optional<std::string> energy_source;
  std::optional<double> energy_per_sample_j, energy_ci_lo_j, energy_ci_hi_j, avg_power_w;
  // Among ok repetitions; nullopt when none carried the information.
  std::optional<int64_t> throttled_repetitions, profile_deviations, contaminated_repetitions;
  int64_t replaced_repetitions = 0;  // repetitions run to replace contaminated ones
  // Training with a dataset, over the ok repetitions that trained on it: the two columns of a
  // training table, time per epoch (the median of the repetitions' mean epochs) and the accuracy
  // after the last epoch (their mean).
  std::optional<double> epoch_s, accuracy;
};

// reps in repetition order; steady_wall_ns: the steady samples of the ok repetitions;
// single_windows_j: when exactly one ok repetition has an energy figure, its windows' joules per
// input sample (else ignored).
CellSummary SummarizeCell(std::span<const RepetitionFacts> reps, std::vector<double> steady_wall_ns,
                          int64_t batch, std::span<const double> single_windows_j = {});

// The ok repetitions with an energy figure: the store passes the windows of the only one.
int CountWithEnergy(std::span<const RepetitionFacts> reps);

}  // namespace dlb::analysis
