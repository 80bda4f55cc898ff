#include "serve/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>

#include "stats/descriptive.h"
#include "util/strings.h"

namespace dlb::serve {

namespace {
constexpr double kNs = 1e-9;
}

std::string QuantileMs(const Quantile& q) {
  auto ms = [](double s) { return FormatFigure(s * 1e3); };
  if (!q.value) return q.why_not.empty() ? "-" : q.why_not;
  if (q.lo && q.hi) return fmt::format("{} [{}, {}]", ms(*q.value), ms(*q.lo), ms(*q.hi));
  return ms(*q.value);
}

RequestMetrics MetricsOf(const RequestTrace& t) {
  RequestMetrics m;
  m.output_tokens = t.OutputTokens();
  if (!t.ok() || t.chunks.empty() || m.output_tokens < 1) return m;
  const int64_t first = t.chunks.front().arrival_ns, last = t.chunks.back().arrival_ns;
  m.ttft_due_s = static_cast<double>(first - t.due_ns) * kNs;
  m.ttft_sent_s = static_cast<double>(first - t.sent_ns) * kNs;
  if (m.output_tokens >= 2) {
    m.tpot_s = static_cast<double>(last - first) * kNs / static_cast<double>(m.output_tokens - 1);
  }
  m.e2e_s = static_cast<double>(t.done_ns - t.due_ns) * kNs;
  return m;
}

std::vector<double> InterTokenLatencies(const RequestTrace& t) {
  std::vector<double> out;
  if (!t.ok()) return out;
  for (size_t i = 1; i < t.chunks.size(); ++i) {
    const Chunk& c = t.chunks[i];
    if (c.tokens < 1) continue;
    const double per = static_cast<double>(c.arrival_ns - t.chunks[i - 1].arrival_ns) * kNs / c.tokens;
    out.insert(out.end(), static_cast<size_t>(c.tokens), per);
  }
  return out;
}

bool MeetsSlo(const RequestMetrics& m, const Slo& slo) {
  if (!m.ttft_due_s) return false;
  if (slo.ttft_s && *m.ttft_due_s > *slo.ttft_s) return false;
  // A one-token answer has no TPOT; it cannot break a TPOT limit.
  if (slo.tpot_s && m.tpot_s && *m.tpot_s > *slo.tpot_s) return false;
  return true;
}

Distribution Describe(std::vector<double> values) {
  Distribution d;
  d.n = static_cast<int64_t>(values.size());
  std::sort(values.begin(), values.end());
  if (!values.empty()) {
    d.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  }
  for (auto [q, min_n] : {std::pair{0.5, int64_t{1}}, std::pair{0.9, stats::kMinSamplesP90},
                          std::pair{0.99, stats::kMinSamplesP99}}) {
    Quantile out;
    out.q = q;
    if (d.n < min_n || d.n == 0) {
      out.why_not = d.n == 0 ? "no values" : "n<" + std::to_string(min_n);
    } else {
      out.value = stats::PercentileSorted(values, q * 100);
      if (auto ci = stats::QuantileConfidenceInterval(values, q, 0.95)) {
        out.lo = ci->lo;
        out.hi = ci->hi;
      }
    }
    d.quantiles.push_back(out);
  }
  return d;
}

LoadMetrics Summarize(std::span<const RequestTrace> traces, const Slo& slo, bool has_due_times) {
  LoadMetrics out;
  // The window: from the last token event of the warm-up set to the last of the measured set.
  int64_t start_ns = 0, end_ns = 0;
  bool any_warmup = false;
  for (const RequestTrace& t : traces) {
    const int64_t last_event = std::max(t.done_ns, t.chunks.empty() ? 0 : t.chunks.back().arrival_ns);
    if (t.warmup) {
      ++out.warmup;
      start_ns = any_warmup ? std::max(start_ns, last_event) : last_event;
      any_warmup = true;
    }
  }
  std::map<std::string, int64_t> failures, sources;
  std::vector<double> ttft_due, ttft_sent, tpot, itl, e2e, delay;
  std::vector<int64_t> sends;
  int64_t finished_in_window = 0;
  for (const RequestTrace& t : traces) {
    if (t.warmup) continue;
    ++out.measured;
    sends.push_back(t.sent_ns);
    if (has_due_times) delay.push_back(static_cast<double>(t.sent_ns - t.due_ns) * kNs);
    if (!t.ok()) {
      ++out.failed;
      ++failures[t.status];
      continue;
    }
    ++out.ok;
    ++sources[t.token_source];
    for (const Chunk& c : t.chunks) {
      end_ns = std::max(end_ns, c.arrival_ns);
      if (c.arrival_ns >= start_ns) out.window_tokens += c.tokens;
    }
    end_ns = std::max(end_ns, t.done_ns);
    const RequestMetrics m = MetricsOf(t);
    if (t.done_ns >= start_ns) {
      ++finished_in_window;
      if (MeetsSlo(m, slo)) ++out.met_slo;
    }
    if (m.ttft_due_s) ttft_due.push_back(*m.ttft_due_s);
    if (m.ttft_sent_s) ttft_sent.push_back(*m.ttft_sent_s);
    if (m.tpot_s) tpot.push_back(*m.tpot_s);
    if (m.e2e_s) e2e.push_back(*m.e2e_s);
    const std::vector<double> l = InterTokenLatencies(t);
    itl.insert(itl.end(), l.begin(), l.end());
  }
  out.failures.assign(failures.begin(), failures.end());
  for (const auto& [source, count] : sources) {
    if (!out.token_sources.empty()) out.token_sources += ", ";
    out.token_sources += sources.size() == 1 ? source : source + " " + std::to_string(count);
  }
  out.window_start_s = static_cast<double>(start_ns) * kNs;
  if (end_ns > start_ns) {
    out.window_s = static_cast<double>(end_ns - start_ns) * kNs;
    out.output_tokens_per_s = static_cast<double>(out.window_tokens) / out.window_s;
    out.requests_per_s = static_cast<double>(finished_in_window) / out.window_s;
    out.goodput_per_s = static_cast<double>(out.met_slo) / out.window_s;
  }
  std::sort(sends.begin(), sends.end());
  if (sends.size() >= 2 && sends.back() > sends.front()) {
    out.achieved_rate = static_cast<double>(sends.size() - 1) /
                        (static_cast<double>(sends.back() - sends.front()) * kNs);
  }
  out.send_delay_s = Describe(std::move(delay));
  out.ttft_due_s = Describe(std::move(ttft_due));
  out.ttft_sent_s = Describe(std::move(ttft_sent));
  out.tpot_s = Describe(std::move(tpot));
  out.itl_s = Describe(std::move(itl));
  out.e2e_s = Describe(std::move(e2e));
  return out;
}

}  // namespace dlb::serve
