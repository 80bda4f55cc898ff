// dlbench validate's engine: do the frameworks compute the same function? For each model, one set of
// weights (built once from a seed by the first framework, or a given safetensors file) is loaded by
// every framework's worker in the canonical (torchvision) layout, the same fixed inputs are run
// through each, and the outputs are compared pairwise against a documented tolerance.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "result/validation.h"
#include "run/repetition.h"

namespace dlb::run {

// The value types live in result/, so that the store reads them without run/.
using result::FrameworkOutput;
using result::ModelValidation;
using result::PairResult;
using result::ValidationSpec;

// The length of validate's fixed token sequences for the generation workload.
inline constexpr int kValidationTokens = 16;

ModelValidation ValidateModel(const std::string& model, const ValidationSpec& spec,
                              const WorkerLaunch& launch);

// The optimizers `validate --workload training` uses (docs/validation.md, "Training"): small
// steps, so that three of them show whether both frameworks train alike without amplifying
// float32's rounding. name: sgd or adamw. Returns the load's options.optimizer as JSON text.
std::string ValidationOptimizer(const std::string& name);

// The fixed inputs: rows x 3 x 224 x 224 standard normals from a seeded, portable generator.
std::vector<float> FixedInputs(int rows, uint64_t seed);

// The fixed token sequences of the generation workload: rows x length ids uniform in
// [0, vocab_size), from the same portable generator, as float32 (exact below 2^24).
std::vector<float> FixedTokens(int rows, int length, int64_t vocab_size, uint64_t seed);

}  // namespace dlb::run
