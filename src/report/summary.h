// The terminal summary of a run: one row per cell, then side-by-side framework ratios. Tail
// percentiles are printed only with enough samples (p90 >= 64, p99 >= 662; methodology rule 6,
// MLPerf early stopping); below that the cell says so rather than print a number.
#pragma once

#include <string>
#include <vector>

#include "store/query.h"

namespace dlb::report {

std::string CellTable(const std::vector<store::CellRow>& cells);

// "torch resnet50 bs8 fp32 cpu", then the profile, workload, layout, variant and environment where
// not the defaults: plan::CellLabel, the name the run's progress line gives the same cell, and the
// first column of every per-cell table (an inference and a training cell of one configuration get
// rows of their own).
std::string CellName(const store::CellRow& c);

// "fp32", or "fp32 {fp32-strict}" when a numeric profile set the precision: the precision column of
// every table that compares cells, so rows of different profiles never look alike.
std::string PrecisionLabel(const std::string& precision, const std::string& profile);

// Training on a real dataset: per cell that trained on one, the two columns of a training table,
// time per epoch and accuracy after the last epoch, with the epochs and the dataset. Empty when
// no cell has a dataset.
std::string DatasetTable(const std::vector<store::CellRow>& cells);

// "outputs agree" lines for validations recorded with a run; empty when there are none.
std::string ValidationSummary(const std::vector<store::ValidationRow>& rows);

// One line per cell that did not succeed (status, message) or did not run all its repetitions.
std::string Problems(const std::vector<store::CellRow>& cells);

// For a cell whose run ended before all its planned repetitions ran: "repetitions 2 to 3 of 3
// never ran" (rep_idx counts from 0, this from 1). Empty otherwise: for a run that completed, and
// for an unsupported cell, which stops after its first repetition by design.
std::string NeverRan(const store::CellRow& c);

// The cell's status as the tables show it: "incomplete" for an ok or partial cell with
// repetitions that never ran, "not run" for one with none; else the stored status.
std::string ShownStatus(const store::CellRow& c);

}  // namespace dlb::report
