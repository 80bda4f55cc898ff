#include "analysis/predict.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <set>

#include "stats/descriptive.h"

namespace dlb::analysis {
namespace {

double T(double df, double confidence) {
  return boost::math::quantile(boost::math::students_t_distribution<double>(df), (1 + confidence) / 2);
}

double GeometricMean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += std::log(x);
  return std::exp(s / static_cast<double>(v.size()));
}

}  // namespace

stats::Expected<BatchPrediction> PredictBatch(std::span<const BatchObservation> measured,
                                              int64_t batch, double confidence) {
  std::vector<double> x, y;
  std::set<int64_t> batches;
  for (const auto& o : measured) {
    for (double ns : o.latency_ns) {
      if (!(ns > 0) || o.batch <= 0) return std::unexpected("a latency or batch that is not positive");
      x.push_back(std::log(static_cast<double>(o.batch)));
      y.push_back(std::log(ns));
      batches.insert(o.batch);
    }
  }
  if (batches.size() < 3) {
    return std::unexpected(fmt::format("a batch-scaling fit needs 3 measured batch sizes; this "
                                       "configuration has {}",
                                       batches.size()));
  }
  const double lo = static_cast<double>(*batches.begin()), hi = static_cast<double>(*batches.rbegin());
  if (batch < lo / kMaxExtrapolation || batch > hi * kMaxExtrapolation) {
    return std::unexpected(fmt::format("batch {} is more than a factor {:g} outside the measured "
                                       "batches ({} to {}); refusing to extrapolate that far",
                                       batch, kMaxExtrapolation, *batches.begin(), *batches.rbegin()));
  }
  const double n = static_cast<double>(x.size());
  const double mx = stats::Mean(x), my = stats::Mean(y);
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  const double b = sxy / sxx, a = my - b * mx;
  double sse = 0;
  for (size_t i = 0; i < x.size(); ++i) sse += std::pow(y[i] - a - b * x[i], 2);
  const double s = std::sqrt(sse / (n - 2));
  const double x0 = std::log(static_cast<double>(batch));
  const double half = T(n - 2, confidence) * s * std::sqrt(1 + 1 / n + (x0 - mx) * (x0 - mx) / sxx);
  const double y0 = a + b * x0;
  return BatchPrediction{batch, std::exp(y0), {std::exp(y0 - half), std::exp(y0 + half)}, b, x.size()};
}

Validation LeaveOneOut(std::span<const BatchObservation> measured, double confidence) {
  Validation v;
  std::vector<double> errors;
  size_t reps = 0, covered = 0;
  for (size_t i = 0; i < measured.size(); ++i) {
    std::vector<BatchObservation> rest;
    for (size_t j = 0; j < measured.size(); ++j) {
      if (measured[j].batch != measured[i].batch) rest.push_back(measured[j]);
    }
    auto p = PredictBatch(rest, measured[i].batch, confidence);
    if (!p || measured[i].latency_ns.empty()) {
      ++v.skipped;
      continue;
    }
    HeldOut h{measured[i].batch, GeometricMean(measured[i].latency_ns), *p, measured[i].latency_ns.size(), 0};
    for (double ns : measured[i].latency_ns) {
      if (ns >= p->latency_pi.lo && ns <= p->latency_pi.hi) ++h.covered;
    }
    errors.push_back(std::fabs(p->latency_ns / h.actual_ns - 1));
    reps += h.repetitions;
    covered += h.covered;
    v.held_out.push_back(h);
  }
  if (!errors.empty()) v.median_abs_error = stats::Median(errors);
  if (reps > 0) v.coverage = static_cast<double>(covered) / static_cast<double>(reps);
  return v;
}

stats::Expected<ModelPrediction> PredictModel(std::span<const ModelObservation> measured,
                                              double flops_per_sample, double confidence) {
  std::vector<double> achieved;  // per model: mean log achieved FLOP/s over its repetitions
  double lo = INFINITY, hi = 0;
  for (const auto& m : measured) {
    if (m.throughput_sps.empty() || !(m.flops_per_sample > 0)) continue;
    double s = 0;
    for (double t : m.throughput_sps) s += std::log(t * m.flops_per_sample);
    achieved.push_back(s / static_cast<double>(m.throughput_sps.size()));
    lo = std::min(lo, m.flops_per_sample);
    hi = std::max(hi, m.flops_per_sample);
  }
  if (achieved.size() < 2) {
    return std::unexpected(fmt::format("a model-scaling fit needs 2 measured models with known FLOPs "
                                       "in this configuration; it has {}",
                                       achieved.size()));
  }
  if (!(flops_per_sample > 0)) return std::unexpected("the model's FLOPs per sample are not known");
  if (flops_per_sample < lo / 4 || flops_per_sample > hi * 4) {
    return std::unexpected(fmt::format("{:.3g} FLOPs per sample is more than a factor 4 outside the "
                                       "measured models ({:.3g} to {:.3g}); refusing to extrapolate "
                                       "that far",
                                       flops_per_sample, lo, hi));
  }
  const double k = static_cast<double>(achieved.size());
  const double m = stats::Mean(achieved);
  const double s = std::sqrt(stats::SumSquaredDeviations(achieved, m) / (k - 1));
  const double half = T(k - 1, confidence) * s * std::sqrt(1 + 1 / k);
  return ModelPrediction{std::exp(m) / flops_per_sample,
                         {std::exp(m - half) / flops_per_sample, std::exp(m + half) / flops_per_sample},
                         achieved.size()};
}

}  // namespace dlb::analysis
