// The job scripts `dlbench slurm submit` hands to Slurm (docs/fleet.md). dlbench keeps no queue of
// its own: a sweep is a job array whose task i runs `dlbench run --shard i/N` into its own database
// on shared storage, and a merge job that Slurm starts when the array has ended. The scripts are
// written to the sweep's directory and kept there, so what ran can be read and rerun by hand.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dlb::run {

struct SlurmSweep {
  std::string name;        // the experiment's, for the job names
  std::string dlbench;     // absolute path of the dlbench binary the nodes run
  std::string experiment;  // absolute path of the experiment file (the sweep's own copy)
  std::string dir;         // absolute: the sweep's directory on shared storage
  std::string sweep_id;
  int shards = 1;
  std::vector<std::string> run_args;  // more `dlbench run` arguments (--filter, --python)
  // #SBATCH requests; empty or 0: not asked.
  std::string partition, account, time;
  int gpus_per_task = 0;
  int array_parallelism = 0;
  std::vector<std::string> sbatch;  // extra options, one line each
};

// POSIX shell single quoting: the text stays one word, whatever it holds.
std::string ShellQuote(std::string_view text);

// DIR/shards/shard-I.db
std::string ShardDbPath(const std::string& dir, int shard);
std::string MergedDbPath(const std::string& dir);

// The job array: task $SLURM_ARRAY_TASK_ID runs its shard. A shard database left by an earlier try
// of the same task (killed, failed) is moved aside first, to shard-I.db.before-job-JOB (JOB: the
// job that replaced it), since one shard is one run.
std::string ArrayScript(const SlurmSweep& s);
// The merge job: every shard database present, merged afresh into DIR/merged.db.
std::string MergeScript(const SlurmSweep& s);

// sbatch --array's value for some shards: "0-3", "1,4" with "%K" when array_parallelism is set.
std::string ArraySpec(const std::vector<int>& shards, int array_parallelism);

}  // namespace dlb::run
