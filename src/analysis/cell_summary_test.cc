// Pins a cell's summary as pure arithmetic: the status rules, the pooled latency statistics and
// throughputs, phase-time medians and memory maxima over ok repetitions only, and energy per
// sample with its interval across repetitions (or across the windows of a single one). Inputs are
// small enough to check by hand; the t interval is SciPy's.
#include "analysis/cell_summary.h"

#include <gtest/gtest.h>

namespace dlb::analysis {
namespace {

RepetitionFacts Ok() {
  RepetitionFacts r;
  r.status = "ok";
  return r;
}

RepetitionFacts Bad(const std::string& status, const std::string& message) {
  RepetitionFacts r;
  r.status = status;
  r.message = message;
  return r;
}

TEST(SummarizeCell, StatusFromTheRepetitions) {
  EXPECT_EQ(SummarizeCell(std::vector{Ok(), Ok()}, {}, 1).status, "ok");
  auto partial = SummarizeCell(std::vector{Ok(), Bad("failed", "crashed"), Bad("failed", "later")}, {}, 1);
  EXPECT_EQ(partial.status, "partial");
  EXPECT_EQ(*partial.message, "crashed");
  EXPECT_EQ(partial.repetitions_ok, 1);
  EXPECT_EQ(partial.repetitions_run, 3);
  EXPECT_EQ(SummarizeCell(std::vector{Bad("failed", "x")}, {}, 1).status, "failed");
  EXPECT_EQ(SummarizeCell(std::vector{Ok(), Bad("unsupported", "no")}, {}, 1).status, "unsupported");
}

TEST(SummarizeCell, LatencyThroughputAndPhasesOverOkRepetitions) {
  RepetitionFacts a = Ok(), b = Ok(), failed = Bad("failed", "x");
  a.load_s = 0.5;
  b.load_s = 0.7;
  failed.load_s = 100;  // a failed repetition's figures are not the cell's
  a.peak_rss_bytes = 1000;
  b.peak_rss_bytes = 1001;
  failed.peak_rss_bytes = 99999;
  a.window_ns = b.window_ns = 1000;
  a.window_iterations = b.window_iterations = 10;
  auto s = SummarizeCell(std::vector{a, failed, b}, {300, 100, 500, 200, 400}, 4);
  ASSERT_TRUE(s.latency);
  EXPECT_EQ(s.latency->n, 5);
  EXPECT_DOUBLE_EQ(s.latency->p50, 300);
  EXPECT_DOUBLE_EQ(s.latency->mean, 300);
  EXPECT_DOUBLE_EQ(*s.throughput_sps, 4.0 * 5 / 1500e-9);  // batch x n / sum
  EXPECT_DOUBLE_EQ(*s.window_throughput_sps, 4.0 * 20 / 2000e-9);
  EXPECT_DOUBLE_EQ(*s.load_s, 0.6);
  EXPECT_EQ(*s.peak_rss_bytes, 1001);
  EXPECT_FALSE(s.median_ci);  // n = 5: no 95% CI of the median exists
  EXPECT_FALSE(s.energy_per_sample_j);
  EXPECT_FALSE(s.throttled_repetitions);
}

TEST(SummarizeCell, EnergyAcrossRepetitionsOrWindows) {
  RepetitionFacts a = Ok(), b = Ok();
  a.energy_per_sample_j = 1.0;
  b.energy_per_sample_j = 1.2;
  a.throttle_reasons = "none";
  b.throttle_reasons = "hw_slowdown";
  a.contaminated = 0;
  b.contaminated = 1;
  auto two = SummarizeCell(std::vector{a, b}, {}, 1);
  EXPECT_DOUBLE_EQ(*two.energy_per_sample_j, 1.1);
  // scipy.stats.t.interval(0.95, 1, 1.1, 0.1) = (-0.1706204736174705, 2.3706204736174705)
  EXPECT_NEAR(*two.energy_ci_lo_j, -0.1706204736174705, 1e-12);
  EXPECT_NEAR(*two.energy_ci_hi_j, 2.3706204736174705, 1e-12);
  EXPECT_EQ(*two.throttled_repetitions, 1);
  EXPECT_EQ(*two.contaminated_repetitions, 1);
  EXPECT_EQ(CountWithEnergy(std::vector{a, b}), 2);
  const std::vector<double> windows = {1.0, 1.2};
  auto one = SummarizeCell(std::vector{a}, {}, 1, windows);
  EXPECT_DOUBLE_EQ(*one.energy_per_sample_j, 1.0);  // the repetition's own figure
  EXPECT_NEAR(*one.energy_ci_lo_j, -0.1706204736174705, 1e-12);  // the windows' interval
}

}  // namespace
}  // namespace dlb::analysis
