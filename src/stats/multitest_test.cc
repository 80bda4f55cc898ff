// Pins Holm and Bonferroni to statsmodels multipletests (methodology S9): a family adjusted by
// hand, then tests/stats/multitest.json (a transcription of statsmodels' code run on fixed
// families), including ties, p = 0 and 1, and p exactly at alpha / k, where statsmodels rejects.
#include "stats/multitest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "stats/oracle_test_util.h"

namespace dlb::stats {
namespace {

using oracle::Near;

TEST(StatsHolm, HandAdjusted) {
  // sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max
  // 0.02, 0.03, 0.06, 0.06; at alpha 0.05 the step-down stops at 0.03 > 0.05 / 2.
  std::vector<double> p = {0.01, 0.04, 0.03, 0.005};
  auto r = Holm(p, 0.05);
  ASSERT_TRUE(r);
  const std::vector<double> want = {0.03, 0.06, 0.06, 0.02};
  for (size_t i = 0; i < p.size(); ++i) EXPECT_TRUE(Near(r->p[i], want[i])) << i;
  EXPECT_EQ(r->reject, (std::vector<bool>{true, false, false, true}));
}

TEST(StatsBonferroni, HandAdjusted) {
  std::vector<double> p = {0.01, 0.3, 0.0125};
  auto r = Bonferroni(p, 0.05);
  ASSERT_TRUE(r);
  EXPECT_TRUE(Near(r->p[0], 0.03));
  EXPECT_TRUE(Near(r->p[1], 0.9));
  EXPECT_EQ(r->reject, (std::vector<bool>{true, false, true}));
}

TEST(StatsMultitestOracle, MatchesStatsmodels) {
  const auto fixture = oracle::LoadFixture("multitest.json");
  ASSERT_GE(fixture["cases"].size(), 30u);
  for (const auto& c : fixture["cases"]) {
    const auto p = oracle::Doubles(c["p"]);
    const double alpha = c["alpha"];
    SCOPED_TRACE(c["call"].get<std::string>() + " with m=" + std::to_string(p.size()));
    auto r = c["method"] == "holm" ? Holm(p, alpha) : Bonferroni(p, alpha);
    ASSERT_TRUE(r) << r.error();
    const auto adjusted = oracle::Doubles(c["adjusted"]);
    for (size_t i = 0; i < p.size(); ++i) EXPECT_TRUE(Near(r->p[i], adjusted[i])) << i;
    EXPECT_EQ(r->reject, c["reject"].get<std::vector<bool>>());
  }
}

TEST(StatsMultitestErrors, EmptyNanAndBadAlpha) {
  std::vector<double> empty, nan = {0.1, NAN}, big = {1.5}, ok = {0.1};
  EXPECT_EQ(Holm(empty).error(), "holm: the family of p-values is empty");
  EXPECT_EQ(Bonferroni(nan).error(), "bonferroni: p-value nan at index 1 is not in [0, 1]");
  EXPECT_EQ(Holm(big).error(), "holm: p-value 1.5 at index 0 is not in [0, 1]");
  EXPECT_EQ(Holm(ok, 0).error(), "holm: alpha 0 is not in (0, 1)");
}

}  // namespace
}  // namespace dlb::stats
