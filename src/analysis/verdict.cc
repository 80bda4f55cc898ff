#include "analysis/verdict.h"

#include <fmt/format.h>

namespace dlb::analysis {

Advantage AdvantageOf(const PairComparison& r, const CompareOptions& o) {
  Advantage a;
  // B/A below 1 is B better when lower is better (latency, memory), above 1 when higher is.
  a.b_better = o.lower_is_better ? r.ratio < 1 : r.ratio > 1;
  const bool invert = r.ratio < 1;
  a.factor = invert ? 1 / r.ratio : r.ratio;
  if (r.ratio_ci) {
    a.ci = invert ? stats::Interval{1 / r.ratio_ci->hi, 1 / r.ratio_ci->lo} : *r.ratio_ci;
  }
  return a;
}

std::string UndecidedReason(const PairComparison& r, const CompareOptions& o) {
  if (r.kind != VerdictKind::kUndecided) return "";
  if (!r.ratio_ci) return "an interval needs 2 repetitions a side";
  const double lo_band = 1 - o.threshold, hi_band = 1 + o.threshold;
  if (r.ratio_ci->hi < lo_band || r.ratio_ci->lo > hi_band) {
    return "the interval excludes ±" + fmt::format("{:g}", o.threshold * 100) +
           "%, but the difference is not significant after Holm's adjustment over the table";
  }
  return fmt::format("the interval reaches across the ±{:g}% band's edge; more repetitions would "
                     "narrow it",
                     o.threshold * 100);
}

std::string VerdictSentence(const PairComparison& r, const VerdictSubject& s,
                            const CompareOptions& o) {
  const Advantage adv = AdvantageOf(r, o);
  // A claimed difference reads as the winner's factor with its interval; otherwise B/A with its own.
  std::string ci = adv.ci ? fmt::format("95% CI {:.3f}-{:.3f}x; ", adv.ci->lo, adv.ci->hi) : "";
  std::string ratio_ci =
      r.ratio_ci ? fmt::format("95% CI {:.3f}-{:.3f}; ", r.ratio_ci->lo, r.ratio_ci->hi) : "";
  std::string reps = fmt::format("{} and {} repetitions", s.reps_a, s.reps_b);
  switch (r.kind) {
    case VerdictKind::kBLower:
    case VerdictKind::kBHigher:
      return fmt::format("{}: {} {:.2f}x {} than {} ({}{})", s.where,
                         adv.b_better ? s.name_b : s.name_a, adv.factor, s.better,
                         adv.b_better ? s.name_a : s.name_b, ci, reps);
    case VerdictKind::kEquivalent:
      return fmt::format("{}: {} and {} equivalent within ±{:g}% (ratio {:.3f}; {}{})", s.where,
                         s.name_a, s.name_b, o.threshold * 100, r.ratio, ratio_ci, reps);
    case VerdictKind::kUndecided:
      break;
  }
  return fmt::format("{}: not decided, {} vs {} ratio {:.3f} ({}{}): {}", s.where, s.name_b,
                     s.name_a, r.ratio, ratio_ci, reps, UndecidedReason(r, o));
}

}  // namespace dlb::analysis
