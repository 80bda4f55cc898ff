// The worker registry: each worker name maps to how it is started (an argv template) and, once
// asked, to what it can run (the capabilities it reports about itself). The controller keeps no
// list of models, options or layouts per worker: an experiment file is checked against what each
// worker says, through `WORKER-ARGV --capabilities` (docs/protocol.md, "Capabilities"), so a new
// model in an adapter, or a worker that is a C++ binary, a container or a remote launcher, needs no
// change here. The workers stay the authority at run time too: a combination they cannot run is
// recorded as unsupported.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dlb::plan {

// What a worker reports with --capabilities. Lists keep the worker's order (messages print them).
struct WorkerCapabilities {
  std::string worker;
  std::string framework;
  std::vector<std::string> models;
  std::vector<std::string> precisions;
  std::vector<std::string> devices;    // device kinds: cpu, cuda (cuda covers cuda:N)
  std::vector<std::string> workloads;
  std::vector<std::string> layouts;
  std::vector<std::string> options;    // option keys an experiment may set for this worker
  std::vector<std::string> requests;   // ops answered with more than `unsupported`
  bool canonical_weights = false;      // loads and saves the canonical weights layout
  std::vector<std::string> datasets;   // the real datasets `fit` trains on
  std::map<std::string, std::string> datasets_missing;  // of those, the ones this Python lacks: why
  // Per workload, the models that run it, where the worker says (the image models do not
  // generate; the decoders only generate). A workload not in the map runs every model.
  std::map<std::string, std::vector<std::string>> workload_models;
  // The decoders' positions, where the worker says: a generation cell's prompt_tokens + new_tokens
  // must fit them (the plan refuses a file that asks for more).
  std::map<std::string, int64_t> model_positions;

  bool Answers(const std::string& request) const;
  // Whether `model` runs `workload` here: both listed, and the pair allowed by workload_models.
  bool Runs(const std::string& model, const std::string& workload) const;
  // Can take part in `dlbench validate`: canonical weights, and answers save_weights and outputs
  // (inference, generation) or train (training).
  bool CanValidate(const std::string& workload) const;
};

// How a worker is started: an argv template. Placeholders: {python} (the interpreter that has the
// frameworks), {workers_dir} (the directory holding the dlbench_worker package) and {worker} (the
// entry's name); "{{" and "}}" are literal braces.
struct WorkerEntry {
  std::string name;
  std::vector<std::string> command;
  std::string defined_at;  // "exp.toml:12" for an experiment's [workers.NAME]; "" for a built-in one
};

// The values placeholders expand to.
struct CommandVariables {
  std::string python;
  std::string workers_dir;
};

// torch, jax, synthetic, transformers: `{python} -m dlbench_worker NAME`.
const std::vector<WorkerEntry>& DefaultWorkers();

// The first problem with a template ("unknown placeholder {pyton}; allowed: ..."), or nullopt.
std::optional<std::string> CheckCommandTemplate(const std::vector<std::string>& command);

// The argv of an entry, placeholders filled in. The template must have passed
// CheckCommandTemplate (a bad one is a bug here).
std::vector<std::string> ExpandCommand(const WorkerEntry& entry, const CommandVariables& vars);

class WorkerRegistry {
 public:
  WorkerRegistry();  // the default workers
  // Adds an entry, or replaces the one of that name (a built-in worker started in a container).
  void Add(WorkerEntry entry);
  const WorkerEntry* Find(const std::string& name) const;
  std::vector<std::string> Names() const;  // built-in ones first, then the file's, in its order
  const std::vector<WorkerEntry>& entries() const { return entries_; }

 private:
  std::vector<WorkerEntry> entries_;
};

// Where the plan gets capabilities from: the real source starts each worker once with
// --capabilities (run/capabilities.h); unit tests inject fixed ones. Get throws UserError or
// EnvError, one line, when a worker cannot say.
class CapabilitySource {
 public:
  virtual ~CapabilitySource() = default;
  virtual const WorkerCapabilities& Get(const WorkerEntry& entry) = 0;
};

// A device such as "cuda:1" is covered when its kind ("cuda") is listed.
bool CoversDevice(const WorkerCapabilities& caps, const std::string& device);

}  // namespace dlb::plan
