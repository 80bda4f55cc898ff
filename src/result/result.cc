#include <type_traits>

#include <algorithm>

#include "result/energy.h"
#include "result/measurement.h"
#include "result/repetition.h"
#include "result/validation.h"

namespace dlb::result {

std::string RepStatusName(RepStatus s) {
  switch (s) {
    case RepStatus::kOk: return "ok";
    case RepStatus::kFailed: return "failed";
    case RepStatus::kUnsupported: return "unsupported";
    case RepStatus::kInterrupted: return "interrupted";
  }
  return "failed";
}

std::string EnergySourceName(EnergySource s) {
  switch (s) {
    case EnergySource::kNvmlCounter: return "nvml-total-energy";
    case EnergySource::kNvmlPower: return "nvml-power-integrated";
    case EnergySource::kRapl: return "rapl-package";
    case EnergySource::kNone: break;
  }
  return "";
}

Measurement EmptyMeasurement(std::string_view workload) {
  if (workload == "training") return TrainingMeasurement{};
  if (workload == "generation") return GenerationMeasurement{};
  return InferenceMeasurement{};
}

TimedSeries* SeriesOf(Measurement& m) {
  return std::visit(
      [](auto& p) -> TimedSeries* {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, InferenceMeasurement>) return &p.calls;
        if constexpr (std::is_same_v<T, TrainingMeasurement>) return &p.steps;
        if constexpr (std::is_same_v<T, GenerationMeasurement>) return &p.calls;
      },
      m);
}

std::vector<int64_t> TimedSeries::SteadyKept() const {
  std::vector<int64_t> out;
  out.reserve(wall_ns.size() - static_cast<size_t>(std::max<int64_t>(0, warmup_count)));
  for (size_t i = static_cast<size_t>(warmup_count); i < wall_ns.size(); ++i) {
    if (i < chunk_idx.size()) {
      const auto c = static_cast<size_t>(chunk_idx[i]);
      if (c < chunks.size() && chunks[c].excluded) continue;
    }
    out.push_back(wall_ns[i]);
  }
  return out;
}

int TimedSeries::ExcludedChunks() const {
  return static_cast<int>(std::count_if(chunks.begin(), chunks.end(), [](const SampleChunk& c) { return c.excluded; }));
}

const TimedSeries* SeriesOf(const Measurement& m) { return SeriesOf(const_cast<Measurement&>(m)); }

bool ModelValidation::ok() const {
  if (!error.empty()) return false;
  for (const auto& o : outputs)
    if (o.status != "ok") return false;
  for (const auto& p : pairs)
    if (!p.pass) return false;
  return !pairs.empty();
}

}  // namespace dlb::result
