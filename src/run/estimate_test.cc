#include "run/estimate.h"

#include <gtest/gtest.h>

#include "plan/expand.h"

namespace dlb::run {
namespace {

plan::Plan PlanOf(int cells, int min_reps, int max_reps, double min_time, double max_time) {
  plan::Plan p;
  p.experiment.repetitions = min_reps;
  p.experiment.max_repetitions = max_reps;
  for (int i = 0; i < cells; ++i) {
    plan::Cell c;
    c.cell_idx = i;
    c.framework = "synthetic";
    c.model = "synthetic";
    c.batch = 1 + i;
    c.precision = "fp32";
    c.device = "cpu";
    c.workload = "inference";
    c.layout = "default";
    c.variant = "default";
    c.environment = "native";
    c.sampling.min_time_s = min_time;
    c.sampling.max_time_s = max_time;
    c.sampling.window_min_time_s = 0;
    c.energy.windows = 0;
    p.cells.push_back(c);
  }
  return p;
}

TEST(ParseDuration, UnitsAndMistakes) {
  EXPECT_EQ(ParseDuration("8m"), 480);
  EXPECT_EQ(ParseDuration("90s"), 90);
  EXPECT_EQ(ParseDuration("1h30m"), 5400);
  EXPECT_EQ(ParseDuration("45"), 45);
  EXPECT_EQ(ParseDuration("2.5m"), 150);
  for (const char* bad : {"", "0", "-5m", "8x", "m", "1h30", "abc"}) EXPECT_FALSE(ParseDuration(bad)) << bad;
}

TEST(EstimateRun, RangeFromFloorsToCapsAndMaximumRepetitions) {
  plan::Plan p = PlanOf(2, 3, 6, 1.0, 4.0);
  RunEstimate e = EstimateRun(p, {});
  RepetitionCost c = ModelCost(p.cells[0]);
  EXPECT_NEAR(e.low_s, 2 * (c.first_fixed_s + 2 * c.later_fixed_s + 3 * 1.0), 1e-9);
  EXPECT_NEAR(e.high_s, 2 * (c.first_fixed_s + 5 * c.later_fixed_s + 6 * 4.0), 1e-9);
  EXPECT_LT(e.low_s, e.expected_s);
  EXPECT_LT(e.expected_s, e.high_s);
  EXPECT_EQ(e.cells_from_history, 0);
}

TEST(EstimateRun, EarlierRepetitionsOnThisHostReplaceTheModel) {
  plan::Plan p = PlanOf(2, 3, 3, 1.0, 4.0);
  History h;
  h[p.cells[0].cell_idx] = {10.0, 4.0, 7};  // first 10 s, later 4 s
  RunEstimate e = EstimateRun(p, h);
  RunEstimate model_only = EstimateRun(p, {});
  EXPECT_EQ(e.cells_from_history, 1);
  EXPECT_EQ(e.history_repetitions, 7);
  EXPECT_NEAR(e.expected_s - model_only.expected_s, 18.0 - model_only.expected_s / 2, 1e-9);
}

TEST(FitBudget, ShortensCapsThenRefusesBelowTheFloor) {
  plan::Plan p = PlanOf(2, 3, 3, 1.0, 20.0);
  const double roomy = EstimateRun(p, {}).high_s + 1;
  plan::Plan as_is = p;
  BudgetFit fit = FitBudget(as_is, {}, roomy);
  EXPECT_TRUE(fit.fits);
  EXPECT_TRUE(fit.gave_up.empty());
  EXPECT_EQ(as_is.cells[0].sampling.max_time_s, 20.0);

  plan::Plan tight = p;
  const double floor = EstimateRun(PlanOf(2, 3, 3, 1.0, 1.0), {}).high_s;
  fit = FitBudget(tight, {}, (floor + roomy) / 2);
  EXPECT_TRUE(fit.fits);
  ASSERT_EQ(fit.gave_up.size(), 1u);
  EXPECT_NE(fit.gave_up[0].find("max_time_s"), std::string::npos);
  EXPECT_LT(tight.cells[0].sampling.max_time_s, 20.0);
  EXPECT_GE(tight.cells[0].sampling.max_time_s, 1.0);
  EXPECT_LE(EstimateRun(tight, {}).high_s, (floor + roomy) / 2 + 1e-6);

  plan::Plan too_small = p;
  fit = FitBudget(too_small, {}, floor / 2);
  EXPECT_FALSE(fit.fits);
  EXPECT_NEAR(fit.smallest_s, floor, 1e-6);
}

TEST(FitBudget, PrecisionRoundsAreLeftToTheRunsDeadline) {
  plan::Plan p = PlanOf(2, 3, 12, 1.0, 1.0);
  double minimum = EstimateRun(PlanOf(2, 3, 3, 1.0, 1.0), {}).high_s;
  BudgetFit fit = FitBudget(p, {}, minimum + 1);
  EXPECT_TRUE(fit.fits);
  ASSERT_EQ(fit.gave_up.size(), 1u);
  EXPECT_NE(fit.gave_up[0].find("repetitions above the minimum"), std::string::npos);
}

}  // namespace
}  // namespace dlb::run
