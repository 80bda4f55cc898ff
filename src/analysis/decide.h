// Decisions across measured configurations, for `dlbench db` and `dlbench recommend`: a
// configuration's figure over its repetitions with an interval, constraints such as
// "p99 < 20ms", and the choice of a configuration for an objective with its runner-up. The
// repetition is the unit here as in `compare`: a figure is the geometric mean of per-repetition
// values with Student's t interval on the log scale, and best against runner-up is
// RepetitionRatio's Welch test on the logs (docs/decisions.md).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "analysis/compare.h"
#include "stats/bootstrap.h"

namespace dlb::analysis {

// exp(mean log x) with exp(mean ± t(n-1, (1+confidence)/2) · s/√n) on the logs; no interval with
// fewer than 2 values. Errors: no values, or a value that is not positive and finite.
struct Figure {
  double value = 0;
  std::optional<stats::Interval> ci;
  size_t n = 0;
};
[[nodiscard]] stats::Expected<Figure> GeometricMeanFigure(std::span<const double> values,
                                                          double confidence = 0.95);

// One measured configuration, as `recommend` weighs it. Per-repetition values are the unit of
// every comparison; the tail and memory figures are the cell's.
struct Candidate {
  std::string label;  // "torch resnet50 bs8 fp32 cpu"
  std::string device, precision;
  int64_t batch = 0;
  std::vector<double> latency_ns;      // per ok repetition: median latency per call
  std::vector<double> energy_j;        // per repetition with energy windows: J per sample
  std::optional<double> p90_ns, p99_ns;  // only where the cell has enough samples for them
  std::optional<double> memory_bytes;    // peak device memory on a GPU, peak RSS on the CPU
  std::optional<double> usd_per_hour;    // --price for its device
  std::string provenance;                // "db.sqlite run 3 (2026-11-26, host vm)"
};

enum class Objective { kThroughput, kLatency, kEnergy, kCost };
const std::vector<std::string>& ObjectiveNames();  // throughput, latency, energy, cost
// Throws UserError naming the allowed values.
Objective ParseObjective(const std::string& name);

// "p99 < 20ms": a field, an operator, a value with its unit.
struct Constraint {
  std::string text;   // as given
  std::string field;  // p50, p90, p99, latency (= p50), memory, throughput, energy, cost, batch
  std::string op;     // <, <=, >, >=
  double value = 0;   // ns, bytes, samples/s, J per sample, USD per million samples, samples
};
const std::vector<std::string>& ConstraintFields();
// Throws UserError with one line naming the field (or unit, or operator) and the allowed values.
Constraint ParseConstraint(const std::string& text);
// "DEVICE=USD_PER_HOUR", e.g. "cuda=2.5". Throws UserError.
std::pair<std::string, double> ParsePrice(const std::string& text);

// The candidate's per-repetition values of the objective, in the objective's own unit (samples/s,
// ns, J per sample, USD per million samples); empty where it has none (no energy, no price).
std::vector<double> ObjectiveValues(const Candidate& c, Objective objective);
bool HigherIsBetter(Objective objective);

// The value a constraint reads, or nullopt with `why` set where the candidate has none (a p99
// from fewer than 662 samples, no price for cost).
std::optional<double> ConstraintValue(const Candidate& c, const Constraint& k, std::string* why);

struct Recommendation {
  std::vector<size_t> ranked;  // feasible candidates, best first by the objective's figure
  std::map<size_t, std::string> excluded;  // candidate -> the constraint it fails, or why it has no figure
  std::optional<PairComparison> best_vs_runner_up;  // B = runner-up, A = best
  // The candidate recommended: the best, unless best and runner-up are shown equivalent (the
  // interval inside the band) and the runner-up is cheaper or simpler (SimplerBecause), then the
  // runner-up. An undecided pair is not a tie: the best measured stays, and decided is false.
  std::optional<size_t> chosen;
  bool decided = true;  // false: best and runner-up are neither told apart nor shown equivalent
  std::string why;  // one sentence
};

// Why `a` is cheaper or simpler than `b`, or empty when it is not. The first of these that tells
// them apart decides: a lower price per hour (both priced), less peak memory (by more than 1%), a
// smaller batch, fewer bytes per value (bf16/fp16 before fp32).
std::string SimplerBecause(const Candidate& a, const Candidate& b);

Recommendation Recommend(const std::vector<Candidate>& candidates, Objective objective,
                         const std::vector<Constraint>& constraints, const CompareOptions& options);

}  // namespace dlb::analysis
