#include "report/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "plan/axes.h"
#include "report/table.h"
#include "store/query.h"
#include "stats/descriptive.h"
#include "util/strings.h"

namespace dlb::report {
namespace {

std::string Tail(const store::CellRow& c, const std::optional<double>& v, int64_t min_n) {
  if (!v || !c.n_samples) return "-";
  if (*c.n_samples < min_n) return fmt::format("n<{}", min_n);
  return FormatNs(*v);
}

std::string Rate(const std::optional<double>& v) {
  return v ? fmt::format("{:.4g}", *v) : "-";
}

std::string Seconds(const std::optional<double>& v) {
  return v ? fmt::format("{:.3g}", *v) : "-";
}


}  // namespace

std::string CellName(const store::CellRow& c) { return plan::CellLabel(store::AxisValuesOf(c)); }

std::string PrecisionLabel(const std::string& precision, const std::string& profile) {
  return profile.empty() ? precision : precision + " {" + profile + "}";
}

std::string NeverRan(const store::CellRow& c) {
  if (c.run_complete || c.status == "unsupported" || c.repetitions_run >= c.repetitions_planned) {
    return {};
  }
  const int64_t first = c.repetitions_run + 1, last = c.repetitions_planned;
  return first == last ? fmt::format("repetition {} of {} never ran", first, last)
                       : fmt::format("repetitions {} to {} of {} never ran", first, last, last);
}

std::string ShownStatus(const store::CellRow& c) {
  if (NeverRan(c).empty()) return c.status;
  return c.repetitions_run == 0 ? "not run" : c.status == "failed" ? "failed" : "incomplete";
}

std::string CellTable(const std::vector<store::CellRow>& cells) {
  TextTable t({"cell", "status", "reps", "n", "median [95% CI]", "p90", "p99", "mean ± std",
               "samples/s", "pipelined/s", "compile s", "1st call s", "peak RSS", "J/sample"},
              {false, false, true, true, true, true, true, true, true, true, true, true, true, true});
  for (const auto& c : cells) {
    std::string median = "-";
    if (c.p50_ns) {
      median = c.median_ci_lo_ns && c.median_ci_hi_ns
                   ? FormatNsWithInterval(*c.p50_ns, *c.median_ci_lo_ns, *c.median_ci_hi_ns)
                   : FormatNs(*c.p50_ns) + " [n too small]";
    }
    std::string mean = "-";
    if (c.mean_ns) mean = FormatNs(*c.mean_ns) + (c.std_ns ? " ± " + FormatNs(*c.std_ns) : "");
    // ok of planned: a cell of an interrupted run with 1 of 3 repetitions reads 1/3, not 1/1.
    const int64_t of = NeverRan(c).empty() ? c.repetitions_run : c.repetitions_planned;
    t.AddRow({CellName(c), ShownStatus(c), fmt::format("{}/{}", c.repetitions_ok, of),
              c.n_samples ? std::to_string(*c.n_samples) : "-", median,
              Tail(c, c.p90_ns, stats::kMinSamplesP90), Tail(c, c.p99_ns, stats::kMinSamplesP99),
              mean, Rate(c.throughput_sps), Rate(c.window_throughput_sps), Seconds(c.compile_s),
              Seconds(c.first_call_s),
              c.peak_rss_bytes ? FormatBytes(static_cast<double>(*c.peak_rss_bytes)) : "-",
              c.energy_per_sample_j ? fmt::format("{:.4g}", *c.energy_per_sample_j) : "-"});
  }
  return t.Render();
}

std::string DatasetTable(const std::vector<store::CellRow>& cells) {
  TextTable t({"cell", "dataset", "epochs", "time per epoch", "accuracy"},
              {false, false, true, true, true});
  bool any = false;
  for (const auto& c : cells) {
    if (!c.dataset) continue;
    any = true;
    t.AddRow({CellName(c), *c.dataset, c.epochs ? std::to_string(*c.epochs) : "-",
              c.epoch_s ? FormatDuration(*c.epoch_s) : "-",
              c.accuracy ? fmt::format("{:.1f}%", *c.accuracy * 100) : "-"});
  }
  if (!any) return {};
  return "training on a dataset (time per epoch: median over repetitions; accuracy on the held-out "
         "images after the last epoch, mean over repetitions):\n" + t.Render();
}

std::string ValidationSummary(const std::vector<store::ValidationRow>& rows) {
  std::string out;
  for (const auto& v : rows) {
    if (v.status == "error") {
      out += fmt::format("validation {} {} {}: {} could not be compared: {}\n", v.model, v.precision,
                         v.device, v.framework_a, TerminalSafe(v.message.value_or("")));
      continue;
    }
    if (v.workload == "training") {
      out += fmt::format(
          "validation {} {} {} training: {} vs {} over {} steps from the same weights: losses agree "
          "to {:.2g} (tolerance {:.0e}), weights to {:.2g} of the distance trained (tolerance "
          "{:.0e}): {}\n",
          v.model, v.precision, v.device, v.framework_a, v.framework_b.value_or("?"),
          v.steps.value_or(0), v.max_loss_err.value_or(NAN), v.loss_tolerance.value_or(NAN),
          v.weights_err.value_or(NAN), v.weights_tolerance.value_or(NAN),
          v.status == "pass" ? "pass" : "FAIL");
      continue;
    }
    out += fmt::format(
        "validation {} {} {}: {} vs {} outputs agree to {:.2g} of the output scale, cosine {:.9f}, "
        "top-1 {:.0f}% on {} inputs (tolerance {:.0e}): {}\n",
        v.model, v.precision, v.device, v.framework_a, v.framework_b.value_or("?"),
        v.max_rel_err.value_or(NAN), v.cosine.value_or(NAN), v.top1_agreement.value_or(NAN) * 100,
        v.inputs, v.tolerance.value_or(NAN), v.status == "pass" ? "pass" : "FAIL");
  }
  return out;
}

std::string Problems(const std::vector<store::CellRow>& cells) {
  std::string out;
  for (const auto& c : cells) {
    if (c.contaminated_repetitions.value_or(0) > 0) {
      out += fmt::format("cell {} {}: {} of {} repetitions ran beside other processes (more than 10% "
                         "of the worker's CPUs): contaminated; see dlbench show RUN --cell {}\n",
                         c.cell_idx, TerminalSafe(CellName(c)), *c.contaminated_repetitions,
                         c.repetitions_ok, c.cell_idx);
    }
    const std::string never = NeverRan(c);
    if (c.status == "ok" && never.empty()) continue;
    std::string why = c.status == "ok" || c.status == "pending" ? "" : TerminalSafe(c.message.value_or(""));
    if (!never.empty()) why = why.empty() ? never : why + "; " + never;
    out += fmt::format("cell {} {}: {}{}\n", c.cell_idx, TerminalSafe(CellName(c)), ShownStatus(c),
                       why.empty() ? "" : ": " + why);
  }
  return out;
}

}  // namespace dlb::report
