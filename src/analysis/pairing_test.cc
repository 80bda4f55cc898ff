#include "analysis/pairing.h"

#include "plan/experiment.h"

#include <gtest/gtest.h>

namespace dlb::analysis {
namespace {

CellCoordinates Cell(std::string fw, std::string precision, std::string profile = "",
                     std::string layout = "default", int64_t run = 1) {
  plan::Cell c;
  c.framework = std::move(fw);
  c.model = "resnet50";
  c.batch = 8;
  c.precision = std::move(precision);
  c.device = "cpu";
  c.workload = "inference";
  c.layout = std::move(layout);
  c.variant = "default";
  c.environment = "native";
  c.profile = std::move(profile);
  return Coordinates(c, run);
}

using Pairs = std::vector<std::pair<size_t, size_t>>;

TEST(Pairing, FrameworksPairWithinEachPrecision) {
  std::vector<CellCoordinates> cells = {Cell("torch", "fp32"), Cell("jax", "fp32"),
                                        Cell("torch", "bf16"), Cell("jax", "bf16")};
  EXPECT_EQ(PairAlong(cells, "framework"), (Pairs{{0, 1}, {2, 3}}));
  EXPECT_EQ(PairAlong(cells, "precision"), (Pairs{{0, 2}, {1, 3}}));
  EXPECT_TRUE(PairAlong(cells, "variant").empty());
}

TEST(Pairing, TheFirstCellOfAGroupIsTheBaseline) {
  std::vector<CellCoordinates> cells = {Cell("jax", "fp32"), Cell("torch", "fp32"),
                                        Cell("synthetic", "fp32")};
  EXPECT_EQ(PairAlong(cells, "framework"), (Pairs{{0, 1}, {0, 2}}));
}

TEST(Pairing, UnderAProfileTheLayoutIsEachFrameworksChoice) {
  // bf16-tuned: torch channels_last, jax its native layout. Still one pair.
  std::vector<CellCoordinates> cells = {Cell("torch", "bf16", "bf16-tuned", "channels_last"),
                                        Cell("jax", "bf16", "bf16-tuned", "default")};
  EXPECT_EQ(PairAlong(cells, "framework"), (Pairs{{0, 1}}));
  // Without a profile the layout is an axis of its own: different layouts do not pair.
  cells = {Cell("torch", "fp32", "", "channels_last"), Cell("jax", "fp32", "", "default")};
  EXPECT_TRUE(PairAlong(cells, "framework").empty());
}

TEST(Pairing, ProfilesPairAcrossPrecisionsWithinAFramework) {
  std::vector<CellCoordinates> cells = {Cell("torch", "fp32", "fp32-strict"),
                                        Cell("torch", "bf16", "bf16-tuned", "channels_last"),
                                        Cell("jax", "fp32", "fp32-strict")};
  EXPECT_EQ(PairAlong(cells, "profile"), (Pairs{{0, 1}}));
  EXPECT_EQ(AxisValue(cells[1], "profile"), "bf16-tuned");
  EXPECT_EQ(AxisValue(Cell("torch", "fp32"), "profile"), "(none)");
}

TEST(Pairing, RunsPairTheSameCellOnlyWhenComparingRuns) {
  std::vector<CellCoordinates> cells = {Cell("torch", "fp32", "", "default", 1),
                                        Cell("jax", "fp32", "", "default", 1),
                                        Cell("torch", "fp32", "", "default", 2)};
  EXPECT_EQ(PairAlong(cells, "framework"), (Pairs{{0, 1}}));  // run 2's torch has no partner
  EXPECT_EQ(PairAlong(cells, "run"), (Pairs{{0, 2}}));
  EXPECT_EQ(AxisValue(cells[2], "run"), "run 2");
}

}  // namespace
}  // namespace dlb::analysis
