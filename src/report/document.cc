#include "report/document.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "analysis/peaks.h"
#include "plan/catalog.h"
#include "report/escape.h"
#include "report/headline.h"
#include "stats/descriptive.h"
#include "report/plots.h"
#include "report/summary.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/strings.h"

namespace dlb::report {
namespace {

namespace fs = std::filesystem;

// One table, rendered as HTML, Markdown, booktabs LaTeX and CSV. Cells hold raw (unescaped) text.
struct Table {
  std::string name, caption;
  std::vector<std::string> header;
  std::vector<bool> right;
  std::vector<std::vector<std::string>> rows;
};

template <typename T>
std::string Opt(const std::optional<T>& v, const std::string& fmt_spec = "{}") {
  return v ? fmt::format(fmt::runtime(fmt_spec), *v) : "-";
}

std::string Ns(const std::optional<double>& v) { return v ? FormatNs(*v) : "-"; }
std::string Bytes(const std::optional<int64_t>& v) {
  return v ? FormatBytes(static_cast<double>(*v)) : "-";
}

bool Ok(const store::CellRow& c) { return c.status == "ok" || c.status == "partial"; }

std::string CellName(const ReportCell& rc, bool multi_run) {
  std::string s =
      rc.cell.model + " bs" + std::to_string(rc.cell.batch) + " " + SeriesLabel(rc.cell);
  return multi_run ? fmt::format("run {}: {}", rc.run_id, s) : s;
}

// A reason repeated in every row of a column ("unavailable: no /sys/class/powercap ...", "not in
// table: <CPU name>") says one thing once: the column shows "-" and the caption says it.
void NoteRepeatedUnavailable(Table& t) {
  struct Column {
    size_t idx;
    std::string prefix, sentence;
  };
  for (const Column& col : {Column{7, "unavailable: ", "Energy per sample is unavailable for every cell: {}."},
                            Column{5, "not in table: ", "No datasheet peak for {} (docs/peaks.md), so no utilization."}}) {
    if (t.rows.empty()) break;
    const std::string& first = t.rows[0][col.idx];
    if (!first.starts_with(col.prefix)) continue;
    bool same = std::all_of(t.rows.begin(), t.rows.end(),
                            [&](const auto& row) { return row[col.idx] == first; });
    if (!same) continue;
    t.caption += " " + fmt::format(fmt::runtime(col.sentence), first.substr(col.prefix.size()));
    for (auto& row : t.rows) row[col.idx] = "-";
  }
}

// For the documents people read (HTML, Markdown, LaTeX): columns that are "-" in every row are left
// out and the caption names them, so a CPU-only run's tables fit a page. CSV keeps every column.
Table Compact(const Table& t) {
  if (t.rows.empty()) return t;
  std::vector<size_t> keep;
  std::vector<std::string> dropped;
  for (size_t i = 0; i < t.header.size(); ++i) {
    bool empty = i > 0 && std::all_of(t.rows.begin(), t.rows.end(),
                                      [&](const auto& row) { return row[i] == "-"; });
    if (empty) {
      dropped.push_back(t.header[i]);
    } else {
      keep.push_back(i);
    }
  }
  if (dropped.empty()) return t;
  Table out{t.name, t.caption + " Without a value in any row: " + Join(dropped, ", ") + ".", {}, {}, {}};
  for (size_t i : keep) {
    out.header.push_back(t.header[i]);
    out.right.push_back(i < t.right.size() && t.right[i]);
  }
  for (const auto& row : t.rows) {
    std::vector<std::string> r;
    for (size_t i : keep) r.push_back(row[i]);
    out.rows.push_back(std::move(r));
  }
  return out;
}

// BuildTables' order: throughput, latency, memory, efficiency, training, generation, sweep, then
// the speedups, which go under the findings.
constexpr size_t kSpeedups = 7;

// Tables of one workload's cells, left out where no cell has rows (the others are written empty).
bool Optional(const Table& t) { return t.name == "training" || t.name == "generation" || t.name == "sweep"; }

std::vector<Table> BuildTables(const ReportInput& in) {
  bool multi = in.runs.size() > 1;
  Table thr{"throughput",
            "Throughput (samples/s) at the median latency, with the median's 95% confidence "
            "interval; the mean throughput is batch / mean latency",
            {"cell", "status", "reps ok", "samples", "median latency", "median CI",
             "throughput (samples/s)", "throughput CI", "mean throughput (samples/s)"},
            {false, false, true, true, true, true, true, true, true},
            {}};
  Table lat{"latency",
            "Latency percentiles per call: one forward for inference cells, one whole training step "
            "(forward, loss, backward, optimizer) for training cells, on synthetic inputs already "
            "on the device, so data loading is excluded (tail percentiles only with enough samples)",
            {"cell", "min", "p50", "p90", "p95", "p99", "max", "mean", "std"},
            {false, true, true, true, true, true, true, true, true},
            {}};
  Table mem{"memory",
            "Peak memory and start-up times; for training cells the parameters' and the optimizer "
            "state's bytes as the worker counted them",
            {"cell", "peak host RSS", "peak device", "parameters", "parameter bytes",
             "optimizer state", "load (s)",
             "compile, 1st rep (s)", "compile, later (s)", "first call (s)"},
            {false, true, true, true, true, true, true, true, true, true},
            {}};
  for (const auto& rc : in.cells) {
    const auto& c = rc.cell;
    if (!Ok(c)) continue;
    std::string name = CellName(rc, multi);
    std::string tci = "-";
    if (c.median_ci_lo_ns && c.median_ci_hi_ns && *c.median_ci_lo_ns > 0) {
      tci = fmt::format("{:.4g} to {:.4g}", c.batch * 1e9 / *c.median_ci_hi_ns,
                        c.batch * 1e9 / *c.median_ci_lo_ns);
    }
    std::string mci = c.median_ci_lo_ns && c.median_ci_hi_ns
                          ? FormatNs(*c.median_ci_lo_ns) + " to " + FormatNs(*c.median_ci_hi_ns)
                          : "-";
    thr.rows.push_back(
        {name, c.status, fmt::format("{}/{}", c.repetitions_ok, c.repetitions_run),
         Opt(c.n_samples), Ns(c.p50_ns), mci,
         c.p50_ns && *c.p50_ns > 0 ? fmt::format("{:.4g}", c.batch * 1e9 / *c.p50_ns) : "-", tci,
         Opt(c.throughput_sps, "{:.4g}")});
    int64_t n = c.n_samples.value_or(0);
    auto tail = [&](const std::optional<double>& v, int64_t min_n) {
      return n >= min_n ? Ns(v) : fmt::format("(n<{})", min_n);
    };
    lat.rows.push_back({name, Ns(c.min_ns), Ns(c.p50_ns), tail(c.p90_ns, stats::kMinSamplesP90),
                        tail(c.p95_ns, stats::kMinSamplesP95), tail(c.p99_ns, stats::kMinSamplesP99),
                        Ns(c.max_ns), Ns(c.mean_ns), Ns(c.std_ns)});
    auto settings = nlohmann::json::parse(c.settings_json.value_or("{}"), nullptr, false);
    auto setting_bytes = [&](const char* key) -> std::optional<int64_t> {
      if (settings.is_object() && settings.contains(key) && settings[key].is_number_integer()) {
        return settings[key].get<int64_t>();
      }
      return std::nullopt;
    };
    mem.rows.push_back({name, Bytes(c.peak_rss_bytes), Bytes(c.peak_device_bytes),
                        Opt(c.parameters), Bytes(setting_bytes("parameter_bytes")),
                        Bytes(setting_bytes("optimizer_state_bytes")), Opt(c.load_s, "{:.3g}"),
                        Opt(rc.compile_cold_s, "{:.3g}"), Opt(rc.compile_warm_s, "{:.3g}"),
                        Opt(c.first_call_s, "{:.3g}")});
  }
  Table eff{"efficiency",
            "Numeric profile, achieved FLOP/s against the device's datasheet peak for the math the "
            "cell ran (docs/peaks.md; pipelined throughput where measured), and energy per input "
            "sample with its 95% CI over repetitions (docs/telemetry.md)",
            {"cell", "profile", "profile check", "math", "achieved TFLOP/s", "peak TFLOP/s",
             "utilization", "energy J/sample", "energy 95% CI", "avg power W", "throttled reps"},
            {false, false, false, false, true, true, true, true, true, true, true},
            {}};
  for (const auto& rc : in.cells) {
    const auto& c = rc.cell;
    if (!Ok(c)) continue;
    std::string math = analysis::MathMode(c.precision, c.settings_json.value_or("{}"), c.device,
                                          plan::DominantFlopOp(c.model));
    std::optional<double> rate = c.window_throughput_sps ? c.window_throughput_sps : c.throughput_sps;
    std::optional<double> achieved;
    if (rate && c.flops_per_sample) achieved = *rate * static_cast<double>(*c.flops_per_sample);
    std::string device_name = analysis::DeviceNameFromHello(c.hello_json.value_or("{}"), c.device);
    const analysis::DevicePeak* peak = analysis::FindDevicePeak(device_name);
    double peak_flops = 0;  // 0: no peak for this device and math
    if (peak) peak_flops = analysis::PeakFlops(*peak, math).value_or(0);
    std::string check = c.profile.empty()               ? "-"
                        : c.profile_deviations.value_or(0) == 0 ? "ok"
                        : fmt::format("{} rep(s) deviate (see dlbench show)", *c.profile_deviations);
    std::string energy = c.energy_per_sample_j ? fmt::format("{:.4g}", *c.energy_per_sample_j)
                         : c.energy_note       ? "unavailable: " + *c.energy_note
                                               : "-";
    eff.rows.push_back(
        {CellName(rc, multi), c.profile.empty() ? "-" : c.profile, check, math,
         achieved ? fmt::format("{:.4g}", *achieved / 1e12) : "-",
         peak_flops > 0 ? fmt::format("{:.4g} ({})", peak_flops / 1e12, peak->name)
                    : (device_name.empty() ? "-" : "not in table: " + device_name),
         achieved && peak_flops > 0 ? fmt::format("{:.1f}%", 100 * *achieved / peak_flops) : "-",
         energy,
         c.energy_ci_lo_j && c.energy_ci_hi_j
             ? fmt::format("{:.4g} to {:.4g}", *c.energy_ci_lo_j, *c.energy_ci_hi_j)
             : "-",
         Opt(c.avg_power_w, "{:.4g}"), Opt(c.throttled_repetitions)});
  }
  NoteRepeatedUnavailable(eff);
  Table training{"training",
                 "Training on a real dataset, fed in the same order to every framework from the "
                 "weights the cell loaded: time per epoch (the median over repetitions of each "
                 "one's mean epoch, each batch's copy to the device included) and accuracy on the "
                 "held-out images after the last epoch (mean over repetitions)",
                 {"cell", "dataset", "epochs", "time per epoch (s)", "accuracy"},
                 {false, false, true, true, true},
                 {}};
  for (const auto& rc : in.cells) {
    const auto& c = rc.cell;
    if (!Ok(c) || !c.dataset) continue;
    training.rows.push_back({CellName(rc, multi), *c.dataset, Opt(c.epochs),
                             Opt(c.epoch_s, "{:.3g}"),
                             c.accuracy ? fmt::format("{:.1f}%", *c.accuracy * 100) : "-"});
  }
  Table gen{"generation",
            std::string("Generation, from each request's stored token timestamps (ms): output tokens/s "
                        "over the median generate, time to first token, time per output token and "
                        "inter-token latency. ") + kGenerationDefinitions,
            {"cell", "reps", "requests", "tokens/s", "TTFT p50 [95% CI]", "TPOT p50 [95% CI]",
             "ITL p50", "ITL p99"},
            {false, true, true, true, true, true, true, true},
            {}};
  for (const auto& rc : in.cells) {
    if (!Ok(rc.cell) || !rc.generation) continue;
    const GenerationFigures& g = *rc.generation;
    gen.rows.push_back({CellName(rc, multi), std::to_string(g.repetitions), std::to_string(g.requests),
                        Opt(g.tokens_per_s, "{:.4g}"), g.ttft_p50, g.tpot_p50, g.itl_p50, g.itl_p99});
  }
  std::vector<std::string> answers;
  for (const SweepFigures& w : in.sweeps) {
    answers.push_back(fmt::format("run {} ({}): the largest rate with {}: {}", w.run_id, w.label, w.limits, w.answer));
  }
  Table sweep{"sweep",
              "Rate sweeps: the same seeded open-loop load at each rate, judged from each p99's distribution-free "
              "95% interval (meets when it lies under the limit, fails when above, undecided otherwise; a rate "
              "with failed requests never meets). " + Join(answers, "; "),
              {"run", "rate (req/s)", "achieved", "p99 TTFT from due (ms) [95% CI]", "p99 TPOT (ms) [95% CI]",
               "tokens/s", "requests/s", "goodput/s", "verdict"},
              {true, true, true, true, true, true, true, true, false},
              {}};
  for (const SweepFigures& w : in.sweeps) {
    for (const SweepRow& r : w.rows) {
      sweep.rows.push_back({std::to_string(w.run_id), FormatFigure(r.rate), Opt(r.achieved, "{:.4g}"), r.ttft_p99,
                            r.tpot_p99, Opt(r.tokens_per_s, "{:.4g}"), Opt(r.requests_per_s, "{:.4g}"),
                            Opt(r.goodput_per_s, "{:.4g}"), r.verdict});
    }
  }
  Table sp{"speedups",
           "Comparisons over repetitions: B/A latency ratio with its 95% interval (Welch on the log medians)",
           {"model", "batch", "precision", "A", "B", "median A", "median B", "B/A", "95% CI",
            "reps", "verdict"},
           {false, true, false, false, false, true, true, true, true, true, false},
           {}};
  for (const auto& f : in.findings) {
    sp.rows.push_back({f.model, std::to_string(f.batch), f.precision, f.a, f.b,
                       FormatNs(f.median_a_ns), FormatNs(f.median_b_ns),
                       fmt::format("{:.3f}", f.ratio),
                       f.ci ? fmt::format("[{:.3f}, {:.3f}]", f.ci->lo, f.ci->hi) : "-",
                       fmt::format("{}/{}", f.reps_a, f.reps_b), f.verdict});
  }
  return {thr, lat, mem, eff, training, gen, sweep, sp};
}

Table Validations(const ReportInput& in) {
  Table t{"validation",
          "Output validation recorded with the run",
          {"model", "precision", "A", "B", "status", "inputs", "max abs err", "max rel err",
           "cosine", "top-1 agree", "tolerance", "note"},
          {false, false, false, false, false, true, true, true, true, true, true, false},
          {}};
  for (const auto& v : in.validations) {
    std::string note =
        v.status == "error"
            ? "could not be compared: " + v.message.value_or("")
        : v.workload == "training"
            ? fmt::format("training, {} steps: losses agree to {} (tolerance {}), weights to {} of "
                          "the distance trained (tolerance {}): {}",
                          Opt(v.steps), Opt(v.max_loss_err, "{:.2g}"),
                          Opt(v.loss_tolerance, "{:.0e}"), Opt(v.weights_err, "{:.2g}"),
                          Opt(v.weights_tolerance, "{:.0e}"), v.status == "pass" ? "pass" : "FAIL")
            : fmt::format("outputs agree to {} of the output scale (tolerance {}): {}",
                          Opt(v.max_rel_err, "{:.2g}"), Opt(v.tolerance, "{:.0e}"),
                          v.status == "pass" ? "pass" : "FAIL");
    t.rows.push_back({v.model, v.precision, v.framework_a, v.framework_b.value_or("(reference)"),
                      v.status, std::to_string(v.inputs), Opt(v.max_abs_err, "{:.3g}"),
                      Opt(v.max_rel_err, "{:.3g}"), Opt(v.cosine, "{:.6f}"),
                      Opt(v.top1_agreement, "{:.3f}"), Opt(v.tolerance, "{:.3g}"), note});
  }
  return t;
}

Table Problems(const ReportInput& in) {
  Table t{"problems",
          "Cells that failed, are unsupported or did not run all their repetitions, and "
          "repetitions measured beside busy neighbours, with their reasons",
          {"cell", "status", "repetition", "error kind", "phase", "reason"},
          {false, false, true, false, false, false},
          {}};
  bool multi = in.runs.size() > 1;
  for (const auto& rc : in.cells) {
    for (const auto& [rep, share] : rc.contaminated) {
      t.rows.push_back({CellName(rc, multi), "contaminated", std::to_string(rep), "-", "measure",
                        fmt::format("other processes took {:.0f}% of the worker's CPUs while it was "
                                    "timed (above 10%)", share * 100)});
    }
    // Repetitions that never ran (the run was interrupted or its controller killed) are named.
    if (std::string never = NeverRan(rc.cell); !never.empty()) {
      const int64_t first = rc.cell.repetitions_run, last = rc.cell.repetitions_planned - 1;
      t.rows.push_back({CellName(rc, multi), ShownStatus(rc.cell),
                        first == last ? std::to_string(first) : fmt::format("{}-{}", first, last),
                        "-", "-", never});
    }
    if (Ok(rc.cell) && rc.failed_reps.empty()) continue;
    if (rc.cell.status == "pending") continue;
    if (rc.failed_reps.empty()) {
      t.rows.push_back(
          {CellName(rc, multi), rc.cell.status, "-", "-", "-", rc.cell.message.value_or("")});
    }
    for (const auto& r : rc.failed_reps) {
      t.rows.push_back({CellName(rc, multi), rc.cell.status, std::to_string(r.rep_idx),
                        r.error_kind.value_or("-"), r.phase.value_or("-"),
                        r.message.value_or(rc.cell.message.value_or(""))});
    }
  }
  return t;
}

std::vector<std::string> FindingSentences(const ReportInput& in) {
  std::vector<std::string> out;
  for (const auto& f : in.findings) {
    std::string s = fmt::format("{} bs{} {} ({}): {} vs {}: B/A latency {:.3f}", f.model, f.batch,
                                f.precision, f.axis, f.b, f.a, f.ratio);
    if (f.ci) s += fmt::format(" (95% CI {:.3f} to {:.3f})", f.ci->lo, f.ci->hi);
    s += fmt::format("; medians {} vs {} over {} and {} repetitions: {}.", FormatNs(f.median_a_ns),
                     FormatNs(f.median_b_ns), f.reps_a, f.reps_b, f.verdict);
    if (!f.settings_note.empty()) {
      s += " The two sides ran with different numeric settings (" + f.settings_note +
           "), so part of the difference may come from these settings rather than from the "
           "framework itself.";
    }
    out.push_back(s);
  }
  return out;
}

const char* kNotMeasured =
    "Roofline: dlbench does not measure the bytes a model moves, so there is no roofline plot "
    "(achieved FLOP/s against arithmetic intensity); utilization against the datasheet peak is in "
    "the efficiency table.";


// ---- The opening: the answer first (report/headline.h), with the one plot that shows it ----
const Plot* LeadPlot(const PlotSet& plots) {
  for (const auto& p : plots.plots) {
    if (p.file == "findings") return &p;
  }
  for (const auto& p : plots.plots) {
    if (p.file.starts_with("throughput-")) return &p;
  }
  return nullptr;
}

struct AnswerList {
  const char* title;
  const std::vector<std::string>* items;
  size_t more;
};

std::vector<AnswerList> AnswerLists(const Headline& h) {
  return {{"Won", &h.won, h.more_won},
          {"Equivalent", &h.equivalent, h.more_equivalent},
          {"Not decided", &h.undecided, h.more_undecided}};
}

std::string AnswerHtml(const Headline& h, const Plot* lead) {
  std::string s = "<section id=\"answer\"><h2>The answer</h2><div class=\"lead\"><div class=\"lead-text\">\n";
  for (const auto& c : h.compared) s += "<p>" + HtmlEscape(c) + "</p>\n";
  if (!h.contention.empty()) s += "<p class=\"rec\"><b>Busy machine.</b> " + HtmlEscape(h.contention) + "</p>\n";
  if (!h.recommendation.empty()) {
    s += "<p class=\"rec\"><b>Recommendation.</b> ";
    for (const auto& r : h.recommendation) s += HtmlEscape(r) + " ";
    s += "</p>\n";
  }
  for (const auto& l : AnswerLists(h)) {
    if (l.items->empty()) continue;
    s += fmt::format("<p class=\"lh\"><b>{}</b></p><ul>\n", l.title);
    for (const auto& x : *l.items) s += "<li>" + HtmlEscape(x) + "</li>\n";
    if (l.more > 0) s += fmt::format("<li>and {} more (Findings below)</li>\n", l.more);
    s += "</ul>\n";
  }
  if (!h.undecided_why.empty()) s += "<p>" + HtmlEscape(h.undecided_why) + "</p>\n";
  if (h.won.empty() && h.equivalent.empty() && h.undecided.empty()) {
    s += "<p>No two successful cells differ only in framework or variant, so nothing was "
         "compared.</p>\n";
  }
  for (const auto& b : h.best) s += "<p>" + HtmlEscape(b) + "</p>\n";
  s += "</div>\n";
  if (lead) {
    s += "<figure id=\"plot-" + HtmlEscape(lead->file) + "\">\n" + lead->svg + "\n<figcaption>" +
         HtmlEscape(lead->title) + " (plots/" + HtmlEscape(lead->file) + ".svg)</figcaption></figure>\n";
  }
  return s + "</div></section>\n";
}

std::string AnswerMd(const Headline& h, const Plot* lead) {
  std::string s = "## The answer\n\n";
  for (const auto& c : h.compared) s += MarkdownEscape(c) + "\n\n";
  if (!h.contention.empty()) s += "**Busy machine.** " + MarkdownEscape(h.contention) + "\n\n";
  if (!h.recommendation.empty()) {
    std::vector<std::string> r;
    for (const auto& x : h.recommendation) r.push_back(MarkdownEscape(x));
    s += "**Recommendation.** " + Join(r, " ") + "\n\n";
  }
  for (const auto& l : AnswerLists(h)) {
    if (l.items->empty()) continue;
    s += fmt::format("**{}**\n\n", l.title);
    for (const auto& x : *l.items) s += "- " + MarkdownEscape(x) + "\n";
    if (l.more > 0) s += fmt::format("- and {} more (Findings below)\n", l.more);
    s += "\n";
  }
  if (!h.undecided_why.empty()) s += MarkdownEscape(h.undecided_why) + "\n\n";
  for (const auto& b : h.best) s += MarkdownEscape(b) + "\n\n";
  if (lead) s += "![" + MarkdownEscape(lead->title) + "](plots/" + lead->file + ".svg)\n\n";
  return s;
}

// ---- HTML ----
std::string HtmlTable(const Table& full) {
  if (full.rows.empty()) return "";
  const Table t = Compact(full);
  std::string s = fmt::format("<table id=\"t-{}\"><caption>{}</caption><thead><tr>", t.name,
                              HtmlEscape(t.caption));
  for (const auto& h : t.header) s += "<th>" + HtmlEscape(h) + "</th>";
  s += "</tr></thead><tbody>\n";
  for (const auto& row : t.rows) {
    s += "<tr>";
    for (size_t i = 0; i < row.size(); ++i) {
      s += fmt::format("<td{}>{}</td>", i < t.right.size() && t.right[i] ? " class=\"r\"" : "",
                       HtmlEscape(row[i]));
    }
    s += "</tr>\n";
  }
  return s + "</tbody></table>\n";
}

std::string Kv(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string s = "<table class=\"kv\"><tbody>";
  for (const auto& [k, v] : kv)
    s += "<tr><th>" + HtmlEscape(k) + "</th><td>" + HtmlEscape(v) + "</td></tr>\n";
  return s + "</tbody></table>\n";
}

std::vector<std::pair<std::string, std::string>> RunFacts(const store::RunRow& r) {
  return {{"run", std::to_string(r.run_id)},
          {"experiment", r.experiment},
          {"experiment file", r.experiment_file},
          {"status", r.status},
          {"started", r.started_at},
          {"finished", r.finished_at.value_or("-")},
          {"host", r.host},
          {"dlbench", r.dlbench_version + " (revision " + r.dlbench_revision + ")"},
          {"command", r.command_line},
          {"order, seed", r.order_kind + ", " + std::to_string(r.seed)},
          {"repetitions, cooldown", fmt::format("{}, {} s", r.repetitions, r.cooldown_s)},
          {"cells", fmt::format("{} ({} ok, {} failed, {} unsupported)", r.cells, r.cells_ok,
                                r.cells_failed, r.cells_unsupported)},
          {"host facts", r.host_json}};
}

std::string Html(const ReportInput& in, const std::vector<Table>& tables, const Table& val,
                 const Table& prob, const PlotSet& plots) {
  const Plot* lead = LeadPlot(plots);
  std::string title =
      "dlbench report: " + (in.runs.empty() ? std::string("-") : in.runs.front().experiment);
  std::string s =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" +
      HtmlEscape(title) +
      "</title>\n<style>\n"
      "body{font-family:sans-serif;margin:2em auto;max-width:1100px;color:#222;line-height:1.4}\n"
      "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}\n"
      "th,td{border-bottom:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}\n"
      "td.r{text-align:right;font-variant-numeric:tabular-nums}caption{text-align:left;font-style:"
      "italic}\n"
      "table.kv "
      "td{word-break:break-all}pre{background:#f6f6f6;padding:0.8em;overflow:auto;font-size:0.85em}"
      "\n"
      "figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}figcaption{font-style:italic}\n"
      ".bad{color:#a40000}\n"
      "h1{margin:0 0 0.2em}#answer h2{margin:0.2em 0}.lead{display:flex;gap:1.5em;align-items:flex-start}"
      ".lead-text{flex:1 1 55%;font-size:0.95em}.lead-text ul{margin:0.2em 0;padding-left:1.2em}"
      ".lead-text p{margin:0.4em 0}.lead figure{flex:1 1 45%;margin:0}.rec{background:#eef5ee;padding:0.4em}\n"
      "</style></head><body>\n";
  s += "<h1>" + HtmlEscape(title) + "</h1>\n";
  s += AnswerHtml(BuildHeadline(in), lead);
  s += "<p>Written by <code>" + HtmlEscape(in.command) + "</code>.</p>\n";
  s += "<h2 id=\"environment\">Environment</h2>\n";
  for (const auto& r : in.runs) s += Kv(RunFacts(r));
  if (!in.versions.empty())
    s += "<h3>Framework versions (from the workers' hello)</h3>\n" + Kv(in.versions);
  s += "<h2 id=\"experiment\">Experiment</h2>\n";
  for (const auto& r : in.runs) {
    s += "<p>Experiment <b>" + HtmlEscape(r.experiment) + "</b> from <code>" +
         HtmlEscape(r.experiment_file) + "</code>:</p>\n<pre>" + HtmlEscape(r.experiment_toml) +
         "</pre>\n";
  }
  s += "<h2 id=\"summary\">Summary</h2>\n";
  for (size_t i = 0; i < kSpeedups; ++i) s += tables[i].rows.empty() ? "" : HtmlTable(tables[i]);
  if (tables[0].rows.empty())
    s += "<p>No cell succeeded, so there are no results to summarise.</p>\n";
  s += "<h2 id=\"findings\">Findings</h2>\n";
  auto sentences = FindingSentences(in);
  if (sentences.empty()) {
    s += "<p>No two successful cells differ only in framework or variant, so there is nothing to "
         "compare.</p>\n";
  } else {
    s += "<ul>\n";
    for (const auto& f : sentences) s += "<li>" + HtmlEscape(f) + "</li>\n";
    s += "</ul>\n<p>" + HtmlEscape(in.findings_method) + "</p>\n" + HtmlTable(tables[kSpeedups]);
  }
  s += "<h2 id=\"validation\">Validation</h2>\n";
  s += val.rows.empty() ? "<p>No output validation was recorded with this run.</p>\n"
                        : HtmlTable(val);
  s += "<h2 id=\"problems\">Failed, unsupported and unfinished cells</h2>\n";
  s += prob.rows.empty() ? "<p>Every cell succeeded.</p>\n"
                         : "<div class=\"bad\">" + HtmlTable(prob) + "</div>";
  s += "<h2 id=\"plots\">Plots</h2>\n";
  for (const auto& p : plots.plots) {
    if (&p == lead) continue;  // shown with the answer
    s += "<figure id=\"plot-" + HtmlEscape(p.file) + "\">\n" + p.svg + "\n<figcaption>" +
         HtmlEscape(p.title) + " (plots/" + HtmlEscape(p.file) + ".svg)</figcaption></figure>\n";
  }
  for (const auto& a : plots.absent) s += "<p>" + HtmlEscape(a) + "</p>\n";
  s += "<p>" + HtmlEscape(kNotMeasured) + "</p>\n</body></html>\n";
  return s;
}

// ---- Markdown ----
std::string MdTable(const Table& full) {
  if (full.rows.empty()) return "";
  const Table t = Compact(full);
  std::string s = "*" + MarkdownEscape(t.caption) + "*\n\n|";
  for (const auto& h : t.header) s += " " + MarkdownEscape(h) + " |";
  s += "\n|";
  for (size_t i = 0; i < t.header.size(); ++i)
    s += i < t.right.size() && t.right[i] ? " ---: |" : " --- |";
  s += "\n";
  for (const auto& row : t.rows) {
    s += "|";
    for (const auto& c : row) s += " " + MarkdownEscape(c) + " |";
    s += "\n";
  }
  return s + "\n";
}

std::string Markdown(const ReportInput& in, const std::vector<Table>& tables, const Table& val,
                     const Table& prob, const PlotSet& plots) {
  std::string s =
      "# dlbench report: " + MarkdownEscape(in.runs.empty() ? "-" : in.runs.front().experiment) +
      "\n\n" + AnswerMd(BuildHeadline(in), LeadPlot(plots)) + "Written by `" + in.command +
      "`.\n\n## Environment\n\n";
  for (const auto& r : in.runs) {
    for (const auto& [k, v] : RunFacts(r)) s += "- **" + k + "**: " + MarkdownEscape(v) + "\n";
    s += "\n";
  }
  for (const auto& [k, v] : in.versions)
    s += "- **" + MarkdownEscape(k) + "**: " + MarkdownEscape(v) + "\n";
  s += "\n## Experiment\n\n";
  for (const auto& r : in.runs) s += "```toml\n" + r.experiment_toml + "\n```\n\n";
  s += "## Summary\n\n";
  for (size_t i = 0; i < kSpeedups; ++i) s += Optional(tables[i]) && tables[i].rows.empty() ? "" : MdTable(tables[i]);
  s += "## Findings\n\n";
  auto sentences = FindingSentences(in);
  if (sentences.empty()) s += "No two successful cells differ only in framework or variant.\n\n";
  for (const auto& f : sentences) s += "- " + MarkdownEscape(f) + "\n";
  if (!sentences.empty())
    s += "\n" + MarkdownEscape(in.findings_method) + "\n\n" + MdTable(tables[kSpeedups]);
  s += "## Validation\n\n" +
       (val.rows.empty() ? std::string("No output validation was recorded.\n\n") : MdTable(val));
  s += "## Failed, unsupported and unfinished cells\n\n" +
       (prob.rows.empty() ? std::string("Every cell succeeded.\n\n") : MdTable(prob));
  s += "## Plots\n\n";
  for (const auto& p : plots.plots)
    s += "![" + MarkdownEscape(p.title) + "](plots/" + p.file + ".svg)\n\n";
  for (const auto& a : plots.absent) s += MarkdownEscape(a) + "\n\n";
  return s + kNotMeasured + "\n";
}

// ---- LaTeX ----
// Each table is scaled down to \linewidth when wider (never up), so it fits a paper's column.
std::string TexTable(const Table& full) {
  const Table t = Compact(full);
  std::string spec;
  for (size_t i = 0; i < t.header.size(); ++i) spec += i < t.right.size() && t.right[i] ? 'r' : 'l';
  std::string s = "\\begin{table}[htbp]\n\\centering\\footnotesize\n\\caption{" +
                  LatexEscape(t.caption) + "}\n\\label{tab:dlbench-" + t.name +
                  "}\n\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%\n"
                  "\\begin{tabular}{" + spec + "}\n\\toprule\n";
  std::vector<std::string> h;
  for (const auto& x : t.header) h.push_back(LatexEscape(x));
  s += Join(h, " & ") + " \\\\\n\\midrule\n";
  for (const auto& row : t.rows) {
    std::vector<std::string> r;
    for (const auto& x : row) r.push_back(LatexEscape(x));
    s += Join(r, " & ") + " \\\\\n";
  }
  if (t.rows.empty())
    s += fmt::format("\\multicolumn{{{}}}{{l}}{{(no rows)}} \\\\\n", t.header.size());
  return s + "\\bottomrule\n\\end{tabular}}\n\\end{table}\n\n";
}

std::string Latex(const std::vector<Table>& tables) {
  std::string s = "% Generated by dlbench report; needs \\usepackage{booktabs} and \\usepackage{graphicx}.\n\n";
  for (const auto& t : tables) s += Optional(t) && t.rows.empty() ? "" : TexTable(t);
  return s;
}

// ---- CSV ----
std::string Csv(const Table& t) {
  std::vector<std::string> h;
  for (const auto& x : t.header) h.push_back(CsvField(x));
  std::string s = Join(h, ",") + "\n";
  for (const auto& row : t.rows) {
    std::vector<std::string> r;
    for (const auto& x : row) r.push_back(CsvField(x));
    s += Join(r, ",") + "\n";
  }
  return s;
}

}  // namespace

std::vector<fs::path> WriteReport(const ReportInput& in, const ReportOptions& o) {
  std::error_code ec;
  fs::create_directories(o.out_dir / "plots", ec);
  if (ec)
    throw EnvError(
        fmt::format("cannot create {}: {}", (o.out_dir / "plots").string(), ec.message()));
  PlotSet plots = DrawPlots(in, o.out_dir / "plots", o.png);
  auto tables = BuildTables(in);
  Table val = Validations(in), prob = Problems(in);
  std::vector<fs::path> written;
  auto put = [&](const fs::path& p, const std::string& text) {
    WriteFileAtomically(p.string(), text);  // a failure leaves the previous file as it was
    written.push_back(p);
  };
  if (o.html) put(o.out_dir / "report.html", Html(in, tables, val, prob, plots));
  if (o.md) put(o.out_dir / "report.md", Markdown(in, tables, val, prob, plots));
  if (o.latex) put(o.out_dir / "tables.tex", Latex(tables));
  if (o.csv) {
    for (const auto& t : tables) {
      if (!Optional(t) || !t.rows.empty()) put(o.out_dir / (t.name + ".csv"), Csv(t));
    }
    put(o.out_dir / "problems.csv", Csv(prob));
  }
  for (const auto& p : plots.plots) {
    written.push_back(o.out_dir / "plots" / (p.file + ".svg"));
    if (o.png) written.push_back(o.out_dir / "plots" / (p.file + ".png"));
  }
  return written;
}

}  // namespace dlb::report
