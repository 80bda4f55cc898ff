// The temperature gate's loop with a scripted reader (no GPU here; NVML is the real reader on a GPU
// node): it passes at once when cool, waits while hot, gives up at the timeout, and reports a
// missing reading as unavailable rather than blocking.
#include "run/gate.h"

#include <gtest/gtest.h>

#include <vector>

namespace dlb::run {
namespace {

struct Script {
  std::vector<std::optional<int>> readings;
  size_t next = 0;
  double slept = 0;
  std::optional<int> Read() { return readings[std::min(next++, readings.size() - 1)]; }
  bool Sleep(double s) {
    slept += s;
    return true;
  }
};

GateOutcome Gate(Script& s, int max_c, double timeout_s) {
  return WaitForTemperature([&] { return s.Read(); }, max_c, timeout_s, 1.0,
                            [&](double t) { return s.Sleep(t); });
}

TEST(TemperatureGate, PassesAtOnceWhenCool) {
  Script s{{60}};
  auto g = Gate(s, 70, 100);
  EXPECT_EQ(g.status, "passed");
  EXPECT_EQ(g.waited_s, 0);
  EXPECT_EQ(*g.start_c, 60);
}

TEST(TemperatureGate, WaitsUntilCool) {
  Script s{{80, 78, 74, 69}};
  auto g = Gate(s, 70, 100);
  EXPECT_EQ(g.status, "passed");
  EXPECT_EQ(g.waited_s, 3);
  EXPECT_EQ(*g.start_c, 80);
  EXPECT_EQ(*g.end_c, 69);
}

TEST(TemperatureGate, TimesOut) {
  Script s{{90}};
  auto g = Gate(s, 70, 5);
  EXPECT_EQ(g.status, "timeout");
  EXPECT_EQ(g.waited_s, 5);
}

TEST(TemperatureGate, NoReadingIsUnavailable) {
  Script s{{std::nullopt}};
  EXPECT_EQ(Gate(s, 70, 5).status, "unavailable");
}

TEST(TemperatureGate, CudaIndex) {
  EXPECT_EQ(CudaIndex("cuda"), 0);
  EXPECT_EQ(CudaIndex("cuda:3"), 3);
  EXPECT_EQ(CudaIndex("cpu"), std::nullopt);
  EXPECT_EQ(CudaIndex("cuda:x"), std::nullopt);
}

// The quiet gate reads window after window until one is quiet, and gives up at its timeout.
TEST(WaitForQuiet, PassesOnTheFirstQuietWindowAndTimesOut) {
  auto reader = [](std::vector<double> shares) {
    return [shares, i = size_t{0}]() mutable -> std::optional<probe::Contention> {
      probe::Contention c;
      c.other_cpu_frac = shares[std::min(i++, shares.size() - 1)];
      c.capacity_ticks = 100;
      c.cpus = 2;
      c.contaminated = probe::AboveThreshold(c.other_cpu_frac, 100, 2, 0.10);
      return c;
    };
  };
  auto never = [] { return false; };
  QuietOutcome q = WaitForQuiet(reader({0.5, 0.4, 0.01}), 0.5, 30, never);
  EXPECT_EQ(q.status, "quiet");
  EXPECT_DOUBLE_EQ(q.waited_s, 1.5);
  EXPECT_DOUBLE_EQ(*q.last_share, 0.01);
  q = WaitForQuiet(reader({0.6}), 0.5, 2, never);
  EXPECT_EQ(q.status, "timeout");
  EXPECT_DOUBLE_EQ(q.waited_s, 2.0);
  q = WaitForQuiet([]() -> std::optional<probe::Contention> { return std::nullopt; }, 0.5, 2, never);
  EXPECT_EQ(q.status, "unavailable");
  q = WaitForQuiet(reader({0.6}), 0.5, 30, [] { return true; });
  EXPECT_EQ(q.status, "interrupted");
}

}  // namespace
}  // namespace dlb::run
