#include "analysis/decide.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>

#include "stats/descriptive.h"
#include "util/error.h"
#include "util/strings.h"

namespace dlb::analysis {
namespace {

const std::vector<std::string> kOperators = {"<=", ">=", "<", ">"};

struct Unit {
  std::string_view name;
  double factor;
};

// The units each field accepts; the first is the field's own unit (factor 1).
const std::vector<Unit>& UnitsOf(const std::string& field) {
  static const std::vector<Unit> time = {{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}};
  static const std::vector<Unit> bytes = {{"B", 1},      {"KiB", 1024.0}, {"MiB", 1048576.0},
                                          {"GiB", 1073741824.0}, {"KB", 1e3}, {"MB", 1e6},
                                          {"GB", 1e9}};
  static const std::vector<Unit> rate = {{"/s", 1}};
  static const std::vector<Unit> energy = {{"J", 1}, {"mJ", 1e-3}};
  static const std::vector<Unit> usd = {{"USD", 1}};
  static const std::vector<Unit> none = {};
  if (field == "memory") return bytes;
  if (field == "throughput") return rate;
  if (field == "energy") return energy;
  if (field == "cost") return usd;
  if (field == "batch") return none;
  return time;
}

std::vector<std::string> Names(const std::vector<Unit>& units) {
  std::vector<std::string> out;
  for (const auto& u : units) out.emplace_back(u.name);
  return out;
}

int PrecisionBytes(const std::string& precision) {
  return precision == "bf16" || precision == "fp16" ? 2 : 4;
}

}  // namespace

stats::Expected<Figure> GeometricMeanFigure(std::span<const double> values, double confidence) {
  if (values.empty()) return std::unexpected("no values");
  std::vector<double> logs;
  for (double v : values) {
    if (!(v > 0) || !std::isfinite(v)) return std::unexpected("a value that is not positive");
    logs.push_back(std::log(v));
  }
  Figure f;
  f.n = logs.size();
  const double m = stats::Mean(logs);
  f.value = std::exp(m);
  if (logs.size() >= 2) {
    const double n = static_cast<double>(logs.size());
    const double se = std::sqrt(stats::SumSquaredDeviations(logs, m) / (n - 1) / n);
    const double q = boost::math::quantile(boost::math::students_t_distribution<double>(n - 1),
                                           (1 + confidence) / 2);
    f.ci = stats::Interval{std::exp(m - q * se), std::exp(m + q * se)};
  }
  return f;
}

const std::vector<std::string>& ObjectiveNames() {
  static const std::vector<std::string> names = {"throughput", "latency", "energy", "cost"};
  return names;
}

Objective ParseObjective(const std::string& name) {
  const auto& names = ObjectiveNames();
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) throw UserError(fmt::format("--objective {}: {}", name, AllowedValues(name, names)));
  return static_cast<Objective>(it - names.begin());
}

const std::vector<std::string>& ConstraintFields() {
  static const std::vector<std::string> fields = {"p50", "p90", "p99", "latency", "memory",
                                                  "throughput", "energy", "cost", "batch"};
  return fields;
}

Constraint ParseConstraint(const std::string& text) {
  const std::string where = fmt::format("--constraint '{}'", text);
  size_t pos = std::string::npos;
  std::string op;
  for (const auto& o : kOperators) {
    pos = text.find(o);
    if (pos != std::string::npos) {
      op = o;
      break;
    }
  }
  if (op.empty()) {
    throw UserError(fmt::format("{}: no comparison; write FIELD OP VALUE with OP one of <, <=, >, "
                                ">= (e.g. 'p99 < 20ms')", where));
  }
  Constraint k{text, std::string(Trim(text.substr(0, pos))), op, 0};
  const auto& fields = ConstraintFields();
  if (std::find(fields.begin(), fields.end(), k.field) == fields.end()) {
    throw UserError(fmt::format("{}: field \"{}\": {}", where, k.field, AllowedValues(k.field, fields)));
  }
  std::string rest(Trim(text.substr(pos + op.size())));
  size_t used = 0;
  double number = 0;
  try {
    number = std::stod(rest, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || !std::isfinite(number)) {
    throw UserError(fmt::format("{}: \"{}\" is not a number for {}", where, rest, k.field));
  }
  std::string unit(Trim(rest.substr(used)));
  const auto& units = UnitsOf(k.field);
  double factor = 1;
  if (!unit.empty() || (k.field != "batch" && k.field != "throughput" && k.field != "cost" &&
                        k.field != "energy")) {
    auto it = std::find_if(units.begin(), units.end(), [&](const Unit& u) { return u.name == unit; });
    if (it == units.end()) {
      throw UserError(fmt::format("{}: unit \"{}\" for {}: {}", where, unit, k.field,
                                  units.empty() ? std::string("it takes a plain number")
                                                : AllowedValues(unit, Names(units))));
    }
    factor = it->factor;
  }
  k.value = number * factor;
  return k;
}

std::pair<std::string, double> ParsePrice(const std::string& text) {
  auto eq = text.find('=');
  std::string device(Trim(text.substr(0, eq == std::string::npos ? 0 : eq)));
  double usd = 0;
  size_t used = 0;
  if (eq != std::string::npos) {
    try {
      usd = std::stod(text.substr(eq + 1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
  }
  if (device.empty() || used == 0 || !(usd > 0) || !std::isfinite(usd)) {
    throw UserError(fmt::format("--price '{}': write DEVICE=USD_PER_HOUR with a positive price, "
                                "e.g. cuda=2.50",
                                text));
  }
  return {device, usd};
}

bool HigherIsBetter(Objective objective) { return objective == Objective::kThroughput; }

std::vector<double> ObjectiveValues(const Candidate& c, Objective objective) {
  std::vector<double> out;
  switch (objective) {
    case Objective::kLatency:
      return c.latency_ns;
    case Objective::kEnergy:
      return c.energy_j;
    case Objective::kThroughput:
      for (double ns : c.latency_ns) out.push_back(static_cast<double>(c.batch) * 1e9 / ns);
      return out;
    case Objective::kCost:
      if (!c.usd_per_hour) return out;
      // USD per million samples: the hour's price over the samples an hour delivers.
      for (double ns : c.latency_ns) {
        out.push_back(*c.usd_per_hour * 1e6 / (3600.0 * static_cast<double>(c.batch) * 1e9 / ns));
      }
      return out;
  }
  return out;
}

std::optional<double> ConstraintValue(const Candidate& c, const Constraint& k, std::string* why) {
  auto figure = [&](Objective o) -> std::optional<double> {
    auto f = GeometricMeanFigure(ObjectiveValues(c, o));
    if (f) return f->value;
    return std::nullopt;
  };
  std::optional<double> v;
  if (k.field == "p50" || k.field == "latency") v = figure(Objective::kLatency);
  if (k.field == "p90") v = c.p90_ns;
  if (k.field == "p99") v = c.p99_ns;
  if (k.field == "memory") v = c.memory_bytes;
  if (k.field == "throughput") v = figure(Objective::kThroughput);
  if (k.field == "energy") v = figure(Objective::kEnergy);
  if (k.field == "cost") v = figure(Objective::kCost);
  if (k.field == "batch") v = static_cast<double>(c.batch);
  if (!v && why) {
    *why = k.field == "p90" || k.field == "p99"
               ? fmt::format("no {} (needs {} samples)", k.field, k.field == "p90" ? 64 : 662)
           : k.field == "cost"   ? "no --price for its device"
           : k.field == "energy" ? "no energy measured"
                                 : "no " + k.field + " recorded";
  }
  return v;
}

std::string SimplerBecause(const Candidate& a, const Candidate& b) {
  if (a.usd_per_hour && b.usd_per_hour && *a.usd_per_hour != *b.usd_per_hour) {
    return *a.usd_per_hour < *b.usd_per_hour
               ? fmt::format("it costs less per hour (${:.2f} vs ${:.2f})", *a.usd_per_hour,
                             *b.usd_per_hour)
               : "";
  }
  if (a.memory_bytes && b.memory_bytes &&
      std::fabs(*a.memory_bytes - *b.memory_bytes) > 0.01 * std::max(*a.memory_bytes, *b.memory_bytes)) {
    return *a.memory_bytes < *b.memory_bytes
               ? fmt::format("it needs less memory ({} vs {})", FormatBytes(*a.memory_bytes),
                             FormatBytes(*b.memory_bytes))
               : "";
  }
  if (a.batch != b.batch) {
    return a.batch < b.batch ? fmt::format("it uses a smaller batch ({} vs {})", a.batch, b.batch) : "";
  }
  if (PrecisionBytes(a.precision) != PrecisionBytes(b.precision)) {
    return PrecisionBytes(a.precision) < PrecisionBytes(b.precision)
               ? fmt::format("it moves fewer bytes per value ({} vs {})", a.precision, b.precision)
               : "";
  }
  return "";
}

Recommendation Recommend(const std::vector<Candidate>& candidates, Objective objective,
                         const std::vector<Constraint>& constraints, const CompareOptions& options) {
  Recommendation rec;
  std::vector<std::pair<double, size_t>> scored;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    std::string fails;
    for (const auto& k : constraints) {
      std::string why;
      auto v = ConstraintValue(c, k, &why);
      if (!v) {
        fails = k.text + ": " + why;
        break;
      }
      const bool ok = k.op == "<" ? *v < k.value : k.op == "<=" ? *v <= k.value
                    : k.op == ">" ? *v > k.value : *v >= k.value;
      if (!ok) {
        fails = "fails " + k.text;
        break;
      }
    }
    auto figure = GeometricMeanFigure(ObjectiveValues(c, objective));
    if (fails.empty() && !figure) {
      fails = objective == Objective::kCost     ? "no --price for its device"
              : objective == Objective::kEnergy ? "no energy measured"
                                                : "no measured repetition";
    }
    if (!fails.empty()) {
      rec.excluded[i] = fails;
      continue;
    }
    scored.emplace_back(HigherIsBetter(objective) ? -figure->value : figure->value, i);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [score, i] : scored) rec.ranked.push_back(i);
  if (rec.ranked.empty()) {
    // Which constraint excluded how many: each configuration counts under the first it fails.
    std::map<std::string, size_t> count;
    std::vector<std::string> order;
    for (const auto& [i, why] : rec.excluded) {
      if (count[why]++ == 0) order.push_back(why);
    }
    std::vector<std::string> parts;
    for (const auto& why : order) parts.push_back(fmt::format("{} ({} of {})", why, count[why], candidates.size()));
    rec.why = candidates.empty() ? "no configuration was measured"
                                 : "no configuration meets every constraint: " + Join(parts, "; ");
    return rec;
  }
  const size_t best = rec.ranked[0];
  rec.chosen = best;
  if (rec.ranked.size() == 1) {
    rec.why = "it is the only configuration that meets every constraint";
    return rec;
  }
  const size_t runner = rec.ranked[1];
  CompareOptions o = options;
  o.lower_is_better = !HigherIsBetter(objective);
  auto groups = [&](size_t i) {
    std::vector<std::vector<double>> g;
    for (double v : ObjectiveValues(candidates[i], objective)) g.push_back({v});
    return g;
  };
  std::vector<Sample> samples = {{candidates[best].label, groups(best)},
                                 {candidates[runner].label, groups(runner)}};
  rec.best_vs_runner_up =
      CompareFamily(samples, {{0, 1}}, Grouping::kRepetitions, o)[0];
  const PairComparison& vs = *rec.best_vs_runner_up;
  if (vs.kind == VerdictKind::kBLower || vs.kind == VerdictKind::kBHigher) {
    rec.why = "it beats the runner-up significantly";
    return rec;
  }
  if (vs.kind == VerdictKind::kUndecided) {
    // Not told apart is not a tie: the cheaper one is preferred only when the two are shown
    // equivalent. Until then the best measured stays, and the sentence says what would decide it.
    rec.decided = false;
    std::string next = "more repetitions of both would decide it";
    if (!vs.ratio_ci) {
      next = "an interval needs at least 2 repetitions of each";
    } else if (vs.outlook && vs.outlook->repetitions) {
      next = fmt::format("about {} repetitions of each would decide it", *vs.outlook->repetitions);
    } else if (vs.outlook) {
      next = fmt::format("their ratio sits so near the ±{:g}% band's edge that no practical number "
                         "of repetitions would decide it", o.threshold * 100);
    }
    rec.why = fmt::format(
        "it measured best, but the choice is not yet decided: the runner-up is not told apart from "
        "it{} and not shown equivalent within ±{:g}%; {}",
        vs.ratio_ci ? fmt::format(" (runner-up/best {:.3f}, 95% CI {:.3f}-{:.3f})", vs.ratio,
                                  vs.ratio_ci->lo, vs.ratio_ci->hi)
                    : "",
        o.threshold * 100, next);
    return rec;
  }
  if (std::string because = SimplerBecause(candidates[runner], candidates[best]); !because.empty()) {
    rec.chosen = runner;
    rec.why = fmt::format("the best by {} is equivalent to it within ±{:g}%, and {}",
                          ObjectiveNames()[static_cast<size_t>(objective)], o.threshold * 100, because);
  } else {
    rec.why = fmt::format("it is equivalent to the runner-up within ±{:g}%, and it is not more "
                          "expensive or complex than the runner-up",
                          o.threshold * 100);
  }
  return rec;
}

}  // namespace dlb::analysis
