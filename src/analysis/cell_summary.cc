#include "analysis/cell_summary.h"

#include <algorithm>

namespace dlb::analysis {
namespace {

std::optional<double> MedianOf(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void SummarizeEnergy(std::span<const RepetitionFacts> reps, std::span<const double> single_windows_j,
                     CellSummary& s) {
  std::vector<double> per_rep, power;
  int64_t throttled = 0, deviations = 0, contaminated = 0;
  bool any_gpu_telemetry = false, any_profile = false, any_contention = false;
  for (const auto& r : reps) {
    if (r.status != "ok") continue;
    if (r.energy_per_sample_j) per_rep.push_back(*r.energy_per_sample_j);
    if (r.avg_power_w) power.push_back(*r.avg_power_w);
    if (r.energy_source) s.energy_source = r.energy_source;
    if (r.throttle_reasons) {
      any_gpu_telemetry = true;
      if (*r.throttle_reasons != "none") ++throttled;
    }
    if (r.profile_check) {
      any_profile = true;
      if (*r.profile_check != "ok") ++deviations;
    }
    if (r.replacement) ++s.replaced_repetitions;
    if (r.contaminated) {
      any_contention = true;
      contaminated += *r.contaminated;
    }
  }
  if (per_rep.size() >= 2) {
    auto ci = stats::MeanConfidenceInterval(per_rep, 0.95);
    s.energy_per_sample_j = ci->mean;
    s.energy_ci_lo_j = ci->lo;
    s.energy_ci_hi_j = ci->hi;
  } else if (per_rep.size() == 1) {
    s.energy_per_sample_j = per_rep[0];
    if (auto ci = stats::MeanConfidenceInterval(single_windows_j, 0.95)) {
      s.energy_ci_lo_j = ci->lo;
      s.energy_ci_hi_j = ci->hi;
    }
  }
  if (!power.empty()) {
    double sum = 0;
    for (double p : power) sum += p;
    s.avg_power_w = sum / static_cast<double>(power.size());
  }
  if (any_gpu_telemetry) s.throttled_repetitions = throttled;
  if (any_profile) s.profile_deviations = deviations;
  if (any_contention) s.contaminated_repetitions = contaminated;
}

}  // namespace

int CountWithEnergy(std::span<const RepetitionFacts> reps) {
  return static_cast<int>(std::count_if(reps.begin(), reps.end(), [](const RepetitionFacts& r) {
    return r.status == "ok" && r.energy_per_sample_j.has_value();
  }));
}

CellSummary SummarizeCell(std::span<const RepetitionFacts> reps, std::vector<double> wall,
                          int64_t batch, std::span<const double> single_windows_j) {
  CellSummary s;
  int unsupported = 0;
  std::vector<double> load, compile, first_call;
  int64_t window_ns = 0, window_iterations = 0;
  for (const auto& r : reps) {
    ++s.repetitions_run;
    if (r.status == "unsupported") ++unsupported;
    if (r.status != "ok") {
      if (!s.message && r.message && !r.message->empty()) s.message = r.message;
      continue;
    }
    ++s.repetitions_ok;
    s.parameters = r.parameters;
    s.flops_per_sample = r.flops_per_sample;
    if (r.load_s) load.push_back(*r.load_s);
    if (r.compile_s) compile.push_back(*r.compile_s);
    if (r.first_call_s) first_call.push_back(*r.first_call_s);
    if (r.peak_rss_bytes) s.peak_rss_bytes = std::max(s.peak_rss_bytes.value_or(0), *r.peak_rss_bytes);
    if (r.peak_device_bytes) {
      s.peak_device_bytes = std::max(s.peak_device_bytes.value_or(0), *r.peak_device_bytes);
    }
    if (r.window_ns && *r.window_ns > 0) {
      window_ns += *r.window_ns;
      window_iterations += r.window_iterations.value_or(0);
    }
  }
  s.status = s.repetitions_ok == s.repetitions_run ? "ok"
             : unsupported > 0                     ? "unsupported"
             : s.repetitions_ok == 0               ? "failed"
                                                   : "partial";
  double sum = 0;
  for (double v : wall) sum += v;
  s.latency = stats::Summarize(std::span<const double>(wall));
  if (s.latency) {
    std::sort(wall.begin(), wall.end());
    s.median_ci = stats::MedianConfidenceInterval(wall, 0.95);
  }
  const auto b = static_cast<double>(batch);
  if (sum > 0) s.throughput_sps = b * static_cast<double>(wall.size()) / (sum * 1e-9);
  if (window_ns > 0) {
    s.window_throughput_sps =
        b * static_cast<double>(window_iterations) / (static_cast<double>(window_ns) * 1e-9);
  }
  s.load_s = MedianOf(load);
  s.compile_s = MedianOf(compile);
  s.first_call_s = MedianOf(first_call);
  SummarizeEnergy(reps, single_windows_j, s);
  std::vector<double> epoch_s, accuracy;
  for (const auto& r : reps) {
    if (r.status != "ok") continue;
    if (r.mean_epoch_s) epoch_s.push_back(*r.mean_epoch_s);
    if (r.final_accuracy) accuracy.push_back(*r.final_accuracy);
  }
  s.epoch_s = MedianOf(epoch_s);
  if (!accuracy.empty()) {
    double sum = 0;
    for (double a : accuracy) sum += a;
    s.accuracy = sum / static_cast<double>(accuracy.size());
  }
  return s;
}

}  // namespace dlb::analysis
