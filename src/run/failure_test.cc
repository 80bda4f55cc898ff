// The cause of a worker's death from what the controller saw: cgroup counters, the exit status,
// the log (run/failure.h). Pure functions, so no memory is exhausted here.
#include "run/failure.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace dlb::run {
namespace {

ExitStatus Exited(int code) { return {.exit_code = code}; }
ExitStatus Signalled(int sig) { return {.term_signal = sig}; }

TEST(Failure, ReadsTheOomKillCountOfBothCgroupVersions) {
  EXPECT_EQ(ParseOomKillCount("low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\noom_group_kill 0\n"), 2);
  EXPECT_EQ(ParseOomKillCount("oom_kill_disable 0\nunder_oom 0\noom_kill 17\n"), 17);
  EXPECT_EQ(ParseOomKillCount("oom_kill_disable 0\nunder_oom 0\n"), std::nullopt);
  EXPECT_EQ(ParseOomKillCount("oom_kill x\n"), std::nullopt);
}

TEST(Failure, AGrowingCgroupCountIsTheOomKiller) {
  DeathEvidence e{Signalled(SIGKILL), false, "", 3, 4};
  EXPECT_EQ(OutOfMemoryCause(e), "the kernel's OOM killer ended it (memory cgroup oom_kill 3 -> 4)");
  e.killed_by_controller = true;  // our own SIGKILL after a timeout is not the OOM killer's
  EXPECT_EQ(OutOfMemoryCause(e), std::nullopt);
}

TEST(Failure, TheLogNamesMemory) {
  const char* log =
      "Traceback (most recent call last):\n  File \"x.py\", line 1\nMemoryError\nmore\n";
  EXPECT_EQ(OutOfMemoryCause({Exited(1), false, log, 0, 0}), "the log says: MemoryError");
  EXPECT_EQ(OutOfMemoryCause({Exited(127), false,
                              "python: error while loading shared libraries: libm.so.6: failed to "
                              "map segment from shared object\n", std::nullopt, std::nullopt}),
            "the log says: python: error while loading shared libraries: libm.so.6: failed to map "
            "segment from shared object");
  EXPECT_EQ(OutOfMemoryCause({Exited(3), false, "terminate called after throwing an instance of "
                                                "'std::bad_alloc'", 0, 0}),
            "the log says: terminate called after throwing an instance of 'std::bad_alloc'");
  EXPECT_EQ(OutOfMemoryCause({Exited(3), false, "ImportError: no module named x\n", 0, 0}),
            std::nullopt);
}

TEST(Failure, AForeignSigkillIsNotedButNotCalledMemory) {
  DeathEvidence e{Signalled(SIGKILL), false, "", std::nullopt, std::nullopt};
  EXPECT_EQ(OutOfMemoryCause(e), std::nullopt);
  EXPECT_NE(ForeignKillNote(e).find("OOM killer"), std::string::npos);
  e.status = Exited(137);  // a shell prefix reporting its child's SIGKILL
  EXPECT_NE(ForeignKillNote(e).find("OOM killer"), std::string::npos);
  e.killed_by_controller = true;
  EXPECT_EQ(ForeignKillNote(e), "");
  EXPECT_EQ(ForeignKillNote({Signalled(SIGSEGV), false, "", 0, 0}), "");
}

}  // namespace
}  // namespace dlb::run
