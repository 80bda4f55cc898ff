// Comparing two frameworks' outputs for the same weights and inputs (dlbench validate), and the
// tolerance each comparison is held to. docs/validation.md explains the numbers and their reasons.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace dlb::analysis {

struct OutputComparison {
  int64_t rows = 0, cols = 0;
  double max_abs_err = 0;
  double scale = 0;        // max |reference output|
  double max_rel_err = 0;  // max_abs_err / scale: the error relative to the output's scale
  double cosine = 0;       // cosine similarity of the two flattened outputs
  double top1_agreement = 0;  // fraction of rows whose argmax is the same
  int64_t nonfinite_a = 0, nonfinite_b = 0;  // NaN or infinite values; any makes the errors NaN
};

// a is the reference. Both are row-major rows x cols. Requires equal sizes, rows * cols > 0.
// A NaN or infinity on either side makes every error NaN (and the comparison fail), never 0.
OutputComparison CompareOutputs(std::span<const float> a, std::span<const float> b, int64_t rows,
                                int64_t cols);

struct Tolerance {
  double max_rel_err = 0;  // bound on OutputComparison::max_rel_err
  double min_cosine = 0;
  std::string reason;
};

// The tolerance for a precision on a device; tf32 says whether either side may have run fp32
// matmuls or convolutions in TF32 (read back from the workers' settings).
Tolerance ToleranceFor(const std::string& precision, const std::string& device, bool tf32);

// Whether a worker's settings (JSON text) show TF32 in use for fp32 work on a GPU.
bool SettingsShowTf32(const std::string& settings_json);

bool Passes(const OutputComparison& c, const Tolerance& t);

}  // namespace dlb::analysis
