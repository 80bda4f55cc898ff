// The terminal summary of a run: one row per cell, then side-by-side framework ratios. Tail
// percentiles are printed only with enough samples (p90 >= 64, p99 >= 662; METHODOLOGY §1,
// MLPerf early stopping); below that the cell says so rather than print a number.
#pragma once

#include <string>
#include <vector>

#include "store/query.h"

namespace dlb::report {

std::string CellTable(const std::vector<store::CellRow>& cells);

// "fp32", or "fp32 {fp32-strict}" when a numeric profile set the precision: the precision column of
// every table that compares cells, so rows of different profiles never look alike.
std::string PrecisionLabel(const std::string& precision, const std::string& profile);

// "outputs agree" lines for validations recorded with a run; empty when there are none.
std::string ValidationSummary(const std::vector<store::ValidationRow>& rows);

// One line per cell that did not succeed: status, message.
std::string Problems(const std::vector<store::CellRow>& cells);

}  // namespace dlb::report
