// Power of the two-sided t test from Boost.Math's non_central_t, as statsmodels
// stats/power.py ttest_power (crit = t.isf(alpha / 2, df); power = nct.sf(crit) + nct.cdf(-crit));
// SciPy's nct calls Boost too, and Boost 1.74 here agreed with SciPy 1.18.1 to about 2e-15 relative
// (measured 2026-05, df 3-1000, delta 0-8). Boost can return tiny negatives in far tails (1.81:
// -1.6e-18), hence the clamp (S10). SciPy 1.18.1's nct.cdf returns nan at (x=-3.18, df=3, nc=8),
// where Boost gives a finite value. Noether's formula follows CRAN WMWssp samplesize.R.
#include "stats/power.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/non_central_t.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <vector>

namespace dlb::stats {
namespace {

constexpr std::string_view kPower = "t-test power";
constexpr std::string_view kNoether = "noether sample size";

bool InUnitInterval(double v) { return v > 0 && v < 1; }

double Df(const TTestPowerQuery& q) {
  const auto n1 = static_cast<double>(q.n1), n2 = static_cast<double>(q.n2);
  if (q.df == PowerDf::Pooled) return n1 + n2 - 2;
  // Welch-Satterthwaite with var_i / n_i = sigma^2 / n_i; sigma cancels.
  const double vn1 = 1 / n1, vn2 = 1 / n2;
  return (vn1 + vn2) * (vn1 + vn2) / (vn1 * vn1 / (n1 - 1) + vn2 * vn2 / (n2 - 1));
}

Expected<void> CheckPowerQuery(const TTestPowerQuery& q) {
  if (q.n1 < 2 || q.n2 < 2) {
    return std::unexpected(
        fmt::format("{}: n1={}, n2={}; each group needs at least 2", kPower, q.n1, q.n2));
  }
  if (!InUnitInterval(q.alpha)) {
    return std::unexpected(fmt::format("{}: alpha {} is not in (0, 1)", kPower, q.alpha));
  }
  if (!std::isfinite(q.effect_size)) {
    return std::unexpected(fmt::format("{}: effect size {} is not finite", kPower, q.effect_size));
  }
  return {};
}

}  // namespace

Expected<double> TTestPower(const TTestPowerQuery& query) {
  if (auto ok = CheckPowerQuery(query); !ok) return std::unexpected(ok.error());
  const double df = Df(query);
  // statsmodels: nobs = 1 / (1 / n1 + 1 / n2), noncentrality d sqrt(nobs).
  const double nobs = 1 / (1 / static_cast<double>(query.n1) + 1 / static_cast<double>(query.n2));
  const double delta = query.effect_size * std::sqrt(nobs);
  return Guarded<double>(kPower, [&] {
    namespace bm = boost::math;
    const double crit =
        bm::quantile(bm::complement(bm::students_t_distribution<double>(df), query.alpha / 2));
    const bm::non_central_t_distribution<double> nct(df, delta);
    const double power = bm::cdf(bm::complement(nct, crit)) + bm::cdf(nct, -crit);
    return std::clamp(power, 0.0, 1.0);
  });
}

Expected<int64_t> SmallestNPerGroup(const SampleSizeQuery& query) {
  if (!InUnitInterval(query.target_power)) {
    return std::unexpected(
        fmt::format("{}: target power {} is not in (0, 1)", kPower, query.target_power));
  }
  auto reaches = [&](int64_t n) -> Expected<bool> {
    auto p = TTestPower(
        {.effect_size = query.effect_size, .n1 = n, .n2 = n, .alpha = query.alpha, .df = query.df});
    if (!p) return std::unexpected(p.error());
    return *p >= query.target_power;
  };
  // Power grows with n for d != 0: double until reached, then bisect (lo fails, hi reaches).
  int64_t lo = 1, hi = 2;
  for (;;) {
    auto ok = reaches(hi);
    if (!ok) return std::unexpected(ok.error());
    if (*ok) break;
    if (hi >= query.max_n) {
      return std::unexpected(
          fmt::format("{}: effect size {} does not reach power {} with n <= {} per group", kPower,
                      query.effect_size, query.target_power, query.max_n));
    }
    lo = hi;
    hi = std::min(hi * 2, query.max_n);
  }
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    auto ok = reaches(mid);
    if (!ok) return std::unexpected(ok.error());
    (*ok ? hi : lo) = mid;
  }
  return hi;
}

Expected<NoetherSize> NoetherSampleSize(const NoetherQuery& q) {
  if (!InUnitInterval(q.relative_effect) || !InUnitInterval(q.alpha) || !InUnitInterval(q.power) ||
      !InUnitInterval(q.allocation)) {
    return std::unexpected(fmt::format(
        "{}: relative effect {}, alpha {}, power {} and allocation {} must each be in (0, 1)",
        kNoether, q.relative_effect, q.alpha, q.power, q.allocation));
  }
  if (q.relative_effect == 0.5) {
    return std::unexpected(
        fmt::format("{}: relative effect 0.5 is no effect; no finite n detects it", kNoether));
  }
  return Guarded<NoetherSize>(kNoether, [&] {
    const boost::math::normal_distribution<double> normal;
    const double z =
        boost::math::quantile(normal, 1 - q.alpha / 2) + boost::math::quantile(normal, q.power);
    const double t = q.allocation;
    const double shift = q.relative_effect - 0.5;
    const double n = z * z / (12 * t * (1 - t) * shift * shift);
    return NoetherSize{.total_n = n,
                       .n1 = static_cast<int64_t>(std::ceil(n * t)),
                       .n2 = static_cast<int64_t>(std::ceil(n * (1 - t)))};
  });
}

Expected<double> RelativeEffect(std::span<const double> x, std::span<const double> y) {
  constexpr std::string_view kWhat = "relative effect";
  if (auto ok = CheckSample(x, {.method = kWhat, .name = "sample x"}); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = CheckSample(y, {.method = kWhat, .name = "sample y"}); !ok) {
    return std::unexpected(ok.error());
  }
  std::vector<double> sorted_x(x.begin(), x.end());
  std::sort(sorted_x.begin(), sorted_x.end());
  double wins = 0;  // pairs with x < y, ties counting one half
  for (double v : y) {
    const auto below = std::lower_bound(sorted_x.begin(), sorted_x.end(), v) - sorted_x.begin();
    const auto equal =
        std::upper_bound(sorted_x.begin(), sorted_x.end(), v) - sorted_x.begin() - below;
    wins += static_cast<double>(below) + static_cast<double>(equal) / 2;
  }
  return wins / (static_cast<double>(x.size()) * static_cast<double>(y.size()));
}

}  // namespace dlb::stats
