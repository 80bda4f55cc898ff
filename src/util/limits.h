// dlbench's limits on what it reads, in one place: each is checked early, in time linear in the
// input, and refused with one line that names the file and the limit (README.md, "Limits").
#pragma once

#include <cstddef>
#include <cstdint>

namespace dlb {

// An experiment file (TOML). Real ones are a few KiB.
inline constexpr size_t kMaxExperimentFileBytes = 4u << 20;

// Cells in a matrix, counted before any --filter, and worker processes (cells x repetitions) in
// one run: each cell and task is held in memory and stored.
inline constexpr int64_t kMaxCells = 100'000;
inline constexpr int64_t kMaxWorkerProcesses = 1'000'000;

// One reply line from a worker (a measure reply holds one number per sample).
inline constexpr size_t kMaxReplyBytes = 256u << 20;

// One input file of `dlbench stats`, and the numbers in it.
inline constexpr size_t kMaxStatsFileBytes = 256u << 20;
inline constexpr size_t kMaxStatsValues = 10'000'000;

}  // namespace dlb
