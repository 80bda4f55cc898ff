#include "run/shard.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "analysis/pairing.h"
#include "run/estimate.h"
#include "util/strings.h"

namespace dlb::run {

std::optional<Shard> ParseShard(const std::string& text) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  auto i = ParseInt(text.substr(0, slash));
  auto n = ParseInt(text.substr(slash + 1));
  if (!i || !n || *n < 1 || *n > 4096 || *i < 0 || *i >= *n) return std::nullopt;
  return Shard{static_cast<int>(*i), static_cast<int>(*n)};
}

std::vector<int> AssignShards(const plan::Plan& plan, int count) {
  const auto& e = plan.experiment;
  // Groups in the order of their first cell.
  std::map<std::string, size_t> group_of_key;
  std::vector<std::vector<size_t>> groups;
  std::vector<double> cost;
  for (size_t i = 0; i < plan.cells.size(); ++i) {
    std::string key = analysis::KeyWithout(analysis::Coordinates(plan.cells[i]), e.compare_by);
    auto [it, fresh] = group_of_key.try_emplace(key, groups.size());
    if (fresh) {
      groups.emplace_back();
      cost.push_back(0);
    }
    groups[it->second].push_back(i);
    plan::Cell c = plan.cells[i];
    c.energy.windows = 0;  // host-dependent (see the header)
    RepetitionCost m = ModelCost(c);
    const int reps = std::max(1, e.repetitions);
    cost[it->second] += m.first_fixed_s + (reps - 1) * m.later_fixed_s + reps * m.measure_expected_s;
  }
  std::vector<size_t> order(groups.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return cost[a] > cost[b]; });
  std::vector<double> load(static_cast<size_t>(count), 0);
  std::vector<int> shard_of(plan.cells.size(), 0);
  for (size_t g : order) {
    const auto least = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[least] += cost[g];
    for (size_t cell : groups[g]) shard_of[cell] = static_cast<int>(least);
  }
  return shard_of;
}

plan::Plan SelectShard(const plan::Plan& plan, const Shard& shard) {
  const std::vector<int> shard_of = AssignShards(plan, shard.count);
  plan::Plan out;
  out.experiment = plan.experiment;
  std::vector<int> position(plan.cells.size(), -1);
  for (size_t i = 0; i < plan.cells.size(); ++i) {
    if (shard_of[i] != shard.index) continue;
    position[i] = static_cast<int>(out.cells.size());
    out.cells.push_back(plan.cells[i]);
  }
  for (size_t k = 0; k < plan.tasks.size(); ++k) {
    const plan::Task& t = plan.tasks[k];
    const int p = position[static_cast<size_t>(t.cell_idx)];
    if (p >= 0) out.tasks.push_back({p, t.rep_idx, static_cast<int>(k)});
  }
  return out;
}

std::string DefaultSweepId(const plan::Plan& whole, const std::vector<std::string>& filters, int count) {
  // FNV-1a, 64 bits (Fowler, Noll, Vo): stable across machines and compilers, unlike std::hash.
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char ch : s) {
      h ^= ch;
      h *= 0x100000001b3ULL;
    }
    h ^= 0xff;  // separator, so ("ab", "c") and ("a", "bc") differ
    h *= 0x100000001b3ULL;
  };
  mix(whole.experiment.source_text);
  for (const auto& f : filters) mix(f);
  mix(std::to_string(count));
  return fmt::format("sweep-{:016x}", h);
}

bool ValidSweepId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

}  // namespace dlb::run
