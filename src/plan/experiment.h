// An experiment file after parsing (Experiment) and after expansion into cells (Plan). These are the
// plain values every later stage reads; nothing here parses or runs anything.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plan/registry.h"

namespace dlb::plan {

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// How a repetition samples. The stop rule is in run/sampler.h; the defaults follow methodology
// rules 4 and 7.
struct SamplingSettings {
  int warmup_min_iterations = 5;   // never fewer warm-up iterations than this
  int warmup_max_iterations = 200;  // cap; reaching it marks the warm-up as not settled
  double warmup_tolerance = 0.05;   // settled once two successive window medians differ by less
  int min_iterations = 20;          // floors before the stop rule may stop (rule 7)
  double min_time_s = 1.0;
  int max_iterations = 100'000;     // caps: stopping here marks the repetition "not converged"
  double max_time_s = 60.0;
  double target_rel_ci = 0.01;      // stop once the CI of the median is within ±this of it
  double confidence = 0.95;
  double chunk_target_s = 0.25;     // samples are requested in chunks of about this much time
  double window_min_time_s = 0.5;   // pipelined-throughput window; 0 turns it off
  bool operator==(const SamplingSettings&) const = default;
};

// The energy phase after the measurement (methodology T11): `windows` back-to-back windows of at
// least gpu_window_s (NVML) or cpu_window_s (RAPL) each; 0 windows turns it off. Skipped, and
// recorded as unavailable, where the cell's device has no readable energy counter.
struct EnergySettings {
  int windows = 3;
  double gpu_window_s = 3.0;
  double cpu_window_s = 1.0;
  bool operator==(const EnergySettings&) const = default;
};

// [contention]: what a repetition does about other processes on its CPUs (docs/measurement.md,
// "Noisy neighbours"). With `exclude` (the default), a chunk measured while others took more than
// `threshold` of the worker's CPUs is left out of the repetition's estimate, and sampling goes on,
// within the time cap, until the clean samples meet the floors; a repetition that cannot is
// contaminated and is replaced at the end of its round, at most `replacements` times per cell;
// and before each repetition the quiet gate waits until the worker's CPUs have been quiet for
// `quiet_window_s`, at most `quiet_timeout_s`. With `record`, each chunk and repetition is
// measured and flagged, and nothing else changes.
struct ContentionSettings {
  std::string policy = "exclude";  // exclude | record
  double threshold = 0.10;         // in (0, 1)
  int replacements = 2;            // per cell, >= 1
  double quiet_window_s = 0.25;    // > 0
  double quiet_timeout_s = 30;     // > 0
  bool Excludes() const { return policy == "exclude"; }
  bool operator==(const ContentionSettings&) const = default;
};

// The generation workload's lengths, sent to every generation cell (options.prompt_tokens and
// options.new_tokens): each measured call generates new_tokens tokens after a prompt of
// prompt_tokens, for each of the cell's `batch` sequences (docs/protocol.md, "Generation").
struct GenerationSettings {
  int prompt_tokens = 128;
  int new_tokens = 32;
  std::string OptionsJson() const;
  bool operator==(const GenerationSettings&) const = default;
};

// [load]: how the cells of a serving stack ([servers.NAME]) are driven. Each repetition sends
// `warmup` requests, then `requests` measured ones: in a closed loop whose concurrency is the
// cell's batch, or all at once (offline), or open-loop at `rate` requests/s (poisson, or gamma
// with `burstiness`), where a server's cells run at batch 1 only. Each request's prompt and output
// lengths are the [generation] lengths (EOS ignored), its prompt drawn from the experiment's seed,
// so every server gets the same requests (docs/experiments.md, "Serving stacks in the matrix").
struct LoadSettings {
  int requests = 32;
  int warmup = 4;
  double stall_timeout_s = 30;  // no byte for this long: the request ends as a timeout
  std::string arrival = "closed";  // closed | offline | poisson | gamma
  double rate = 0;                 // poisson, gamma: requests/s
  double burstiness = 1;           // gamma: the gaps' shape
  bool OpenLoop() const { return arrival == "poisson" || arrival == "gamma"; }
  // The cell's options under "load": the arrival, its concurrency (the cell's batch) and the counts.
  std::string OptionsJson(int batch) const;
  bool operator==(const LoadSettings&) const = default;
};

enum class Order { kSequential, kShuffled, kInterleaved };
std::string OrderName(Order order);

// The training workload's optimizer, sent to every training cell with every hyper-parameter set,
// since the frameworks' own defaults differ (AdamW's weight decay: 1e-2 in torch, 1e-4 in optax).
struct TrainingSettings {
  std::string optimizer = "sgd";  // sgd | adamw
  double lr = 0.1;
  double momentum = 0.9;          // sgd
  bool nesterov = false;          // sgd
  double weight_decay = 1e-4;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adamw
  // A real dataset each training repetition trains `epochs` epochs on after its timed steps
  // (the workers' `fit`); empty: none.
  std::string dataset;
  int epochs = 0;  // 1.. with a dataset, 0 without
  // The optimizer object the workers receive (options.optimizer): only its own hyper-parameters.
  std::string OptimizerJson() const;
  bool operator==(const TrainingSettings&) const = default;
};

struct Variant {
  std::string name;
  std::string description;
  std::vector<std::string> frameworks;  // empty: applies to every framework
  EnvVars env;
  std::string options_json = "{}";      // merged over the experiment's options
  SamplingSettings sampling;            // the experiment's, with this variant's overrides
};

struct Environment {
  std::string name;
  std::string description;
  std::vector<std::string> prefix;  // argv put in front of the worker's, recorded verbatim
  EnvVars env;
};

struct Matrix {
  std::vector<std::string> framework, model;
  std::vector<int> batch;
  std::vector<std::string> precision, device, workload, layout, variant, environment;
  std::vector<std::string> profile;  // empty when the experiment names no profile (plan/profile.h)
};

// [slurm]: what `dlbench slurm submit` asks the cluster for unless its flags say otherwise
// (docs/fleet.md). Empty or 0: not asked.
struct SlurmSettings {
  std::string partition, account, time;
  int gpus_per_task = 0;
  int array_parallelism = 0;        // at most this many shards at once
  std::vector<std::string> sbatch;  // extra "#SBATCH" lines, each one option
};

struct Experiment {
  std::string path;         // as given on the command line
  std::string source_text;  // the file's bytes, stored with the run
  std::string name;
  std::string description;
  int repetitions = 3;      // every cell gets this many: with a target, the first stage
  int max_repetitions = 3;  // the cap of a precision target's second stage
  // A two-stage design (run/scheduler.cc): from the first stage's scatter, each comparison gets
  // the repetitions that bring its ratio interval within ±target_ratio_ci (a fraction).
  std::optional<double> target_ratio_ci;
  std::string compare_by = "framework";  // the axis whose pairs are the experiment's comparisons
  Order order = Order::kSequential;
  uint64_t seed = 1;
  double cooldown_s = 0;
  double timeout_s = 600;  // deadline for any one reply from a worker
  bool validate = false;   // after the run, compare the frameworks' outputs (dlbench validate)
  std::optional<int> gpu_temperature_max_c;  // gate: wait until the GPU is at or below this
  double gpu_temperature_timeout_s = 300;    // then start anyway, recorded as "timeout"
  double telemetry_interval_s = 0.1;         // the telemetry thread's period; 0 turns it off
  EnergySettings energy;
  ContentionSettings contention;
  Matrix matrix;
  SamplingSettings sampling;
  std::string options_json = "{}";
  TrainingSettings training;
  GenerationSettings generation;
  LoadSettings load;
  std::vector<Variant> variants;
  std::vector<Environment> environments;
  WorkerRegistry workers;  // the built-in workers and the file's [workers.NAME]
  // What the matrix's workers reported with --capabilities, one per framework of the matrix.
  std::vector<WorkerCapabilities> capabilities;

  const WorkerCapabilities* CapabilitiesOf(const std::string& worker) const {
    for (const auto& c : capabilities) {
      if (c.worker == worker) return &c;
    }
    return nullptr;
  }
  SlurmSettings slurm;
};

struct Cell {
  int cell_idx = 0;
  std::string framework, model;
  int batch = 1;
  std::string precision, device, workload, layout, variant, environment;
  std::string profile;  // empty: none (precision and layout came from the matrix)
  std::vector<std::string> prefix;
  EnvVars env;
  // Training cells with a dataset: its name and the epochs of each repetition's `fit`.
  std::string dataset;
  int epochs = 0;
  std::string options_json = "{}";
  // A serving stack's cell: how its load is driven (the experiment's [load]); its server is the
  // registry entry named by `framework`.
  LoadSettings load;
  SamplingSettings sampling;
  EnergySettings energy;
  ContentionSettings contention;
  double telemetry_interval_s = 0.1;
  double timeout_s = 600;

  // framework/model/bs8/fp32/cpu/inference/default/default/native[/profile]: unique in a plan
  // (plan/axes.h).
  std::string Key() const;
  // "torch resnet50 bs8 fp32 cpu" plus whatever is not a default: for progress lines and tables.
  std::string Label() const;
};

struct Task {
  int cell_idx;  // position in Plan::cells (equal to the cell's cell_idx unless sharded)
  int rep_idx;
  // Position in the whole plan's order when this task belongs to one shard of it (the worker's
  // process index, so a shard's workers are seeded as they would be in one run); -1: as run.
  int order_idx = -1;
  bool operator==(const Task&) const = default;
};

struct Plan {
  Experiment experiment;
  std::vector<Cell> cells;
  std::vector<Task> tasks;  // every cell x repetition, in the order they run
};

}  // namespace dlb::plan
