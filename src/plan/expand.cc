#include "plan/expand.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "plan/axes.h"
#include "plan/catalog.h"
#include "plan/profile.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/random.h"
#include "util/strings.h"

namespace dlb::plan {
namespace {

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Deep merge: keys of over replace those of base, objects merge recursively.
std::string MergeOptions(const std::string& base, const std::string& over) {
  auto merged = nlohmann::json::parse(base);
  merged.merge_patch(nlohmann::json::parse(over));
  return merged.dump();
}

EnvVars MergeEnv(EnvVars base, const EnvVars& over) {
  for (const auto& [k, v] : over) {
    auto it = std::find_if(base.begin(), base.end(), [&](const auto& p) { return p.first == k; });
    if (it != base.end()) {
      it->second = v;
    } else {
      base.emplace_back(k, v);
    }
  }
  return base;
}

// The matrix's size before filtering, checked before anything is expanded: a typo such as a
// batch list of a million entries is one line, not minutes of work and std::bad_alloc.
void CheckMatrixSize(const Experiment& e) {
  const auto& m = e.matrix;
  const std::vector<std::pair<const char*, size_t>> axes = {
      {"framework", m.framework.size()}, {"model", m.model.size()},
      {"batch", m.batch.size()},         {"profile", std::max<size_t>(m.profile.size(), 1)},
      {"precision", m.precision.size()}, {"device", m.device.size()},
      {"workload", m.workload.size()},   {"layout", m.layout.size()},
      {"environment", m.environment.size()}, {"variant", m.variant.size()}};
  double cells = 1;  // a double cannot overflow here: each axis is bounded by the file's size
  std::vector<std::string> factors;
  for (const auto& [axis, n] : axes) {
    cells *= static_cast<double>(n);
    if (n > 1) factors.push_back(fmt::format("{} {}", axis, n));
  }
  if (cells > static_cast<double>(kMaxCells)) {
    throw UserError(fmt::format("{}: matrix: {:.0f} cells ({}) exceed the limit of {}; split the "
                                "experiment",
                                e.path, cells, Join(factors, " x "), kMaxCells));
  }
}

}  // namespace

std::string GenerationSettings::OptionsJson() const {
  return nlohmann::json{{"prompt_tokens", prompt_tokens}, {"new_tokens", new_tokens}}.dump();
}

std::string LoadSettings::OptionsJson(int batch) const {
  nlohmann::json load = {{"arrival", arrival}, {"requests", requests}, {"warmup", warmup},
                         {"stall_timeout_s", stall_timeout_s}};
  if (arrival == "closed") load["concurrency"] = batch;
  if (OpenLoop()) load["rate"] = rate;
  if (arrival == "gamma") load["burstiness"] = burstiness;
  return nlohmann::json{{"load", load}}.dump();
}

std::string TrainingSettings::OptimizerJson() const {
  nlohmann::json j = {{"name", optimizer}, {"lr", lr}, {"weight_decay", weight_decay}};
  if (optimizer == "sgd") {
    j["momentum"] = momentum;
    j["nesterov"] = nesterov;
  } else {
    j["beta1"] = beta1;
    j["beta2"] = beta2;
    j["eps"] = eps;
  }
  return j.dump();
}

std::string Cell::Key() const { return CellKey(ValuesOf(*this)); }

std::string Cell::Label() const { return CellLabel(ValuesOf(*this)); }

Filter ParseFilter(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos) {
    throw UserError(fmt::format("--filter {}: expected key=value[,value...]", text));
  }
  Filter f{text.substr(0, eq), Split(text.substr(eq + 1), ',')};
  const Axis* axis = FindAxis(f.key);
  if (axis == nullptr) {
    throw UserError(fmt::format("--filter {}: \"{}\" is not a filter key; {}", text, f.key,
                                AllowedValues(f.key, AxisNames())));
  }
  f.key = std::string(axis->name);
  for (const auto& v : f.values) {
    if (v.empty()) throw UserError(fmt::format("--filter {}: empty value", text));
  }
  return f;
}

std::vector<Task> OrderTasks(int num_cells, int repetitions, Order order, uint64_t seed) {
  std::vector<Task> tasks;
  tasks.reserve(static_cast<size_t>(num_cells) * repetitions);
  if (order == Order::kInterleaved) {
    for (int r = 0; r < repetitions; ++r)
      for (int c = 0; c < num_cells; ++c) tasks.push_back({c, r});
    return tasks;
  }
  for (int c = 0; c < num_cells; ++c)
    for (int r = 0; r < repetitions; ++r) tasks.push_back({c, r});
  if (order == Order::kShuffled) {
    Rng rng(seed);
    Shuffle(tasks, rng);
    // Repetition indices follow the order in which a cell's processes actually run.
    std::vector<int> next(static_cast<size_t>(num_cells), 0);
    for (auto& t : tasks) t.rep_idx = next[static_cast<size_t>(t.cell_idx)]++;
  }
  return tasks;
}

Plan Expand(const Experiment& e, const std::vector<Filter>& filters) {
  CheckMatrixSize(e);
  Plan plan;
  plan.experiment = e;
  const auto& m = e.matrix;
  auto find_variant = [&](const std::string& name) -> const Variant* {
    for (const auto& v : e.variants)
      if (v.name == name) return &v;
    return nullptr;
  };
  auto find_env = [&](const std::string& name) -> const Environment* {
    for (const auto& env : e.environments)
      if (env.name == name) return &env;
    return nullptr;
  };
  const std::vector<std::string> profiles = m.profile.empty() ? std::vector<std::string>{""} : m.profile;
  for (const auto& model : m.model)
    for (int batch : m.batch)
      for (const auto& profile : profiles)
        for (const auto& precision : m.precision)
          for (const auto& device : m.device)
            for (const auto& workload : m.workload)
              for (const auto& layout : m.layout)
                for (const auto& env_name : m.environment)
                  for (const auto& variant_name : m.variant)
                    for (const auto& fw : m.framework) {
                      const WorkerCapabilities* info = e.CapabilitiesOf(fw);
                      DLB_CHECK(info != nullptr) << "no capabilities for worker " << fw;
                      if (!info->Runs(model, workload)) continue;
                      ProfileSettings ps{precision, layout, "{}", {}};
                      if (!profile.empty()) ps = ResolveProfile(profile, fw, device);
                      if (!Contains(info->layouts, ps.layout)) continue;
                      const Variant* variant = find_variant(variant_name);
                      if (variant && !variant->frameworks.empty() &&
                          !Contains(variant->frameworks, fw)) {
                        continue;
                      }
                      const Environment* env = find_env(env_name);
                      Cell c;
                      c.framework = fw;
                      c.model = model;
                      c.batch = batch;
                      c.precision = ps.precision;
                      c.device = device;
                      c.workload = workload;
                      c.layout = ps.layout;
                      c.variant = variant_name;
                      c.environment = env_name;
                      c.profile = profile;
                      c.prefix = env ? env->prefix : std::vector<std::string>{};
                      // Later wins: the profile, then the environment and the experiment's
                      // options, then the variant (a variant is an explicit, named change).
                      c.env = MergeEnv(MergeEnv(ps.env, env ? env->env : EnvVars{}),
                                       variant ? variant->env : EnvVars{});
                      c.options_json = MergeOptions(MergeOptions(ps.options_json, e.options_json),
                                                    variant ? variant->options_json : "{}");
                      if (workload == "training") {
                        c.options_json = MergeOptions(
                            c.options_json,
                            nlohmann::json{{"optimizer", nlohmann::json::parse(
                                                             e.training.OptimizerJson())}}
                                .dump());
                        c.dataset = e.training.dataset;
                        c.epochs = e.training.epochs;
                      }
                      if (workload == "generation") {
                        c.options_json = MergeOptions(c.options_json, e.generation.OptionsJson());
                      }
                      if (const WorkerEntry* entry = e.workers.Find(fw); entry && entry->server) {
                        // Only a closed loop has a concurrency; any other load runs once, at batch 1.
                        if (e.load.arrival != "closed" && batch != 1) continue;
                        c.load = e.load;
                        // A server takes no worker options: its cell records what it is driven with.
                        c.options_json = MergeOptions(e.generation.OptionsJson(), e.load.OptionsJson(batch));
                      }
                      c.sampling = variant ? variant->sampling : e.sampling;
                      c.energy = e.energy;
                      c.contention = e.contention;
                      c.telemetry_interval_s = e.telemetry_interval_s;
                      c.timeout_s = e.timeout_s;
                      bool keep = std::all_of(filters.begin(), filters.end(), [&](const Filter& f) {
                        return Contains(f.values, AxisValue(c, FindAxis(f.key)->id));
                      });
                      if (!keep) continue;
                      c.cell_idx = static_cast<int>(plan.cells.size());
                      plan.cells.push_back(std::move(c));
                    }
  if (plan.cells.empty()) {
    throw UserError(fmt::format("{}: no cell is left to run{}", e.path,
                                filters.empty() ? "" : " after --filter"));
  }
  const auto processes = static_cast<int64_t>(plan.cells.size()) * e.repetitions;
  if (processes > kMaxWorkerProcesses) {
    throw UserError(fmt::format("{}: {} cells x {} repetitions = {} worker processes exceed the "
                                "limit of {}; split the experiment",
                                e.path, plan.cells.size(), e.repetitions, processes,
                                kMaxWorkerProcesses));
  }
  plan.tasks = OrderTasks(static_cast<int>(plan.cells.size()), e.repetitions, e.order, e.seed);
  return plan;
}

}  // namespace dlb::plan
