#include "run/slurm.h"

#include <fmt/format.h>

#include "util/strings.h"

namespace dlb::run {

std::string ShellQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string ShardDbPath(const std::string& dir, int shard) {
  return fmt::format("{}/shards/shard-{}.db", dir, shard);
}

std::string MergedDbPath(const std::string& dir) { return dir + "/merged.db"; }

std::string ArraySpec(const std::vector<int>& shards, int array_parallelism) {
  std::string out;
  // Runs of consecutive shards as ranges: "0-3,5".
  for (size_t i = 0; i < shards.size();) {
    size_t j = i;
    while (j + 1 < shards.size() && shards[j + 1] == shards[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? std::to_string(shards[i]) : fmt::format("{}-{}", shards[i], shards[j]);
    i = j + 1;
  }
  if (array_parallelism > 0) out += fmt::format("%{}", array_parallelism);
  return out;
}

namespace {

std::string Header(const SlurmSweep& s, const std::string& what) {
  std::string h = fmt::format(
      "#!/bin/bash\n"
      "# Written by `dlbench slurm submit` for experiment {} (sweep {}, {} shards): {}.\n"
      "# `dlbench slurm status {}` shows how far it got; `dlbench slurm resume` reruns the shards\n"
      "# that did not finish.\n",
      s.name, s.sweep_id, s.shards, what, s.dir);
  return h;
}

std::string Line(const std::string& option) { return "#SBATCH " + option + "\n"; }

}  // namespace

std::string ArrayScript(const SlurmSweep& s) {
  std::vector<int> all;
  for (int i = 0; i < s.shards; ++i) all.push_back(i);
  std::string out = Header(s, "task i runs shard i into shards/shard-i.db");
  out += Line(fmt::format("--job-name=dlbench-{}", s.name));
  out += Line("--array=" + ArraySpec(all, s.array_parallelism));
  out += Line("--ntasks=1");
  out += Line(fmt::format("--output={}/logs/shard-%a-job-%A.out", s.dir));
  if (!s.partition.empty()) out += Line("--partition=" + s.partition);
  if (!s.account.empty()) out += Line("--account=" + s.account);
  if (!s.time.empty()) out += Line("--time=" + s.time);
  if (s.gpus_per_task > 0) out += Line(fmt::format("--gpus-per-task={}", s.gpus_per_task));
  for (const auto& extra : s.sbatch) out += Line(extra);
  out += "set -euo pipefail\n";
  out += "shard=$SLURM_ARRAY_TASK_ID\n";
  out += fmt::format("db={}/shards/shard-$shard.db\n", ShellQuote(s.dir));
  out += "# An earlier try of this shard is kept aside, not appended to: a shard is one run.\n";
  out += "if [ -e \"$db\" ]; then\n";
  out += "  for suffix in '' -wal -shm; do\n";
  out += "    if [ -e \"$db$suffix\" ]; then mv -- \"$db$suffix\" \"$db.before-job-$SLURM_JOB_ID$suffix\"; fi\n";
  out += "  done\n";
  out += "fi\n";
  std::string args;
  for (const auto& a : s.run_args) args += " " + ShellQuote(a);
  out += fmt::format("exec {} run {} --shard \"$shard/{}\" --sweep {} --db \"$db\" -q{}\n",
                     ShellQuote(s.dlbench), ShellQuote(s.experiment), s.shards,
                     ShellQuote(s.sweep_id), args);
  return out;
}

std::string MergeScript(const SlurmSweep& s) {
  std::string out = Header(s, "merges the shards' databases into merged.db");
  out += Line(fmt::format("--job-name=dlbench-{}-merge", s.name));
  out += Line("--ntasks=1");
  out += Line(fmt::format("--output={}/logs/merge-job-%j.out", s.dir));
  if (!s.partition.empty()) out += Line("--partition=" + s.partition);
  if (!s.account.empty()) out += Line("--account=" + s.account);
  for (const auto& extra : s.sbatch) out += Line(extra);
  out += "set -euo pipefail\n";
  out += "shopt -s nullglob\n";
  out += fmt::format("dir={}\n", ShellQuote(s.dir));
  out += "shards=(\"$dir\"/shards/shard-*.db)\n";
  out += "if [ ${#shards[@]} -eq 0 ]; then echo 'no shard database to merge' >&2; exit 1; fi\n";
  out += "# Merged afresh each time, so that a shard run again replaces its earlier try.\n";
  out += "tmp=\"$dir/merged.db.job-$SLURM_JOB_ID\"\n";
  out += "rm -f -- \"$tmp\" \"$tmp-wal\" \"$tmp-shm\"\n";
  out += fmt::format("{} merge \"$tmp\" \"${{shards[@]}}\"\n", ShellQuote(s.dlbench));
  out += "rm -f -- \"$dir/merged.db-wal\" \"$dir/merged.db-shm\"\n";
  out += "mv -- \"$tmp\" \"$dir/merged.db\"\n";
  return out;
}

}  // namespace dlb::run
