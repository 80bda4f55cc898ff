// dlbench export RUN --format csv|json: one run's results for other tools.
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "cli/common.h"
#include "store/export.h"
#include "store/query.h"
#include "store/store.h"
#include "util/error.h"
#include "util/fd.h"

namespace dlb::cli {
namespace {

struct ExportOptions {
  std::string run = "latest";
  std::string db = kDefaultDb;
  std::string format;
  std::string output;
  bool samples = false;
};

}  // namespace

void AddExportCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand("export", "Export one run as CSV (one row per cell) or JSON (everything)");
  auto o = std::make_shared<ExportOptions>();
  cmd->add_option("RUN", o->run, "run id from `dlbench list`, or latest")->capture_default_str();
  cmd->add_option("--db", o->db, "SQLite database")->capture_default_str();
  cmd->add_option("--format", o->format, "csv or json")->required();
  cmd->add_option("-o,--output", o->output, "file to write (default: standard output)");
  cmd->add_flag("--samples", o->samples, "json only: include every raw sample");
  cmd->callback([o, &result] {
    if (o->format != "csv" && o->format != "json") {
      throw UserError(fmt::format("--format {}: allowed: csv, json", o->format));
    }
    auto store = store::Store::OpenExisting(o->db);
    int64_t run_id = store::ResolveRun(store.db(), o->run);
    // -o FILE appears whole or not at all: a failed export leaves a previous FILE as it was.
    std::optional<AtomicFile> file;
    if (!o->output.empty()) file.emplace(o->output);
    std::ostream& out = file ? file->stream() : std::cout;
    if (o->format == "csv") {
      store::ExportCsv(store.db(), run_id, out);
    } else {
      store::ExportJson(store.db(), run_id, o->samples, out);
    }
    if (file) {
      file->Commit();
    } else if (!out.flush()) {
      throw EnvError(fmt::format("cannot write the standard output: {}", std::strerror(errno)));
    }
    result = ExitCode::kDone;
  });
}

}  // namespace dlb::cli
