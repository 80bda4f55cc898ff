#include "cli/validation_output.h"

#include <cmath>

#include <fmt/format.h>

#include "report/table.h"
#include "util/strings.h"

namespace dlb::cli {

std::string NumericSummary(const std::string& settings_json) {
  auto s = nlohmann::json::parse(settings_json, nullptr, false);
  if (!s.is_object()) return "-";
  std::vector<std::string> parts;
  auto add = [&](const char* key, const char* label) {
    if (s.contains(key) && !s[key].is_null()) {
      parts.push_back(fmt::format("{} {}", label, s[key].is_string() ? s[key].get<std::string>() : s[key].dump()));
    }
  };
  add("matmul_fp32_precision", "matmul");
  add("conv_fp32_precision", "conv");
  if (s.contains("jax_default_matmul_precision")) {
    parts.push_back(fmt::format("matmul precision {}", s["jax_default_matmul_precision"].is_null()
                                                             ? "default"
                                                             : s["jax_default_matmul_precision"].get<std::string>()));
  }
  add("layout", "layout");
  add("dtype", "dtype");
  return Join(parts, ", ");
}

namespace {

// What went wrong for a model outside the pairs: its own error and each framework that produced
// nothing to compare.
std::string FailureNotes(const run::ModelValidation& r) {
  std::string notes;
  if (!r.error.empty()) notes += fmt::format("{}: {}\n", r.model, r.error);
  for (const auto& o : r.outputs) {
    if (o.status != "ok") notes += fmt::format("{} {}: {}: {}\n", r.model, o.framework, o.status, o.message);
  }
  return notes;
}

// The end of both texts: each worker's settings as read back, the tolerance's reason, the notes.
std::string Closing(const std::vector<run::ModelValidation>& results, const std::string& settings_title,
                    const std::string& tolerance_reason, const std::string& notes) {
  std::string out = "\n" + settings_title + ":\n";
  for (const auto& r : results) {
    for (const auto& o : r.outputs) {
      out += fmt::format("  {} {}: {}\n", r.model, o.framework, NumericSummary(o.settings_json));
    }
  }
  if (!tolerance_reason.empty()) out += fmt::format("\ntolerance: {}\n", tolerance_reason);
  if (!notes.empty()) out += "\n" + notes;
  return out;
}

double MaxLater(const analysis::TrainingComparison& c) {
  double m = 0;
  for (size_t i = 1; i < c.loss_errors.size(); ++i) {
    if (!(c.loss_errors[i] <= m)) m = c.loss_errors[i];  // NaN sticks
  }
  return m;
}

std::string TrainingText(const std::vector<run::ModelValidation>& results,
                         const run::ValidationSpec& spec) {
  report::TextTable t({"model", "A", "B", "first loss", "later losses", "weights", "running stats",
                       "result"},
                      {false, false, false, true, true, true, true, false});
  std::string notes, losses;
  for (const auto& r : results) {
    notes += FailureNotes(r);
    for (const auto& o : r.outputs) {
      if (o.status != "ok") continue;
      std::vector<std::string> v;
      for (double l : o.losses) v.push_back(fmt::format("{:.6g}", l));
      losses += fmt::format("  {} {}: {}\n", r.model, o.framework, Join(v, ", "));
    }
    for (const auto& p : r.pairs) {
      const auto& c = p.training;
      const auto& tol = p.training_tolerance;
      if (!c.problem.empty()) notes += fmt::format("{}: {}\n", r.model, c.problem);
      t.AddRow({r.model, p.framework_a, p.framework_b,
                fmt::format("{:.1e} (<= {:.0e})", c.loss_errors.empty() ? 0.0 : c.loss_errors[0], tol.first_loss),
                fmt::format("{:.1e} (<= {:.0e})", MaxLater(c), tol.later_losses),
                fmt::format("{:.2g} (<= {:.2g})", c.weights_error, tol.weights),
                fmt::format("{:.2g} (<= {:.0e})", c.running_stats_error, tol.running_stats),
                p.pass ? "pass" : "FAIL"});
    }
  }
  std::string out = fmt::format(
      "training of {} for {} steps on {} fixed inputs from the same weights, {} on {}, optimizer {}\n"
      "losses: |B-A| / |A| per step; weights: ||W_B - W_A|| / ||W_A - W_0||, the difference relative "
      "to the distance training moved them\n\n",
      Join(spec.frameworks, " vs "), spec.steps, spec.inputs, spec.precision, spec.device,
      spec.optimizer_json);
  out += t.empty() ? "no comparison could be made\n" : t.Render();
  if (!losses.empty()) out += "\nlosses per step:\n" + losses;
  const bool any = !results.empty() && !results.front().pairs.empty();
  return out + Closing(results, "settings read back from each worker",
                       any ? results.front().pairs.front().training_tolerance.reason : "", notes);
}

}  // namespace

std::string ValidationText(const std::vector<run::ModelValidation>& results,
                           const run::ValidationSpec& spec) {
  if (spec.workload == "training") return TrainingText(results, spec);
  report::TextTable t({"model", "A", "B", "max abs err", "max rel err", "cosine", "top-1 agree",
                       "tolerance", "result"},
                      {false, false, false, true, true, true, true, true, false});
  std::string notes;
  for (const auto& r : results) {
    notes += FailureNotes(r);
    for (const auto& p : r.pairs) {
      const auto& c = p.comparison;
      if (c.nonfinite_a > 0 || c.nonfinite_b > 0) {
        notes += fmt::format("{}: {} has {} and {} has {} NaN or infinite outputs of {}\n", r.model,
                             p.framework_a, c.nonfinite_a, p.framework_b, c.nonfinite_b,
                             c.rows * c.cols);
      }
      t.AddRow({r.model, p.framework_a, p.framework_b, fmt::format("{:.3g}", c.max_abs_err),
                fmt::format("{:.3g}", c.max_rel_err), fmt::format("{:.9f}", c.cosine),
                fmt::format("{:.0f}%", c.top1_agreement * 100),
                fmt::format("{:.0e}", p.tolerance.max_rel_err), p.pass ? "pass" : "FAIL"});
    }
  }
  // A decoder's logits: one row per position of each sequence, the first half run as a prefill.
  std::string what = spec.workload == "generation"
                         ? fmt::format("logits of {} on {} fixed token sequences of {} (prefill {}, "
                                       "then one decode step per token)",
                                       Join(spec.frameworks, " vs "), spec.inputs,
                                       run::kValidationTokens, run::kValidationTokens / 2)
                         : fmt::format("outputs of {} on {} fixed inputs", Join(spec.frameworks, " vs "),
                                       spec.inputs);
  std::string out = fmt::format("{}, {} on {} (max rel err = max |A-B| / max |A|)\n\n", what,
                                spec.precision, spec.device);
  out += t.empty() ? "no comparison could be made\n" : t.Render();
  const bool any = !results.empty() && !results.front().pairs.empty();
  return out + Closing(results, "numeric settings read back from each worker",
                       any ? results.front().pairs.front().tolerance.reason : "", notes);
}

nlohmann::json ValidationJson(const std::vector<run::ModelValidation>& results,
                              const run::ValidationSpec& spec) {
  nlohmann::json models = nlohmann::json::array();
  for (const auto& r : results) {
    nlohmann::json outputs = nlohmann::json::array(), pairs = nlohmann::json::array();
    for (const auto& o : r.outputs) {
      outputs.push_back({{"framework", o.framework}, {"status", o.status}, {"message", o.message},
                         {"settings", nlohmann::json::parse(o.settings_json, nullptr, false)}});
      if (spec.workload == "training") outputs.back()["losses"] = o.losses;
    }
    for (const auto& p : r.pairs) {
      if (spec.workload == "training") {
        const auto& c = p.training;
        const auto& tol = p.training_tolerance;
        auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
        nlohmann::json errors = nlohmann::json::array();
        for (double e : c.loss_errors) errors.push_back(num(e));
        pairs.push_back({{"a", p.framework_a}, {"b", p.framework_b}, {"loss_errors", errors},
                         {"weights_error", num(c.weights_error)},
                         {"running_stats_error", num(c.running_stats_error)},
                         {"trains", c.trains}, {"problem", c.problem},
                         {"tolerance", {{"first_loss", tol.first_loss},
                                        {"later_losses", tol.later_losses},
                                        {"weights", tol.weights},
                                        {"running_stats", tol.running_stats},
                                        {"reason", tol.reason}}},
                         {"pass", p.pass}});
        continue;
      }
      const auto& c = p.comparison;
      pairs.push_back({{"a", p.framework_a}, {"b", p.framework_b}, {"rows", c.rows},
                       {"max_abs_err", c.max_abs_err}, {"output_scale", c.scale},
                       {"max_rel_err", c.max_rel_err}, {"cosine", c.cosine},
                       {"top1_agreement", c.top1_agreement},
                       {"nonfinite_a", c.nonfinite_a}, {"nonfinite_b", c.nonfinite_b},
                       {"tolerance", {{"max_rel_err", p.tolerance.max_rel_err},
                                      {"min_cosine", p.tolerance.min_cosine},
                                      {"reason", p.tolerance.reason}}},
                       {"pass", p.pass}});
    }
    models.push_back({{"model", r.model}, {"weights", r.weights_source}, {"ok", r.ok()},
                      {"error", r.error}, {"outputs", outputs}, {"pairs", pairs}});
  }
  bool ok = std::all_of(results.begin(), results.end(), [](const auto& r) { return r.ok(); });
  nlohmann::json out = {{"format", "dlbench-validate"}, {"version", 1},
                        {"workload", spec.workload}, {"precision", spec.precision},
                        {"device", spec.device}, {"frameworks", spec.frameworks},
                        {"inputs", spec.inputs}, {"seed", spec.seed}, {"ok", ok}, {"models", models}};
  if (spec.workload == "training") {
    out["steps"] = spec.steps;
    out["optimizer"] = nlohmann::json::parse(spec.optimizer_json);
  }
  return out;
}

}  // namespace dlb::cli
