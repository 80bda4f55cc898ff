// dlbench report: one run (or several) written as report.html (self-contained, plots inline as
// SVG, no JavaScript), report.md, tables.tex (booktabs) and CSV, with gnuplot plots in plots/.
// The command (cli/report.cc) reads the database and computes the findings; this file only lays
// them out, so every database string passes through escape.h here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analysis/compare.h"
#include "analysis/verdict.h"
#include "stats/bootstrap.h"
#include "store/query.h"

namespace dlb::report {

// Per-sample latency quantiles of one cell (all ok repetitions pooled), for the box plot.
struct LatencyBox {
  double p1_ns = 0, p25_ns = 0, p50_ns = 0, p75_ns = 0, p99_ns = 0;
  int64_t n = 0;
};

// A generation cell's figures from its request traces (cli/generation.h), each percentile already
// worded in ms with its 95% interval, or why it is missing ("n<662").
inline constexpr const char* kGenerationDefinitions =
    "TTFT: first token - send (an engine's generate: its prefill); TPOT: (last token - first token) / "
    "(tokens - 1) per sequence; ITL: each token's gap, pooled. Percentiles over the measured requests "
    "of the ok repetitions, with 95% intervals; compare --metric ttft|tpot compares cells over "
    "repetitions.";
struct GenerationFigures {
  int64_t repetitions = 0, requests = 0;
  std::optional<double> tokens_per_s;
  std::string ttft_p50, tpot_p50, itl_p50, itl_p99;
};

// A rate sweep stored by `dlbench load --sweep --db`: one row per rate, lowest first, each figure
// of the rate's measured requests (serve/metrics.h), its verdict against the limits
// (serve/sweep.h), and the sweep's answer.
struct SweepRow {
  double rate = 0;  // the target, requests/s
  std::optional<double> achieved, tokens_per_s, requests_per_s, goodput_per_s;
  std::string ttft_p99, tpot_p99;                  // "12.3 [11.9, 13.1]" ms, or why missing
  std::optional<double> ttft_p99_ms, tpot_p99_ms;  // the plot's points
  std::string verdict;                             // "meets", "fails (...)", "undecided (...)"
  std::vector<std::pair<std::string, int64_t>> failures;  // failed requests by status
};
struct SweepFigures {
  int64_t run_id = 0;
  std::string label;   // what was swept: the server's URL and the load
  std::string limits;  // "p99 TTFT (from due) <= 500 ms and p99 TPOT <= 50 ms"
  std::optional<double> ttft_limit_ms, tpot_limit_ms;
  std::vector<SweepRow> rows;
  std::string answer;  // "600 requests/s", or a range and why
};

struct ReportCell {
  int64_t run_id = 0;
  store::CellRow cell;
  std::vector<store::RepetitionRow> failed_reps;  // repetitions that did not succeed
  std::optional<LatencyBox> box;                  // batch-1 cells with samples
  // compile_s of the first ok repetition (cold: an empty compile cache) and the median of the
  // later ones (warm: the run's per-cell cache); empty for eager frameworks.
  std::optional<double> compile_cold_s, compile_warm_s;
  // Ok repetitions measured beside busy neighbours: (repetition, others' share of its CPUs).
  std::vector<std::pair<int64_t, double>> contaminated;
  std::optional<GenerationFigures> generation;  // generation cells with stored traces
};

// One comparison of two cells that differ only in `axis`, over repetitions
// (analysis::CompareFamily).
struct Finding {
  std::string axis, a, b, model, precision, device;
  int64_t batch = 0;
  size_t reps_a = 0, reps_b = 0;
  double median_a_ns = 0, median_b_ns = 0, ratio = 0;  // ratio = B/A latency
  std::optional<stats::Interval> ci;
  std::string verdict;
  bool significant = false;   // a difference was claimed (B faster or slower)
  std::string settings_note;  // "layout NCHW vs NHWC; ..." or empty
  analysis::VerdictKind kind = analysis::VerdictKind::kUndecided;
  std::string sentence{};  // analysis::VerdictSentence: what compare, show and run print
  std::string reason{};    // analysis::WhyUndecided's words; empty when decided
  analysis::UndecidedCause cause = analysis::UndecidedCause::kNone;
};

struct ReportInput {
  std::vector<store::RunRow> runs;
  std::vector<ReportCell> cells;
  std::vector<store::ValidationRow> validations;
  std::vector<Finding> findings;
  // (framework, "key: value, ...") from each framework's first worker hello.
  std::vector<std::pair<std::string, std::string>> versions;
  std::string command;          // the report command line
  std::string findings_method;  // one paragraph: tests, alpha, threshold, thinning
  double threshold = 0.01;      // the findings' equivalence band, as a fraction
  // `report --objective`: the recommendation's sentences (analysis/recommend.h); empty without one.
  std::vector<std::string> recommendation;
  std::vector<SweepFigures> sweeps;  // stored rate sweeps among the runs
  std::string contention;  // what busy neighbours did to the runs (ContentionSummary); empty when quiet
};

struct ReportOptions {
  std::filesystem::path out_dir;
  bool html = true, md = true, latex = true, csv = true, png = false;
};

// Writes the files and returns their paths. Throws EnvError when gnuplot is missing or fails, or
// a file cannot be written.
std::vector<std::filesystem::path> WriteReport(const ReportInput& in, const ReportOptions& options);

}  // namespace dlb::report
