#include "serve/metrics.h"

#include <gtest/gtest.h>

#include <numeric>

#include "stats/descriptive.h"

namespace dlb::serve {
namespace {

constexpr int64_t kMs = 1'000'000;

RequestTrace Trace(int64_t due, int64_t sent, std::vector<Chunk> chunks, int64_t done) {
  RequestTrace t;
  t.due_ns = due;
  t.sent_ns = sent;
  t.chunks = std::move(chunks);
  t.done_ns = done;
  return t;
}

TEST(RequestMetrics, DefinitionsOnAHandMadeTrace) {
  // Due at 0, sent at 2 ms, tokens at 10, 20, 30, 40 ms (one per chunk), done at 41 ms.
  const RequestTrace t = Trace(0, 2 * kMs, {{10 * kMs, 1}, {20 * kMs, 1}, {30 * kMs, 1}, {40 * kMs, 1}}, 41 * kMs);
  const RequestMetrics m = MetricsOf(t);
  EXPECT_EQ(m.output_tokens, 4);
  EXPECT_DOUBLE_EQ(*m.ttft_due_s, 0.010);
  EXPECT_DOUBLE_EQ(*m.ttft_sent_s, 0.008);
  EXPECT_DOUBLE_EQ(*m.tpot_s, 0.010);
  EXPECT_DOUBLE_EQ(*m.e2e_s, 0.041);
  const auto itl = InterTokenLatencies(t);
  ASSERT_EQ(itl.size(), 3u);
  for (double x : itl) EXPECT_DOUBLE_EQ(x, 0.010);
}

TEST(RequestMetrics, ChunkingNeitherInflatesNorDeflatesItl) {
  // The same stream as tokens at 10, 20, ..., 90 ms, delivered one by one and in chunks of three:
  // TPOT is the same, and the ITL values sum to the same time with one value per token.
  std::vector<Chunk> single, chunked;
  for (int i = 1; i <= 9; ++i) single.push_back({i * 10 * kMs, 1});
  chunked = {{10 * kMs, 1}, {40 * kMs, 3}, {70 * kMs, 3}, {90 * kMs, 2}};
  const RequestTrace a = Trace(0, 0, single, 90 * kMs), b = Trace(0, 0, chunked, 90 * kMs);
  EXPECT_EQ(MetricsOf(a).output_tokens, MetricsOf(b).output_tokens);
  EXPECT_DOUBLE_EQ(*MetricsOf(a).tpot_s, *MetricsOf(b).tpot_s);
  const auto ia = InterTokenLatencies(a), ib = InterTokenLatencies(b);
  EXPECT_EQ(ia.size(), ib.size());
  EXPECT_NEAR(std::accumulate(ia.begin(), ia.end(), 0.0), std::accumulate(ib.begin(), ib.end(), 0.0), 1e-12);
  EXPECT_DOUBLE_EQ(ib[0], 0.010);  // a chunk of 3 after 30 ms: three values of 10 ms
  EXPECT_DOUBLE_EQ(ib[5], 0.010);
}

TEST(RequestMetrics, FailedAndEmptyRequestsHaveNoLatencies) {
  RequestTrace t = Trace(0, 0, {{5 * kMs, 1}}, 6 * kMs);
  t.status = "truncated";
  EXPECT_FALSE(MetricsOf(t).ttft_due_s);
  EXPECT_TRUE(InterTokenLatencies(t).empty());
  const RequestTrace one = Trace(0, 0, {{5 * kMs, 1}}, 6 * kMs);
  EXPECT_TRUE(MetricsOf(one).ttft_due_s);
  EXPECT_FALSE(MetricsOf(one).tpot_s);  // one token: no TPOT
}

TEST(LoadMetrics, TheWindowStartsAtTheWarmupsLastTokenEvent) {
  std::vector<RequestTrace> ts;
  RequestTrace w = Trace(0, 0, {{10 * kMs, 1}, {100 * kMs, 1}}, 101 * kMs);
  w.warmup = true;
  ts.push_back(w);
  // Measured: one started during the warm-up (its first token counted out of the window), one after.
  ts.push_back(Trace(50 * kMs, 50 * kMs, {{60 * kMs, 1}, {120 * kMs, 1}, {140 * kMs, 1}}, 141 * kMs));
  ts.push_back(Trace(110 * kMs, 110 * kMs, {{130 * kMs, 1}, {201 * kMs, 1}}, 201 * kMs));
  RequestTrace bad = Trace(120 * kMs, 120 * kMs, {}, 125 * kMs);
  bad.status = "http_500";
  ts.push_back(bad);
  Slo slo;
  slo.ttft_s = 0.015;
  const LoadMetrics m = Summarize(ts, slo, /*has_due_times=*/true);
  EXPECT_EQ(m.warmup, 1);
  EXPECT_EQ(m.measured, 3);
  EXPECT_EQ(m.ok, 2);
  EXPECT_EQ(m.failed, 1);
  ASSERT_EQ(m.failures.size(), 1u);
  EXPECT_EQ(m.failures[0].first, "http_500");
  EXPECT_DOUBLE_EQ(m.window_start_s, 0.101);
  EXPECT_DOUBLE_EQ(m.window_s, 0.100);
  EXPECT_EQ(m.window_tokens, 4);  // 120, 140, 130, 201 ms; not the one at 60 ms
  EXPECT_DOUBLE_EQ(*m.output_tokens_per_s, 40);
  EXPECT_DOUBLE_EQ(*m.requests_per_s, 20);
  EXPECT_EQ(m.met_slo, 1);  // TTFT 10 ms meets 15 ms; 20 ms does not
  EXPECT_DOUBLE_EQ(*m.goodput_per_s, 10);
  EXPECT_EQ(m.ttft_due_s.n, 2);
  EXPECT_EQ(m.itl_s.n, 3);
}

TEST(LoadMetrics, TailsOnlyWithEnoughValuesAndWithAnInterval) {
  std::vector<double> v(1000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  const Distribution d = Describe(v);
  ASSERT_EQ(d.quantiles.size(), 3u);
  ASSERT_TRUE(d.quantiles[2].value);
  EXPECT_NEAR(*d.quantiles[2].value, 989.01, 1e-9);
  ASSERT_TRUE(d.quantiles[2].lo && d.quantiles[2].hi);
  EXPECT_LT(*d.quantiles[2].lo, *d.quantiles[2].value);
  EXPECT_GT(*d.quantiles[2].hi, *d.quantiles[2].value);
  const Distribution small = Describe(std::vector<double>(100, 1.0));
  EXPECT_TRUE(small.quantiles[1].value);   // p90 needs 64
  EXPECT_FALSE(small.quantiles[2].value);  // p99 needs 662
  EXPECT_EQ(small.quantiles[2].why_not, "n<662");
}

TEST(QuantileCi, CoverageReachesTheConfidenceAndRanksAreEqualTailed) {
  std::vector<double> v(400);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i + 1);
  auto ci = stats::QuantileConfidenceInterval(v, 0.99, 0.95);
  ASSERT_TRUE(ci);
  EXPECT_GE(ci->coverage, 0.95);
  EXPECT_LT(ci->l, 396);
  EXPECT_LE(ci->u, 400);
  // Too few for an upper rank: P(B <= n-1) = 1 - 0.99^n < 0.975 for n < 367.
  EXPECT_FALSE(stats::QuantileConfidenceInterval(std::vector<double>(300, 1.0), 0.99, 0.95));
  // The median agrees with the symmetric median interval.
  std::vector<double> w(101);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<double>(i);
  auto q = stats::QuantileConfidenceInterval(w, 0.5, 0.95);
  auto m = stats::MedianConfidenceInterval(w, 0.95);
  ASSERT_TRUE(q && m);
  EXPECT_EQ(q->l, m->j);
  EXPECT_EQ(q->u, m->k);
}

}  // namespace
}  // namespace dlb::serve
