// Shapiro-Wilk test of normality, matching scipy.stats.shapiro of SciPy 1.18.1 (methodology S7;
// oracle tests/stats/shapiro.json). SciPy 1.18.1 no longer runs the AS R94 Fortran/Cython port:
// _morestats.py computes Royston's (1992, 1993) coefficients in double precision with exact normal
// quantiles (ndtri, not AS 111 PPND) and takes W = (a.y)^2 / sum (y - mean)^2, so this follows
// that.
#pragma once

#include <span>

#include "stats/sample_check.h"

namespace dlb::stats {

struct ShapiroResult {
  double w = 0;
  double p = 0;
  // SciPy warns that p "may not be accurate" past n = 5000; the value is still returned.
  bool p_may_be_inaccurate = false;
  bool operator==(const ShapiroResult&) const = default;
};

// Errors: fewer than 3 values, a NaN/inf, or all values equal (SciPy returns nan for that).
[[nodiscard]] Expected<ShapiroResult> ShapiroWilk(std::span<const double> values);

}  // namespace dlb::stats
