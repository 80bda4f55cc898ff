// dlbench list: the runs in a database, newest last.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "report/table.h"
#include "store/query.h"
#include "store/store.h"

namespace dlb::cli {

void AddListCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand("list", "List the runs stored in a database");
  auto db_path = std::make_shared<std::string>(kDefaultDb);
  cmd->add_option("--db", *db_path, "SQLite database")->capture_default_str();
  cmd->callback([db_path, &result] {
    auto store = store::Store::OpenExisting(*db_path);
    report::TextTable t({"run", "experiment", "status", "started (UTC)", "cells", "ok", "failed",
                         "unsupported", "host", "shard", "revision"},
                        {true, false, false, false, true, true, true, true, false, false, false});
    for (const auto& r : store::ListRuns(store.db())) {
      t.AddRow({std::to_string(r.run_id), r.experiment, r.status, r.started_at,
                std::to_string(r.cells), std::to_string(r.cells_ok), std::to_string(r.cells_failed),
                std::to_string(r.cells_unsupported), r.host,
                r.sweep_id.empty() ? "-" : fmt::format("{}/{}", r.shard_index, r.shard_count),
                r.dlbench_revision});
    }
    std::fputs(t.empty() ? "no runs\n" : t.Render().c_str(), stdout);
    result = ExitCode::kDone;
  });
}

}  // namespace dlb::cli
