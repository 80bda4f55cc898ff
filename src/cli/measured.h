// Every measured configuration in one or more databases, for the commands that look across runs
// and hosts (`db`, `recommend`, `predict`): each ok cell with its run (the provenance) and its
// per-repetition values, the unit every comparison uses. The databases are opened read-only.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analysis/decide.h"
#include "store/query.h"

namespace dlb::cli {

struct MeasuredCell {
  std::string db;  // the path as given
  store::RunRow run;
  store::CellRow cell;
  std::string device_name;         // from the worker's hello ("NVIDIA H100 80GB HBM3"), or ""
  std::vector<double> latency_ns;  // per ok repetition: the median of its steady samples
  std::vector<double> energy_j;    // per ok repetition with energy windows: mean J per sample
};

// Cells that succeeded (ok or partial) with at least one repetition, in database, run, cell order.
std::vector<MeasuredCell> LoadMeasured(const std::vector<std::string>& dbs);

// The axes a filter and a combination know: plan/axes.h's, and host.
std::vector<std::string> MeasuredAxes();
// A cell's value on one of MeasuredAxes().
std::string ValueOn(const MeasuredCell& m, const std::string& axis);

// "--where axis=value" (and --model, --device, --framework as shorthands): the cells that match
// every filter. A device filter also matches the worker's device name by substring ("H100").
// Throws UserError naming the allowed axes.
struct Filter {
  std::string axis, value;
};
Filter ParseWhere(const std::string& text);
std::vector<MeasuredCell> Select(std::vector<MeasuredCell> cells, const std::vector<Filter>& filters);

// What identifies a configuration across runs and hosts: every axis and the host; the device with
// its name, so two different GPUs called "cuda" stay apart. `without` leaves axes out.
std::string CombinationKey(const MeasuredCell& m, const std::vector<std::string>& without = {});

// "torch resnet50 bs8 fp32 cpu {profile}" with the host.
std::string Label(const MeasuredCell& m);
// "results.db run 3 (2026-11-26, host vm)"
std::string Provenance(const MeasuredCell& m);

// The cell as recommend weighs it (analysis/decide.h).
analysis::Candidate CandidateOf(const MeasuredCell& m);

// Throughput per repetition (batch / median latency), samples/s.
std::vector<double> ThroughputPerRepetition(const MeasuredCell& m);

// `dlbench recommend`'s answer in sentences, for the report's opening (cli/recommend.cc). Throws
// UserError on a bad objective or constraint.
std::vector<std::string> RecommendSentences(const std::vector<MeasuredCell>& cells,
                                            const std::string& objective,
                                            const std::vector<std::string>& constraints,
                                            const analysis::CompareOptions& options);

}  // namespace dlb::cli
