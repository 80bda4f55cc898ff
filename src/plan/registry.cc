#include "plan/registry.h"

#include <fmt/format.h>

#include <algorithm>

#include "util/error.h"
#include "util/strings.h"

namespace dlb::plan {
namespace {

const std::vector<std::string> kPlaceholders = {"python", "workers_dir", "worker"};
const std::vector<std::string> kServerPlaceholders = {"python", "workers_dir", "worker", "serve_python",
                                                      "serve_dir", "port", "model", "precision", "device",
                                                      "batch", "seed", "scratch"};

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Walks one argument: literal text goes to out, each placeholder name to fill. Returns the first
// problem, or nullopt.
template <typename Fill>
std::optional<std::string> Walk(const std::string& arg, std::string& out, bool server, Fill fill) {
  const std::vector<std::string>& allowed = server ? kServerPlaceholders : kPlaceholders;
  for (size_t i = 0; i < arg.size(); ++i) {
    char c = arg[i];
    if ((c == '{' || c == '}') && i + 1 < arg.size() && arg[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c == '}') return fmt::format("\"{}\" has a lone }} (write }}}} for a literal one)", arg);
    if (c != '{') {
      out += c;
      continue;
    }
    size_t end = arg.find('}', i);
    if (end == std::string::npos) {
      return fmt::format("\"{}\" has an unclosed {{ (write {{{{ for a literal one)", arg);
    }
    std::string name = arg.substr(i + 1, end - i - 1);
    if (!Contains(allowed, name)) {
      std::vector<std::string> braced;
      for (const auto& a : allowed) braced.push_back("{" + a + "}");
      return fmt::format("unknown placeholder {{{}}} in \"{}\"; allowed: {}", name, arg,
                         Join(braced, ", "));
    }
    out += fill(name);
    i = end;
  }
  return std::nullopt;
}

}  // namespace

bool WorkerCapabilities::Answers(const std::string& request) const {
  return Contains(requests, request);
}

bool WorkerCapabilities::Runs(const std::string& model, const std::string& workload) const {
  if (!Contains(models, model) || !Contains(workloads, workload)) return false;
  auto it = workload_models.find(workload);
  return it == workload_models.end() || Contains(it->second, model);
}

bool WorkerCapabilities::CanValidate(const std::string& workload) const {
  if (!canonical_weights || !Answers("save_weights") || !Contains(workloads, workload)) return false;
  return workload == "training" ? Answers("train") : Answers("outputs");
}

const std::vector<WorkerEntry>& DefaultWorkers() {
  static const std::vector<WorkerEntry> workers = [] {
    std::vector<WorkerEntry> w;
    for (const char* name : {"torch", "jax", "synthetic", "transformers"}) {
      w.push_back({name, {"{python}", "-m", "dlbench_worker", "{worker}"}, "", std::nullopt});
    }
    return w;
  }();
  return workers;
}

std::optional<std::string> CheckCommandTemplate(const std::vector<std::string>& command, bool server) {
  if (command.empty()) return "must not be empty (the program and its arguments)";
  if (command[0].empty()) return "the program (the first element) must not be empty";
  for (const auto& arg : command) {
    std::string ignored;
    if (auto problem = Walk(arg, ignored, server, [](const std::string&) { return std::string(); })) {
      return problem;
    }
  }
  return std::nullopt;
}

std::string ExpandServerText(const std::string& text, const std::string& name, const CommandVariables& vars) {
  std::string out;
  auto problem = Walk(text, out, true, [&](const std::string& placeholder) -> std::string {
    if (placeholder == "python") return vars.python;
    if (placeholder == "workers_dir") return vars.workers_dir;
    if (placeholder == "serve_python") return vars.serve_python;
    if (placeholder == "serve_dir") return vars.serve_dir;
    if (placeholder == "port") return vars.port;
    if (placeholder == "model") return vars.model;
    if (placeholder == "seed") return vars.seed;
    if (placeholder == "scratch") return vars.scratch;
    if (placeholder == "precision") return vars.precision;
    if (placeholder == "device") return vars.device;
    if (placeholder == "batch") return vars.batch;
    return name;
  });
  DLB_CHECK(!problem) << "server " << name << ": " << *problem;
  return out;
}

std::vector<std::string> ExpandCommand(const WorkerEntry& entry, const CommandVariables& vars) {
  std::vector<std::string> argv;
  for (const auto& arg : entry.command) {
    if (entry.server) {
      argv.push_back(ExpandServerText(arg, entry.name, vars));
      continue;
    }
    std::string out;
    auto problem = Walk(arg, out, false, [&](const std::string& name) {
      if (name == "python") return vars.python;
      if (name == "workers_dir") return vars.workers_dir;
      return entry.name;
    });
    DLB_CHECK(!problem) << "worker " << entry.name << ": " << *problem;
    argv.push_back(std::move(out));
  }
  return argv;
}

WorkerRegistry::WorkerRegistry() : entries_(DefaultWorkers()) {}

void WorkerRegistry::Add(WorkerEntry entry) {
  for (auto& e : entries_) {
    if (e.name == entry.name) {
      e = std::move(entry);
      return;
    }
  }
  entries_.push_back(std::move(entry));
}

const WorkerEntry* WorkerRegistry::Find(const std::string& name) const {
  for (const auto& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::vector<std::string> WorkerRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& e : entries_) names.push_back(e.name);
  return names;
}

bool CoversDevice(const WorkerCapabilities& caps, const std::string& device) {
  return Contains(caps.devices, device.substr(0, device.find(':')));
}

}  // namespace dlb::plan
