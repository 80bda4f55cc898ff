#include "run/cell_summaries.h"

#include <variant>

#include "run/energy.h"

namespace dlb::run {

analysis::RepetitionFacts FactsOf(const result::RepetitionResult& r) {
  auto opt_text = [](const std::string& s) {
    return s.empty() ? std::nullopt : std::optional<std::string>(s);
  };
  analysis::RepetitionFacts f;
  f.status = result::RepStatusName(r.status);
  f.message = opt_text(r.message);
  f.parameters = r.parameters;
  f.flops_per_sample = r.flops_per_sample;
  f.load_s = r.load_s;
  f.compile_s = r.compile_s;
  f.first_call_s = r.first_call_s;
  f.peak_rss_bytes = r.peak_rss_bytes;
  f.peak_device_bytes = r.peak_device_bytes;
  if (const result::TimedSeries* s = r.series()) {
    f.window_ns = s->window_ns;
    f.window_iterations = s->window_iterations;
  }
  f.energy_per_sample_j = r.telemetry_summary.energy_per_sample_j;
  f.avg_power_w = r.telemetry_summary.avg_power_w;
  f.energy_source = opt_text(result::EnergySourceName(r.energy_source));
  f.throttle_reasons = r.telemetry_summary.throttle_reasons;
  f.profile_check = opt_text(r.profile_check);
  if (r.contention) f.contaminated = r.contention->contaminated ? 1 : 0;
  f.replacement = r.replaces_rep_idx.has_value();
  if (const auto* training = std::get_if<result::TrainingMeasurement>(&r.measurement);
      training != nullptr && !training->epochs.empty()) {
    double sum_ns = 0;
    for (const auto& e : training->epochs) sum_ns += static_cast<double>(e.epoch_ns);
    f.mean_epoch_s = sum_ns * 1e-9 / static_cast<double>(training->epochs.size());
    f.final_accuracy = training->epochs.back().accuracy;
  }
  return f;
}

analysis::CellSummary CellSummaries::Add(const plan::Cell& cell, const result::RepetitionResult& r) {
  Cell& c = cells_[cell.cell_idx];
  c.facts.push_back(FactsOf(r));
  const result::TimedSeries* s = r.series();
  if (r.status == result::RepStatus::kOk && s != nullptr) {
    const bool contaminated = r.contention && r.contention->contaminated;
    auto& pool = contaminated ? c.contaminated_wall_ns : c.clean_wall_ns;
    for (int64_t v : s->SteadyKept()) pool.push_back(static_cast<double>(v));
  }
  if (r.status == result::RepStatus::kOk && r.telemetry_summary.energy_per_sample_j &&
      analysis::CountWithEnergy(c.facts) == 1) {
    c.first_energy_windows_j = JoulesPerSample(r.energy_windows, cell.batch);
  }
  return analysis::SummarizeCell(c.facts, c.clean_wall_ns.empty() ? c.contaminated_wall_ns : c.clean_wall_ns,
                                 cell.batch, c.first_energy_windows_j);
}

}  // namespace dlb::run
