// dlbench show RUN [--cell N]: a stored run's summary, or one cell's every repetition with its
// numeric settings, environment, command line and log.
#include <fmt/format.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/comparisons.h"
#include "cli/generation.h"
#include "report/summary.h"
#include "store/export.h"
#include "store/query.h"
#include "store/store.h"
#include "util/error.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

struct ShowOptions {
  std::string run = "latest";
  std::string db = kDefaultDb;
  int cell = -1;
  int log_lines = 20;
};

// Everything show prints is stored text from outside (names, messages, a worker's log): its
// control characters are shown as escapes, never obeyed (an OSC title or a clear-screen in a log).
// Lines stay lines; a name is escaped whole with TerminalSafe, newlines included.
template <typename... Args>
void Print(fmt::format_string<Args...> format, Args&&... args) {
  std::string text = fmt::format(format, std::forward<Args>(args)...);
  std::fputs(TerminalSafe(text, true).c_str(), stdout);
}

std::string LastLines(const std::string& text, int n) {
  auto lines = Split(text, '\n');
  while (!lines.empty() && Trim(lines.back()).empty()) lines.pop_back();
  size_t from = lines.size() > static_cast<size_t>(n) ? lines.size() - n : 0;
  std::string out;
  for (size_t i = from; i < lines.size(); ++i) out += "    | " + lines[i] + "\n";
  return out;
}

std::string Pretty(const std::optional<std::string>& json_text) {
  if (!json_text) return "-";
  auto j = nlohmann::json::parse(*json_text, nullptr, false);
  return j.is_discarded() ? *json_text : j.dump();
}

template <typename T>
std::string Or(const std::optional<T>& v, const char* unit = "") {
  return v ? fmt::format("{}{}", *v, unit) : "-";
}

void ShowCell(store::Db& db, const store::CellRow& c, int log_lines) {
  Print("cell {} {}\n  status: {}{}\n  config: {}\n", c.cell_idx, TerminalSafe(c.key), c.status,
        c.message ? " (" + TerminalSafe(*c.message) + ")" : "", c.config_json);
  for (const auto& r : store::GetRepetitions(db, c.cell_id)) {
    Print("\n  repetition {} (position {} in the run order): {}", r.rep_idx, r.order_idx, r.status);
    if (r.error_kind) Print(" [{}] during {}: {}", *r.error_kind, r.phase.value_or("?"), TerminalSafe(r.message.value_or("")));
    Print("\n    started {} finished {}; exit {}{}\n", r.started_at, r.finished_at,
               Or(r.exit_code), r.term_signal ? fmt::format(" signal {}", *r.term_signal) : "");
    Print("    command: {}\n    launch prefix: {}\n    environment: {} (+{} bytes of padding)\n",
               r.worker_argv, r.launch_prefix, r.env_json, r.env_padding_bytes);
    Print("    worker: {}\n", Pretty(r.hello_json));
    Print("    settings read back: {}\n", Pretty(r.settings_json));
    Print("    parameters {}, FLOPs/sample {}; load {} s, compile {} s, first call {} s\n",
               Or(r.parameters), Or(r.flops_per_sample), Or(r.load_s), Or(r.compile_s),
               Or(r.first_call_s));
    Print("    timer overhead {} ns, sync overhead {} ns\n", Or(r.timer_overhead_ns),
               Or(r.sync_overhead_ns));
    Print("    warm-up {} iterations ({}); {} samples, {} ({}), median {} ± {:.2f}%\n",
               r.warmup_iterations, r.warmup_settled ? "settled" : "not settled", r.n_samples,
               r.converged ? "converged" : "not converged", r.stop_reason.value_or("-"),
               r.median_ns ? FormatNs(*r.median_ns) : "-", r.rel_ci.value_or(NAN) * 100);
    if (r.gate_status) {
      Print("    GPU temperature gate: {}, {} °C at start, waited {:.0f} s\n", *r.gate_status,
                 Or(r.gpu_temperature_c), r.gate_wait_s);
    }
    if (r.block_iterations > 1 || r.near_overhead) {
      Print("    timed in blocks of {} iterations{}\n", r.block_iterations,
                 r.near_overhead ? "; FLAGGED: median within 100x of the harness overhead" : "");
    }
    if (r.window_ns) {
      Print("    pipelined window: {} iterations in {}\n", Or(r.window_iterations),
                 FormatNs(static_cast<double>(*r.window_ns)));
    }
    Print("    peak RSS {}, peak device memory {} (framework){}\n",
               r.peak_rss_bytes ? FormatBytes(static_cast<double>(*r.peak_rss_bytes)) : "-",
               r.peak_device_bytes ? FormatBytes(static_cast<double>(*r.peak_device_bytes)) : "-",
               r.peak_device_bytes_nvml
                   ? ", " + FormatBytes(static_cast<double>(*r.peak_device_bytes_nvml)) +
                         " (NVML, the worker's processes)"
                   : std::string());
    if (r.profile_check) Print("    profile check: {}\n", *r.profile_check);
    if (r.quiet_gate) {
      Print("    quiet gate: {} after {}\n", *r.quiet_gate, FormatDuration(r.quiet_wait_s.value_or(0)));
    }
    if (r.other_cpu_frac) {
      const double threshold = r.contention_threshold.value_or(0.10) * 100;
      Print("    neighbours while timed: other processes {:.1f}% of the worker's CPUs, steal {:.1f}%, "
            "load average {}{}{}\n",
            *r.other_cpu_frac * 100, r.steal_frac.value_or(0) * 100,
            r.load_avg_1m ? fmt::format("{:.2f}", *r.load_avg_1m) : "-",
            r.excluded_chunks.value_or(0) > 0
                ? fmt::format("; {} chunks above {:g}% left out of the estimate", *r.excluded_chunks, threshold)
                : "",
            r.contaminated.value_or(0)
                ? fmt::format("; CONTAMINATED ({}), left out of the verdicts",
                              r.contention_policy.value_or("record") == "exclude"
                                  ? "too few clean samples"
                                  : fmt::format("above {:g}%", threshold))
                : "");
    }
    if (r.replaces_rep_idx) Print("    replaces repetition {}, which was contaminated\n", *r.replaces_rep_idx);
    // Every figure whose registry row has a label (store/query.cc), without code of its own here.
    for (const auto& column : store::kRepetitionColumns) {
      if (column.out.label.empty()) continue;
      if (auto v = store::NumericValue(r, column)) {
        Print("    {}: {}\n", column.out.label, store::FigureText(*v, column.out.unit));
      }
    }
    for (const auto& e : store::GetTrainingEpochs(db, r.repetition_id)) {
      Print("    {} epoch {}: {}, mean loss {:.4g}, held-out accuracy {:.1f}%\n",
            c.dataset.value_or("dataset"), e.epoch_idx + 1,
            FormatDuration(static_cast<double>(e.epoch_ns) * 1e-9), e.train_loss, e.accuracy * 100);
    }
    auto telemetry = store::GetTelemetry(db, r.repetition_id);
    Print("    telemetry: {} readings; GPU {}; CPU {}\n", telemetry.size(),
               r.gpu_telemetry.value_or("-"), r.cpu_telemetry.value_or("-"));
    if (r.max_temperature_c || r.throttle_reasons) {
      Print("    GPU: hottest {} °C; slowdown reasons while measuring: {}\n",
                 Or(r.max_temperature_c), r.throttle_reasons.value_or("-"));
    }
    auto windows = store::GetEnergyWindows(db, r.repetition_id);
    if (r.energy_per_sample_j) {
      Print("    energy ({}): {:.4g} J per sample, average {:.4g} W over {} windows:\n",
                 r.energy_source.value_or("-"), *r.energy_per_sample_j, r.avg_power_w.value_or(NAN),
                 windows.size());
      for (const auto& w : windows) {
        Print("      window {}: {} iterations in {}, {:.4g} J, {:.4g} W{}{}\n", w.window_idx,
                   w.iterations, FormatNs(static_cast<double>(w.duration_ns)), w.energy_j,
                   w.avg_power_w,
                   w.sm_clock_mhz ? fmt::format(", SM {:.0f} MHz", *w.sm_clock_mhz) : "",
                   w.max_temperature_c ? fmt::format(", {} °C", *w.max_temperature_c) : "");
      }
    } else {
      Print("    energy: {}\n", r.energy_note.value_or("-"));
    }
    if (!r.log.empty()) Print("    log (last {} lines):\n{}", log_lines, LastLines(r.log, log_lines));
  }
}

ExitCode Show(const ShowOptions& o) {
  auto store = store::Store::OpenExisting(o.db);
  int64_t run_id = store::ResolveRun(store.db(), o.run);
  store::RunRow run = store::GetRun(store.db(), run_id);
  auto cells = store::GetCells(store.db(), run_id);
  if (o.cell >= 0) {
    for (const auto& c : cells) {
      if (c.cell_idx == o.cell) {
        ShowCell(store.db(), c, o.log_lines);
        return ExitCode::kDone;
      }
    }
    throw UserError(fmt::format("run {} has no cell {}; allowed: 0 to {}", run_id, o.cell,
                                static_cast<int>(cells.size()) - 1));
  }
  Print("run {}: experiment {} ({})\n", run.run_id, TerminalSafe(run.experiment),
        TerminalSafe(run.experiment_file));
  Print("status {}; started {}, finished {}\n", run.status, run.started_at,
             run.finished_at.value_or("-"));
  Print("host {}; dlbench {} ({}); order {}, seed {}, {} repetitions, cooldown {} s\n",
             run.host, run.dlbench_version, run.dlbench_revision, run.order_kind, run.seed,
             run.repetitions, run.cooldown_s);
  Print("uuid {}{}{}\n", run.run_uuid,
        run.sweep_id.empty() ? "" : fmt::format("; shard {}/{} of sweep {} (compare and check read "
                                                "every shard of it in this file)",
                                                run.shard_index, run.shard_count, TerminalSafe(run.sweep_id)),
        run.merged_from ? "; merged from " + TerminalSafe(*run.merged_from) : "");
  Print("host facts: {}\ncommand: {}\n\n", run.host_json, run.command_line);
  CompareQuery q;
  q.runs = {run_id};
  q.axes = {run.compare_by};
  Comparisons verdicts = CompareStored(store.db(), q);
  if (!verdicts.results.empty()) {
    Print("verdicts by {}, over repetitions:\n{}\n", run.compare_by, VerdictSentences(verdicts));
  }
  if (auto busy = ContentionSummary(store.db(), {run_id}); !busy.empty()) Print("{}\n\n", busy);
  Print("{}", report::CellTable(cells));
  if (auto d = report::DatasetTable(cells); !d.empty()) Print("\n{}", d);
  if (auto g = GenerationTable(store.db(), cells); !g.empty()) Print("\n{}", g);
  for (const auto& sweep : SweepsOf(store.db(), run_id, cells)) {
    Print("\nrate sweep: {}; limits {}\n{}answer: the largest rate with {}: {}\n", TerminalSafe(sweep.label),
          sweep.limits, SweepText(sweep), sweep.limits, sweep.answer);
  }
  if (auto v = report::ValidationSummary(store::GetValidations(store.db(), run_id)); !v.empty()) {
    Print("\n{}", v);
  }
  for (const auto& c : cells) {
    if (c.contaminated_repetitions.value_or(0) > 0) {
      Print("\ncell {} {}: {} of {} repetitions CONTAMINATED (measured beside other processes; left "
            "out of the verdicts{}; --cell {} has the figures)\n",
            c.cell_idx, TerminalSafe(c.key), *c.contaminated_repetitions, c.repetitions_ok,
            c.replaced_repetitions.value_or(0) > 0
                ? fmt::format(", {} replaced", *c.replaced_repetitions)
                : "",
            c.cell_idx);
    }
    const std::string never = report::NeverRan(c);
    if ((c.status == "ok" || c.status == "pending") && never.empty()) continue;
    Print("\ncell {} {}: {}{}\n", c.cell_idx, TerminalSafe(c.key), report::ShownStatus(c),
          never.empty() ? "" : " (" + never + ")");
    for (const auto& r : store::GetRepetitions(store.db(), c.cell_id)) {
      if (r.status == "ok") continue;
      Print("  repetition {}: {} [{}] during {}: {}\n", r.rep_idx, r.status,
            r.error_kind.value_or("-"), r.phase.value_or("-"), TerminalSafe(r.message.value_or("")));
      if (!r.log.empty()) Print("{}", LastLines(r.log, 8));
    }
  }
  return ExitCode::kDone;
}

}  // namespace

void AddShowCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand("show", "Show a stored run: cells, statistics, failures and logs");
  auto o = std::make_shared<ShowOptions>();
  cmd->add_option("RUN", o->run, "run id from `dlbench list`, or latest")->capture_default_str();
  cmd->add_option("--db", o->db, "SQLite database")->capture_default_str();
  cmd->add_option("--cell", o->cell,
                  "show one cell's repetitions: settings read back, environment, command, log");
  cmd->add_option("--log-lines", o->log_lines, "log lines per repetition with --cell")
      ->capture_default_str();
  cmd->callback([o, &result] { result = Show(*o); });
}

}  // namespace dlb::cli
