#include "run/failure.h"

#include <signal.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "util/fd.h"
#include "util/strings.h"

namespace dlb::run {
namespace {

// What a worker's log says when memory ran out, as the libraries print it.
constexpr std::array<std::string_view, 8> kOomMarkers = {
    "MemoryError",                                  // Python, including an address-space limit
    "failed to map segment from shared object",     // the dynamic loader under ulimit -v
    "Cannot allocate memory",                       // strerror(ENOMEM)
    "std::bad_alloc",                               // C++ code inside a framework
    "out of memory",                                // CUDA, PyTorch's CUDA allocator
    "OutOfMemoryError",                             // torch.OutOfMemoryError, java-style names
    "RESOURCE_EXHAUSTED",                           // XLA
    "Killed process",                               // a kernel log line copied into the log
};

// The log line holding the first marker, trimmed to a readable length.
std::optional<std::string> OomLine(std::string_view log) {
  for (auto marker : kOomMarkers) {
    size_t at = log.find(marker);
    if (at == std::string_view::npos) continue;
    size_t begin = log.rfind('\n', at);
    begin = begin == std::string_view::npos ? 0 : begin + 1;
    size_t end = log.find('\n', at);
    std::string line(Trim(log.substr(begin, end == std::string_view::npos ? end : end - begin)));
    if (line.size() > 200) line = line.substr(0, 197) + "...";
    return line;
  }
  return std::nullopt;
}

bool ForeignSigkill(const DeathEvidence& e) {
  if (e.killed_by_controller) return false;
  // 137 = 128 + SIGKILL: how a shell in the launch prefix reports a child killed by SIGKILL.
  return e.status.term_signal == SIGKILL || e.status.exit_code == 128 + SIGKILL;
}

}  // namespace

std::optional<int64_t> ParseOomKillCount(std::string_view text) {
  for (const auto& line : Split(text, '\n')) {
    auto fields = Split(Trim(line), ' ');
    if (fields.size() == 2 && fields[0] == "oom_kill") {
      int64_t n = 0;
      auto [p, ec] = std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), n);
      if (ec == std::errc() && p == fields[1].data() + fields[1].size()) return n;
    }
  }
  return std::nullopt;
}

std::optional<int64_t> ReadOomKillCount() {
  std::string cgroups;
  if (!ReadFile("/proc/self/cgroup", &cgroups)) return std::nullopt;
  // "0::/path" on cgroup v2; "N:memory:/path" (or "N:...,memory,...:/path") on v1.
  for (const auto& line : Split(cgroups, '\n')) {
    auto parts = Split(line, ':');
    if (parts.size() < 3) continue;
    std::string path = line.substr(parts[0].size() + parts[1].size() + 2);
    std::string file;
    if (parts[0] == "0" && parts[1].empty()) {
      file = "/sys/fs/cgroup" + path + "/memory.events";
    } else if (("," + parts[1] + ",").find(",memory,") != std::string::npos) {
      file = "/sys/fs/cgroup/memory" + path + "/memory.oom_control";
    } else {
      continue;
    }
    std::string text;
    if (ReadFile(file, &text)) {
      if (auto n = ParseOomKillCount(text)) return n;
    }
  }
  return std::nullopt;
}

std::optional<std::string> OutOfMemoryCause(const DeathEvidence& e) {
  if (!e.killed_by_controller && e.oom_kills_before && e.oom_kills_after &&
      *e.oom_kills_after > *e.oom_kills_before) {
    return fmt::format("the kernel's OOM killer ended it (memory cgroup oom_kill {} -> {})",
                       *e.oom_kills_before, *e.oom_kills_after);
  }
  if (auto line = OomLine(e.log)) return fmt::format("the log says: {}", *line);
  return std::nullopt;
}

std::string ForeignKillNote(const DeathEvidence& e) {
  if (!ForeignSigkill(e)) return {};
  return "SIGKILL from outside dlbench: the kernel's OOM killer, a batch scheduler or a user "
         "(see dmesg)";
}

}  // namespace dlb::run
