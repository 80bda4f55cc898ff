// Parsing is strict: an unknown key is an error, not a silent default, because a misspelt
// "repetitons = 10" that is ignored produces a study with the wrong design and nobody notices.
#include "plan/parse.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <toml++/toml.h>

#include "plan/axes.h"
#include "plan/catalog.h"
#include "plan/profile.h"
#include "plan/registry.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/limits.h"
#include "util/strings.h"

namespace dlb::plan {
namespace {

using nlohmann::json;

class Parser {
 public:
  Parser(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void Fail(const toml::node* node, const std::string& field,
                         const std::string& problem) const {
    std::string where = path_;
    if (node != nullptr && node->source().begin.line > 0) {
      where += ":" + std::to_string(node->source().begin.line);
    }
    throw UserError(fmt::format("{}: {}: {}", where, field, problem));
  }

  // Every key of table must be one of allowed.
  void CheckKeys(const toml::table& table, const std::string& prefix,
                 const std::vector<std::string>& allowed) const {
    for (const auto& [key, node] : table) {
      std::string k(key.str());
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        std::string where = prefix.empty() ? "top level" : "[" + prefix + "]";
        Fail(&node, Dotted(prefix, k),
             fmt::format("unknown key \"{}\" in {}; {}", k, where, AllowedValues(k, allowed)));
      }
    }
  }

  // Names reach terminals, tables, LaTeX and file names: a control character (ESC, newline, NUL)
  // in one is refused here rather than escaped everywhere later.
  void CheckName(const toml::node* node, const std::string& field, const std::string& name) const {
    if (auto c = FirstControl(name)) {
      Fail(node, field, fmt::format("the name \"{}\" holds the control character {}; allowed: "
                                    "printable characters", TerminalSafe(name), *c));
    }
  }

  static std::string Dotted(const std::string& prefix, const std::string& key) {
    return prefix.empty() ? key : prefix + "." + key;
  }

  const toml::table* Table(const toml::table& parent, const std::string& key,
                           const std::string& field) const {
    const toml::node* n = parent.get(key);
    if (n == nullptr) return nullptr;
    if (!n->is_table()) Fail(n, field, "expected a table");
    return n->as_table();
  }

  std::optional<std::string> String(const toml::table& t, const std::string& key,
                                    const std::string& field) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_string()) Fail(n, field, "expected a string");
    return n->value<std::string>();
  }

  // A string that must be one of allowed, or nullopt when the key is absent.
  std::optional<std::string> Choice(const toml::table& t, const std::string& key, const std::string& field,
                                    const std::vector<std::string>& allowed) const {
    auto v = String(t, key, field);
    if (v && std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
      Fail(t.get(key), field, fmt::format("\"{}\"; {}", *v, AllowedValues(*v, allowed)));
    }
    return v;
  }

  std::optional<int64_t> Int(const toml::table& t, const std::string& key, const std::string& field,
                             int64_t min, int64_t max) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_integer()) Fail(n, field, "expected an integer");
    int64_t v = *n->value<int64_t>();
    if (v < min || v > max) {
      Fail(n, field, fmt::format("{} is out of range; allowed: integers from {} to {}", v, min, max));
    }
    return v;
  }

  std::optional<double> Number(const toml::table& t, const std::string& key,
                               const std::string& field, double min, double max,
                               bool min_exclusive = false) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_number()) Fail(n, field, "expected a number");
    double v = *n->value<double>();
    bool low = min_exclusive ? v <= min : v < min;
    if (!std::isfinite(v) || low || v > max) {
      Fail(n, field,
           fmt::format("{} is out of range; allowed: numbers {} {} and <= {}", v,
                       min_exclusive ? ">" : ">=", min, max));
    }
    return v;
  }

  std::optional<bool> Bool(const toml::table& t, const std::string& key,
                           const std::string& field) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_boolean()) Fail(n, field, "expected true or false");
    return n->value<bool>();
  }

  // A string array; a single string counts as an array of one.
  std::optional<std::vector<std::pair<std::string, const toml::node*>>> Strings(
      const toml::table& t, const std::string& key, const std::string& field) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    std::vector<std::pair<std::string, const toml::node*>> out;
    if (n->is_string()) {
      out.emplace_back(*n->value<std::string>(), n);
      return out;
    }
    if (!n->is_array()) Fail(n, field, "expected an array of strings");
    for (const auto& item : *n->as_array()) {
      if (!item.is_string()) Fail(&item, field, "expected an array of strings");
      out.emplace_back(*item.value<std::string>(), &item);
    }
    if (out.empty()) Fail(n, field, "must not be empty");
    std::set<std::string> seen;
    for (const auto& [s, node] : out) {
      if (!seen.insert(s).second) Fail(node, field, fmt::format("\"{}\" is listed twice", s));
    }
    return out;
  }

  EnvVars Env(const toml::table& t, const std::string& key, const std::string& field) const {
    EnvVars env;
    const toml::table* table = Table(t, key, field);
    if (table == nullptr) return env;
    for (const auto& [k, node] : *table) {
      std::string name(k.str());
      if (name.empty() || name.find('=') != std::string::npos) {
        Fail(&node, field, fmt::format("\"{}\" is not a valid environment variable name", name));
      }
      if (!node.is_string()) {
        Fail(&node, field + "." + name, "expected a string (environment values are strings)");
      }
      env.emplace_back(name, *node.value<std::string>());
    }
    return env;
  }

  static json ToJson(const toml::node& node) {
    if (auto* t = node.as_table()) {
      json obj = json::object();
      for (const auto& [k, v] : *t) obj[std::string(k.str())] = ToJson(v);
      return obj;
    }
    if (auto* a = node.as_array()) {
      json arr = json::array();
      for (const auto& v : *a) arr.push_back(ToJson(v));
      return arr;
    }
    if (node.is_string()) return *node.value<std::string>();
    if (node.is_integer()) return *node.value<int64_t>();
    if (node.is_floating_point()) return *node.value<double>();
    if (node.is_boolean()) return *node.value<bool>();
    return node.is_date_time() ? json("datetime") : json(nullptr);
  }

  std::string path_;
};

// The registry and the capabilities the parse has asked for: each worker is asked once, and only
// the workers the matrix names, unless a message needs every worker's models.
class Workers {
 public:
  explicit Workers(CapabilitySource& source) : source_(source) {}

  WorkerRegistry registry;

  std::vector<std::string> Names() const { return registry.Names(); }
  bool Has(const std::string& name) const { return registry.Find(name) != nullptr; }
  // A server's capabilities are the ones its [servers.NAME] declares; a worker is asked.
  const WorkerCapabilities& Of(const std::string& name) {
    const WorkerEntry& entry = *registry.Find(name);
    return entry.server ? entry.server->capabilities : source_.Get(entry);
  }

  // Every worker's models, in registry order, for "is not a model; allowed: ...".
  std::vector<std::string> AllModels() {
    std::vector<std::string> models;
    for (const auto& name : Names()) {
      for (const auto& m : Of(name).models) {
        if (std::find(models.begin(), models.end(), m) == models.end()) models.push_back(m);
      }
    }
    return models;
  }

 private:
  CapabilitySource& source_;
};

bool Lists(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

const std::vector<std::string> kTopKeys = {"experiment", "matrix",       "sampling", "energy",
                                           "options",    "training",     "generation",
                                           "variants",   "environments", "workers",  "slurm",
                                           "servers",    "load",         "contention"};
const std::vector<std::string> kContentionKeys = {"policy", "threshold", "replacements",
                                                  "quiet_window_s", "quiet_timeout_s"};
const std::vector<std::string> kGenerationKeys = {"prompt_tokens", "new_tokens"};
// A bound on lengths that no decoder here reaches (llama-* have 2,048 positions): the workers
// refuse a prompt and output longer than their model's positions, naming both.
constexpr int64_t kMaxGenerationTokens = 1'048'576;
const std::vector<std::string> kWorkerKeys = {"command"};
const std::vector<std::string> kServerKeys = {"command", "url",       "health",  "api",
                                              "prompt",  "eos_token", "logprobs", "startup_timeout_s",
                                              "models",  "precisions", "devices"};
const std::vector<std::string> kLoadKeys = {"requests", "warmup", "stall_timeout_s", "arrival", "rate",
                                            "burstiness"};
const std::vector<std::string> kArrivals = {"closed", "offline", "poisson", "gamma"};
const std::vector<std::string> kTrainingKeys = {"optimizer", "lr",    "momentum", "nesterov",
                                                "weight_decay", "beta1", "beta2", "eps",
                                                "dataset", "epochs"};
const std::vector<std::string> kOptimizers = {"sgd", "adamw"};
const std::vector<std::string> kEnergyKeys = {"windows", "gpu_window_s", "cpu_window_s"};
const std::vector<std::string> kExperimentKeys = {"name",      "description", "repetitions",
                                                  "order",     "seed",        "cooldown_s",
                                                  "timeout_s", "validate",
                                                  "gpu_temperature_max_c",
                                                  "gpu_temperature_timeout_s",
                                                  "telemetry_interval_s", "compare_by"};
const std::vector<std::string> kRepetitionKeys = {"min", "max", "target_ratio_ci"};
const std::vector<std::string> kMatrixKeys = {"framework", "model",  "batch",   "precision",
                                              "device",    "workload", "layout",  "variant",
                                              "environment", "profile"};
const std::vector<std::string> kSamplingKeys = {
    "warmup_min_iterations", "warmup_max_iterations", "warmup_tolerance", "min_iterations",
    "min_time_s",            "max_iterations",        "max_time_s",       "target_rel_ci",
    "confidence",            "chunk_target_s",        "window_min_time_s"};
const std::vector<std::string> kVariantKeys = {"description", "frameworks", "env", "options",
                                               "sampling"};
const std::vector<std::string> kEnvironmentKeys = {"description", "prefix", "env"};
const std::vector<std::string> kOrders = {"sequential", "shuffled", "interleaved"};

SamplingSettings ParseSampling(const Parser& p, const toml::table& t, const std::string& prefix,
                               SamplingSettings s) {
  p.CheckKeys(t, prefix, kSamplingKeys);
  auto f = [&](const char* k) { return prefix + "." + k; };
  constexpr int64_t kBig = 1'000'000'000;
  if (auto v = p.Int(t, "warmup_min_iterations", f("warmup_min_iterations"), 0, kBig)) {
    s.warmup_min_iterations = static_cast<int>(*v);
  }
  if (auto v = p.Int(t, "warmup_max_iterations", f("warmup_max_iterations"), 0, kBig)) {
    s.warmup_max_iterations = static_cast<int>(*v);
  }
  if (auto v = p.Number(t, "warmup_tolerance", f("warmup_tolerance"), 0, 1, true)) {
    s.warmup_tolerance = *v;
  }
  if (auto v = p.Int(t, "min_iterations", f("min_iterations"), 1, kBig)) {
    s.min_iterations = static_cast<int>(*v);
  }
  if (auto v = p.Int(t, "max_iterations", f("max_iterations"), 1, kBig)) {
    s.max_iterations = static_cast<int>(*v);
  }
  if (auto v = p.Number(t, "min_time_s", f("min_time_s"), 0, 1e6)) s.min_time_s = *v;
  if (auto v = p.Number(t, "max_time_s", f("max_time_s"), 0, 1e6, true)) s.max_time_s = *v;
  if (auto v = p.Number(t, "target_rel_ci", f("target_rel_ci"), 0, 1, true)) s.target_rel_ci = *v;
  if (auto v = p.Number(t, "confidence", f("confidence"), 0.5, 0.9999)) s.confidence = *v;
  if (auto v = p.Number(t, "chunk_target_s", f("chunk_target_s"), 0, 600, true)) {
    s.chunk_target_s = *v;
  }
  if (auto v = p.Number(t, "window_min_time_s", f("window_min_time_s"), 0, 600)) {
    s.window_min_time_s = *v;
  }
  if (s.max_iterations < s.min_iterations) {
    p.Fail(t.get("max_iterations") ? t.get("max_iterations") : &t, prefix + ".max_iterations",
           fmt::format("{} is below min_iterations ({})", s.max_iterations, s.min_iterations));
  }
  if (s.warmup_max_iterations < s.warmup_min_iterations) {
    p.Fail(t.get("warmup_max_iterations") ? t.get("warmup_max_iterations") : &t, prefix + ".warmup_max_iterations",
           fmt::format("{} is below warmup_min_iterations ({})", s.warmup_max_iterations,
                       s.warmup_min_iterations));
  }
  if (s.max_time_s < s.min_time_s) {
    p.Fail(t.get("max_time_s") ? t.get("max_time_s") : &t, prefix + ".max_time_s",
           fmt::format("{} is below min_time_s ({})", s.max_time_s, s.min_time_s));
  }
  return s;
}

// A list of names from the matrix, each one of allowed.
std::vector<std::string> ParseNames(const Parser& p, const toml::table& m, const std::string& key,
                                    const std::vector<std::string>& allowed, const char* what,
                                    std::vector<std::string> fallback) {
  auto items = p.Strings(m, key, "matrix." + key);
  if (!items) return fallback;
  std::vector<std::string> out;
  for (const auto& [s, node] : *items) {
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
      p.Fail(node, "matrix." + key,
             fmt::format("\"{}\" is not {}; {}", s, what, AllowedValues(s, allowed)));
    }
    out.push_back(s);
  }
  return out;
}

// `repetitions = 5`, or `repetitions = { min = 3, max = 12, target_ratio_ci = 0.02 }`: at least
// min, and more (up to max) for the cells of any comparison whose ratio interval is still wider
// than ±target_ratio_ci.
void ParseRepetitions(const Parser& p, const toml::table& t, Experiment& e) {
  const toml::node* n = t.get("repetitions");
  if (n == nullptr) return;
  if (n->is_integer()) {
    e.repetitions = static_cast<int>(*p.Int(t, "repetitions", "experiment.repetitions", 1, 10'000));
    e.max_repetitions = e.repetitions;
    return;
  }
  if (!n->is_table()) {
    p.Fail(n, "experiment.repetitions",
           "expected an integer, or a table { min = 3, max = 12, target_ratio_ci = 0.02 }");
  }
  const toml::table& r = *n->as_table();
  p.CheckKeys(r, "experiment.repetitions", kRepetitionKeys);
  auto min = p.Int(r, "min", "experiment.repetitions.min", 1, 10'000);
  auto max = p.Int(r, "max", "experiment.repetitions.max", 1, 10'000);
  if (!min) p.Fail(n, "experiment.repetitions.min", "missing (the repetitions every cell gets)");
  e.repetitions = static_cast<int>(*min);
  e.max_repetitions = static_cast<int>(max.value_or(*min));
  if (e.max_repetitions < e.repetitions) {
    p.Fail(r.get("max"), "experiment.repetitions.max",
           fmt::format("{} is below min ({})", e.max_repetitions, e.repetitions));
  }
  if (const toml::node* target = r.get("target_ratio_ci")) {
    if (!target->is_number() || !(*target->value<double>() > 0) || *target->value<double>() >= 1) {
      p.Fail(target, "experiment.repetitions.target_ratio_ci",
             "expected a number above 0 and below 1 (the half-width of the ratio's interval "
             "as a fraction: 0.02 stops at ±2%)");
    }
    e.target_ratio_ci = *target->value<double>();
    if (e.repetitions < 2) {
      p.Fail(r.get("min"), "experiment.repetitions.min",
             "a precision target needs at least 2 repetitions per cell (an interval needs 2)");
    }
  } else if (e.max_repetitions != e.repetitions) {
    p.Fail(r.get("max"), "experiment.repetitions.max",
           "more repetitions than min are only run for a target_ratio_ci; add one, or set max = min");
  }
}

void ParseExperimentTable(const Parser& p, const toml::table& root, Experiment& e) {
  const toml::table* t = p.Table(root, "experiment", "experiment");
  if (t == nullptr) p.Fail(nullptr, "experiment", "missing [experiment] table with a name");
  p.CheckKeys(*t, "experiment", kExperimentKeys);
  auto name = p.String(*t, "name", "experiment.name");
  if (!name || Trim(*name).empty()) p.Fail(t, "experiment.name", "missing or empty");
  p.CheckName(t->get("name"), "experiment.name", *name);
  e.name = *name;
  e.description = p.String(*t, "description", "experiment.description").value_or("");
  ParseRepetitions(p, *t, e);
  if (auto by = p.String(*t, "compare_by", "experiment.compare_by")) {
    const auto& axes = ComparisonAxes();
    if (*by == "run" || std::find(axes.begin(), axes.end(), *by) == axes.end()) {
      std::vector<std::string> allowed(axes.begin(), axes.end() - 1);  // every axis but `run`
      p.Fail(t->get("compare_by"), "experiment.compare_by",
             fmt::format("\"{}\" is not an axis cells can be compared along; {}", *by,
                         AllowedValues(*by, allowed)));
    }
    e.compare_by = *by;
  }
  if (auto order = p.String(*t, "order", "experiment.order")) {
    auto it = std::find(kOrders.begin(), kOrders.end(), *order);
    if (it == kOrders.end()) {
      p.Fail(t->get("order"), "experiment.order",
             fmt::format("\"{}\" is not an order; {}", *order, AllowedValues(*order, kOrders)));
    }
    e.order = static_cast<Order>(it - kOrders.begin());
  }
  e.seed = static_cast<uint64_t>(
      p.Int(*t, "seed", "experiment.seed", 0, INT64_MAX).value_or(static_cast<int64_t>(e.seed)));
  e.cooldown_s = p.Number(*t, "cooldown_s", "experiment.cooldown_s", 0, 86'400).value_or(0);
  e.timeout_s =
      p.Number(*t, "timeout_s", "experiment.timeout_s", 0, 86'400, true).value_or(e.timeout_s);
  e.validate = p.Bool(*t, "validate", "experiment.validate").value_or(false);
  if (auto c = p.Int(*t, "gpu_temperature_max_c", "experiment.gpu_temperature_max_c", 20, 110)) {
    e.gpu_temperature_max_c = static_cast<int>(*c);
  }
  e.gpu_temperature_timeout_s =
      p.Number(*t, "gpu_temperature_timeout_s", "experiment.gpu_temperature_timeout_s", 0, 86'400)
          .value_or(e.gpu_temperature_timeout_s);
  e.telemetry_interval_s =
      p.Number(*t, "telemetry_interval_s", "experiment.telemetry_interval_s", 0, 60)
          .value_or(e.telemetry_interval_s);
}

// [training]: the optimizer and its hyper-parameters, for the training cells only. Keys that belong
// to the other optimizer are refused rather than ignored.
// training.dataset: one every worker of the matrix lists and can load here (its capabilities'
// datasets and datasets_missing); training.epochs only with it.
void ParseDataset(const Parser& p, Workers& workers, const toml::table& t, Experiment& e) {
  TrainingSettings& s = e.training;
  auto name = p.String(t, "dataset", "training.dataset");
  auto epochs = p.Int(t, "epochs", "training.epochs", 1, 1000);
  if (!name) {
    if (epochs) {
      p.Fail(t.get("epochs"), "training.epochs",
             "counts the epochs over training.dataset, which is not set; set dataset too "
             "(allowed: digits), or leave epochs out");
    }
    return;
  }
  for (const auto& fw : e.matrix.framework) {
    const WorkerCapabilities& caps = workers.Of(fw);
    auto has = [](const std::vector<std::string>& v, const std::string& x) {
      return std::find(v.begin(), v.end(), x) != v.end();
    };
    if (!has(caps.workloads, "training")) continue;
    if (!has(caps.datasets, *name)) {
      p.Fail(t.get("dataset"), "training.dataset",
             fmt::format("\"{}\" is not a dataset of worker {}; allowed: {}", *name, fw,
                         caps.datasets.empty() ? "none" : Join(caps.datasets, ", ")));
    }
    if (auto why = caps.datasets_missing.find(*name); why != caps.datasets_missing.end()) {
      p.Fail(t.get("dataset"), "training.dataset",
             fmt::format("\"{}\" cannot be loaded by worker {}: {}", *name, fw, why->second));
    }
  }
  s.dataset = *name;
  s.epochs = static_cast<int>(epochs.value_or(1));
}

void ParseTraining(const Parser& p, Workers& workers, const toml::table& root, Experiment& e) {
  const toml::table* t = p.Table(root, "training", "training");
  const auto& w = e.matrix.workload;
  const bool training = std::find(w.begin(), w.end(), "training") != w.end();
  if (t == nullptr) return;
  if (!training) {
    p.Fail(t, "training",
           "the matrix has no training cells (matrix.workload = [\"training\"]); [training] "
           "applies only to them");
  }
  p.CheckKeys(*t, "training", kTrainingKeys);
  TrainingSettings& s = e.training;
  if (auto name = p.String(*t, "optimizer", "training.optimizer")) {
    if (std::find(kOptimizers.begin(), kOptimizers.end(), *name) == kOptimizers.end()) {
      p.Fail(t->get("optimizer"), "training.optimizer",
             fmt::format("\"{}\" is not an optimizer; {}", *name, AllowedValues(*name, kOptimizers)));
    }
    s.optimizer = *name;
    if (s.optimizer == "adamw") {  // dlbench's AdamW defaults, the same for every framework
      s.lr = 1e-3;
      s.weight_decay = 1e-2;
    }
  }
  const std::vector<std::string> sgd_only = {"momentum", "nesterov"};
  const std::vector<std::string> adamw_only = {"beta1", "beta2", "eps"};
  for (const auto& key : s.optimizer == "sgd" ? adamw_only : sgd_only) {
    if (t->get(key)) {
      p.Fail(t->get(key), "training." + key,
             fmt::format("{} has no {}; allowed with {}: {}", s.optimizer, key, s.optimizer,
                         s.optimizer == "sgd" ? "lr, momentum, nesterov, weight_decay"
                                              : "lr, beta1, beta2, eps, weight_decay"));
    }
  }
  s.lr = p.Number(*t, "lr", "training.lr", 0, 1e6, true).value_or(s.lr);
  s.weight_decay = p.Number(*t, "weight_decay", "training.weight_decay", 0, 1e3).value_or(s.weight_decay);
  s.momentum = p.Number(*t, "momentum", "training.momentum", 0, 1).value_or(s.momentum);
  s.nesterov = p.Bool(*t, "nesterov", "training.nesterov").value_or(s.nesterov);
  s.beta1 = p.Number(*t, "beta1", "training.beta1", 0, 1).value_or(s.beta1);
  s.beta2 = p.Number(*t, "beta2", "training.beta2", 0, 1).value_or(s.beta2);
  s.eps = p.Number(*t, "eps", "training.eps", 0, 1, true).value_or(s.eps);
  for (const char* key : {"beta1", "beta2"}) {
    if (const toml::node* n = t->get(key); n && *n->value<double>() >= 1) {
      p.Fail(n, fmt::format("training.{}", key), "must be below 1");
    }
  }
  ParseDataset(p, workers, *t, e);
}

// The lengths, given or the defaults, must fit every decoder the matrix generates with (the
// positions its workers report); the error points at the length the file gives, new_tokens first.
void CheckPositions(const Parser& p, Workers& workers, const toml::table* t, const Experiment& e) {
  const int64_t total = static_cast<int64_t>(e.generation.prompt_tokens) + e.generation.new_tokens;
  const std::string key = t != nullptr && t->get("new_tokens") != nullptr ? "new_tokens" : "prompt_tokens";
  for (const auto& fw : e.matrix.framework) {
    const WorkerCapabilities& caps = workers.Of(fw);
    for (const auto& model : e.matrix.model) {
      auto it = caps.model_positions.find(model);
      if (it == caps.model_positions.end() || !caps.Runs(model, "generation") || total <= it->second) continue;
      const toml::node* at = t != nullptr && t->get(key) != nullptr ? t->get(key) : t;
      p.Fail(at, "generation." + key,
             fmt::format("prompt_tokens + new_tokens is {}; {} has {} positions (the {} worker's)", total,
                         model, it->second, fw));
    }
  }
}

// [generation]: the lengths of the generation cells' prompts and outputs.
void ParseGeneration(const Parser& p, Workers& workers, const toml::table& root, Experiment& e) {
  const toml::table* t = p.Table(root, "generation", "generation");
  const auto& w = e.matrix.workload;
  const bool generates = std::find(w.begin(), w.end(), "generation") != w.end();
  if (t != nullptr) {
    if (!generates) {
      p.Fail(t, "generation",
             "the matrix has no generation cells (matrix.workload = [\"generation\"]); "
             "[generation] applies only to them");
    }
    p.CheckKeys(*t, "generation", kGenerationKeys);
    GenerationSettings& g = e.generation;
    g.prompt_tokens = static_cast<int>(
        p.Int(*t, "prompt_tokens", "generation.prompt_tokens", 1, kMaxGenerationTokens)
            .value_or(g.prompt_tokens));
    g.new_tokens = static_cast<int>(
        p.Int(*t, "new_tokens", "generation.new_tokens", 1, kMaxGenerationTokens)
            .value_or(g.new_tokens));
  }
  if (generates) CheckPositions(p, workers, t, e);
}

void ParseEnergy(const Parser& p, const toml::table& root, Experiment& e) {
  const toml::table* t = p.Table(root, "energy", "energy");
  if (t == nullptr) return;
  p.CheckKeys(*t, "energy", kEnergyKeys);
  if (auto v = p.Int(*t, "windows", "energy.windows", 0, 1000)) e.energy.windows = static_cast<int>(*v);
  if (auto v = p.Number(*t, "gpu_window_s", "energy.gpu_window_s", 0, 3600, true)) {
    e.energy.gpu_window_s = *v;
  }
  if (auto v = p.Number(*t, "cpu_window_s", "energy.cpu_window_s", 0, 3600, true)) {
    e.energy.cpu_window_s = *v;
  }
}

void ParseContention(const Parser& p, const toml::table& root, Experiment& e) {
  const toml::table* t = p.Table(root, "contention", "contention");
  if (t == nullptr) return;
  p.CheckKeys(*t, "contention", kContentionKeys);
  ContentionSettings& c = e.contention;
  c.policy = p.Choice(*t, "policy", "contention.policy", {"exclude", "record"}).value_or(c.policy);
  if (const toml::node* n = t->get("threshold")) {
    if (!n->is_number()) p.Fail(n, "contention.threshold", "expected a number");
    const double v = *n->value<double>();
    if (!(v > 0 && v < 1)) {
      p.Fail(n, "contention.threshold", fmt::format("{} is out of range; allowed: numbers > 0 and < 1", v));
    }
    c.threshold = v;
  }
  c.replacements = static_cast<int>(
      p.Int(*t, "replacements", "contention.replacements", 1, 1000).value_or(c.replacements));
  c.quiet_window_s =
      p.Number(*t, "quiet_window_s", "contention.quiet_window_s", 0, 3600, true).value_or(c.quiet_window_s);
  c.quiet_timeout_s = p.Number(*t, "quiet_timeout_s", "contention.quiet_timeout_s", 0, 86400, true)
                          .value_or(c.quiet_timeout_s);
}

// Option keys must be accepted by every framework they will be sent to.
void CheckOptions(const Parser& p, Workers& workers, const toml::table& options,
                  const std::string& field, const std::vector<std::string>& frameworks) {
  for (const auto& [key, node] : options) {
    std::string k(key.str());
    for (const auto& fw : frameworks) {
      if (const WorkerEntry* entry = workers.registry.Find(fw); entry && entry->server) continue;  // no worker options
      const auto& allowed = workers.Of(fw).options;
      if (!Lists(allowed, k)) {
        p.Fail(&node, field + "." + k,
               fmt::format("the {} worker has no option \"{}\"; {} (limit a variant to frameworks "
                           "with `frameworks = [...]`)",
                           fw, k, AllowedValues(k, allowed)));
      }
    }
  }
}

// toml++ keeps a table's keys sorted; variants and environments keep the file's order instead.
std::vector<std::pair<std::string, const toml::node*>> InFileOrder(const toml::table& t) {
  std::vector<std::pair<std::string, const toml::node*>> items;
  for (const auto& [k, node] : t) items.emplace_back(std::string(k.str()), &node);
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    return a.second->source().begin.line < b.second->source().begin.line;
  });
  return items;
}

void ParseVariants(const Parser& p, Workers& workers, const toml::table& root, Experiment& e) {
  const toml::table* vs = p.Table(root, "variants", "variants");
  if (vs == nullptr) return;
  for (const auto& [name, node] : InFileOrder(*vs)) {
    std::string prefix = "variants." + name;
    p.CheckName(node, "variants", name);
    if (!node->is_table()) p.Fail(node, prefix, "expected a table");
    const toml::table& t = *node->as_table();
    p.CheckKeys(t, prefix, kVariantKeys);
    Variant v;
    v.name = name;
    v.description = p.String(t, "description", prefix + ".description").value_or("");
    if (auto fws = p.Strings(t, "frameworks", prefix + ".frameworks")) {
      for (const auto& [fw, fnode] : *fws) {
        if (!workers.Has(fw)) {
          p.Fail(fnode, prefix + ".frameworks",
                 fmt::format("\"{}\" is not a framework; {}", fw, AllowedValues(fw, workers.Names())));
        }
        v.frameworks.push_back(fw);
      }
    }
    v.env = p.Env(t, "env", prefix + ".env");
    v.options_json = "{}";
    if (const toml::table* opts = p.Table(t, "options", prefix + ".options")) {
      CheckOptions(p, workers, *opts, prefix + ".options",
                   v.frameworks.empty() ? e.matrix.framework : v.frameworks);
      v.options_json = Parser::ToJson(*opts).dump();
    }
    v.sampling = e.sampling;
    if (const toml::table* s = p.Table(t, "sampling", prefix + ".sampling")) {
      v.sampling = ParseSampling(p, *s, prefix + ".sampling", e.sampling);
    }
    e.variants.push_back(std::move(v));
  }
}

// [slurm]: defaults for `dlbench slurm submit` (its flags win) and extra #SBATCH lines.
const std::vector<std::string> kSlurmKeys = {"partition", "account", "time", "gpus_per_task",
                                             "array_parallelism", "sbatch"};

void ParseSlurm(const Parser& p, const toml::table& root, Experiment& e) {
  const toml::table* t = p.Table(root, "slurm", "slurm");
  if (t == nullptr) return;
  p.CheckKeys(*t, "slurm", kSlurmKeys);
  auto& s = e.slurm;
  s.partition = p.String(*t, "partition", "slurm.partition").value_or("");
  s.account = p.String(*t, "account", "slurm.account").value_or("");
  s.time = p.String(*t, "time", "slurm.time").value_or("");
  s.gpus_per_task = static_cast<int>(p.Int(*t, "gpus_per_task", "slurm.gpus_per_task", 0, 64).value_or(0));
  s.array_parallelism =
      static_cast<int>(p.Int(*t, "array_parallelism", "slurm.array_parallelism", 0, 100000).value_or(0));
  if (auto lines = p.Strings(*t, "sbatch", "slurm.sbatch")) {
    for (const auto& [line, node] : *lines) {
      // Each becomes one "#SBATCH ..." line of the job script: an option, on one line.
      if (line.empty() || line[0] != '-' || line.find_first_of("\n\r") != std::string::npos) {
        p.Fail(node, "slurm.sbatch",
               fmt::format("\"{}\" is not an sbatch option; allowed: options such as \"--qos=high\" "
                           "or \"--constraint=h100\", one per string", line));
      }
      s.sbatch.push_back(line);
    }
  }
}

void ParseEnvironments(const Parser& p, const toml::table& root, Experiment& e) {
  const toml::table* es = p.Table(root, "environments", "environments");
  if (es == nullptr) return;
  for (const auto& [name, node] : InFileOrder(*es)) {
    std::string prefix = "environments." + name;
    p.CheckName(node, "environments", name);
    if (!node->is_table()) p.Fail(node, prefix, "expected a table");
    const toml::table& t = *node->as_table();
    p.CheckKeys(t, prefix, kEnvironmentKeys);
    Environment env;
    env.name = name;
    env.description = p.String(t, "description", prefix + ".description").value_or("");
    if (const toml::node* pn = t.get("prefix")) {
      if (!pn->is_array()) {
        p.Fail(pn, prefix + ".prefix",
               "expected an argument list such as [\"taskset\", \"-c\", \"0\"] (no shell is used)");
      }
      for (const auto& item : *pn->as_array()) {
        if (!item.is_string()) p.Fail(&item, prefix + ".prefix", "expected strings");
        env.prefix.push_back(*item.value<std::string>());
      }
    }
    env.env = p.Env(t, "env", prefix + ".env");
    e.environments.push_back(std::move(env));
  }
}

template <typename T>
std::vector<std::string> NamesOf(const std::vector<T>& items) {
  std::vector<std::string> names;
  for (const auto& i : items) names.push_back(i.name);
  return names;
}

void ParseMatrix(const Parser& p, Workers& workers, const toml::table& root, Experiment& e) {
  const toml::table* m = p.Table(root, "matrix", "matrix");
  if (m == nullptr) p.Fail(nullptr, "matrix", "missing [matrix] table");
  std::vector<std::string> matrix_keys = kMatrixKeys;
  if (m->get("mode")) matrix_keys.push_back("mode");  // workload's old name, accepted, not advertised
  p.CheckKeys(*m, "matrix", matrix_keys);
  auto& mx = e.matrix;
  if (!m->get("framework")) p.Fail(m, "matrix.framework", "missing; allowed: " + Join(workers.Names(), ", "));
  if (!m->get("model")) p.Fail(m, "matrix.model", "missing; allowed: " + Join(workers.AllModels(), ", "));
  mx.framework = ParseNames(p, *m, "framework", workers.Names(), "a framework", {});
  // Each model must be offered by one of the matrix's workers; only when none does are the other
  // workers asked, to tell "not a model at all" from "not offered by these".
  auto items = p.Strings(*m, "model", "matrix.model");
  for (const auto& [model, node] : *items) {
    bool offered = std::any_of(mx.framework.begin(), mx.framework.end(),
                               [&](const auto& fw) { return Lists(workers.Of(fw).models, model); });
    if (!offered) {
      auto all = workers.AllModels();
      if (!Lists(all, model)) {
        p.Fail(node, "matrix.model",
               fmt::format("\"{}\" is not a model; {}", model, AllowedValues(model, all)));
      }
      p.Fail(m->get("model"), "matrix.model",
             fmt::format("\"{}\" is not offered by {}", model, Join(mx.framework, " or ")));
    }
    mx.model.push_back(model);
  }
  mx.profile = ParseNames(p, *m, "profile", kProfiles, "a profile", {});
  if (!mx.profile.empty()) {
    for (const char* key : {"precision", "layout"}) {
      if (m->get(key)) {
        p.Fail(m->get(key), fmt::format("matrix.{}", key),
               fmt::format("a profile sets the {} (fp32, or bf16 for bf16-tuned); give either "
                           "matrix.profile or matrix.{}, not both",
                           key, key));
      }
    }
  }
  mx.precision = ParseNames(p, *m, "precision", kPrecisions, "a precision", {"fp32"});
  for (const auto& fw : mx.framework) {
    const auto& ok = workers.Of(fw).precisions;
    for (const auto& prec : mx.precision) {
      if (std::find(ok.begin(), ok.end(), prec) == ok.end()) {
        p.Fail(m->get("precision"), "matrix.precision",
               fmt::format("\"{}\" is not supported by the {} worker; {}", prec, fw,
                           AllowedValues(prec, ok)));
      }
    }
  }
  // `mode` is the axis's name from before training existed; old files keep working.
  if (m->get("mode") && m->get("workload")) {
    p.Fail(m->get("mode"), "matrix.mode", "the old name of matrix.workload; give one of them");
  }
  const char* workload_key = m->get("mode") ? "mode" : "workload";
  mx.workload = ParseNames(p, *m, workload_key, kWorkloads, "a workload", {"inference"});
  // A workload some of the workers lack is skipped for them (the transformers worker only
  // generates); one that none of them runs would leave no cell.
  for (const auto& w : mx.workload) {
    bool offered = std::any_of(mx.framework.begin(), mx.framework.end(),
                               [&](const auto& fw) { return Lists(workers.Of(fw).workloads, w); });
    if (offered) continue;
    const std::string& fw = mx.framework.front();
    p.Fail(m->get(workload_key), fmt::format("matrix.{}", workload_key),
           mx.framework.size() == 1
               ? fmt::format("\"{}\" is not a workload of the {} worker; {}", w, fw,
                             AllowedValues(w, workers.Of(fw).workloads))
               : fmt::format("\"{}\" is not offered by {}", w, Join(mx.framework, " or ")));
  }
  // A (model, workload) pair no worker runs is skipped (plan/expand.cc); a model that runs none of
  // the matrix's workloads would leave no cell of its own.
  for (const auto& model : mx.model) {
    bool runs = std::any_of(mx.framework.begin(), mx.framework.end(), [&](const auto& fw) {
      return std::any_of(mx.workload.begin(), mx.workload.end(),
                         [&](const auto& wl) { return workers.Of(fw).Runs(model, wl); });
    });
    if (!runs) {
      p.Fail(m->get("model"), "matrix.model",
             fmt::format("\"{}\" runs none of the workloads {} on {}", model,
                         Join(mx.workload, ", "), Join(mx.framework, " or ")));
    }
  }
  mx.layout = ParseNames(p, *m, "layout", kLayouts, "a layout", {"default"});
  // A layout some of the workers cannot use is skipped for them (plan/expand.cc); one that none
  // of them can use would leave no cell.
  for (const auto& layout : mx.layout) {
    bool offered = std::any_of(mx.framework.begin(), mx.framework.end(),
                               [&](const auto& fw) { return Lists(workers.Of(fw).layouts, layout); });
    if (!offered) {
      p.Fail(m->get("layout"), "matrix.layout",
             fmt::format("\"{}\" is not offered by {}", layout, Join(mx.framework, " or ")));
    }
  }
  if (const toml::node* b = m->get("batch")) {
    auto add = [&](const toml::node& n) {
      if (!n.is_integer() || *n.value<int64_t>() < 1 || *n.value<int64_t>() > 1'000'000) {
        p.Fail(&n, "matrix.batch",
               fmt::format("{} is not a batch size; allowed: integers from 1 to 1000000",
                           n.is_integer() ? std::to_string(*n.value<int64_t>()) : "this value"));
      }
      int v = static_cast<int>(*n.value<int64_t>());
      if (std::find(mx.batch.begin(), mx.batch.end(), v) != mx.batch.end()) {
        p.Fail(&n, "matrix.batch", fmt::format("{} is listed twice", v));
      }
      mx.batch.push_back(v);
    };
    if (b->is_array()) {
      for (const auto& item : *b->as_array()) add(item);
      if (mx.batch.empty()) p.Fail(b, "matrix.batch", "must not be empty");
    } else {
      add(*b);
    }
  } else {
    mx.batch = {1};
  }
  if (auto devs = p.Strings(*m, "device", "matrix.device")) {
    for (const auto& [d, node] : *devs) {
      if (!IsValidDevice(d)) {
        p.Fail(node, "matrix.device",
               fmt::format("\"{}\" is not a device; allowed: cpu, cuda, cuda:N", d));
      }
      for (const auto& fw : mx.framework) {
        const auto& caps = workers.Of(fw);
        if (!CoversDevice(caps, d)) {
          p.Fail(node, "matrix.device",
                 fmt::format("\"{}\" is not a device of the {} worker; allowed: {}", d, fw,
                             Join(caps.devices, ", ")));
        }
      }
      mx.device.push_back(d);
    }
  } else {
    mx.device = {"cpu"};
    for (const auto& fw : mx.framework) {
      if (!CoversDevice(workers.Of(fw), "cpu")) {
        p.Fail(m, "matrix.device",
               fmt::format("missing, and the {} worker has no cpu device; allowed: {}", fw,
                           Join(workers.Of(fw).devices, ", ")));
      }
    }
  }
  auto variant_names = NamesOf(e.variants);
  if (variant_names.empty()) variant_names = {"default"};
  mx.variant = ParseNames(p, *m, "variant", variant_names, "a variant", variant_names);
  auto env_names = NamesOf(e.environments);
  if (env_names.empty()) env_names = {"native"};
  mx.environment = ParseNames(p, *m, "environment", env_names, "an environment", env_names);
}

// [workers.NAME] command = ["{python}", "-m", "dlbench_worker", "torch"]: how a worker is started.
// A name may be new or a built-in one started another way (in a container, on another host).
void ParseWorkers(const Parser& p, const toml::table& root, WorkerRegistry& registry) {
  const toml::table* ws = p.Table(root, "workers", "workers");
  if (ws == nullptr) return;
  for (const auto& [name, node] : InFileOrder(*ws)) {
    std::string prefix = "workers." + name;
    p.CheckName(node, "workers", name);
    if (!node->is_table()) p.Fail(node, prefix, "expected a table with a command");
    const toml::table& t = *node->as_table();
    p.CheckKeys(t, prefix, kWorkerKeys);
    const toml::node* cn = t.get("command");
    const std::string field = prefix + ".command";
    if (cn == nullptr) {
      p.Fail(node, field,
             "missing; expected an argument list such as [\"{python}\", \"-m\", "
             "\"dlbench_worker\", \"torch\"] (no shell is used)");
    }
    if (!cn->is_array()) {
      p.Fail(cn, field,
             "expected an argument list such as [\"{python}\", \"-m\", \"dlbench_worker\", "
             "\"torch\"] (no shell is used)");
    }
    WorkerEntry entry{name, {}, "", std::nullopt};
    for (const auto& item : *cn->as_array()) {
      if (!item.is_string()) p.Fail(&item, field, "expected strings");
      entry.command.push_back(*item.value<std::string>());
    }
    if (auto problem = CheckCommandTemplate(entry.command)) p.Fail(cn, field, *problem);
    entry.defined_at = fmt::format("{}:{}", p.path_, cn->source().begin.line);
    registry.Add(std::move(entry));
  }
}

// [servers.NAME]: a serving stack that takes part in the matrix as a framework (plan/registry.h,
// ServerSettings). Its command and URL are templates; what it serves is declared here.
void ParseServers(const Parser& p, const toml::table& root, WorkerRegistry& registry) {
  const toml::table* ss = p.Table(root, "servers", "servers");
  if (ss == nullptr) return;
  for (const auto& [name, node] : InFileOrder(*ss)) {
    const std::string prefix = "servers." + name;
    p.CheckName(node, "servers", name);
    if (registry.Find(name) != nullptr) {
      p.Fail(node, prefix, fmt::format("\"{}\" is already a worker's name; a server needs a name of its own", name));
    }
    if (!node->is_table()) p.Fail(node, prefix, "expected a table with a command or a url");
    const toml::table& t = *node->as_table();
    p.CheckKeys(t, prefix, kServerKeys);
    WorkerEntry entry{name, {}, fmt::format("{}:{}", p.path_, node->source().begin.line), ServerSettings{}};
    ServerSettings& s = *entry.server;
    if (const toml::node* cn = t.get("command")) {
      if (!cn->is_array()) {
        p.Fail(cn, prefix + ".command",
               "expected an argument list such as [\"{serve_python}\", \"-m\", \"llama_cpp.server\", "
               "\"--port\", \"{port}\"] (no shell is used)");
      }
      for (const auto& item : *cn->as_array()) {
        if (!item.is_string()) p.Fail(&item, prefix + ".command", "expected strings");
        entry.command.push_back(*item.value<std::string>());
      }
      if (auto problem = CheckCommandTemplate(entry.command, true)) p.Fail(cn, prefix + ".command", *problem);
    }
    if (auto url = p.String(t, "url", prefix + ".url")) {
      s.url = *url;
    } else if (entry.command.empty()) {
      p.Fail(node, prefix, "needs a command that starts the server, or the url of one that is running");
    }
    const toml::node* un = t.get("url") != nullptr ? t.get("url") : node;
    if (auto problem = CheckCommandTemplate({s.url}, true)) p.Fail(un, prefix + ".url", *problem);
    if (entry.command.empty() && s.url.find("{port}") != std::string::npos) {
      p.Fail(un, prefix + ".url", "{port} is picked for a server dlbench starts; give the running server's port");
    }
    CommandVariables probe;
    probe.port = "1";
    if (auto bad = CheckBaseUrl(ExpandServerText(s.url, name, probe))) p.Fail(un, prefix + ".url", *bad);
    s.health = p.String(t, "health", prefix + ".health").value_or(s.health);
    if (!s.health.starts_with('/')) {
      p.Fail(t.get("health"), prefix + ".health", fmt::format("\"{}\" is not a path; expected one such as /health", s.health));
    }
    s.api = p.Choice(t, "api", prefix + ".api", {"completions", "chat"}).value_or(s.api);
    s.prompt = p.Choice(t, "prompt", prefix + ".prompt", {"tokens", "text"}).value_or(s.prompt);
    if (s.api == "chat" && s.prompt == "tokens" && t.get("prompt") != nullptr) {
      p.Fail(t.get("prompt"), prefix + ".prompt", "chat prompts are text; allowed with api = \"chat\": text");
    }
    if (s.api == "chat") s.prompt = "text";
    s.eos_token = p.Int(t, "eos_token", prefix + ".eos_token", 0, 100'000'000);
    s.logprobs = p.Bool(t, "logprobs", prefix + ".logprobs").value_or(true);
    s.startup_timeout_s = p.Number(t, "startup_timeout_s", prefix + ".startup_timeout_s", 0, 86400, true)
                              .value_or(s.startup_timeout_s);
    WorkerCapabilities& caps = s.capabilities;
    caps.worker = caps.framework = name;
    auto names = [&](const char* key, const std::vector<std::string>* allowed, std::vector<std::string> fallback) {
      auto items = p.Strings(t, key, prefix + "." + key);
      if (!items) {
        if (fallback.empty()) {
          p.Fail(node, prefix + "." + key, "missing; the names of the models this server serves (matrix.model names them)");
        }
        return fallback;
      }
      std::vector<std::string> out;
      for (const auto& [v, vn] : *items) {
        p.CheckName(vn, prefix + "." + key, v);
        if (allowed != nullptr && std::find(allowed->begin(), allowed->end(), v) == allowed->end()) {
          p.Fail(vn, prefix + "." + key, fmt::format("\"{}\"; {}", v, AllowedValues(v, *allowed)));
        }
        out.push_back(v);
      }
      return out;
    };
    caps.models = names("models", nullptr, {});
    caps.precisions = names("precisions", &kPrecisions, {"fp32"});
    const std::vector<std::string> kinds = {"cpu", "cuda"};
    caps.devices = names("devices", &kinds, {"cpu"});
    caps.workloads = {"generation"};
    caps.layouts = {"default"};
    registry.Add(std::move(entry));
  }
}

// [load]: how the serving stacks' cells are driven.
void ParseLoad(const Parser& p, const toml::table& root, Experiment& e) {
  const toml::table* t = p.Table(root, "load", "load");
  const bool serves = std::any_of(e.matrix.framework.begin(), e.matrix.framework.end(), [&](const auto& fw) {
    const WorkerEntry* entry = e.workers.Find(fw);
    return entry != nullptr && entry->server;
  });
  if (t == nullptr) return;
  if (!serves) {
    p.Fail(t, "load", "the matrix names no server ([servers.NAME] in matrix.framework); [load] applies only to them");
  }
  p.CheckKeys(*t, "load", kLoadKeys);
  LoadSettings& l = e.load;
  l.requests = static_cast<int>(p.Int(*t, "requests", "load.requests", 1, 10'000'000).value_or(l.requests));
  l.warmup = static_cast<int>(p.Int(*t, "warmup", "load.warmup", 0, 10'000'000).value_or(l.warmup));
  l.stall_timeout_s = p.Number(*t, "stall_timeout_s", "load.stall_timeout_s", 0, 86400, true).value_or(l.stall_timeout_s);
  l.arrival = p.Choice(*t, "arrival", "load.arrival", kArrivals).value_or(l.arrival);
  if (auto rate = p.Number(*t, "rate", "load.rate", 0, 1e9, true)) {
    if (!l.OpenLoop()) {
      p.Fail(t->get("rate"), "load.rate", fmt::format("a {} load has no rate; allowed with arrival = \"poisson\" or \"gamma\"", l.arrival));
    }
    l.rate = *rate;
  } else if (l.OpenLoop()) {
    p.Fail(t, "load.rate", fmt::format("missing; a {} load needs a rate in requests/s, a number > 0", l.arrival));
  }
  if (auto b = p.Number(*t, "burstiness", "load.burstiness", 0, 1000, true)) {
    if (l.arrival != "gamma") p.Fail(t->get("burstiness"), "load.burstiness", "only a gamma load has a burstiness");
    l.burstiness = *b;
  }
  if (l.arrival != "closed") {
    const auto& batches = e.matrix.batch;
    if (std::find(batches.begin(), batches.end(), 1) == batches.end()) {
      p.Fail(t->get("arrival"), "load.arrival",
             fmt::format("a load with arrival = \"{}\" runs a server's cells at batch 1 only (a closed loop's batch is its concurrency); "
                         "matrix.batch has no 1", l.arrival));
    }
  }
}

}  // namespace

std::string OrderName(Order order) { return kOrders[static_cast<size_t>(order)]; }

Experiment ParseExperiment(const std::string& text, const std::string& path,
                           CapabilitySource& capabilities) {
  Parser p(path);
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& err) {
    throw UserError(fmt::format("{}:{}: TOML syntax error: {}", path, err.source().begin.line,
                                err.description()));
  }
  Experiment e;
  e.path = path;
  e.source_text = text;
  p.CheckKeys(root, "", kTopKeys);
  ParseExperimentTable(p, root, e);
  ParseEnergy(p, root, e);
  ParseContention(p, root, e);
  if (const toml::table* s = p.Table(root, "sampling", "sampling")) {
    e.sampling = ParseSampling(p, *s, "sampling", e.sampling);
  }
  // The workers first: the matrix's framework names are theirs. Then the matrix's framework
  // list, which decides which option keys are valid.
  Workers workers(capabilities);
  ParseWorkers(p, root, workers.registry);
  ParseServers(p, root, workers.registry);
  const toml::table* m = p.Table(root, "matrix", "matrix");
  if (m != nullptr && m->get("framework")) {
    e.matrix.framework = ParseNames(p, *m, "framework", workers.Names(), "a framework", {});
  }
  if (const toml::table* opts = p.Table(root, "options", "options")) {
    CheckOptions(p, workers, *opts, "options", e.matrix.framework);
    e.options_json = Parser::ToJson(*opts).dump();
  }
  ParseVariants(p, workers, root, e);
  ParseEnvironments(p, root, e);
  ParseSlurm(p, root, e);
  ParseMatrix(p, workers, root, e);
  ParseTraining(p, workers, root, e);
  ParseGeneration(p, workers, root, e);
  for (const auto& fw : e.matrix.framework) {
    WorkerCapabilities caps = workers.Of(fw);
    caps.worker = fw;  // the registry's name: a user entry may run a worker that calls itself otherwise
    e.capabilities.push_back(std::move(caps));
  }
  e.workers = workers.registry;
  ParseLoad(p, root, e);
  return e;
}

Experiment ParseExperimentFile(const std::string& path, CapabilitySource& capabilities) {
  return ParseExperiment(ReadFileOrThrow(path, kMaxExperimentFileBytes), path, capabilities);
}

}  // namespace dlb::plan
