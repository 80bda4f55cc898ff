#include "run/estimate.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/strings.h"

namespace dlb::run {
namespace {

bool IsCuda(const plan::Cell& c) { return StartsWith(c.device, "cuda"); }

// torch.compile asked for, by an option or a profile (the profile's options are merged in).
bool TorchCompiled(const plan::Cell& c) {
  if (c.framework != "torch") return false;
  auto o = nlohmann::json::parse(c.options_json, nullptr, false);
  if (!o.is_object() || !o.contains("compile")) return false;
  const auto& v = o["compile"];
  return !(v.is_boolean() && !v.get<bool>()) && !v.is_null();
}

// Relative size of a model's load and compile work, ResNet-50 = 1.
double ModelScale(const std::string& model) {
  if (model == "resnet18") return 0.5;
  if (model == "resnet50") return 1.0;
  if (model == "vit_b_16") return 1.5;
  if (model == "mobilenet_v3_small") return 0.5;
  if (model == "efficientnet_b0") return 0.8;
  if (model == "synthetic") return 0.0;
  return 1.0;
}

bool CpuEnergyReadable() {
  return ::access("/sys/class/powercap/intel-rapl:0/energy_uj", R_OK) == 0;
}

// Wall seconds of one repetition at a measurement time.
double Repetition(double fixed_s, double measure_s) { return fixed_s + measure_s; }

struct CellCost {
  double first, later;  // whole repetitions at the expected measurement time
  double first_low, later_low, first_high, later_high;
  bool from_history;
};

CellCost CostOf(const plan::Cell& cell, const History& history) {
  auto h = history.find(cell.cell_idx);
  if (h != history.end() && h->second.first_s) {
    double first = *h->second.first_s;
    double later = h->second.later_s.value_or(first);
    return {first, later, first, later, first, later, true};
  }
  RepetitionCost m = ModelCost(cell);
  return {Repetition(m.first_fixed_s, m.measure_expected_s),
          Repetition(m.later_fixed_s, m.measure_expected_s),
          Repetition(m.first_fixed_s, m.measure_low_s),
          Repetition(m.later_fixed_s, m.measure_low_s),
          Repetition(m.first_fixed_s, m.measure_high_s),
          Repetition(m.later_fixed_s, m.measure_high_s),
          false};
}

double Total(double first, double later, int n) {
  return n <= 0 ? 0 : first + later * static_cast<double>(n - 1);
}

double ValidationSeconds(const plan::Plan& plan) {
  if (!plan.experiment.validate) return 0;
  std::set<std::tuple<std::string, std::string, std::string, std::string>> runs;
  double total = 0;
  for (const auto& c : plan.cells) {
    const plan::WorkerCapabilities* caps = plan.experiment.CapabilitiesOf(c.framework);
    if (caps == nullptr || !caps->CanValidate(c.workload)) continue;  // as cli/run.cc chooses
    if (!runs.insert({c.workload, c.model, c.precision, c.device}).second) continue;
    // Two workers, each started, loaded with the shared weights, and run on a few inputs (training:
    // a few steps and the weights saved, about twice the work).
    double scale = ModelScale(c.model) * (c.workload == "training" ? 2 : 1);
    total += IsCuda(c) ? 2 * (5.0 + 4.0 * scale) : 2 * (2.5 + 3.0 * scale);
  }
  return total;
}

}  // namespace

RepetitionCost ModelCost(const plan::Cell& cell) {
  const bool cuda = IsCuda(cell);
  // A training step is about three forwards (forward, backward, update): its compile and first
  // call grow alike.
  const double scale = ModelScale(cell.model) * (cell.workload == "training" ? 3.0 : 1.0);
  // Worker start to its hello: imports, and CUDA initialisation on a GPU (torch took 7-9 s on the
  // H100 node, jax 1.4 s; on the 2-core machine both about 2.5 s).
  double start = 3.0;
  double load_first = 1.0, load_later = 1.0;
  if (cell.framework == "synthetic") {
    start = 0.3;
    load_first = load_later = 0.05;
  } else if (cell.framework == "torch") {
    start = cuda ? 8.0 : 2.5;
    if (TorchCompiled(cell)) {
      load_first = std::max(5.0, (cuda ? 15.0 : 60.0) * scale);
      load_later = std::max(2.0, (cuda ? 4.0 : 12.0) * scale);
    } else {
      load_first = load_later = 0.5 + (cuda ? 0.5 : 1.0) * scale;
    }
  } else if (cell.framework == "jax") {
    start = cuda ? 1.5 : 2.5;
    load_first = 1.0 + (cuda ? 8.0 : 6.0) * scale;
    load_later = 0.5 + (cuda ? 1.5 : 2.0) * scale;
  }
  const auto& s = cell.sampling;
  double energy = 0;
  if (cell.energy.windows > 0 && (cuda || CpuEnergyReadable())) {
    energy = cell.energy.windows * (cuda ? cell.energy.gpu_window_s : cell.energy.cpu_window_s);
  }
  // Warm-up, the pipelined window, first call and the exit around the measurement.
  const double around = 0.5 + s.window_min_time_s + energy;
  RepetitionCost c;
  c.first_fixed_s = start + load_first + around;
  c.later_fixed_s = start + load_later + around;
  c.measure_low_s = s.min_time_s;
  c.measure_high_s = std::max(s.min_time_s, s.max_time_s);
  // Where the stop rule usually lands: a third of the way from the floor to the cap.
  c.measure_expected_s = s.min_time_s + (c.measure_high_s - s.min_time_s) / 3;
  return c;
}

RunEstimate EstimateRun(const plan::Plan& plan, const History& history) {
  const auto& e = plan.experiment;
  RunEstimate r;
  for (const auto& cell : plan.cells) {
    CellCost c = CostOf(cell, history);
    // With a precision target most pairs run to the cap: a first stage of a few repetitions
    // estimates the scatter so poorly that the two-stage rule plans for the worst (in 200 A/A
    // experiments, min 3 and max 12, 135 pairs reached it).
    r.expected_s += Total(c.first, c.later, e.target_ratio_ci ? e.max_repetitions : e.repetitions);
    r.low_s += Total(c.first_low, c.later_low, e.repetitions);
    r.high_s += Total(c.first_high, c.later_high, e.max_repetitions);
    if (c.from_history) {
      ++r.cells_from_history;
      r.history_repetitions += history.at(cell.cell_idx).repetitions;
    }
  }
  const double tasks = static_cast<double>(plan.cells.size()) * e.repetitions;
  const double cooldown = tasks > 1 ? e.cooldown_s * (tasks - 1) : 0;
  r.validation_s = ValidationSeconds(plan);
  r.expected_s += cooldown + r.validation_s;
  r.low_s += cooldown + r.validation_s;
  r.high_s += cooldown * e.max_repetitions / std::max(1, e.repetitions) + r.validation_s;
  return r;
}

std::optional<double> ParseDuration(const std::string& text) {
  std::string t(Trim(text));
  if (t.empty()) return std::nullopt;
  double total = 0;
  size_t i = 0;
  bool any = false;
  while (i < t.size()) {
    size_t j = i;
    while (j < t.size() && (std::isdigit(static_cast<unsigned char>(t[j])) || t[j] == '.')) ++j;
    if (j == i) return std::nullopt;
    double v = 0;
    try {
      v = std::stod(t.substr(i, j - i));
    } catch (...) {
      return std::nullopt;
    }
    double unit = 1;
    if (j < t.size()) {
      char u = t[j];
      if (u == 'h') unit = 3600;
      else if (u == 'm') unit = 60;
      else if (u == 's') unit = 1;
      else return std::nullopt;
      ++j;
    } else if (any) {
      return std::nullopt;  // "1h30" is ambiguous
    }
    total += v * unit;
    any = true;
    i = j;
  }
  if (!(total > 0) || !std::isfinite(total)) return std::nullopt;
  return total;
}

BudgetFit FitBudget(plan::Plan& plan, const History& history, double budget_s) {
  // The minimum design with every measurement cap scaled by f (never below its floor).
  auto minimum_at = [&](double f) {
    plan::Plan p = plan;
    for (auto& c : p.cells) {
      c.sampling.max_time_s = std::max(c.sampling.min_time_s, c.sampling.max_time_s * f);
    }
    p.experiment.max_repetitions = p.experiment.repetitions;
    return EstimateRun(p, history).high_s;
  };
  BudgetFit fit;
  fit.smallest_s = minimum_at(0);
  if (fit.smallest_s > budget_s) {
    fit.fits = false;
    fit.estimate = EstimateRun(plan, history);
    return fit;
  }
  fit.fits = true;
  if (minimum_at(1) > budget_s) {
    double lo = 0, hi = 1;  // minimum_at(lo) fits, minimum_at(hi) does not
    for (int i = 0; i < 40; ++i) {
      double mid = (lo + hi) / 2;
      (minimum_at(mid) <= budget_s ? lo : hi) = mid;
    }
    std::set<std::pair<double, double>> changes;
    for (auto& c : plan.cells) {
      double old_cap = c.sampling.max_time_s;
      c.sampling.max_time_s = std::max(c.sampling.min_time_s, old_cap * lo);
      if (c.sampling.max_time_s < old_cap) changes.insert({old_cap, c.sampling.max_time_s});
    }
    for (const auto& [old_cap, new_cap] : changes) {
      fit.gave_up.push_back(fmt::format("measurement cap max_time_s {} -> {} per repetition",
                                        FormatDuration(old_cap), FormatDuration(new_cap)));
    }
  }
  if (plan.experiment.max_repetitions > plan.experiment.repetitions &&
      EstimateRun(plan, history).high_s > budget_s) {
    fit.gave_up.push_back(fmt::format(
        "repetitions above the minimum ({} of at most {}): a precision round starts only while "
        "the budget has room for it",
        plan.experiment.repetitions, plan.experiment.max_repetitions));
  }
  fit.estimate = EstimateRun(plan, history);
  return fit;
}

}  // namespace dlb::run
