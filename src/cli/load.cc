// dlbench load URL: drives a seeded load (offline, closed loop, Poisson or gamma arrivals) against
// an OpenAI-compatible streaming endpoint, optionally starting the server first, and prints the
// serving metrics with their intervals; --json keeps every request's token timestamps. With --sweep
// it runs the same open-loop load at each of several rates against one server and answers, from
// each p99's interval, the largest rate that keeps the SLO (serve/sweep.h judges; this file only
// orchestrates).
#include <fmt/format.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/generation.h"
#include "probe/host.h"
#include "revision.h"
#include "run/cell_summaries.h"
#include "run/serving.h"
#include "store/query.h"
#include "store/store.h"
#include "report/table.h"
#include "serve/client.h"
#include "serve/metrics.h"
#include "serve/schedule.h"
#include "serve/server_process.h"
#include "store/export.h"
#include "serve/sweep.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/interrupt.h"
#include "util/process.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

using nlohmann::ordered_json;

struct LoadOptions {
  std::string url;
  std::string api = "completions";
  std::string model = "default";
  std::string arrival = "closed";
  bool arrival_given = false;
  double rate = 0;
  double burstiness = 1;
  int64_t concurrency = 1;
  int64_t requests = 100;
  int64_t warmup = 0;
  std::string input = "128", output = "128", vocab = "10..200", prompt = "tokens";
  uint64_t seed = 0;
  std::optional<int64_t> eos_token;
  bool no_logprobs = false;
  std::optional<double> slo_ttft_ms, slo_tpot_ms;
  double timeout_s = 600, stall_timeout_s = 30;
  std::string server, server_log, health = "/health";
  double startup_timeout_s = 120;
  std::string json_path;
  bool quiet = false;
  std::string db;        // store every repetition here (a run of one serving cell)
  int64_t repetitions = 1;
  std::string sweep;  // "R1,R2,...": requests/s
  bool sweep_stop_on_fail = true;
};

// "N" or "A..B" (inclusive), each >= 1.
serve::Lengths ParseRange(const std::string& flag, const std::string& text) {
  const auto parts = text.find("..") == std::string::npos ? std::vector<std::string>{text, text}
                                                         : std::vector<std::string>{text.substr(0, text.find("..")),
                                                                                    text.substr(text.find("..") + 2)};
  serve::Lengths l;
  try {
    size_t used = 0;
    l.min = std::stoll(parts[0], &used);
    if (used != parts[0].size()) throw std::invalid_argument("trailing");
    l.max = std::stoll(parts[1], &used);
    if (used != parts[1].size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw UserError(fmt::format("{} {}: expected N or MIN..MAX, whole numbers", flag, text));
  }
  return l;
}

// The server `--server` starts and stops (serve::ServerProcess): the command split at spaces, its
// whole output in a log file that is kept.
class Server {
 public:
  explicit Server(const LoadOptions& o) {
    for (auto& w : Split(o.server, ' ')) {
      if (!w.empty()) argv_.push_back(w);
    }
    if (argv_.empty()) throw UserError("--server: an empty command");
    serve::ServerLaunch launch;
    launch.argv = argv_;
    launch.env = CurrentEnvironment();
    launch.log_path = o.server_log.empty()
                          ? (std::filesystem::temp_directory_path() / fmt::format("dlbench-server-{}.log", getpid())).string()
                          : o.server_log;
    launch.url = o.url;
    launch.health = o.health;
    launch.startup_timeout_s = o.startup_timeout_s;
    launch.what = fmt::format("--server \"{}\"", o.server);
    proc_.emplace(launch);
  }
  void Stop() { proc_->Stop(); }
  const std::string& log_path() const { return proc_->log_path(); }
  const std::vector<std::string>& argv() const { return argv_; }  // the command, split at spaces

 private:
  std::vector<std::string> argv_;
  std::optional<serve::ServerProcess> proc_;
};

ordered_json DistributionJson(const serve::Distribution& d) {
  ordered_json j = {{"n", d.n}, {"mean_s", d.mean ? ordered_json(*d.mean) : ordered_json()}};
  for (const auto& q : d.quantiles) {
    const std::string key = fmt::format("p{}", static_cast<int>(q.q * 100 + 0.5));
    j[key] = q.value ? ordered_json{{"value_s", *q.value},
                                    {"ci95_s", q.lo ? ordered_json::array({*q.lo, *q.hi}) : ordered_json()}}
                     : ordered_json{{"value_s", nullptr}, {"why_not", q.why_not}};
  }
  return j;
}

ordered_json Optional(std::optional<double> v) { return v ? ordered_json(*v) : ordered_json(); }

ordered_json LoadJson(const LoadOptions& o, const serve::LoadSpec& spec) {
  return {{"arrival", o.arrival}, {"rate", spec.rate}, {"burstiness", o.burstiness},
          {"concurrency", o.concurrency}, {"requests", o.requests}, {"warmup", o.warmup},
          {"input", {spec.input.min, spec.input.max}}, {"output", {spec.output.min, spec.output.max}},
          {"seed", o.seed}};
}

ordered_json MetricsJson(const serve::LoadMetrics& m) {
  return {{"measured", m.measured}, {"ok", m.ok}, {"failed", m.failed}, {"failures", m.failures},
          {"window_start_s", m.window_start_s}, {"window_s", m.window_s}, {"window_tokens", m.window_tokens},
          {"output_tokens_per_s", Optional(m.output_tokens_per_s)},
          {"requests_per_s", Optional(m.requests_per_s)},
          {"goodput_per_s", Optional(m.goodput_per_s)},
          {"met_slo", m.met_slo},
          {"achieved_rate", Optional(m.achieved_rate)},
          {"token_sources", m.token_sources},
          {"send_delay", DistributionJson(m.send_delay_s)}, {"ttft_due", DistributionJson(m.ttft_due_s)},
          {"ttft_sent", DistributionJson(m.ttft_sent_s)}, {"tpot", DistributionJson(m.tpot_s)},
          {"itl", DistributionJson(m.itl_s)}, {"e2e", DistributionJson(m.e2e_s)}};
}

// The progress line on stderr, "PREFIX done/total requests, elapsed, ~left".
std::function<void(int64_t, int64_t)> ProgressLine(std::string prefix) {
  const auto t_start = std::chrono::steady_clock::now();
  return [=, last = std::chrono::steady_clock::time_point{}](int64_t done, int64_t total) mutable {
    const auto now = std::chrono::steady_clock::now();
    if (done != total && now - last < std::chrono::milliseconds(500)) return;
    last = now;
    const double el = std::chrono::duration<double>(now - t_start).count();
    std::fprintf(stderr, "\r%s%lld/%lld requests, %.1f s, ~%.0f s left   ", prefix.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), el,
                 done ? el * static_cast<double>(total - done) / done : 0.0);
    if (done == total) std::fprintf(stderr, "\n");
  };
}

// "R1,R2,...": each a finite number > 0; returned in increasing order without repeats.
std::vector<double> ParseRates(const std::string& text) {
  std::vector<double> rates;
  for (const std::string& part : Split(text, ',')) {
    double r = 0;
    try {
      size_t used = 0;
      r = std::stod(part, &used);
      if (used != part.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      r = std::nan("");
    }
    if (!std::isfinite(r) || r <= 0) {
      throw UserError(fmt::format("--sweep {}: each rate must be a number of requests/s > 0, got \"{}\"", text, part));
    }
    rates.push_back(r);
  }
  std::sort(rates.begin(), rates.end());
  rates.erase(std::unique(rates.begin(), rates.end()), rates.end());
  return rates;
}

// A load stored as a run of one serving cell: each repetition one load (with its own server when
// dlbench starts it), its request traces in the generation tables, its E2E latencies as the samples.
// Two such runs of the same model and load compare with `compare RUN RUN2 --by run --metric
// ttft|tpot|latency`, with the verdicts and intervals of every other comparison. A sweep is a run
// of one cell per rate (variant rate-R), each with one repetition and the sweep's limits in its
// options, so that show and report can judge it again from the stored traces.
class LoadRun {
 public:
  struct CellSpec {
    std::string variant;
    std::string options_json;
  };
  LoadRun(const LoadOptions& o, const std::vector<CellSpec>& cells)
      : store_(store::Store::Open(o.db)), db_path_(o.db) {
    plan_.experiment.name = "load";
    plan_.experiment.path = o.url;
    plan_.experiment.source_text = "# dlbench load\n" + Join(CommandLine(), " ") + "\n";
    plan_.experiment.repetitions = static_cast<int>(o.repetitions);
    plan_.experiment.seed = o.seed;
    for (const CellSpec& spec : cells) {
      plan::Cell c;
      c.cell_idx = static_cast<int>(plan_.cells.size());
      c.framework = "http";
      c.model = o.model;
      c.batch = o.arrival == "closed" ? static_cast<int>(o.concurrency) : 1;
      c.precision = "-";
      c.device = "http";
      c.workload = "serving";
      c.layout = "default";
      c.variant = spec.variant;
      c.environment = "native";
      c.options_json = spec.options_json;
      c.timeout_s = o.timeout_s;
      plan_.cells.push_back(c);
    }
    const probe::HostFacts host = probe::ReadHostFacts();
    store::RunInfo info{host.hostname, static_cast<int64_t>(::getpid()), DlbenchVersion(), kGitRevision,
                        nlohmann::json(CommandLine()).dump(), probe::HostFactsJson(host)};
    run_id_ = store_.BeginRun(info, plan_);
  }

  void Add(size_t cell, int rep, const std::string& started_at, const std::vector<serve::RequestTrace>& traces,
           const Server* server) {
    // An interrupted load is incomplete: like an interrupted repetition of `run`, it is not stored.
    if (Interrupted()) return;
    result::RepetitionResult r;
    r.rep_idx = r.order_idx = rep;
    r.started_at = started_at;
    r.finished_at = NowIso8601();
    run::SetLoadOutcome(r, traces);
    if (server != nullptr) {
      r.argv = server->argv();
      r.log = "server log: " + server->log_path();
    }
    store_.AddRepetition(run_id_, plan_.cells[cell], r, summaries_.Add(plan_.cells[cell], r));
  }

  void Finish(bool complete) { store_.FinishRun(run_id_, complete); }
  int64_t run_id() const { return run_id_; }

  // Every repetition's figures from the stored traces, and where they are.
  std::string Summary() {
    const auto cells = store::GetCells(store_.db(), run_id_);
    return "\n" + GenerationTable(store_.db(), cells) +
           fmt::format("stored in {} as run {}; compare two loads: dlbench compare {} RUN2 --by run --metric ttft\n",
                       db_path_, run_id_, run_id_);
  }

 private:
  store::Store store_;
  std::string db_path_;
  plan::Plan plan_;
  run::CellSummaries summaries_;
  int64_t run_id_ = 0;
};

// One rate of a sweep, as measured.
struct SweepStep {
  double rate = 0;
  serve::LoadResult result;
  serve::LoadMetrics metrics;
  serve::RateVerdict verdict;
};

ExitCode RunSweep(const LoadOptions& o, const serve::Endpoint& ep, serve::DriveOptions d, const serve::Slo& slo) {
  const std::vector<double> rates = ParseRates(o.sweep);
  for (double r : rates) {
    d.spec.rate = r;
    if (auto bad = serve::CheckLoadSpec(d.spec); !bad.empty()) throw UserError("load: " + bad.front());
  }
  InstallInterruptHandlers();
  std::optional<Server> server;
  if (!o.server.empty()) {
    if (!o.quiet) std::fprintf(stderr, "starting %s\n", o.server.c_str());
    server.emplace(o);
  }
  std::optional<LoadRun> stored;
  if (!o.db.empty()) {
    std::vector<LoadRun::CellSpec> cells;
    for (double r : rates) {
      d.spec.rate = r;
      ordered_json options = LoadJson(o, d.spec);
      options["url"] = o.url;
      options["sweep"] = {{"ttft_s", Optional(slo.ttft_s)}, {"tpot_s", Optional(slo.tpot_s)}};
      cells.push_back({fmt::format("rate-{}", FormatFigure(r)), options.dump()});
    }
    stored.emplace(o, cells);
  }
  std::vector<SweepStep> steps;
  for (double r : rates) {
    if (Interrupted()) break;
    d.spec.rate = r;
    if (!o.quiet) d.progress = ProgressLine(fmt::format("{} req/s: ", FormatFigure(r)));
    SweepStep step;
    step.rate = r;
    const std::string started_at = NowIso8601();
    step.result = serve::Drive(ep, serve::MakeSchedule(d.spec), d);
    if (stored) stored->Add(steps.size(), 0, started_at, step.result.traces, server ? &*server : nullptr);
    step.metrics = serve::Summarize(step.result.traces, slo, true);
    step.verdict = serve::JudgeRate(r, step.metrics, slo);
    steps.push_back(std::move(step));
    if (Interrupted()) break;
    if (o.sweep_stop_on_fail && steps.back().verdict.verdict == serve::Verdict::kFails) break;
  }
  if (server) server->Stop();
  if (stored) stored->Finish(!Interrupted());
  std::vector<serve::RateVerdict> verdicts;
  for (const SweepStep& s : steps) verdicts.push_back(s.verdict);
  const serve::SweepAnswer answer = serve::Answer(verdicts);
  std::vector<double> not_run(rates.begin() + static_cast<std::ptrdiff_t>(steps.size()), rates.end());
  const bool interrupted = Interrupted();

  if (!o.json_path.empty()) {
    ordered_json per_rate = ordered_json::array();
    for (const SweepStep& s : steps) {
      ordered_json limits = ordered_json::array();
      for (const auto& l : s.verdict.limits) {
        limits.push_back({{"metric", l.metric}, {"limit_s", l.limit_s}, {"verdict", serve::VerdictName(l.verdict)},
                          {"why", l.why}});
      }
      per_rate.push_back({{"rate", s.rate}, {"clock_origin_ns", s.result.origin_ns},
                          {"verdict", {{"verdict", serve::VerdictName(s.verdict.verdict)}, {"why", s.verdict.why},
                                       {"limits", limits}}},
                          {"metrics", MetricsJson(s.metrics)}, {"requests", store::RequestsJson(s.result.traces)}});
    }
    ordered_json load = LoadJson(o, d.spec);
    load.erase("rate");
    load.erase("concurrency");
    ordered_json j = {
        {"url", o.url}, {"api", o.api}, {"model", o.model}, {"load", load},
        {"sweep", {{"rates", rates}, {"stop_on_fail", o.sweep_stop_on_fail}, {"not_run", not_run},
                   {"interrupted", interrupted}}},
        {"slo", {{"ttft_s", Optional(slo.ttft_s)}, {"tpot_s", Optional(slo.tpot_s)}}},
        {"rates", per_rate},
        {"answer", {{"text", answer.text}, {"decided", answer.decided()}, {"at_least", Optional(answer.at_least)},
                    {"at_most", Optional(answer.at_most)}, {"highest_run", answer.highest_run}}}};
    if (server) j["server_log"] = server->log_path();
    WriteFileAtomically(o.json_path, j.dump() + "\n");
  }

  std::printf("%s %s, %s sweep over %zu rates: %lld measured requests per rate, %lld warm-up; limits %s\n",
              o.url.c_str(), o.api.c_str(), o.arrival.c_str(), rates.size(), static_cast<long long>(o.requests),
              static_cast<long long>(o.warmup), SloText(slo).c_str());
  report::SweepFigures figures;
  bool any_failed = false;
  for (const SweepStep& s : steps) {
    figures.rows.push_back(SweepRowOf(s.rate, s.metrics, s.verdict));
    any_failed = any_failed || s.metrics.failed > 0;
  }
  std::printf("%s", SweepText(figures).c_str());
  if (!not_run.empty()) {
    std::vector<std::string> names;
    for (double r : not_run) names.push_back(FormatFigure(r));
    if (interrupted) {
      std::printf("not run: %s (interrupted)\n", Join(names, ", ").c_str());
    } else {
      std::printf("not run: %s (stopped after %s failed; --no-sweep-stop-on-fail runs every rate)\n",
                  Join(names, ", ").c_str(), FormatFigure(steps.back().rate).c_str());
    }
  }
  if (interrupted && !steps.empty()) {
    std::printf("interrupted during %s req/s: its row counts the cancelled requests as failed\n",
                FormatFigure(steps.back().rate).c_str());
  }
  std::printf("answer: the largest rate with %s: %s\n", SloText(slo).c_str(), answer.text.c_str());
  if (server) std::printf("server log: %s\n", server->log_path().c_str());
  if (stored) {
    std::printf("stored in %s as run %lld, one cell per rate; dlbench show %lld and dlbench report %lld judge it "
                "again from the stored requests and draw its latency-throughput curve\n",
                o.db.c_str(), static_cast<long long>(stored->run_id()), static_cast<long long>(stored->run_id()),
                static_cast<long long>(stored->run_id()));
  }
  if (interrupted) return ExitCode::kInterrupted;
  return any_failed ? ExitCode::kSomeFailed : ExitCode::kDone;
}

ExitCode RunLoad(LoadOptions o) {
  if (auto bad = CheckBaseUrl(o.url)) throw UserError("URL " + *bad);
  while (o.url.ends_with('/')) o.url.pop_back();
  serve::Endpoint ep;
  ep.base_url = o.url;
  if (o.api != "completions" && o.api != "chat") {
    throw UserError(fmt::format("--api {}: allowed values are completions, chat", o.api));
  }
  ep.api = o.api == "chat" ? serve::Api::kChat : serve::Api::kCompletions;
  ep.model = o.model;
  const serve::Lengths vocab = ParseRange("--vocab", o.vocab);
  ep.vocab_lo = vocab.min;
  ep.vocab_hi = vocab.max + 1;
  ep.logprobs = !o.no_logprobs;
  if (o.prompt != "tokens" && o.prompt != "text") {
    throw UserError(fmt::format("--prompt {}: allowed values are tokens, text", o.prompt));
  }
  ep.text_prompts = o.prompt == "text";
  ep.eos_token = o.eos_token;
  ep.request_timeout_s = o.timeout_s;
  ep.stall_timeout_s = o.stall_timeout_s;

  const bool sweep = !o.sweep.empty();
  if (sweep) {
    // The sweep sets the rate itself, and its question is about an open loop.
    if (!o.arrival_given) o.arrival = "poisson";
    if (o.arrival != "poisson" && o.arrival != "gamma") {
      throw UserError(fmt::format("--sweep needs open-loop arrivals (--arrival poisson or gamma), not {}", o.arrival));
    }
    if (o.rate != 0) throw UserError("--sweep sets the rate itself: leave out --rate");
    if (!o.slo_ttft_ms && !o.slo_tpot_ms) {
      throw UserError("--sweep needs a limit to judge each rate against: give --slo-ttft-ms, --slo-tpot-ms or both");
    }
    o.rate = ParseRates(o.sweep).front();
  }
  serve::DriveOptions d;
  auto arrival = serve::ParseArrival(o.arrival);
  if (!arrival) throw UserError("--arrival: " + arrival.error());
  d.spec.arrival = *arrival;
  d.spec.rate = o.rate;
  d.spec.burstiness = o.burstiness;
  d.spec.concurrency = o.concurrency;
  d.spec.requests = o.requests;
  d.spec.warmup = o.warmup;
  d.spec.input = ParseRange("--input", o.input);
  d.spec.output = ParseRange("--output", o.output);
  d.spec.seed = o.seed;
  if (auto bad = serve::CheckLoadSpec(d.spec); !bad.empty()) throw UserError("load: " + bad.front());
  serve::Slo slo;
  if (o.slo_ttft_ms) slo.ttft_s = *o.slo_ttft_ms / 1e3;
  if (o.slo_tpot_ms) slo.tpot_s = *o.slo_tpot_ms / 1e3;
  if (sweep && o.repetitions != 1) {
    throw UserError("--repetitions with --sweep: a sweep runs each rate once (run the sweep again into the same "
                    "--db for another)");
  }
  if (sweep) return RunSweep(o, ep, d, slo);

  if (o.repetitions < 1) throw UserError(fmt::format("--repetitions {}: must be >= 1", o.repetitions));
  if (o.repetitions > 1 && o.db.empty()) {
    throw UserError("--repetitions needs --db: the database keeps every repetition (one --json holds one load)");
  }
  if (o.repetitions > 1 && !o.json_path.empty()) {
    throw UserError("--json holds one load; with --repetitions, export the stored run instead "
                    "(dlbench export RUN --format json --samples)");
  }
  InstallInterruptHandlers();
  const bool has_due = d.spec.arrival != serve::Arrival::kClosed;
  const auto schedule = serve::MakeSchedule(d.spec);
  std::optional<LoadRun> stored;
  if (!o.db.empty()) stored.emplace(o, std::vector<LoadRun::CellSpec>{{"default", LoadJson(o, d.spec).dump()}});
  serve::LoadResult result;
  serve::LoadMetrics m;
  std::string server_log;
  for (int64_t rep = 0; rep < o.repetitions && !Interrupted(); ++rep) {
    // Each repetition gets its own server process, as each repetition of a framework cell gets a
    // fresh worker: what one server process happened to do is not counted as many observations.
    const std::string started_at = NowIso8601();
    std::optional<Server> server;
    if (!o.server.empty()) {
      if (!o.quiet) std::fprintf(stderr, "starting %s\n", o.server.c_str());
      server.emplace(o);
      server_log = server->log_path();
    }
    if (!o.quiet) {
      d.progress = ProgressLine(o.repetitions > 1 ? fmt::format("repetition {}/{}: ", rep + 1, o.repetitions) : "");
    }
    result = serve::Drive(ep, schedule, d);
    if (server) server->Stop();
    m = serve::Summarize(result.traces, slo, has_due);
    if (stored) stored->Add(0, static_cast<int>(rep), started_at, result.traces, server ? &*server : nullptr);
  }
  if (stored) stored->Finish(!Interrupted());
  const std::vector<serve::RequestTrace>& traces = result.traces;

  if (!o.json_path.empty()) {
    ordered_json j = {{"url", o.url}, {"api", o.api}, {"model", o.model}, {"clock_origin_ns", result.origin_ns},
                      {"load", LoadJson(o, d.spec)}, {"metrics", MetricsJson(m)}, {"requests", store::RequestsJson(traces)}};
    if (!server_log.empty()) j["server_log"] = server_log;
    WriteFileAtomically(o.json_path, j.dump() + "\n");
  }

  if (o.repetitions > 1) std::printf("the last of %lld repetitions:\n", static_cast<long long>(o.repetitions));
  std::printf("%s %s, %s", o.url.c_str(), o.api.c_str(), o.arrival.c_str());
  if (has_due && d.spec.arrival != serve::Arrival::kOffline) std::printf(" at %s req/s", FormatFigure(o.rate).c_str());
  if (d.spec.arrival == serve::Arrival::kClosed) std::printf(" at concurrency %lld", static_cast<long long>(o.concurrency));
  std::printf(": %lld measured requests (%lld ok, %lld failed), %lld warm-up\n", static_cast<long long>(m.measured),
              static_cast<long long>(m.ok), static_cast<long long>(m.failed), static_cast<long long>(m.warmup));
  for (const auto& [status, count] : m.failures) {
    std::printf("  failed: %s x%lld\n", status.c_str(), static_cast<long long>(count));
  }
  report::TextTable table({"metric (ms)", "n", "mean", "p50 [95% CI]", "p90 [95% CI]", "p99 [95% CI]"},
                          {false, true, true, true, true, true});
  auto row = [&](const char* name, const serve::Distribution& dist) {
    table.AddRow({name, std::to_string(dist.n), dist.mean ? FormatFigure(*dist.mean * 1e3) : "-", serve::QuantileMs(dist.quantiles[0]),
                  serve::QuantileMs(dist.quantiles[1]), serve::QuantileMs(dist.quantiles[2])});
  };
  row("TTFT from due", m.ttft_due_s);
  row("TTFT from send", m.ttft_sent_s);
  row("TPOT", m.tpot_s);
  row("ITL (per token)", m.itl_s);
  row("E2E from due", m.e2e_s);
  if (has_due) row("send delay", m.send_delay_s);
  std::printf("%s", table.Render().c_str());
  auto fig = [](std::optional<double> v) { return v ? FormatFigure(*v) : std::string("-"); };
  std::printf("window %.3f s from %.3f s: %s output tokens/s, %s requests/s", m.window_s, m.window_start_s,
              fig(m.output_tokens_per_s).c_str(), fig(m.requests_per_s).c_str());
  if (slo.ttft_s || slo.tpot_s) {
    std::printf(", goodput %s requests/s (%lld of %lld met the SLO)", fig(m.goodput_per_s).c_str(),
                static_cast<long long>(m.met_slo), static_cast<long long>(m.ok));
  }
  std::printf("\n");
  if (m.achieved_rate && (d.spec.arrival == serve::Arrival::kPoisson || d.spec.arrival == serve::Arrival::kGamma)) {
    std::printf("sent at %s requests/s against a target of %s\n", FormatFigure(*m.achieved_rate).c_str(),
                FormatFigure(o.rate).c_str());
  }
  std::printf("tokens counted from: %s\n", m.token_sources.empty() ? "-" : m.token_sources.c_str());
  if (!server_log.empty()) std::printf("server log: %s\n", server_log.c_str());
  if (stored) std::printf("%s", stored->Summary().c_str());
  if (Interrupted()) return ExitCode::kInterrupted;
  return m.failed > 0 ? ExitCode::kSomeFailed : ExitCode::kDone;
}

}  // namespace

void AddLoadCommand(CLI::App& app, ExitCode& result) {
  auto o = std::make_shared<LoadOptions>();
  CLI::App* cmd = app.add_subcommand(
      "load", "Drive a seeded load against an OpenAI-compatible streaming endpoint and report TTFT, TPOT, ITL, "
              "throughput and goodput with their intervals; with --sweep, the largest rate that keeps the p99 limits");
  cmd->add_option("url", o->url, "the server's base URL, http(s)://host:port (the /v1/... path is added)")->required();
  cmd->add_option("--api", o->api, "completions (/v1/completions, token-id prompts, exact input length) or chat")
      ->capture_default_str();
  cmd->add_option("--model", o->model, "the model name sent in each request")->capture_default_str();
  cmd->add_option("--arrival", o->arrival,
                  "offline (all at t=0), closed (--concurrency in flight), poisson or gamma (--rate); "
                  "poisson by default with --sweep")
      ->capture_default_str()
      ->each([o](const std::string&) { o->arrival_given = true; });
  cmd->add_option("--rate", o->rate, "open loop: requests per second");
  cmd->add_option("--burstiness", o->burstiness, "gamma: the gap distribution's shape (1 = Poisson, < 1 burstier)")
      ->capture_default_str();
  cmd->add_option("--concurrency", o->concurrency, "closed loop: requests in flight")->capture_default_str();
  cmd->add_option("--requests", o->requests, "measured requests")->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "warm-up requests sent first and left out of every figure")->capture_default_str();
  cmd->add_option("--input", o->input, "input tokens per request: N or MIN..MAX (seeded uniform)")->capture_default_str();
  cmd->add_option("--output", o->output, "output tokens per request, EOS ignored: N or MIN..MAX")->capture_default_str();
  cmd->add_option("--vocab", o->vocab, "token ids drawn for prompts: LO..HI")->capture_default_str();
  cmd->add_option("--prompt", o->prompt,
                  "completions prompts: tokens (token-id arrays, exact length) or text (words; the server's "
                  "usage gives the length), for servers that take only text")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of arrivals, lengths and prompts")->capture_default_str();
  cmd->add_option("--eos-token", o->eos_token, "EOS token id: sent a logit bias of -100 besides ignore_eos");
  cmd->add_flag("--no-logprobs", o->no_logprobs, "do not ask for logprobs (token counts then come from usage or chunks)");
  cmd->add_option("--slo-ttft-ms", o->slo_ttft_ms,
                  "goodput: TTFT limit (from the due time); with --sweep, the limit on p99 TTFT");
  cmd->add_option("--slo-tpot-ms", o->slo_tpot_ms, "goodput: TPOT limit; with --sweep, the limit on p99 TPOT");
  cmd->add_option("--sweep", o->sweep,
                  "R1,R2,...: run the same open-loop load at each rate (requests/s, increasing) against one "
                  "server and answer the largest rate whose p99 TTFT and TPOT 95% intervals lie under the "
                  "--slo-* limits (at least one needed)");
  cmd->add_flag_callback("--no-sweep-stop-on-fail", [o] { o->sweep_stop_on_fail = false; },
                         "run every rate of --sweep; by default it stops after a rate that fails a limit, "
                         "since higher rates only get worse");
  cmd->add_option("--timeout", o->timeout_s, "seconds one request may take")->capture_default_str();
  cmd->add_option("--stall-timeout", o->stall_timeout_s, "seconds without a byte before a request counts as stalled")
      ->capture_default_str();
  cmd->add_option("--server", o->server, "command that starts the server (split at spaces); stopped after the load");
  cmd->add_option("--server-log", o->server_log, "where the started server's output goes (default: a temporary file)");
  cmd->add_option("--health", o->health, "path polled until it answers 200 before the load starts")->capture_default_str();
  cmd->add_option("--startup-timeout", o->startup_timeout_s, "seconds to wait for the health check")->capture_default_str();
  cmd->add_option("--json", o->json_path, "write the metrics and every request's token timestamps here");
  cmd->add_option("--db", o->db, "also store the load as a run of one serving cell (each repetition's token timestamps; "
                                 "show, report, compare --by run --metric ttft|tpot read it); a sweep as one cell per "
                                 "rate (show and report give its table, answer and curve)");
  cmd->add_option("--repetitions", o->repetitions, "with --db: run the load this many times, each with its own server "
                                                   "(--server), for intervals across repetitions")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", o->quiet, "no progress line");
  cmd->callback([o, &result] { result = RunLoad(*o); });
}

}  // namespace dlb::cli
