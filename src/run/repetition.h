// Runs one repetition of one cell in a fresh worker process: hello, load, warm-up, measurement in
// chunks until the stop rule says so, a pipelined window, bye. Everything that can go wrong ends
// as a RepetitionResult with a status; nothing here throws for a worker's misbehaviour.
#pragma once

#include <string>
#include <vector>

#include "plan/experiment.h"
#include "result/repetition.h"

namespace dlb::run {

using result::RepetitionResult;
using result::RepStatus;
using result::RepStatusName;

struct WorkerLaunch {
  std::string python;       // interpreter that has the frameworks
  std::string workers_dir;  // directory holding the dlbench_worker package
  // Per-run root of the compile caches; empty turns them off. Each cell gets its own directory
  // below it (CompileCacheDir), so repetitions of one cell share a cache and different settings
  // never do.
  std::string compile_cache_root;
  // How each worker is started: the built-in entries, and an experiment's [workers.NAME] and
  // [servers.NAME].
  plan::WorkerRegistry workers;
  // A server command's {serve_python} (the serving environment's interpreter) and {serve_dir}.
  std::string serve_python;
  std::string serve_dir;

  // The placeholders every command template may use; a server's per-repetition ones are empty.
  plan::CommandVariables Variables() const {
    plan::CommandVariables v;
    v.python = python;
    v.workers_dir = workers_dir;
    v.serve_python = serve_python;
    v.serve_dir = serve_dir;
    return v;
  }
};

// An integer option of the cell (options.prompt_tokens of a generation cell), -1 when it has none.
int64_t OptionInt(const plan::Cell& cell, const char* key);

// ROOT/cell-N: the compile cache directory of one cell of a run.
std::string CompileCacheDir(const std::string& root, int cell_idx);

// The variables that point JAX's persistent compilation cache, torch inductor's and Triton's
// caches at `dir` (JAX with no minimum compile time, so every executable is kept).
std::vector<std::pair<std::string, std::string>> CompileCacheVariables(const std::string& dir);

struct RepetitionSpec {
  const plan::Cell* cell;
  int rep_idx = 0;
  int order_idx = 0;
  uint64_t seed = 0;            // model/input seed, the same for every repetition of a cell
  int env_padding_bytes = 0;    // randomised per repetition (methodology rule 10)
};

// The worker's registry entry with its placeholders filled in ({python} -m dlbench_worker WORKER
// for the built-in ones). The name must be in launch.workers (the plan checked it).
std::vector<std::string> WorkerCommand(const WorkerLaunch& launch, const std::string& worker);

// The controller's environment with the worker package first on PYTHONPATH, and glibc's malloc
// thresholds fixed (kSteadyMalloc) unless the controller's environment sets GLIBC_TUNABLES.
std::vector<std::string> WorkerBaseEnvironment(const WorkerLaunch& launch);

// glibc's malloc raises its mmap threshold (and its trim threshold with it, to twice that) when a
// block above the threshold is freed, up to 32 MiB (glibc 2.36, malloc/malloc.c, "mmap_threshold"
// and M_MMAP_THRESHOLD in mallopt(3)). Whether a process has been through such a free is an accident
// of its history, and it decides whether a call that allocates tens of MB reuses its heap or maps
// fresh pages every time: measured on the 2-core development VM (2026-12), jax's ResNet-18 at batch
// 1 on the CPU took 5,800 minor page faults and 34-44 ms a call in a fresh process, 0 faults and
// 26-30 ms after the same process had run another model's init, and 0 faults and 26-30 ms fresh
// with these thresholds (docs/findings.md). Every worker gets glibc's own ceiling, the state a
// long-running process reaches, so a cell's result does not depend on what ran before it in its
// process. A cell's env may set GLIBC_TUNABLES = "" to measure glibc's fresh-process default.
inline constexpr const char* kSteadyMalloc =
    "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864";

// The process's environment: the base one, the cell's variables, the compile caches and the
// repetition's padding; the ones that matter are recorded in r.env.
std::vector<std::string> WorkerEnvironment(const RepetitionSpec& spec, const WorkerLaunch& launch,
                                           RepetitionResult& r);

// The worker's full argv: the cell's launch prefix, then the worker command.
std::vector<std::string> WorkerArgv(const plan::Cell& cell, const WorkerLaunch& launch);

// A server's cell ([servers.NAME]) runs as a load against the server (run/serving.h).
RepetitionResult RunRepetition(const RepetitionSpec& spec, const WorkerLaunch& launch);

}  // namespace dlb::run
