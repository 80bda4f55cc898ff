#include "cli/measured.h"

#include <fmt/format.h>

#include <algorithm>

#include "analysis/pairing.h"
#include "analysis/peaks.h"
#include "cli/common.h"
#include "cli/comparisons.h"
#include "plan/axes.h"
#include "report/summary.h"
#include "stats/descriptive.h"
#include "store/store.h"
#include "util/error.h"
#include "util/strings.h"

namespace dlb::cli {

std::vector<MeasuredCell> LoadMeasured(const std::vector<std::string>& dbs) {
  std::vector<MeasuredCell> out;
  for (const auto& path : dbs) {
    auto store = store::Store::OpenExisting(path);
    for (const auto& run : store::ListRuns(store.db())) {
      for (auto& c : store::GetCells(store.db(), run.run_id)) {
        if (c.status != "ok" && c.status != "partial") continue;
        MeasuredCell m{path, run, c, analysis::DeviceNameFromHello(c.hello_json.value_or("{}"), c.device), {}, {}};
        for (const auto& g : MetricGroups(store.db(), c, "latency").groups) m.latency_ns.push_back(stats::Median(g));
        for (const auto& g : MetricGroups(store.db(), c, "energy").groups) m.energy_j.push_back(stats::Mean(g));
        if (!m.latency_ns.empty()) out.push_back(std::move(m));
      }
    }
  }
  return out;
}

std::vector<std::string> MeasuredAxes() {
  std::vector<std::string> axes = plan::AxisNames();
  axes.push_back("host");
  return axes;
}

std::string ValueOn(const MeasuredCell& m, const std::string& axis) {
  if (axis == "host") return m.run.host;
  return analysis::AxisValue(CoordinatesOf(m.run.run_id, m.cell), axis);
}

Filter ParseWhere(const std::string& text) {
  auto eq = text.find('=');
  std::string axis(Trim(text.substr(0, eq == std::string::npos ? text.size() : eq)));
  const auto axes = MeasuredAxes();
  if (eq == std::string::npos || std::find(axes.begin(), axes.end(), axis) == axes.end()) {
    throw UserError(fmt::format("--where '{}': write AXIS=VALUE with AXIS one of {}", text,
                                AllowedValues(axis, axes).substr(9)));
  }
  return {axis, std::string(Trim(text.substr(eq + 1)))};
}

std::vector<MeasuredCell> Select(std::vector<MeasuredCell> cells, const std::vector<Filter>& filters) {
  std::erase_if(cells, [&](const MeasuredCell& m) {
    for (const auto& f : filters) {
      const bool hit = ValueOn(m, f.axis) == f.value ||
                       (f.axis == "device" && !m.device_name.empty() &&
                        m.device_name.find(f.value) != std::string::npos);
      if (!hit) return true;
    }
    return false;
  });
  return cells;
}

std::string CombinationKey(const MeasuredCell& m, const std::vector<std::string>& without) {
  std::string key;
  for (const auto& axis : MeasuredAxes()) {
    if (std::find(without.begin(), without.end(), axis) != without.end()) continue;
    key += ValueOn(m, axis) + "\x1f";
    if (axis == "device") key += m.device_name + "\x1f";
  }
  return key;
}

std::string Label(const MeasuredCell& m) {
  return report::CellName(m.cell) + " on " + m.run.host;
}

std::string Provenance(const MeasuredCell& m) {
  return fmt::format("{} run {} ({}, host {})", m.db, m.run.run_id, m.run.started_at.substr(0, 10),
                     m.run.host);
}

std::vector<double> ThroughputPerRepetition(const MeasuredCell& m) {
  std::vector<double> out;
  for (double ns : m.latency_ns) out.push_back(static_cast<double>(m.cell.batch) * 1e9 / ns);
  return out;
}

analysis::Candidate CandidateOf(const MeasuredCell& m) {
  const auto& c = m.cell;
  analysis::Candidate k;
  k.label = Label(m);
  k.device = c.device;
  k.precision = c.precision;
  k.batch = c.batch;
  k.latency_ns = m.latency_ns;
  k.energy_j = m.energy_j;
  const int64_t n = c.n_samples.value_or(0);
  if (n >= stats::kMinSamplesP90) k.p90_ns = c.p90_ns;
  if (n >= stats::kMinSamplesP99) k.p99_ns = c.p99_ns;
  auto memory = c.device == "cpu" ? c.peak_rss_bytes : c.peak_device_bytes;
  if (memory) k.memory_bytes = static_cast<double>(*memory);
  k.provenance = Provenance(m);
  return k;
}

}  // namespace dlb::cli
