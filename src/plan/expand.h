// Experiment -> Plan: the matrix's cells (filtered) and the order their repetitions run in.
#pragma once

#include <string>
#include <vector>

#include "plan/experiment.h"

namespace dlb::plan {

// One --filter key=value[,value...]: keeps cells whose key takes one of the values.
struct Filter {
  std::string key;
  std::vector<std::string> values;
};

// Throws UserError for an unknown key ("allowed: framework, model, ...") or an empty value.
Filter ParseFilter(const std::string& text);

// Throws UserError if the filters leave no cell.
Plan Expand(const Experiment& experiment, const std::vector<Filter>& filters);

// The order of (cell, repetition) tasks: sequential (each cell's repetitions together),
// interleaved (repetition r of every cell before repetition r+1: ABAB...) or shuffled (a seeded
// permutation that is the same on every machine).
std::vector<Task> OrderTasks(int num_cells, int repetitions, Order order, uint64_t seed);

}  // namespace dlb::plan
