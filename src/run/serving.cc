#include "run/serving.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "serve/client.h"
#include "serve/metrics.h"
#include "serve/schedule.h"
#include "serve/server_process.h"
#include "run/sampler.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/interrupt.h"
#include "util/process.h"
#include "util/strings.h"

namespace dlb::run {
namespace {

// The tail of a server's log kept with its repetition.
constexpr size_t kServerLogBytes = 256 * 1024;

// A port nothing listens on now (the kernel's pick); the server binds it a moment later.
std::string FreePort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd.get() < 0 || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw EnvError("cannot pick a free port for the server (socket/bind on 127.0.0.1 failed)");
  }
  return std::to_string(ntohs(addr.sin_port));
}

// A server's launcher may report what it sees, as a worker's hello does: one line
// "dlbench-environment: {...}" near the start of its output. Returned as a hello object
// ({"environment": {...}}), or "" when there is none or it is not a JSON object.
std::string EnvironmentHello(const std::string& log_path) {
  constexpr std::string_view kMarker = "dlbench-environment: ";
  for (const std::string& line : Split(serve::FileHead(log_path, 64 * 1024), '\n')) {
    if (!line.starts_with(kMarker)) continue;
    auto j = nlohmann::json::parse(line.substr(kMarker.size()), nullptr, false);
    return j.is_object() ? nlohmann::json{{"environment", j}}.dump() : "";
  }
  return "";
}

void Fail(RepetitionResult& r, const std::string& kind, const std::string& phase, const std::string& message) {
  r.status = RepStatus::kFailed;
  r.error_kind = kind;
  r.phase = phase;
  r.message = message;
}

}  // namespace

void SetLoadOutcome(RepetitionResult& r, std::vector<result::RequestTrace> traces) {
  result::GenerationMeasurement g;
  int64_t ok = 0;
  std::map<std::string, int64_t> failed;
  for (const auto& t : traces) {
    const auto e2e = serve::MetricsOf(t).e2e_s;
    g.calls.wall_ns.push_back(e2e ? static_cast<int64_t>(*e2e * 1e9) : 0);  // 0: failed, never a sample
    g.calls.chunk_idx.push_back(0);
    if (t.warmup) {
      ++g.calls.warmup_count;
    } else if (t.status == "ok") {
      ++ok;
    } else {
      ++failed[t.status];
    }
  }
  g.calls.converged = true;
  g.calls.stop_reason = "the load's requests";
  std::vector<double> e2e;
  for (size_t i = static_cast<size_t>(g.calls.warmup_count); i < g.calls.wall_ns.size(); ++i) {
    if (g.calls.wall_ns[i] > 0) e2e.push_back(static_cast<double>(g.calls.wall_ns[i]));
  }
  std::sort(e2e.begin(), e2e.end());
  const MedianEstimate m = EstimateMedian(e2e, 0.95);  // as the sampler states a repetition's median
  g.calls.median_ns = m.median;
  g.calls.rel_ci = m.rel_ci;
  g.requests = std::move(traces);
  r.measurement = std::move(g);
  r.status = ok > 0 ? RepStatus::kOk : RepStatus::kFailed;
  if (ok == 0) {
    std::vector<std::string> counts;
    for (const auto& [status, n] : failed) counts.push_back(fmt::format("{} x{}", status, n));
    r.error_kind = "runtime";
    r.phase = "measure";
    r.message = fmt::format("no measured request succeeded ({})", counts.empty() ? "none was sent" : Join(counts, ", "));
  }
}

RepetitionResult RunServingRepetition(const RepetitionSpec& spec, const WorkerLaunch& launch,
                                      const plan::WorkerEntry& entry) {
  const plan::Cell& cell = *spec.cell;
  const plan::ServerSettings& server = *entry.server;
  RepetitionResult r;
  r.measurement = result::EmptyMeasurement(cell.workload);
  r.cell_idx = cell.cell_idx;
  r.rep_idx = spec.rep_idx;
  r.order_idx = spec.order_idx;
  r.started_at = NowIso8601();
  r.prefix = cell.prefix;
  const auto t0 = std::chrono::steady_clock::now();
  auto finish = [&]() -> RepetitionResult& {
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.finished_at = NowIso8601();
    if (Interrupted()) r.status = RepStatus::kInterrupted;
    return r;
  };
  std::vector<std::string> env = WorkerEnvironment(spec, launch, r);

  plan::CommandVariables vars = launch.Variables();
  vars.model = cell.model;
  vars.seed = std::to_string(spec.seed);
  vars.precision = cell.precision;
  vars.device = cell.device;
  vars.batch = std::to_string(cell.batch);
  // A directory of the server's own ({scratch}: the checkpoint it writes), and its log, removed
  // once the repetition has them.
  std::optional<TempDir> scratch;
  try {
    scratch.emplace("dlbench-serve");
  } catch (const EnvError& e) {
    Fail(r, "start_failed", "start", e.what());
    return finish();
  }
  vars.scratch = scratch->path();
  std::optional<serve::ServerProcess> process;
  std::string url;
  try {
    if (!entry.command.empty()) vars.port = FreePort();
    url = plan::ExpandServerText(server.url, entry.name, vars);
    while (url.ends_with('/')) url.pop_back();
    if (!entry.command.empty()) {
      std::vector<std::string> command = plan::ExpandCommand(entry, vars);
      // A program that is not on this machine (the serving environment was not installed) makes
      // the cell unsupported here, not a failure of the server. Behind a launch prefix (a
      // container, a sandbox) the program is the prefix's to find, and may exist only inside it.
      if (cell.prefix.empty() && !FindOnPath(command[0])) {
        r.status = RepStatus::kUnsupported;
        r.error_kind = "unsupported";
        r.phase = "start";
        r.message = fmt::format("server {}: its program {} is not on this machine{}", entry.name, command[0],
                                command[0] == launch.serve_python
                                    ? " (DLBENCH_SETUP_TESTS=1 scripts/setup.sh installs the serving environment)"
                                    : "");
        return finish();
      }
      r.argv = cell.prefix;
      r.argv.insert(r.argv.end(), command.begin(), command.end());
      serve::ServerLaunch sl;
      sl.argv = r.argv;
      sl.env = env;
      sl.log_path = scratch->path() + "/server.log";
      sl.url = url;
      sl.health = server.health;
      sl.startup_timeout_s = server.startup_timeout_s;
      sl.what = fmt::format("server {}", entry.name);
      process.emplace(sl);
      r.load_s = process->startup_s();
    }
  } catch (const EnvError& e) {
    Fail(r, "start_failed", "start", e.what());
    r.log = serve::FileTail(scratch->path() + "/server.log", kServerLogBytes);
    return finish();
  }

  serve::Endpoint ep;
  ep.base_url = url;
  ep.api = server.api == "chat" ? serve::Api::kChat : serve::Api::kCompletions;
  ep.model = cell.model;
  ep.text_prompts = server.prompt == "text";
  ep.logprobs = server.logprobs;
  ep.eos_token = server.eos_token;
  ep.request_timeout_s = cell.timeout_s;
  ep.stall_timeout_s = cell.load.stall_timeout_s;
  serve::DriveOptions d;
  auto arrival = serve::ParseArrival(cell.load.arrival);
  DLB_CHECK(arrival.has_value()) << cell.load.arrival;
  d.spec.arrival = *arrival;
  d.spec.rate = cell.load.rate;
  d.spec.burstiness = cell.load.burstiness;
  d.spec.concurrency = cell.batch;
  d.spec.requests = cell.load.requests;
  d.spec.warmup = cell.load.warmup;
  const int64_t prompt = OptionInt(cell, "prompt_tokens"), output = OptionInt(cell, "new_tokens");
  DLB_CHECK(prompt > 0 && output > 0) << "a server's cell without its lengths: " << cell.options_json;
  d.spec.input = {prompt, prompt};
  d.spec.output = {output, output};
  d.spec.seed = spec.seed;
  serve::LoadResult load = serve::Drive(ep, serve::MakeSchedule(d.spec), d);
  // A server that dies takes its requests with it: when any failed, it gets a moment to be seen
  // gone before it is stopped.
  const bool any_failed = std::any_of(load.traces.begin(), load.traces.end(),
                                      [](const result::RequestTrace& t) { return t.status != "ok"; });
  std::optional<ExitStatus> died;
  if (process) died = process->Exited(std::chrono::milliseconds(any_failed ? 500 : 0));
  if (process) process->Stop();
  SetLoadOutcome(r, std::move(load.traces));
  if (died) {
    Fail(r, "crashed", "measure",
         fmt::format("server {} exited ({}) during the load; its requests are kept", entry.name, died->Describe()));
  }
  if (process) {
    r.log = serve::FileTail(process->log_path(), kServerLogBytes);
    r.hello_json = EnvironmentHello(process->log_path());
  }
  if (entry.command.empty()) r.log = fmt::format("an existing server at {}\n", url);
  return finish();
}

}  // namespace dlb::run
