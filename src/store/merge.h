// Many databases into one: the shards of a sweep run on many hosts (dlbench run --shard), or any
// runs at all. A run is known by its run_uuid wherever it goes, so merging the same file twice adds
// nothing, and the order of the files changes nothing but run ids. Every row of a run comes along
// as it was stored (its host, host facts, command line, version, samples and summaries), with the
// file it came from (runs.merged_from). Two different versions of one run, or two runs that both
// claim the same shard of a sweep, are refused before anything is written: which one is right is
// the user's call, not the merge's.
#pragma once

#include <string>
#include <vector>

#include "store/store.h"

namespace dlb::store {

struct MergeSummary {
  int runs_added = 0;
  int runs_already_there = 0;
  std::vector<std::string> lines;     // one per run: what happened to it
  std::vector<std::string> warnings;  // incomplete runs, sweeps with shards missing
};

// Reads each source read-only (Store::OpenExisting) and copies every run the target does not have,
// in one transaction. Throws UserError naming the runs and files of a conflict, and for a source
// that is the target itself.
MergeSummary MergeFiles(Store& target, const std::vector<std::string>& sources);

}  // namespace dlb::store
