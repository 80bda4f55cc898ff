// The axes of an experiment's matrix, once: their names (as matrix keys, --filter keys, export
// columns), how a cell's value reads, what a cell key and a label are made of, and which axes
// cells can be compared along. Parsing, expansion, filters, keys, labels, pairing and export all
// read this table, so a new axis is one row here plus its parsing.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace dlb::plan {

struct Cell;

enum class AxisId { kFramework, kModel, kBatch, kPrecision, kDevice, kWorkload, kLayout, kVariant,
                    kEnvironment, kProfile };
inline constexpr size_t kAxisCount = 10;

struct Axis {
  AxisId id;
  std::string_view name;         // matrix key, --filter key, export column
  std::string_view quiet_value;  // a label leaves the axis out at this value ("" = never)
  std::string_view label_format;  // how a label shows it ({} is the value)
};

// In key order: framework, model, batch, precision, device, workload, layout, variant,
// environment, profile.
const std::array<Axis, kAxisCount>& Axes();
const Axis* FindAxis(std::string_view name);  // also the old name "mode" for workload

// A cell's value on an axis, as text ("8" for batch 8, "" for no profile).
std::string AxisValue(const Cell& cell, AxisId axis);

// The values of every axis, in Axes() order: a cell's coordinates.
using AxisValues = std::array<std::string, kAxisCount>;
AxisValues ValuesOf(const Cell& cell);

// framework/model/bs8/fp32/cpu/inference/default/default/native[/profile]: unique in a plan.
std::string CellKey(const AxisValues& v);
// "torch resnet50 bs8 fp32 cpu" plus every axis not at its quiet value.
std::string CellLabel(const AxisValues& v);

// The axes `dlbench compare --by` and an experiment's compare_by accept, and "run" (the same cell
// in two runs) last.
const std::vector<std::string>& ComparisonAxes();

// Names of the filter keys, in table order.
std::vector<std::string> AxisNames();

}  // namespace dlb::plan
