// dlbench's exit codes, all in one place, as ninja keeps its own in exit_status.h.
#pragma once

namespace dlb::cli {

enum class ExitCode {
  kDone = 0,          // everything ran
  kSomeFailed = 1,    // finished, but some cells failed (results saved)
  kUsage = 2,         // usage or input error; nothing ran
  kEnvironment = 3,   // the environment failed (database, Python, disk)
  kInterrupted = 130, // interrupted by the user; the database is consistent
};

inline int ToInt(ExitCode c) { return static_cast<int>(c); }

}  // namespace dlb::cli
