#include "serve/sse.h"

#include <gtest/gtest.h>

namespace dlb::serve {
namespace {

TEST(SseParser, EventsSplitAnywhereAndLineEndingsOfEveryKind) {
  const std::string stream =
      ": keep-alive\r\ndata: {\"a\":1}\r\n\r\nevent: x\ndata: one\ndata: two\n\ndata:tight\r\rdata: [DONE]\n\n";
  const std::vector<std::string> want = {"{\"a\":1}", "one\ntwo", "tight", "[DONE]"};
  for (size_t piece : {1u, 2u, 3u, 7u, 1000u}) {
    SseParser p;
    std::vector<std::string> got;
    for (size_t i = 0; i < stream.size(); i += piece) {
      for (auto& e : p.Feed(std::string_view(stream).substr(i, piece))) got.push_back(e);
    }
    EXPECT_EQ(got, want) << "piece " << piece;
    EXPECT_FALSE(p.Pending());
  }
}

// A server that never ends a line, or sends one enormous event, meets the bound: the parser drops
// what it holds and ignores the rest, so its memory stays at the bound however long the stream.
TEST(SseParser, AnEventPastTheBoundIsRefusedAndItsMemoryGivenBack) {
  SseParser p(1000);
  EXPECT_EQ(p.Feed("data: " + std::string(500, 'a') + "\n\n").size(), 1u);  // under the bound: whole
  EXPECT_TRUE(p.Feed("data: " + std::string(600, 'b') + "\ndata: " + std::string(600, 'c')).empty());
  EXPECT_TRUE(p.Overflowed());
  EXPECT_FALSE(p.Pending());  // nothing kept
  EXPECT_TRUE(p.Feed("\n\ndata: ok\n\n").empty());  // and nothing more read
  SseParser endless(kMaxSseEventBytes);
  const std::string mib(size_t{1} << 20, 'x');
  for (int i = 0; i < 17 && !endless.Overflowed(); ++i) EXPECT_TRUE(endless.Feed(mib).empty());
  EXPECT_TRUE(endless.Overflowed());
}

TEST(SseParser, AnEventLongerThanAnyBufferArrivesWhole) {
  std::string big(300000, 'x');
  SseParser p;
  std::vector<std::string> got;
  const std::string stream = "data: " + big + "\n\n";
  for (size_t i = 0; i < stream.size(); i += 16384) {
    for (auto& e : p.Feed(std::string_view(stream).substr(i, 16384))) got.push_back(e);
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], big);
}

TEST(SseParser, ACutStreamIsPending) {
  SseParser p;
  EXPECT_TRUE(p.Feed("data: {\"choices\"").empty());
  EXPECT_TRUE(p.Pending());
}

TEST(StreamEvent, CompletionsChatUsageDoneAndErrors) {
  std::string err;
  auto c = ParseStreamEvent(R"({"choices":[{"text":"ab","logprobs":{"tokens":["a","b"]}}]})", &err);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->text, "ab");
  EXPECT_EQ(c->logprob_tokens, 2);
  auto chat = ParseStreamEvent(
      R"({"choices":[{"delta":{"content":"x"},"logprobs":{"content":[{"token":"x","logprob":-1}]}}]})", &err);
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->text, "x");
  EXPECT_EQ(chat->logprob_tokens, 1);
  auto plain = ParseStreamEvent(R"({"choices":[{"delta":{"content":"y"}}]})", &err);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->logprob_tokens);
  auto usage = ParseStreamEvent(R"({"choices":[],"usage":{"completion_tokens":9,"prompt_tokens":4}})", &err);
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->usage_completion_tokens, 9);
  EXPECT_EQ(usage->usage_prompt_tokens, 4);
  auto usage_only = ParseStreamEvent(R"({"usage":{"completion_tokens":3}})", &err);
  ASSERT_TRUE(usage_only);
  EXPECT_TRUE(ParseStreamEvent("[DONE]", &err)->done);
  auto e = ParseStreamEvent(R"({"error":{"message":"overloaded"}})", &err);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error, "overloaded");
  EXPECT_FALSE(ParseStreamEvent("{\"choices\": [", &err));
  EXPECT_NE(err.find("not a JSON object"), std::string::npos);
  EXPECT_FALSE(ParseStreamEvent(R"({"id":"x"})", &err));
  EXPECT_NE(err.find("choices"), std::string::npos);
}

}  // namespace
}  // namespace dlb::serve
