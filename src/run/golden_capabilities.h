// Test helper: a capability source that starts nothing. It serves the golden lines of
// tests/protocol/capabilities.jsonl (what the Python workers print for --capabilities; the worker
// tests check that they still do), by entry name, plus whatever a test sets, so plan tests stay
// pure unit tests.
#pragma once

#include <fstream>
#include <map>
#include <string>

#include <fmt/format.h>

#include "plan/parse.h"
#include "plan/registry.h"
#include "run/protocol.h"
#include "util/error.h"

#ifndef DLBENCH_SOURCE_DIR
#error "DLBENCH_SOURCE_DIR must be defined by the build"
#endif

namespace dlb::run {

class GoldenCapabilities : public plan::CapabilitySource {
 public:
  GoldenCapabilities() {
    std::ifstream in(std::string(DLBENCH_SOURCE_DIR) + "/tests/protocol/capabilities.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      plan::WorkerCapabilities c = DecodeCapabilities(line);
      by_name_[c.worker] = c;
    }
  }

  void Set(const std::string& name, plan::WorkerCapabilities caps) { by_name_[name] = std::move(caps); }

  const plan::WorkerCapabilities& Get(const plan::WorkerEntry& entry) override {
    asked.push_back(entry.name);
    auto it = by_name_.find(entry.name);
    if (it == by_name_.end()) {
      throw UserError(fmt::format("{}: workers.{}.command: the worker cannot say what it runs",
                                  entry.defined_at, entry.name));
    }
    return it->second;
  }

  std::vector<std::string> asked;  // every Get, in order

 private:
  std::map<std::string, plan::WorkerCapabilities> by_name_;
};

// ParseExperiment with the golden capabilities.
inline plan::Experiment ParseWithGoldenWorkers(const std::string& text, const std::string& path) {
  static GoldenCapabilities golden;
  return plan::ParseExperiment(text, path, golden);
}

}  // namespace dlb::run
