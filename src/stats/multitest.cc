// Holm and Bonferroni as statsmodels/stats/multitest.py multipletests (statsmodels main, read
// 2026-05): Holm's reject is the step-down "not rejected from the first p_(i) > alpha / (m - i + 1)
// on", its adjusted p is the running maximum of (m - i + 1) p_(i); both clip at 1. The sort is
// stable, which cannot change the result: tied p-values get the same adjusted value.
#include "stats/multitest.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace dlb::stats {
namespace {

Expected<void> CheckFamily(std::span<const double> p, double alpha, std::string_view method) {
  if (p.empty()) return std::unexpected(fmt::format("{}: the family of p-values is empty", method));
  if (!(alpha > 0 && alpha < 1)) {
    return std::unexpected(fmt::format("{}: alpha {} is not in (0, 1)", method, alpha));
  }
  for (size_t i = 0; i < p.size(); ++i) {
    if (!(p[i] >= 0 && p[i] <= 1)) {
      return std::unexpected(
          fmt::format("{}: p-value {} at index {} is not in [0, 1]", method, p[i], i));
    }
  }
  return {};
}

}  // namespace

Expected<Adjusted> Holm(std::span<const double> p, double alpha) {
  if (auto ok = CheckFamily(p, alpha, "holm"); !ok) return std::unexpected(ok.error());
  const size_t m = p.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return p[i] < p[j]; });
  Adjusted out{.p = std::vector<double>(m), .reject = std::vector<bool>(m, false)};
  double running_max = 0;
  bool still_rejecting = true;
  for (size_t rank = 0; rank < m; ++rank) {
    const double pi = p[order[rank]];
    const auto factor = static_cast<double>(m - rank);
    still_rejecting = still_rejecting && !(pi > alpha / factor);
    running_max = std::max(running_max, pi * factor);
    out.p[order[rank]] = std::min(1.0, running_max);
    out.reject[order[rank]] = still_rejecting;
  }
  return out;
}

Expected<Adjusted> Bonferroni(std::span<const double> p, double alpha) {
  if (auto ok = CheckFamily(p, alpha, "bonferroni"); !ok) return std::unexpected(ok.error());
  const auto m = static_cast<double>(p.size());
  Adjusted out;
  for (double pi : p) {
    out.p.push_back(std::min(1.0, pi * m));
    out.reject.push_back(pi <= alpha / m);
  }
  return out;
}

}  // namespace dlb::stats
