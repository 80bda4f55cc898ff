// dlbench run FILE.toml: plan, run every cell x repetition in its own worker, store, summarise.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/comparisons.h"
#include "cli/generation.h"
#include "plan/expand.h"
#include "plan/parse.h"
#include "probe/contention.h"
#include "probe/host.h"
#include "report/summary.h"
#include "report/table.h"
#include "revision.h"
#include "run/capabilities.h"
#include "run/estimate.h"
#include "run/scheduler.h"
#include "run/shard.h"
#include "run/validation.h"
#include "store/query.h"
#include "store/store.h"
#include "util/error.h"
#include "util/interrupt.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

struct RunOptions {
  std::string file;
  std::string db = kDefaultDb;
  std::vector<std::string> filters;
  bool dry_run = false;
  bool quiet = false;
  bool no_validate = false;
  std::string python;
  std::string compile_cache;  // empty: a fresh temporary directory, removed after the run
  std::string budget;         // empty: none
  std::string shard;          // "i/n": run part i of n (docs/fleet.md); empty: all
  std::string sweep;          // the shards' common name; empty: run::DefaultSweepId
};

// Earlier repetitions of these cells on this host, from the database when it exists (read only;
// nothing is created). An empty file (as `sqlite3 FILE` leaves one) has no history and is the
// run's to fill.
run::History LoadHistory(const std::string& db, const std::string& host, const plan::Plan& plan) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db, ec) || std::filesystem::file_size(db, ec) == 0) return {};
  auto store = store::Store::OpenExisting(db);
  return store::GetHistory(store.db(), host, plan);
}

// The run's answer first: each comparison along the experiment's axis, decided or not.
std::string VerdictBlock(store::Db& db, int64_t run_id, const std::string& by) {
  CompareQuery q;
  q.runs = {run_id};
  q.axes = {by};
  Comparisons c = CompareStored(db, q);
  std::string busy = ContentionSummary(db, {run_id});
  if (!busy.empty()) busy += "\n\n";
  if (c.results.empty()) return busy;
  return fmt::format("verdicts by {}, over repetitions (dlbench compare {} --by {} has the details):\n{}\n{}",
                     by, run_id, by, VerdictSentences(c), busy);
}

std::string EstimateText(const run::RunEstimate& e, size_t cells) {
  std::string source =
      e.cells_from_history == 0
          ? "from the built-in per-phase costs (no earlier repetition of these cells on this host)"
          : fmt::format("from {} earlier repetitions of {} of the {} cells on this host{}",
                        e.history_repetitions, e.cells_from_history, cells,
                        static_cast<size_t>(e.cells_from_history) < cells
                            ? ", built-in per-phase costs for the rest"
                            : "");
  std::string text = fmt::format("estimated duration: {} ({} to {}), {}", FormatDuration(e.expected_s),
                                 FormatDuration(e.low_s), FormatDuration(e.high_s), source);
  if (e.validation_s > 0) text += fmt::format("; output validation ~{}", FormatDuration(e.validation_s));
  return text;
}

// The run's compile cache root: the user's directory (kept), none, or a fresh temporary one that
// is removed when the run ends, so that every run's first repetition of a cell compiles cold.
class CompileCacheRoot {
 public:
  explicit CompileCacheRoot(const std::string& flag) {
    if (flag == "none") return;
    if (!flag.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(flag, ec);
      if (ec) {
        throw EnvError(fmt::format("--compile-cache {}: cannot create it: {}", flag, ec.message()));
      }
      path_ = std::filesystem::absolute(flag).string();
      return;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "dlbench-cache-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw EnvError(fmt::format("cannot create a compile cache directory {}: {}", tmpl,
                                 std::strerror(errno)));
    }
    path_ = tmpl;
    temporary_ = true;
  }
  ~CompileCacheRoot() {
    if (!temporary_) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  CompileCacheRoot(const CompileCacheRoot&) = delete;
  CompileCacheRoot& operator=(const CompileCacheRoot&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool temporary_ = false;
};

class StoreSink : public run::ResultSink {
 public:
  StoreSink(store::Store& store, int64_t run_id) : store_(store), run_id_(run_id) {}
  void OnRepetition(const plan::Cell& cell, const result::RepetitionResult& r,
                    const analysis::CellSummary& summary) override {
    store_.AddRepetition(run_id_, cell, r, summary);
  }

 private:
  store::Store& store_;
  int64_t run_id_;
};

void PrintPlan(const plan::Plan& plan) {
  const auto& e = plan.experiment;
  if (e.target_ratio_ci) {
    std::printf("experiment %s: %zu cells x %d-%d repetitions = %zu-%zu worker processes (more than "
                "%d only while a %s comparison's ratio interval is wider than ±%g%%), order %s, "
                "seed %llu\n",
                e.name.c_str(), plan.cells.size(), e.repetitions, e.max_repetitions,
                plan.tasks.size(), plan.cells.size() * static_cast<size_t>(e.max_repetitions),
                e.repetitions, e.compare_by.c_str(), *e.target_ratio_ci * 100,
                plan::OrderName(e.order).c_str(), static_cast<unsigned long long>(e.seed));
  } else {
    std::printf("experiment %s: %zu cells x %d repetitions = %zu worker processes, order %s, seed %llu\n",
                e.name.c_str(), plan.cells.size(), e.repetitions, plan.tasks.size(),
                plan::OrderName(e.order).c_str(), static_cast<unsigned long long>(e.seed));
  }
  report::TextTable t({"cell", "framework", "model", "batch", "precision", "device", "workload",
                       "layout", "variant", "environment", "launch prefix"},
                      {true, false, false, true});
  for (const auto& c : plan.cells) {
    t.AddRow({std::to_string(c.cell_idx), c.framework, c.model, std::to_string(c.batch),
              c.precision, c.device, c.workload, c.layout, c.variant, c.environment,
              c.prefix.empty() ? "-" : Join(c.prefix, " ")});
  }
  std::fputs(t.Render().c_str(), stdout);
}

// validate = true: one validation per (workload, model, precision, device) of the cells of the
// workers that can be validated for that workload (their capabilities: canonical weights,
// save_weights, and outputs for inference or train for training). Training cells are checked as
// `dlbench validate --workload training` checks them: a few steps of the experiment's optimizer
// with the validation's small-step hyper-parameters, which docs/validation.md's tolerances are
// justified for, on a batch of 4 fixed inputs.
bool RunValidations(const plan::Plan& plan, const LaunchChoice& launch, store::Store& store,
                    int64_t run_id) {
  std::map<std::string, std::vector<std::string>> frameworks;  // by workload
  std::set<std::tuple<std::string, std::string, std::string, std::string>> groups;
  for (const auto& c : plan.cells) {
    auto& names = frameworks[c.workload];
    if (names.empty()) {
      for (const auto& caps : plan.experiment.capabilities) {
        if (caps.CanValidate(c.workload)) names.push_back(caps.worker);
      }
    }
    if (std::find(names.begin(), names.end(), c.framework) != names.end()) {
      groups.insert({c.workload, c.model, c.precision, c.device});
    }
  }
  for (const auto& [workload, names] : frameworks) {
    if (names.size() >= 2) continue;
    PrintWarning(fmt::format("validate = true needs two frameworks in the matrix that load canonical "
                             "weights and answer {} (here: {}); no {} cell is compared",
                             workload == "training" ? "train" : "outputs",
                             names.empty() ? "none" : Join(names, ", "), workload));
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "dlbench-validate-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw EnvError("cannot create a temporary directory");
  bool ok = true;
  for (const auto& [workload, model, precision, device] : groups) {
    if (Interrupted()) break;
    if (frameworks[workload].size() < 2) continue;
    std::fprintf(stderr, "validating %s %s %s %s ...\n", model.c_str(), precision.c_str(),
                 device.c_str(), workload.c_str());
    run::ValidationSpec spec;
    spec.models = {model};
    spec.frameworks = frameworks[workload];
    spec.precision = precision;
    spec.device = device;
    spec.seed = plan.experiment.seed;
    spec.timeout_s = plan.experiment.timeout_s;
    spec.workdir = tmpl;
    spec.workload = workload;
    if (workload == "training") {
      spec.optimizer_json = run::ValidationOptimizer(plan.experiment.training.optimizer);
    }
    run::ModelValidation mv = run::ValidateModel(model, spec, launch.launch);
    // A device the workers cannot use (cuda on a CPU machine) is not a disagreement.
    bool unsupported = std::any_of(mv.outputs.begin(), mv.outputs.end(),
                                   [](const auto& out) { return out.status == "unsupported"; });
    ok = ok && (mv.ok() || unsupported);
    store.AddValidation(run_id, spec, mv);
  }
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  return ok;
}

ExitCode RunCommand(const RunOptions& o) {
  InstallInterruptHandlers();
  LaunchChoice launch = ChooseLaunch(o.python);
  // The experiment is checked against what its workers say they run, before any of them runs.
  run::WorkerCapabilityCache capabilities(launch.launch);
  plan::Experiment experiment = plan::ParseExperimentFile(o.file, capabilities);
  launch.launch.workers = experiment.workers;
  std::vector<plan::Filter> filters;
  for (const auto& f : o.filters) filters.push_back(plan::ParseFilter(f));
  plan::Plan plan = plan::Expand(experiment, filters);
  std::optional<run::Shard> shard;
  std::string sweep_id;
  if (!o.shard.empty()) {
    shard = run::ParseShard(o.shard);
    if (!shard) {
      throw UserError(fmt::format("--shard {}: expected I/N, the part to run counted from 0 and the "
                                  "number of parts (0 <= I < N <= 4096), e.g. 0/4", o.shard));
    }
    sweep_id = o.sweep.empty() ? run::DefaultSweepId(plan, o.filters, shard->count) : o.sweep;
    plan = run::SelectShard(plan, *shard);
  }
  if (!o.sweep.empty() && !shard) throw UserError("--sweep names the shards of a sweep; give --shard I/N too");
  if (!o.sweep.empty() && !run::ValidSweepId(o.sweep)) {
    throw UserError(fmt::format("--sweep {}: 1-64 letters, digits, '.', '_' or '-'", o.sweep));
  }
  std::optional<double> budget;
  if (!o.budget.empty()) {
    budget = run::ParseDuration(o.budget);
    if (!budget) {
      throw UserError(fmt::format("--budget {}: expected a duration such as 8m, 90s, 1h30m or 45 "
                                  "(seconds)", o.budget));
    }
  }
  probe::HostFacts host = probe::ReadHostFacts();
  run::History history = LoadHistory(o.db, host.hostname, plan);
  std::vector<std::string> gave_up;
  if (budget) {
    run::BudgetFit fit = run::FitBudget(plan, history, *budget);
    if (!fit.fits) {
      throw UserError(fmt::format(
          "--budget {}: too small for this experiment: its minimum ({} cells x {} repetitions, every "
          "measurement at its min_time_s{}) needs about {}; give at least that, or fewer cells "
          "(--filter)",
          o.budget, plan.cells.size(), experiment.repetitions,
          experiment.validate ? ", then the output validation" : "",
          FormatDuration(std::ceil(fit.smallest_s))));
    }
    gave_up = fit.gave_up;
  }
  run::RunEstimate estimate = run::EstimateRun(plan, history);
  if (o.dry_run) {
    PrintPlan(plan);
    std::printf("%s\n", EstimateText(estimate, plan.cells.size()).c_str());
    if (budget) {
      std::printf("budget %s: %s\n", o.budget.c_str(),
                  gave_up.empty() ? "the design fits as it is" : "to fit, dlbench gives up:");
      for (const auto& g : gave_up) std::printf("  - %s\n", g.c_str());
    }
    return ExitCode::kDone;
  }
  CompileCacheRoot cache(o.compile_cache);
  launch.launch.compile_cache_root = cache.path();
  store::Store store = store::Store::Open(o.db);
  for (const auto& w : probe::HostWarnings(host)) PrintWarning(w);
  constexpr double kBusySampleS = 0.5;  // watch the machine this long before the first worker
  if (auto busy = probe::SampleMachineBusy(kBusySampleS)) {
    if (auto w = probe::BusyMachineWarning(*busy, kBusySampleS); !w.empty()) PrintWarning(w);
  }

  store::RunInfo info{host.hostname, static_cast<int64_t>(::getpid()), DlbenchVersion(),
                      kGitRevision, nlohmann::json(CommandLine()).dump(), probe::HostFactsJson(host)};
  store::ShardInfo shard_info;
  if (shard) shard_info = {sweep_id, shard->index, shard->count};
  int64_t run_id = store.BeginRun(info, plan, shard_info);
  if (shard && !o.quiet) {
    std::fprintf(stderr, "shard %d/%d of sweep %s: %zu cells%s\n", shard->index, shard->count,
                 sweep_id.c_str(), plan.cells.size(),
                 plan.cells.empty() ? " (more shards than groups of compared cells; nothing to run)" : "");
  }
  if (!o.quiet) {
    std::fprintf(stderr, "run %lld: %s, %zu cells x %d repetitions into %s (python: %s)\n",
                 static_cast<long long>(run_id), experiment.name.c_str(), plan.cells.size(),
                 experiment.repetitions, o.db.c_str(), launch.launch.python.c_str());
  }
  if (!o.quiet) {
    std::fprintf(stderr, "%s\n", EstimateText(estimate, plan.cells.size()).c_str());
    for (const auto& g : gave_up) std::fprintf(stderr, "budget %s: gives up %s\n", o.budget.c_str(), g.c_str());
  }
  StoreSink sink(store, run_id);
  run::Progress progress(static_cast<int>(plan.tasks.size()), !o.quiet);
  run::RunTotals totals;
  try {
    run::RunLimits limits{budget, estimate.validation_s};
    totals = run::RunPlan(plan, launch.launch, sink, progress, limits);
  } catch (...) {
    store.FinishRun(run_id, false);  // the database stays consistent; the run is marked incomplete
    throw;
  }
  bool validations_ok = true;
  if (experiment.validate && !o.no_validate && !totals.interrupted) {
    validations_ok = RunValidations(plan, launch, store, run_id);
  }
  store.FinishRun(run_id, !Interrupted());
  totals.interrupted = totals.interrupted || Interrupted();

  auto cells = store::GetCells(store.db(), run_id);
  std::printf("\nrun %lld (%s): %s\n\n", static_cast<long long>(run_id), experiment.name.c_str(),
              totals.interrupted ? "interrupted, incomplete" : "complete");
  std::fputs(VerdictBlock(store.db(), run_id, experiment.compare_by).c_str(), stdout);
  std::fputs(report::CellTable(cells).c_str(), stdout);
  if (auto d = report::DatasetTable(cells); !d.empty()) std::printf("\n%s", d.c_str());
  if (auto g = GenerationTable(store.db(), cells); !g.empty()) std::printf("\n%s", g.c_str());
  if (auto v = report::ValidationSummary(store::GetValidations(store.db(), run_id)); !v.empty()) {
    std::printf("\n");
    std::fputs(v.c_str(), stdout);
  }
  if (auto problems = report::Problems(cells); !problems.empty()) {
    std::printf("\n");
    std::fputs(problems.c_str(), stdout);
  }
  std::printf("\nstored in %s as run %lld; details: dlbench show %lld --db %s\n", o.db.c_str(),
              static_cast<long long>(run_id), static_cast<long long>(run_id), o.db.c_str());
  if (totals.interrupted) {
    PrintError(fmt::format("interrupted; run {} is stored as incomplete with {} finished repetitions",
                           run_id, totals.repetitions_ok + totals.repetitions_failed +
                                       totals.repetitions_unsupported));
    return ExitCode::kInterrupted;
  }
  return totals.repetitions_failed > 0 || !validations_ok ? ExitCode::kSomeFailed : ExitCode::kDone;
}

}  // namespace

void AddRunCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand(
      "run", "Run an experiment file: every cell x repetition in a fresh worker process");
  auto o = std::make_shared<RunOptions>();
  cmd->add_option("FILE", o->file, "experiment file (TOML)")->required();
  cmd->add_option("--db", o->db, "SQLite database to store results in")->capture_default_str();
  cmd->add_option("--filter", o->filters,
                  "keep cells whose KEY has one of the values: KEY=V1[,V2...]; KEY is framework, "
                  "model, batch, precision, device, workload, layout, variant, environment or profile");
  cmd->add_flag("--dry-run", o->dry_run, "print the planned cells and the estimated duration, and exit");
  cmd->add_flag("-q,--quiet", o->quiet, "no progress lines");
  cmd->add_flag("--no-validate", o->no_validate,
                "skip the output validation that the experiment's validate = true asks for");
  cmd->add_option("--python", o->python,
                  "Python interpreter that has the frameworks (default: $DLBENCH_PYTHON, then the "
                  "source tree's .venv, then python3)");
  cmd->add_option("--budget", o->budget,
                  "fit the run into this much time (8m, 90s, 1h30m): shorter measurement caps if "
                  "the minimum design needs it, precision rounds only while time is left; refused "
                  "when even the minimum cannot fit");
  cmd->add_option("--shard", o->shard,
                  "run only part I of N of the experiment (I counts from 0): cells split by "
                  "estimated cost, compared cells together, the same split on every host; merge "
                  "the shards' databases with dlbench merge");
  cmd->add_option("--sweep", o->sweep,
                  "with --shard: the name the shards of one sweep share (default: a hash of the "
                  "experiment file, the filters and N)");
  cmd->add_option("--compile-cache", o->compile_cache,
                  "root of the per-cell compile caches (JAX, torch inductor, Triton): DIR is kept "
                  "and reused by later runs, none turns them off; default: a fresh temporary "
                  "directory removed after the run");
  cmd->callback([o, &result] { result = RunCommand(*o); });
}

}  // namespace dlb::cli
