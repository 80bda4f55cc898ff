// Two-sample tests and effect sizes, each matching one SciPy call (methodology S5, S6, S8; the
// oracle is SciPy 1.18.1, tests/stats/two_sample.json):
// - WelchTTest = scipy.stats.ttest_ind(a, b, equal_var=False), two-sided. The default
// equal_var=True
//   is Student's pooled test, not Welch's. Boost's two_sample_t_test is not used: it switches
//   between pooled and Welch silently (Boost 1.81 t_test.hpp).
// - MannWhitneyU = scipy.stats.mannwhitneyu(x, y, alternative='two-sided', method='auto').
// - CohensD: pooled-sd d and Hedges' g = d (1 - 3 / (4 (n1 + n2) - 9)), pingouin's effsize.py.
// Where SciPy returns NaN (constant samples, n below a minimum) these return an error line instead.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "stats/sample_check.h"

namespace dlb::stats {

struct WelchResult {
  double t = 0;   // (mean a - mean b) / sqrt(var a / n a + var b / n b), var with ddof = 1
  double df = 0;  // Welch-Satterthwaite; 1 when both samples are constant (SciPy's choice)
  double p = 0;   // two-sided, 2 * stdtr(df, -|t|)
  // Both samples constant with different means: t is +-inf and p is 0, as SciPy returns.
  bool both_constant = false;
  bool operator==(const WelchResult&) const = default;
};

// Errors: a sample with fewer than 2 values, a NaN/inf, or two constant samples with equal means.
[[nodiscard]] Expected<WelchResult> WelchTTest(std::span<const double> a,
                                               std::span<const double> b);

// The two-sided `confidence` interval of mean(a) - mean(b) that goes with Welch's test:
// scipy.stats.ttest_ind(a, b, equal_var=False).confidence_interval(confidence), that is
// d +- t_{df, (1 + confidence) / 2} * se with the Welch-Satterthwaite df. Errors: as WelchTTest, and
// two constant samples (se = 0: SciPy returns nan there).
struct DifferenceInterval {
  double difference = 0;  // mean(a) - mean(b)
  double lo = 0, hi = 0;
  double df = 0;
};
[[nodiscard]] Expected<DifferenceInterval> WelchInterval(std::span<const double> a,
                                                         std::span<const double> b,
                                                         double confidence);

enum class MwuMethod { Auto, Exact, Asymptotic };

struct MannWhitneyResult {
  double u1 = 0;                       // U of x: R1 - n1 (n1 + 1) / 2, the statistic SciPy returns
  double p = 0;                        // two-sided, clipped to [0, 1]
  MwuMethod method = MwuMethod::Auto;  // the one that ran: Exact or Asymptotic
  std::optional<double> z{};           // the standardised statistic, asymptotic only
  bool operator==(const MannWhitneyResult&) const = default;
};

// Errors: an empty sample, a NaN/inf, all pooled values equal (SciPy 1.18.1 returns p = nan there;
// 1.10.1 returned 1), or Exact asked for data with ties.
[[nodiscard]] Expected<MannWhitneyResult> MannWhitneyU(std::span<const double> x,
                                                       std::span<const double> y,
                                                       MwuMethod method = MwuMethod::Auto);

// Two-sided exact p of the Mann-Whitney U for sample sizes n1, n2 and an integer U (either U1 or
// U2): 2 * P(U' >= max(U, n1 n2 - U)) under H0, clipped to 1.
[[nodiscard]] double MannWhitneyExactP(int64_t n1, int64_t n2, int64_t u);

struct EffectSize {
  double cohens_d = 0;  // (mean a - mean b) / pooled sd, pooled sd with n1 + n2 - 2 df
  double hedges_g = 0;  // cohens_d * (1 - 3 / (4 (n1 + n2) - 9))
  bool operator==(const EffectSize&) const = default;
};

// Errors: a sample with fewer than 2 values, a NaN/inf, or a pooled sd of 0.
[[nodiscard]] Expected<EffectSize> CohensD(std::span<const double> a, std::span<const double> b);

}  // namespace dlb::stats
