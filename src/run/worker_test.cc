// WorkerProcess with real processes (no mocks): replies, deadlines, death, start failures, the
// stderr log, and that a kill reaches the whole process group, grandchildren included.
#include "run/worker.h"

#include <signal.h>

#include <gtest/gtest.h>

#include <thread>

#include "util/process.h"

namespace dlb::run {
namespace {

using namespace std::chrono_literals;

WorkerProcess Start(std::vector<std::string> argv) {
  auto w = WorkerProcess::Start(argv, CurrentEnvironment());
  EXPECT_TRUE(w.has_value()) << (w ? "" : w.error());
  return std::move(*w);
}

TEST(WorkerProcess, EchoesOneLinePerRequest) {
  WorkerProcess w = Start({"cat"});
  auto r = w.Call("{\"op\": \"hello\"}", 5s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "{\"op\": \"hello\"}");
  EXPECT_EQ(*w.Call("second", 5s), "second");
  ExitStatus st = w.Finish(5s);  // cat exits on EOF
  EXPECT_EQ(st.exit_code, 0);
  EXPECT_EQ(st.term_signal, 0);
}

TEST(WorkerProcess, TimesOutThenKills) {
  WorkerProcess w = Start({"sleep", "30"});
  auto t0 = std::chrono::steady_clock::now();
  auto r = w.Call("x", 200ms);
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), ChannelFault::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  ExitStatus st = w.Kill();
  EXPECT_EQ(st.term_signal, SIGKILL);
}

TEST(WorkerProcess, SeesDeath) {
  WorkerProcess w = Start({"sh", "-c", "read line; exit 7"});
  auto r = w.Call("x", 5s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), ChannelFault::kExited);
  EXPECT_EQ(w.Finish(5s).exit_code, 7);  // waited for, not killed: the status is the worker's own
  EXPECT_FALSE(w.killed());
}

TEST(WorkerProcess, StartFailureIsAValue) {
  auto w = WorkerProcess::Start({"/nonexistent/python"}, CurrentEnvironment());
  ASSERT_FALSE(w.has_value());
  EXPECT_NE(w.error().find("cannot start /nonexistent/python"), std::string::npos) << w.error();
}

TEST(WorkerProcess, CapturesStderrAsTheLog) {
  WorkerProcess w = Start({"sh", "-c", "echo from-stderr >&2; read line; echo reply"});
  EXPECT_EQ(*w.Call("x", 5s), "reply");
  w.Finish(5s);
  EXPECT_EQ(w.Log(), "from-stderr\n");
}

TEST(WorkerProcess, LongLogsKeepHeadAndTail) {
  WorkerProcess w = Start({"sh", "-c", "head -c 100000 /dev/zero | tr '\\0' a >&2; echo end >&2; read l; echo r"});
  EXPECT_EQ(*w.Call("x", 5s), "r");
  w.Finish(5s);
  std::string log = w.Log(1000);
  EXPECT_LT(log.size(), 1100u);
  EXPECT_NE(log.find("bytes of the log omitted"), std::string::npos);
  EXPECT_EQ(log.substr(log.size() - 4), "end\n");
}

TEST(WorkerProcess, KillReachesTheWholeProcessGroup) {
  // The shell starts a grandchild that would outlive a kill of the shell alone.
  WorkerProcess w = Start({"sh", "-c", "sleep 60 & echo $!; wait"});
  auto pid_line = w.Call("", 5s);
  ASSERT_TRUE(pid_line.has_value());
  pid_t grandchild = std::stoi(*pid_line);
  ASSERT_EQ(::kill(grandchild, 0), 0);
  w.Kill();
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    // Reaped by init once killed; kill(0) then fails (or it lingers briefly as a zombie).
    gone = ::kill(grandchild, 0) != 0;
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  if (!gone) {
    std::string stat;
    FILE* f = std::fopen(("/proc/" + std::to_string(grandchild) + "/stat").c_str(), "r");
    if (f) {
      char buf[512] = {0};
      size_t n = std::fread(buf, 1, sizeof buf - 1, f);
      std::fclose(f);
      stat.assign(buf, n);
    }
    EXPECT_NE(stat.find(") Z"), std::string::npos) << "grandchild still running: " << stat;
  }
}

}  // namespace
}  // namespace dlb::run
