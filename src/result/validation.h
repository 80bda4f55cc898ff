// What an output or training validation produced, per model: the values run/validation.cc fills in
// and the store writes (the engine that produces them is run/validation.h's).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/output_compare.h"
#include "analysis/training_compare.h"

namespace dlb::result {

struct ValidationSpec {
  std::vector<std::string> models;
  std::vector<std::string> frameworks;  // the first one builds the weights when none are given
  std::string precision = "fp32";
  std::string device = "cpu";
  std::string weights_file;             // empty: build from seed
  uint64_t seed = 0;
  int inputs = 4;                       // rows of the fixed input batch
  double timeout_s = 600;
  std::string workdir;                  // where weights, inputs and outputs are written
  // "inference": outputs of one forward; "training": `steps` optimizer steps on the input batch
  // (inputs rows) from the same weights, then the losses and the weights compared.
  std::string workload = "inference";
  int steps = 3;
  std::string optimizer_json;           // training: the load's options.optimizer, every key set
  // "generation": the logits of `inputs` fixed token sequences of run::kValidationTokens tokens,
  // run through each engine's KV cache (the first half as a prefill, then one decode step each).
};

struct FrameworkOutput {
  std::string framework;
  std::string status = "failed";        // ok, failed, unsupported
  std::string message;
  std::string settings_json = "{}";
  std::vector<float> output;            // rows x cols (generation: sequences x tokens rows)
  int64_t rows = 0, cols = 0;
  std::vector<double> losses;           // training: one per step
  analysis::NamedTensors weights_after; // training: the weights after the last step
  std::string log;
};

struct PairResult {
  std::string framework_a, framework_b;
  analysis::OutputComparison comparison;
  analysis::Tolerance tolerance;
  analysis::TrainingComparison training;         // training workload
  analysis::TrainingTolerance training_tolerance;
  bool pass = false;
};

struct ModelValidation {
  std::string model;
  std::string weights_source;  // "seed N (built by torch)" or the file
  std::string error;           // set when no comparison could be made
  std::vector<FrameworkOutput> outputs;
  std::vector<PairResult> pairs;
  bool ok() const;             // an error, a failed worker or a failed pair makes it false
};

}  // namespace dlb::result
