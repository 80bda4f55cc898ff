#include "store/schema.h"

#include <fmt/format.h>

#include "util/error.h"

namespace dlb::store {
namespace {

// Migration i takes the schema from version i to i + 1. Append; never edit a shipped one.
constexpr const char* kMigrations[] = {
    // 0 -> 1: the first schema.
    R"sql(
CREATE TABLE runs (
  run_id          INTEGER PRIMARY KEY,
  experiment      TEXT NOT NULL,
  experiment_file TEXT NOT NULL,
  experiment_toml TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('running', 'complete', 'incomplete')),
  started_at      TEXT NOT NULL,
  finished_at     TEXT,
  host            TEXT NOT NULL,
  controller_pid  INTEGER NOT NULL,
  dlbench_version TEXT NOT NULL,
  dlbench_revision TEXT NOT NULL,
  command_line    TEXT NOT NULL,   -- JSON array
  host_json       TEXT NOT NULL,   -- probe/host facts
  order_kind      TEXT NOT NULL,
  seed            INTEGER NOT NULL,
  repetitions     INTEGER NOT NULL,
  cooldown_s      REAL NOT NULL
);
CREATE TABLE cells (
  cell_id         INTEGER PRIMARY KEY,
  run_id          INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  cell_idx        INTEGER NOT NULL,
  cell_key        TEXT NOT NULL,
  framework       TEXT NOT NULL,
  model           TEXT NOT NULL,
  batch           INTEGER NOT NULL,
  precision       TEXT NOT NULL,
  device          TEXT NOT NULL,
  mode            TEXT NOT NULL,
  layout          TEXT NOT NULL,
  variant         TEXT NOT NULL,
  environment     TEXT NOT NULL,
  config_json     TEXT NOT NULL,   -- prefix, env, options, sampling
  status          TEXT NOT NULL CHECK (status IN ('pending', 'ok', 'partial', 'failed', 'unsupported')),
  message         TEXT,
  repetitions_ok  INTEGER NOT NULL DEFAULT 0,
  repetitions_run INTEGER NOT NULL DEFAULT 0,
  n_samples       INTEGER,
  mean_ns REAL, std_ns REAL, min_ns REAL, p50_ns REAL, p90_ns REAL, p95_ns REAL, p99_ns REAL,
  max_ns REAL, median_ci_lo_ns REAL, median_ci_hi_ns REAL, median_ci_coverage REAL,
  throughput_sps         REAL,     -- batch * n / sum(wall_ns), synced iterations
  window_throughput_sps  REAL,     -- batch * iterations / window_ns, pipelined
  parameters      INTEGER,
  flops_per_sample INTEGER,
  load_s REAL, compile_s REAL, first_call_s REAL,   -- medians over repetitions
  peak_rss_bytes  INTEGER,
  peak_device_bytes INTEGER,
  UNIQUE (run_id, cell_idx)
);
CREATE TABLE repetitions (
  repetition_id   INTEGER PRIMARY KEY,
  cell_id         INTEGER NOT NULL REFERENCES cells(cell_id) ON DELETE CASCADE,
  rep_idx         INTEGER NOT NULL,
  order_idx       INTEGER NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'unsupported')),
  error_kind      TEXT,
  message         TEXT,
  phase           TEXT,
  exit_code       INTEGER,
  term_signal     INTEGER,
  started_at      TEXT NOT NULL,
  finished_at     TEXT NOT NULL,
  worker_argv     TEXT NOT NULL,   -- JSON array: launch prefix + worker command
  launch_prefix   TEXT NOT NULL,   -- JSON array, verbatim from the experiment
  env_json        TEXT NOT NULL,   -- JSON object of the variables that matter
  env_padding_bytes INTEGER NOT NULL,
  hello_json      TEXT,
  settings_json   TEXT,
  parameters      INTEGER,
  flops_per_sample INTEGER,
  load_s REAL, compile_s REAL, first_call_s REAL,
  sync_overhead_ns INTEGER,
  timer_overhead_ns INTEGER,
  warmup_iterations INTEGER NOT NULL DEFAULT 0,
  warmup_settled  INTEGER NOT NULL DEFAULT 0,
  n_samples       INTEGER NOT NULL DEFAULT 0,
  converged       INTEGER NOT NULL DEFAULT 0,
  stop_reason     TEXT,
  median_ns       REAL,
  rel_ci          REAL,
  window_ns       INTEGER,
  window_iterations INTEGER,
  peak_rss_bytes  INTEGER,
  peak_device_bytes INTEGER,
  log             TEXT,
  UNIQUE (cell_id, rep_idx)
);
CREATE TABLE samples (
  repetition_id   INTEGER NOT NULL REFERENCES repetitions(repetition_id) ON DELETE CASCADE,
  chunk_idx       INTEGER NOT NULL,
  iter_idx        INTEGER NOT NULL,   -- position within the repetition, warm-up included
  is_warmup       INTEGER NOT NULL,
  wall_ns         INTEGER NOT NULL
);
CREATE INDEX samples_by_repetition ON samples(repetition_id, iter_idx);
CREATE INDEX cells_by_run ON cells(run_id);
CREATE INDEX repetitions_by_cell ON repetitions(cell_id);
)sql",
    // 1 -> 2: output validation recorded with a run (experiment key validate = true).
    R"sql(
CREATE TABLE validations (
  validation_id   INTEGER PRIMARY KEY,
  run_id          INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  model           TEXT NOT NULL,
  precision       TEXT NOT NULL,
  device          TEXT NOT NULL,
  framework_a     TEXT NOT NULL,
  framework_b     TEXT,            -- NULL when framework_a could not produce outputs
  status          TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'error')),
  inputs          INTEGER NOT NULL,
  max_abs_err REAL, max_rel_err REAL, cosine REAL, top1_agreement REAL,
  tolerance       REAL,
  tolerance_reason TEXT,
  settings_a      TEXT,
  settings_b      TEXT,
  weights_source  TEXT,
  message         TEXT
);
CREATE INDEX validations_by_run ON validations(run_id);
)sql",
    // 2 -> 3: harness calibration and the GPU temperature gate. Steady samples of a repetition with block_iterations > 1 are
    // the mean time per iteration over a block of that many synced iterations.
    R"sql(
ALTER TABLE repetitions ADD COLUMN block_iterations INTEGER NOT NULL DEFAULT 1;
ALTER TABLE repetitions ADD COLUMN near_overhead INTEGER NOT NULL DEFAULT 0;
-- The GPU temperature gate before the repetition (experiment.gpu_temperature_max_c).
ALTER TABLE repetitions ADD COLUMN gate_status TEXT;
ALTER TABLE repetitions ADD COLUMN gpu_temperature_c INTEGER;
ALTER TABLE repetitions ADD COLUMN gate_wait_s REAL NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN gpu_temperature_max_c INTEGER;
)sql",
    // 3 -> 4: profiles, telemetry and energy (for the seed study).
    R"sql(
ALTER TABLE cells ADD COLUMN profile TEXT NOT NULL DEFAULT '';
-- Energy per input sample over the cell's ok repetitions: the mean of the repetitions' values,
-- with a Student-t CI across them (or across the windows when there is one repetition).
ALTER TABLE cells ADD COLUMN energy_source TEXT;
ALTER TABLE cells ADD COLUMN energy_per_sample_j REAL;
ALTER TABLE cells ADD COLUMN energy_ci_lo_j REAL;
ALTER TABLE cells ADD COLUMN energy_ci_hi_j REAL;
ALTER TABLE cells ADD COLUMN avg_power_w REAL;
ALTER TABLE cells ADD COLUMN throttled_repetitions INTEGER;
ALTER TABLE cells ADD COLUMN profile_deviations INTEGER;
-- "ok", or the profile's deviations as read back after load; NULL without a profile.
ALTER TABLE repetitions ADD COLUMN profile_check TEXT;
ALTER TABLE repetitions ADD COLUMN gpu_telemetry TEXT;   -- "nvml" or "unavailable: why"
ALTER TABLE repetitions ADD COLUMN cpu_telemetry TEXT;   -- "rapl: zones" or "unavailable: why"
ALTER TABLE repetitions ADD COLUMN energy_source TEXT;   -- nvml-total-energy, nvml-power-integrated, rapl-package
ALTER TABLE repetitions ADD COLUMN energy_note TEXT;     -- why there is no energy figure
ALTER TABLE repetitions ADD COLUMN energy_per_sample_j REAL;  -- sum of window energy / samples
ALTER TABLE repetitions ADD COLUMN avg_power_w REAL;     -- over the energy windows
ALTER TABLE repetitions ADD COLUMN max_temperature_c INTEGER;  -- GPU, whole repetition
ALTER TABLE repetitions ADD COLUMN throttle_reasons TEXT;      -- slowdown reasons seen while measuring
ALTER TABLE repetitions ADD COLUMN peak_device_bytes_nvml INTEGER;  -- the worker's processes, NVML
CREATE TABLE telemetry (
  repetition_id   INTEGER NOT NULL REFERENCES repetitions(repetition_id) ON DELETE CASCADE,
  t_ns            INTEGER NOT NULL,   -- since the worker started
  phase           TEXT NOT NULL,
  gpu_energy_j    REAL,               -- NVML total-energy counter, since the worker started
  gpu_power_w     REAL,
  gpu_temperature_c INTEGER,
  sm_clock_mhz    INTEGER,
  mem_clock_mhz   INTEGER,
  clock_event_reasons INTEGER,        -- nvmlClocksEventReason bits
  gpu_util_pct    INTEGER,
  mem_util_pct    INTEGER,
  device_bytes    INTEGER,            -- the worker's processes on the GPU
  cpu_energy_j    REAL,               -- RAPL packages, since the worker started
  rss_bytes       INTEGER             -- the worker's resident set
);
CREATE INDEX telemetry_by_repetition ON telemetry(repetition_id, t_ns);
CREATE TABLE energy_windows (
  repetition_id   INTEGER NOT NULL REFERENCES repetitions(repetition_id) ON DELETE CASCADE,
  window_idx      INTEGER NOT NULL,
  t_start_ns      INTEGER NOT NULL,
  duration_ns     INTEGER NOT NULL,
  iterations      INTEGER NOT NULL,   -- calls of the model, each a batch
  energy_j        REAL NOT NULL,
  avg_power_w     REAL NOT NULL,
  max_temperature_c INTEGER,
  sm_clock_mhz    REAL,
  mem_clock_mhz   REAL,
  clock_event_reasons INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX energy_windows_by_repetition ON energy_windows(repetition_id, window_idx);
)sql",
    // 4 -> 5: noisy neighbours and the precision target. Neighbours are measured from the start of warm-up to the end of the pipelined
    // window on the worker's CPUs (probe/contention.h); NULL where /proc could not be read.
    R"sql(
ALTER TABLE repetitions ADD COLUMN other_cpu_frac REAL;  -- others' CPU time / (wall x CPUs)
ALTER TABLE repetitions ADD COLUMN steal_frac REAL;      -- hypervisor steal / (wall x CPUs)
ALTER TABLE repetitions ADD COLUMN load_avg_1m REAL;     -- /proc/loadavg when warm-up began
ALTER TABLE repetitions ADD COLUMN contaminated INTEGER; -- 1: either fraction above 0.10
ALTER TABLE cells ADD COLUMN contaminated_repetitions INTEGER;  -- among ok repetitions; NULL unknown
-- A precision target (Stein's two-stage design): runs.repetitions is then the first stage.
ALTER TABLE runs ADD COLUMN max_repetitions INTEGER;   -- NULL: as many as repetitions
ALTER TABLE runs ADD COLUMN target_ratio_ci REAL;      -- NULL: no precision target
ALTER TABLE runs ADD COLUMN compare_by TEXT;           -- the experiment's comparison axis
)sql",
    // 5 -> 6: runs from many hosts in one file (docs/fleet.md). A run is known by its run_uuid
    // wherever it is copied; the shards of one sweep share sweep_id and each knows its part.
    // Older runs get a key made of what identified them on their host, so merging the same old
    // file twice still finds them the same.
    R"sql(
ALTER TABLE runs ADD COLUMN run_uuid TEXT;
ALTER TABLE runs ADD COLUMN sweep_id TEXT;        -- NULL: not a shard of a sweep
ALTER TABLE runs ADD COLUMN shard_index INTEGER;  -- 0-based; NULL when not sharded
ALTER TABLE runs ADD COLUMN shard_count INTEGER;
ALTER TABLE runs ADD COLUMN merged_from TEXT;     -- the database a merge copied the run from
ALTER TABLE runs ADD COLUMN merged_at TEXT;
UPDATE runs SET run_uuid = 'legacy-' || lower(hex(host || '|' || started_at || '|' ||
                                                  controller_pid || '|' || run_id));
CREATE UNIQUE INDEX runs_by_uuid ON runs(run_uuid);
CREATE INDEX runs_by_sweep ON runs(sweep_id, shard_index);
)sql",
    // 6 -> 7: training on a real dataset (docs/experiments.md, "A real dataset"). Each training
    // repetition with a dataset stores its epochs; the cell the two figures of a training table.
    // And the training validation's figures.
    R"sql(
CREATE TABLE training_epochs (
  repetition_id INTEGER NOT NULL REFERENCES repetitions(repetition_id) ON DELETE CASCADE,
  epoch_idx     INTEGER NOT NULL,  -- 0-based
  epoch_ns      INTEGER NOT NULL,  -- the epoch's steps, synced at its end
  train_loss    REAL NOT NULL,     -- mean over the epoch's steps
  accuracy      REAL NOT NULL,     -- on the held-out split, after the epoch
  PRIMARY KEY (repetition_id, epoch_idx)
);
ALTER TABLE cells ADD COLUMN dataset TEXT;    -- NULL: no dataset
ALTER TABLE cells ADD COLUMN epochs INTEGER;  -- per repetition
ALTER TABLE cells ADD COLUMN epoch_s REAL;    -- median over ok repetitions of their mean epoch
ALTER TABLE cells ADD COLUMN accuracy REAL;   -- mean over ok repetitions, after the last epoch
-- validate = true for training cells (docs/validation.md, "Training"): the losses after each of
-- `steps` steps and the weights after them, compared; NULL for an inference validation.
ALTER TABLE validations ADD COLUMN workload TEXT NOT NULL DEFAULT 'inference';
ALTER TABLE validations ADD COLUMN steps INTEGER;
ALTER TABLE validations ADD COLUMN max_loss_err REAL;       -- max over steps of |L_b - L_a| / |L_a|
ALTER TABLE validations ADD COLUMN weights_err REAL;        -- ||W_b - W_a|| / ||W_a - W_0||
ALTER TABLE validations ADD COLUMN running_stats_err REAL;  -- the same over BatchNorm statistics
ALTER TABLE validations ADD COLUMN loss_tolerance REAL;     -- the later steps' (the first step's is in the reason)
ALTER TABLE validations ADD COLUMN weights_tolerance REAL;
)sql",
    // 7 -> 8: generation's raw timings (docs/storage.md, "Generation traces"). One row per timed
    // request, a generate call of an in-process engine (request_idx is then its iter_idx in
    // samples) or an HTTP request of a load, and one row per piece of its stream that carried
    // tokens, with how many. Every generation metric is derived from these.
    R"sql(
CREATE TABLE requests (
  repetition_id  INTEGER NOT NULL REFERENCES repetitions(repetition_id) ON DELETE CASCADE,
  request_idx    INTEGER NOT NULL,  -- 0-based, warm-up first
  is_warmup      INTEGER NOT NULL,
  status         TEXT NOT NULL,     -- ok, or a failure kind (http_429, truncated, timeout, ...)
  error          TEXT,              -- the failure's detail
  input_tokens   INTEGER NOT NULL,  -- -1 unknown
  output_tokens_requested INTEGER NOT NULL,
  due_ns         INTEGER NOT NULL,  -- when the schedule wanted it sent
  sent_ns        INTEGER NOT NULL,
  done_ns        INTEGER NOT NULL,
  token_source   TEXT NOT NULL,     -- engine, logprobs, usage or chunks
  usage_output_tokens INTEGER NOT NULL,  -- the server's count, -1 none
  usage_input_tokens  INTEGER NOT NULL,
  PRIMARY KEY (repetition_id, request_idx)
);
CREATE TABLE token_chunks (
  repetition_id  INTEGER NOT NULL REFERENCES repetitions(repetition_id) ON DELETE CASCADE,
  request_idx    INTEGER NOT NULL,
  chunk_idx      INTEGER NOT NULL,  -- 0-based in stream order
  arrival_ns     INTEGER NOT NULL,
  tokens         INTEGER NOT NULL,  -- tokens the chunk carried
  PRIMARY KEY (repetition_id, request_idx, chunk_idx)
);
)sql",
    // 8 -> 9: contention per chunk and what the run did about it (docs/measurement.md, "Noisy
    // neighbours"). One row per request for samples or for the pipelined window, with the other
    // processes' share of the worker's CPUs while it ran; `excluded` chunks' samples stay in
    // `samples` but are left out of the repetition's estimate and of every figure read from it.
    R"sql(
CREATE TABLE chunks (
  repetition_id  INTEGER NOT NULL REFERENCES repetitions(repetition_id) ON DELETE CASCADE,
  chunk_idx      INTEGER NOT NULL,  -- samples.chunk_idx; the window's chunk has no samples
  phase          TEXT NOT NULL,     -- warmup, measure or window
  wall_ns        INTEGER NOT NULL,  -- the controller's request to the worker's reply
  other_cpu_frac REAL,              -- NULL: /proc unreadable
  steal_frac     REAL,
  minor_faults   INTEGER,           -- the worker's process group's page faults in the chunk
  contaminated   INTEGER NOT NULL,  -- above the repetition's contention_threshold
  excluded       INTEGER NOT NULL,  -- left out of the estimate (policy exclude)
  PRIMARY KEY (repetition_id, chunk_idx)
);
ALTER TABLE repetitions ADD COLUMN contention_policy TEXT;     -- exclude or record; NULL before schema 9
ALTER TABLE repetitions ADD COLUMN contention_threshold REAL;  -- NULL: 0.10
ALTER TABLE repetitions ADD COLUMN excluded_chunks INTEGER;
ALTER TABLE repetitions ADD COLUMN quiet_gate TEXT;            -- quiet, timeout, unavailable; NULL: no gate
ALTER TABLE repetitions ADD COLUMN quiet_wait_s REAL;
ALTER TABLE repetitions ADD COLUMN replaces_rep_idx INTEGER;   -- the contaminated repetition it replaces
ALTER TABLE repetitions ADD COLUMN minor_faults_per_call REAL; -- kept measure chunks' faults per iteration
ALTER TABLE cells ADD COLUMN replaced_repetitions INTEGER;     -- repetitions run to replace contaminated ones
)sql",
    // 9 -> 10: the worker's context switches over the timed phases (probe/contention.h), and a
    // generation repetition's latency medians, computed from its request traces when written.
    R"sql(
ALTER TABLE repetitions ADD COLUMN voluntary_switches INTEGER;    -- NULL: unreadable
ALTER TABLE repetitions ADD COLUMN involuntary_switches INTEGER;
ALTER TABLE repetitions ADD COLUMN ttft_p50_ns REAL;  -- median over the measured requests; NULL: none
ALTER TABLE repetitions ADD COLUMN tpot_p50_ns REAL;
ALTER TABLE repetitions ADD COLUMN itl_p50_ns REAL;   -- median of every inter-token gap
)sql",
};

}  // namespace

int SchemaVersion(Db& db) {
  Stmt s = db.Prepare("PRAGMA user_version");
  s.Step();
  return static_cast<int>(s.Int(0));
}

void Migrate(Db& db) { MigrateTo(db, kSchemaVersion); }

void MigrateTo(Db& db, int target) {
  static_assert(static_cast<int>(std::size(kMigrations)) == kSchemaVersion);
  int version = SchemaVersion(db);
  // Before the check of the target: a reader asks for the file's own version, and a newer file is
  // a refusal naming both versions, not an internal error.
  if (version > kSchemaVersion) {
    throw EnvError(fmt::format(
        "database {} has schema version {}, newer than this dlbench understands ({}); use a newer "
        "dlbench",
        db.path(), version, kSchemaVersion));
  }
  DLB_CHECK(target >= 0 && target <= kSchemaVersion) << "no schema version " << target;
  while (version < target) {
    Transaction txn(db);
    db.Exec(kMigrations[version]);
    db.Exec(fmt::format("PRAGMA user_version = {}", version + 1));
    txn.Commit();
    ++version;
  }
}

}  // namespace dlb::store
