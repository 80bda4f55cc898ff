// dlbench merge OUT.db SHARD.db...: the runs of many databases in one (store/merge.h), typically
// the shards of a sweep that ran on many hosts. Idempotent: a run already in OUT is left alone.
#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "store/merge.h"
#include "store/store.h"
#include "util/strings.h"

namespace dlb::cli {

void AddMergeCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand(
      "merge", "Copy the runs of other databases (the shards of a sweep) into OUT; idempotent");
  auto out = std::make_shared<std::string>();
  auto sources = std::make_shared<std::vector<std::string>>();
  cmd->add_option("OUT", *out, "database to merge into (created if missing)")->required();
  cmd->add_option("SOURCE", *sources, "databases to copy runs from (read only)")->required();
  cmd->callback([out, sources, &result] {
    store::Store target = store::Store::Open(*out);
    store::MergeSummary s = store::MergeFiles(target, *sources);
    for (const auto& line : s.lines) std::printf("%s\n", TerminalSafe(line).c_str());
    for (const auto& w : s.warnings) PrintWarning(w);
    std::printf("merged into %s: %d runs added, %d already there\n", out->c_str(), s.runs_added,
                s.runs_already_there);
    result = ExitCode::kDone;
  });
}

}  // namespace dlb::cli
