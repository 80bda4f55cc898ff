// Welch's t, Mann-Whitney U and Cohen's d, transcribed from SciPy 1.18.1 (read 2026-05 in the
// project venv): scipy/stats/_stats_py.py (_unequal_var_ttest_denom, _ttest_ind_from_stats,
// _get_pvalue) and scipy/stats/_mannwhitneyu.py (_mwu_choose_method, _get_mwu_z, _MWU.sf).
// Distributions come from Boost.Math 1.74; students_t matched scipy.special.stdtr to about 5e-15
// (methodology S5).
#include "stats/two_sample.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/special_functions/binomial.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace dlb::stats {
namespace {

constexpr std::string_view kWelch = "welch t-test";
constexpr std::string_view kMwu = "mann-whitney u";
constexpr std::string_view kCohen = "cohen's d";

// The exact recurrence costs about min(n) * min(max(n), U) * U additions; past this many the Auto
// method falls back to the normal approximation (SciPy itself is O(U^2) there) and Exact is
// refused.
constexpr double kMaxExactCost = 2e9;

struct Moments {
  double n = 0;
  double mean = 0;
  double ss = 0;  // sum of squared deviations; exactly 0 for a constant sample
  bool constant = false;
};

Moments MomentsOf(std::span<const double> v) {
  Moments m{.n = static_cast<double>(v.size()), .constant = AllEqual(v)};
  m.mean = m.constant ? v.front() : Mean(v);
  m.ss = m.constant ? 0.0 : SumSquaredDeviations(v, m.mean);
  return m;
}

Expected<void> CheckTwo(std::span<const double> a, std::span<const double> b,
                        std::string_view method, size_t min_n) {
  if (auto ok = CheckSample(a, {.method = method, .name = "sample a", .min_n = min_n}); !ok) {
    return ok;
  }
  return CheckSample(b, {.method = method, .name = "sample b", .min_n = min_n});
}

// Average ranks of the pooled sample (scipy.stats.rankdata 'average'), 1-based, plus the sum of
// t^3 - t over tie groups, the term of the asymptotic variance.
struct PooledRanks {
  std::vector<double> ranks;
  double tie_term = 0;
  bool has_ties = false;
};

PooledRanks RankPooled(std::span<const double> x, std::span<const double> y) {
  std::vector<double> xy(x.begin(), x.end());
  xy.insert(xy.end(), y.begin(), y.end());
  std::vector<size_t> order(xy.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return xy[i] < xy[j]; });
  PooledRanks r{.ranks = std::vector<double>(xy.size())};
  for (size_t lo = 0; lo < order.size();) {
    size_t hi = lo + 1;
    while (hi < order.size() && xy[order[hi]] == xy[order[lo]]) ++hi;
    const double rank = (static_cast<double>(lo + 1) + static_cast<double>(hi)) / 2;
    for (size_t k = lo; k < hi; ++k) r.ranks[order[k]] = rank;
    const auto t = static_cast<double>(hi - lo);
    r.tie_term += t * t * t - t;
    r.has_ties = r.has_ties || hi - lo > 1;
    lo = hi;
  }
  return r;
}

double ExactCost(int64_t n1, int64_t n2, int64_t k) {
  const auto m = static_cast<double>(std::min(n1, n2));
  const auto n = static_cast<double>(std::max(n1, n2));
  const auto kd = static_cast<double>(k + 1);
  return m * std::min(n, kd) * kd;
}

// _mwu_choose_method (SciPy 1.18.1, unchanged since 1.11): asymptotic when both n > 8, else when
// the pooled data have any tie, else exact. So 8 vs 50 without ties is exact.
MwuMethod ChooseMethod(int64_t n1, int64_t n2, bool has_ties) {
  if (n1 > 8 && n2 > 8) return MwuMethod::Asymptotic;
  if (has_ties) return MwuMethod::Asymptotic;
  return MwuMethod::Exact;
}

// _get_mwu_z with use_continuity=True, two-sided: the 0.5 moves U1 towards the mean, then
// p = 2 * Phi(-|z|) (_get_pvalue with a symmetric distribution).
MannWhitneyResult Asymptotic(double u1, double n1, double n2, double tie_term) {
  const double mu = n1 * n2 / 2;
  const double n = n1 + n2;
  const double s = std::sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))));
  double numerator = u1 - mu;
  numerator -= 0.5 * static_cast<double>((numerator > 0) - (numerator < 0));
  const double z = numerator / s;
  const double p = 2 * boost::math::cdf(boost::math::normal_distribution<double>(), -std::abs(z));
  return {.u1 = u1, .p = std::clamp(p, 0.0, 1.0), .method = MwuMethod::Asymptotic, .z = z};
}

}  // namespace

namespace {

// Welch on samples already scaled by ScaleTogether (t and df do not depend on the scale).
Expected<WelchResult> ScaledWelch(const Scaled& s) {
  const Moments ma = MomentsOf(s.a), mb = MomentsOf(s.b);
  if (ma.constant && mb.constant) {
    // SciPy: t = d / 0 gives +-inf with p = 0 for different means, nan for equal ones; df = 1.
    if (ma.mean == mb.mean) {
      return std::unexpected(fmt::format("{}: both samples are constant and equal ({}); t is undefined",
                                         kWelch, std::ldexp(ma.mean, s.exponent)));
    }
    const double inf = std::numeric_limits<double>::infinity();
    return WelchResult{.t = ma.mean > mb.mean ? inf : -inf, .df = 1, .p = 0, .both_constant = true};
  }
  // _unequal_var_ttest_denom: vn = var / n with ddof = 1.
  const double vn1 = ma.ss / (ma.n - 1) / ma.n;
  const double vn2 = mb.ss / (mb.n - 1) / mb.n;
  const double df = (vn1 + vn2) * (vn1 + vn2) / (vn1 * vn1 / (ma.n - 1) + vn2 * vn2 / (mb.n - 1));
  const double t = (ma.mean - mb.mean) / std::sqrt(vn1 + vn2);
  const double p =
      2 * boost::math::cdf(boost::math::students_t_distribution<double>(df), -std::abs(t));
  return WelchResult{.t = t, .df = df, .p = p};
}

Expected<DifferenceInterval> ScaledWelchInterval(const Scaled& s, double confidence) {
  auto w = ScaledWelch(s);
  if (!w) return std::unexpected(w.error());
  if (w->both_constant) {
    return std::unexpected(fmt::format("{}: both samples are constant; the interval is undefined", kWelch));
  }
  const Moments ma = MomentsOf(s.a), mb = MomentsOf(s.b);
  const double se = std::sqrt(ma.ss / (ma.n - 1) / ma.n + mb.ss / (mb.n - 1) / mb.n);
  const double q = boost::math::quantile(boost::math::students_t_distribution<double>(w->df),
                                         (1 + confidence) / 2);
  const double d = ma.mean - mb.mean;
  auto back = [&](double v) { return std::ldexp(v, s.exponent); };
  DifferenceInterval r{.difference = back(d), .lo = back(d - q * se), .hi = back(d + q * se), .df = w->df};
  if (!std::isfinite(r.difference) || !std::isfinite(r.lo) || !std::isfinite(r.hi)) {
    return std::unexpected(fmt::format("{}: the interval lies beyond the range of a double", kWelch));
  }
  return r;
}

}  // namespace

Expected<WelchResult> WelchTTest(std::span<const double> a, std::span<const double> b) {
  if (auto ok = CheckTwo(a, b, kWelch, 2); !ok) return std::unexpected(ok.error());
  return Guarded<WelchResult>(kWelch, [&] { return ScaledWelch(ScaleTogether(a, b)); });
}

Expected<DifferenceInterval> WelchInterval(std::span<const double> a, std::span<const double> b,
                                           double confidence) {
  if (!(confidence > 0 && confidence < 1)) {
    return std::unexpected(fmt::format("{}: confidence {} is outside (0, 1)", kWelch, confidence));
  }
  if (auto ok = CheckTwo(a, b, kWelch, 2); !ok) return std::unexpected(ok.error());
  return Guarded<DifferenceInterval>(
      kWelch, [&] { return ScaledWelchInterval(ScaleTogether(a, b), confidence); });
}

double MannWhitneyExactP(int64_t n1, int64_t n2, int64_t u) {
  // Counts by f(i, j, k) = f(i, j - 1, k) + f(i - 1, j, k - j): the number of ways U = k with i
  // values from one sample and j from the other (Mann & Whitney 1947), in double because
  // C(1008, 8) > 2^64 (S6). Only k <= kc is needed, and j past kc adds nothing to those k.
  const int64_t m = std::min(n1, n2), n = std::max(n1, n2);
  const int64_t kc = std::min(u, n1 * n2 - u);  // by symmetry P(U' >= max) = P(U' <= kc)
  const auto width = static_cast<size_t>(kc + 1);
  std::vector<std::vector<double>> f(static_cast<size_t>(m + 1), std::vector<double>(width, 0.0));
  for (auto& row : f) row[0] = 1;
  for (int64_t j = 1; j <= std::min(n, kc); ++j) {
    for (size_t i = 1; i <= static_cast<size_t>(m); ++i) {
      for (auto k = static_cast<size_t>(j); k < width; ++k)
        f[i][k] += f[i - 1][k - static_cast<size_t>(j)];
    }
  }
  const double count = std::accumulate(f.back().begin(), f.back().end(), 0.0);
  const double total = boost::math::binomial_coefficient<double>(static_cast<unsigned>(n1 + n2),
                                                                 static_cast<unsigned>(m));
  return std::min(1.0, 2 * count / total);
}

namespace {

Expected<MannWhitneyResult> CheckedMannWhitneyU(std::span<const double> x, std::span<const double> y,
                                                MwuMethod method) {
  const PooledRanks r = RankPooled(x, y);
  const auto n1 = static_cast<int64_t>(x.size()), n2 = static_cast<int64_t>(y.size());
  if (AllEqual(x) && AllEqual(y) && x.front() == y.front()) {
    return std::unexpected(
        fmt::format("{}: all {} values are equal; the test is undefined", kMwu, n1 + n2));
  }
  const double r1 = std::accumulate(r.ranks.begin(), r.ranks.begin() + n1, 0.0);
  const double u1 = r1 - static_cast<double>(n1 * (n1 + 1)) / 2;
  if (method == MwuMethod::Exact && r.has_ties) {
    return std::unexpected(fmt::format("{}: the exact method needs data without ties", kMwu));
  }
  const double u = std::max(u1, static_cast<double>(n1 * n2) - u1);
  const auto k = static_cast<int64_t>(static_cast<double>(n1 * n2) - u);
  if (method == MwuMethod::Exact && ExactCost(n1, n2, k) > kMaxExactCost) {
    return std::unexpected(
        fmt::format("{}: the exact method is too costly for n1={}, n2={}; use the asymptotic one",
                    kMwu, n1, n2));
  }
  if (method == MwuMethod::Auto) method = ChooseMethod(n1, n2, r.has_ties);
  if (method == MwuMethod::Exact && ExactCost(n1, n2, k) <= kMaxExactCost) {
    return MannWhitneyResult{.u1 = u1,
                             .p = MannWhitneyExactP(n1, n2, static_cast<int64_t>(u)),
                             .method = MwuMethod::Exact};
  }
  return Asymptotic(u1, static_cast<double>(n1), static_cast<double>(n2), r.tie_term);
}

}  // namespace

Expected<MannWhitneyResult> MannWhitneyU(std::span<const double> x, std::span<const double> y,
                                         MwuMethod method) {
  if (auto ok = CheckTwo(x, y, kMwu, 1); !ok) return std::unexpected(ok.error());
  return Guarded<MannWhitneyResult>(kMwu, [&] { return CheckedMannWhitneyU(x, y, method); });
}

Expected<EffectSize> CohensD(std::span<const double> a, std::span<const double> b) {
  if (auto ok = CheckTwo(a, b, kCohen, 2); !ok) return std::unexpected(ok.error());
  const Scaled s = ScaleTogether(a, b);  // d does not depend on the scale; its squares do
  const Moments ma = MomentsOf(s.a), mb = MomentsOf(s.b);
  const double n = ma.n + mb.n;
  // s_p = sqrt(((n1 - 1) v1 + (n2 - 1) v2) / (n1 + n2 - 2)), and (n - 1) v is the sum of squares.
  const double pooled_sd = std::sqrt((ma.ss + mb.ss) / (n - 2));
  if (pooled_sd == 0) {
    return std::unexpected(fmt::format(
        "{}: the pooled standard deviation is 0; the effect size is undefined", kCohen));
  }
  const double d = (ma.mean - mb.mean) / pooled_sd;
  return EffectSize{.cohens_d = d, .hedges_g = d * (1 - 3 / (4 * n - 9))};
}

}  // namespace dlb::stats
