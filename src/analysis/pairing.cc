#include "analysis/pairing.h"

#include <map>

#include "plan/experiment.h"
#include "util/strings.h"

namespace dlb::analysis {

CellCoordinates Coordinates(const plan::Cell& c, int64_t run_id) {
  return {run_id,   c.framework, c.model,   std::to_string(c.batch), c.precision, c.device, c.mode,
          c.layout, c.variant,   c.environment, c.profile};
}

std::string AxisValue(const CellCoordinates& c, const std::string& axis) {
  if (axis == "framework") return c.framework;
  if (axis == "precision") return c.precision;
  if (axis == "variant") return c.variant;
  if (axis == "environment") return c.environment;
  if (axis == "layout") return c.layout;
  if (axis == "batch") return c.batch;
  if (axis == "profile") return c.profile.empty() ? "(none)" : c.profile;
  return "run " + std::to_string(c.run_id);
}

std::string KeyWithout(const CellCoordinates& c, const std::string& axis) {
  const bool profile = axis == "profile";
  auto free = [&](const char* name, const std::string& value) {
    return axis == name ? std::string("*") : value;
  };
  return Join({axis == "run" ? "*" : std::to_string(c.run_id), c.model, free("batch", c.batch),
               profile ? "*" : free("precision", c.precision), c.device, c.mode,
               profile || !c.profile.empty() ? "*" : free("layout", c.layout),
               free("variant", c.variant), free("environment", c.environment),
               free("framework", c.framework), profile ? "*" : c.profile},
              "/");
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
