#include "analysis/compare.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/math/distributions/students_t.hpp>

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

bool AllPositive(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return x > 0; });
}

// The intervals for plain values (dlbench stats): bootstrap or analytic by size
// (stats::IntervalOfContrast), of the ratio B/A when every value is positive, else of B - A.
void ValueIntervals(const std::vector<double>& a, const std::vector<double>& b,
                    const stats::BootstrapOptions& bo, PairComparison& c) {
  bool ratio = AllPositive(a) && AllPositive(b);
  std::string why_not;
  if (!ratio) {
    why_not = "a value <= 0 on a side: a ratio would mean nothing";
  } else if (!stats::RatioEstimate({b, a})) {
    why_not = fmt::format("B/A = {:g} / {:g} is beyond the range of a double", c.median_b, c.median_a);
    ratio = false;
  }
  stats::BootstrapOptions means_options = bo;
  means_options.seed = bo.seed + 1;
  auto interval = [&](stats::RatioStatistic statistic, const stats::BootstrapOptions& options) {
    const auto contrast = ratio ? stats::Contrast::kRatio : stats::Contrast::kDifference;
    return stats::IntervalOfContrast({b, a, statistic, contrast}, options);
  };
  auto medians = interval(stats::RatioStatistic::Medians, bo);
  auto means = interval(stats::RatioStatistic::Means, means_options);
  if (medians) {
    c.ci_method = medians->method;
    if (!medians->note.empty()) c.notes.push_back(medians->note);
  } else {
    c.notes.push_back(medians.error());
  }
  if (ratio) {
    c.ratio_of_means = stats::Mean(b) / stats::Mean(a);
    if (medians) c.ratio_ci = medians->interval;
    if (means) c.ratio_of_means_ci = means->interval;
    return;
  }
  c.ratio = c.ratio_of_means = NAN;
  c.notes.push_back(why_not + ", so B - A is compared instead");
  PairComparison::Difference d{.medians = c.median_b - c.median_a,
                               .means = stats::Mean(b) - stats::Mean(a)};
  if (medians) d.medians_ci = medians->interval;
  if (means) {
    d.means_ci = means->interval;
    d.means_ci_method = means->method;
  }
  c.difference = d;
}

// Every value is an observation (dlbench stats): Welch on the values, and the intervals of
// ValueIntervals.
void CompareObservations(const std::vector<double>& a, const std::vector<double>& b,
                         const CompareOptions& o, PairComparison& c) {
  if (auto w = stats::WelchTTest(b, a)) {
    c.welch = *w;
  } else {
    c.notes.push_back(w.error());
  }
  ValueIntervals(a, b, stats::BootstrapOptions{o.n_resamples, 1 - o.alpha, o.seed}, c);
}

}  // namespace

namespace {

std::optional<std::string> CheckPositive(std::span<const double> side) {
  for (double v : side) {
    if (!(v > 0) || !std::isfinite(v)) {
      return fmt::format(
          "ratio over repetitions: a per-repetition value is {}; a ratio needs positive values", v);
    }
  }
  return std::nullopt;
}

std::vector<double> Logs(std::span<const double> v) {
  std::vector<double> out;
  out.reserve(v.size());
  for (double x : v) out.push_back(std::log(x));
  return out;
}

double SampleVariance(std::span<const double> v) {
  return stats::SumSquaredDeviations(v, stats::Mean(v)) / static_cast<double>(v.size() - 1);
}

// Welch-Satterthwaite degrees of freedom of a difference of two means from n_a and n_b values
// with sample variances va and vb; nullopt when both are 0.
std::optional<double> WelchDf(double va, double na, double vb, double nb) {
  const double qa = va / na, qb = vb / nb;
  const double denominator = qa * qa / (na - 1) + qb * qb / (nb - 1);
  if (!(denominator > 0)) return std::nullopt;
  return (qa + qb) * (qa + qb) / denominator;
}

double TQuantile(double df, double confidence) {
  return boost::math::quantile(boost::math::students_t_distribution<double>(df), (1 + confidence) / 2);
}

// Stein's interval: the difference of the means of all values, its standard error from the first
// stage1 values' variances over the final sizes, and t at the first stage's Welch df.
void TwoStage(const std::vector<double>& la, const std::vector<double>& lb, int stage1,
              double confidence, RatioEstimate& r) {
  const auto n0 = static_cast<size_t>(stage1);
  std::span<const double> a0(la.data(), n0), b0(lb.data(), n0);
  const double va = SampleVariance(a0), vb = SampleVariance(b0);
  auto df = WelchDf(va, static_cast<double>(n0), vb, static_cast<double>(n0));
  if (!df) {
    r.note = "two-stage: the first stage's repetitions are all equal; no interval";
    return;
  }
  const double d = stats::Mean(lb) - stats::Mean(la);
  const double se = std::sqrt(va / static_cast<double>(la.size()) + vb / static_cast<double>(lb.size()));
  const double q = TQuantile(*df, confidence);
  r.ci = stats::Interval{std::exp(d - q * se), std::exp(d + q * se)};
  const double t = d / se;
  const double p =
      2 * boost::math::cdf(boost::math::students_t_distribution<double>(*df), -std::fabs(t));
  r.welch = stats::WelchResult{.t = t, .df = *df, .p = p};
  r.two_stage = true;
}

}  // namespace

stats::Expected<RatioEstimate> RepetitionRatio(std::span<const double> medians_a,
                                               std::span<const double> medians_b,
                                               double confidence, int stage1) {
  for (auto side : {medians_a, medians_b}) {
    if (auto bad = CheckPositive(side)) return std::unexpected(*bad);
  }
  if (medians_a.empty() || medians_b.empty()) {
    return std::unexpected("ratio over repetitions: a side has no repetition");
  }
  std::vector<double> la = Logs(medians_a), lb = Logs(medians_b);
  RatioEstimate r;
  r.ratio = std::exp(stats::Mean(lb) - stats::Mean(la));
  if (la.size() < 2 || lb.size() < 2) {
    r.note = fmt::format("{} vs {} repetitions: an interval needs at least 2 per side", la.size(),
                         lb.size());
    return r;
  }
  const auto n0 = static_cast<size_t>(std::max(stage1, 0));
  if (n0 >= 2 && la.size() >= n0 && lb.size() >= n0) {
    TwoStage(la, lb, stage1, confidence, r);
    return r;
  }
  if (stage1 > 0) {
    r.note = fmt::format("two-stage design: fewer than {} successful repetitions on a side, so the "
                         "ordinary Welch interval over all of them", stage1);
  }
  if (auto w = stats::WelchTTest(lb, la)) {
    r.welch = *w;
  } else if (r.note.empty()) {
    r.note = w.error();
  }
  if (auto ci = stats::WelchInterval(lb, la, confidence)) {
    r.ci = stats::Interval{std::exp(ci->lo), std::exp(ci->hi)};
  } else if (r.note.empty()) {
    r.note = ci.error();
  }
  return r;
}

std::optional<SteinPlan> SteinRepetitions(std::span<const double> stage1_a,
                                          std::span<const double> stage1_b, double target,
                                          double confidence) {
  if (stage1_a.size() < 2 || stage1_b.size() < 2) return std::nullopt;
  if (CheckPositive(stage1_a) || CheckPositive(stage1_b)) return std::nullopt;
  std::vector<double> la = Logs(stage1_a), lb = Logs(stage1_b);
  const double na = static_cast<double>(la.size()), nb = static_cast<double>(lb.size());
  const double va = SampleVariance(la), vb = SampleVariance(lb);
  SteinPlan plan;
  const int n0 = static_cast<int>(std::min(la.size(), lb.size()));
  auto df = WelchDf(va, na, vb, nb);
  if (!df) {  // no scatter at all in the first stage: it is as precise as it will get
    plan.repetitions = n0;
    return plan;
  }
  const double q = TQuantile(*df, confidence);
  plan.stage1_half_width = std::exp(q * std::sqrt(va / na + vb / nb)) - 1;
  const double h = std::log1p(target);
  plan.repetitions = std::max(n0, static_cast<int>(std::ceil(q * q * (va + vb) / (h * h))));
  return plan;
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

std::optional<PairComparison::Outlook> DecideOutlook(std::span<const double> medians_a,
                                                     std::span<const double> medians_b,
                                                     const CompareOptions& o, size_t family_size) {
  if (medians_a.size() < 2 || medians_b.size() < 2) return std::nullopt;
  if (CheckPositive(medians_a) || CheckPositive(medians_b)) return std::nullopt;
  std::vector<double> la = Logs(medians_a), lb = Logs(medians_b);
  const double va = SampleVariance(la), vb = SampleVariance(lb);
  PairComparison::Outlook out;
  out.scatter = std::sqrt((va + vb) / 2);
  const double margin = std::fabs(std::fabs(stats::Mean(lb) - stats::Mean(la)) - std::log1p(o.threshold));
  if (!(margin > 0)) return out;
  const double confidence = 1 - o.alpha / static_cast<double>(std::max<size_t>(family_size, 1));
  if (!(va + vb > 0)) {
    out.repetitions = 2;
    return out;
  }
  // The half-width falls as n grows; find the first n below the margin by doubling, then bisect.
  // Welch-Satterthwaite's df for n a side: (n - 1)(va + vb)^2 / (va^2 + vb^2).
  const double df_per_n = (va + vb) * (va + vb) / (va * va + vb * vb);
  auto decides = [&](int n) {
    return TQuantile((n - 1) * df_per_n, confidence) * std::sqrt((va + vb) / n) < margin;
  };
  int hi = 2;
  while (!decides(hi)) {
    if (hi >= kMaxOutlookRepetitions) return out;
    hi = std::min(hi * 2, kMaxOutlookRepetitions);
  }
  int lo = std::max(2, hi / 2);
  while (lo < hi) {
    const int mid = lo + (hi - lo) / 2;
    if (decides(mid)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  // The pair is undecided with what it has, so the answer is more than that, whatever the
  // approximation (equal sides, Bonferroni for Holm) says.
  out.repetitions = std::max(hi, static_cast<int>(std::max(la.size(), lb.size())) + 1);
  return out;
}

bool FirstStageWhole(std::span<const StageRepetition> reps, int64_t stage1) {
  std::vector<int64_t> members;
  int64_t clean = 0;
  for (const auto& r : reps) {
    const bool in = r.rep_idx < stage1 ||
                    (r.replaces && std::find(members.begin(), members.end(), *r.replaces) != members.end());
    if (!in) continue;
    members.push_back(r.rep_idx);
    clean += r.clean_ok;
  }
  return clean == stage1;
}

double RelativeHalfWidth(const stats::Interval& ci) {
  return std::exp((std::log(ci.hi) - std::log(ci.lo)) / 2) - 1;
}

namespace {

// One observation per repetition (dlbench compare, the report, the scheduler's precision target):
// the per-repetition medians on a log scale, Welch's test and its interval there (RepetitionRatio).
void CompareRepetitions(const std::vector<double>& ta, const std::vector<double>& tb,
                        const CompareOptions& o, int stage1, PairComparison& c) {
  auto r = RepetitionRatio(ta, tb, 1 - o.alpha, stage1);
  if (!r) {
    c.notes.push_back(r.error());
    return;
  }
  c.ratio = r->ratio;
  c.welch = r->welch;
  c.ratio_ci = r->ci;
  if (r->ci) c.ci_method = r->two_stage ? "two-stage-log" : "welch-log";
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

stats::Interval RelativeChange(const stats::Interval& difference_ci, double median_a) {
  if (median_a != 0) {
    const double scale = std::abs(median_a);
    return {1 + difference_ci.lo / scale, 1 + difference_ci.hi / scale};
  }
  const double inf = std::numeric_limits<double>::infinity();
  auto side = [&](double v) { return v > 0 ? inf : v < 0 ? -inf : 1.0; };
  return {side(difference_ci.lo), side(difference_ci.hi)};
}

std::string Verdict(std::optional<double> p_welch_adj, std::optional<double> p_mwu_adj,
                    std::optional<stats::Interval> ci, const CompareOptions& o) {
  return VerdictText(Decide(p_welch_adj, p_mwu_adj, true, ci, o), o);
}

std::vector<PairComparison> CompareFamily(const std::vector<Sample>& samples,
                                          const std::vector<std::pair<size_t, size_t>>& pairs,
                                          Grouping grouping, const CompareOptions& o,
                                          const std::vector<int>& stage1) {
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
    if (a.empty() || b.empty()) {
      // A side whose every repetition was left out (contaminated): no figure, no interval, and
      // the verdict sentence says why.
      c.median_a = a.empty() ? NAN : stats::Median(a);
      c.median_b = b.empty() ? NAN : stats::Median(b);
      c.ratio = NAN;
      c.ratio_of_means = NAN;
      c.notes.push_back("a side has no repetition with values");
      out.push_back(std::move(c));
      continue;
    }
    c.median_a = stats::Median(a);
    c.median_b = stats::Median(b);
    c.ratio = c.median_a != 0 ? c.median_b / c.median_a : NAN;
    c.ratio_of_means = stats::Mean(a) != 0 ? stats::Mean(b) / stats::Mean(a) : NAN;
    // The tests' observations: every value, or one median per repetition.
    std::vector<double> ta = grouping == Grouping::kRepetitions ? GroupMedians(A) : a;
    std::vector<double> tb = grouping == Grouping::kRepetitions ? GroupMedians(B) : b;
    if (grouping == Grouping::kRepetitions) {
      CompareRepetitions(ta, tb, o, out.size() < stage1.size() ? stage1[out.size()] : 0, c);
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
      const stats::Scaled s = stats::ScaleTogether(ta, tb);  // the effect size is scale-free
      double ma = stats::Mean(s.a), mb = stats::Mean(s.b);
      double pooled = std::sqrt((stats::SumSquaredDeviations(s.a, ma) + stats::SumSquaredDeviations(s.b, mb)) /
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
    std::optional<stats::Interval> ci = c.ratio_ci;
    if (c.difference && c.difference->medians_ci) ci = RelativeChange(*c.difference->medians_ci, c.median_a);
    c.kind = Decide(c.p_welch_adjusted, c.p_mwu_adjusted, require_mwu, ci, o);
    c.verdict = VerdictText(c.kind, o);
    if (grouping == Grouping::kRepetitions && c.kind == VerdictKind::kUndecided) {
      c.outlook = DecideOutlook(GroupMedians(samples[c.a]), GroupMedians(samples[c.b]), o, out.size());
    }
  }
  return out;
}

}  // namespace dlb::analysis
