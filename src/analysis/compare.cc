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

}  // namespace

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
    stats::Expected<stats::BootstrapResult> boot =
        grouping == Grouping::kRepetitions
            ? stats::HierarchicalBootstrapRatio({B.groups, A.groups, stats::RatioStatistic::Medians}, bo)
            : stats::BootstrapRatio({b, a, stats::RatioStatistic::Medians}, bo);
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
    means_options.seed = o.seed + 1;
    auto boot_means =
        grouping == Grouping::kRepetitions
            ? stats::HierarchicalBootstrapRatio({B.groups, A.groups, stats::RatioStatistic::Means}, means_options)
            : stats::BootstrapRatio({b, a, stats::RatioStatistic::Means}, means_options);
    if (boot_means) c.ratio_of_means_ci = boot_means->bca ? boot_means->bca->interval : boot_means->percentile;
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
  for (auto& c : out) c.verdict = Verdict(c.p_welch_adjusted, c.p_mwu_adjusted, c.ratio_ci, o);
  return out;
}

}  // namespace dlb::analysis
