#include "plan/axes.h"

#include <fmt/format.h>

#include "plan/experiment.h"

namespace dlb::plan {

const std::array<Axis, kAxisCount>& Axes() {
  static const std::array<Axis, kAxisCount> axes = {{
      {AxisId::kFramework, "framework", "", "{}"},
      {AxisId::kModel, "model", "", "{}"},
      {AxisId::kBatch, "batch", "", "bs{}"},
      {AxisId::kPrecision, "precision", "", "{}"},
      {AxisId::kDevice, "device", "", "{}"},
      {AxisId::kWorkload, "workload", "inference", "{}"},
      {AxisId::kLayout, "layout", "default", "{}"},
      {AxisId::kVariant, "variant", "default", "[{}]"},
      {AxisId::kEnvironment, "environment", "native", "@{}"},
      {AxisId::kProfile, "profile", "", "{{{}}}"},
  }};
  return axes;
}

const Axis* FindAxis(std::string_view name) {
  if (name == "mode") name = "workload";  // the axis's name before training existed
  for (const auto& a : Axes()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::string AxisValue(const Cell& c, AxisId axis) {
  switch (axis) {
    case AxisId::kFramework: return c.framework;
    case AxisId::kModel: return c.model;
    case AxisId::kBatch: return std::to_string(c.batch);
    case AxisId::kPrecision: return c.precision;
    case AxisId::kDevice: return c.device;
    case AxisId::kWorkload: return c.workload;
    case AxisId::kLayout: return c.layout;
    case AxisId::kVariant: return c.variant;
    case AxisId::kEnvironment: return c.environment;
    case AxisId::kProfile: return c.profile;
  }
  return "";
}

AxisValues ValuesOf(const Cell& c) {
  AxisValues v;
  for (size_t i = 0; i < kAxisCount; ++i) v[i] = AxisValue(c, Axes()[i].id);
  return v;
}

std::string CellKey(const AxisValues& v) {
  std::string key;
  for (size_t i = 0; i < kAxisCount; ++i) {
    const Axis& a = Axes()[i];
    if (a.id == AxisId::kProfile && v[i].empty()) continue;  // keys from before profiles existed
    if (!key.empty()) key += '/';
    key += a.id == AxisId::kBatch ? "bs" + v[i] : v[i];
  }
  return key;
}

std::string CellLabel(const AxisValues& v) {
  // framework, model, batch, precision and device always; the rest when they say something. The
  // profile reads right after the device, as "{fp32-strict}".
  std::string label;
  auto add = [&](size_t i) {
    const Axis& a = Axes()[i];
    if (v[i].empty() || v[i] == a.quiet_value) return;
    if (!label.empty()) label += ' ';
    label += fmt::format(fmt::runtime(a.label_format), v[i]);
  };
  for (AxisId id : {AxisId::kFramework, AxisId::kModel, AxisId::kBatch, AxisId::kPrecision,
                    AxisId::kDevice, AxisId::kProfile, AxisId::kWorkload, AxisId::kLayout,
                    AxisId::kVariant, AxisId::kEnvironment}) {
    add(static_cast<size_t>(id));
  }
  return label;
}

const std::vector<std::string>& ComparisonAxes() {
  static const std::vector<std::string> axes = {"framework", "precision", "variant", "environment",
                                                "layout",    "batch",     "profile", "workload",
                                                "run"};
  return axes;
}

std::vector<std::string> AxisNames() {
  std::vector<std::string> names;
  for (const auto& a : Axes()) names.emplace_back(a.name);
  return names;
}

}  // namespace dlb::plan
