#include "serve/sweep.h"

#include <gtest/gtest.h>

#include <random>

namespace dlb::serve {
namespace {

// A distribution whose p99 is `value` with the 95% interval [lo, hi].
Distribution WithP99(double lo, double value, double hi) {
  Distribution d;
  d.n = 1000;
  d.quantiles = {{0.5, value / 2, value / 3, value, ""}, {0.9, value, lo, hi, ""}, {0.99, value, lo, hi, ""}};
  return d;
}

LoadMetrics Metrics(Distribution ttft, Distribution tpot) {
  LoadMetrics m;
  m.measured = m.ok = 1000;
  m.ttft_due_s = std::move(ttft);
  m.tpot_s = std::move(tpot);
  return m;
}

const Slo kBoth{0.100, 0.020};

TEST(SweepJudge, TheIntervalDecidesNotThePointEstimate) {
  // Upper bound under the limit: meets.
  EXPECT_EQ(JudgeP99("TTFT", WithP99(0.05, 0.07, 0.09), 0.1).verdict, Verdict::kMeets);
  // Upper bound exactly at the limit still keeps it.
  EXPECT_EQ(JudgeP99("TTFT", WithP99(0.05, 0.07, 0.1), 0.1).verdict, Verdict::kMeets);
  // Lower bound over the limit: fails.
  EXPECT_EQ(JudgeP99("TTFT", WithP99(0.11, 0.15, 0.2), 0.1).verdict, Verdict::kFails);
  // The point estimate is under the limit but the interval reaches over it: undecided, not meets.
  const LimitVerdict straddle = JudgeP99("TTFT", WithP99(0.08, 0.09, 0.12), 0.1);
  EXPECT_EQ(straddle.verdict, Verdict::kUndecided);
  EXPECT_EQ(straddle.why, "interval contains the limit");
  // And over the limit with the interval reaching under it: undecided, not fails.
  EXPECT_EQ(JudgeP99("TTFT", WithP99(0.09, 0.11, 0.12), 0.1).verdict, Verdict::kUndecided);
}

TEST(SweepJudge, TooFewValuesForAP99IsUndecidedWithTheReason) {
  // 100 values far under the limit: Describe gives no p99 below 662 values, and the verdict does not
  // fall back to the point estimate.
  std::vector<double> v(100, 0.001);
  const LimitVerdict l = JudgeP99("TTFT", Describe(v), 0.1);
  EXPECT_EQ(l.verdict, Verdict::kUndecided);
  EXPECT_EQ(l.why, "n<662");
  EXPECT_EQ(JudgeP99("TPOT", Describe({}), 0.1).why, "no values");
}

TEST(SweepJudge, AReal662SampleIsDecided) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.001, 0.002);
  std::vector<double> v(662);
  for (double& x : v) x = u(rng);
  EXPECT_EQ(JudgeP99("TTFT", Describe(v), 0.010).verdict, Verdict::kMeets);
  EXPECT_EQ(JudgeP99("TTFT", Describe(v), 0.0005).verdict, Verdict::kFails);
}

TEST(SweepJudge, ARateMeetsOnlyWhenEveryLimitMeets) {
  const RateVerdict ok = JudgeRate(10, Metrics(WithP99(0.01, 0.02, 0.03), WithP99(0.001, 0.002, 0.003)), kBoth);
  EXPECT_EQ(ok.verdict, Verdict::kMeets);
  ASSERT_EQ(ok.limits.size(), 2u);
  EXPECT_EQ(ok.limits[0].metric, "TTFT");
  EXPECT_EQ(ok.limits[1].metric, "TPOT");
  EXPECT_EQ(ok.why, "");

  // TTFT meets, TPOT fails: the rate fails, and says which.
  const RateVerdict bad = JudgeRate(10, Metrics(WithP99(0.01, 0.02, 0.03), WithP99(0.03, 0.04, 0.05)), kBoth);
  EXPECT_EQ(bad.verdict, Verdict::kFails);
  EXPECT_EQ(bad.why, "TPOT");

  // One undecided, one meets: undecided. One fails, one undecided: fails.
  const RateVerdict open = JudgeRate(10, Metrics(Describe({0.01}), WithP99(0.001, 0.002, 0.003)), kBoth);
  EXPECT_EQ(open.verdict, Verdict::kUndecided);
  EXPECT_EQ(open.why, "TTFT n<662");
  EXPECT_EQ(JudgeRate(10, Metrics(Describe({0.01}), WithP99(0.03, 0.04, 0.05)), kBoth).verdict, Verdict::kFails);

  // Only the limits that are set are judged.
  const RateVerdict ttft_only = JudgeRate(10, Metrics(WithP99(0.01, 0.02, 0.03), Describe({})), Slo{0.1, {}});
  EXPECT_EQ(ttft_only.verdict, Verdict::kMeets);
  EXPECT_EQ(ttft_only.limits.size(), 1u);
}

TEST(SweepJudge, FailedRequestsKeepARateFromMeeting) {
  LoadMetrics m = Metrics(WithP99(0.01, 0.02, 0.03), WithP99(0.001, 0.002, 0.003));
  m.failed = 3;
  const RateVerdict r = JudgeRate(10, m, kBoth);
  EXPECT_EQ(r.verdict, Verdict::kUndecided);
  EXPECT_EQ(r.why, "3 requests failed");
}

RateVerdict At(double rate, Verdict v, std::string why = "") {
  RateVerdict r;
  r.rate = rate;
  r.verdict = v;
  r.why = std::move(why);
  return r;
}
constexpr Verdict M = Verdict::kMeets, F = Verdict::kFails, U = Verdict::kUndecided;

TEST(SweepAnswer, TheLargestRateBeforeTheFirstFailure) {
  const std::vector<RateVerdict> rates = {At(100, M), At(200, M), At(400, F, "TTFT"), At(800, F, "TTFT")};
  const SweepAnswer a = Answer(rates);
  EXPECT_TRUE(a.decided());
  EXPECT_EQ(*a.at_least, 200);
  EXPECT_FALSE(a.highest_run);
  EXPECT_EQ(a.text, "200 requests/s (400 fails: TTFT)");
}

TEST(SweepAnswer, EveryRateMeets) {
  const std::vector<RateVerdict> rates = {At(100, M), At(200, M)};
  const SweepAnswer a = Answer(rates);
  EXPECT_TRUE(a.decided());
  EXPECT_EQ(*a.at_least, 200);
  EXPECT_TRUE(a.highest_run);
  EXPECT_EQ(a.text, "200 requests/s, the highest rate run (a higher one was not tried)");
}

TEST(SweepAnswer, NoRateMet) {
  const std::vector<RateVerdict> rates = {At(100, F, "TPOT"), At(200, F, "TPOT")};
  const SweepAnswer a = Answer(rates);
  EXPECT_FALSE(a.at_least);
  EXPECT_FALSE(a.at_most);
  EXPECT_EQ(a.text, "no rate met the limits (100 fails: TPOT)");
}

TEST(SweepAnswer, NonMonotoneRatesAboveAFailureDoNotCount) {
  // 300 meets again after 200 failed: the answer stays 100, and the text says why 300 is left out.
  const std::vector<RateVerdict> rates = {At(100, M), At(200, F, "TTFT"), At(300, M)};
  const SweepAnswer a = Answer(rates);
  EXPECT_TRUE(a.decided());
  EXPECT_EQ(*a.at_least, 100);
  EXPECT_EQ(a.text, "100 requests/s (200 fails: TTFT); 300 met above a failing rate and is not counted");
}

TEST(SweepAnswer, UndecidedRatesBoundTheAnswer) {
  // 200 undecided, 400 meets, 800 fails: the answer is 100 if 200 does not meet, 400 if it does.
  const std::vector<RateVerdict> rates = {At(100, M), At(200, U, "TTFT interval contains the limit"), At(400, M),
                                          At(800, F, "TTFT")};
  const SweepAnswer a = Answer(rates);
  EXPECT_FALSE(a.decided());
  EXPECT_EQ(*a.at_least, 100);
  EXPECT_EQ(*a.at_most, 400);
  EXPECT_EQ(a.text, "undecided between 100 and 400 requests/s (200 undecided: TTFT interval contains the limit)");

  // Nothing known to meet: the lower bound is missing, and the text says so.
  const std::vector<RateVerdict> small = {At(50, U, "TTFT n<662"), At(100, U, "TTFT n<662")};
  const SweepAnswer b = Answer(small);
  EXPECT_FALSE(b.decided());
  EXPECT_FALSE(b.at_least);
  EXPECT_EQ(*b.at_most, 100);
  EXPECT_EQ(b.text, "undecided: no rate is known to meet the limits, at most 100 requests/s (50 undecided: TTFT n<662)");

  // An undecided rate below a failure: between the last meeting rate and itself.
  const std::vector<RateVerdict> c = {At(100, M), At(200, U, "TTFT n<662"), At(400, F, "TTFT")};
  EXPECT_EQ(*Answer(c).at_least, 100);
  EXPECT_EQ(*Answer(c).at_most, 200);
}

TEST(SweepAnswer, NoRates) { EXPECT_EQ(Answer({}).text, "no rate was run"); }

}  // namespace
}  // namespace dlb::serve
