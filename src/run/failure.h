// Why a worker died, when its exit status alone does not say. Out of memory shows in several
// places and none is certain on its own: the kernel's OOM killer sends SIGKILL and counts the kill
// in the cgroup (memory.events on cgroup v2, memory.oom_control on v1); an address-space limit
// (ulimit -v, prlimit --as) makes Python raise MemoryError or the dynamic loader fail to map a
// library; frameworks print their own messages (CUDA "out of memory", XLA RESOURCE_EXHAUSTED,
// std::bad_alloc). These are pure functions over what the controller saw, so every case is tested
// without exhausting any memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/process.h"

namespace dlb::run {

// OOM kills counted so far in this process's memory cgroup, or nullopt where no cgroup file can
// be read. The worker starts in the controller's cgroup, and both cgroup files count the
// descendants, so a growing count across a repetition means the kernel killed something of ours.
std::optional<int64_t> ReadOomKillCount();

// The count from a memory.events (v2) or memory.oom_control (v1) text: its "oom_kill N" line.
std::optional<int64_t> ParseOomKillCount(std::string_view text);

struct DeathEvidence {
  ExitStatus status;
  bool killed_by_controller = false;  // the controller sent the SIGKILL (timeout, Ctrl-C, protocol)
  std::string_view log;               // the worker's stderr
  std::optional<int64_t> oom_kills_before, oom_kills_after;
};

// "the kernel's OOM killer ended it (memory cgroup oom_kill 0 -> 1)", "the log says: MemoryError",
// or nullopt when nothing points at memory.
std::optional<std::string> OutOfMemoryCause(const DeathEvidence& e);

// A short note for a SIGKILL (or a shell's exit status 137) that the controller did not send and
// that no evidence ties to memory: who else sends it. Empty otherwise.
std::string ForeignKillNote(const DeathEvidence& e);

}  // namespace dlb::run
