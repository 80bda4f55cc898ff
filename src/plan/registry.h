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

// A serving stack in the matrix ([servers.NAME]): dlbench starts it from the entry's command
// (through the cell's environment prefix, so native and container are one more axis), waits until
// `health` answers 200 under `url`, drives the cell's load against it over HTTP and stops it; or,
// with no command, drives an existing server at `url`. Its capabilities are what the file declares
// (a server is not asked with --capabilities): the models it serves, their precisions and devices;
// its workload is generation.
struct ServerSettings {
  std::string url = "http://127.0.0.1:{port}";  // may hold {port}
  std::string health = "/health";
  std::string api = "completions";   // completions | chat
  std::string prompt = "tokens";     // tokens (token-id arrays) | text (words)
  std::optional<int64_t> eos_token;  // given a logit bias of -100 besides ignore_eos
  bool logprobs = true;              // ask for one logprob per token (exact token counts)
  double startup_timeout_s = 120;
  WorkerCapabilities capabilities;   // declared in the file
};

// How a worker is started: an argv template. Placeholders: {python} (the interpreter that has the
// frameworks), {workers_dir} (the directory holding the dlbench_worker package) and {worker} (the
// entry's name); "{{" and "}}" are literal braces. A server's command also has {serve_python} (the
// serving environment's interpreter), {serve_dir} (workers/serve), {port} (a free port picked per
// repetition), {model}, {precision}, {device}, {batch} (the cell's), {seed} and {scratch} (a
// directory of its own, removed after the repetition).
struct WorkerEntry {
  std::string name;
  std::vector<std::string> command;  // empty only for a server at an existing URL
  std::string defined_at;  // "exp.toml:12" for an experiment's [workers.NAME]; "" for a built-in one
  std::optional<ServerSettings> server;  // a serving stack ([servers.NAME]), not a worker
};

// The values placeholders expand to; the server's only where a server is started.
struct CommandVariables {
  std::string python;
  std::string workers_dir;
  std::string serve_python, serve_dir, port, model, seed, scratch, precision, device, batch;
};

// torch, jax, synthetic, transformers: `{python} -m dlbench_worker NAME`.
const std::vector<WorkerEntry>& DefaultWorkers();

// The first problem with a template ("unknown placeholder {pyton}; allowed: ..."), or nullopt;
// `server`: a server's command or URL, which has the server's placeholders too.
std::optional<std::string> CheckCommandTemplate(const std::vector<std::string>& command,
                                                bool server = false);

// The argv of an entry, placeholders filled in. The template must have passed
// CheckCommandTemplate (a bad one is a bug here).
std::vector<std::string> ExpandCommand(const WorkerEntry& entry, const CommandVariables& vars);
// One string of a server's template (its URL), filled in the same way.
std::string ExpandServerText(const std::string& text, const std::string& name,
                             const CommandVariables& vars);

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
