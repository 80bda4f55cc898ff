#include "run/sampler.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "stats/descriptive.h"

namespace dlb::run {
namespace {

double Median(std::span<const int64_t> v) {
  std::vector<double> d(v.begin(), v.end());
  std::sort(d.begin(), d.end());
  return stats::PercentileSorted(d, 50);
}

}  // namespace

int WarmupWindow(const plan::SamplingSettings& s) {
  return std::max(3, s.warmup_min_iterations / 2);
}

WarmupDecision DecideWarmup(std::span<const int64_t> warmup_ns, const plan::SamplingSettings& s) {
  const auto n = static_cast<int64_t>(warmup_ns.size());
  if (n >= s.warmup_max_iterations) {
    if (s.warmup_max_iterations == 0) return {true, true};  // no warm-up asked for
    int w = WarmupWindow(s);
    if (n < 2 * w) return {true, false};
    double last = Median(warmup_ns.subspan(static_cast<size_t>(n - w)));
    double prev = Median(warmup_ns.subspan(static_cast<size_t>(n - 2 * w), static_cast<size_t>(w)));
    bool settled = prev > 0 && std::fabs(last - prev) / prev < s.warmup_tolerance;
    return {true, settled};
  }
  if (n < s.warmup_min_iterations) return {false, false};
  int w = WarmupWindow(s);
  if (n < 2 * w) return {false, false};
  double last = Median(warmup_ns.subspan(static_cast<size_t>(n - w)));
  double prev = Median(warmup_ns.subspan(static_cast<size_t>(n - 2 * w), static_cast<size_t>(w)));
  if (prev > 0 && std::fabs(last - prev) / prev < s.warmup_tolerance) return {true, true};
  if (prev == 0 && last == 0) return {true, true};
  return {false, false};
}

int64_t NextChunk(double estimate_ns, int64_t already, int64_t cap, double chunk_target_s) {
  constexpr int64_t kMaxChunk = 200'000;  // keeps one reply well under a few MB of JSON
  int64_t left = std::max<int64_t>(cap - already, 1);
  double want = estimate_ns > 0 ? chunk_target_s * 1e9 / estimate_ns : 1;
  auto chunk = static_cast<int64_t>(std::clamp(want, 1.0, static_cast<double>(kMaxChunk)));
  return std::min(chunk, left);
}

bool NearOverhead(double median_ns, int64_t overhead_ns) {
  return overhead_ns > 0 && median_ns < 100.0 * static_cast<double>(overhead_ns);
}

int64_t BlockSize(double median_ns, int64_t overhead_ns) {
  constexpr double kRatio = 1e4;
  constexpr int64_t kMaxBlock = 1'000'000;
  if (!NearOverhead(median_ns, overhead_ns)) return 1;
  double need = kRatio * static_cast<double>(overhead_ns);
  double per = std::max(median_ns, 1.0);
  return std::clamp<int64_t>(static_cast<int64_t>(std::ceil(need / per)), 1, kMaxBlock);
}

MedianEstimate EstimateMedian(const std::vector<double>& sorted, double confidence) {
  MedianEstimate m;
  if (sorted.empty()) return m;
  m.median = stats::PercentileSorted(sorted, 50);
  if (auto ci = stats::MedianConfidenceInterval(sorted, confidence); ci && *m.median > 0) {
    m.rel_ci = std::max(*m.median - ci->lo, ci->hi - *m.median) / *m.median;
  } else if (ci && *m.median == 0) {
    m.rel_ci = ci->hi == ci->lo ? 0.0 : INFINITY;
  }
  return m;
}

bool FloorsMet(std::span<const int64_t> samples, const plan::SamplingSettings& s, int64_t block) {
  const auto n = static_cast<int64_t>(samples.size());
  double sample_time_s = 0;
  for (int64_t v : samples) sample_time_s += static_cast<double>(v) * 1e-9;
  sample_time_s *= static_cast<double>(block);
  return n > 0 && n >= s.min_iterations && sample_time_s >= s.min_time_s;
}

bool LacksCleanSamples(int excluded_chunks, std::span<const int64_t> kept, std::span<const int64_t> all,
                       const plan::SamplingSettings& s, int64_t block) {
  if (excluded_chunks == 0) return false;
  if (kept.empty()) return true;
  if (FloorsMet(kept, s, block)) return false;
  return FloorsMet(all, s, block) || 2 * kept.size() < all.size();
}

StopDecision DecideStop(std::span<const int64_t> kept_ns, const plan::SamplingSettings& s,
                        double elapsed_s, int64_t block, int64_t steady_total) {
  StopDecision d;
  const auto n = static_cast<int64_t>(kept_ns.size());
  const int64_t total = std::max(n, steady_total);
  if (n > 0) {
    std::vector<double> sorted(kept_ns.begin(), kept_ns.end());
    std::sort(sorted.begin(), sorted.end());
    const MedianEstimate m = EstimateMedian(sorted, s.confidence);
    d.median_ns = m.median;
    d.rel_ci = m.rel_ci;
  }
  d.floors_met = FloorsMet(kept_ns, s, block);
  if (d.floors_met && d.rel_ci && *d.rel_ci <= s.target_rel_ci) {
    d.stop = d.converged = true;
    d.reason = "converged";
  } else if (total >= s.max_iterations) {
    d.stop = true;
    d.reason = "max_iterations";
  } else if (elapsed_s >= s.max_time_s) {
    d.stop = true;
    d.reason = "max_time";
  } else {
    d.reason = n == 0 ? "no samples" : d.floors_met ? "ci too wide" : "below floors";
  }
  return d;
}

}  // namespace dlb::run
