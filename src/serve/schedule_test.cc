#include "serve/schedule.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dlb::serve {
namespace {

std::vector<double> Gaps(const std::vector<ScheduledRequest>& s) {
  std::vector<double> g;
  int64_t prev = 0;
  for (const auto& r : s) {
    g.push_back(static_cast<double>(r.due_ns - prev) * 1e-9);
    prev = r.due_ns;
  }
  return g;
}

void MeanAndCv(const std::vector<double>& v, double& mean, double& cv) {
  double s = 0, ss = 0;
  for (double x : v) s += x;
  mean = s / static_cast<double>(v.size());
  for (double x : v) ss += (x - mean) * (x - mean);
  cv = std::sqrt(ss / static_cast<double>(v.size() - 1)) / mean;
}

TEST(Schedule, PoissonGapsHaveTheRateAndCvOne) {
  LoadSpec s;
  s.arrival = Arrival::kPoisson;
  s.rate = 250;
  s.requests = 20000;
  s.seed = 7;
  ASSERT_TRUE(CheckLoadSpec(s).empty());
  double mean = 0, cv = 0;
  MeanAndCv(Gaps(MakeSchedule(s)), mean, cv);
  // Exponential gaps: mean 1/rate, standard error of the mean (1/rate)/sqrt(n); 5 SE is far out.
  EXPECT_NEAR(mean, 1.0 / 250, 5 * (1.0 / 250) / std::sqrt(20000.0));
  EXPECT_NEAR(cv, 1.0, 0.05);
}

TEST(Schedule, GammaBurstinessSetsTheCv) {
  for (double k : {0.25, 4.0}) {
    LoadSpec s;
    s.arrival = Arrival::kGamma;
    s.rate = 100;
    s.burstiness = k;
    s.requests = 20000;
    s.seed = 3;
    double mean = 0, cv = 0;
    MeanAndCv(Gaps(MakeSchedule(s)), mean, cv);
    EXPECT_NEAR(mean, 0.01, 0.01 * 6 / std::sqrt(k * 20000)) << k;
    EXPECT_NEAR(cv, 1 / std::sqrt(k), 0.08 / std::sqrt(k)) << k;
  }
}

TEST(Schedule, SameSeedSameScheduleAndLengthsIndependentOfRate) {
  LoadSpec s;
  s.arrival = Arrival::kPoisson;
  s.rate = 10;
  s.requests = 50;
  s.warmup = 5;
  s.input = {8, 64};
  s.output = {4, 9};
  s.seed = 11;
  const auto a = MakeSchedule(s), b = MakeSchedule(s);
  EXPECT_EQ(a, b);
  s.rate = 1000;
  const auto c = MakeSchedule(s);
  ASSERT_EQ(a.size(), 55u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].input_tokens, c[i].input_tokens);
    EXPECT_EQ(a[i].output_tokens, c[i].output_tokens);
    EXPECT_GE(a[i].input_tokens, 8);
    EXPECT_LE(a[i].input_tokens, 64);
    EXPECT_GE(a[i].output_tokens, 4);
    EXPECT_LE(a[i].output_tokens, 9);
    EXPECT_EQ(a[i].warmup, i < 5);
  }
  s.seed = 12;
  EXPECT_NE(MakeSchedule(s), c);
}

TEST(Schedule, OfflineAndClosedHaveNoArrivalTimes) {
  LoadSpec s;
  s.requests = 4;
  for (const auto& r : MakeSchedule(s)) EXPECT_EQ(r.due_ns, 0);
  s.arrival = Arrival::kClosed;
  s.concurrency = 2;
  for (const auto& r : MakeSchedule(s)) EXPECT_EQ(r.due_ns, -1);
}

TEST(Schedule, BadSpecsAreNamed) {
  LoadSpec s;
  s.arrival = Arrival::kPoisson;
  s.rate = 0;
  s.requests = 0;
  s.input = {5, 4};
  const auto bad = CheckLoadSpec(s);
  ASSERT_EQ(bad.size(), 3u);
  EXPECT_NE(bad[0].find("rate"), std::string::npos);
  EXPECT_NE(bad[1].find("requests"), std::string::npos);
  EXPECT_NE(bad[2].find("input_tokens"), std::string::npos);
  s = LoadSpec{};
  s.arrival = Arrival::kGamma;
  s.rate = 1;
  s.burstiness = -1;
  EXPECT_EQ(CheckLoadSpec(s).size(), 1u);
  EXPECT_FALSE(ParseArrival("uniform").has_value());
  EXPECT_NE(ParseArrival("uniform").error().find("offline, closed, poisson, gamma"), std::string::npos);
  EXPECT_EQ(*ParseArrival("gamma"), Arrival::kGamma);
}

}  // namespace
}  // namespace dlb::serve
