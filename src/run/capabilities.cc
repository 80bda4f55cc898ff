#include "run/capabilities.h"

#include <fmt/format.h>

#include "run/protocol.h"
#include "run/worker.h"
#include "util/error.h"
#include "util/strings.h"

namespace dlb::run {

std::vector<std::string> CapabilitiesArgv(const plan::WorkerEntry& entry, const WorkerLaunch& launch) {
  std::vector<std::string> argv = ExpandCommand(entry, launch.Variables());
  argv.push_back("--capabilities");
  return argv;
}

const plan::WorkerCapabilities& WorkerCapabilityCache::Get(const plan::WorkerEntry& entry) {
  std::vector<std::string> argv = CapabilitiesArgv(entry, launch_);
  if (auto it = cache_.find(argv); it != cache_.end()) return it->second;
  ++calls_;
  auto fail = [&](const std::string& why) -> void {
    if (entry.defined_at.empty()) {
      throw EnvError(fmt::format("the {} worker cannot say what it runs ({}): {}", entry.name,
                                 Join(argv, " "), why));
    }
    throw UserError(fmt::format("{}: workers.{}.command: the worker cannot say what it runs ({}): {}",
                                entry.defined_at, entry.name, Join(argv, " "), why));
  };
  auto process = WorkerProcess::Start(argv, WorkerBaseEnvironment(launch_));
  if (!process) fail(process.error());
  auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s_ * 1000));
  auto line = process->ReadLine(timeout);
  if (!line) {
    bool gone = line.error() == ChannelFault::kExited;
    ExitStatus st = gone ? process->Finish(std::chrono::seconds(5)) : process->Kill();
    std::string log(Trim(process->Log(2048)));
    fail(fmt::format("{} ({}){}", ChannelFaultName(line.error()), st.Describe(),
                     log.empty() ? "" : "; its log: " + TerminalSafe(log)));
  }
  ExitStatus st = process->Finish(std::chrono::seconds(5));
  if (st.term_signal != 0 || st.exit_code != 0) fail(fmt::format("it {}", st.Describe()));
  try {
    return cache_.emplace(std::move(argv), DecodeCapabilities(*line)).first->second;
  } catch (const ProtocolError& e) {
    fail(e.what());
  }
  throw std::logic_error("unreachable");
}

}  // namespace dlb::run
