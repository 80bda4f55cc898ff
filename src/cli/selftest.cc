// dlbench selftest --bench: the tool's own costs, printed as figures (benchmarks are not tests):
// the Python harness's overhead per sample with the zero-work synthetic model, the controller's
// overhead per repetition beyond the worker's start-up, load and sample time, and the store's
// ingest rate for raw samples, the time a report takes on a million samples, and the store and
// summary of a million generation token chunks. Targets (set when the tool was planned): < 2 µs,
// < 50 ms, >= 500,000 samples/s, < 5 s.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <numeric>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/generation.h"
#include "plan/expand.h"
#include "plan/parse.h"
#include "probe/contention.h"
#include "run/capabilities.h"
#include "run/cell_summaries.h"
#include "run/protocol.h"
#include "run/scheduler.h"
#include "run/worker_client.h"
#include "stats/descriptive.h"
#include "store/store.h"
#include "util/error.h"
#include "util/process.h"

namespace dlb::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct SelftestOptions {
  bool bench = false;
  std::string python;
  int64_t samples = 1'000'000;
  int cells = 10;
};

std::string TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "dlbench-selftest-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw EnvError("cannot create a temporary directory");
  return tmpl;
}

// 1. Harness overhead: the zero-work model's recorded sample is what the timed loop itself costs,
// in each workload (a training load times steps through the same loop), against a bare loop of
// back-to-back clock reads in the same worker (hello's timer overhead).
void BenchHarness(const LaunchChoice& launch, int64_t samples) {
  fmt::print("harness overhead per sample (python synthetic worker, zero work, {} samples per workload):\n",
             samples);
  for (const char* workload : {"inference", "training"}) {
    auto worker = run::WorkerClient::Start(run::WorkerCommand(launch.launch, "synthetic"),
                                           run::WorkerBaseEnvironment(launch.launch));
    if (!worker) throw EnvError(worker.error().Describe());
    auto check = [&](const auto& reply) {
      if (!reply) {
        throw EnvError(fmt::format("synthetic worker: {}: {}", reply.error().Describe(),
                                   worker->process().Log(2000)));
      }
    };
    const auto timeout = std::chrono::seconds(120);
    auto hello = worker->Hello(timeout);
    check(hello);
    std::string options = R"({"latency": {"distribution": "constant", "value_ns": 0})";
    options += std::string(workload) == "training"
                   ? R"(, "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": false, "weight_decay": 0.0001}})"
                   : "}";
    check(worker->Load({"synthetic", 1, "fp32", "cpu", workload, "default", 0, options, std::nullopt,
                        std::nullopt},
                       timeout));
    std::vector<int64_t> all;
    int64_t chunk = 100'000;
    auto t0 = Clock::now();
    while (static_cast<int64_t>(all.size()) < samples) {
      auto reply = worker->Measure({chunk, run::Sync::kEach}, timeout);
      check(reply);
      all.insert(all.end(), reply->wall_ns.begin(), reply->wall_ns.end());
    }
    double total_s = Since(t0);
    check(worker->Bye(timeout));
    auto s = stats::Summarize(std::span<const int64_t>(all));
    fmt::print("  {:<9}  inside the timed region: median {:.0f} ns, p99 {:.0f} ns, mean {:.0f} ns   "
               "(target < 2000 ns); bare loop of clock reads: {} ns\n",
               workload, s->p50, s->p99, s->mean, hello->timer_overhead_ns);
    fmt::print("             end to end per sample incl. protocol and JSON: {:.0f} ns\n",
               total_s * 1e9 / static_cast<double>(all.size()));
  }
}

class TimingSink : public run::ResultSink {
 public:
  explicit TimingSink(store::Store& store, int64_t run_id) : store_(store), run_id_(run_id) {}
  void OnRepetition(const plan::Cell& cell, const result::RepetitionResult& r,
                    const analysis::CellSummary& summary) override {
    auto t = Clock::now();
    store_.AddRepetition(run_id_, cell, r, summary);
    double store_s = Since(t);
    if (r.status != result::RepStatus::kOk) throw EnvError("selftest cell failed: " + r.message);
    overhead_s.push_back(r.wall_s - r.worker_start_s - r.load_call_s - r.sample_s + store_s);
    store_time_s.push_back(store_s);
    start_s.push_back(r.worker_start_s);
  }
  std::vector<double> overhead_s, store_time_s, start_s;

 private:
  store::Store& store_;
  int64_t run_id_;
};

// 2. Controller overhead per repetition, with real synthetic workers doing 1 ms samples.
void BenchController(const LaunchChoice& launch, const std::string& dir, int cells) {
  std::string toml = fmt::format(R"(
[experiment]
name = "selftest-controller"
repetitions = 1
[matrix]
framework = "synthetic"
model = "synthetic"
batch = [{}]
[sampling]
warmup_min_iterations = 5
min_iterations = 50
max_iterations = 50
min_time_s = 0
window_min_time_s = 0.02
[options]
latency = {{ distribution = "constant", value_ns = 1000000 }}
)", [&] {
    std::string b;
    for (int i = 1; i <= cells; ++i) b += (i > 1 ? ", " : "") + std::to_string(i);
    return b;
  }());
  run::WorkerCapabilityCache capabilities(launch.launch);
  auto plan = plan::Expand(plan::ParseExperiment(toml, "selftest.toml", capabilities), {});
  auto store = store::Store::Open(dir + "/controller.db");
  int64_t run_id = store.BeginRun({"selftest", ::getpid(), DlbenchVersion(), "-", "[]", "{}"}, plan);
  TimingSink sink(store, run_id);
  run::Progress progress(static_cast<int>(plan.tasks.size()), false);
  run::RunPlan(plan, launch.launch, sink, progress);
  auto med = [](std::vector<double> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; };
  fmt::print("controller overhead per repetition ({} synthetic cells, 55 samples of 1 ms + a window):\n", cells);
  fmt::print("  median {:.1f} ms, max {:.1f} ms   (target < 50 ms); of which storing {:.1f} ms\n",
             med(sink.overhead_s) * 1e3, *std::max_element(sink.overhead_s.begin(), sink.overhead_s.end()) * 1e3,
             med(sink.store_time_s) * 1e3);
  fmt::print("  (worker start-up, not counted: median {:.0f} ms)\n", med(sink.start_s) * 1e3);
}

// 2b. The neighbour reads a chunk costs the controller: /proc/stat, a scan of /proc for the worker's
// process group, and the controller's own /proc/self/stat (probe::ContentionMeter::Mark). They run
// between the worker's chunks, so they add to a repetition's wall time, never to a sample.
void BenchContention() {
  probe::ContentionMeter meter;
  meter.Begin(::getpgrp());
  std::vector<double> ns;
  for (int i = 0; i < 200; ++i) {
    auto t0 = Clock::now();
    auto c = meter.Mark();
    ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
    if (!c) {
      fmt::print("neighbour reads per chunk: /proc unreadable here\n");
      return;
    }
  }
  std::sort(ns.begin(), ns.end());
  size_t processes = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    processes += !name.empty() && std::isdigit(static_cast<unsigned char>(name[0]));
  }
  fmt::print("neighbour reads per chunk (controller only, between chunks; {} processes in /proc): "
             "median {:.0f} us, p99 {:.0f} us\n",
             processes, ns[ns.size() / 2] / 1e3, ns[ns.size() * 99 / 100] / 1e3);
}

// 3. Store ingest of raw samples.
void BenchStore(const LaunchChoice& launch, const std::string& dir, int64_t samples) {
  auto store = store::Store::Open(dir + "/ingest.db");
  run::WorkerCapabilityCache capabilities(launch.launch);
  auto plan = plan::Expand(plan::ParseExperiment(
      "[experiment]\nname = \"ingest\"\nrepetitions = 1\n[matrix]\nframework = \"synthetic\"\nmodel = \"synthetic\"\n",
      "ingest.toml", capabilities), {});
  int64_t run_id = store.BeginRun({"selftest", ::getpid(), DlbenchVersion(), "-", "[]", "{}"}, plan);
  result::RepetitionResult r;
  r.status = result::RepStatus::kOk;
  r.started_at = r.finished_at = "-";
  result::TimedSeries& series = *r.series();
  series.wall_ns.resize(static_cast<size_t>(samples));
  series.chunk_idx.resize(static_cast<size_t>(samples));
  for (int64_t i = 0; i < samples; ++i) {
    series.wall_ns[static_cast<size_t>(i)] = 1'000'000 + (i * 7919) % 100'000;
    series.chunk_idx[static_cast<size_t>(i)] = static_cast<int32_t>(i / 10'000);
  }
  series.warmup_count = 10;
  auto t0 = Clock::now();
  run::CellSummaries summaries;
  store.AddRepetition(run_id, plan.cells[0], r, summaries.Add(plan.cells[0], r));
  double s = Since(t0);
  fmt::print("store ingest: {} raw samples stored with their repetition in {:.2f} s = {:.0f} samples/s   (target >= 500000)\n",
             samples, s, static_cast<double>(samples) / s);
  fmt::print("  (including the cell summary, computed from the samples in memory)\n");
}

// 3b. Generation traces: a repetition of 10,000 generates of 100 tokens (a million token chunks)
// stored, then read back and turned into the generation figures (TTFT, TPOT, ITL percentiles with
// their intervals), as show and report do.
void BenchTraces(const LaunchChoice& launch, const std::string& dir, int64_t chunks) {
  auto store = store::Store::Open(dir + "/traces.db");
  run::WorkerCapabilityCache capabilities(launch.launch);
  auto plan = plan::Expand(plan::ParseExperiment(
      "[experiment]\nname = \"traces\"\nrepetitions = 1\n[matrix]\nframework = \"synthetic\"\n"
      "model = \"synthetic\"\nworkload = \"generation\"\n",
      "traces.toml", capabilities), {});
  int64_t run_id = store.BeginRun({"selftest", ::getpid(), DlbenchVersion(), "-", "[]", "{}"}, plan);
  constexpr int64_t kTokens = 100;
  const int64_t requests = std::max<int64_t>(1, chunks / kTokens);
  result::RepetitionResult r;
  r.status = result::RepStatus::kOk;
  r.started_at = r.finished_at = "-";
  result::GenerationMeasurement g;
  for (int64_t i = 0; i < requests; ++i) {
    result::RequestTrace t;
    t.index = i;
    t.token_source = result::kTokensFromEngine;
    int64_t at = 5'000'000 + (i * 7919) % 100'000;
    for (int64_t k = 0; k < kTokens; ++k) {
      t.chunks.push_back({at, 1});
      at += 1'000'000 + (i * 31 + k * 17) % 50'000;
    }
    t.done_ns = at;
    g.calls.wall_ns.push_back(at);
    g.calls.chunk_idx.push_back(0);
    g.requests.push_back(std::move(t));
  }
  r.measurement = std::move(g);
  auto t0 = Clock::now();
  run::CellSummaries summaries;
  store.AddRepetition(run_id, plan.cells[0], r, summaries.Add(plan.cells[0], r));
  const double store_s = Since(t0);
  t0 = Clock::now();
  const auto cells = store::GetCells(store.db(), run_id);
  const auto figures = GenerationFiguresOf(store.db(), cells[0]);
  const double read_s = Since(t0);
  if (!figures || figures->requests != requests) throw EnvError("selftest: the stored traces did not read back");
  fmt::print("generation traces: {} requests x {} tokens = {} chunks stored in {:.2f} s = {:.0f} chunks/s; "
             "read back and summarized (TTFT, TPOT, ITL with intervals) in {:.2f} s\n",
             requests, kTokens, requests * kTokens, store_s, static_cast<double>(requests * kTokens) / store_s, read_s);
}

// 4. A report on that database of a million samples (target: under 5 s on 2 cores), timed
// as a user would run it: this same binary, `report`, in a child process.
void BenchReport(const std::string& dir) {
  std::string self = ExecutableDir() + "/dlbench";
  auto t0 = Clock::now();
  Subprocess p = Subprocess::Spawn({{self, "report", "latest", "--db", dir + "/ingest.db", "--out",
                                     dir + "/report"},
                                    CurrentEnvironment()});
  ExitStatus st = p.Wait();
  double s = Since(t0);
  if (st.exit_code != 0) throw EnvError("selftest: dlbench report failed: " + st.Describe());
  fmt::print("report on that database (1 run, 1 cell, all formats and plots): {:.2f} s   (target < 5 s)\n", s);
}

ExitCode Selftest(const SelftestOptions& o) {
  if (!o.bench) throw UserError("selftest: nothing to do; allowed: --bench");
  LaunchChoice launch = ChooseLaunch(o.python);
  std::string dir = TempDir();
  fmt::print("dlbench {} selftest --bench on {} (python {})\n\n", DlbenchVersion(),
             [] { char h[256] = {0}; ::gethostname(h, 255); return std::string(h); }(),
             launch.launch.python);
  BenchHarness(launch, o.samples);
  fmt::print("\n");
  BenchController(launch, dir, o.cells);
  BenchContention();
  fmt::print("\n");
  BenchStore(launch, dir, o.samples);
  BenchReport(dir);
  BenchTraces(launch, dir, o.samples);
  std::error_code ec;
  fs::remove_all(dir, ec);
  return ExitCode::kDone;
}

}  // namespace

void AddSelftestCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand("selftest", "Measure dlbench's own overheads (--bench) and print figures");
  auto o = std::make_shared<SelftestOptions>();
  cmd->add_flag("--bench", o->bench, "harness overhead per sample, controller overhead per cell, store ingest rate, report time, generation traces stored and summarized");
  cmd->add_option("--python", o->python, "Python interpreter for the synthetic worker");
  cmd->add_option("--samples", o->samples, "samples for the harness and ingest figures (and token chunks for the traces figure)")->capture_default_str();
  cmd->add_option("--cells", o->cells, "synthetic cells for the controller figure")->capture_default_str();
  cmd->callback([o, &result] { result = Selftest(*o); });
}

}  // namespace dlb::cli
