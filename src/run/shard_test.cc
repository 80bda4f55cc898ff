// Pins the split of a plan into shards: every task in exactly one shard, with its place in the
// whole plan's order and its cell's index; compared cells stay together; the split is balanced by
// the built-in cost and the same on every call (every host computes it alone).
#include "run/shard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "plan/expand.h"
#include "plan/parse.h"
#include "run/golden_capabilities.h"

namespace dlb::run {
namespace {

plan::Plan PlanOf(const std::string& matrix, const std::string& order = "shuffled") {
  return plan::Expand(ParseWithGoldenWorkers("[experiment]\nname = \"s\"\nrepetitions = 3\norder = \"" +
                                                order + "\"\ncompare_by = \"framework\"\n[matrix]\n" + matrix,
                                            "s.toml"),
                      {});
}

TEST(ParseShard, ZeroBasedIndexOfCount) {
  ASSERT_TRUE(ParseShard("0/1"));
  EXPECT_EQ(ParseShard("2/4")->index, 2);
  EXPECT_EQ(ParseShard("2/4")->count, 4);
  for (const char* bad : {"4/4", "-1/4", "1/0", "1", "a/b", "1/", "/2", "1/5000"}) {
    EXPECT_FALSE(ParseShard(bad)) << bad;
  }
}

TEST(SelectShard, EveryTaskOnceInItsWholePlanPlace) {
  plan::Plan whole = PlanOf("framework = \"synthetic\"\nmodel = \"synthetic\"\nbatch = [1, 2, 3, 4, 5]\n");
  std::vector<std::pair<int, plan::Task>> seen;  // (cell_idx, task in whole-plan terms)
  for (int i = 0; i < 3; ++i) {
    plan::Plan p = SelectShard(whole, {i, 3});
    for (const auto& t : p.tasks) {
      const plan::Cell& c = p.cells[static_cast<size_t>(t.cell_idx)];
      ASSERT_GE(t.order_idx, 0);
      const plan::Task& w = whole.tasks[static_cast<size_t>(t.order_idx)];
      EXPECT_EQ(w.cell_idx, c.cell_idx);  // the cell keeps its index in the whole plan
      EXPECT_EQ(w.rep_idx, t.rep_idx);
      seen.push_back({c.cell_idx, t});
    }
  }
  EXPECT_EQ(seen.size(), whole.tasks.size());
  std::set<int> orders;
  for (const auto& [cell, t] : seen) orders.insert(t.order_idx);
  EXPECT_EQ(orders.size(), whole.tasks.size());
}

TEST(AssignShards, ComparedCellsStayTogetherAndTheSplitIsBalanced) {
  // 2 frameworks x 4 batches: 4 groups of equal cost for 2 shards -> 2 groups (4 cells) each.
  plan::Plan whole = PlanOf("framework = [\"torch\", \"jax\"]\nmodel = \"resnet18\"\nbatch = [1, 2, 4, 8]\n");
  std::vector<int> shard = AssignShards(whole, 2);
  ASSERT_EQ(shard.size(), 8u);
  for (size_t i = 0; i < whole.cells.size(); ++i) {
    for (size_t j = 0; j < whole.cells.size(); ++j) {
      if (whole.cells[i].batch == whole.cells[j].batch) {
        EXPECT_EQ(shard[i], shard[j]);
      }
    }
  }
  EXPECT_EQ(std::count(shard.begin(), shard.end(), 0), 4);
  EXPECT_EQ(AssignShards(whole, 2), shard);  // the same split every time
}

TEST(AssignShards, ACostlyGroupGetsAShardOfItsOwn) {
  // A torch worker costs seconds to start and load; a synthetic one a fraction of a second.
  plan::Plan whole = plan::Expand(ParseWithGoldenWorkers(R"(
[experiment]
name = "s"
repetitions = 2
[matrix]
framework = ["torch", "synthetic"]
model = ["resnet50", "synthetic"]
batch = [1, 2, 3]
[sampling]
min_time_s = 0.1
max_time_s = 0.2
window_min_time_s = 0
)", "s.toml"), {});
  std::vector<int> shard = AssignShards(whole, 2);
  int torch_shard = -1;
  for (size_t i = 0; i < whole.cells.size(); ++i) {
    if (whole.cells[i].framework == "torch" && whole.cells[i].batch == 1) torch_shard = shard[i];
  }
  for (size_t i = 0; i < whole.cells.size(); ++i) {
    if (whole.cells[i].framework == "synthetic") {
      EXPECT_NE(shard[i], torch_shard) << i;
    }
  }
}

TEST(SelectShard, MoreShardsThanGroupsLeavesSomeEmpty) {
  plan::Plan whole = PlanOf("framework = \"synthetic\"\nmodel = \"synthetic\"\nbatch = [1]\n");
  EXPECT_EQ(SelectShard(whole, {0, 2}).cells.size() + SelectShard(whole, {1, 2}).cells.size(), 1u);
}

TEST(DefaultSweepId, SameForTheSamePartsDifferentOtherwise) {
  plan::Plan whole = PlanOf("framework = \"synthetic\"\nmodel = \"synthetic\"\nbatch = [1]\n");
  EXPECT_EQ(DefaultSweepId(whole, {}, 2), DefaultSweepId(whole, {}, 2));
  EXPECT_NE(DefaultSweepId(whole, {}, 2), DefaultSweepId(whole, {}, 3));
  EXPECT_NE(DefaultSweepId(whole, {}, 2), DefaultSweepId(whole, {"batch=1"}, 2));
  EXPECT_TRUE(ValidSweepId(DefaultSweepId(whole, {}, 2)));
  EXPECT_FALSE(ValidSweepId("a b"));
  EXPECT_FALSE(ValidSweepId(""));
}

}  // namespace
}  // namespace dlb::run
