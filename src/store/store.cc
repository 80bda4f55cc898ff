#include "store/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "serve/metrics.h"
#include "stats/descriptive.h"
#include "store/measurement.h"
#include "store/query.h"
#include "store/schema.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/strings.h"

namespace dlb::store {
namespace {

using nlohmann::json;

// Strings from the outside (argv, environment) may hold invalid UTF-8: replace, never throw.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json EnvJson(const plan::EnvVars& env) {
  json j = json::object();
  for (const auto& [k, v] : env) j[k] = v;
  return j;
}

json SamplingJson(const plan::SamplingSettings& s) {
  return {{"warmup_min_iterations", s.warmup_min_iterations},
          {"warmup_max_iterations", s.warmup_max_iterations},
          {"warmup_tolerance", s.warmup_tolerance},
          {"min_iterations", s.min_iterations},
          {"min_time_s", s.min_time_s},
          {"max_iterations", s.max_iterations},
          {"max_time_s", s.max_time_s},
          {"target_rel_ci", s.target_rel_ci},
          {"confidence", s.confidence},
          {"chunk_target_s", s.chunk_target_s},
          {"window_min_time_s", s.window_min_time_s}};
}


void Configure(Db& db) {
  db.Exec("PRAGMA journal_mode = WAL");
  db.Exec("PRAGMA synchronous = NORMAL");
  db.Exec("PRAGMA foreign_keys = ON");
}

// PRAGMA application_id of a dlbench database: "dlbn". Files from before it was set are
// recognised by their schema (FileKindOf).
constexpr int64_t kApplicationId = 0x646C626E;

int64_t PragmaInt(Db& db, const char* pragma) {
  Stmt s = db.Prepare(fmt::format("PRAGMA {}", pragma));
  s.Step();
  return s.Int(0);
}

enum class FileKind { kEmpty, kDlbench, kForeign };

// Whose file this is, read without writing anything.
FileKind FileKindOf(Db& db, std::vector<std::string>& tables) {
  Stmt s = db.Prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE "
      "'\\' ORDER BY name");
  while (s.Step()) tables.push_back(s.Text(0));
  const int64_t id = PragmaInt(db, "application_id"), version = PragmaInt(db, "user_version");
  if (id == kApplicationId) return FileKind::kDlbench;
  if (id == 0 && version == 0 && tables.empty()) return FileKind::kEmpty;
  auto has = [&](const char* t) { return std::find(tables.begin(), tables.end(), t) != tables.end(); };
  if (id == 0 && version >= 1 && has("runs") && has("cells") && has("repetitions") && has("samples")) {
    return FileKind::kDlbench;
  }
  return FileKind::kForeign;
}

// dlbench reads and writes only its own files: another application's database is refused before
// anything is read from or written to it.
void RequireDlbenchFile(Db& db, bool empty_is_fine) {
  std::vector<std::string> tables;
  switch (FileKindOf(db, tables)) {
    case FileKind::kDlbench:
      return;
    case FileKind::kEmpty:
      if (empty_is_fine) return;
      throw UserError(fmt::format("{} holds no dlbench database (it is empty); run an experiment "
                                  "into it first, or use another --db", db.path()));
    case FileKind::kForeign:
      break;
  }
  if (tables.size() > 5) tables.resize(5), tables.push_back("...");
  throw UserError(fmt::format(
      "{} is not a dlbench database ({}); dlbench leaves it as it is; use another --db", db.path(),
      tables.empty() ? "it holds no table but has an application id or version of its own"
                     : "it holds the tables " + Join(tables, ", ")));
}

// PRAGMA quick_check (O(pages), without the index cross-checks of integrity_check), before
// anything is appended: appending to a damaged file would bury the damage under new results.
void RequireIntact(Db& db) {
  Stmt s = db.Prepare("PRAGMA quick_check(1)");
  if (s.Step() && s.Text(0) != "ok") {
    throw EnvError(fmt::format("database {}: integrity check failed ({}); {}", db.path(),
                               s.Text(0), RecoveryHint(db.path())));
  }
}

void RefuseDirectory(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw UserError(fmt::format("{} is a directory; --db names a database file", path));
  }
}

// Byte 18 of an SQLite file's header is 2 when the file is in WAL mode (sqlite.org/fileformat2.html,
// "Database Header", read 2026-11).
bool HeaderSaysWal(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  unsigned char header[19] = {};
  return fd.valid() && ::pread(fd.get(), header, sizeof header, 0) == static_cast<ssize_t>(sizeof header) &&
         header[18] == 2;
}

// How to open a file for reading without writing to it, and without leaving anything beside it.
// - A -shm or -wal beside it: a writer has it open (or was killed): mode=ro, with the writer's
//   locks and index; those files are the writer's. Where this process may not create the -shm
//   (read-only media, a directory it cannot write), a -wal without one cannot be read at all, and
//   ignoring it would hide the last results.
// - Nothing beside a file in rollback mode (how dlbench leaves the files it writes): mode=ro,
//   which creates nothing for a rollback journal.
// - Nothing beside a file in WAL mode (closed cleanly by an older dlbench or another program):
//   mode=ro would create -wal and -shm, and a read-only connection cannot remove them when it
//   closes (SQLite checkpoints and deletes them only from a connection that may write). No writer
//   has the file open (a writer's connection keeps its -wal), so it is opened immutable, which
//   needs neither locks nor -shm. A writer that starts during the read is not seen (the read is of
//   the file as it was), and one that checkpoints into the file during a long read could make that
//   read fail; the file itself is never at risk.
OpenMode ReadMode(const std::string& path) {
  struct statvfs fs{};
  const bool read_only_fs = ::statvfs(path.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY);
  const std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
  struct stat st{};
  const bool has_shm = ::stat((path + "-shm").c_str(), &st) == 0;
  const bool has_wal = ::stat((path + "-wal").c_str(), &st) == 0;
  if (!read_only_fs && ::access(dir.c_str(), W_OK) == 0) {
    return has_shm || has_wal || !HeaderSaysWal(path) ? OpenMode::kReadOnly : OpenMode::kImmutable;
  }
  if (has_shm) return OpenMode::kReadOnly;
  if (::stat((path + "-wal").c_str(), &st) == 0 && st.st_size > 0) {
    throw EnvError(fmt::format(
        "database {} has a write-ahead log ({}-wal) that cannot be read where it is, read-only and "
        "without {}-shm; copy the database and its -wal to writable storage and read it there",
        path, path, path));
  }
  return OpenMode::kImmutable;
}

// An older schema, read without writing to it: the file is copied into memory (SQLite's backup
// API) and the copy is migrated.
Db UpgradedCopy(Db& file) {
  Db memory(file.path(), OpenMode::kMemory);
  sqlite3_backup* b = sqlite3_backup_init(memory.handle(), "main", file.handle(), "main");
  if (b == nullptr) memory.Fail("cannot copy the database to upgrade it in memory");
  const int rc = sqlite3_backup_step(b, -1);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) file.Fail("cannot copy the database to upgrade it in memory");
  Migrate(memory);
  return memory;
}

// A cell's row as BeginRun inserts it: what the plan says (the columns Written::kInsert).
CellRow PlannedCell(int64_t run_id, const plan::Cell& c) {
  CellRow row;
  row.run_id = run_id;
  row.cell_idx = c.cell_idx;
  row.key = c.Key();
  row.framework = c.framework;
  row.model = c.model;
  row.batch = c.batch;
  row.precision = c.precision;
  row.device = c.device;
  row.workload = c.workload;
  row.layout = c.layout;
  row.variant = c.variant;
  row.environment = c.environment;
  row.config_json = CellConfigJson(c);
  row.profile = c.profile;
  if (!c.dataset.empty()) {
    row.dataset = c.dataset;
    row.epochs = c.epochs;
  }
  return row;
}

// A cell's row as its summary rewrites it (the columns Written::kUpdate).
CellRow SummarisedCell(const analysis::CellSummary& c) {
  CellRow row;
  row.status = c.status;
  row.message = c.message;
  row.repetitions_ok = c.repetitions_ok;
  row.repetitions_run = c.repetitions_run;
  if (const auto& l = c.latency) {
    row.n_samples = l->n;
    row.mean_ns = l->mean;
    row.std_ns = l->std;
    row.min_ns = l->min;
    row.p50_ns = l->p50;
    row.p90_ns = l->p90;
    row.p95_ns = l->p95;
    row.p99_ns = l->p99;
    row.max_ns = l->max;
  }
  if (const auto& ci = c.median_ci) {
    row.median_ci_lo_ns = ci->lo;
    row.median_ci_hi_ns = ci->hi;
    row.median_ci_coverage = ci->coverage;
  }
  row.throughput_sps = c.throughput_sps;
  row.window_throughput_sps = c.window_throughput_sps;
  row.parameters = c.parameters;
  row.flops_per_sample = c.flops_per_sample;
  row.load_s = c.load_s;
  row.compile_s = c.compile_s;
  row.first_call_s = c.first_call_s;
  row.peak_rss_bytes = c.peak_rss_bytes;
  row.peak_device_bytes = c.peak_device_bytes;
  row.energy_source = c.energy_source;
  row.energy_per_sample_j = c.energy_per_sample_j;
  row.energy_ci_lo_j = c.energy_ci_lo_j;
  row.energy_ci_hi_j = c.energy_ci_hi_j;
  row.avg_power_w = c.avg_power_w;
  row.throttled_repetitions = c.throttled_repetitions;
  row.profile_deviations = c.profile_deviations;
  row.contaminated_repetitions = c.contaminated_repetitions;
  row.replaced_repetitions = c.replaced_repetitions;
  row.epoch_s = c.epoch_s;
  row.accuracy = c.accuracy;
  return row;
}

// A repetition's row as stored, the sampler's figures included: empty text is NULL.
RepetitionRow StoredRepetition(int64_t cell_id, const result::RepetitionResult& r) {
  auto opt_text = [](const std::string& s) {
    return s.empty() ? std::nullopt : std::optional<std::string>(s);
  };
  RepetitionRow row;
  row.cell_id = cell_id;
  row.rep_idx = r.rep_idx;
  row.order_idx = r.order_idx;
  row.status = result::RepStatusName(r.status);
  row.error_kind = opt_text(r.error_kind);
  row.message = opt_text(r.message);
  row.phase = opt_text(r.phase);
  row.exit_code = r.exit_code;
  row.term_signal = r.term_signal;
  row.started_at = r.started_at;
  row.finished_at = r.finished_at;
  row.worker_argv = Dump(json(r.argv));
  row.launch_prefix = Dump(json(r.prefix));
  row.env_json = Dump(EnvJson(r.env));
  row.env_padding_bytes = r.env_padding_bytes;
  row.hello_json = opt_text(r.hello_json);
  row.settings_json = opt_text(r.settings_json);
  row.parameters = r.parameters;
  row.flops_per_sample = r.flops_per_sample;
  row.load_s = r.load_s;
  row.compile_s = r.compile_s;
  row.first_call_s = r.first_call_s;
  row.sync_overhead_ns = r.sync_overhead_ns;
  row.timer_overhead_ns = r.timer_overhead_ns;
  const result::TimedSeries& s = *r.series();
  row.warmup_iterations = s.warmup_count;
  row.warmup_settled = s.warmup_settled;
  row.n_samples = s.steady_count();
  row.converged = s.converged;
  row.stop_reason = opt_text(s.stop_reason);
  row.median_ns = s.median_ns;
  row.rel_ci = s.rel_ci;
  row.window_ns = s.window_ns;
  row.window_iterations = s.window_iterations;
  row.minor_faults_per_call = s.minor_faults_per_call;
  row.block_iterations = s.block_iterations;
  row.near_overhead = s.near_overhead;
  row.peak_rss_bytes = r.peak_rss_bytes;
  row.peak_device_bytes = r.peak_device_bytes;
  row.log = r.log;
  row.gate_status = opt_text(r.gate_status);
  row.gpu_temperature_c = r.gpu_temperature_c;
  row.gate_wait_s = r.gate_wait_s;
  row.profile_check = opt_text(r.profile_check);
  row.gpu_telemetry = opt_text(r.gpu_telemetry);
  row.cpu_telemetry = opt_text(r.cpu_telemetry);
  row.energy_source = opt_text(result::EnergySourceName(r.energy_source));
  row.energy_note = opt_text(r.energy_note);
  const result::TelemetrySummary& t = r.telemetry_summary;
  row.energy_per_sample_j = t.energy_per_sample_j;
  row.avg_power_w = t.avg_power_w;
  row.max_temperature_c = t.max_temperature_c;
  row.throttle_reasons = t.throttle_reasons;
  row.peak_device_bytes_nvml = t.peak_device_bytes_nvml;
  if (const auto& n = r.contention) {
    row.other_cpu_frac = n->other_cpu_frac;
    row.steal_frac = n->steal_frac;
    row.load_avg_1m = n->load_avg_1m;
    row.contaminated = n->contaminated;
    row.voluntary_switches = n->voluntary_switches;
    row.involuntary_switches = n->involuntary_switches;
  }
  if (const auto* g = std::get_if<result::GenerationMeasurement>(&r.measurement)) {
    // The medians over the measured requests, computed once here from the traces stored beside them.
    std::vector<double> ttft, tpot, itl;
    for (const result::RequestTrace& t : g->requests) {
      if (t.warmup) continue;
      const serve::RequestMetrics m = serve::MetricsOf(t);
      if (m.ttft_sent_s) ttft.push_back(*m.ttft_sent_s * 1e9);
      if (m.tpot_s) tpot.push_back(*m.tpot_s * 1e9);
      for (double v : serve::InterTokenLatencies(t)) itl.push_back(v * 1e9);
    }
    if (!ttft.empty()) row.ttft_p50_ns = stats::Median(ttft);
    if (!tpot.empty()) row.tpot_p50_ns = stats::Median(tpot);
    if (!itl.empty()) row.itl_p50_ns = stats::Median(itl);
  }
  row.contention_policy = opt_text(r.contention_policy);
  if (!r.contention_policy.empty()) {
    row.contention_threshold = r.contention_threshold;
    row.excluded_chunks = s.ExcludedChunks();
  }
  row.quiet_gate = opt_text(r.quiet_gate);
  if (!r.quiet_gate.empty()) row.quiet_wait_s = r.quiet_wait_s;
  if (r.replaces_rep_idx) row.replaces_rep_idx = *r.replaces_rep_idx;
  return row;
}

}  // namespace

std::string NewUuid() {
  uint8_t b[16];
  UniqueFd fd(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
  if (!fd.valid() || ::read(fd.get(), b, sizeof b) != static_cast<ssize_t>(sizeof b)) {
    throw EnvError(fmt::format("cannot read /dev/urandom to name the run: {}", std::strerror(errno)));
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += fmt::format("{:02x}", b[i]);
  }
  return out;
}

std::string CellConfigJson(const plan::Cell& cell) {
  json j = {{"prefix", cell.prefix},
            {"env", EnvJson(cell.env)},
            {"options", json::parse(cell.options_json)},
            {"sampling", SamplingJson(cell.sampling)},
            {"timeout_s", cell.timeout_s}};
  if (!cell.dataset.empty()) j["dataset"] = {{"name", cell.dataset}, {"epochs", cell.epochs}};
  return Dump(j);
}

Store::~Store() {
  if (!writer_ || db_.handle() == nullptr) return;
  // Without waiting: another connection holding the file keeps it in WAL mode (SQLITE_BUSY).
  sqlite3_busy_timeout(db_.handle(), 0);
  sqlite3_exec(db_.handle(), "PRAGMA journal_mode = DELETE", nullptr, nullptr, nullptr);
}

Store Store::Open(const std::string& path) {
  RefuseDirectory(path);
  Store s{Db(path), true};
  RequireDlbenchFile(s.db_, true);
  RequireIntact(s.db_);
  Configure(s.db_);
  Migrate(s.db_);
  if (PragmaInt(s.db_, "application_id") != kApplicationId) {
    s.db_.Exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
  }
  s.MarkDeadRuns();
  return s;
}

Store Store::OpenExisting(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    throw UserError(fmt::format("no database at {} (use --db PATH, or run an experiment first)", path));
  }
  RefuseDirectory(path);
  Db db(path, ReadMode(path));
  RequireDlbenchFile(db, false);
  const int version = SchemaVersion(db);
  if (version < kSchemaVersion) return Store{UpgradedCopy(db)};
  MigrateTo(db, version);  // refuses a newer schema, changes nothing otherwise
  db.Exec("PRAGMA foreign_keys = ON");
  return Store{std::move(db)};
}

void Store::MarkDeadRuns() {
  for (const RunRow& r : ListRuns(db_)) {
    if (r.controller_gone) FinishRun(r.run_id, false, r.finished_at);
  }
}

int64_t Store::BeginRun(const RunInfo& info, const plan::Plan& plan, const ShardInfo& shard) {
  const auto& e = plan.experiment;
  Transaction txn(db_);
  Stmt run = db_.Prepare(
      "INSERT INTO runs (experiment, experiment_file, experiment_toml, status, started_at, host, "
      "controller_pid, dlbench_version, dlbench_revision, command_line, host_json, order_kind, "
      "seed, repetitions, cooldown_s, gpu_temperature_max_c, max_repetitions, target_ratio_ci, "
      "compare_by, run_uuid, sweep_id, shard_index, shard_count) "
      "VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const bool sharded = !shard.sweep_id.empty();
  Binder(run) << e.name << e.path << e.source_text << NowIso8601() << info.host
              << info.controller_pid << info.dlbench_version << info.dlbench_revision
              << info.command_line_json << info.host_json << plan::OrderName(e.order)
              << static_cast<int64_t>(e.seed) << e.repetitions << e.cooldown_s
              << e.gpu_temperature_max_c << e.max_repetitions << e.target_ratio_ci << e.compare_by
              << NewUuid()
              << (sharded ? std::optional<std::string>(shard.sweep_id) : std::nullopt)
              << (sharded ? std::optional<int64_t>(shard.index) : std::nullopt)
              << (sharded ? std::optional<int64_t>(shard.count) : std::nullopt);
  run.Run();
  int64_t run_id = db_.LastInsertId();

  static const std::string cell_sql =
      fmt::format("INSERT INTO cells (status, {}) VALUES ('pending', {})",
                  ColumnNames(kCellColumns), Placeholders(kCellColumns));
  Stmt cell = db_.Prepare(cell_sql);
  for (const auto& c : plan.cells) {
    Binder b(cell);
    BindColumns(b, kCellColumns, Written::kInsert, PlannedCell(run_id, c));
    cell.Run();
  }
  txn.Commit();
  return run_id;
}

void InsertTelemetry(Db& db, int64_t repetition_id, const result::RepetitionResult& r) {
  Stmt s = db.Prepare(
      "INSERT INTO telemetry (repetition_id, t_ns, phase, gpu_energy_j, gpu_power_w, "
      "gpu_temperature_c, sm_clock_mhz, mem_clock_mhz, clock_event_reasons, gpu_util_pct, "
      "mem_util_pct, device_bytes, cpu_energy_j, rss_bytes) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const auto& t : r.telemetry) {
    std::optional<int64_t> reasons;
    if (t.gpu.clock_event_reasons) reasons = static_cast<int64_t>(*t.gpu.clock_event_reasons);
    Binder(s) << repetition_id << t.t_ns << t.phase << t.gpu_energy_j << t.gpu.power_w
              << t.gpu.temperature_c << t.gpu.sm_clock_mhz << t.gpu.mem_clock_mhz << reasons
              << t.gpu.gpu_util_pct << t.gpu.mem_util_pct << t.gpu.process_bytes << t.cpu_energy_j
              << t.rss_bytes;
    s.Run();
  }
  Stmt w = db.Prepare(
      "INSERT INTO energy_windows (repetition_id, window_idx, t_start_ns, duration_ns, iterations, "
      "energy_j, avg_power_w, max_temperature_c, sm_clock_mhz, mem_clock_mhz, clock_event_reasons) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (size_t i = 0; i < r.energy_windows.size(); ++i) {
    const auto& e = r.energy_windows[i];
    Binder(w) << repetition_id << static_cast<int64_t>(i) << e.t_start_ns << e.duration_ns
              << e.iterations << e.energy_j << e.avg_power_w << e.max_temperature_c
              << e.sm_clock_mhz << e.mem_clock_mhz << static_cast<int64_t>(e.clock_event_reasons);
    w.Run();
  }
}

void Store::AddRepetition(int64_t run_id, const plan::Cell& cell, const result::RepetitionResult& r,
                          const analysis::CellSummary& summary) {
  Transaction txn(db_);
  Stmt find = db_.Prepare("SELECT cell_id FROM cells WHERE run_id = ? AND cell_idx = ?");
  Binder(find) << run_id << cell.cell_idx;
  DLB_CHECK(find.Step()) << "cell " << cell.cell_idx << " is not in run " << run_id;
  const int64_t cell_id = find.Int(0);
  static const std::string rep_sql =
      fmt::format("INSERT INTO repetitions ({}) VALUES ({})", ColumnNames(kRepetitionColumns),
                  Placeholders(kRepetitionColumns));
  Stmt rep = db_.Prepare(rep_sql);
  Binder b(rep);
  BindColumns(b, kRepetitionColumns, Written::kInsert, StoredRepetition(cell_id, r));
  rep.Run();
  int64_t repetition_id = db_.LastInsertId();
  InsertMeasurement(db_, repetition_id, r.measurement);
  InsertTelemetry(db_, repetition_id, r);
  WriteCellSummary(cell_id, summary);
  txn.Commit();
}

// The cell's summary as the run computed it, written beside the repetition it now includes.
void Store::WriteCellSummary(int64_t cell_id, const analysis::CellSummary& c) {
  static const std::string sql =
      fmt::format("UPDATE cells SET {} WHERE cell_id = ?", Assignments(kCellColumns));
  Stmt up = db_.Prepare(sql);
  Binder b(up);
  BindColumns(b, kCellColumns, Written::kUpdate, SummarisedCell(c));
  b << cell_id;
  up.Run();
}

void Store::AddValidation(int64_t run_id, const result::ValidationSpec& spec,
                          const result::ModelValidation& mv) {
  Transaction txn(db_);
  Stmt ins = db_.Prepare(
      "INSERT INTO validations (run_id, model, precision, device, framework_a, framework_b, status, "
      "inputs, max_abs_err, max_rel_err, cosine, top1_agreement, tolerance, tolerance_reason, "
      "settings_a, settings_b, weights_source, message, workload, steps, max_loss_err, "
      "weights_err, running_stats_err, loss_tolerance, weights_tolerance) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const bool training = spec.workload == "training";
  auto settings_of = [&](const std::string& fw) {
    for (const auto& o : mv.outputs)
      if (o.framework == fw) return o.settings_json;
    return std::string("{}");
  };
  auto nulls = [](Binder& b, int n) {
    for (int k = 0; k < n; ++k) b.Null();
  };
  for (const auto& p : mv.pairs) {
    const auto& c = p.comparison;
    Binder b(ins);
    b << run_id << mv.model << spec.precision << spec.device << p.framework_a << p.framework_b
      << (p.pass ? "pass" : "fail") << spec.inputs;
    if (training) {
      nulls(b, 5);
      b << p.training_tolerance.reason;
    } else {
      b << c.max_abs_err << c.max_rel_err << c.cosine << c.top1_agreement << p.tolerance.max_rel_err
        << p.tolerance.reason;
    }
    b << settings_of(p.framework_a) << settings_of(p.framework_b) << mv.weights_source;
    if (training) {
      b << p.training.problem;
    } else {
      b << (c.nonfinite_a + c.nonfinite_b > 0
                ? fmt::format("{} has {} and {} has {} NaN or infinite outputs", p.framework_a,
                              c.nonfinite_a, p.framework_b, c.nonfinite_b)
                : std::string());
    }
    b << spec.workload;
    if (training) {
      const auto& t = p.training;
      std::optional<double> max_loss;  // NaN (a loss that is not finite) stays NULL
      for (double e : t.loss_errors) {
        if (std::isfinite(e)) max_loss = std::max(max_loss.value_or(0), e);
      }
      b << int64_t{spec.steps} << max_loss << t.weights_error << t.running_stats_error
        << p.training_tolerance.later_losses << p.training_tolerance.weights;
    } else {
      nulls(b, 6);
    }
    ins.Run();
  }
  auto error_row = [&](const std::string& fw, const std::string& message) {
    Binder b(ins);
    b << run_id << mv.model << spec.precision << spec.device << fw;
    b.Null();
    b << "error" << spec.inputs;
    nulls(b, 6);
    b << settings_of(fw);
    b.Null();
    b << mv.weights_source << message << spec.workload;
    nulls(b, 6);
    ins.Run();
  };
  for (const auto& o : mv.outputs) {
    if (o.status != "ok") error_row(o.framework, o.status + ": " + o.message);
  }
  if (!mv.error.empty()) error_row(spec.frameworks.front(), mv.error);
  txn.Commit();
}

void Store::FinishRun(int64_t run_id, bool complete, std::optional<std::string> finished_at) {
  Stmt s = db_.Prepare("UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?");
  Binder(s) << (complete ? "complete" : "incomplete") << finished_at.value_or(NowIso8601()) << run_id;
  s.Run();
}

}  // namespace dlb::store
