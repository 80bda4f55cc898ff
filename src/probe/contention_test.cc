#include "probe/contention.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace dlb::probe {
namespace {

TEST(ProcStat, PerCpuBusyStealAndTotal) {
  // user nice system idle iowait irq softirq steal guest guest_nice
  const char* text =
      "cpu  300 0 60 9000 10 0 5 40 0 0\n"
      "cpu0 100 0 20 4500 5 0 2 10 0 0\n"
      "cpu1 200 0 40 4500 5 0 3 30 7 0\n"
      "intr 12345 0 0\n"
      "ctxt 999\n";
  auto cpus = ParseProcStat(text);
  ASSERT_EQ(cpus.size(), 2u);  // the aggregate line is skipped
  EXPECT_EQ(cpus[0].cpu, 0);
  EXPECT_EQ(cpus[0].busy, 100u + 20 + 2);
  EXPECT_EQ(cpus[1].busy, 200u + 40 + 3);  // guest (7) is already inside user
  EXPECT_EQ(cpus[1].steal, 30u);
  EXPECT_EQ(cpus[1].total, 200u + 40 + 4500 + 5 + 3 + 30);
  EXPECT_TRUE(ParseProcStat("cpu0 1 2\n").empty());  // too few fields: unknown, not zero
}

TEST(ProcPidStat, TicksAfterACommandNameWithSpacesAndParentheses) {
  pid_t pgrp = 0;
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  auto t = ParseProcessTicks("4242 (py (worker) x) S 1 4242 4242 0 -1 4194560 10 0 0 0 1234 56 0 0",
                             &pgrp);
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, 1234u + 56);
  EXPECT_EQ(pgrp, 4242);
  EXPECT_FALSE(ParseProcessTicks("4242 (short) S 1 2"));
  EXPECT_FALSE(ParseProcessTicks("no parenthesis"));
}

TEST(CpuList, RangesAndSingles) {
  EXPECT_EQ(ParseCpuList("0-3,8,10-11\n"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(ParseCpuList("5"), (std::vector<int>{5}));
  EXPECT_TRUE(ParseCpuList("3-1").empty());
}

TEST(ContentionMeter, ReadsThisMachineWithoutError) {
  // This process as the "worker" (its pid, which a real worker's group shares; under a test runner
  // the group leader may be gone): whatever it reads, the fractions are fractions.
  ContentionMeter m;
  m.Begin(::getpid());
  volatile double x = 0;
  for (int i = 0; i < 2'000'000; ++i) x = x + i;
  m.End();
  auto r = m.Result();
  ASSERT_TRUE(r);
  EXPECT_GE(r->other_cpu_frac, 0.0);
  EXPECT_LE(r->other_cpu_frac, 1.0);
  EXPECT_GE(r->steal_frac, 0.0);
  EXPECT_GT(r->cpus, 0);
}

TEST(BusyMachine, WarnsAboveOneFifthOfTheCpus) {
  EXPECT_EQ(BusyMachineWarning({0.05, 3.0, 2}, 0.5), "");  // the load average alone does not warn
  std::string w = BusyMachineWarning({0.73, 1.9, 2}, 0.5);
  EXPECT_NE(w.find("other processes used 73% of its 2 CPUs over 0.5 s (load average 1.9)"),
            std::string::npos) << w;
}

}  // namespace
}  // namespace dlb::probe
