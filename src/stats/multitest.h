// Family-wise corrections of p-values, as statsmodels.stats.multitest.multipletests with
// method='holm' and method='bonferroni' (methodology S9). The family is one compare table per
// metric. Rejection follows statsmodels, which rejects at equality (p <= alpha / k), where the
// usual summary says "adj < alpha"; the adjusted p-values are the same either way.
#pragma once

#include <span>
#include <vector>

#include "stats/sample_check.h"

namespace dlb::stats {

struct Adjusted {
  std::vector<double> p{};     // adjusted p-values, in the input order, clipped to 1
  std::vector<bool> reject{};  // in the input order
  bool operator==(const Adjusted&) const = default;
};

// Holm-Bonferroni step-down: sort ascending, adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)).
// Errors: an empty family, a p outside [0, 1] or NaN, alpha outside (0, 1).
[[nodiscard]] Expected<Adjusted> Holm(std::span<const double> p, double alpha = 0.05);

// Bonferroni: adj = min(1, m p), reject when p <= alpha / m. Errors as Holm.
[[nodiscard]] Expected<Adjusted> Bonferroni(std::span<const double> p, double alpha = 0.05);

}  // namespace dlb::stats
