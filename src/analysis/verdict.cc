#include "analysis/verdict.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace dlb::analysis {
namespace {

std::string Repetitions(size_t n) { return n == 1 ? "1 repetition" : fmt::format("{} repetitions", n); }

// "2 torch repetitions and 1 jax repetition measured beside a busy neighbour were left out"
std::string LeftOut(const VerdictSubject& s) {
  std::vector<std::string> parts;
  if (s.contaminated_a > 0) parts.push_back(fmt::format("{} {}", s.contaminated_a, s.name_a));
  if (s.contaminated_b > 0) parts.push_back(fmt::format("{} {}", s.contaminated_b, s.name_b));
  if (parts.empty()) return "";
  const size_t n = s.contaminated_a + s.contaminated_b;
  return fmt::format("{} {} measured beside a busy neighbour {} left out",
                     parts.size() == 2 ? parts[0] + " and " + parts[1] : parts[0],
                     n == 1 ? "repetition" : "repetitions", n == 1 ? "was" : "were");
}

// "; about 12 repetitions a side would decide it" or "".
std::string WouldDecide(const PairComparison& r) {
  if (!r.outlook || !r.outlook->repetitions) return "";
  return fmt::format("; about {} repetitions a side would decide it", *r.outlook->repetitions);
}

}  // namespace

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

std::string UndecidedCauseText(UndecidedCause cause) {
  switch (cause) {
    case UndecidedCause::kNone: return "";
    case UndecidedCause::kTooFew: return "too few repetitions for an interval";
    case UndecidedCause::kContaminated:
      return "too few clean repetitions: the others were measured beside a busy neighbour";
    case UndecidedCause::kHolm: return "the difference does not survive Holm's adjustment over the table";
    case UndecidedCause::kNeedsMore: return "a few more repetitions would decide them";
    case UndecidedCause::kScatter:
      return "the repetitions scatter too much here for a finer answer than a bound";
  }
  return "";
}

Undecided WhyUndecided(const PairComparison& r, const VerdictSubject& s, const CompareOptions& o) {
  if (r.kind != VerdictKind::kUndecided) return {};
  const std::string left_out = LeftOut(s);
  if (!r.ratio_ci) {
    if (!left_out.empty()) {
      return {UndecidedCause::kContaminated,
              fmt::format("an interval needs 2 clean repetitions a side, and {}; rerun when the "
                          "machine is quiet, or allow more [contention] replacements "
                          "(dlbench compare --include-contaminated puts them back)",
                          left_out)};
    }
    return {UndecidedCause::kTooFew, "an interval needs 2 repetitions a side"};
  }
  const double band = o.threshold * 100;
  const std::string also = left_out.empty() ? "" : "; " + left_out;
  if (r.ratio_ci->hi < 1 - o.threshold || r.ratio_ci->lo > 1 + o.threshold) {
    return {UndecidedCause::kHolm,
            fmt::format("the interval excludes ±{:g}% on its own, but the difference is not "
                        "significant after Holm's adjustment over the table{}{}",
                        band, WouldDecide(r), also)};
  }
  const size_t have = std::max(s.reps_a, s.reps_b);
  const double scatter = r.outlook ? std::expm1(r.outlook->scatter) * 100 : NAN;
  if (r.outlook && r.outlook->repetitions &&
      *r.outlook->repetitions <= kFeasibleRepetitionFactor * static_cast<int>(std::max<size_t>(have, 1))) {
    return {UndecidedCause::kNeedsMore,
            fmt::format("the interval reaches across the ±{:g}% band's edge; more repetitions would "
                        "narrow it: about {} a side would decide it (a repetition scatters {:.1f}% "
                        "here){}",
                        band, *r.outlook->repetitions, scatter, also)};
  }
  std::string bound = fmt::format(
      "{} and {} are within {:.3f}-{:.3f}x of each other here ({}/{}); ", s.name_b, s.name_a,
      r.ratio_ci->lo, r.ratio_ci->hi, s.name_b, s.name_a);
  if (!r.outlook) {
    return {UndecidedCause::kScatter, bound + "nothing finer can be said with these repetitions" + also};
  }
  return {UndecidedCause::kScatter,
          bound + fmt::format("this machine's repetitions scatter {:.1f}%, so nothing finer can be "
                              "said with {} a side ({}){}",
                              scatter, have,
                              r.outlook->repetitions
                                  ? fmt::format("deciding it would take about {}",
                                                *r.outlook->repetitions)
                                  : fmt::format("the ratio sits so near the ±{:g}% band's edge that "
                                                "no practical number of repetitions would decide it",
                                                band),
                              also)};
}

std::string VerdictSentence(const PairComparison& r, const VerdictSubject& s,
                            const CompareOptions& o) {
  const Advantage adv = AdvantageOf(r, o);
  // A claimed difference reads as the winner's factor with its interval; otherwise B/A with its own.
  std::string ci = adv.ci ? fmt::format("95% CI {:.3f}-{:.3f}x; ", adv.ci->lo, adv.ci->hi) : "";
  std::string ratio_ci =
      r.ratio_ci ? fmt::format("95% CI {:.3f}-{:.3f}; ", r.ratio_ci->lo, r.ratio_ci->hi) : "";
  std::string reps = fmt::format("{} and {}", s.reps_a, Repetitions(s.reps_b));
  std::string left_out = LeftOut(s);
  if (!left_out.empty()) left_out = "; " + left_out;
  switch (r.kind) {
    case VerdictKind::kBLower:
    case VerdictKind::kBHigher:
      return fmt::format("{}: {} {:.2f}x {} than {} ({}{}){}", s.where,
                         adv.b_better ? s.name_b : s.name_a, adv.factor, s.better,
                         adv.b_better ? s.name_a : s.name_b, ci, reps, left_out);
    case VerdictKind::kEquivalent:
      return fmt::format("{}: {} and {} equivalent within ±{:g}% (ratio {:.3f}; {}{}){}", s.where,
                         s.name_a, s.name_b, o.threshold * 100, r.ratio, ratio_ci, reps, left_out);
    case VerdictKind::kUndecided:
      break;
  }
  // The reason names what was left out itself.
  const std::string ratio = std::isnan(r.ratio) ? "has no ratio" : fmt::format("ratio {:.3f}", r.ratio);
  return fmt::format("{}: not decided, {} vs {} {} ({}{}): {}", s.where, s.name_b, s.name_a, ratio,
                     ratio_ci, reps, WhyUndecided(r, s, o).words);
}

}  // namespace dlb::analysis
