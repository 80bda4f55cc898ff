#include "serve/sweep.h"

#include <fmt/format.h>

#include "util/strings.h"

namespace dlb::serve {

std::string VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kMeets: return "meets";
    case Verdict::kFails: return "fails";
    case Verdict::kUndecided: return "undecided";
  }
  return "undecided";
}

LimitVerdict JudgeP99(const std::string& metric, const Distribution& d, double limit_s) {
  LimitVerdict out;
  out.metric = metric;
  out.limit_s = limit_s;
  const Quantile* p99 = nullptr;
  for (const Quantile& q : d.quantiles) {
    if (q.q == 0.99) p99 = &q;
  }
  if (p99 == nullptr || !p99->value) {
    out.why = p99 != nullptr && !p99->why_not.empty() ? p99->why_not : "no p99";
  } else if (!p99->lo || !p99->hi) {
    out.why = "no interval";
  } else if (*p99->hi <= limit_s) {
    out.verdict = Verdict::kMeets;
  } else if (*p99->lo > limit_s) {
    out.verdict = Verdict::kFails;
  } else {
    out.why = "interval contains the limit";
  }
  return out;
}

RateVerdict JudgeRate(double rate, const LoadMetrics& m, const Slo& slo) {
  RateVerdict out;
  out.rate = rate;
  if (slo.ttft_s) out.limits.push_back(JudgeP99("TTFT", m.ttft_due_s, *slo.ttft_s));
  if (slo.tpot_s) out.limits.push_back(JudgeP99("TPOT", m.tpot_s, *slo.tpot_s));
  std::vector<std::string> failing, open;
  for (const LimitVerdict& l : out.limits) {
    if (l.verdict == Verdict::kFails) failing.push_back(l.metric);
    if (l.verdict == Verdict::kUndecided) open.push_back(l.metric + " " + l.why);
  }
  if (m.failed > 0) open.push_back(fmt::format("{} request{} failed", m.failed, m.failed == 1 ? "" : "s"));
  if (out.limits.empty()) open.push_back("no limit set");
  if (!failing.empty()) {
    out.verdict = Verdict::kFails;
    out.why = Join(failing, ", ");
  } else if (!open.empty()) {
    out.verdict = Verdict::kUndecided;
    out.why = Join(open, ", ");
  } else {
    out.verdict = Verdict::kMeets;
  }
  return out;
}

namespace {
std::string Explain(const RateVerdict& r) {
  return fmt::format("{} {}: {}", FormatFigure(r.rate), VerdictName(r.verdict), r.why);
}
}  // namespace

SweepAnswer Answer(std::span<const RateVerdict> rates) {
  SweepAnswer a;
  const RateVerdict* first_not_meeting = nullptr;
  const RateVerdict* first_failing = nullptr;
  for (const RateVerdict& r : rates) {
    if (r.verdict != Verdict::kMeets && first_not_meeting == nullptr) first_not_meeting = &r;
    if (r.verdict == Verdict::kFails && first_failing == nullptr) first_failing = &r;
    if (first_not_meeting == nullptr) a.at_least = r.rate;
    if (first_failing == nullptr) a.at_most = r.rate;
  }
  // Rates that met above a failing one: shown, never counted (higher rates should only get worse,
  // so a meeting rate there says more about the noise than about the server).
  std::vector<std::string> above;
  if (first_failing != nullptr) {
    for (const RateVerdict& r : rates) {
      if (r.rate > first_failing->rate && r.verdict == Verdict::kMeets) above.push_back(FormatFigure(r.rate));
    }
  }
  const std::string not_counted =
      above.empty() ? ""
                    : fmt::format("; {} met above a failing rate and {} not counted", Join(above, ", "),
                                  above.size() == 1 ? "is" : "are");
  if (rates.empty()) {
    a.text = "no rate was run";
  } else if (!a.at_most) {
    a.text = fmt::format("no rate met the limits ({}){}", Explain(*first_failing), not_counted);
  } else if (a.decided()) {
    a.highest_run = first_not_meeting == nullptr;
    a.text = a.highest_run ? fmt::format("{} requests/s, the highest rate run (a higher one was not tried)",
                                         FormatFigure(*a.at_least))
                           : fmt::format("{} requests/s ({}){}", FormatFigure(*a.at_least),
                                         Explain(*first_not_meeting), not_counted);
  } else if (a.at_least) {
    a.text = fmt::format("undecided between {} and {} requests/s ({}){}", FormatFigure(*a.at_least),
                         FormatFigure(*a.at_most), Explain(*first_not_meeting), not_counted);
  } else {
    a.text = fmt::format("undecided: no rate is known to meet the limits, at most {} requests/s ({}){}",
                         FormatFigure(*a.at_most), Explain(*first_not_meeting), not_counted);
  }
  return a;
}

}  // namespace dlb::serve
