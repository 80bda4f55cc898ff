#include "analysis/compare.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

// The ratio's intervals for samples of repetitions: the hierarchical bootstrap.
void RepetitionIntervals(const Sample& A, const Sample& B, const std::vector<double>& a,
                         const std::vector<double>& b, const stats::BootstrapOptions& bo,
                         PairComparison& c) {
  stats::Expected<stats::BootstrapResult> boot =
      stats::HierarchicalBootstrapRatio({B.groups, A.groups, stats::RatioStatistic::Medians}, bo);
  if (boot) {
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
  c.ratio_of_means = stats::Mean(a) != 0 ? stats::Mean(b) / stats::Mean(a) : NAN;
  stats::BootstrapOptions means_options = bo;
  means_options.seed = bo.seed + 1;
  auto boot_means =
      stats::HierarchicalBootstrapRatio({B.groups, A.groups, stats::RatioStatistic::Means}, means_options);
  if (boot_means) c.ratio_of_means_ci = boot_means->bca ? boot_means->bca->interval : boot_means->percentile;
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

}  // namespace

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
  if (!ci) return "no significant difference";
  double lo_band = 1 - o.threshold, hi_band = 1 + o.threshold;
  if (ci->lo >= lo_band && ci->hi <= hi_band) {
    return fmt::format("equivalent within ±{:g}%", o.threshold * 100);
  }
  // Significant only when both tests agree after Holm: the t-test leans on normality of means,
  // Mann-Whitney on none, and latency distributions are rarely normal (Maricq et al.).
  bool significant = p_welch_adj && p_mwu_adj && *p_welch_adj < o.alpha && *p_mwu_adj < o.alpha;
  if (significant && ci->hi < lo_band) return o.lower_is_better ? "B faster" : "B lower";
  if (significant && ci->lo > hi_band) return o.lower_is_better ? "B slower" : "B higher";
  return "no significant difference";
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
    // The tests' observations: every value, or one median per repetition.
    std::vector<double> ta = grouping == Grouping::kRepetitions ? GroupMedians(A) : a;
    std::vector<double> tb = grouping == Grouping::kRepetitions ? GroupMedians(B) : b;
    if (auto w = stats::WelchTTest(tb, ta)) {
      c.welch = *w;
    } else {
      c.notes.push_back(w.error());
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
    stats::BootstrapOptions bo{o.n_resamples, 1 - o.alpha, o.seed};
    if (grouping == Grouping::kNone) {
      ValueIntervals(a, b, bo, c);
    } else {
      RepetitionIntervals(A, B, a, b, bo, c);
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
  for (auto& c : out) {
    std::optional<stats::Interval> ci = c.ratio_ci;
    if (c.difference && c.difference->medians_ci) ci = RelativeChange(*c.difference->medians_ci, c.median_a);
    c.verdict = Verdict(c.p_welch_adjusted, c.p_mwu_adjusted, ci, o);
  }
  return out;
}

}  // namespace dlb::analysis
