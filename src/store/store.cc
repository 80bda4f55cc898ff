#include "store/store.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "stats/descriptive.h"
#include "store/schema.h"
#include "util/error.h"
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


std::optional<double> MedianOf(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void Configure(Db& db) {
  db.Exec("PRAGMA journal_mode = WAL");
  db.Exec("PRAGMA synchronous = NORMAL");
  db.Exec("PRAGMA foreign_keys = ON");
}

}  // namespace

std::string CellConfigJson(const plan::Cell& cell) {
  json j = {{"prefix", cell.prefix},
            {"env", EnvJson(cell.env)},
            {"options", json::parse(cell.options_json)},
            {"sampling", SamplingJson(cell.sampling)},
            {"timeout_s", cell.timeout_s}};
  return Dump(j);
}

Store Store::Open(const std::string& path) {
  Store s{Db(path)};
  Configure(s.db_);
  Migrate(s.db_);
  s.MarkDeadRuns();
  return s;
}

Store Store::OpenExisting(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    throw UserError(fmt::format("no database at {} (use --db PATH, or run an experiment first)", path));
  }
  return Open(path);
}

void Store::MarkDeadRuns() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  Stmt q = db_.Prepare("SELECT run_id, controller_pid FROM runs WHERE status = 'running' AND host = ?");
  q.Bind(1, std::string(host));
  std::vector<int64_t> dead;
  while (q.Step()) {
    auto pid = static_cast<pid_t>(q.Int(1));
    if (pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) dead.push_back(q.Int(0));
  }
  for (int64_t id : dead) FinishRun(id, false);
}

int64_t Store::BeginRun(const RunInfo& info, const plan::Plan& plan) {
  const auto& e = plan.experiment;
  Transaction txn(db_);
  Stmt run = db_.Prepare(
      "INSERT INTO runs (experiment, experiment_file, experiment_toml, status, started_at, host, "
      "controller_pid, dlbench_version, dlbench_revision, command_line, host_json, order_kind, "
      "seed, repetitions, cooldown_s, gpu_temperature_max_c) "
      "VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  Binder(run) << e.name << e.path << e.source_text << NowIso8601() << info.host
              << info.controller_pid << info.dlbench_version << info.dlbench_revision
              << info.command_line_json << info.host_json << plan::OrderName(e.order)
              << static_cast<int64_t>(e.seed) << e.repetitions << e.cooldown_s
              << e.gpu_temperature_max_c;
  run.Run();
  int64_t run_id = db_.LastInsertId();

  Stmt cell = db_.Prepare(
      "INSERT INTO cells (run_id, cell_idx, cell_key, framework, model, batch, precision, device, "
      "mode, layout, variant, environment, config_json, status) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')");
  cell_ids_.clear();
  for (const auto& c : plan.cells) {
    Binder(cell) << run_id << c.cell_idx << c.Key() << c.framework << c.model << c.batch
                 << c.precision << c.device << c.mode << c.layout << c.variant << c.environment
                 << CellConfigJson(c);
    cell.Run();
    cell_ids_.push_back(db_.LastInsertId());
  }
  txn.Commit();
  return run_id;
}

void InsertSamples(Db& db, int64_t repetition_id, const run::RepetitionResult& r) {
  Stmt s = db.Prepare(
      "INSERT INTO samples (repetition_id, chunk_idx, iter_idx, is_warmup, wall_ns) "
      "VALUES (?, ?, ?, ?, ?)");
  for (size_t i = 0; i < r.wall_ns.size(); ++i) {
    s.Bind(1, repetition_id);
    s.Bind(2, static_cast<int64_t>(r.chunk_idx[i]));
    s.Bind(3, static_cast<int64_t>(i));
    s.Bind(4, static_cast<int64_t>(static_cast<int64_t>(i) < r.warmup_count));
    s.Bind(5, r.wall_ns[i]);
    s.Step();
    s.Reset();
  }
}

void Store::AddRepetition(int64_t run_id, const plan::Cell& cell, const run::RepetitionResult& r) {
  (void)run_id;
  DLB_CHECK(static_cast<size_t>(cell.cell_idx) < cell_ids_.size()) << "cell not in this run";
  int64_t cell_id = cell_ids_[static_cast<size_t>(cell.cell_idx)];
  Transaction txn(db_);
  Stmt rep = db_.Prepare(
      "INSERT INTO repetitions (cell_id, rep_idx, order_idx, status, error_kind, message, phase, "
      "exit_code, term_signal, started_at, finished_at, worker_argv, launch_prefix, env_json, "
      "env_padding_bytes, hello_json, settings_json, parameters, flops_per_sample, load_s, "
      "compile_s, first_call_s, sync_overhead_ns, timer_overhead_ns, warmup_iterations, "
      "warmup_settled, n_samples, converged, stop_reason, median_ns, rel_ci, window_ns, "
      "window_iterations, peak_rss_bytes, peak_device_bytes, log, block_iterations, near_overhead, "
      "gate_status, gpu_temperature_c, gate_wait_s) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  auto opt_text = [](const std::string& s) {
    return s.empty() ? std::nullopt : std::optional<std::string>(s);
  };
  Binder b(rep);
  b << cell_id << r.rep_idx << r.order_idx << run::RepStatusName(r.status);
  b << opt_text(r.error_kind) << opt_text(r.message) << opt_text(r.phase);
  b << r.exit_code << r.term_signal << r.started_at << r.finished_at;
  b << Dump(json(r.argv)) << Dump(json(r.prefix)) << Dump(EnvJson(r.env)) << r.env_padding_bytes;
  b << opt_text(r.hello_json) << opt_text(r.settings_json) << r.parameters << r.flops_per_sample;
  b << r.load_s << r.compile_s << r.first_call_s << r.sync_overhead_ns << r.timer_overhead_ns;
  b << r.warmup_count << static_cast<int64_t>(r.warmup_settled);
  b << static_cast<int64_t>(r.wall_ns.size()) - r.warmup_count;
  b << static_cast<int64_t>(r.converged) << opt_text(r.stop_reason) << r.median_ns << r.rel_ci;
  b << r.window_ns << r.window_iterations << r.peak_rss_bytes << r.peak_device_bytes << r.log;
  b << r.block_iterations << static_cast<int64_t>(r.near_overhead) << opt_text(r.gate_status);
  b << r.gpu_temperature_c << r.gate_wait_s;
  rep.Run();
  InsertSamples(db_, db_.LastInsertId(), r);
  UpdateCell(cell_id, cell.batch);
  txn.Commit();
}

// Recomputes a cell's status and summary from its stored repetitions and samples.
void Store::UpdateCell(int64_t cell_id, int batch) {
  Stmt reps = db_.Prepare(
      "SELECT status, message, parameters, flops_per_sample, load_s, compile_s, first_call_s, "
      "peak_rss_bytes, peak_device_bytes, window_ns, window_iterations FROM repetitions "
      "WHERE cell_id = ? ORDER BY rep_idx");
  reps.Bind(1, cell_id);
  int run_count = 0, ok = 0, unsupported = 0;
  std::string message;
  std::optional<int64_t> parameters, flops, peak_rss, peak_device;
  std::vector<double> load, compile, first_call;
  int64_t window_ns = 0, window_iterations = 0;
  while (reps.Step()) {
    ++run_count;
    std::string status = reps.Text(0);
    if (status == "unsupported") ++unsupported;
    if (status != "ok") {
      if (message.empty()) message = reps.Text(1);
      continue;
    }
    ++ok;
    parameters = reps.OptInt(2);
    flops = reps.OptInt(3);
    if (auto v = reps.OptDouble(4)) load.push_back(*v);
    if (auto v = reps.OptDouble(5)) compile.push_back(*v);
    if (auto v = reps.OptDouble(6)) first_call.push_back(*v);
    if (auto v = reps.OptInt(7)) peak_rss = std::max(peak_rss.value_or(0), *v);
    if (auto v = reps.OptInt(8)) peak_device = std::max(peak_device.value_or(0), *v);
    if (auto w = reps.OptInt(9); w && *w > 0) {
      window_ns += *w;
      window_iterations += reps.Int(10);
    }
  }
  std::string status = ok == run_count ? "ok"
                       : unsupported > 0 ? "unsupported"
                       : ok == 0        ? "failed"
                                        : "partial";

  Stmt samples = db_.Prepare(
      "SELECT s.wall_ns FROM samples s JOIN repetitions r USING (repetition_id) "
      "WHERE r.cell_id = ? AND r.status = 'ok' AND s.is_warmup = 0");
  samples.Bind(1, cell_id);
  std::vector<double> wall;
  double sum = 0;
  while (samples.Step()) {
    wall.push_back(static_cast<double>(samples.Int(0)));
    sum += wall.back();
  }
  auto summary = stats::Summarize(std::span<const double>(wall));
  std::optional<stats::MedianCi> ci;
  if (summary) {
    std::sort(wall.begin(), wall.end());
    ci = stats::MedianConfidenceInterval(wall, 0.95);
  }
  Stmt up = db_.Prepare(
      "UPDATE cells SET status = ?, message = ?, repetitions_ok = ?, repetitions_run = ?, "
      "n_samples = ?, mean_ns = ?, std_ns = ?, min_ns = ?, p50_ns = ?, p90_ns = ?, p95_ns = ?, "
      "p99_ns = ?, max_ns = ?, median_ci_lo_ns = ?, median_ci_hi_ns = ?, median_ci_coverage = ?, "
      "throughput_sps = ?, window_throughput_sps = ?, parameters = ?, flops_per_sample = ?, "
      "load_s = ?, compile_s = ?, first_call_s = ?, peak_rss_bytes = ?, peak_device_bytes = ? "
      "WHERE cell_id = ?");
  Binder b(up);
  b << status << (message.empty() ? std::nullopt : std::optional<std::string>(message));
  b << ok << run_count;
  if (summary) {
    b << summary->n << summary->mean << summary->std << summary->min << summary->p50;
    b << summary->p90 << summary->p95 << summary->p99 << summary->max;
  } else {
    for (int k = 0; k < 9; ++k) b.Null();
  }
  if (ci) {
    b << ci->lo << ci->hi << ci->coverage;
  } else {
    for (int k = 0; k < 3; ++k) b.Null();
  }
  std::optional<double> throughput, window_throughput;
  if (sum > 0) throughput = static_cast<double>(batch) * static_cast<double>(wall.size()) / (sum * 1e-9);
  if (window_ns > 0) {
    window_throughput = static_cast<double>(batch) * static_cast<double>(window_iterations) /
                        (static_cast<double>(window_ns) * 1e-9);
  }
  b << throughput << window_throughput << parameters << flops;
  b << MedianOf(load) << MedianOf(compile) << MedianOf(first_call) << peak_rss << peak_device;
  b << cell_id;
  up.Run();
}

void Store::AddValidation(int64_t run_id, const run::ValidationSpec& spec,
                          const run::ModelValidation& mv) {
  Transaction txn(db_);
  Stmt ins = db_.Prepare(
      "INSERT INTO validations (run_id, model, precision, device, framework_a, framework_b, status, "
      "inputs, max_abs_err, max_rel_err, cosine, top1_agreement, tolerance, tolerance_reason, "
      "settings_a, settings_b, weights_source, message) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  auto settings_of = [&](const std::string& fw) {
    for (const auto& o : mv.outputs)
      if (o.framework == fw) return o.settings_json;
    return std::string("{}");
  };
  for (const auto& p : mv.pairs) {
    const auto& c = p.comparison;
    Binder(ins) << run_id << mv.model << spec.precision << spec.device << p.framework_a
                << p.framework_b << (p.pass ? "pass" : "fail") << spec.inputs << c.max_abs_err
                << c.max_rel_err << c.cosine << c.top1_agreement << p.tolerance.max_rel_err
                << p.tolerance.reason << settings_of(p.framework_a) << settings_of(p.framework_b)
                << mv.weights_source
                << (c.nonfinite_a + c.nonfinite_b > 0
                        ? fmt::format("{} has {} and {} has {} NaN or infinite outputs", p.framework_a,
                                      c.nonfinite_a, p.framework_b, c.nonfinite_b)
                        : std::string());
    ins.Run();
  }
  auto error_row = [&](const std::string& fw, const std::string& message) {
    Binder b(ins);
    b << run_id << mv.model << spec.precision << spec.device << fw;
    b.Null();
    b << "error" << spec.inputs;
    for (int k = 0; k < 6; ++k) b.Null();
    b << settings_of(fw);
    b.Null();
    b << mv.weights_source << message;
    ins.Run();
  };
  for (const auto& o : mv.outputs) {
    if (o.status != "ok") error_row(o.framework, o.status + ": " + o.message);
  }
  if (!mv.error.empty()) error_row(spec.frameworks.front(), mv.error);
  txn.Commit();
}

void Store::FinishRun(int64_t run_id, bool complete) {
  Stmt s = db_.Prepare("UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?");
  Binder(s) << (complete ? "complete" : "incomplete") << NowIso8601() << run_id;
  s.Run();
}

}  // namespace dlb::store
