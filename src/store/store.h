// Writing results: a run row, its cells, and each repetition with its raw samples, committed one
// repetition per transaction so that a run killed at any instant leaves every finished repetition
// and a consistent file (WAL mode). Cell summaries are recomputed from the stored samples after
// each repetition, in its transaction. The store computes nothing and remembers nothing between
// calls: the run hands it each cell's summary (run/cell_summaries.h) with the repetition, and it
// writes both in one transaction, so a summary never describes other repetitions than those stored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "plan/experiment.h"
#include "analysis/cell_summary.h"
#include "result/repetition.h"
#include "result/validation.h"
#include "store/db.h"

namespace dlb::store {

struct RunInfo {
  std::string host;
  int64_t controller_pid = 0;
  std::string dlbench_version, dlbench_revision;
  std::string command_line_json = "[]";
  std::string host_json = "{}";
};

// Which part of a sweep a run is (dlbench run --shard i/n): the shards of one sweep share
// sweep_id, and a merged file treats them as one logical run. Empty sweep_id: not sharded.
struct ShardInfo {
  std::string sweep_id;
  int index = 0, count = 1;
};

class Store {
 public:
  // For the commands that write (run, selftest): opens, creating if needed, a file that is empty or
  // already dlbench's (another application's database is refused, untouched), refuses a damaged
  // one (PRAGMA quick_check) before appending, migrates, and marks runs of dead controllers on
  // this host incomplete as of their last stored repetition.
  static Store Open(const std::string& path);
  // For the commands that only read (list, show, export, compare, report): opens an existing
  // dlbench database read-only and writes nothing to it, so that it may sit on read-only media
  // (opened immutable there). An older schema is upgraded in a private in-memory copy; runs of
  // dead controllers read as incomplete without being marked. Throws UserError if there is no
  // database at path, or it is not dlbench's.
  static Store OpenExisting(const std::string& path);

  Store(Store&&) = default;
  Store& operator=(Store&&) = default;
  // A file opened for writing is left in rollback-journal mode (WAL while it is open), so that a
  // command that only reads it later creates no -wal or -shm beside it (see ReadMode in
  // store.cc). Best effort: while another connection has the file open it stays in WAL mode, and
  // the next writer to close it last switches it.
  ~Store();

  // Stores the run with a fresh run_uuid (its name in every file it is merged into) and its cells.
  int64_t BeginRun(const RunInfo& info, const plan::Plan& plan, const ShardInfo& shard = {});
  // The repetition goes to the cell (run_id, cell.cell_idx); the store holds nothing between calls,
  // so any number of runs may be written through one Store.
  // summary: the cell's summary over its repetitions stored so far and this one.
  void AddRepetition(int64_t run_id, const plan::Cell& cell, const result::RepetitionResult& r,
                     const analysis::CellSummary& summary);
  // Marks the run complete or incomplete, as finished now unless finished_at says when.
  void FinishRun(int64_t run_id, bool complete, std::optional<std::string> finished_at = std::nullopt);
  // One row per compared pair, or per framework that produced no outputs.
  void AddValidation(int64_t run_id, const result::ValidationSpec& spec,
                     const result::ModelValidation& mv);

  Db& db() { return db_; }

 private:
  explicit Store(Db db, bool writer = false) : db_(std::move(db)), writer_(writer) {}
  void WriteCellSummary(int64_t cell_id, const analysis::CellSummary& summary);
  void MarkDeadRuns();

  Db db_;
  bool writer_ = false;  // opened by Open(): switch the file back to a rollback journal on close
};

// A random RFC 4122 version-4 UUID from /dev/urandom: a run's name across files and hosts.
std::string NewUuid();

// The cell's config as stored: prefix, env, options, sampling, timeout.
std::string CellConfigJson(const plan::Cell& cell);

}  // namespace dlb::store
