#include "cli/generation.h"

#include <fmt/format.h>

#include "report/summary.h"
#include "report/table.h"
#include "serve/metrics.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

// The measured requests of the cell's ok repetitions, one vector per repetition.
std::vector<std::vector<result::RequestTrace>> Requests(store::Db& db, const store::CellRow& c) {
  std::vector<std::vector<result::RequestTrace>> out;
  if (c.workload != "generation") return out;
  for (const auto& r : store::GetRepetitions(db, c.cell_id)) {
    if (r.status != "ok") continue;
    auto requests = store::GetRequests(db, r.repetition_id);
    if (!requests.empty()) out.push_back(std::move(requests));
  }
  return out;
}

std::string Ms(std::optional<double> s) { return s ? FormatFigure(*s * 1e3) : "-"; }

std::string QuantileText(const serve::Quantile& q) {
  if (!q.value) return q.why_not.empty() ? "-" : q.why_not;
  if (q.lo && q.hi) return fmt::format("{} [{}, {}]", Ms(q.value), Ms(q.lo), Ms(q.hi));
  return Ms(q.value);
}

}  // namespace

std::vector<std::vector<double>> GenerationGroups(store::Db& db, const store::CellRow& c,
                                                  const std::string& metric) {
  std::vector<std::vector<double>> groups;
  for (const auto& requests : Requests(db, c)) {
    std::vector<double> g;
    for (const auto& t : requests) {
      const serve::RequestMetrics m = serve::MetricsOf(t);
      const auto& v = metric == "ttft" ? m.ttft_sent_s : m.tpot_s;
      if (v) g.push_back(*v * 1e9);
    }
    if (!g.empty()) groups.push_back(std::move(g));
  }
  return groups;
}

std::string GenerationTable(store::Db& db, const std::vector<store::CellRow>& cells) {
  report::TextTable table({"generation (ms)", "reps", "requests", "tokens/s", "TTFT p50 [95% CI]",
                           "TPOT p50 [95% CI]", "ITL p50", "ITL p99"},
                          {false, true, true, true, true, true, true, true});
  for (const auto& c : cells) {
    const auto per_rep = Requests(db, c);
    if (per_rep.empty()) continue;
    std::vector<double> ttft, tpot, itl;
    int64_t requests = 0, tokens = 0;
    for (const auto& reqs : per_rep) {
      for (const auto& t : reqs) {
        const serve::RequestMetrics m = serve::MetricsOf(t);
        ++requests;
        tokens += m.output_tokens;
        if (m.ttft_sent_s) ttft.push_back(*m.ttft_sent_s);
        if (m.tpot_s) tpot.push_back(*m.tpot_s);
        for (double v : serve::InterTokenLatencies(t)) itl.push_back(v);
      }
    }
    // An engine's generate makes `batch` sequences in lockstep, each trace counting one of them:
    // its tokens/s is the batch's tokens over the cell's median time of a generate.
    std::string rate = "-";
    if (c.p50_ns && *c.p50_ns > 0 && requests > 0) {
      const double per_call = static_cast<double>(tokens) / static_cast<double>(requests);
      rate = FormatFigure(static_cast<double>(c.batch) * per_call / (*c.p50_ns * 1e-9));
    }
    const serve::Distribution dt = serve::Describe(std::move(ttft)), dp = serve::Describe(std::move(tpot)),
                              di = serve::Describe(std::move(itl));
    table.AddRow({TerminalSafe(report::CellName(c)), std::to_string(per_rep.size()), std::to_string(requests), rate,
                  QuantileText(dt.quantiles[0]), QuantileText(dp.quantiles[0]), QuantileText(di.quantiles[0]),
                  QuantileText(di.quantiles[2])});
  }
  if (table.empty()) return "";
  return table.Render() +
         "TTFT: first token - send (an engine's generate: its prefill); TPOT: (last token - first "
         "token) / (tokens - 1) per sequence; ITL: each token's gap, pooled. Percentiles over the "
         "measured requests of the ok repetitions, with 95% intervals; compare --metric ttft|tpot "
         "compares cells over repetitions.\n";
}

}  // namespace dlb::cli
