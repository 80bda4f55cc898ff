// Comparing two frameworks' training runs from identical weights, data and hyper-parameters
// (dlbench validate --workload training): the loss after each step, and the weights after the last
// step relative to the distance training moved them. docs/validation.md ("Training") explains the
// tolerances and the measurements behind them.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace dlb::analysis {

using NamedTensors = std::map<std::string, std::vector<float>>;

struct TrainingComparison {
  std::vector<double> loss_errors;   // per step: |L_b - L_a| / |L_a| (NaN when either is not finite)
  double weights_error = 0;          // ||W_b - W_a|| / ||W_a - W_0|| over the parameters
  double running_stats_error = 0;    // the same over the BatchNorm running statistics (0 if none)
  bool trains = false;               // A's last loss is below its first
  std::string problem;               // set when the weights cannot be compared (missing tensor, ...)
};

// a is the reference. start is W_0 (the weights both loaded); tensors whose name holds "running_"
// are running statistics, the rest parameters.
TrainingComparison CompareTraining(const std::vector<double>& losses_a,
                                   const std::vector<double>& losses_b, const NamedTensors& start,
                                   const NamedTensors& after_a, const NamedTensors& after_b);

struct TrainingTolerance {
  double first_loss = 0;     // step 1's loss: one training forward on the same weights
  double later_losses = 0;   // every later step's loss
  double weights = 0;
  double running_stats = 0;
  std::string reason;
};

// By precision (fp32, bf16; fp16 training is refused by the workers), loosened to the bf16 row
// when either side may have run fp32 work in TF32.
TrainingTolerance TrainingToleranceFor(const std::string& precision, const std::string& device,
                                       bool tf32);

bool Passes(const TrainingComparison& c, const TrainingTolerance& t);

}  // namespace dlb::analysis
