#include "report/headline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "analysis/peaks.h"
#include "report/plots.h"
#include "report/summary.h"
#include "util/strings.h"

namespace dlb::report {
namespace {

bool Ok(const store::CellRow& c) { return c.status == "ok" || c.status == "partial"; }

// Distinct values in order of first appearance.
void Add(std::vector<std::string>& values, const std::string& v) {
  if (std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
}

struct AxisValues {
  std::string name;
  std::vector<std::string> values;
  bool quiet_when_single;  // left out when it has one value and that value is the default
  std::string quiet;
};

std::string Compared(const ReportInput& in, const store::RunRow& run) {
  std::vector<AxisValues> axes = {{"framework", {}, false, ""},  {"model", {}, false, ""},
                                  {"batch", {}, false, ""},      {"precision", {}, false, ""},
                                  {"device", {}, false, ""},     {"workload", {}, true, "inference"},
                                  {"layout", {}, true, "default"}, {"variant", {}, true, "default"},
                                  {"environment", {}, true, "native"}, {"profile", {}, true, ""}};
  size_t total = 0, ok = 0;
  int64_t min_reps = INT64_MAX, max_reps = 0;
  for (const auto& rc : in.cells) {
    if (rc.run_id != run.run_id) continue;
    ++total;
    const auto& c = rc.cell;
    if (!Ok(c)) continue;
    ++ok;
    min_reps = std::min(min_reps, c.repetitions_ok);
    max_reps = std::max(max_reps, c.repetitions_ok);
    std::string device = c.device;
    std::string name = analysis::DeviceNameFromHello(c.hello_json.value_or("{}"), c.device);
    if (!name.empty()) device += " (" + name + ")";
    const std::string batch = "batch " + std::to_string(c.batch);
    for (auto [i, v] : {std::pair<size_t, const std::string*>{0, &c.framework}, {1, &c.model},
                        {2, &batch}, {3, &c.precision}, {4, &device}, {5, &c.workload},
                        {6, &c.layout}, {7, &c.variant}, {8, &c.environment}, {9, &c.profile}}) {
      Add(axes[i].values, *v);
    }
  }
  std::string head = fmt::format("Run {} ({}, host {}, started {}): {} of {} cells succeeded", run.run_id,
                                 run.experiment, run.host, run.started_at, ok, total);
  if (ok == 0) return head + ", so there is nothing to compare.";
  std::vector<std::string> at, across;
  for (const auto& a : axes) {
    if (a.values.size() == 1) {
      if (a.quiet_when_single && a.values[0] == a.quiet) continue;
      at.push_back(a.values[0]);
    } else {
      across.push_back(fmt::format("{} ({})", a.name, Join(a.values, ", ")));
    }
  }
  std::string s = head + ": " + Join(at, ", ");
  if (!across.empty()) s += "; compared across " + Join(across, " and ");
  s += min_reps == max_reps ? fmt::format("; {} repetitions per cell.", min_reps)
                            : fmt::format("; {} to {} repetitions per cell.", min_reps, max_reps);
  return s;
}

// The highest throughput at the median latency among a model's cells, with the median's CI.
std::vector<std::string> Best(const ReportInput& in) {
  std::map<std::string, std::vector<const ReportCell*>> by_model;
  for (const auto& rc : in.cells) {
    if (Ok(rc.cell) && rc.cell.p50_ns && *rc.cell.p50_ns > 0) by_model[rc.cell.model].push_back(&rc);
  }
  std::vector<std::string> out;
  for (const auto& [model, cells] : by_model) {
    if (cells.size() < 2) continue;
    auto tput = [](const ReportCell* rc) { return rc->cell.batch * 1e9 / *rc->cell.p50_ns; };
    const ReportCell* best = *std::max_element(
        cells.begin(), cells.end(), [&](auto* a, auto* b) { return tput(a) < tput(b); });
    const auto& c = best->cell;
    std::string ci;
    if (c.median_ci_lo_ns && c.median_ci_hi_ns && *c.median_ci_lo_ns > 0) {
      ci = fmt::format(" (95% CI {} to {})", FormatFigure(c.batch * 1e9 / *c.median_ci_hi_ns),
                       FormatFigure(c.batch * 1e9 / *c.median_ci_lo_ns));
    }
    out.push_back(fmt::format(
        "Highest throughput measured for {}: {} at batch {}, {} samples/s{} at a median of {} "
        "per call, of {} cells; whether it differs from the next is in the comparisons above.",
        model, SeriesLabel(c), c.batch, FormatFigure(tput(best)), ci, FormatNs(*c.p50_ns), cells.size()));
  }
  return out;
}

// Largest advantage first: |log ratio| descending.
std::vector<const Finding*> Sorted(std::vector<const Finding*> v) {
  std::stable_sort(v.begin(), v.end(), [](const Finding* a, const Finding* b) {
    return std::fabs(std::log(a->ratio)) > std::fabs(std::log(b->ratio));
  });
  return v;
}

}  // namespace

Headline BuildHeadline(const ReportInput& in, size_t max_per_list) {
  Headline h;
  h.shown_per_list = max_per_list;
  for (const auto& run : in.runs) h.compared.push_back(Compared(in, run));
  std::vector<const Finding*> won, equivalent, undecided;
  for (const auto& f : in.findings) {
    if (f.kind == analysis::VerdictKind::kEquivalent) {
      equivalent.push_back(&f);
    } else if (f.kind == analysis::VerdictKind::kUndecided) {
      undecided.push_back(&f);
    } else {
      won.push_back(&f);
    }
  }
  auto fill = [&](const std::vector<const Finding*>& from, std::vector<std::string>& to,
                  size_t& more) {
    for (const Finding* f : Sorted(from)) {
      if (to.size() < max_per_list) {
        to.push_back(f->sentence);
      } else {
        ++more;
      }
    }
  };
  fill(won, h.won, h.more_won);
  fill(equivalent, h.equivalent, h.more_equivalent);
  fill(undecided, h.undecided, h.more_undecided);
  if (!undecided.empty()) {
    std::map<analysis::UndecidedCause, size_t> causes;
    for (const Finding* f : undecided) ++causes[f->cause];
    std::vector<std::string> parts;
    for (const auto& [cause, n] : causes) {
      parts.push_back(fmt::format("{} because {}", n, analysis::UndecidedCauseText(cause)));
    }
    h.undecided_why = fmt::format("{} of {} comparisons were not decided: {}.", undecided.size(),
                                  in.findings.size(), Join(parts, "; "));
  }
  h.best = Best(in);
  h.recommendation = in.recommendation;
  h.contention = in.contention;
  return h;
}

}  // namespace dlb::report
