#include "run/repetition.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "run/protocol.h"
#include "run/sampler.h"
#include "run/worker.h"
#include "util/interrupt.h"
#include "util/process.h"
#include "util/strings.h"

namespace dlb::run {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(seconds * 1000)));
}

// Inherited variables that change what a framework does; recorded with every repetition.
bool IsRelevantVariable(std::string_view name) {
  static const char* kPrefixes[] = {"OMP_",   "MKL_",    "OPENBLAS_", "XLA_",    "JAX_",
                                    "TF_",    "CUDA_",   "NVIDIA_",   "TORCH",   "PYTORCH_",
                                    "KMP_",   "GOMP_",   "CUBLAS_",   "CUDNN_",  "NCCL_",
                                    "TRITON_", "LD_PRELOAD", "LD_LIBRARY_PATH"};
  return std::any_of(std::begin(kPrefixes), std::end(kPrefixes),
                     [&](const char* p) { return StartsWith(name, p); });
}

// Runs the protocol conversation for one repetition and fills in the result as it goes.
class Session {
 public:
  Session(const RepetitionSpec& spec, WorkerProcess& worker, RepetitionResult& r)
      : spec_(spec), cell_(*spec.cell), worker_(worker), r_(r) {}

  // Returns false once the repetition has ended (failed, unsupported or interrupted).
  bool Run() {
    return Hello() && Load() && Warmup() && Measure() && Window();
  }

  void Bye() {
    auto line = Call("bye", EncodeBye(), Millis(std::min(cell_.timeout_s, 30.0)));
    if (!line) return;
    try {
      if (auto reply = DecodeBye(*line); !reply) Fail("bye", reply.error());
    } catch (const ProtocolError& e) {
      BrokeProtocol("bye", e);
    }
  }

  bool worker_ended() const { return worker_ended_; }

 private:
  // One request and its reply line; on a channel fault the worker is killed and the result says why.
  std::optional<std::string> Call(const char* phase, const std::string& request,
                                  std::chrono::milliseconds timeout) {
    auto reply = worker_.Call(request, timeout);
    if (reply) return std::move(*reply);
    ExitStatus st = worker_.Kill();
    worker_ended_ = true;
    SetExit(st);
    r_.phase = phase;
    switch (reply.error()) {
      case ChannelFault::kInterrupted:
        r_.status = RepStatus::kInterrupted;
        r_.error_kind = "interrupted";
        r_.message = fmt::format("interrupted by the user during {}", phase);
        break;
      case ChannelFault::kTimeout:
        r_.status = RepStatus::kFailed;
        r_.error_kind = "timeout";
        r_.message = fmt::format("worker did not reply within {} during {}; killed with its process group",
                                 FormatDuration(timeout.count() / 1000.0), phase);
        break;
      default:
        r_.status = RepStatus::kFailed;
        r_.error_kind = "crashed";
        r_.message = fmt::format("worker {} during {}: {}", ChannelFaultName(reply.error()), phase,
                                 st.Describe());
        break;
    }
    return std::nullopt;
  }

  void SetExit(const ExitStatus& st) {
    if (st.term_signal != 0) {
      r_.term_signal = st.term_signal;
    } else {
      r_.exit_code = st.exit_code;
    }
    if (!r_.peak_rss_bytes && st.max_rss_bytes > 0) r_.peak_rss_bytes = st.max_rss_bytes;
  }

  bool Fail(const char* phase, const WorkerFailure& f) {
    r_.status = f.kind == ErrorKind::kUnsupported ? RepStatus::kUnsupported : RepStatus::kFailed;
    r_.error_kind = std::string(ErrorKindName(f.kind));
    r_.message = f.message;
    r_.phase = phase;
    return false;
  }

  bool BrokeProtocol(const char* phase, const ProtocolError& e) {
    ExitStatus st = worker_.Kill();
    worker_ended_ = true;
    SetExit(st);
    r_.status = RepStatus::kFailed;
    r_.error_kind = "protocol";
    r_.message = fmt::format("worker broke the protocol during {}: {}; killed", phase, e.what());
    r_.phase = phase;
    return false;
  }

  bool Hello() {
    auto line = Call("hello", EncodeHello(), Millis(cell_.timeout_s));
    if (!line) return false;
    try {
      auto reply = DecodeHello(*line);
      if (!reply) return Fail("hello", reply.error());
      r_.worker_start_s = SecondsSince(start_);
      r_.hello_json = reply->raw_json;
      r_.timer_overhead_ns = reply->timer_overhead_ns;
      if (reply->protocol != kProtocolVersion) {
        r_.status = RepStatus::kFailed;
        r_.error_kind = "protocol";
        r_.phase = "hello";
        r_.message = fmt::format("worker speaks protocol {}, this dlbench speaks {}",
                                 reply->protocol, kProtocolVersion);
        return false;
      }
      return true;
    } catch (const ProtocolError& e) {
      return BrokeProtocol("hello", e);
    }
  }

  bool Load() {
    LoadRequest req{cell_.model, cell_.batch, cell_.precision, cell_.device, cell_.mode,
                    cell_.layout, static_cast<int64_t>(spec_.seed), cell_.options_json, std::nullopt};
    auto t = Clock::now();
    auto line = Call("load", EncodeLoad(req), Millis(cell_.timeout_s));
    if (!line) return false;
    r_.load_call_s = SecondsSince(t);
    try {
      auto reply = DecodeLoad(*line);
      if (!reply) return Fail("load", reply.error());
      r_.parameters = reply->parameters;
      r_.flops_per_sample = reply->flops_per_sample;
      r_.load_s = reply->load_s;
      r_.compile_s = reply->compile_s;
      r_.first_call_s = reply->first_call_s;
      r_.sync_overhead_ns = reply->sync_overhead_ns;
      r_.settings_json = reply->settings_json;
      r_.peak_device_bytes = reply->peak_device_bytes;
      estimate_ns_ = reply->first_call_s * 1e9;
      return true;
    } catch (const ProtocolError& e) {
      return BrokeProtocol("load", e);
    }
  }

  // Asks for n synced samples (each a block of block_ iterations) and appends them as
  // per-iteration times; false if the repetition ended.
  bool Chunk(const char* phase, int64_t n) {
    double expected_s = estimate_ns_ * 1e-9 * static_cast<double>(n * block_);
    auto line = Call(phase, EncodeMeasure({n, Sync::kEach, block_}),
                     Millis(cell_.timeout_s + 2 * expected_s));
    if (!line) return false;
    try {
      auto reply = DecodeMeasure(*line, Sync::kEach, block_);
      if (!reply) return Fail(phase, reply.error());
      if (static_cast<int64_t>(reply->wall_ns.size()) != n) {
        return BrokeProtocol(phase, ProtocolError(fmt::format(
                                        "asked for {} samples, got {}", n, reply->wall_ns.size())));
      }
      Note(*reply);
      if (block_ > 1) {
        for (auto& v : reply->wall_ns) v = (v + block_ / 2) / block_;
      }
      r_.wall_ns.insert(r_.wall_ns.end(), reply->wall_ns.begin(), reply->wall_ns.end());
      r_.chunk_idx.insert(r_.chunk_idx.end(), reply->wall_ns.size(), chunk_);
      ++chunk_;
      std::vector<int64_t> sorted = reply->wall_ns;
      std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
      estimate_ns_ = static_cast<double>(sorted[sorted.size() / 2]);
      for (int64_t v : reply->wall_ns) r_.sample_s += static_cast<double>(v * block_) * 1e-9;
      return true;
    } catch (const ProtocolError& e) {
      return BrokeProtocol(phase, e);
    }
  }

  void Note(const MeasureReply& reply) {
    if (reply.peak_rss_bytes) r_.peak_rss_bytes = std::max(r_.peak_rss_bytes.value_or(0), *reply.peak_rss_bytes);
    if (reply.peak_device_bytes) {
      r_.peak_device_bytes = std::max(r_.peak_device_bytes.value_or(0), *reply.peak_device_bytes);
    }
  }

  bool Warmup() {
    const auto& s = cell_.sampling;
    while (true) {
      auto warm = std::span<const int64_t>(r_.wall_ns);
      WarmupDecision d = DecideWarmup(warm, s);
      if (d.done) {
        r_.warmup_count = static_cast<int64_t>(r_.wall_ns.size());
        r_.warmup_settled = d.settled;
        return true;
      }
      auto n = static_cast<int64_t>(warm.size());
      int64_t chunk = NextChunk(estimate_ns_, n, s.warmup_max_iterations, s.chunk_target_s);
      if (!Chunk("warmup", chunk)) return false;
    }
  }

  // After warm-up: time blocks of iterations when one is too close to the harness overhead.
  void Calibrate() {
    int64_t overhead = std::max(r_.timer_overhead_ns.value_or(0), r_.sync_overhead_ns.value_or(0));
    if (estimate_ns_ <= 0 && r_.wall_ns.empty()) return;
    block_ = BlockSize(estimate_ns_, overhead);
    r_.block_iterations = block_;
    r_.near_overhead = NearOverhead(estimate_ns_, overhead);
  }

  bool Measure() {
    const auto& s = cell_.sampling;
    Calibrate();
    auto t0 = Clock::now();
    while (true) {
      auto steady = std::span<const int64_t>(r_.wall_ns).subspan(static_cast<size_t>(r_.warmup_count));
      auto n = static_cast<int64_t>(steady.size());
      if (n > 0) {
        StopDecision d = DecideStop(steady, s, SecondsSince(t0), block_);
        r_.median_ns = d.median_ns;
        r_.rel_ci = d.rel_ci;
        if (d.stop) {
          r_.converged = d.converged;
          r_.stop_reason = d.reason;
          return true;
        }
      }
      int64_t chunk = NextChunk(estimate_ns_ * static_cast<double>(block_), n, s.max_iterations,
                                s.chunk_target_s);
      if (!Chunk("measure", chunk)) return false;
    }
  }

  bool Window() {
    const auto& s = cell_.sampling;
    if (s.window_min_time_s <= 0 || !r_.median_ns || *r_.median_ns <= 0) return true;
    double want = std::ceil(s.window_min_time_s * 1e9 / *r_.median_ns);
    auto n = static_cast<int64_t>(std::clamp(want, 2.0, 1e6));
    double expected_s = *r_.median_ns * 1e-9 * static_cast<double>(n);
    auto line = Call("window", EncodeMeasure({n, Sync::kWindow}),
                     Millis(cell_.timeout_s + 2 * expected_s));
    if (!line) return false;
    try {
      auto reply = DecodeMeasure(*line, Sync::kWindow);
      if (!reply) return Fail("window", reply.error());
      Note(*reply);
      r_.window_ns = reply->window_ns;
      r_.window_iterations = reply->iterations;
      r_.sample_s += static_cast<double>(reply->window_ns) * 1e-9;
      return true;
    } catch (const ProtocolError& e) {
      return BrokeProtocol("window", e);
    }
  }

  const RepetitionSpec& spec_;
  const plan::Cell& cell_;
  WorkerProcess& worker_;
  RepetitionResult& r_;
  Clock::time_point start_ = Clock::now();
  double estimate_ns_ = 0;
  int32_t chunk_ = 0;
  int64_t block_ = 1;
  bool worker_ended_ = false;
};

std::vector<std::string> WorkerEnvironment(const RepetitionSpec& spec, const WorkerLaunch& launch,
                                           RepetitionResult& r) {
  const plan::Cell& cell = *spec.cell;
  std::vector<std::string> env = WorkerBaseEnvironment(launch);
  for (const auto& e : env) {
    auto eq = e.find('=');
    std::string name = e.substr(0, eq);
    if (IsRelevantVariable(name) || name == "PYTHONPATH") r.env.emplace_back(name, e.substr(eq + 1));
  }
  for (const auto& [k, v] : cell.env) {
    SetEnv(env, k, v);
    auto it = std::find_if(r.env.begin(), r.env.end(), [&](const auto& p) { return p.first == k; });
    if (it != r.env.end()) {
      it->second = v;
    } else {
      r.env.emplace_back(k, v);
    }
  }
  // Environment size moves code and stack layout (Mytkowicz et al.): vary it per repetition and
  // record its length rather than fixing one arbitrary layout.
  SetEnv(env, "DLBENCH_ENV_PADDING", std::string(static_cast<size_t>(spec.env_padding_bytes), 'x'));
  r.env_padding_bytes = spec.env_padding_bytes;
  return env;
}

}  // namespace

std::string RepStatusName(RepStatus s) {
  switch (s) {
    case RepStatus::kOk: return "ok";
    case RepStatus::kFailed: return "failed";
    case RepStatus::kUnsupported: return "unsupported";
    case RepStatus::kInterrupted: return "interrupted";
  }
  return "failed";
}

std::vector<std::string> WorkerCommand(const WorkerLaunch& launch, const std::string& worker) {
  return {launch.python, "-m", "dlbench_worker", worker};
}

std::vector<std::string> WorkerBaseEnvironment(const WorkerLaunch& launch) {
  std::vector<std::string> env = CurrentEnvironment();
  std::string pythonpath = launch.workers_dir;
  for (const auto& e : env) {
    if (StartsWith(e, "PYTHONPATH=") && e.size() > 11) pythonpath += ":" + e.substr(11);
  }
  SetEnv(env, "PYTHONPATH", pythonpath);
  return env;
}

std::vector<std::string> WorkerArgv(const plan::Cell& cell, const WorkerLaunch& launch) {
  std::vector<std::string> argv = cell.prefix;
  auto command = WorkerCommand(launch, cell.framework);
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

RepetitionResult RunRepetition(const RepetitionSpec& spec, const WorkerLaunch& launch) {
  RepetitionResult r;
  r.cell_idx = spec.cell->cell_idx;
  r.rep_idx = spec.rep_idx;
  r.order_idx = spec.order_idx;
  r.started_at = NowIso8601();
  r.argv = WorkerArgv(*spec.cell, launch);
  r.prefix = spec.cell->prefix;
  auto t0 = Clock::now();
  std::vector<std::string> env = WorkerEnvironment(spec, launch, r);

  auto worker = WorkerProcess::Start(r.argv, env);
  if (!worker) {
    r.status = RepStatus::kFailed;
    r.error_kind = "start_failed";
    r.phase = "start";
    r.message = worker.error();
    r.finished_at = NowIso8601();
    return r;
  }
  Session session(spec, *worker, r);
  if (session.Run()) r.status = RepStatus::kOk;
  if (!session.worker_ended()) {
    if (r.status != RepStatus::kInterrupted) session.Bye();
    if (!session.worker_ended()) {
      ExitStatus st = worker->Finish(std::chrono::seconds(5));
      if (st.term_signal != 0) {
        r.term_signal = st.term_signal;
      } else {
        r.exit_code = st.exit_code;
      }
      if (!r.peak_rss_bytes && st.max_rss_bytes > 0) r.peak_rss_bytes = st.max_rss_bytes;
    }
  }
  r.log = worker->Log();
  r.wall_s = SecondsSince(t0);
  r.finished_at = NowIso8601();
  return r;
}

}  // namespace dlb::run
