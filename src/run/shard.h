// One experiment split over many machines: `dlbench run --shard i/n` runs part i of n of the plan
// (docs/fleet.md). Every host must split the plan the same way without talking to the others, so
// the split reads only the plan: the built-in per-phase costs (never a host's own history, which
// differs between hosts), with the energy phase left out because whether it runs depends on the
// host's counters. Cells the experiment compares with each other (they agree on every axis but
// compare_by) go to one shard together, so that the shard can run a precision target's second
// stage from their first stage, as a single run would.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plan/experiment.h"

namespace dlb::run {

struct Shard {
  int index = 0;  // 0-based, as Slurm numbers array tasks
  int count = 1;
};

// "i/n" with 0 <= i < n <= 4096; nullopt otherwise.
std::optional<Shard> ParseShard(const std::string& text);

// The shard of each cell, by Plan::cells position: the comparison groups, costliest first, each to
// the shard with the least estimated time so far (ties: the lower shard), which keeps the largest
// shard within one group's cost of the mean (Graham's LPT rule).
std::vector<int> AssignShards(const plan::Plan& plan, int count);

// The plan of one shard: its cells (keeping their cell_idx, so merged shards number cells as one
// run would) and their tasks in the whole plan's order, each with its place in that order.
plan::Plan SelectShard(const plan::Plan& plan, const Shard& shard);

// The default name of a sweep: a hash of what makes its shards parts of one whole (the experiment
// file's text, the filters and the shard count), so that `run --shard i/n` on many hosts agrees
// without being told. Two sweeps of the same file need different names (--sweep).
std::string DefaultSweepId(const plan::Plan& whole, const std::vector<std::string>& filters, int count);

// A sweep name given by hand: 1-64 of [A-Za-z0-9._-].
bool ValidSweepId(const std::string& id);

}  // namespace dlb::run
