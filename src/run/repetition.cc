#include "run/repetition.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <variant>

#include "plan/profile.h"
#include "run/energy.h"
#include "run/failure.h"
#include "run/gate.h"
#include "run/protocol.h"
#include "run/sampler.h"
#include "run/serving.h"
#include "run/worker.h"
#include "run/worker_client.h"
#include "util/error.h"
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
                                    "TRITON_", "LD_PRELOAD", "LD_LIBRARY_PATH", "GLIBC_TUNABLES",
                                    "MALLOC_"};
  return std::any_of(std::begin(kPrefixes), std::end(kPrefixes),
                     [&](const char* p) { return StartsWith(name, p); });
}

// One generate call of an in-process engine as a request trace (result/measurement.h): sent at 0,
// its first token at the prefill's end, then one token per sequence at the end of each decode step.
result::RequestTrace CallTrace(int64_t index, int64_t prefill_ns, const std::vector<int64_t>& decode_ns,
                               int64_t prompt_tokens) {
  result::RequestTrace t;
  t.index = index;
  t.input_tokens = prompt_tokens;
  t.output_tokens_requested = static_cast<int64_t>(decode_ns.size()) + 1;
  t.token_source = result::kTokensFromEngine;
  t.chunks.reserve(decode_ns.size() + 1);
  int64_t at = prefill_ns;
  t.chunks.push_back({at, 1});
  for (int64_t step : decode_ns) {
    at += step;
    t.chunks.push_back({at, 1});
  }
  t.done_ns = at;
  return t;
}

// Runs the protocol conversation for one repetition and fills in the result as it goes.
class Session {
 public:
  Session(const RepetitionSpec& spec, WorkerClient& client, probe::TelemetrySampler& telemetry,
          RepetitionResult& r, std::optional<int64_t> oom_kills_before)
      : spec_(spec),
        cell_(*spec.cell),
        client_(client),
        telemetry_(telemetry),
        r_(r),
        series_(*r.series()),
        prompt_tokens_(OptionInt(cell_, "prompt_tokens")),
        oom_kills_before_(oom_kills_before) {}

  // Returns false once the repetition has ended (failed, unsupported or interrupted).
  bool Run() {
    if (!(Hello() && Load())) return false;
    r_.contention_policy = cell_.contention.policy;
    r_.contention_threshold = cell_.contention.threshold;
    neighbours_.Begin(client_.process().pid(), cell_.contention.threshold);
    bool timed = Warmup() && Measure() && Window();
    neighbours_.End();
    r_.contention = neighbours_.Result();
    if (kept_iterations_ > 0 && r_.contention) {
      series_.minor_faults_per_call =
          static_cast<double>(kept_.minor_faults) / static_cast<double>(kept_iterations_);
    }
    if (r_.contention && cell_.contention.Excludes()) r_.contention->contaminated = KeptContaminated();
    return timed && Energy() && Fit();
  }

  // The energy windows from the finished telemetry series (after the sampler has stopped).
  void ComputeEnergyWindows() {
    for (const auto& [begin, end, iterations] : energy_edges_) {
      if (auto w = MakeEnergyWindow(r_.energy_source, begin, end, r_.telemetry, iterations)) {
        r_.energy_windows.push_back(*w);
      }
    }
    if (r_.energy_windows.empty() && r_.energy_note.empty() && !energy_edges_.empty()) {
      r_.energy_note = "the energy source gave no reading at a window's edges";
    }
  }

  void Bye() {
    auto bye = client_.Bye(Millis(std::min(cell_.timeout_s, 30.0)));
    if (bye) {
      SetExit(*bye);
    } else {
      Ended("bye", bye.error(), Millis(std::min(cell_.timeout_s, 30.0)));
    }
  }

 private:
  // Records a fault in the result (the client has already ended a worker that broke the
  // conversation); always false, so that a phase can `return Ended(...)`.
  bool Ended(const char* phase, const WorkerFault& f, std::chrono::milliseconds timeout) {
    r_.phase = phase;
    if (f.exit) SetExit(*f.exit);
    switch (f.kind) {
      case WorkerFault::Kind::kWorker:
        r_.status = f.unsupported() ? RepStatus::kUnsupported : RepStatus::kFailed;
        r_.error_kind = std::string(ErrorKindName(f.error.value_or(ErrorKind::kRuntime)));
        r_.message = f.message;
        return false;
      case WorkerFault::Kind::kProtocol:
        r_.status = RepStatus::kFailed;
        r_.error_kind = "protocol";
        r_.message = fmt::format("worker broke the protocol during {}: {}; killed", phase, f.message);
        return false;
      case WorkerFault::Kind::kChannel:
        break;
    }
    switch (f.channel.value_or(ChannelFault::kExited)) {
      case ChannelFault::kInterrupted:
        r_.status = RepStatus::kInterrupted;
        r_.error_kind = "interrupted";
        r_.message = fmt::format("interrupted by the user during {}", phase);
        break;
      case ChannelFault::kTimeout:
        r_.status = RepStatus::kFailed;
        r_.error_kind = "timeout";
        r_.message = fmt::format("worker did not reply within {} during {}; killed with its process group",
                                 FormatDuration(static_cast<double>(timeout.count()) / 1000.0), phase);
        break;
      default:
        Died(phase, f.channel.value_or(ChannelFault::kExited), f.exit.value_or(ExitStatus{}));
        break;
    }
    return false;
  }

  // The worker's death, named by its cause where the evidence shows one (run/failure.h).
  void Died(const char* phase, ChannelFault fault, const ExitStatus& st) {
    std::string log = client_.process().Log();
    DeathEvidence evidence{st, client_.process().killed(), log, oom_kills_before_, ReadOomKillCount()};
    r_.status = RepStatus::kFailed;
    if (auto cause = OutOfMemoryCause(evidence)) {
      r_.error_kind = "out_of_memory";
      r_.message = fmt::format("worker ran out of memory during {}: {}; {}", phase, st.Describe(), *cause);
      return;
    }
    r_.error_kind = "crashed";
    r_.message = fmt::format("worker {} during {}: {}", ChannelFaultName(fault), phase, st.Describe());
    if (auto note = ForeignKillNote(evidence); !note.empty()) r_.message += "; " + note;
  }

  void SetExit(const ExitStatus& st) {
    if (st.term_signal != 0) {
      r_.term_signal = st.term_signal;
    } else {
      r_.exit_code = st.exit_code;
    }
    if (!r_.peak_rss_bytes && st.max_rss_bytes > 0) r_.peak_rss_bytes = st.max_rss_bytes;
  }

  bool Hello() {
    telemetry_.SetPhase("hello");
    auto reply = client_.Hello(Millis(cell_.timeout_s));
    if (!reply) return Ended("hello", reply.error(), Millis(cell_.timeout_s));
    r_.worker_start_s = SecondsSince(start_);
    r_.hello_json = reply->raw_json;
    r_.timer_overhead_ns = reply->timer_overhead_ns;
    return true;
  }

  bool Load() {
    LoadRequest req{cell_.model, cell_.batch, cell_.precision, cell_.device, cell_.workload,
                    cell_.layout, static_cast<int64_t>(spec_.seed), cell_.options_json, std::nullopt,
                    spec_.order_idx};
    auto t = Clock::now();
    telemetry_.SetPhase("load");
    auto reply = client_.Load(req, Millis(cell_.timeout_s));
    if (!reply) return Ended("load", reply.error(), Millis(cell_.timeout_s));
    r_.load_call_s = SecondsSince(t);
    r_.parameters = reply->parameters;
    r_.flops_per_sample = reply->flops_per_sample;
    r_.load_s = reply->load_s;
    r_.compile_s = reply->compile_s;
    r_.first_call_s = reply->first_call_s;
    r_.sync_overhead_ns = reply->sync_overhead_ns;
    r_.settings_json = reply->settings_json;
    r_.peak_device_bytes = reply->peak_device_bytes;
    estimate_ns_ = reply->first_call_s * 1e9;
    if (!cell_.profile.empty()) {
      auto deviations = plan::CheckProfile(cell_.profile, cell_.framework, cell_.device,
                                           r_.settings_json);
      r_.profile_check = deviations.empty() ? "ok" : Join(deviations, "; ");
    }
    return true;
  }

  // The chunk that just ended (a reply to a measure request sent at `sent`): its time and the
  // neighbours' share of the worker's CPUs since the previous chunk ended, judged by the cell's
  // threshold. Under the policy `exclude` a contaminated measure chunk is excluded from the
  // estimate; the share of the kept ones is summed for the repetition's verdict. Returns whether
  // the chunk was contaminated.
  bool RecordChunk(const std::string& phase, Clock::time_point sent, int64_t n_iterations = 0) {
    result::SampleChunk c;
    c.phase = phase;
    c.wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - sent).count();
    if (auto share = neighbours_.Mark()) {
      c.other_cpu_frac = share->other_cpu_frac;
      c.steal_frac = share->steal_frac;
      c.minor_faults = static_cast<int64_t>(share->minor_faults);
      c.contaminated = share->contaminated;
      c.excluded = c.contaminated && cell_.contention.Excludes() && phase == "measure";
      if (phase == "measure" && !c.excluded) {
        kept_.capacity_ticks += share->capacity_ticks;
        kept_other_ticks_ += share->other_cpu_frac * share->capacity_ticks;
        kept_steal_ticks_ += share->steal_frac * share->capacity_ticks;
        kept_.cpus = share->cpus;
        kept_.minor_faults += share->minor_faults;
        kept_iterations_ += n_iterations;
      }
    }
    series_.chunks.push_back(std::move(c));
    ++chunk_;
    return series_.chunks.back().contaminated;
  }

  // Under `exclude`: the repetition is contaminated when it lacked clean samples (LacksCleanSamples), or
  // when the kept chunks together were above the threshold (a neighbour too light to flag a short
  // chunk, but there throughout).
  bool KeptContaminated() const {
    if (lacked_clean_) return true;
    if (!(kept_.capacity_ticks > 0)) return false;
    const double t = cell_.contention.threshold;
    return probe::AboveThreshold(kept_other_ticks_ / kept_.capacity_ticks, kept_.capacity_ticks, kept_.cpus, t) ||
           probe::AboveThreshold(kept_steal_ticks_ / kept_.capacity_ticks, kept_.capacity_ticks, kept_.cpus, t);
  }

  // Asks for n synced samples (each a block of block_ iterations) and appends them as
  // per-iteration times; false if the repetition ended.
  bool Chunk(const char* phase, int64_t n) {
    double expected_s = estimate_ns_ * 1e-9 * static_cast<double>(n * block_);
    auto timeout = Millis(cell_.timeout_s + 2 * expected_s);
    const auto sent = Clock::now();
    auto reply = client_.Measure({n, Sync::kEach, block_}, timeout);
    if (!reply) return Ended(phase, reply.error(), timeout);
    const int32_t chunk = chunk_;
    RecordChunk(phase, sent, n * block_);
    Note(*reply);
    if (block_ > 1) {
      for (auto& v : reply->wall_ns) v = (v + block_ / 2) / block_;
    }
    series_.wall_ns.insert(series_.wall_ns.end(), reply->wall_ns.begin(), reply->wall_ns.end());
    series_.chunk_idx.insert(series_.chunk_idx.end(), reply->wall_ns.size(), chunk);
    if (auto* g = std::get_if<result::GenerationMeasurement>(&r_.measurement)) {
      // One trace per call, aligned with the samples (generation never blocks: Calibrate).
      for (size_t i = 0; i < reply->prefill_ns.size(); ++i) {
        g->requests.push_back(CallTrace(static_cast<int64_t>(g->requests.size()), reply->prefill_ns[i],
                                        reply->decode_ns[i], prompt_tokens_));
      }
    }
    std::vector<int64_t> sorted = reply->wall_ns;
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    estimate_ns_ = static_cast<double>(sorted[sorted.size() / 2]);
    for (int64_t v : reply->wall_ns) r_.sample_s += static_cast<double>(v * block_) * 1e-9;
    return true;
  }

  void Note(const MeasureReply& reply) {
    if (reply.peak_rss_bytes) r_.peak_rss_bytes = std::max(r_.peak_rss_bytes.value_or(0), *reply.peak_rss_bytes);
    if (reply.peak_device_bytes) {
      r_.peak_device_bytes = std::max(r_.peak_device_bytes.value_or(0), *reply.peak_device_bytes);
    }
  }

  bool Warmup() {
    telemetry_.SetPhase("warmup");
    const auto& s = cell_.sampling;
    while (true) {
      auto warm = std::span<const int64_t>(series_.wall_ns);
      WarmupDecision d = DecideWarmup(warm, s);
      if (d.done) {
        series_.warmup_count = static_cast<int64_t>(series_.wall_ns.size());
        series_.warmup_settled = d.settled;
        if (auto* g = std::get_if<result::GenerationMeasurement>(&r_.measurement)) {
          for (auto& t : g->requests) t.warmup = true;  // every call so far: one per sample
        }
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
    if (estimate_ns_ <= 0 && series_.wall_ns.empty()) return;
    // A generate takes a prefill and decode steps, each synced: never near the harness overhead,
    // and its traces are per call, so it is never timed in blocks.
    if (std::holds_alternative<result::GenerationMeasurement>(r_.measurement)) return;
    block_ = BlockSize(estimate_ns_, overhead);
    series_.block_iterations = block_;
    series_.near_overhead = NearOverhead(estimate_ns_, overhead);
  }

  bool Measure() {
    const auto& s = cell_.sampling;
    telemetry_.SetPhase("measure");
    Calibrate();
    auto t0 = Clock::now();
    while (true) {
      const int64_t n = series_.steady_count();
      if (n > 0) {
        const std::vector<int64_t> kept = series_.SteadyKept();
        StopDecision d = DecideStop(kept, s, SecondsSince(t0), block_, n);
        series_.median_ns = d.median_ns;
        series_.rel_ci = d.rel_ci;
        if (d.stop) {
          series_.converged = d.converged;
          series_.stop_reason = d.reason;
          lacked_clean_ = LacksCleanSamples(
              series_.ExcludedChunks(), kept,
              std::span<const int64_t>(series_.wall_ns).subspan(static_cast<size_t>(series_.warmup_count)),
              s, block_);
          if (!series_.median_ns) {
            // Every chunk was excluded: the median of all of them sizes the window and the energy
            // phase, and the repetition is contaminated (KeptContaminated).
            std::vector<double> all(series_.wall_ns.begin() + series_.warmup_count, series_.wall_ns.end());
            std::sort(all.begin(), all.end());
            series_.median_ns = EstimateMedian(all, s.confidence).median;
          }
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
    if (s.window_min_time_s <= 0 || !series_.median_ns || *series_.median_ns <= 0) return true;
    double want = std::ceil(s.window_min_time_s * 1e9 / *series_.median_ns);
    auto n = static_cast<int64_t>(std::clamp(want, 2.0, 1e6));
    telemetry_.SetPhase("window");
    // A window measured beside a neighbour is measured again, twice at most, under `exclude`.
    constexpr int kWindowAttempts = 3;
    for (int attempt = 1;; ++attempt) {
      const auto sent = Clock::now();
      auto reply = Pipelined("window", n);
      if (!reply) return false;
      const bool contaminated = RecordChunk("window", sent);
      series_.window_ns = reply->window_ns;
      series_.window_iterations = reply->iterations;
      if (!contaminated || !cell_.contention.Excludes() || attempt == kWindowAttempts) return true;
      series_.chunks.back().excluded = true;
    }
  }

  // n calls back to back, synced once (measure with sync `window`); nullopt if the repetition ended.
  std::optional<MeasureReply> Pipelined(const char* phase, int64_t n) {
    double expected_s = series_.median_ns.value_or(estimate_ns_) * 1e-9 * static_cast<double>(n);
    auto timeout = Millis(cell_.timeout_s + 2 * expected_s);
    auto reply = client_.Measure({n, Sync::kWindow}, timeout);
    if (!reply) {
      Ended(phase, reply.error(), timeout);
      return std::nullopt;
    }
    Note(*reply);
    r_.sample_s += static_cast<double>(reply->window_ns) * 1e-9;
    return std::move(*reply);
  }

  // Training with a dataset: the epochs over it (the worker's `fit`), after every timed phase, so
  // that they neither warm nor disturb the timed steps. No deadline is known in advance: each
  // epoch may take up to the cell's timeout.
  bool Fit() {
    auto* training = std::get_if<result::TrainingMeasurement>(&r_.measurement);
    if (training == nullptr || cell_.dataset.empty()) return true;
    telemetry_.SetPhase("fit");
    auto timeout = Millis(cell_.timeout_s * (1 + cell_.epochs));
    auto reply = client_.Fit(cell_.dataset, cell_.epochs, timeout);
    if (!reply) return Ended("fit", reply.error(), timeout);
    training->epochs = std::move(reply->epochs);
    return true;
  }

  // The energy phase (methodology T11): windows of back-to-back calls, each at least as long as
  // the source can resolve, with the counters read exactly at each window's edges.
  bool Energy() {
    const bool gpu = CudaIndex(cell_.device).has_value();
    if (gpu) {
      if (!telemetry_.has_gpu()) {
        r_.energy_note = telemetry_.gpu_source();
      } else {
        r_.energy_source = telemetry_.gpu_has_energy_counter() ? EnergySource::kNvmlCounter
                                                               : EnergySource::kNvmlPower;
      }
    } else if (!telemetry_.has_rapl()) {
      r_.energy_note = telemetry_.cpu_source();
    } else {
      r_.energy_source = EnergySource::kRapl;
    }
    if (r_.energy_source == EnergySource::kNone) return true;
    if (cell_.energy.windows == 0) {
      r_.energy_source = EnergySource::kNone;
      r_.energy_note = "energy phase off (energy.windows = 0)";
      return true;
    }
    if (!series_.median_ns || *series_.median_ns <= 0) return true;
    double window_s = MinWindowSeconds(r_.energy_source, cell_.energy.gpu_window_s, cell_.energy.cpu_window_s);
    // Back-to-back calls are usually faster than synced ones: size from the pipelined window's rate.
    double per_call_ns = *series_.median_ns;
    if (series_.window_ns && series_.window_iterations && *series_.window_iterations > 0 && *series_.window_ns > 0) {
      per_call_ns = static_cast<double>(*series_.window_ns) / static_cast<double>(*series_.window_iterations);
    }
    auto n = static_cast<int64_t>(std::clamp(std::ceil(window_s * 1e9 / per_call_ns), 1.0, 1e7));
    telemetry_.SetPhase("energy");
    for (int w = 0; w < cell_.energy.windows; ++w) {
      probe::TelemetrySample begin = telemetry_.SampleNow();
      auto reply = Pipelined("energy", n);
      if (!reply) return false;
      probe::TelemetrySample end = telemetry_.SampleNow();
      energy_edges_.push_back({begin, end, reply->iterations});
    }
    return true;
  }

  const RepetitionSpec& spec_;
  const plan::Cell& cell_;
  WorkerClient& client_;
  probe::TelemetrySampler& telemetry_;
  RepetitionResult& r_;
  result::TimedSeries& series_;  // the payload's timed series: calls or training steps
  const int64_t prompt_tokens_;   // generation: each call's prompt length (-1 for other workloads)
  std::optional<int64_t> oom_kills_before_;
  struct EnergyEdges {
    probe::TelemetrySample begin, end;
    int64_t iterations;
  };
  std::vector<EnergyEdges> energy_edges_;
  Clock::time_point start_ = Clock::now();
  probe::ContentionMeter neighbours_;
  bool lacked_clean_ = false;          // excluded chunks left the kept samples below the floors
  probe::Contention kept_;             // capacity and CPUs of the kept measure chunks
  double kept_other_ticks_ = 0, kept_steal_ticks_ = 0;
  int64_t kept_iterations_ = 0;        // iterations timed in the kept measure chunks
  double estimate_ns_ = 0;
  int32_t chunk_ = 0;
  int64_t block_ = 1;
};

}  // namespace


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
  if (!launch.compile_cache_root.empty()) {
    // The cell's own env wins: a variant may point a cache elsewhere or turn it off.
    for (auto& [k, v] : CompileCacheVariables(CompileCacheDir(launch.compile_cache_root, cell.cell_idx))) {
      bool set_by_cell = std::any_of(cell.env.begin(), cell.env.end(),
                                     [&](const auto& p) { return p.first == k; });
      if (set_by_cell) continue;
      SetEnv(env, k, v);
      auto it = std::find_if(r.env.begin(), r.env.end(), [&](const auto& p) { return p.first == k; });
      if (it != r.env.end()) {
        it->second = v;
      } else {
        r.env.emplace_back(k, v);
      }
    }
  }
  // Environment size moves code and stack layout (Mytkowicz et al.): vary it per repetition and
  // record its length rather than fixing one arbitrary layout.
  SetEnv(env, "DLBENCH_ENV_PADDING", std::string(static_cast<size_t>(spec.env_padding_bytes), 'x'));
  r.env_padding_bytes = spec.env_padding_bytes;
  return env;
}

int64_t OptionInt(const plan::Cell& cell, const char* key) {
  const auto j = nlohmann::json::parse(cell.options_json, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>() : -1;
}

std::string CompileCacheDir(const std::string& root, int cell_idx) {
  return fmt::format("{}/cell-{}", root, cell_idx);
}

std::vector<std::pair<std::string, std::string>> CompileCacheVariables(const std::string& dir) {
  return {{"JAX_COMPILATION_CACHE_DIR", dir + "/jax"},
          {"JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0"},
          {"JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0"},
          {"TORCHINDUCTOR_CACHE_DIR", dir + "/inductor"},
          {"TRITON_CACHE_DIR", dir + "/triton"}};
}

std::vector<std::string> WorkerCommand(const WorkerLaunch& launch, const std::string& worker) {
  const plan::WorkerEntry* entry = launch.workers.Find(worker);
  DLB_CHECK(entry != nullptr) << "worker " << worker << " is not in the registry";
  return plan::ExpandCommand(*entry, launch.Variables());
}

std::vector<std::string> WorkerBaseEnvironment(const WorkerLaunch& launch) {
  std::vector<std::string> env = CurrentEnvironment();
  std::string pythonpath = launch.workers_dir;
  for (const auto& e : env) {
    if (StartsWith(e, "PYTHONPATH=") && e.size() > 11) pythonpath += ":" + e.substr(11);
  }
  SetEnv(env, "PYTHONPATH", pythonpath);
  if (std::getenv("GLIBC_TUNABLES") == nullptr) SetEnv(env, "GLIBC_TUNABLES", kSteadyMalloc);
  return env;
}

std::vector<std::string> WorkerArgv(const plan::Cell& cell, const WorkerLaunch& launch) {
  std::vector<std::string> argv = cell.prefix;
  auto command = WorkerCommand(launch, cell.framework);
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

RepetitionResult RunRepetition(const RepetitionSpec& spec, const WorkerLaunch& launch) {
  if (const plan::WorkerEntry* entry = launch.workers.Find(spec.cell->framework); entry && entry->server) {
    return RunServingRepetition(spec, launch, *entry);
  }
  RepetitionResult r;
  r.measurement = result::EmptyMeasurement(spec.cell->workload);
  r.cell_idx = spec.cell->cell_idx;
  r.rep_idx = spec.rep_idx;
  r.order_idx = spec.order_idx;
  r.started_at = NowIso8601();
  r.argv = WorkerArgv(*spec.cell, launch);
  r.prefix = spec.cell->prefix;
  auto t0 = Clock::now();
  std::vector<std::string> env = WorkerEnvironment(spec, launch, r);

  std::optional<int64_t> oom_kills_before = ReadOomKillCount();
  auto client = WorkerClient::Start(r.argv, env);
  if (!client) {
    r.status = RepStatus::kFailed;
    r.error_kind = "start_failed";
    r.phase = "start";
    r.message = client.error().message;
    r.finished_at = NowIso8601();
    return r;
  }
  probe::TelemetryConfig tc;
  std::string visible = CudaVisibleDevices(spec.cell->env);
  tc.gpu_index = NvmlIndex(spec.cell->device, visible);
  tc.interval_s = spec.cell->telemetry_interval_s;
  if (CudaIndex(spec.cell->device) && !tc.gpu_index) {
    tc.no_gpu_reason = fmt::format("cannot map {} to an NVML device (CUDA_VISIBLE_DEVICES={})",
                                   spec.cell->device, visible);
  }
  probe::TelemetrySampler telemetry(tc);
  telemetry.Start(client->process().pid());
  Session session(spec, *client, telemetry, r, oom_kills_before);
  if (session.Run()) r.status = RepStatus::kOk;
  // Stopped before bye: the series covers the worker's life up to the end of its measurements,
  // and never reads a pid that has been reaped (and could be reused).
  telemetry.Stop();
  if (!client->ended()) session.Bye();
  r.telemetry = telemetry.Series();
  r.gpu_telemetry = telemetry.gpu_source();
  r.cpu_telemetry = telemetry.cpu_source();
  session.ComputeEnergyWindows();
  r.telemetry_summary = SummarizeTelemetry(r, spec.cell->batch);
  r.log = client->process().Log();
  r.wall_s = SecondsSince(t0);
  r.finished_at = NowIso8601();
  return r;
}

}  // namespace dlb::run
