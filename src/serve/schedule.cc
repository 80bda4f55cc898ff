#include "serve/schedule.h"

#include <fmt/format.h>

#include <cmath>

#include "util/random.h"

namespace dlb::serve {

std::string ArrivalName(Arrival a) {
  switch (a) {
    case Arrival::kOffline: return "offline";
    case Arrival::kClosed: return "closed";
    case Arrival::kPoisson: return "poisson";
    case Arrival::kGamma: return "gamma";
  }
  return "?";
}

stats::Expected<Arrival> ParseArrival(const std::string& name) {
  for (Arrival a : {Arrival::kOffline, Arrival::kClosed, Arrival::kPoisson, Arrival::kGamma}) {
    if (name == ArrivalName(a)) return a;
  }
  return std::unexpected(
      fmt::format("unknown arrival \"{}\" (allowed: offline, closed, poisson, gamma)", name));
}

std::vector<std::string> CheckLoadSpec(const LoadSpec& s) {
  std::vector<std::string> bad;
  const bool open = s.arrival == Arrival::kPoisson || s.arrival == Arrival::kGamma;
  if (open && !(s.rate > 0 && std::isfinite(s.rate))) {
    bad.push_back(fmt::format("rate: must be a finite number > 0 for {} arrivals, got {}",
                              ArrivalName(s.arrival), s.rate));
  }
  if (s.arrival == Arrival::kGamma && !(s.burstiness > 0 && std::isfinite(s.burstiness))) {
    bad.push_back(fmt::format("burstiness: must be > 0 (1 is Poisson), got {}", s.burstiness));
  }
  if (s.arrival == Arrival::kClosed && s.concurrency < 1) {
    bad.push_back(fmt::format("concurrency: must be >= 1, got {}", s.concurrency));
  }
  if (s.requests < 1) bad.push_back(fmt::format("requests: must be >= 1, got {}", s.requests));
  if (s.warmup < 0) bad.push_back(fmt::format("warmup: must be >= 0, got {}", s.warmup));
  for (const auto& [name, l] : {std::pair{"input_tokens", s.input}, std::pair{"output_tokens", s.output}}) {
    if (l.min < 1 || l.max < l.min) {
      bad.push_back(fmt::format("{}: needs 1 <= min <= max, got [{}, {}]", name, l.min, l.max));
    }
  }
  return bad;
}

namespace {
int64_t DrawLength(Rng& rng, const Lengths& l) {
  if (l.min == l.max) return l.min;
  return l.min + static_cast<int64_t>(UniformIndex(rng, static_cast<uint64_t>(l.max - l.min + 1)));
}
}  // namespace

std::vector<ScheduledRequest> MakeSchedule(const LoadSpec& spec) {
  // Three independent streams, so that changing the rate keeps the lengths and the reverse.
  Rng gaps(spec.seed * 3 + 1), inputs(spec.seed * 3 + 2), outputs(spec.seed * 3 + 3);
  const int64_t total = spec.warmup + spec.requests;
  std::vector<ScheduledRequest> out;
  out.reserve(static_cast<size_t>(total));
  double t_s = 0;
  for (int64_t i = 0; i < total; ++i) {
    ScheduledRequest r;
    r.index = i;
    r.warmup = i < spec.warmup;
    switch (spec.arrival) {
      case Arrival::kOffline: r.due_ns = 0; break;
      case Arrival::kClosed: r.due_ns = -1; break;
      case Arrival::kPoisson: t_s += -std::log(Uniform01(gaps)) / spec.rate; break;
      case Arrival::kGamma:
        t_s += GammaVariate(gaps, spec.burstiness) / (spec.burstiness * spec.rate);
        break;
    }
    if (spec.arrival == Arrival::kPoisson || spec.arrival == Arrival::kGamma) {
      r.due_ns = static_cast<int64_t>(std::llround(t_s * 1e9));
    }
    r.input_tokens = DrawLength(inputs, spec.input);
    r.output_tokens = DrawLength(outputs, spec.output);
    out.push_back(r);
  }
  return out;
}

}  // namespace dlb::serve
