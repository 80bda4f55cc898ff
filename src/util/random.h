// Seeded randomness that gives the same sequence on every machine and standard library.
// std::mt19937_64's output is fixed by the standard, but std::uniform_int_distribution's algorithm
// is left to each standard library, so bounded draws use our own rejection sampling.
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace dlb {

using Rng = std::mt19937_64;

// Uniform integer in [0, n), unbiased (rejects the top partial range). n > 0.
inline uint64_t UniformIndex(Rng& rng, uint64_t n) {
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
  uint64_t x;
  do {
    x = rng();
  } while (x >= limit);
  return x % n;
}

// Fisher-Yates shuffle with UniformIndex: the same permutation for the same seed everywhere.
template <typename T>
void Shuffle(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    size_t j = static_cast<size_t>(UniformIndex(rng, i));
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace dlb

namespace dlb {

// Uniform double in (0, 1): the top 53 bits of one draw, never exactly 0 or 1, so log() of it and
// of 1 minus it are finite.
inline double Uniform01(Rng& rng) {
  return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
}

// Standard normal by Box-Muller, two uniform draws per value (the second value is dropped so the
// sequence does not depend on call history).
double StandardNormal(Rng& rng);

// Gamma(shape k, scale 1) by Marsaglia and Tsang ("A simple method for generating gamma
// variables", ACM TOMS 26, 2000), with the U^(1/k) boost for k < 1. k > 0.
double GammaVariate(Rng& rng, double shape);

}  // namespace dlb
