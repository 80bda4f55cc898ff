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

LooSummary LeaveOneModelOut(std::span<const ModelObservation> measured, double confidence) {
  LooSummary v;
  std::vector<double> errors;
  size_t covered = 0;
  for (size_t i = 0; i < measured.size(); ++i) {
    const auto& held = measured[i];
    if (held.throughput_sps.empty() || !(held.flops_per_sample > 0)) continue;
    std::vector<ModelObservation> rest;
    for (size_t j = 0; j < measured.size(); ++j) {
      if (j != i) rest.push_back(measured[j]);
    }
    auto p = PredictModel(rest, held.flops_per_sample, confidence);
    if (!p) {
      ++v.skipped;
      continue;
    }
    ++v.held_out;
    errors.push_back(std::fabs(p->throughput_sps / GeometricMean(held.throughput_sps) - 1));
    for (double t : held.throughput_sps) {
      covered += t >= p->throughput_pi.lo && t <= p->throughput_pi.hi;
      ++v.repetitions;
    }
  }
  if (!errors.empty()) v.median_abs_error = stats::Median(errors);
  if (v.repetitions > 0) v.coverage = static_cast<double>(covered) / static_cast<double>(v.repetitions);
  return v;
}

double Ceiling(const Roofline& device, double flops_per_byte) {
  if (device.bandwidth_bytes_per_s > 0 && flops_per_byte > 0) {
    return std::min(device.peak_flops_per_s, flops_per_byte * device.bandwidth_bytes_per_s);
  }
  return device.peak_flops_per_s;
}

double ScaleByPeaks(double source_sps, const Roofline& source, const Roofline& target,
                    double flops_per_byte) {
  // Both sides with the memory roof, or neither: a ceiling from bandwidth on one side only would
  // scale a compute-bound figure by a memory-bound one.
  const double intensity =
      source.bandwidth_bytes_per_s > 0 && target.bandwidth_bytes_per_s > 0 ? flops_per_byte : 0;
  return source_sps * Ceiling(target, intensity) / Ceiling(source, intensity);
}

namespace {

// Per pair: the mean over its repetitions of log(measured / scaled).
std::vector<double> LogRatios(std::span<const TransferPair> pairs) {
  std::vector<double> out;
  for (const auto& p : pairs) {
    if (p.target_sps.empty() || !(p.scaled_sps > 0)) continue;
    double s = 0;
    for (double t : p.target_sps) s += std::log(t / p.scaled_sps);
    out.push_back(s / static_cast<double>(p.target_sps.size()));
  }
  return out;
}

}  // namespace

TransferPrediction PredictTransfer(double scaled_sps, std::span<const TransferPair> pairs,
                                   double confidence) {
  const std::vector<double> r = LogRatios(pairs);
  TransferPrediction p{scaled_sps, std::nullopt, r.size(), 1};
  if (r.empty()) return p;
  const double k = static_cast<double>(r.size());
  const double m = stats::Mean(r);
  p.correction = std::exp(m);
  p.throughput_sps = scaled_sps * p.correction;
  if (r.size() >= 2) {
    const double s = std::sqrt(stats::SumSquaredDeviations(r, m) / (k - 1));
    const double half = T(k - 1, confidence) * s * std::sqrt(1 + 1 / k);
    p.throughput_pi = stats::Interval{scaled_sps * std::exp(m - half), scaled_sps * std::exp(m + half)};
  }
  return p;
}

LooSummary LeaveOnePairOut(std::span<const TransferPair> pairs, double confidence) {
  LooSummary v;
  std::vector<double> errors;
  size_t covered = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (pairs[i].target_sps.empty()) continue;
    std::vector<TransferPair> rest;
    for (size_t j = 0; j < pairs.size(); ++j) {
      if (j != i) rest.push_back(pairs[j]);
    }
    auto p = PredictTransfer(pairs[i].scaled_sps, rest, confidence);
    if (!p.throughput_pi) {
      ++v.skipped;
      continue;
    }
    ++v.held_out;
    errors.push_back(std::fabs(p.throughput_sps / GeometricMean(pairs[i].target_sps) - 1));
    for (double t : pairs[i].target_sps) {
      covered += t >= p.throughput_pi->lo && t <= p.throughput_pi->hi;
      ++v.repetitions;
    }
  }
  if (!errors.empty()) v.median_abs_error = stats::Median(errors);
  if (v.repetitions > 0) v.coverage = static_cast<double>(covered) / static_cast<double>(v.repetitions);
  return v;
}

ScalingError UncorrectedError(std::span<const TransferPair> pairs) {
  ScalingError e{INFINITY, 0, 0};
  std::vector<double> errors;
  for (const auto& p : pairs) {
    if (p.target_sps.empty() || !(p.scaled_sps > 0)) continue;
    const double ratio = GeometricMean(p.target_sps) / p.scaled_sps;
    e.min_ratio = std::min(e.min_ratio, ratio);
    e.max_ratio = std::max(e.max_ratio, ratio);
    errors.push_back(std::fabs(1 / ratio - 1));
  }
  if (errors.empty()) return {};
  e.median_abs_error = stats::Median(errors);
  return e;
}

}  // namespace dlb::analysis
