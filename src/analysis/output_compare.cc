#include "analysis/output_compare.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace dlb::analysis {

OutputComparison CompareOutputs(std::span<const float> a, std::span<const float> b, int64_t rows,
                                int64_t cols) {
  DLB_CHECK(a.size() == b.size() && static_cast<int64_t>(a.size()) == rows * cols && rows > 0 &&
            cols > 0)
      << "output sizes differ: " << a.size() << " vs " << b.size();
  OutputComparison c{rows, cols};
  for (size_t i = 0; i < a.size(); ++i) {
    c.nonfinite_a += !std::isfinite(a[i]);
    c.nonfinite_b += !std::isfinite(b[i]);
  }
  if (c.nonfinite_a > 0 || c.nonfinite_b > 0) {
    c.max_abs_err = c.scale = c.max_rel_err = c.cosine = c.top1_agreement = NAN;
    return c;
  }
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double x = a[i], y = b[i];
    c.max_abs_err = std::max(c.max_abs_err, std::fabs(x - y));
    c.scale = std::max(c.scale, std::fabs(x));
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  c.max_rel_err = c.scale > 0 ? c.max_abs_err / c.scale : (c.max_abs_err > 0 ? INFINITY : 0);
  c.cosine = (na > 0 && nb > 0) ? dot / std::sqrt(na * nb) : (na == nb ? 1.0 : 0.0);
  int64_t agree = 0;
  for (int64_t r = 0; r < rows; ++r) {
    auto row_a = a.subspan(static_cast<size_t>(r * cols), static_cast<size_t>(cols));
    auto row_b = b.subspan(static_cast<size_t>(r * cols), static_cast<size_t>(cols));
    agree += std::max_element(row_a.begin(), row_a.end()) - row_a.begin() ==
             std::max_element(row_b.begin(), row_b.end()) - row_b.begin();
  }
  c.top1_agreement = static_cast<double>(agree) / static_cast<double>(rows);
  return c;
}

Tolerance ToleranceFor(const std::string& precision, const std::string& device, bool tf32) {
  bool gpu = device != "cpu";
  if (precision == "bf16") {
    return {5e-2, 0.999,
            "bf16 keeps 8 significant bits (relative rounding 2^-9 per operation); dozens of layers "
            "accumulate that to a few percent of the output scale"};
  }
  if (precision == "fp16") {
    return {1e-2, 0.9999, "fp16 keeps 11 significant bits (2^-12 per operation)"};
  }
  if (gpu && tf32) {
    return {2e-2, 0.9999,
            "fp32 with TF32 on at least one side (10-bit mantissa in matmuls/convolutions, "
            "relative rounding 2^-11)"};
  }
  if (gpu) {
    return {1e-4, 0.999999,
            "fp32 on a GPU without TF32: the same arithmetic, different kernels and reduction orders"};
  }
  return {2e-5, 0.999999,
          "fp32 on the CPU: the same arithmetic, only summation order differs between oneDNN and "
          "XLA kernels (measured up to 1.1e-6 of the output scale, docs/models.md)"};
}

bool SettingsShowTf32(const std::string& settings_json) {
  auto s = nlohmann::json::parse(settings_json, nullptr, false);
  if (!s.is_object()) return false;
  auto str = [&](const char* k) {
    return s.contains(k) && s[k].is_string() ? s[k].get<std::string>() : std::string();
  };
  if (str("matmul_fp32_precision") == "tf32" || str("conv_fp32_precision") == "tf32") return true;
  if (str("platform") == "gpu") {
    // jax: fp32 dots and convolutions use TF32 on Ampere+ unless the precision is raised.
    std::string p = s.contains("jax_default_matmul_precision") && !s["jax_default_matmul_precision"].is_null()
                        ? s["jax_default_matmul_precision"].get<std::string>()
                        : "";
    return p.empty() || p == "default" || p == "tensorfloat32" || p == "bfloat16";
  }
  return false;
}

bool Passes(const OutputComparison& c, const Tolerance& t) {
  return c.nonfinite_a == 0 && c.nonfinite_b == 0 && std::isfinite(c.max_rel_err) &&
         c.max_rel_err <= t.max_rel_err && c.cosine >= t.min_cosine;
}

}  // namespace dlb::analysis
