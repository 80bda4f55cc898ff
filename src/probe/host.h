// Facts about the host that change measurements (methodology rules 14 and 16): CPU model, cores,
// ISA flags, memory, frequency governor, turbo, ASLR, isolated CPUs. Read from /proc and /sys;
// anything unreadable is recorded as unknown, never guessed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dlb::probe {

struct HostFacts {
  std::string hostname;
  std::string kernel;  // uname -r
  std::string cpu_model;
  int logical_cpus = 0;
  std::vector<int> allowed_cpus;  // sched_getaffinity of the controller
  std::vector<std::string> isa_flags;  // the ones that matter for DL kernels (avx2, avx512*, amx*)
  std::optional<int64_t> memory_bytes;
  std::optional<std::string> governor;  // cpu0's scaling_governor
  std::optional<bool> turbo;             // true when turbo/boost is enabled
  std::optional<int> aslr;               // /proc/sys/kernel/randomize_va_space
  std::optional<std::string> isolated_cpus;
};

HostFacts ReadHostFacts();
std::string HostFactsJson(const HostFacts& facts);

// pyperf-style warnings about the host, one line each ("CPU governor is powersave ...").
std::vector<std::string> HostWarnings(const HostFacts& facts);

}  // namespace dlb::probe
