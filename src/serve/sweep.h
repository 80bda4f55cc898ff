// The rate sweep (MLPerf LoadGen's Server scenario, asked as a question): at which request rate does
// the server still keep p99 TTFT and p99 TPOT under their limits? Each rate of the sweep is one
// seeded open-loop load summarised by Summarize (serve/metrics.h); these functions judge the rates
// and answer the question, and are pure, so the command (cli/load.cc) only orchestrates.
//
// Per rate and limit, a three-way verdict from the p99's distribution-free 95% interval:
//   meets      the interval's upper bound is at or under the limit;
//   fails      its lower bound is over the limit;
//   undecided  the interval contains the limit, or there is no interval (fewer than
//              stats::kMinSamplesP99 values: "n<662"); never a point estimate instead.
// A rate meets when every limit meets and no measured request failed (a failed request has no
// latency, so the p99 over the others would flatter the server); it fails when any limit fails;
// otherwise it is undecided.
//
// The answer over the rates, in increasing order: the largest rate that meets with every lower rate
// meeting too. With undecided rates it is bounded instead: at least the largest rate with only
// meeting rates up to it, at most the largest rate with no failing rate up to it.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "serve/metrics.h"

namespace dlb::serve {

enum class Verdict { kMeets, kFails, kUndecided };
std::string VerdictName(Verdict v);  // "meets", "fails", "undecided"

// One limit against one metric's p99.
struct LimitVerdict {
  std::string metric;  // "TTFT", "TPOT"
  double limit_s = 0;
  Verdict verdict = Verdict::kUndecided;
  std::string why;  // undecided: "n<662", "interval contains the limit", ...; empty otherwise
};
LimitVerdict JudgeP99(const std::string& metric, const Distribution& d, double limit_s);

struct RateVerdict {
  double rate = 0;  // the target rate, requests/s
  std::vector<LimitVerdict> limits;  // TTFT (from due) then TPOT, those that are set
  Verdict verdict = Verdict::kUndecided;
  std::string why;  // e.g. "TTFT n<662", "TPOT", "3 requests failed"; empty when it meets
};
// The slo must set at least one limit.
RateVerdict JudgeRate(double rate, const LoadMetrics& m, const Slo& slo);

struct SweepAnswer {
  // The largest rate known to meet, every lower rate meeting too; nullopt when none is.
  std::optional<double> at_least;
  // The largest rate that may meet: no rate up to it fails and it does not fail itself. Equal to
  // at_least when the answer is decided; nullopt when the lowest rate fails.
  std::optional<double> at_most;
  bool decided() const { return at_least == at_most; }
  bool highest_run = false;  // decided, and the answer is the highest rate that was run
  std::string text;          // one line, e.g. "300 requests/s (3000 fails: TTFT)"
};
// rates in increasing order of rate.
SweepAnswer Answer(std::span<const RateVerdict> rates);

}  // namespace dlb::serve
