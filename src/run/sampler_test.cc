// Pins the sampling rules: warm-up ends only once the signal stops drifting (with a floor and a
// cap), chunks track the per-iteration time, and the stop rule applies floors before the CI test
// and marks capped repetitions as not converged (methodology rules 4 and 7).
#include "run/sampler.h"

#include "result/measurement.h"

#include <gtest/gtest.h>

#include <vector>

namespace dlb::run {
namespace {

plan::SamplingSettings Settings() {
  plan::SamplingSettings s;
  s.warmup_min_iterations = 6;
  s.warmup_max_iterations = 30;
  s.warmup_tolerance = 0.05;
  s.min_iterations = 20;
  s.max_iterations = 1000;
  s.min_time_s = 0;
  s.max_time_s = 100;
  s.target_rel_ci = 0.01;
  return s;
}

TEST(Warmup, SteadySignalEndsAtTheFloor) {
  std::vector<int64_t> v(6, 1000);
  auto d = DecideWarmup(v, Settings());
  EXPECT_TRUE(d.done);
  EXPECT_TRUE(d.settled);
  std::vector<int64_t> fewer(5, 1000);
  EXPECT_FALSE(DecideWarmup(fewer, Settings()).done);
}

TEST(Warmup, DriftingSignalContinuesThenSettles) {
  std::vector<int64_t> v = {5000, 4000, 3000, 2000, 1500, 1200};
  EXPECT_FALSE(DecideWarmup(v, Settings()).done);
  for (int i = 0; i < 6; ++i) v.push_back(1000);
  auto d = DecideWarmup(v, Settings());
  EXPECT_TRUE(d.done);
  EXPECT_TRUE(d.settled);
}

TEST(Warmup, CapEndsUnsettled) {
  std::vector<int64_t> v;
  for (int i = 0; i < 30; ++i) v.push_back(10000 - 300 * i);  // still falling 3%+ per step
  auto d = DecideWarmup(v, Settings());
  EXPECT_TRUE(d.done);
  EXPECT_FALSE(d.settled);
}

TEST(Warmup, ZeroMaxMeansNone) {
  auto s = Settings();
  s.warmup_min_iterations = 0;
  s.warmup_max_iterations = 0;
  EXPECT_TRUE(DecideWarmup({}, s).done);
}

TEST(NextChunk, AimsAtTheTargetTimeWithinCaps) {
  EXPECT_EQ(NextChunk(1e6, 0, 1000, 0.25), 250);      // 1 ms per iteration, 0.25 s chunks
  EXPECT_EQ(NextChunk(1e9, 0, 1000, 0.25), 1);        // slower than a chunk: one at a time
  EXPECT_EQ(NextChunk(1e6, 900, 1000, 0.25), 100);    // never beyond the cap
  EXPECT_EQ(NextChunk(0, 0, 1'000'000, 0.25), 1);     // no estimate yet
  EXPECT_EQ(NextChunk(1, 0, 10'000'000, 0.25), 200'000);
}

TEST(Calibration, BlocksOnlyWhatIsTooCloseToTheOverhead) {
  EXPECT_EQ(BlockSize(1e6, 50), 1);        // 1 ms against 50 ns: 2e4 times, no block
  EXPECT_EQ(BlockSize(5000, 50), 1);       // exactly 100 times: single iterations, tails visible
  EXPECT_EQ(BlockSize(4999, 50), 101);     // within 100 times: blocks of >= 1e4 x overhead
  EXPECT_EQ(BlockSize(140, 50), 3572);     // zero-work model: ceil(5e5 / 140)
  EXPECT_EQ(BlockSize(0, 50), 500'000);    // no measurable time: 1e4 x overhead in 1 ns steps
  EXPECT_EQ(BlockSize(10, 1'000'000), 1'000'000);  // capped
  EXPECT_EQ(BlockSize(140, 0), 1);         // unknown overhead: nothing to calibrate against
  EXPECT_TRUE(NearOverhead(140, 50));
  EXPECT_FALSE(NearOverhead(5000, 50));
}

TEST(Stop, FloorsComeFirst) {
  std::vector<int64_t> v(10, 1000);  // a perfect signal, but below min_iterations
  auto d = DecideStop(v, Settings(), 0.1);
  EXPECT_FALSE(d.stop);
  EXPECT_EQ(d.reason, "below floors");
  auto s = Settings();
  s.min_iterations = 5;
  s.min_time_s = 1.0;  // ten samples of 1 µs are far below one second of work
  EXPECT_FALSE(DecideStop(v, s, 0.1).stop);
}

TEST(Stop, ConvergesOnASteadySignal) {
  std::vector<int64_t> v;
  for (int i = 0; i < 50; ++i) v.push_back(1000 + (i % 3));
  auto d = DecideStop(v, Settings(), 0.1);
  EXPECT_TRUE(d.stop);
  EXPECT_TRUE(d.converged);
  EXPECT_LE(*d.rel_ci, 0.01);
}

TEST(Stop, NoisySignalRunsToTheCap) {
  std::vector<int64_t> v;
  for (int i = 0; i < 40; ++i) v.push_back(i % 2 ? 1000 : 3000);
  auto d = DecideStop(v, Settings(), 0.1);
  EXPECT_FALSE(d.stop);
  EXPECT_EQ(d.reason, "ci too wide");
  auto capped = DecideStop(v, Settings(), 101);
  EXPECT_TRUE(capped.stop);
  EXPECT_FALSE(capped.converged);
  EXPECT_EQ(capped.reason, "max_time");
  auto s = Settings();
  s.max_iterations = 40;
  EXPECT_EQ(DecideStop(v, s, 0.1).reason, "max_iterations");
}

// The chunk-exclusion rule: the floors count the kept (clean) samples only, so a repetition whose
// chunks were excluded samples on; the caps count every sample and the time, so it cannot sample
// for ever, and a stop at a cap says whether the kept samples reached the floors.
TEST(Stop, FloorsCountKeptSamplesAndCapsCountEverySample) {
  auto s = Settings();
  s.min_iterations = 20;
  s.min_time_s = 0;
  std::vector<int64_t> kept(15, 1000);
  auto d = DecideStop(kept, s, 0.1, 1, /*steady_total=*/60);
  EXPECT_FALSE(d.stop);
  EXPECT_FALSE(d.floors_met);
  EXPECT_EQ(d.reason, "below floors");
  d = DecideStop(kept, s, 101, 1, 60);  // the time cap
  EXPECT_TRUE(d.stop);
  EXPECT_FALSE(d.converged);
  EXPECT_FALSE(d.floors_met);
  s.max_iterations = 60;
  EXPECT_EQ(DecideStop(kept, s, 0.1, 1, 60).reason, "max_iterations");
  std::vector<int64_t> none;
  d = DecideStop(none, Settings(), 0.1, 1, 40);  // every chunk excluded so far
  EXPECT_FALSE(d.stop);
  EXPECT_EQ(d.reason, "no samples");
  EXPECT_FALSE(d.median_ns);
  EXPECT_EQ(DecideStop(none, Settings(), 101, 1, 40).reason, "max_time");
}

// A repetition is contaminated when the exclusions, not the caps, cost it its clean samples.
TEST(LacksCleanSamples, OnlyWhenTheExclusionsCostTheFloors) {
  auto s = Settings();
  s.min_iterations = 10;
  s.min_time_s = 0;
  std::vector<int64_t> twelve(12, 1000), eight(8, 1000), five(5, 1000), two(2, 1000), none;
  EXPECT_FALSE(LacksCleanSamples(0, eight, twelve, s));  // nothing excluded: the caps' doing
  EXPECT_TRUE(LacksCleanSamples(2, eight, twelve, s));   // all would have met the floors
  EXPECT_FALSE(LacksCleanSamples(2, twelve, std::vector<int64_t>(16, 1000), s));  // kept meet them
  // A slow cell: 5 samples fit in its cap, the floors were out of reach anyway.
  EXPECT_FALSE(LacksCleanSamples(1, std::vector<int64_t>(4, 1000), five, s));
  EXPECT_TRUE(LacksCleanSamples(3, two, five, s));   // but not with most of them gone
  EXPECT_TRUE(LacksCleanSamples(5, none, five, s));  // nor with none kept
}

// The samples of excluded chunks stay in the series (and the database) but not in the estimate.
TEST(TimedSeries, SteadyKeptLeavesOutExcludedChunks) {
  result::TimedSeries t;
  t.wall_ns = {9, 9, 10, 11, 50, 60, 12, 13};
  t.chunk_idx = {0, 0, 1, 1, 2, 2, 3, 3};
  t.warmup_count = 2;
  t.chunks.resize(4);
  t.chunks[2].contaminated = t.chunks[2].excluded = true;
  EXPECT_EQ(t.SteadyKept(), (std::vector<int64_t>{10, 11, 12, 13}));
  EXPECT_EQ(t.ExcludedChunks(), 1);
  t.chunks[0].excluded = true;  // a warm-up chunk is never in the steady samples anyway
  EXPECT_EQ(t.SteadyKept(), (std::vector<int64_t>{10, 11, 12, 13}));
}

}  // namespace
}  // namespace dlb::run
