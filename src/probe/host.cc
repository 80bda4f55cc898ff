#include "probe/host.h"

#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "util/fd.h"
#include "util/strings.h"

namespace dlb::probe {
namespace {

std::optional<std::string> ReadTrimmed(const std::string& path) {
  std::string text;
  if (!ReadFile(path, &text)) return std::nullopt;
  return std::string(Trim(text));
}

}  // namespace

HostFacts ReadHostFacts() {
  HostFacts h;
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  h.hostname = host;
  utsname u{};
  if (::uname(&u) == 0) h.kernel = u.release;
  h.logical_cpus = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int i = 0; i < CPU_SETSIZE; ++i)
      if (CPU_ISSET(i, &set)) h.allowed_cpus.push_back(i);
  }
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto key = Trim(std::string_view(line).substr(0, colon));
    auto value = std::string(Trim(std::string_view(line).substr(colon + 1)));
    if (key == "model name" && h.cpu_model.empty()) h.cpu_model = value;
    if (key == "flags" && h.isa_flags.empty()) {
      for (const auto& f : Split(value, ' ')) {
        if (f == "avx" || f == "avx2" || f == "fma" || f == "f16c" || StartsWith(f, "avx512") ||
            StartsWith(f, "amx") || f == "avx_vnni" || f == "sse4_2") {
          h.isa_flags.push_back(f);
        }
      }
    }
  }
  std::ifstream meminfo("/proc/meminfo");
  while (std::getline(meminfo, line)) {
    if (StartsWith(line, "MemTotal:")) {
      std::istringstream ss(line.substr(9));
      int64_t kib = 0;
      ss >> kib;
      h.memory_bytes = kib * 1024;
    }
  }
  h.governor = ReadTrimmed("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  if (auto no_turbo = ReadTrimmed("/sys/devices/system/cpu/intel_pstate/no_turbo")) {
    h.turbo = *no_turbo == "0";
  } else if (auto boost = ReadTrimmed("/sys/devices/system/cpu/cpufreq/boost")) {
    h.turbo = *boost == "1";
  }
  if (auto aslr = ReadTrimmed("/proc/sys/kernel/randomize_va_space")) {
    if (auto v = ParseInt(*aslr)) h.aslr = static_cast<int>(*v);
  }
  h.isolated_cpus = ReadTrimmed("/sys/devices/system/cpu/isolated");
  return h;
}

std::string HostFactsJson(const HostFacts& h) {
  auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json j = {{"hostname", h.hostname},          {"kernel", h.kernel},
                      {"cpu_model", h.cpu_model},        {"logical_cpus", h.logical_cpus},
                      {"allowed_cpus", h.allowed_cpus},  {"isa_flags", h.isa_flags},
                      {"memory_bytes", opt(h.memory_bytes)}, {"governor", opt(h.governor)},
                      {"turbo", opt(h.turbo)},           {"aslr", opt(h.aslr)},
                      {"isolated_cpus", opt(h.isolated_cpus)}};
  return j.dump();
}

std::vector<std::string> HostWarnings(const HostFacts& h) {
  std::vector<std::string> w;
  if (h.governor && *h.governor != "performance") {
    w.push_back(fmt::format(
        "CPU frequency governor is \"{}\": timings vary with the clock; set it to performance "
        "(cpupower frequency-set -g performance)", *h.governor));
  }
  if (h.turbo && *h.turbo) {
    w.push_back("turbo boost is on: clocks depend on temperature and load; consider turning it off");
  }
  if (h.aslr && *h.aslr != 2) {
    w.push_back(fmt::format("ASLR is {} (not 2): keep it on and let repetitions sample layouts "
                            "(docs/methodology.md rule 10)", *h.aslr));
  }
  return w;
}

}  // namespace dlb::probe
