#include "cli/generation.h"

#include <fmt/format.h>

#include <algorithm>

#include "report/summary.h"
#include "report/table.h"
#include "serve/metrics.h"
#include "stats/sample_check.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

// The requests of the cell's ok repetitions that measured any, one vector per repetition, warm-up
// included (flagged): the figures are the measured ones', a load's window starts after the warm-up.
std::vector<std::vector<result::RequestTrace>> Requests(store::Db& db, const store::CellRow& c) {
  std::vector<std::vector<result::RequestTrace>> out;
  if (c.workload != "generation" && c.workload != "serving") return out;
  for (const auto& r : store::GetRepetitions(db, c.cell_id)) {
    if (r.status != "ok") continue;
    auto requests = store::GetRequests(db, r.repetition_id, /*with_warmup=*/true);
    if (std::any_of(requests.begin(), requests.end(), [](const auto& t) { return !t.warmup; })) {
      out.push_back(std::move(requests));
    }
  }
  return out;
}

}  // namespace

std::vector<std::vector<double>> GenerationGroups(store::Db& db, const store::CellRow& c,
                                                  const std::string& metric) {
  std::vector<std::vector<double>> groups;
  for (const auto& requests : Requests(db, c)) {
    std::vector<double> g;
    for (const auto& t : requests) {
      if (t.warmup) continue;
      const serve::RequestMetrics m = serve::MetricsOf(t);
      const auto& v = metric == "ttft" ? m.ttft_sent_s : m.tpot_s;
      if (v) g.push_back(*v * 1e9);
    }
    if (!g.empty()) groups.push_back(std::move(g));
  }
  return groups;
}

std::optional<report::GenerationFigures> GenerationFiguresOf(store::Db& db, const store::CellRow& c) {
  const auto per_rep = Requests(db, c);
  if (per_rep.empty()) return std::nullopt;
  std::vector<double> ttft, tpot, itl;
  int64_t requests = 0, tokens = 0;
  std::vector<double> rates;  // a load's window tokens/s, per repetition
  for (const auto& reqs : per_rep) {
    if (c.workload == "serving") {
      if (auto rate = serve::Summarize(reqs, {}, true).output_tokens_per_s) rates.push_back(*rate);
    }
    for (const auto& t : reqs) {
      if (t.warmup) continue;
      const serve::RequestMetrics m = serve::MetricsOf(t);
      ++requests;
      tokens += m.output_tokens;
      if (m.ttft_sent_s) ttft.push_back(*m.ttft_sent_s);
      if (m.tpot_s) tpot.push_back(*m.tpot_s);
      for (double v : serve::InterTokenLatencies(t)) itl.push_back(v);
    }
  }
  report::GenerationFigures f;
  f.repetitions = static_cast<int64_t>(per_rep.size());
  f.requests = requests;
  // A load's tokens/s is its measured window's (serve/metrics.h), the median over repetitions; the
  // window opens at the warm-up's last token, so it reads the warm-up requests too. An engine's
  // generate makes `batch` sequences in lockstep, each trace counting one of them: its tokens/s is
  // the batch's tokens over the cell's median time of a generate.
  if (c.workload == "serving") {
    if (!rates.empty()) f.tokens_per_s = stats::Median(rates);
  } else if (c.p50_ns && *c.p50_ns > 0 && requests > 0) {
    const double per_call = static_cast<double>(tokens) / static_cast<double>(requests);
    f.tokens_per_s = static_cast<double>(c.batch) * per_call / (*c.p50_ns * 1e-9);
  }
  const serve::Distribution dt = serve::Describe(std::move(ttft)), dp = serve::Describe(std::move(tpot)),
                            di = serve::Describe(std::move(itl));
  f.ttft_p50 = serve::QuantileMs(dt.quantiles[0]);
  f.tpot_p50 = serve::QuantileMs(dp.quantiles[0]);
  f.itl_p50 = serve::QuantileMs(di.quantiles[0]);
  f.itl_p99 = serve::QuantileMs(di.quantiles[2]);
  return f;
}

std::string GenerationTable(store::Db& db, const std::vector<store::CellRow>& cells) {
  report::TextTable table({"generation (ms)", "reps", "requests", "tokens/s", "TTFT p50 [95% CI]",
                           "TPOT p50 [95% CI]", "ITL p50", "ITL p99"},
                          {false, true, true, true, true, true, true, true});
  for (const auto& c : cells) {
    const auto f = GenerationFiguresOf(db, c);
    if (!f) continue;
    table.AddRow({TerminalSafe(report::CellName(c)), std::to_string(f->repetitions), std::to_string(f->requests),
                  f->tokens_per_s ? FormatFigure(*f->tokens_per_s) : "-", f->ttft_p50, f->tpot_p50, f->itl_p50,
                  f->itl_p99});
  }
  if (table.empty()) return "";
  return table.Render() + report::kGenerationDefinitions + "\n";
}

}  // namespace dlb::cli
