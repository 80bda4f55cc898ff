#include "run/energy.h"

#include <algorithm>

#include "stats/sample_check.h"

namespace dlb::run {
namespace {

std::optional<double> MedianOf(const std::vector<double>& v) {
  return v.empty() ? std::nullopt : std::optional<double>(stats::Median(v));
}

// Trapezoids over the power readings from begin to end, the edges included.
std::optional<double> IntegratePower(const probe::TelemetrySample& begin,
                                     const probe::TelemetrySample& end,
                                     std::span<const probe::TelemetrySample> series) {
  std::vector<std::pair<int64_t, double>> points;
  if (begin.gpu.power_w) points.emplace_back(begin.t_ns, *begin.gpu.power_w);
  for (const auto& s : series) {
    if (s.t_ns > begin.t_ns && s.t_ns < end.t_ns && s.gpu.power_w) points.emplace_back(s.t_ns, *s.gpu.power_w);
  }
  if (end.gpu.power_w) points.emplace_back(end.t_ns, *end.gpu.power_w);
  if (points.size() < 2 || points.front().first != begin.t_ns || points.back().first != end.t_ns) {
    return std::nullopt;
  }
  double joules = 0;
  for (size_t i = 1; i < points.size(); ++i) {
    double dt = static_cast<double>(points[i].first - points[i - 1].first) * 1e-9;
    joules += dt * (points[i].second + points[i - 1].second) / 2;
  }
  return joules;
}

}  // namespace

std::optional<EnergyWindow> MakeEnergyWindow(EnergySource source, const probe::TelemetrySample& begin,
                                             const probe::TelemetrySample& end,
                                             std::span<const probe::TelemetrySample> series,
                                             int64_t iterations) {
  if (end.t_ns <= begin.t_ns || iterations <= 0) return std::nullopt;
  std::optional<double> joules;
  switch (source) {
    case EnergySource::kNvmlCounter:
      if (begin.gpu_energy_j && end.gpu_energy_j) joules = *end.gpu_energy_j - *begin.gpu_energy_j;
      break;
    case EnergySource::kRapl:
      if (begin.cpu_energy_j && end.cpu_energy_j) joules = *end.cpu_energy_j - *begin.cpu_energy_j;
      break;
    case EnergySource::kNvmlPower: joules = IntegratePower(begin, end, series); break;
    case EnergySource::kNone: break;
  }
  if (!joules) return std::nullopt;
  EnergyWindow w;
  w.t_start_ns = begin.t_ns;
  w.duration_ns = end.t_ns - begin.t_ns;
  w.iterations = iterations;
  w.energy_j = *joules;
  w.avg_power_w = *joules / (static_cast<double>(w.duration_ns) * 1e-9);
  std::vector<double> sm, mem;
  for (const auto& s : series) {
    if (s.t_ns < begin.t_ns || s.t_ns > end.t_ns) continue;
    if (s.gpu.temperature_c) w.max_temperature_c = std::max(w.max_temperature_c.value_or(-1000), *s.gpu.temperature_c);
    if (s.gpu.sm_clock_mhz) sm.push_back(*s.gpu.sm_clock_mhz);
    if (s.gpu.mem_clock_mhz) mem.push_back(*s.gpu.mem_clock_mhz);
    if (s.gpu.clock_event_reasons) w.clock_event_reasons |= *s.gpu.clock_event_reasons;
  }
  w.sm_clock_mhz = MedianOf(sm);
  w.mem_clock_mhz = MedianOf(mem);
  return w;
}

std::vector<double> JoulesPerSample(std::span<const EnergyWindow> windows, int batch) {
  std::vector<double> out;
  out.reserve(windows.size());
  for (const auto& w : windows) {
    out.push_back(w.energy_j / (static_cast<double>(w.iterations) * batch));
  }
  return out;
}

double MinWindowSeconds(EnergySource source, double gpu_window_s, double cpu_window_s) {
  return source == EnergySource::kRapl ? cpu_window_s : gpu_window_s;
}

result::TelemetrySummary SummarizeTelemetry(const result::RepetitionResult& r, int batch) {
  result::TelemetrySummary t;
  double joules = 0, seconds = 0;
  int64_t iterations = 0;
  for (const auto& w : r.energy_windows) {
    joules += w.energy_j;
    seconds += static_cast<double>(w.duration_ns) * 1e-9;
    iterations += w.iterations;
  }
  if (iterations > 0) t.energy_per_sample_j = joules / (static_cast<double>(iterations) * batch);
  if (seconds > 0) t.avg_power_w = joules / seconds;
  uint64_t reasons = 0;
  bool reasons_read = false;
  for (const auto& s : r.telemetry) {
    if (s.gpu.temperature_c) t.max_temperature_c = std::max(t.max_temperature_c.value_or(-1000), *s.gpu.temperature_c);
    if (s.gpu.process_bytes) t.peak_device_bytes_nvml = std::max(t.peak_device_bytes_nvml.value_or(0), *s.gpu.process_bytes);
    bool measuring = s.phase == "warmup" || s.phase == "measure" || s.phase == "window" || s.phase == "energy";
    if (measuring && s.gpu.clock_event_reasons) {
      reasons |= *s.gpu.clock_event_reasons & probe::kThrottleMask;
      reasons_read = true;
    }
  }
  if (r.gpu_telemetry == "nvml" && reasons_read) {
    t.throttle_reasons = reasons ? probe::ClockEventReasonNames(reasons) : "none";
  }
  return t;
}

}  // namespace dlb::run
