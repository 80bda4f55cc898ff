// The real capability source: each worker, started from its registry entry with `--capabilities`
// appended, prints one JSON line (docs/protocol.md, "Capabilities"). Each distinct argv is asked
// once per process, so a run costs one call per worker it names.
//
// Not cached on disk. The call costs what the interpreter takes to start (tens of milliseconds for
// the Python workers, which import no framework for it), and a disk cache would need a key for
// what the worker is: the Python package's files could be hashed, but a user entry's container
// image, remote host or binary cannot be seen from here, and a stale answer would reject a valid
// experiment, or pass one the worker then refuses cell by cell.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "plan/registry.h"
#include "run/repetition.h"

namespace dlb::run {

class WorkerCapabilityCache : public plan::CapabilitySource {
 public:
  explicit WorkerCapabilityCache(WorkerLaunch launch, double timeout_s = 60)
      : launch_(std::move(launch)), timeout_s_(timeout_s) {}

  // Throws UserError naming the entry's file:line for an experiment's [workers.NAME], EnvError
  // for a built-in worker, when the worker cannot say what it runs.
  const plan::WorkerCapabilities& Get(const plan::WorkerEntry& entry) override;

  // Calls made so far (for tests and `doctor`).
  int calls() const { return calls_; }

 private:
  WorkerLaunch launch_;
  double timeout_s_;
  std::map<std::vector<std::string>, plan::WorkerCapabilities> cache_;
  int calls_ = 0;
};

// The argv that asks an entry for its capabilities: its command, then --capabilities.
std::vector<std::string> CapabilitiesArgv(const plan::WorkerEntry& entry, const WorkerLaunch& launch);

}  // namespace dlb::run
