// WorkerClient against real processes whose replies are scripted with sh: each kind of fault is
// told apart, a broken reply or a dead channel ends the worker, and an {"ok": false} does not.
#include "run/worker_client.h"

#include <signal.h>

#include <gtest/gtest.h>

#include "util/process.h"

namespace dlb::run {
namespace {

using namespace std::chrono_literals;

// A worker that answers each request line with the next of `replies`, then exits 0 on EOF.
WorkerClient Scripted(const std::vector<std::string>& replies) {
  std::string script;
  for (const auto& r : replies) script += "read line || exit 0; printf '%s\\n' '" + r + "'; ";
  script += "read line; exit 0";
  auto c = WorkerClient::Start({"sh", "-c", script}, CurrentEnvironment());
  EXPECT_TRUE(c.has_value());
  return std::move(*c);
}

const char* kHello =
    R"({"ok": true, "protocol": 1, "worker": "w", "framework": "f", "timer": {"overhead_ns": 30}})";

TEST(WorkerClient, DecodesTypedReplies) {
  WorkerClient c = Scripted({kHello, R"({"ok": true, "losses": [2.5, 1.5]})", R"({"ok": true})"});
  auto hello = c.Hello(5s);
  ASSERT_TRUE(hello.has_value()) << hello.error().Describe();
  EXPECT_EQ(hello->timer_overhead_ns, 30);
  auto train = c.Train(2, "/x.safetensors", 5s);
  ASSERT_TRUE(train.has_value()) << train.error().Describe();
  EXPECT_EQ(train->losses, (std::vector<double>{2.5, 1.5}));
  auto bye = c.Bye(5s);
  ASSERT_TRUE(bye.has_value());
  EXPECT_EQ(bye->exit_code, 0);
  EXPECT_TRUE(c.ended());
}

TEST(WorkerClient, WorkerErrorKeepsTheWorker) {
  WorkerClient c = Scripted(
      {R"({"ok": false, "error": {"kind": "unsupported", "message": "no cuda"}})", kHello});
  auto load = c.Load({"m", 1, "fp32", "cuda", "inference", "default", 0, "{}", std::nullopt, std::nullopt}, 5s);
  ASSERT_FALSE(load.has_value());
  EXPECT_EQ(load.error().kind, WorkerFault::Kind::kWorker);
  EXPECT_TRUE(load.error().unsupported());
  EXPECT_EQ(load.error().Describe(), "load: unsupported: no cuda");
  EXPECT_FALSE(c.ended());
  EXPECT_TRUE(c.Hello(5s).has_value());
}

TEST(WorkerClient, BrokenReplyKillsTheWorker) {
  WorkerClient c = Scripted({R"({"ok": true, "losses": [1.0]})"});
  auto train = c.Train(3, "/x", 5s);  // three steps asked, one loss given
  ASSERT_FALSE(train.has_value());
  EXPECT_EQ(train.error().kind, WorkerFault::Kind::kProtocol);
  EXPECT_NE(train.error().message.find("asked for 3 steps, got 1 losses"), std::string::npos);
  EXPECT_TRUE(c.ended());
  ASSERT_TRUE(train.error().exit.has_value());
  // Any later request is refused without touching the dead process.
  auto again = c.Hello(5s);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().kind, WorkerFault::Kind::kChannel);
}

TEST(WorkerClient, WrongProtocolVersionIsAProtocolFault) {
  WorkerClient c = Scripted(
      {R"({"ok": true, "protocol": 2, "worker": "w", "framework": "f", "timer": {"overhead_ns": 1}})"});
  auto hello = c.Hello(5s);
  ASSERT_FALSE(hello.has_value());
  EXPECT_EQ(hello.error().kind, WorkerFault::Kind::kProtocol);
  EXPECT_NE(hello.error().message.find("speaks protocol 2"), std::string::npos);
}

TEST(WorkerClient, DeathAndTimeoutAreChannelFaults) {
  auto dead = WorkerClient::Start({"sh", "-c", "read line; exit 7"}, CurrentEnvironment());
  ASSERT_TRUE(dead.has_value());
  auto r = dead->Hello(5s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().channel, ChannelFault::kExited);
  EXPECT_EQ(r.error().exit->exit_code, 7);  // reaped, not killed: the status is the worker's own

  auto slow = WorkerClient::Start({"sleep", "30"}, CurrentEnvironment());
  ASSERT_TRUE(slow.has_value());
  auto t = slow->Hello(200ms);
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().channel, ChannelFault::kTimeout);
  EXPECT_EQ(t.error().exit->term_signal, SIGKILL);
}

TEST(WorkerClient, StartFailureIsAFault) {
  auto c = WorkerClient::Start({"/nonexistent/worker"}, CurrentEnvironment());
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().channel, ChannelFault::kStartFailed);
}

}  // namespace
}  // namespace dlb::run
