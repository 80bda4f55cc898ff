// Pins the Slurm job scripts: the array asks for what it was given and nothing else, every path and
// argument stays one shell word whatever it holds, and the array spec names ranges.
#include "run/slurm.h"

#include <gtest/gtest.h>

namespace dlb::run {
namespace {

SlurmSweep Sweep() {
  SlurmSweep s;
  s.name = "study";
  s.dlbench = "/opt/dl bench/dlbench";
  s.experiment = "/scratch/it's/experiment.toml";
  s.dir = "/scratch/sweeps/s1";
  s.sweep_id = "study-1234";
  s.shards = 4;
  return s;
}

TEST(ShellQuote, OneWordWhateverItHolds) {
  EXPECT_EQ(ShellQuote("plain"), "'plain'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote("$(rm -rf /) `x` \"y\""), "'$(rm -rf /) `x` \"y\"'");
}

TEST(ArraySpec, RangesAndParallelism) {
  EXPECT_EQ(ArraySpec({0, 1, 2, 3}, 0), "0-3");
  EXPECT_EQ(ArraySpec({1, 4, 5, 7}, 2), "1,4-5,7%2");
  EXPECT_EQ(ArraySpec({3}, 0), "3");
}

TEST(ArrayScript, AsksOnlyForWhatWasGiven) {
  SlurmSweep s = Sweep();
  std::string plain = ArrayScript(s);
  EXPECT_NE(plain.find("#SBATCH --array=0-3\n"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("--partition"), std::string::npos);
  EXPECT_EQ(plain.find("--gpus-per-task"), std::string::npos);
  EXPECT_NE(plain.find("exec '/opt/dl bench/dlbench' run '/scratch/it'\\''s/experiment.toml' --shard "
                       "\"$shard/4\" --sweep 'study-1234' --db \"$db\" -q\n"),
            std::string::npos)
      << plain;
  s.partition = "gpu";
  s.gpus_per_task = 1;
  s.time = "01:00:00";
  s.account = "lab";
  s.array_parallelism = 2;
  s.sbatch = {"--qos=high"};
  s.run_args = {"--filter", "batch=1"};
  std::string full = ArrayScript(s);
  for (const char* line : {"#SBATCH --array=0-3%2\n", "#SBATCH --partition=gpu\n",
                           "#SBATCH --gpus-per-task=1\n", "#SBATCH --time=01:00:00\n",
                           "#SBATCH --account=lab\n", "#SBATCH --qos=high\n",
                           "-q '--filter' 'batch=1'\n"}) {
    EXPECT_NE(full.find(line), std::string::npos) << line;
  }
}

TEST(MergeScript, MergesEveryShardAfresh) {
  std::string m = MergeScript(Sweep());
  EXPECT_NE(m.find("shards=(\"$dir\"/shards/shard-*.db)"), std::string::npos);
  EXPECT_NE(m.find("'/opt/dl bench/dlbench' merge \"$tmp\" \"${shards[@]}\""), std::string::npos) << m;
  EXPECT_NE(m.find("mv -- \"$tmp\" \"$dir/merged.db\""), std::string::npos);
}

}  // namespace
}  // namespace dlb::run
