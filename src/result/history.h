// Earlier repetitions of a plan's cells on this host, as the store reads them for the estimator
// (run/estimate.h).
#pragma once

#include <map>
#include <optional>

namespace dlb::result {

// Earlier repetitions of one cell on this host, with the same resolved settings (sampling, options,
// environment): medians of whole-repetition wall times.
struct CellHistory {
  std::optional<double> first_s;  // repetitions that were their cell's first
  std::optional<double> later_s;  // the others
  int repetitions = 0;
};
using History = std::map<int, CellHistory>;  // by the plan's cell index

}  // namespace dlb::result
