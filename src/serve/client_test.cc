// The client against the real fixture server (build/dlbench-sse-fixture): counts, chunking, faults.
#include "serve/client.h"
#include "util/strings.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "serve/metrics.h"
#include "util/process.h"

namespace dlb::serve {
namespace {

class Fixture {
 public:
  explicit Fixture(std::vector<std::string> args) {
    port_file_ = std::filesystem::temp_directory_path() /
                 ("dlb-fixture-" + std::to_string(getpid()) + "-" + std::to_string(++count_));
    std::filesystem::remove(port_file_);
    SpawnSpec spec;
    spec.argv = {std::string(DLBENCH_BINARY_DIR) + "/dlbench-sse-fixture", "--port", "0", "--port-file",
                 port_file_.string()};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.env = CurrentEnvironment();
    proc_.emplace(Subprocess::Spawn(spec));
    for (int i = 0; i < 500 && !std::filesystem::exists(port_file_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::ifstream(port_file_) >> port_;
  }
  ~Fixture() {
    if (proc_) proc_->KillGroup(SIGKILL);
    std::filesystem::remove(port_file_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  Subprocess& proc() { return *proc_; }

 private:
  static inline int count_ = 0;
  std::filesystem::path port_file_;
  std::optional<Subprocess> proc_;
  int port_ = 0;
};

std::vector<RequestTrace> Load(const std::string& url, Arrival arrival, int64_t n, int64_t out_tokens,
                              Api api = Api::kCompletions, bool logprobs = true, int64_t concurrency = 4) {
  DriveOptions o;
  o.spec.arrival = arrival;
  o.spec.concurrency = concurrency;
  o.spec.rate = 200;
  o.spec.requests = n;
  o.spec.input = {16, 16};
  o.spec.output = {out_tokens, out_tokens};
  Endpoint ep;
  ep.base_url = url;
  ep.api = api;
  ep.logprobs = logprobs;
  ep.stall_timeout_s = 1;
  return Drive(ep, MakeSchedule(o.spec), o).traces;
}

TEST(Client, ClosedLoopCountsEveryTokenAcrossChunks) {
  Fixture f({"--itl-us", "200", "--tokens-per-chunk", "3"});
  ASSERT_EQ(HttpGetStatus(f.url() + "/health", 5), 200);
  const auto traces = Load(f.url(), Arrival::kClosed, 12, 10);
  ASSERT_EQ(traces.size(), 12u);
  for (const auto& t : traces) {
    EXPECT_TRUE(t.ok()) << t.status << ": " << t.error;
    EXPECT_EQ(t.OutputTokens(), 10);
    EXPECT_EQ(t.chunks.size(), 4u);  // 3 + 3 + 3 + 1
    EXPECT_EQ(t.token_source, kTokensFromLogprobs);
    EXPECT_EQ(t.usage_output_tokens, 10);
    EXPECT_GE(t.sent_ns, t.due_ns);
    EXPECT_GT(t.chunks.front().arrival_ns, t.sent_ns);
    EXPECT_GE(t.done_ns, t.chunks.back().arrival_ns);
  }
}

TEST(Client, WithoutLogprobsTheUsageConfirmsOneTokenPerChunk) {
  Fixture f({});
  const auto traces = Load(f.url(), Arrival::kOffline, 3, 5, Api::kChat, /*logprobs=*/false);
  for (const auto& t : traces) {
    EXPECT_TRUE(t.ok()) << t.status << ": " << t.error;
    EXPECT_EQ(t.OutputTokens(), 5);
    EXPECT_EQ(t.token_source, kTokensFromUsage);
  }
}

TEST(Client, OpenLoopSendsOnSchedule) {
  Fixture f({});
  const auto traces = Load(f.url(), Arrival::kPoisson, 40, 2);
  const LoadMetrics m = Summarize(traces, {}, /*has_due_times=*/true);
  EXPECT_EQ(m.ok, 40);
  ASSERT_TRUE(m.send_delay_s.quantiles[0].value);
  // Not a speed assertion: a median send delay of 50 ms would mean the pacing is broken, not slow.
  EXPECT_LT(*m.send_delay_s.quantiles[0].value, 0.05);
  EXPECT_GE(*m.send_delay_s.quantiles[0].value, 0.0);
}

TEST(Client, EachFaultIsRecordedPerRequestAndTheRestGoOn) {
  for (const std::string fault : {"http429", "http500", "malformed", "truncate", "stall"}) {
    Fixture f({"--fault", fault, "--fault-every", "2"});
    const auto traces = Load(f.url(), Arrival::kClosed, 6, 6);
    int ok = 0, failed = 0;
    std::string status;
    for (const auto& t : traces) {
      if (t.ok()) {
        ++ok;
        EXPECT_EQ(t.OutputTokens(), 6);
      } else {
        ++failed;
        status = t.status;
      }
    }
    EXPECT_EQ(ok, 3) << fault;
    EXPECT_EQ(failed, 3) << fault;
    const std::string want = fault == "http429"   ? "http_429"
                             : fault == "http500" ? "http_500"
                             : fault == "stall"   ? "timeout"
                             : fault == "truncate" ? "truncated"
                                                  : fault;
    EXPECT_EQ(status, want) << fault;
  }
}

TEST(Client, AServerThatDiesFailsTheRestWithoutHanging) {
  // One request at a time: the first two finish, the third's stream is cut when the server exits,
  // and the other five fail: on the connection kept alive from before (truncated) or finding
  // nothing listening (connect).
  Fixture f({"--fault", "die", "--fault-every", "3"});
  const auto traces = Load(f.url(), Arrival::kClosed, 8, 4, Api::kCompletions, true, /*concurrency=*/1);
  ASSERT_EQ(traces.size(), 8u);
  EXPECT_TRUE(traces[0].ok() && traces[1].ok());
  EXPECT_EQ(traces[2].status, "truncated");
  EXPECT_EQ(traces[2].OutputTokens(), 2);  // half of the 4 before the fixture exits
  for (size_t i = 3; i < traces.size(); ++i) {
    EXPECT_TRUE(traces[i].status == "connect" || traces[i].status == "truncated") << i << traces[i].status;
  }
  EXPECT_EQ(traces.back().status, "connect");
}

TEST(Client, BaseUrlsAreChecked) {
  EXPECT_FALSE(CheckBaseUrl("http://127.0.0.1:8000"));
  EXPECT_FALSE(CheckBaseUrl("https://example.org"));
  EXPECT_TRUE(CheckBaseUrl("ftp://x"));
  EXPECT_TRUE(CheckBaseUrl("localhost:8000"));
  EXPECT_TRUE(CheckBaseUrl("http://"));
}

}  // namespace
}  // namespace dlb::serve
