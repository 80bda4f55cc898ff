// Power and sample size for the two-sample comparisons (methodology S10; oracle
// tests/stats/power.json, SciPy 1.18.1 nct/t, which call Boost.Math like this file does):
// - TTestPower: power of the two-sided t test at effect size d (Cohen's d) for n1, n2, alpha, from
//   the noncentral t, as statsmodels TTestIndPower/ttest_power: delta = d sqrt(n1 n2 / (n1 + n2)),
//   power = 1 - F(t_crit; df, delta) + F(-t_crit; df, delta), clamped to [0, 1].
// - SmallestNPerGroup: the smallest equal n per group reaching a target power, by search.
// - NoetherSampleSize: Noether (1987) for Mann-Whitney, as CRAN WMWssp::WMWssp_noether without
// ties.
#pragma once

#include <cstdint>
#include <span>

#include "stats/sample_check.h"

namespace dlb::stats {

// Degrees of freedom of the t distribution used for power.
enum class PowerDf {
  Pooled,  // n1 + n2 - 2, as statsmodels TTestIndPower
  Welch,   // Welch-Satterthwaite df for equal population variances and sizes n1, n2
};

struct TTestPowerQuery {
  double effect_size = 0;  // Cohen's d, (mu1 - mu2) / sigma
  int64_t n1 = 0, n2 = 0;  // each >= 2
  double alpha = 0.05;     // two-sided
  PowerDf df = PowerDf::Pooled;
};

// Errors: n below 2, alpha outside (0, 1), a non-finite effect size, a Boost evaluation failure.
[[nodiscard]] Expected<double> TTestPower(const TTestPowerQuery& query);

struct SampleSizeQuery {
  double effect_size = 0;
  double alpha = 0.05;
  double target_power = 0.8;
  PowerDf df = PowerDf::Pooled;
  int64_t max_n = 10'000'000;  // give up past this many per group
};

// The smallest n >= 2 with TTestPower({d, n, n, alpha, df}) >= target_power. Errors: as TTestPower,
// target outside (0, 1), or no n <= max_n reaches it (d = 0 never passes alpha).
[[nodiscard]] Expected<int64_t> SmallestNPerGroup(const SampleSizeQuery& query);

struct NoetherQuery {
  double relative_effect = 0.5;  // p = P(X < Y) + P(X = Y) / 2 under the alternative
  double alpha = 0.05;           // two-sided
  double power = 0.8;
  double allocation = 0.5;  // t = n1 / N
};

struct NoetherSize {
  double total_n = 0;      // N = (z_{1-alpha/2} + z_{power})^2 / (12 t (1 - t) (p - 1/2)^2)
  int64_t n1 = 0, n2 = 0;  // ceil(N t), ceil(N (1 - t)), as WMWssp rounds
  bool operator==(const NoetherSize&) const = default;
};

// Errors: p, alpha, power or t outside (0, 1), or p = 1/2 (no effect needs infinite N).
[[nodiscard]] Expected<NoetherSize> NoetherSampleSize(const NoetherQuery& query);

// The relative effect p = P(X < Y) + P(X = Y) / 2 estimated from samples (= U2 / (n1 n2) of
// Mann-Whitney). To plan for a relative shift s, pass a pilot sample as x and the same sample
// scaled by (1 + s) as y. Errors: an empty sample or a NaN/inf.
[[nodiscard]] Expected<double> RelativeEffect(std::span<const double> x, std::span<const double> y);

}  // namespace dlb::stats
