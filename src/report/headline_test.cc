// The report's opening is generated from the data: what was compared (the axes that vary, the ones
// that do not), the verdicts sorted into won / equivalent / not decided with the largest effect
// first, why the undecided ones were not decided, and the best throughput per model.
#include "report/headline.h"

#include <gtest/gtest.h>

namespace dlb::report {
namespace {

ReportCell Cell(const std::string& framework, int64_t batch, double p50_ns) {
  ReportCell rc;
  rc.run_id = 1;
  rc.cell.framework = framework;
  rc.cell.model = "resnet50";
  rc.cell.batch = batch;
  rc.cell.precision = "fp32";
  rc.cell.device = "cpu";
  rc.cell.workload = "inference";
  rc.cell.layout = "default";
  rc.cell.variant = "default";
  rc.cell.environment = "native";
  rc.cell.status = "ok";
  rc.cell.repetitions_ok = 3;
  rc.cell.p50_ns = p50_ns;
  return rc;
}

Finding MakeFinding(double ratio, analysis::VerdictKind kind, const std::string& sentence,
                    analysis::UndecidedCause cause = analysis::UndecidedCause::kNone) {
  Finding f;
  f.ratio = ratio;
  f.kind = kind;
  f.sentence = sentence;
  f.cause = cause;
  return f;
}

ReportInput Input() {
  ReportInput in;
  store::RunRow run;
  run.run_id = 1;
  run.experiment = "cpu-study";
  run.host = "devbox";
  run.started_at = "2026-11-27T10:00:00Z";
  in.runs.push_back(run);
  in.cells = {Cell("torch", 1, 2e6), Cell("jax", 1, 1e6), Cell("torch", 8, 8e6), Cell("jax", 8, 4e6)};
  using K = analysis::VerdictKind;
  in.findings = {MakeFinding(0.9, K::kBLower, "small win"), MakeFinding(0.5, K::kBLower, "big win"),
                 MakeFinding(1.001, K::kEquivalent, "same"),
                 MakeFinding(1.03, K::kUndecided, "open", analysis::UndecidedCause::kScatter),
                 MakeFinding(1.2, K::kUndecided, "open 2", analysis::UndecidedCause::kNeedsMore)};
  return in;
}

TEST(Headline, SaysWhatWasComparedAlongTheAxesThatVary) {
  Headline h = BuildHeadline(Input());
  ASSERT_EQ(h.compared.size(), 1u);
  EXPECT_EQ(h.compared[0],
            "Run 1 (cpu-study, host devbox, started 2026-11-27T10:00:00Z): 4 of 4 cells succeeded: "
            "resnet50, fp32, cpu; compared across framework (torch, jax) and batch "
            "(batch 1, batch 8); 3 repetitions per cell.");
}

TEST(Headline, SortsVerdictsLargestEffectFirstAndSaysWhyTheRestAreOpen) {
  Headline h = BuildHeadline(Input());
  EXPECT_EQ(h.won, (std::vector<std::string>{"big win", "small win"}));
  EXPECT_EQ(h.equivalent, (std::vector<std::string>{"same"}));
  EXPECT_EQ(h.undecided, (std::vector<std::string>{"open 2", "open"}));
  EXPECT_EQ(h.undecided_why,
            "2 of 5 comparisons were not decided: 1 because a few more repetitions would decide "
            "them; 1 because the repetitions scatter too much here for a finer answer than a bound.");
}

TEST(Headline, CountsWhatDoesNotFitInAList) {
  Headline h = BuildHeadline(Input(), 1);
  EXPECT_EQ(h.won, (std::vector<std::string>{"big win"}));
  EXPECT_EQ(h.more_won, 1u);
  EXPECT_EQ(h.more_undecided, 1u);
}

TEST(Headline, NamesTheHighestThroughputPerModel) {
  Headline h = BuildHeadline(Input());
  ASSERT_EQ(h.best.size(), 1u);
  EXPECT_NE(h.best[0].find("Highest throughput measured for resnet50: jax fp32 at batch 8, 2000 "
                           "samples/s"),
            std::string::npos)
      << h.best[0];
}

}  // namespace
}  // namespace dlb::report
