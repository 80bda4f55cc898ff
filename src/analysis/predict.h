// Predictions for configurations that were not measured, from a fit on those that were, each with
// a prediction interval, and checked by leaving measured ones out (docs/decisions.md).
//
// Batch scaling: within one configuration (everything but the batch), log latency = a + b log batch
// by least squares over the per-repetition medians (one point per repetition). The interval at a
// new batch is the prediction interval for one new repetition's median: ŷ ± t(n-2) s
// sqrt(1 + 1/n + (x - x̄)²/Sxx) on the log scale, exponentiated. A power law covers both ends of
// the usual curve: b near 0 where a fixed per-call cost dominates (small batches on a GPU), b near 1
// where the time grows with the work. It is refused more than a factor of 2 outside the measured
// batches: a bend (memory, a kernel switch) out there is not in the data.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stats/bootstrap.h"

namespace dlb::analysis {

struct BatchObservation {
  int64_t batch = 0;
  std::vector<double> latency_ns;  // per repetition: its median latency per call
};

inline constexpr double kMaxExtrapolation = 2.0;  // factor beyond the measured batches

struct BatchPrediction {
  int64_t batch = 0;
  double latency_ns = 0;
  stats::Interval latency_pi;  // for one new repetition's median
  double exponent = 0;         // b: latency grows as batch^b
  size_t points = 0;           // repetitions in the fit
};

// Needs 3 or more distinct measured batches and a target within kMaxExtrapolation of them; the
// error line says which is missing.
[[nodiscard]] stats::Expected<BatchPrediction> PredictBatch(std::span<const BatchObservation> measured,
                                                            int64_t batch, double confidence = 0.95);

// Leave-one-batch-out: each measured batch predicted from the others (where the others allow it),
// against its own repetitions.
struct HeldOut {
  int64_t batch = 0;
  double actual_ns = 0;  // geometric mean of its per-repetition medians
  BatchPrediction predicted;
  size_t repetitions = 0, covered = 0;  // its repetitions inside the prediction interval
};
struct Validation {
  std::vector<HeldOut> held_out;
  double median_abs_error = 0;  // |predicted / actual - 1|, median over held_out
  double coverage = 0;          // covered / repetitions over all held_out
  size_t skipped = 0;           // batches the others could not predict (too few, too far)
};
Validation LeaveOneOut(std::span<const BatchObservation> measured, double confidence = 0.95);

// Model scaling on one measured configuration: achieved FLOP/s (throughput x FLOPs per sample)
// varies from model to model by a factor whose spread the measured models show. A new model's
// throughput is exp(m)/FLOPs with m the mean of the models' log achieved FLOP/s, and the
// interval exp(m ± t(k-1) s sqrt(1 + 1/k))/FLOPs over k models. Needs 2 models; refuses a model
// whose FLOPs lie more than a factor 4 outside the measured ones.
struct ModelObservation {
  std::string model;
  double flops_per_sample = 0;
  std::vector<double> throughput_sps;  // per repetition
};
struct ModelPrediction {
  double throughput_sps = 0;
  stats::Interval throughput_pi;
  size_t models = 0;
};
[[nodiscard]] stats::Expected<ModelPrediction> PredictModel(std::span<const ModelObservation> measured,
                                                            double flops_per_sample,
                                                            double confidence = 0.95);

// A leave-one-out check reduced to its two figures, for the model and device predictors.
struct LooSummary {
  size_t held_out = 0, skipped = 0;  // predicted from the others; could not be (too few, too far)
  double median_abs_error = 0;       // |predicted / actual - 1|, actual the repetitions' geometric mean
  double coverage = 0;               // share of the held-out repetitions inside their interval
  size_t repetitions = 0;            // held-out repetitions in all
};

// Leave-one-model-out: each model predicted by PredictModel from the others, against its own
// per-repetition throughputs.
LooSummary LeaveOneModelOut(std::span<const ModelObservation> measured, double confidence = 0.95);

// Device transfer: a configuration measured on device S, predicted on device T from the two
// devices' peaks, a roofline in which the cell keeps the fraction of its ceiling that it reached
// on S. The ceiling is min(peak FLOP/s, intensity x memory bandwidth), the intensity the FLOPs of
// one call over the bytes of its weights (read at least once per call; activations add traffic,
// so this intensity is an upper bound and the memory ceiling an optimistic one). With a bandwidth
// unknown on either side only the FLOP/s ceilings count.
struct Roofline {
  double peak_flops_per_s = 0;      // for the math the cell runs there
  double bandwidth_bytes_per_s = 0;  // 0: unknown
};
// FLOP/s a cell of this intensity (FLOPs per byte, 0: unknown) can reach on the device.
double Ceiling(const Roofline& device, double flops_per_byte);
// The source's throughput scaled by the ratio of the two ceilings.
double ScaleByPeaks(double source_sps, const Roofline& source, const Roofline& target,
                    double flops_per_byte);

// What the peaks alone miss is what leaves the fraction of the ceiling unequal on the two devices:
// kernels that suit one device's width, fixed costs per call (a GPU launch), a smaller batch that
// fills a CPU but not a GPU. Where configurations were measured on both devices, their
// log(measured / scaled) gives a correction and its spread: the prediction is scaled x exp(m), the
// interval scaled x exp(m ± t(k-1) s sqrt(1 + 1/k)) over k such pairs (as PredictModel's). With
// fewer than 2 pairs there is no spread to build an interval from, and none is given.
struct TransferPair {
  double scaled_sps = 0;           // the source's throughput scaled by the peaks
  std::vector<double> target_sps;  // per repetition, measured on the target
};
struct TransferPrediction {
  double throughput_sps = 0;                   // scaled, corrected where pairs allow
  std::optional<stats::Interval> throughput_pi;  // only from 2 or more pairs
  size_t pairs = 0;
  double correction = 1;  // exp(m)
};
TransferPrediction PredictTransfer(double scaled_sps, std::span<const TransferPair> pairs,
                                   double confidence = 0.95);
// Leave-one-pair-out: each pair's target predicted from its scaled figure and the other pairs.
LooSummary LeaveOnePairOut(std::span<const TransferPair> pairs, double confidence = 0.95);
// The peaks alone (no correction): measured / scaled over the pairs, its range and the median
// |scaled / measured - 1|.
struct ScalingError {
  double min_ratio = 0, max_ratio = 0, median_abs_error = 0;  // ratio: measured / scaled
};
ScalingError UncorrectedError(std::span<const TransferPair> pairs);

}  // namespace dlb::analysis
