#include "cli/generation.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

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

std::vector<double> GenerationValues(store::Db& db, int64_t repetition_id, const std::string& metric) {
  std::vector<double> g;
  for (const auto& t : store::GetRequests(db, repetition_id)) {
    const serve::RequestMetrics m = serve::MetricsOf(t);
    const auto& v = metric == "ttft" ? m.ttft_sent_s : m.tpot_s;
    if (v) g.push_back(*v * 1e9);
  }
  return g;
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

std::string SloText(const serve::Slo& slo) {
  std::vector<std::string> parts;
  if (slo.ttft_s) parts.push_back(fmt::format("p99 TTFT (from due) <= {} ms", FormatFigure(*slo.ttft_s * 1e3)));
  if (slo.tpot_s) parts.push_back(fmt::format("p99 TPOT <= {} ms", FormatFigure(*slo.tpot_s * 1e3)));
  return Join(parts, " and ");
}

report::SweepRow SweepRowOf(double rate, const serve::LoadMetrics& m, const serve::RateVerdict& v) {
  report::SweepRow row;
  row.rate = rate;
  row.achieved = m.achieved_rate;
  row.tokens_per_s = m.output_tokens_per_s;
  row.requests_per_s = m.requests_per_s;
  row.goodput_per_s = m.goodput_per_s;
  const serve::Quantile& ttft = m.ttft_due_s.quantiles[2];
  const serve::Quantile& tpot = m.tpot_s.quantiles[2];
  row.ttft_p99 = serve::QuantileMs(ttft);
  row.tpot_p99 = serve::QuantileMs(tpot);
  if (ttft.value) row.ttft_p99_ms = *ttft.value * 1e3;
  if (tpot.value) row.tpot_p99_ms = *tpot.value * 1e3;
  row.verdict = v.why.empty() ? serve::VerdictName(v.verdict) : fmt::format("{} ({})", serve::VerdictName(v.verdict), v.why);
  row.failures = m.failures;
  return row;
}

std::string SweepText(const report::SweepFigures& sweep) {
  auto fig = [](std::optional<double> v) { return v ? FormatFigure(*v) : std::string("-"); };
  report::TextTable table({"rate (req/s)", "achieved", "p99 TTFT from due (ms) [95% CI]", "p99 TPOT (ms) [95% CI]",
                           "tokens/s", "requests/s", "goodput/s", "verdict"},
                          {true, true, true, true, true, true, true, false});
  std::string failures;
  for (const report::SweepRow& r : sweep.rows) {
    table.AddRow({FormatFigure(r.rate), fig(r.achieved), r.ttft_p99, r.tpot_p99, fig(r.tokens_per_s),
                  fig(r.requests_per_s), fig(r.goodput_per_s), r.verdict});
    for (const auto& [status, count] : r.failures) {
      failures += fmt::format("  {} req/s failed: {} x{}\n", FormatFigure(r.rate), status, count);
    }
  }
  return table.Render() + failures;
}

namespace {

// The stored options of a sweep's cell, or null when the cell is not one (or its row is damaged:
// a database is input too, and a bad row is skipped, never a crash).
nlohmann::json SweepOptions(const store::CellRow& c) {
  auto config = nlohmann::json::parse(c.config_json, nullptr, false);
  if (!config.is_object() || !config.contains("options") || !config["options"].is_object()) return nullptr;
  nlohmann::json o = config["options"];
  if (!o.contains("sweep") || !o["sweep"].is_object() || !o.contains("rate") || !o["rate"].is_number()) return nullptr;
  return o;
}

std::optional<double> Number(const nlohmann::json& o, const char* key) {
  return o.contains(key) && o[key].is_number() ? std::optional<double>(o[key].get<double>()) : std::nullopt;
}

std::string Text(const nlohmann::json& o, const char* key, const std::string& fallback) {
  return o.contains(key) && o[key].is_string() ? o[key].get<std::string>() : fallback;
}

}  // namespace

bool IsSweepCell(const store::CellRow& c) { return !SweepOptions(c).is_null(); }

std::vector<report::SweepFigures> SweepsOf(store::Db& db, int64_t run_id, const std::vector<store::CellRow>& cells) {
  std::vector<report::SweepFigures> out;
  std::vector<std::pair<report::SweepRow, serve::RateVerdict>> rates;
  report::SweepFigures sweep;
  serve::Slo slo;
  for (const auto& c : cells) {
    const nlohmann::json o = SweepOptions(c);
    if (o.is_null()) continue;
    if (rates.empty()) {
      const nlohmann::json& limits = o["sweep"];
      slo.ttft_s = Number(limits, "ttft_s");
      slo.tpot_s = Number(limits, "tpot_s");
      sweep.run_id = run_id;
      const std::optional<double> requests = Number(o, "requests");
      sweep.label = fmt::format("{} {}, {} arrivals, {} requests per rate", c.model, Text(o, "url", "the server"),
                                Text(o, "arrival", "poisson"), requests ? FormatFigure(*requests) : "?");
      sweep.limits = SloText(slo);
      if (slo.ttft_s) sweep.ttft_limit_ms = *slo.ttft_s * 1e3;
      if (slo.tpot_s) sweep.tpot_limit_ms = *slo.tpot_s * 1e3;
    }
    const double rate = o["rate"].get<double>();
    // The rate's load: its first stored repetition with traces, whatever its status (a rate whose
    // requests all failed is judged as failing, not left out); an interrupted one is not stored.
    for (const auto& r : store::GetRepetitions(db, c.cell_id)) {
      if (r.status == "interrupted") continue;
      auto traces = store::GetRequests(db, r.repetition_id, /*with_warmup=*/true);
      if (traces.empty()) continue;
      const serve::LoadMetrics m = serve::Summarize(traces, slo, true);
      const serve::RateVerdict v = serve::JudgeRate(rate, m, slo);
      rates.emplace_back(SweepRowOf(rate, m, v), v);
      break;
    }
  }
  if (rates.empty() || (!slo.ttft_s && !slo.tpot_s)) return out;
  std::sort(rates.begin(), rates.end(), [](const auto& a, const auto& b) { return a.first.rate < b.first.rate; });
  std::vector<serve::RateVerdict> verdicts;
  for (auto& [row, v] : rates) {
    sweep.rows.push_back(std::move(row));
    verdicts.push_back(std::move(v));
  }
  sweep.answer = serve::Answer(verdicts).text;
  out.push_back(std::move(sweep));
  return out;
}

}  // namespace dlb::cli
