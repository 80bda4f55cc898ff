// Which cells are compared with which: cells that differ in exactly one axis (the framework, the
// precision, ...) and agree on every other. One rule for `dlbench compare`, the report's findings
// and the scheduler's precision target, so that all three pair the same cells.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "plan/axes.h"

namespace dlb::plan {
struct Cell;
}

namespace dlb::analysis {

// A cell's position in its experiment's matrix (plan/axes.h), wherever the cell came from (a plan
// or the database), and its run.
struct CellCoordinates {
  int64_t run_id = 0;
  plan::AxisValues values;
};

CellCoordinates Coordinates(const plan::Cell& cell, int64_t run_id = 0);

// The cell's value on `axis` (a plan axis name, or "run"): "torch", "bf16", "run 3", "(none)" for a
// missing profile.
std::string AxisValue(const CellCoordinates& c, const std::string& axis);

// Everything that identifies the cell except `axis`. Under a numeric profile the layout is each
// framework's choice, not an axis; comparing profiles leaves precision and layout free as well.
// The run is part of the key except when comparing runs.
std::string KeyWithout(const CellCoordinates& c, const std::string& axis);

// (baseline, other) index pairs: within each group of cells that agree on everything but `axis`,
// the first cell (in the given order) is the baseline A, and every later cell with a different
// value on the axis is a B. Groups appear in the order of their first cell.
std::vector<std::pair<size_t, size_t>> PairAlong(const std::vector<CellCoordinates>& cells,
                                                 const std::string& axis);

}  // namespace dlb::analysis
