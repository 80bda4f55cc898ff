// dlbench stats A.txt [B.txt ...]: like ministat. Plain files of numbers in; descriptive statistics
// per file and, for two or more files, every pairwise comparison (ratio of medians with a BCa
// interval, Welch, Mann-Whitney, Hedges' g, Holm across the family, a verdict) out.
#include <chrono>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "analysis/compare.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "report/table.h"
#include "stats/descriptive.h"
#include "stats/number_file.h"
#include "stats/shapiro.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/limits.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

using nlohmann::ordered_json;

struct StatsOptions {
  std::vector<std::string> files;
  bool json_output = false;
  bool quiet = false;
  analysis::CompareOptions compare;
};

std::vector<double> ReadNumbers(const std::string& path) {
  return stats::ParseNumberFile(ReadFileOrThrow(path, kMaxStatsFileBytes), path);
}

// Progress on stderr for long work: one line per stage, with the time since the start. Shown when
// the input holds at least kProgressValues numbers, unless --quiet.
class Progress {
 public:
  static constexpr size_t kProgressValues = 100'000;
  void Enable(bool on) { enabled_ = on; }
  void Stage(const std::string& what) const {
    if (!enabled_) return;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    std::fprintf(stderr, "dlbench: stats: %s (%.1f s)\n", TerminalSafe(what).c_str(), s);
  }

 private:
  bool enabled_ = false;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

std::string Num(double x) { return fmt::format("{:.6g}", x); }

// "1.0123 [1.0051, 1.0190]", or the difference "B-A 13.2 [12.9, 13.5]" where a ratio is refused.
std::string Contrast(double ratio, const std::optional<stats::Interval>& ci,
                     const std::optional<double>& difference,
                     const std::optional<stats::Interval>& difference_ci) {
  if (difference) {
    return difference_ci ? fmt::format("B-A {} [{}, {}]", Num(*difference), Num(difference_ci->lo),
                                       Num(difference_ci->hi))
                         : "B-A " + Num(*difference);
  }
  return ci ? fmt::format("{:.4f} [{:.4f}, {:.4f}]", ratio, ci->lo, ci->hi) : fmt::format("{:.4f}", ratio);
}

ordered_json IntervalJson(const std::optional<stats::Interval>& ci) {
  return ci ? ordered_json::array({ci->lo, ci->hi}) : ordered_json(nullptr);
}

std::string Tail(int64_t n, double v, int64_t min_n) {
  return n >= min_n ? Num(v) : fmt::format("n<{}", min_n);
}

ExitCode Stats(const StatsOptions& o) {
  std::vector<analysis::Sample> samples;
  std::vector<std::vector<double>> values;
  Progress progress;  // from here, so that reading counts
  size_t total = 0;
  for (const auto& f : o.files) {
    values.push_back(ReadNumbers(f));
    total += values.back().size();
    analysis::Sample s{f, {}};
    for (double x : values.back()) s.groups.push_back({x});
    samples.push_back(std::move(s));
  }
  progress.Enable(!o.quiet && total >= Progress::kProgressValues);
  progress.Stage(fmt::format("read {} file{}: {} values", o.files.size(), o.files.size() == 1 ? "" : "s", total));
  std::vector<std::pair<size_t, size_t>> pairs;
  for (size_t i = 0; i < samples.size(); ++i)
    for (size_t j = i + 1; j < samples.size(); ++j) pairs.emplace_back(i, j);
  progress.Stage(fmt::format("comparing {} pair{}", pairs.size(), pairs.size() == 1 ? "" : "s"));
  auto comparisons = analysis::CompareFamily(samples, pairs, analysis::Grouping::kNone, o.compare);
  progress.Stage("describing each file");

  ordered_json j = {{"format", "dlbench-stats"}, {"version", 1}, {"alpha", o.compare.alpha},
                    {"threshold", o.compare.threshold}, {"seed", o.compare.seed},
                    {"n_resamples", o.compare.n_resamples}};
  report::TextTable desc({"file", "n", "mean", "std", "cv", "min", "p50 [95% CI]", "p90", "p95",
                          "p99", "max", "outliers (Tukey 1.5/3, MAD)", "Shapiro-Wilk p"},
                         {false, true, true, true, true, true, true, true, true, true, true, false, true});
  ordered_json js = ordered_json::array();
  for (size_t i = 0; i < values.size(); ++i) {
    auto s = *stats::Summarize(std::span<const double>(values[i]));
    std::vector<double> sorted = values[i];
    std::sort(sorted.begin(), sorted.end());
    auto ci = stats::MedianConfidenceInterval(sorted, 0.95);
    auto outliers = stats::FindOutliers(values[i]);
    auto shapiro = stats::ShapiroWilk(values[i]);
    std::string out_text = "-";
    if (outliers) {
      const auto& c = outliers->counts;
      out_text = fmt::format("{}/{}, {}", c.mild_low + c.mild_high, c.severe_low + c.severe_high,
                             c.mad_low ? std::to_string(*c.mad_low + *c.mad_high) : "MAD 0");
    }
    desc.AddRow({o.files[i], std::to_string(s.n), Num(s.mean), s.std ? Num(*s.std) : "-",
                 s.cv ? fmt::format("{:.2f}%", *s.cv * 100) : "-",
                 Num(s.min), ci ? fmt::format("{} [{}, {}]", Num(s.p50), Num(ci->lo), Num(ci->hi)) : Num(s.p50) + " [n too small]",
                 Tail(s.n, s.p90, stats::kMinSamplesP90), Tail(s.n, s.p95, stats::kMinSamplesP95),
                 Tail(s.n, s.p99, stats::kMinSamplesP99), Num(s.max), out_text,
                 shapiro ? fmt::format("{:.3g}", shapiro->p) : "-"});
    ordered_json sj = {{"file", o.files[i]}, {"n", s.n}, {"mean", s.mean}, {"std", s.std ? ordered_json(*s.std) : nullptr},
                       {"cv", s.cv ? ordered_json(*s.cv) : nullptr}, {"min", s.min}, {"p50", s.p50},
                       {"p50_ci", ci ? ordered_json::array({ci->lo, ci->hi}) : ordered_json(nullptr)},
                       {"p50_ci_coverage", ci ? ordered_json(ci->coverage) : nullptr},
                       {"p90", s.n >= stats::kMinSamplesP90 ? ordered_json(s.p90) : nullptr},
                       {"p95", s.n >= stats::kMinSamplesP95 ? ordered_json(s.p95) : nullptr},
                       {"p99", s.n >= stats::kMinSamplesP99 ? ordered_json(s.p99) : nullptr},
                       {"max", s.max}};
    if (outliers) {
      const auto& c = outliers->counts;
      sj["outliers"] = {{"tukey_mild", c.mild_low + c.mild_high},
                        {"tukey_severe", c.severe_low + c.severe_high},
                        {"mad", c.mad_low ? ordered_json(*c.mad_low + *c.mad_high) : nullptr}};
    }
    sj["shapiro_wilk"] = shapiro ? ordered_json({{"w", shapiro->w}, {"p", shapiro->p}}) : ordered_json(nullptr);
    js.push_back(std::move(sj));
  }
  j["samples"] = std::move(js);

  report::TextTable cmp({"A", "B", "median B/A (or B-A) [95% CI]", "mean B/A (or B-A) [95% CI]", "Welch p (Holm)",
                         "Mann-Whitney p (Holm)", "Hedges g", "n for 80% power", "verdict"},
                        {false, false, true, true, true, true, true, true, false});
  ordered_json jc = ordered_json::array();
  std::string notes;
  for (const auto& c : comparisons) {
    auto p = [](const auto& v) { return v ? fmt::format("{:.3g}", *v) : std::string("-"); };
    const auto& d = c.difference;
    cmp.AddRow({o.files[c.a], o.files[c.b],
                Contrast(c.ratio, c.ratio_ci, d ? std::optional(d->medians) : std::nullopt,
                         d ? d->medians_ci : std::nullopt),
                Contrast(c.ratio_of_means, c.ratio_of_means_ci, d ? std::optional(d->means) : std::nullopt,
                         d ? d->means_ci : std::nullopt),
                p(c.p_welch_adjusted), p(c.p_mwu_adjusted),
                c.effect ? fmt::format("{:.3f}", c.effect->hedges_g) : "-",
                c.n_for_power ? std::to_string(*c.n_for_power) : "-", c.verdict});
    for (const auto& n : c.notes) notes += fmt::format("{} vs {}: {}\n", o.files[c.a], o.files[c.b], n);
    auto opt = [](const auto& v) { return v ? ordered_json(*v) : ordered_json(nullptr); };
    auto finite = [](double v) { return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr); };
    jc.push_back({{"a", o.files[c.a]}, {"b", o.files[c.b]}, {"median_a", c.median_a},
                  {"median_b", c.median_b}, {"ratio_of_medians", finite(c.ratio)},
                  {"ratio_ci", IntervalJson(c.ratio_ci)},
                  {"ci_method", c.ci_method},
                  {"ratio_of_means", finite(c.ratio_of_means)},
                  {"ratio_of_means_ci", IntervalJson(c.ratio_of_means_ci)},
                  {"difference_of_medians", d ? ordered_json(d->medians) : ordered_json(nullptr)},
                  {"difference_ci", IntervalJson(d ? d->medians_ci : std::nullopt)},
                  {"difference_of_means", d ? ordered_json(d->means) : ordered_json(nullptr)},
                  {"difference_of_means_ci", IntervalJson(d ? d->means_ci : std::nullopt)},
                  {"n_per_side_for_80pct_power", opt(c.n_for_power)},
                  {"welch", c.welch ? ordered_json({{"t", c.welch->t}, {"df", c.welch->df}, {"p", c.welch->p}}) : ordered_json(nullptr)},
                  {"mann_whitney", c.mwu ? ordered_json({{"u1", c.mwu->u1}, {"p", c.mwu->p},
                                                         {"method", c.mwu->method == stats::MwuMethod::Exact ? "exact" : "asymptotic"}})
                                         : ordered_json(nullptr)},
                  {"p_welch_holm", opt(c.p_welch_adjusted)}, {"p_mann_whitney_holm", opt(c.p_mwu_adjusted)},
                  {"cohens_d", c.effect ? ordered_json(c.effect->cohens_d) : nullptr},
                  {"hedges_g", c.effect ? ordered_json(c.effect->hedges_g) : nullptr},
                  {"verdict", c.verdict}, {"notes", c.notes}});
  }
  j["comparisons"] = std::move(jc);
  progress.Stage("done");
  if (o.json_output) {
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("{}", desc.Render());
    if (!comparisons.empty()) {
      fmt::print("\n{}", cmp.Render());
      fmt::print("\nverdict: both Holm-adjusted p < {:g} and the ratio's CI outside ±{:g}%; "
                 "\"equivalent\": the CI inside ±{:g}%. Without a ratio (a value <= 0 on a side, or "
                 "a ratio beyond double's range) B-A is shown, and its CI relative to |median A| "
                 "takes the ratio's place. "
                 "Bootstrap: {} resamples, seed {} (analytic intervals past {:.0e} draws). Power: "
                 "values per side for an 80% chance of detecting a ±{:g}% shift.\n",
                 o.compare.alpha, o.compare.threshold * 100, o.compare.threshold * 100,
                 o.compare.n_resamples, o.compare.seed, stats::kMaxBootstrapDraws,
                 o.compare.threshold * 100);
    }
    if (!notes.empty()) fmt::print("\n{}", TerminalSafe(notes, true));
  }
  return ExitCode::kDone;
}

}  // namespace

void AddStatsCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand(
      "stats", "Statistics of plain files of numbers, and every pairwise comparison (like ministat)");
  auto o = std::make_shared<StatsOptions>();
  o->compare.lower_is_better = false;
  cmd->add_option("FILES", o->files, "files of numbers (whitespace or comma separated, # comments)")
      ->required();
  cmd->add_flag("--json", o->json_output, "machine-readable output (format dlbench-stats, version 1)");
  cmd->add_flag("-q,--quiet", o->quiet, "no progress lines on stderr (shown from 100000 values on)");
  cmd->add_option("--alpha", o->compare.alpha, "significance level")->capture_default_str()->check(CLI::Range(1e-6, 0.5));
  cmd->add_option("--threshold", o->compare.threshold, "practical-equivalence band, as a fraction")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--resamples", o->compare.n_resamples, "bootstrap resamples")->capture_default_str()->check(CLI::Range(100, 1'000'000));
  cmd->add_option("--seed", o->compare.seed, "bootstrap seed")->capture_default_str();
  cmd->callback([o, &result] { result = Stats(*o); });
}

}  // namespace dlb::cli
