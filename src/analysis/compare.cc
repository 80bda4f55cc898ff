#include "analysis/compare.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "stats/multitest.h"
#include "stats/power.h"

namespace dlb::analysis {
namespace {

std::vector<double> Flatten(const Sample& s) {
  std::vector<double> v;
  for (const auto& g : s.groups) v.insert(v.end(), g.begin(), g.end());
  return v;
}

std::vector<double> GroupMedians(const Sample& s) {
  std::vector<double> v;
  for (const auto& g : s.groups) {
    if (!g.empty()) v.push_back(stats::Median(g));
  }
  return v;
}

// Every value is an observation (dlbench stats): Welch on the values, the ratio of medians with a
// bootstrap CI, and the ratio of means with its own.
void CompareObservations(const std::vector<double>& a, const std::vector<double>& b,
                         const CompareOptions& o, PairComparison& c) {
  if (auto w = stats::WelchTTest(b, a)) {
    c.welch = *w;
  } else {
    c.notes.push_back(w.error());
  }
  stats::BootstrapOptions bo{o.n_resamples, 1 - o.alpha, o.seed};
  if (auto boot = stats::BootstrapRatio({b, a, stats::RatioStatistic::Medians}, bo)) {
    if (boot->bca) {
      c.ratio_ci = boot->bca->interval;
      c.ci_method = "BCa";
    } else {
      c.ratio_ci = boot->percentile;
      c.ci_method = "percentile";
      c.notes.push_back("BCa undefined (" + boot->bca.error() + "); percentile interval");
    }
  } else {
    c.notes.push_back(boot.error());
  }
  stats::BootstrapOptions means_options = bo;
  means_options.seed = o.seed + 1;
  if (auto boot = stats::BootstrapRatio({b, a, stats::RatioStatistic::Means}, means_options)) {
    c.ratio_of_means_ci = boot->bca ? boot->bca->interval : boot->percentile;
  }
}

}  // namespace

stats::Expected<RatioEstimate> RepetitionRatio(std::span<const double> medians_a,
                                        std::span<const double> medians_b, double confidence) {
  for (auto side : {medians_a, medians_b}) {
    for (double v : side) {
      if (!(v > 0) || !std::isfinite(v)) {
        return std::unexpected(fmt::format(
            "ratio over repetitions: a per-repetition value is {}; a ratio needs positive values",
            v));
      }
    }
  }
  if (medians_a.empty() || medians_b.empty()) {
    return std::unexpected("ratio over repetitions: a side has no repetition");
  }
  std::vector<double> la, lb;
  for (double v : medians_a) la.push_back(std::log(v));
  for (double v : medians_b) lb.push_back(std::log(v));
  RatioEstimate r;
  r.ratio = std::exp(stats::Mean(lb) - stats::Mean(la));
  if (la.size() < 2 || lb.size() < 2) {
    r.note = fmt::format("{} vs {} repetitions: an interval needs at least 2 per side", la.size(),
                         lb.size());
    return r;
  }
  if (auto w = stats::WelchTTest(lb, la)) {
    r.welch = *w;
  } else {
    r.note = w.error();
  }
  if (auto ci = stats::WelchInterval(lb, la, confidence)) {
    r.ci = stats::Interval{std::exp(ci->lo), std::exp(ci->hi)};
  } else if (r.note.empty()) {
    r.note = ci.error();
  }
  return r;
}

std::vector<std::optional<double>> PairHalfWidths(const std::vector<std::vector<double>>& medians,
                                                  const std::vector<std::pair<size_t, size_t>>& pairs,
                                                  double confidence) {
  std::vector<std::optional<double>> out;
  for (const auto& [a, b] : pairs) {
    auto r = RepetitionRatio(medians[a], medians[b], confidence);
    out.push_back(r && r->ci ? std::optional<double>(RelativeHalfWidth(*r->ci)) : std::nullopt);
  }
  return out;
}

std::string RepetitionMethodText(const CompareOptions& o, size_t family_size) {
  return fmt::format(
      "Each repetition (a fresh worker process) is one observation, its median. B/A is the ratio "
      "of the geometric means of the per-repetition medians, with the {:g}% Welch interval on the "
      "log scale; Welch's test there, Holm-adjusted over the {} comparison(s), decides (Mann-Whitney "
      "is shown, not required). A difference is claimed when the adjusted p < {:g} and the interval "
      "lies outside ±{:g}%; \"equivalent\" when it lies inside ±{:g}%. An interval needs at least "
      "2 repetitions per side, and is wide with few.",
      (1 - o.alpha) * 100, family_size, o.alpha, o.threshold * 100, o.threshold * 100);
}

double RelativeHalfWidth(const stats::Interval& ci) {
  return std::exp((std::log(ci.hi) - std::log(ci.lo)) / 2) - 1;
}

namespace {

// One observation per repetition (dlbench compare, the report, the scheduler's precision target):
// the per-repetition medians on a log scale, Welch's test and its interval there (RepetitionRatio).
void CompareRepetitions(const std::vector<double>& ta, const std::vector<double>& tb,
                        const CompareOptions& o, PairComparison& c) {
  auto r = RepetitionRatio(ta, tb, 1 - o.alpha);
  if (!r) {
    c.notes.push_back(r.error());
    return;
  }
  c.ratio = r->ratio;
  c.welch = r->welch;
  c.ratio_ci = r->ci;
  if (r->ci) c.ci_method = "welch-log";
  if (!r->note.empty()) c.notes.push_back(r->note);
}

}  // namespace

VerdictKind Decide(std::optional<double> p_welch_adj, std::optional<double> p_mwu_adj,
                   bool require_mwu, std::optional<stats::Interval> ci, const CompareOptions& o) {
  if (!ci) return VerdictKind::kUndecided;
  double lo_band = 1 - o.threshold, hi_band = 1 + o.threshold;
  if (ci->lo >= lo_band && ci->hi <= hi_band) return VerdictKind::kEquivalent;
  bool significant = p_welch_adj && *p_welch_adj < o.alpha;
  if (require_mwu) significant = significant && p_mwu_adj && *p_mwu_adj < o.alpha;
  if (significant && ci->hi < lo_band) return VerdictKind::kBLower;
  if (significant && ci->lo > hi_band) return VerdictKind::kBHigher;
  return VerdictKind::kUndecided;
}

std::string VerdictText(VerdictKind kind, const CompareOptions& o) {
  switch (kind) {
    case VerdictKind::kBLower: return o.lower_is_better ? "B faster" : "B lower";
    case VerdictKind::kBHigher: return o.lower_is_better ? "B slower" : "B higher";
    case VerdictKind::kEquivalent: return fmt::format("equivalent within ±{:g}%", o.threshold * 100);
    case VerdictKind::kUndecided: break;
  }
  return "no significant difference";
}

std::string Verdict(std::optional<double> p_welch_adj, std::optional<double> p_mwu_adj,
                    std::optional<stats::Interval> ci, const CompareOptions& o) {
  return VerdictText(Decide(p_welch_adj, p_mwu_adj, true, ci, o), o);
}

std::vector<PairComparison> CompareFamily(const std::vector<Sample>& samples,
                                          const std::vector<std::pair<size_t, size_t>>& pairs,
                                          Grouping grouping, const CompareOptions& o) {
  std::vector<PairComparison> out;
  std::vector<double> p_welch, p_mwu;
  std::vector<size_t> welch_idx, mwu_idx;
  for (const auto& [ia, ib] : pairs) {
    PairComparison c;
    c.a = ia;
    c.b = ib;
    const Sample& A = samples[ia];
    const Sample& B = samples[ib];
    std::vector<double> a = Flatten(A), b = Flatten(B);
    c.median_a = stats::Median(a);
    c.median_b = stats::Median(b);
    c.ratio = c.median_a != 0 ? c.median_b / c.median_a : NAN;
    c.ratio_of_means = stats::Mean(a) != 0 ? stats::Mean(b) / stats::Mean(a) : NAN;
    // The tests' observations: every value, or one median per repetition.
    std::vector<double> ta = grouping == Grouping::kRepetitions ? GroupMedians(A) : a;
    std::vector<double> tb = grouping == Grouping::kRepetitions ? GroupMedians(B) : b;
    if (grouping == Grouping::kRepetitions) {
      CompareRepetitions(ta, tb, o, c);
    } else {
      CompareObservations(a, b, o, c);
    }
    if (auto m = stats::MannWhitneyU(tb, ta)) {
      c.mwu = *m;
    } else {
      c.notes.push_back(m.error());
    }
    if (auto e = stats::CohensD(tb, ta)) {
      c.effect = *e;
    } else {
      c.notes.push_back(e.error());
    }
    if (std::min(ta.size(), tb.size()) < 9) {
      c.notes.push_back(fmt::format(
          "{} vs {} observations: Mann-Whitney is unreliable below 9 per side (Google Benchmark's "
          "rule)", ta.size(), tb.size()));
    }
    // Power: how many observations per side would detect a `threshold` shift of A's mean.
    if (ta.size() >= 2 && tb.size() >= 2) {
      double ma = stats::Mean(ta), mb = stats::Mean(tb);
      double pooled = std::sqrt((stats::SumSquaredDeviations(ta, ma) + stats::SumSquaredDeviations(tb, mb)) /
                                static_cast<double>(ta.size() + tb.size() - 2));
      if (pooled > 0 && ma != 0) {
        stats::SampleSizeQuery q;
        q.effect_size = o.threshold * std::fabs(ma) / pooled;
        q.alpha = o.alpha;
        q.target_power = 0.8;
        q.max_n = 100'000'000;
        if (auto n = stats::SmallestNPerGroup(q)) c.n_for_power = *n;
      }
    }
    if (c.welch) {
      p_welch.push_back(c.welch->p);
      welch_idx.push_back(out.size());
    }
    if (c.mwu) {
      p_mwu.push_back(c.mwu->p);
      mwu_idx.push_back(out.size());
    }
    out.push_back(std::move(c));
  }
  if (!p_welch.empty()) {
    if (auto adj = stats::Holm(p_welch, o.alpha)) {
      for (size_t k = 0; k < welch_idx.size(); ++k) out[welch_idx[k]].p_welch_adjusted = adj->p[k];
    }
  }
  if (!p_mwu.empty()) {
    if (auto adj = stats::Holm(p_mwu, o.alpha)) {
      for (size_t k = 0; k < mwu_idx.size(); ++k) out[mwu_idx[k]].p_mwu_adjusted = adj->p[k];
    }
  }
  // Over repetitions Welch's test on log medians decides alone: a repetition's median is close to
  // normal, and Mann-Whitney cannot reach p < 0.05 below 4 repetitions per side (it is reported).
  // Over plain values both tests must agree, since latency distributions are rarely normal.
  const bool require_mwu = grouping == Grouping::kNone;
  for (auto& c : out) {
    c.kind = Decide(c.p_welch_adjusted, c.p_mwu_adjusted, require_mwu, c.ratio_ci, o);
    c.verdict = VerdictText(c.kind, o);
  }
  return out;
}

}  // namespace dlb::analysis
