// The run's side of the cell summary: each repetition's facts and steady samples are collected per
// cell and summarised over every repetition so far (pooled steady samples of the ok ones, warm-up
// and failed repetitions left out), with the single energy repetition's windows for the interval;
// the telemetry summary reads only the measuring phases.
#include "run/cell_summaries.h"

#include <gtest/gtest.h>

#include "run/energy.h"

namespace dlb::run {
namespace {

plan::Cell CellOf(int idx, int batch) {
  plan::Cell c;
  c.cell_idx = idx;
  c.batch = batch;
  return c;
}

result::RepetitionResult Ok(int rep, std::vector<int64_t> wall, int64_t warmup) {
  result::RepetitionResult r;
  r.rep_idx = rep;
  r.status = result::RepStatus::kOk;
  r.series()->wall_ns = std::move(wall);
  r.series()->warmup_count = warmup;
  return r;
}

TEST(CellSummaries, PoolsTheOkRepetitionsSteadySamplesPerCell) {
  CellSummaries summaries;
  const plan::Cell a = CellOf(0, 2), b = CellOf(1, 1);
  auto first = summaries.Add(a, Ok(0, {1000, 100, 300}, 1));
  EXPECT_EQ(first.repetitions_run, 1);
  EXPECT_DOUBLE_EQ(first.latency->p50, 200);
  result::RepetitionResult failed;
  failed.rep_idx = 1;
  failed.message = "worker crashed during load";
  failed.series()->wall_ns = {7, 7, 7};  // a failed repetition's samples are not the cell's
  auto second = summaries.Add(a, failed);
  EXPECT_EQ(second.status, "partial");
  EXPECT_EQ(second.message.value_or(""), "worker crashed during load");
  EXPECT_EQ(second.latency->n, 2);
  // Another cell's repetition does not touch the first cell's samples.
  EXPECT_EQ(summaries.Add(b, Ok(0, {5, 5}, 0)).latency->n, 2);
  auto third = summaries.Add(a, Ok(2, {200}, 0));
  EXPECT_EQ(third.repetitions_ok, 2);
  EXPECT_EQ(third.repetitions_run, 3);
  EXPECT_DOUBLE_EQ(third.latency->p50, 200);  // 100 200 300
  EXPECT_DOUBLE_EQ(*third.throughput_sps, 2.0 * 3 / 600e-9);
}

TEST(CellSummaries, OneEnergyRepetitionGivesItsWindowsInterval) {
  CellSummaries summaries;
  const plan::Cell c = CellOf(0, 4);
  auto r = Ok(0, {100, 100}, 0);
  r.energy_source = result::EnergySource::kRapl;
  for (double joules : {400.0, 480.0}) {
    result::EnergyWindow w;
    w.duration_ns = 1'000'000'000;
    w.iterations = 100;
    w.energy_j = joules;
    r.energy_windows.push_back(w);
  }
  r.telemetry_summary = SummarizeTelemetry(r, c.batch);
  EXPECT_DOUBLE_EQ(r.telemetry_summary.energy_per_sample_j.value_or(0), 1.1);
  auto s = summaries.Add(c, r);
  EXPECT_DOUBLE_EQ(s.energy_per_sample_j.value_or(0), 1.1);
  // scipy.stats.t.interval(0.95, 1, 1.1, 0.1) = (-0.1706204736174705, 2.3706204736174705)
  EXPECT_NEAR(s.energy_ci_lo_j.value_or(0), -0.1706204736174705, 1e-12);
  EXPECT_NEAR(s.energy_ci_hi_j.value_or(0), 2.3706204736174705, 1e-12);
}

// A training repetition with a dataset: time per epoch is the median over repetitions of each
// one's mean epoch, accuracy the mean of each one's last epoch; a failed repetition's are left out.
TEST(CellSummaries, EpochTimeAndAccuracyOverTheOkRepetitions) {
  CellSummaries summaries;
  const plan::Cell c = CellOf(0, 32);
  auto trained = [](int rep, std::vector<std::pair<int64_t, double>> epochs, bool ok = true) {
    result::RepetitionResult r;
    r.rep_idx = rep;
    r.status = ok ? result::RepStatus::kOk : result::RepStatus::kFailed;
    result::TrainingMeasurement m;
    for (const auto& [ns, accuracy] : epochs) {
      m.epochs.push_back({.epoch_idx = static_cast<int64_t>(m.epochs.size()), .epoch_ns = ns,
                          .train_loss = 1, .accuracy = accuracy});
    }
    r.measurement = m;
    return r;
  };
  auto first = summaries.Add(c, trained(0, {{2'000'000'000, 0.5}, {4'000'000'000, 0.7}}));
  EXPECT_DOUBLE_EQ(first.epoch_s.value_or(0), 3.0);
  EXPECT_DOUBLE_EQ(first.accuracy.value_or(0), 0.7);
  (void)summaries.Add(c, trained(1, {{9'000'000'000, 0.1}}, false));
  auto third = summaries.Add(c, trained(2, {{5'000'000'000, 0.6}, {5'000'000'000, 0.9}}));
  EXPECT_DOUBLE_EQ(third.epoch_s.value_or(0), 4.0);  // median of 3 and 5
  EXPECT_DOUBLE_EQ(third.accuracy.value_or(0), 0.8);  // mean of 0.7 and 0.9
  EXPECT_FALSE(summaries.Add(CellOf(1, 1), Ok(0, {5}, 0)).accuracy);  // no dataset, no figure
}

TEST(SummarizeTelemetry, ThrottleReasonsOnlyWhileMeasuring) {
  result::RepetitionResult r;
  r.gpu_telemetry = "nvml";
  probe::TelemetrySample load, measure;
  load.phase = "load";
  load.gpu.clock_event_reasons = 0x40;  // hw thermal slowdown while loading: not counted
  measure.phase = "measure";
  measure.gpu.clock_event_reasons = 0x1;  // gpu idle: not a slowdown
  measure.gpu.temperature_c = 70;
  r.telemetry = {load, measure};
  auto t = SummarizeTelemetry(r, 1);
  EXPECT_EQ(t.throttle_reasons.value_or(""), "none");
  EXPECT_EQ(t.max_temperature_c.value_or(0), 70);
  EXPECT_FALSE(t.energy_per_sample_j);
}

}  // namespace
}  // namespace dlb::run
