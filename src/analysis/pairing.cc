#include "analysis/pairing.h"

#include <map>

#include "plan/experiment.h"
#include "util/strings.h"

namespace dlb::analysis {

CellCoordinates Coordinates(const plan::Cell& c, int64_t run_id) {
  return {run_id, plan::ValuesOf(c)};
}

std::string AxisValue(const CellCoordinates& c, const std::string& axis) {
  if (axis == "run") return "run " + std::to_string(c.run_id);
  const plan::Axis* a = plan::FindAxis(axis);
  if (a == nullptr) return "";
  const std::string& v = c.values[static_cast<size_t>(a->id)];
  return a->id == plan::AxisId::kProfile && v.empty() ? "(none)" : v;
}

std::string KeyWithout(const CellCoordinates& c, const std::string& axis) {
  using plan::AxisId;
  const plan::Axis* compared = plan::FindAxis(axis);
  const bool by_profile = compared != nullptr && compared->id == AxisId::kProfile;
  const bool has_profile = !c.values[static_cast<size_t>(AxisId::kProfile)].empty();
  std::vector<std::string> parts = {axis == "run" ? "*" : std::to_string(c.run_id)};
  for (const auto& a : plan::Axes()) {
    bool free = compared != nullptr && a.id == compared->id;
    if (by_profile && (a.id == AxisId::kPrecision || a.id == AxisId::kLayout)) free = true;
    if (has_profile && a.id == AxisId::kLayout) free = true;
    parts.push_back(free ? "*" : c.values[static_cast<size_t>(a.id)]);
  }
  return Join(parts, "/");
}

std::vector<std::pair<size_t, size_t>> PairAlong(const std::vector<CellCoordinates>& cells,
                                                 const std::string& axis) {
  std::map<std::string, std::vector<size_t>> groups;
  std::vector<std::string> order;
  for (size_t i = 0; i < cells.size(); ++i) {
    std::string k = KeyWithout(cells[i], axis);
    auto [it, inserted] = groups.try_emplace(k);
    if (inserted) order.push_back(k);
    it->second.push_back(i);
  }
  std::vector<std::pair<size_t, size_t>> pairs;
  for (const auto& k : order) {
    const auto& idx = groups[k];
    for (size_t j = 1; j < idx.size(); ++j) {
      if (AxisValue(cells[idx[j]], axis) != AxisValue(cells[idx[0]], axis)) {
        pairs.emplace_back(idx[0], idx[j]);
      }
    }
  }
  return pairs;
}

}  // namespace dlb::analysis
