#include "probe/contention.h"

#include <signal.h>
#include <sys/wait.h>
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

TEST(ProcPidStat, FieldsAfterACommandNameWithSpacesAndParentheses) {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  auto t = ParseProcessStat("4242 (py (worker) x) S 1 4242 4242 0 -1 4194560 10 0 0 0 1234 56 0 0");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->ticks, 1234u + 56);
  EXPECT_EQ(t->pgrp, 4242);
  EXPECT_EQ(t->minor_faults, 10u);
  EXPECT_FALSE(ParseProcessStat("4242 (short) S 1 2"));
  EXPECT_FALSE(ParseProcessStat("no parenthesis"));
}

TEST(CpuList, RangesAndSingles) {
  EXPECT_EQ(ParseCpuList("0-3,8,10-11\n"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(ParseCpuList("5"), (std::vector<int>{5}));
  EXPECT_TRUE(ParseCpuList("3-1").empty());
}

// Two snapshots 1 s apart at 100 ticks/s on CPUs 0 and 1 (200 ticks of capacity): busy 150
// ticks, of which the worker's group took 100 and the controller 10, so others took 40 = 20%.
TEST(ContentionBetween, OthersAreBusyMinusTheWorkersAndTheControllersTicks) {
  ProcSnapshot a{{{0, 1000, 5, 0}, {1, 2000, 0, 0}, {2, 0, 0, 0}}, 500, 70, 0, 1000};
  ProcSnapshot b{{{0, 1080, 7, 0}, {1, 2070, 0, 0}, {2, 90, 0, 0}}, 600, 80, 1'000'000'000, 4000};
  auto c = ContentionBetween(a, b, {0, 1}, /*count_self=*/true, 100, 0.10);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cpus, 2);
  EXPECT_EQ(c->cpu_list, (std::vector<int>{0, 1}));
  EXPECT_DOUBLE_EQ(c->capacity_ticks, 200);
  EXPECT_DOUBLE_EQ(c->other_cpu_frac, (150.0 - 100 - 10) / 200);
  EXPECT_DOUBLE_EQ(c->steal_frac, 2.0 / 200);
  EXPECT_EQ(c->minor_faults, 3000u);
  EXPECT_TRUE(c->contaminated);  // 20% less the resolution (4 ticks = 2%) is above 10%
  // CPU 2's ticks are another CPU's: not the worker's neighbours.
  auto without_self = ContentionBetween(a, b, {0, 1}, /*count_self=*/false, 100, 0.10);
  EXPECT_DOUBLE_EQ(without_self->other_cpu_frac, 50.0 / 200);
  EXPECT_FALSE(ContentionBetween(a, a, {0, 1}, true, 100, 0.1));  // no time passed
  EXPECT_FALSE(ContentionBetween(a, b, {7}, true, 100, 0.1));     // no such CPU
}

// The counters move in whole ticks: over a short chunk a few ticks are noise, not a neighbour.
TEST(AboveThreshold, TakesOffTheCountersResolution) {
  // 0.25 s on 2 CPUs = 50 ticks: resolution (2 + 2) / 50 = 8%.
  EXPECT_FALSE(AboveThreshold(0.16, 50, 2, 0.10));
  EXPECT_TRUE(AboveThreshold(0.19, 50, 2, 0.10));
  // 5 s on 2 CPUs = 1000 ticks: 0.4%.
  EXPECT_TRUE(AboveThreshold(0.105, 1000, 2, 0.10));
  EXPECT_FALSE(AboveThreshold(0.5, 0, 2, 0.10));  // nothing measured
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

TEST(ContextSwitches, ParsesBothCountersOfAStatusText) {
  const std::string status =
      "Name:\tpython3\nState:\tS (sleeping)\nvoluntary_ctxt_switches:\t1234\n"
      "nonvoluntary_ctxt_switches:\t56\n";
  auto c = ParseContextSwitches(status);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->voluntary, 1234u);
  EXPECT_EQ(c->involuntary, 56u);
  EXPECT_FALSE(ParseContextSwitches("voluntary_ctxt_switches:\t1\n"));  // one of the two is missing
  EXPECT_FALSE(ParseContextSwitches("voluntary_ctxt_switches:\tx\nnonvoluntary_ctxt_switches:\t1\n"));
}

// A child in a process group of its own (as a worker is) that sleeps in a loop, so it switches
// voluntarily: the meter reports the switches over its window. The test's own group would not do:
// under ctest -j it holds other tests' processes, which end in between and take their counts along.
TEST(ContextSwitches, CountsTheGroupsThreadsOverTheMetersWindow) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::setpgid(0, 0);
    for (;;) ::usleep(1000);
  }
  ::setpgid(child, child);  // whichever of the two runs first
  ::usleep(20000);
  auto before = GroupContextSwitches(child);
  ContentionMeter m;
  m.Begin(child);
  ::usleep(50000);
  m.End();
  auto after = GroupContextSwitches(child);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(before && after);
  EXPECT_GE(after->voluntary, before->voluntary + 10);
  auto r = m.Result();
  ASSERT_TRUE(r && r->voluntary_switches && r->involuntary_switches);
  EXPECT_GE(*r->voluntary_switches, 10);
  EXPECT_FALSE(GroupContextSwitches(-12345));  // no such group
}

TEST(BusyMachine, WarnsAboveOneFifthOfTheCpus) {
  EXPECT_EQ(BusyMachineWarning({0.05, 3.0, 2}, 0.5), "");  // the load average alone does not warn
  std::string w = BusyMachineWarning({0.73, 1.9, 2}, 0.5);
  EXPECT_NE(w.find("other processes used 73% of its 2 CPUs over 0.5 s (load average 1.9)"),
            std::string::npos) << w;
}

}  // namespace
}  // namespace dlb::probe
