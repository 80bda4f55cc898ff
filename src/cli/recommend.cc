// dlbench recommend DB [DB ...] --objective throughput|latency|energy|cost: the best measured
// configuration that meets every --constraint, with its interval, the runner-up, whether the two
// differ over repetitions, and which to take when they do not (analysis/decide.h). Read-only.
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "analysis/decide.h"
#include "analysis/verdict.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/measured.h"
#include "util/error.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

using nlohmann::ordered_json;

struct RecommendOptions {
  std::vector<std::string> dbs;
  std::string objective = "throughput";
  std::vector<std::string> constraints, devices, models, where, prices;
  bool json_output = false;
  analysis::CompareOptions compare;
};

std::string Unit(analysis::Objective o) {
  switch (o) {
    case analysis::Objective::kThroughput: return "samples/s";
    case analysis::Objective::kLatency: return "ns per call";
    case analysis::Objective::kEnergy: return "J per sample";
    case analysis::Objective::kCost: return "USD per million samples";
  }
  return "";
}

std::string Show(double v, analysis::Objective o) {
  return o == analysis::Objective::kLatency ? FormatNs(v) : FormatFigure(v) + " " + Unit(o);
}

std::string FigureText(const analysis::Candidate& c, analysis::Objective o) {
  auto f = analysis::GeometricMeanFigure(analysis::ObjectiveValues(c, o));
  if (!f) return "-";
  std::string s = Show(f->value, o);
  if (f->ci) s += fmt::format(" (95% CI {} to {})", Show(f->ci->lo, o), Show(f->ci->hi, o));
  return s + fmt::format(" over {} repetition{}", f->n, f->n == 1 ? "" : "s");
}

ExitCode RunRecommend(const RecommendOptions& o) {
  const analysis::Objective objective = analysis::ParseObjective(o.objective);
  std::vector<analysis::Constraint> constraints;
  for (const auto& k : o.constraints) constraints.push_back(analysis::ParseConstraint(k));
  std::map<std::string, double> prices;
  for (const auto& p : o.prices) prices.insert(analysis::ParsePrice(p));
  if (objective == analysis::Objective::kCost && prices.empty()) {
    throw UserError("--objective cost: give at least one --price DEVICE=USD_PER_HOUR (e.g. cuda=2.50)");
  }
  std::vector<Filter> filters;
  for (const auto& v : o.models) filters.push_back({"model", v});
  for (const auto& v : o.devices) filters.push_back({"device", v});
  for (const auto& w : o.where) filters.push_back(ParseWhere(w));
  const auto cells = Select(LoadMeasured(o.dbs), filters);
  if (cells.empty()) throw UserError(fmt::format("no measured cell in {} matches the filters", Join(o.dbs, ", ")));
  std::vector<analysis::Candidate> candidates;
  for (const auto& m : cells) {
    analysis::Candidate c = CandidateOf(m);
    // A price is per device; "cuda" prices every GPU, a device name ("H100") the matching one.
    for (const auto& [device, usd] : prices) {
      if (device == m.cell.device || (!m.device_name.empty() && m.device_name.find(device) != std::string::npos)) {
        c.usd_per_hour = usd;
      }
    }
    candidates.push_back(std::move(c));
  }
  const auto rec = analysis::Recommend(candidates, objective, constraints, o.compare);
  if (!rec.chosen) throw UserError(rec.why);  // which constraint excluded how many, in one line
  std::string comparison;
  if (rec.best_vs_runner_up) {
    analysis::CompareOptions co = o.compare;
    co.lower_is_better = !analysis::HigherIsBetter(objective);
    const auto& best = candidates[rec.ranked[0]];
    const auto& runner = candidates[rec.ranked[1]];
    comparison = analysis::VerdictSentence(
        *rec.best_vs_runner_up,
        {o.objective, "the best (" + best.label + ")", "the runner-up (" + runner.label + ")",
         best.latency_ns.size(), runner.latency_ns.size(),
         objective == analysis::Objective::kThroughput || objective == analysis::Objective::kLatency ? "faster" : "lower"},
        co);
  }
  if (o.json_output) {
    auto cand = [&](size_t i) {
      const auto& c = candidates[i];
      auto f = analysis::GeometricMeanFigure(analysis::ObjectiveValues(c, objective));
      return ordered_json{{"label", c.label}, {"value", f ? ordered_json(f->value) : ordered_json(nullptr)},
                          {"ci", f && f->ci ? ordered_json::array({f->ci->lo, f->ci->hi}) : ordered_json(nullptr)},
                          {"repetitions", f ? f->n : 0}, {"source", c.provenance}};
    };
    ordered_json j = {{"format", "dlbench-recommend"}, {"version", 1}, {"objective", o.objective},
                      {"unit", Unit(objective)}, {"constraints", o.constraints}};
    j["chosen"] = rec.chosen ? cand(*rec.chosen) : ordered_json(nullptr);
    j["best"] = rec.ranked.empty() ? ordered_json(nullptr) : cand(rec.ranked[0]);
    j["runner_up"] = rec.ranked.size() < 2 ? ordered_json(nullptr) : cand(rec.ranked[1]);
    j["comparison"] = comparison;
    j["verdict"] = rec.best_vs_runner_up ? ordered_json(rec.best_vs_runner_up->verdict) : ordered_json(nullptr);
    j["why"] = rec.why;
    j["decided"] = rec.decided;
    j["excluded"] = ordered_json::array();
    for (const auto& [i, why] : rec.excluded) j["excluded"].push_back({{"label", candidates[i].label}, {"why", why}});
    fmt::print("{}\n", j.dump(2, ' ', false, ordered_json::error_handler_t::replace));
    return rec.chosen ? ExitCode::kDone : ExitCode::kSomeFailed;
  }
  std::string out;
  out += fmt::format("objective: {} ({}); {} configurations, {} meet every constraint\n\n", o.objective,
                     analysis::HigherIsBetter(objective) ? "higher is better" : "lower is better",
                     candidates.size(), rec.ranked.size());
  if (!rec.chosen) {
    out += "no recommendation: " + rec.why + "\n";
  } else {
    const auto& c = candidates[*rec.chosen];
    out += fmt::format("{}: {}\n  {}\n  from {}\n  because {}\n",
                       rec.decided ? "recommended" : "recommended, not yet decided", c.label,
                       FigureText(c, objective), c.provenance, rec.why);
    if (rec.ranked.size() >= 2) {
      const size_t other = *rec.chosen == rec.ranked[0] ? rec.ranked[1] : rec.ranked[0];
      out += fmt::format("{}: {}\n  {}\n  from {}\n", other == rec.ranked[0] ? "best by the objective" : "runner-up",
                         candidates[other].label, FigureText(candidates[other], objective),
                         candidates[other].provenance);
      out += "\n" + comparison + "\n";
    }
  }
  if (!rec.excluded.empty()) {
    out += fmt::format("\nexcluded ({}):\n", rec.excluded.size());
    for (const auto& [i, why] : rec.excluded) out += fmt::format("  {}: {}\n", candidates[i].label, why);
  }
  fmt::print("{}", TerminalSafe(out, true));
  return rec.chosen ? ExitCode::kDone : ExitCode::kSomeFailed;
}

}  // namespace

std::vector<std::string> RecommendSentences(const std::vector<MeasuredCell>& cells,
                                            const std::string& objective_name,
                                            const std::vector<std::string>& constraint_texts,
                                            const analysis::CompareOptions& options) {
  const analysis::Objective objective = analysis::ParseObjective(objective_name);
  std::vector<analysis::Constraint> constraints;
  for (const auto& k : constraint_texts) constraints.push_back(analysis::ParseConstraint(k));
  std::vector<analysis::Candidate> candidates;
  for (const auto& m : cells) candidates.push_back(CandidateOf(m));
  const auto rec = analysis::Recommend(candidates, objective, constraints, options);
  std::string constrained =
      constraint_texts.empty() ? "" : " under " + Join(constraint_texts, ", ");
  if (!rec.chosen) return {fmt::format("For {}{}: no recommendation, {}.", objective_name, constrained, rec.why)};
  const auto& c = candidates[*rec.chosen];
  std::vector<std::string> out = {fmt::format("For {}{}: {}, {}, because {}.", objective_name, constrained,
                                              c.label, FigureText(c, objective), rec.why)};
  if (rec.ranked.size() >= 2) {
    const size_t other = *rec.chosen == rec.ranked[0] ? rec.ranked[1] : rec.ranked[0];
    out.push_back(fmt::format("{}: {}, {}.", other == rec.ranked[0] ? "Best by the figure" : "Runner-up",
                              candidates[other].label, FigureText(candidates[other], objective)));
  }
  return out;
}

void AddRecommendCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand(
      "recommend", "The best measured configuration for an objective, its runner-up, and whether they differ");
  auto o = std::make_shared<RecommendOptions>();
  cmd->add_option("DB", o->dbs, "SQLite database(s)")->required();
  cmd->add_option("--objective", o->objective, "throughput, latency, energy, cost")->capture_default_str();
  cmd->add_option("--constraint", o->constraints,
                  "FIELD OP VALUE, e.g. 'p99 < 20ms', 'memory < 16GiB'; fields: p50 p90 p99 latency "
                  "memory throughput energy cost batch (repeatable)");
  cmd->add_option("--device", o->devices, "only this device: cpu, cuda, or part of its name (repeatable)");
  cmd->add_option("--model", o->models, "only this model (repeatable)");
  cmd->add_option("--where", o->where, "AXIS=VALUE on any axis or host (repeatable)");
  cmd->add_option("--price", o->prices, "DEVICE=USD_PER_HOUR, for --objective cost (repeatable)");
  cmd->add_option("--alpha", o->compare.alpha, "significance level")->capture_default_str()->check(CLI::Range(1e-6, 0.5));
  cmd->add_option("--threshold", o->compare.threshold, "practical-equivalence band, as a fraction")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--json", o->json_output, "machine-readable output (format dlbench-recommend, version 1)");
  cmd->callback([o, &result] { result = RunRecommend(*o); });
}

}  // namespace dlb::cli
