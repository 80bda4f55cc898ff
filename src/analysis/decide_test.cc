// Constraints and recommendations: a constraint parses to the field's own unit or fails with one
// line naming the field and the allowed values; the best configuration is chosen by the geometric
// mean of its per-repetition values, compared with the runner-up over repetitions, and a runner-up
// that cannot be told apart wins when it is cheaper or simpler.
#include "analysis/decide.h"

#include <gtest/gtest.h>

#include <cmath>

#include "util/error.h"

namespace dlb::analysis {
namespace {

std::string ErrorOf(const std::string& text) {
  try {
    ParseConstraint(text);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(ParseConstraint, ReadsFieldOperatorValueAndUnit) {
  Constraint k = ParseConstraint("p99 < 20ms");
  EXPECT_EQ(k.field, "p99");
  EXPECT_EQ(k.op, "<");
  EXPECT_DOUBLE_EQ(k.value, 20e6);
  EXPECT_DOUBLE_EQ(ParseConstraint("memory<=16GiB").value, 16.0 * 1073741824.0);
  EXPECT_DOUBLE_EQ(ParseConstraint("throughput >= 1000").value, 1000);
  EXPECT_EQ(ParseConstraint("batch > 4").op, ">");
}

TEST(ParseConstraint, ErrorsNameTheFieldAndTheAllowedValues) {
  EXPECT_EQ(ErrorOf("p98 < 20ms"),
            "--constraint 'p98 < 20ms': field \"p98\": allowed: p50, p90, p99, latency, memory, "
            "throughput, energy, cost, batch (did you mean \"p90\"?)");
  EXPECT_NE(ErrorOf("p99 < 20").find("unit \"\" for p99: allowed: ns, us, µs, ms, s"), std::string::npos);
  EXPECT_NE(ErrorOf("memory < 16Gb").find("allowed: B, KiB, MiB, GiB, KB, MB, GB"), std::string::npos);
  EXPECT_NE(ErrorOf("p99 20ms").find("no comparison"), std::string::npos);
  EXPECT_NE(ErrorOf("p99 < fast").find("is not a number"), std::string::npos);
  EXPECT_NE(ErrorOf("batch < 8x").find("it takes a plain number"), std::string::npos);
}

TEST(ParsePrice, NeedsDeviceAndPositivePrice) {
  EXPECT_EQ(ParsePrice("cuda=2.5"), (std::pair<std::string, double>{"cuda", 2.5}));
  EXPECT_THROW(ParsePrice("cuda"), UserError);
  EXPECT_THROW(ParsePrice("=3"), UserError);
  EXPECT_THROW(ParsePrice("cpu=-1"), UserError);
}

TEST(GeometricMeanFigure, IsStudentsIntervalOnTheLogs) {
  // logs 0 and log 4: mean log 2 = 0.693..., s = 0.980..., t(1, 0.975) = 12.706
  auto f = GeometricMeanFigure(std::vector<double>{1, 4});
  ASSERT_TRUE(f && f->ci);
  EXPECT_DOUBLE_EQ(f->value, 2);
  EXPECT_NEAR(std::log(f->ci->hi / 2), 12.7062047361747 * std::log(4) / std::sqrt(2) / std::sqrt(2), 1e-9);
  EXPECT_FALSE(GeometricMeanFigure(std::vector<double>{3})->ci);
  EXPECT_FALSE(GeometricMeanFigure(std::vector<double>{}));
}

Candidate Make(const std::string& label, int64_t batch, std::vector<double> latency_ns,
               double memory_bytes) {
  Candidate c;
  c.label = label;
  c.batch = batch;
  c.precision = "fp32";
  c.latency_ns = std::move(latency_ns);
  c.memory_bytes = memory_bytes;
  return c;
}

TEST(Recommend, BestBeatsRunnerUpSignificantly) {
  // throughput: bs8 at 4 ms = 2000/s against bs1 at 1 ms = 1000/s
  std::vector<Candidate> c = {Make("small", 1, {1.00e6, 1.01e6, 0.99e6}, 1e9),
                              Make("large", 8, {4.00e6, 4.04e6, 3.96e6}, 2e9)};
  auto rec = Recommend(c, Objective::kThroughput, {}, {});
  EXPECT_EQ(rec.ranked, (std::vector<size_t>{1, 0}));
  ASSERT_TRUE(rec.chosen);
  EXPECT_EQ(*rec.chosen, 1u);
  EXPECT_EQ(rec.why, "it beats the runner-up significantly");
}

// Not told apart is not a tie: with the interval reaching across the band, the best measured stays
// and the answer says that it is not yet decided and what would decide it.
TEST(Recommend, UndecidedKeepsTheBestAndSaysWhatWouldDecide) {
  // 1000/s against about 910/s, each side scattering 10%: no verdict after 3 repetitions each.
  std::vector<Candidate> c = {Make("large", 8, {8.00e6, 8.8e6, 7.2e6}, 2e9),
                              Make("small", 4, {4.4e6, 4.84e6, 3.96e6}, 1e9)};
  auto rec = Recommend(c, Objective::kThroughput, {}, {});
  ASSERT_TRUE(rec.chosen && rec.best_vs_runner_up);
  EXPECT_EQ(rec.ranked[0], 0u);
  EXPECT_EQ(rec.best_vs_runner_up->kind, VerdictKind::kUndecided);
  EXPECT_EQ(*rec.chosen, 0u);
  EXPECT_FALSE(rec.decided);
  EXPECT_NE(rec.why.find("the choice is not yet decided"), std::string::npos) << rec.why;
  EXPECT_NE(rec.why.find("repetitions of each would decide it"), std::string::npos) << rec.why;
  EXPECT_EQ(rec.why.find("less memory"), std::string::npos) << rec.why;
}

TEST(Recommend, RunnerUpShownEquivalentWinsWhenSimpler) {
  // 1000 samples/s each (bs8 at 8 ms, bs4 at 4 ms), scattering 0.05%: equivalent within ±1%.
  std::vector<Candidate> c = {Make("large", 8, {7.996e6, 8.0e6, 8.004e6, 7.998e6, 8.002e6}, 2e9),
                              Make("small", 4, {4.0e6, 4.002e6, 3.998e6, 4.001e6, 3.999e6}, 1e9)};
  auto rec = Recommend(c, Objective::kThroughput, {}, {});
  ASSERT_TRUE(rec.chosen && rec.best_vs_runner_up);
  EXPECT_EQ(rec.best_vs_runner_up->kind, VerdictKind::kEquivalent);
  EXPECT_TRUE(rec.decided);
  EXPECT_EQ(*rec.chosen, 1u);
  EXPECT_NE(rec.why.find("equivalent to it within ±1%, and it needs less memory"), std::string::npos)
      << rec.why;
}

TEST(Recommend, ConstraintsExcludeWithTheReason) {
  Candidate fast = Make("fast", 8, {4e6, 4e6}, 20.0 * 1073741824.0);
  Candidate no_tail = Make("no tail", 1, {1e6, 1e6}, 1e9);
  Candidate ok = Make("ok", 1, {2e6, 2e6}, 1e9);
  ok.p99_ns = 3e6;
  auto rec = Recommend({fast, no_tail, ok}, Objective::kThroughput,
                       {ParseConstraint("memory < 16GiB"), ParseConstraint("p99 < 20ms")}, {});
  EXPECT_EQ(rec.excluded.at(0), "fails memory < 16GiB");
  EXPECT_EQ(rec.excluded.at(1), "p99 < 20ms: no p99 (needs 662 samples)");
  ASSERT_TRUE(rec.chosen);
  EXPECT_EQ(*rec.chosen, 2u);
}

TEST(Recommend, NothingFeasibleSaysWhichConstraintExcludedHowMany) {
  Candidate a = Make("a", 8, {4e6, 4e6}, 20.0 * 1073741824.0);
  Candidate b = Make("b", 1, {1e6, 1e6}, 20.0 * 1073741824.0);
  Candidate c = Make("c", 1, {2e6, 2e6}, 1e9);
  auto rec = Recommend({a, b, c}, Objective::kThroughput,
                       {ParseConstraint("memory < 16GiB"), ParseConstraint("p99 < 20ms")}, {});
  EXPECT_FALSE(rec.chosen);
  EXPECT_EQ(rec.why, "no configuration meets every constraint: fails memory < 16GiB (2 of 3); "
                     "p99 < 20ms: no p99 (needs 662 samples) (1 of 3)");
}

TEST(Recommend, CostNeedsAPrice) {
  Candidate gpu = Make("gpu", 8, {1e6, 1e6}, 1e9);
  gpu.usd_per_hour = 3.6;  // 8000 samples/s: 28.8e6 samples an hour, 0.125 USD per million
  Candidate cpu = Make("cpu", 8, {8e6, 8e6}, 1e9);
  auto rec = Recommend({gpu, cpu}, Objective::kCost, {}, {});
  EXPECT_EQ(rec.excluded.at(1), "no --price for its device");
  EXPECT_NEAR(ObjectiveValues(gpu, Objective::kCost)[0], 0.125, 1e-12);
}

}  // namespace
}  // namespace dlb::analysis
