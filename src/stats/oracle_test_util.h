// Test-only helpers for the SciPy oracle fixtures in tests/stats/*.json (written by
// tests/stats/make_scipy_fixtures.py): load a fixture, read number arrays, and compare with a
// relative tolerance. The agreement asked of every statistic and p-value is 1e-9 relative; integer
// quantities (counts, n, the chosen method) must be equal.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dlb::stats::oracle {

inline constexpr double kRelTol = 1e-9;

inline nlohmann::json LoadFixture(const std::string& name) {
  const std::string path = std::string(DLBENCH_SOURCE_DIR) + "/tests/stats/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open fixture " + path);
  return nlohmann::json::parse(in);
}

inline std::vector<double> Doubles(const nlohmann::json& j) { return j.get<std::vector<double>>(); }

// |actual - expected| <= rel |expected| + abs_floor. abs_floor is 0 unless a test says why.
inline ::testing::AssertionResult Near(double actual, double expected, double rel = kRelTol,
                                       double abs_floor = 0) {
  const double diff = std::abs(actual - expected);
  if (diff <= rel * std::abs(expected) + abs_floor) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << std::setprecision(17) << "actual " << actual << " vs expected " << expected
         << ": relative difference " << diff / std::abs(expected) << " > " << rel;
}

}  // namespace dlb::stats::oracle
