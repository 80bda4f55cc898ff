// The store's contracts: a round trip keeps raw samples with their repetition and chunk indices,
// the cell summary the run hands over is written as given (the store computes none), migrations run from an empty file and refuse a newer
// schema, reading writes nothing (an older schema is upgraded in memory, another application's
// file is refused), a run whose controller died reads incomplete and is marked so by a writer,
// exports quote and parse.
#include "store/store.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "plan/expand.h"
#include "plan/parse.h"
#include "run/cell_summaries.h"
#include "run/energy.h"
#include "run/golden_capabilities.h"
#include "store/export.h"
#include "store/merge.h"
#include "store/query.h"
#include "store/schema.h"
#include "util/error.h"

namespace dlb::store {
namespace {

namespace fs = std::filesystem;

// A CSV text's field getter for data row `row` (1 is the first after the header), by header name;
// throws std::out_of_range for a header it lacks. For rows without quoted commas.
std::function<std::string(const std::string&)> CsvField(const std::string& text, size_t row) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::string f;
    std::istringstream ls(line);
    while (std::getline(ls, f, ',')) fields.push_back(f);
    if (!line.empty() && line.back() == ',') fields.push_back("");
    rows.push_back(fields);
  }
  return [rows, row](const std::string& name) {
    const auto& header = rows.at(0);
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) throw std::out_of_range("no column " + name);
    return rows.at(row).at(static_cast<size_t>(it - header.begin()));
  };
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dlbench-store-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
    plan_ = plan::Expand(run::ParseWithGoldenWorkers(R"(
[experiment]
name = "a, \"quoted\" <name>"
repetitions = 2
[matrix]
framework = "synthetic"
model = "synthetic"
batch = [1, 4]
)", "t.toml"), {});
  }
  void TearDown() override { fs::remove_all(dir_); }

  result::RepetitionResult Rep(int cell, int rep, std::vector<int64_t> wall, int warmup) {
    result::RepetitionResult r;
    r.cell_idx = cell;
    r.rep_idx = rep;
    r.status = result::RepStatus::kOk;
    r.started_at = r.finished_at = "2026-11-23T00:00:00.000Z";
    r.argv = {"python", "-m", "dlbench_worker", "synthetic"};
    r.env = {{"XLA_FLAGS", "--x"}};
    result::TimedSeries& t = *r.series();
    t.wall_ns = wall;
    for (size_t i = 0; i < wall.size(); ++i) t.chunk_idx.push_back(static_cast<int32_t>(i / 3));
    t.warmup_count = warmup;
    t.window_ns = 1000;
    t.window_iterations = 10;
    r.parameters = 10;
    r.load_s = 0.5;
    r.first_call_s = 0.1;
    r.peak_rss_bytes = 1000 + rep;
    r.settings_json = R"({"layout":"NCHW"})";
    r.log = "line one\nline two\n";
    return r;
  }

  // Stores a repetition as the run does: the run side summarises its telemetry and its cell
  // (run::CellSummaries, one per run), the store writes what it is given.
  void Add(Store& s, int64_t run_id, const plan::Cell& cell, result::RepetitionResult r) {
    r.telemetry_summary = run::SummarizeTelemetry(r, cell.batch);
    s.AddRepetition(run_id, cell, r, summaries_[run_id].Add(cell, r));
  }

  fs::path dir_;
  std::string path_;
  plan::Plan plan_;
  std::map<int64_t, run::CellSummaries> summaries_;
};

TEST_F(StoreTest, RoundTripKeepsSamplesAndSummarises) {
  Store s = Store::Open(path_);
  int64_t run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[\"dlbench\"]", "{}"}, plan_);
  Add(s, run, plan_.cells[1], Rep(1, 0, {900, 100, 200, 300}, 1));
  Add(s, run, plan_.cells[1], Rep(1, 1, {50, 400, 500}, 1));
  s.FinishRun(run, true);

  auto cells = GetCells(s.db(), run);
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[0].status, "pending");
  const CellRow& c = cells[1];
  EXPECT_EQ(c.status, "ok");
  EXPECT_EQ(c.repetitions_ok, 2);
  EXPECT_EQ(*c.n_samples, 5);           // warm-up excluded: 100 200 300 400 500
  EXPECT_DOUBLE_EQ(*c.p50_ns, 300);
  EXPECT_DOUBLE_EQ(*c.mean_ns, 300);
  EXPECT_DOUBLE_EQ(*c.min_ns, 100);
  EXPECT_DOUBLE_EQ(*c.throughput_sps, 4.0 * 5 / 1500e-9);  // batch 4, sum/sum (rule 13)
  EXPECT_DOUBLE_EQ(*c.window_throughput_sps, 4.0 * 20 / 2000e-9);
  EXPECT_EQ(*c.peak_rss_bytes, 1001);
  EXPECT_FALSE(c.median_ci_lo_ns);  // n = 5: no 95% CI of the median exists

  auto reps = GetRepetitions(s.db(), c.cell_id);
  ASSERT_EQ(reps.size(), 2u);
  EXPECT_EQ(reps[0].n_samples, 3);
  EXPECT_EQ(reps[0].warmup_iterations, 1);
  EXPECT_EQ(reps[0].log, "line one\nline two\n");
  auto samples = GetSamples(s.db(), reps[0].repetition_id);
  ASSERT_EQ(samples.size(), 4u);
  EXPECT_EQ(samples[0].is_warmup, 1);
  EXPECT_EQ(samples[0].wall_ns, 900);
  EXPECT_EQ(samples[3].chunk_idx, 1);
  EXPECT_EQ(samples[3].iter_idx, 3);

  auto runs = ListRuns(s.db());
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "complete");
  EXPECT_EQ(runs[0].cells_ok, 1);
}

// The store computes no statistics: the cell summary it is handed is what it writes, even where
// the samples would say otherwise, so that its only source is the run's CellSummaries.
TEST_F(StoreTest, WritesTheCellSummaryItIsGiven) {
  Store s = Store::Open(path_);
  int64_t run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[]", "{}"}, plan_);
  analysis::CellSummary given;
  given.status = "ok";
  given.repetitions_ok = given.repetitions_run = 7;
  stats::Summary latency;
  latency.n = 3;
  latency.mean = latency.p50 = 42;
  given.latency = latency;
  given.throughput_sps = 12.5;
  s.AddRepetition(run, plan_.cells[0], Rep(0, 0, {1, 2, 3}, 0), given);
  const CellRow c = GetCells(s.db(), run)[0];
  EXPECT_EQ(c.repetitions_run, 7);
  EXPECT_DOUBLE_EQ(c.p50_ns.value_or(0), 42);
  EXPECT_DOUBLE_EQ(c.throughput_sps.value_or(0), 12.5);
  EXPECT_EQ(GetSamples(s.db(), GetRepetitions(s.db(), c.cell_id)[0].repetition_id).size(), 3u);
}

// A training repetition's payload (its step series) is stored as an inference one's calls are.
TEST_F(StoreTest, StoresATrainingPayloadsStepSeries) {
  Store s = Store::Open(path_);
  int64_t run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[]", "{}"}, plan_);
  result::RepetitionResult r = Rep(0, 0, {}, 0);
  result::TrainingMeasurement training;
  training.steps.wall_ns = {50, 10, 20, 30};
  training.steps.chunk_idx = {0, 0, 1, 1};
  training.steps.warmup_count = 1;
  training.steps.median_ns = 20;
  training.steps.converged = true;
  r.measurement = training;
  Add(s, run, plan_.cells[0], r);
  const CellRow c = GetCells(s.db(), run)[0];
  EXPECT_DOUBLE_EQ(c.p50_ns.value_or(0), 20);
  auto reps = GetRepetitions(s.db(), c.cell_id);
  EXPECT_EQ(reps[0].n_samples, 3);
  EXPECT_EQ(reps[0].warmup_iterations, 1);
  EXPECT_EQ(reps[0].converged, 1);
  EXPECT_EQ(GetSamples(s.db(), reps[0].repetition_id).size(), 4u);
}

// A generation repetition's traces land in requests and token_chunks, one request per sample with
// the samples' warm-up split, and come back whole; the JSON export with samples carries them.
TEST_F(StoreTest, StoresGenerationTracesPerSample) {
  Store s = Store::Open(path_);
  int64_t run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[]", "{}"}, plan_);
  result::RepetitionResult r = Rep(0, 0, {}, 0);
  result::GenerationMeasurement g;
  g.calls.wall_ns = {900, 400, 410};
  g.calls.chunk_idx = {0, 1, 1};
  g.calls.warmup_count = 1;
  for (int64_t i = 0; i < 3; ++i) {
    result::RequestTrace t;
    t.index = i;
    t.warmup = i < g.calls.warmup_count;  // as the run flags them when the warm-up ends
    t.input_tokens = 8;
    t.output_tokens_requested = 3;
    t.token_source = result::kTokensFromEngine;
    t.chunks = {{100 + i, 1}, {200 + i, 1}, {300 + i, 2}};
    t.done_ns = 300 + i;
    g.requests.push_back(t);
  }
  r.measurement = g;
  Add(s, run, plan_.cells[0], r);
  const int64_t rep = GetRepetitions(s.db(), GetCells(s.db(), run)[0].cell_id)[0].repetition_id;
  const auto measured = GetRequests(s.db(), rep);
  ASSERT_EQ(measured.size(), 2u);  // the warm-up call is left out
  EXPECT_EQ(measured[0].index, 1);
  EXPECT_FALSE(measured[0].warmup);
  EXPECT_EQ(measured[1].chunks, (std::vector<result::Chunk>{{102, 1}, {202, 1}, {302, 2}}));
  EXPECT_EQ(measured[1].OutputTokens(), 4);
  EXPECT_EQ(measured[1].token_source, "engine");
  EXPECT_EQ(measured[1].input_tokens, 8);
  const auto all = GetRequests(s.db(), rep, /*with_warmup=*/true);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_TRUE(all[0].warmup);
  EXPECT_EQ(all[0].chunks.size(), 3u);
  std::ostringstream js;
  ExportJson(s.db(), run, /*with_samples=*/false, js);
  EXPECT_FALSE(nlohmann::json::parse(js.str())["cells"][0]["repetitions"][0].contains("requests"));
}

// A training repetition with a dataset: its epochs land in training_epochs, the cell's two
// figures in the cell, and export carries both.
TEST_F(StoreTest, StoresADatasetsEpochsAndTheCellsFigures) {
  plan::Cell cell = plan_.cells[1];
  cell.dataset = "digits";
  cell.epochs = 2;
  plan::Plan plan = plan_;
  plan.cells[1] = cell;
  Store s = Store::Open(path_);
  int64_t run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[]", "{}"}, plan);
  result::RepetitionResult r = Rep(1, 0, {}, 0);
  result::TrainingMeasurement training;
  training.steps.wall_ns = {10, 20};
  training.steps.chunk_idx = {0, 0};
  training.epochs = {{.epoch_idx = 0, .epoch_ns = 3'000'000'000, .train_loss = 1.5, .accuracy = 0.5},
                     {.epoch_idx = 1, .epoch_ns = 1'000'000'000, .train_loss = 0.5, .accuracy = 0.75}};
  r.measurement = training;
  Add(s, run, cell, r);
  const CellRow c = GetCells(s.db(), run)[1];
  EXPECT_EQ(c.dataset.value_or(""), "digits");
  EXPECT_EQ(c.epochs.value_or(0), 2);
  EXPECT_DOUBLE_EQ(c.epoch_s.value_or(0), 2.0);
  EXPECT_DOUBLE_EQ(c.accuracy.value_or(0), 0.75);
  EXPECT_FALSE(GetCells(s.db(), run)[0].dataset);
  auto epochs = GetTrainingEpochs(s.db(), GetRepetitions(s.db(), c.cell_id)[0].repetition_id);
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[1].epoch_ns, 1'000'000'000);
  EXPECT_DOUBLE_EQ(epochs[1].train_loss, 0.5);
  std::ostringstream js;
  ExportJson(s.db(), run, false, js);
  auto j = nlohmann::json::parse(js.str());
  EXPECT_EQ(j["cells"][1]["dataset"]["accuracy"], 0.75);
  EXPECT_EQ(j["cells"][1]["repetitions"][0]["epochs"][0]["epoch_ns"], 3'000'000'000);
  EXPECT_TRUE(j["cells"][0]["dataset"]["name"].is_null());
  std::ostringstream csv;
  ExportCsv(s.db(), run, csv);
  const auto field = CsvField(csv.str(), 2);
  EXPECT_EQ(field("dataset"), "digits");
  EXPECT_EQ(field("epochs"), "2");
  EXPECT_EQ(field("accuracy"), "0.75");
}

// The store keeps nothing between calls: repetitions of two runs begun through one Store, in any
// order, land in their own runs' cells.
TEST_F(StoreTest, RunsBegunTogetherKeepTheirOwnRepetitions) {
  Store s = Store::Open(path_);
  int64_t first = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[]", "{}"}, plan_);
  int64_t second = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[]", "{}"}, plan_, {"sw", 1, 2});
  Add(s, first, plan_.cells[1], Rep(1, 0, {1, 2, 3}, 0));
  Add(s, second, plan_.cells[0], Rep(0, 0, {4, 5, 6}, 0));
  EXPECT_EQ(GetCells(s.db(), first)[1].repetitions_run, 1);
  EXPECT_EQ(GetCells(s.db(), first)[0].repetitions_run, 0);
  EXPECT_EQ(GetCells(s.db(), second)[0].repetitions_run, 1);
  RunRow a = GetRun(s.db(), first), b = GetRun(s.db(), second);
  EXPECT_NE(a.run_uuid, b.run_uuid);
  EXPECT_EQ(a.run_uuid.size(), 36u);
  EXPECT_TRUE(a.sweep_id.empty());
  EXPECT_EQ(b.sweep_id, "sw");
  EXPECT_EQ(b.shard_index, 1);
  EXPECT_EQ(b.shard_count, 2);
  EXPECT_EQ(LogicalRun(s.db(), first), std::vector<int64_t>{first});
  EXPECT_EQ(LogicalRun(s.db(), second), std::vector<int64_t>{second});
}

// The shards of one sweep are one logical run, in shard order whatever order they were stored in.
TEST_F(StoreTest, ShardsOfASweepAreOneLogicalRun) {
  Store s = Store::Open(path_);
  RunInfo info{"host", ::getpid(), "0.1.0", "abc", "[]", "{}"};
  int64_t other = s.BeginRun(info, plan_, {"other", 0, 1});
  int64_t second = s.BeginRun(info, plan_, {"sw", 1, 2});
  int64_t first = s.BeginRun(info, plan_, {"sw", 0, 2});
  EXPECT_EQ(LogicalRun(s.db(), second), (std::vector<int64_t>{first, second}));
  EXPECT_EQ(LogicalRun(s.db(), first), (std::vector<int64_t>{first, second}));
  EXPECT_EQ(LogicalRun(s.db(), other), std::vector<int64_t>{other});
}

// A file from before run keys: its runs get keys from what named them on their host, the same each
// time the file is read, so merging it twice adds its runs once.
TEST_F(StoreTest, OlderRunsGetStableKeysAndMergeOnce) {
  {
    Db db(path_);
    MigrateTo(db, 5);
    db.Exec("INSERT INTO runs (experiment, experiment_file, experiment_toml, status, started_at, "
            "host, controller_pid, dlbench_version, dlbench_revision, command_line, host_json, "
            "order_kind, seed, repetitions, cooldown_s) VALUES ('old', 'o.toml', '', 'complete', "
            "'2026-01-01', 'h', 1, '0.0.1', 'x', '[]', '{}', 'sequential', 1, 1, 0)");
  }
  std::string key = ListRuns(Store::OpenExisting(path_).db())[0].run_uuid;
  EXPECT_TRUE(key.starts_with("legacy-")) << key;
  EXPECT_EQ(ListRuns(Store::OpenExisting(path_).db())[0].run_uuid, key);
  Store out = Store::Open((dir_ / "out.db").string());
  EXPECT_EQ(MergeFiles(out, {path_}).runs_added, 1);
  MergeSummary again = MergeFiles(out, {path_});
  EXPECT_EQ(again.runs_added, 0);
  EXPECT_EQ(again.runs_already_there, 1);
  auto runs = ListRuns(out.db());
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].run_uuid, key);
  EXPECT_EQ(*runs[0].merged_from, path_);
}

// Two versions of one run (same key, different contents) are refused before anything is written.
TEST_F(StoreTest, MergeRefusesTwoVersionsOfOneRun) {
  const std::string a = (dir_ / "a.db").string(), b = (dir_ / "b.db").string();
  int64_t run = 0;
  {
    Store s = Store::Open(a);
    run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[]", "{}"}, plan_);
    Add(s, run, plan_.cells[0], Rep(0, 0, {1, 2, 3}, 0));
    s.FinishRun(run, true);
  }
  fs::copy_file(a, b);
  {
    Store s = Store::Open(b);
    Add(s, run, plan_.cells[1], Rep(1, 0, {1, 2, 3}, 0));
  }
  Store out = Store::Open(path_);
  try {
    (void)MergeFiles(out, {a, b});
    FAIL() << "merged two versions of one run";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("two different versions of one run"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("a.db"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("b.db"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(ListRuns(out.db()).empty());
}

TEST_F(StoreTest, FailedAndUnsupportedRepetitionsSetTheCellStatus) {
  Store s = Store::Open(path_);
  int64_t run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[]", "{}"}, plan_);
  auto bad = Rep(0, 0, {}, 0);
  bad.status = result::RepStatus::kFailed;
  bad.error_kind = "crashed";
  bad.message = "worker exited during load: killed by signal 11";
  bad.term_signal = 11;
  Add(s, run, plan_.cells[0], bad);
  Add(s, run, plan_.cells[0], Rep(0, 1, {1, 2, 3}, 0));
  auto unsupported = Rep(1, 0, {}, 0);
  unsupported.status = result::RepStatus::kUnsupported;
  unsupported.message = "no such thing";
  Add(s, run, plan_.cells[1], unsupported);
  auto cells = GetCells(s.db(), run);
  EXPECT_EQ(cells[0].status, "partial");
  EXPECT_EQ(*cells[0].message, "worker exited during load: killed by signal 11");
  EXPECT_EQ(cells[1].status, "unsupported");
  EXPECT_EQ(*cells[1].message, "no such thing");
  EXPECT_EQ(*GetRepetitions(s.db(), cells[0].cell_id)[0].term_signal, 11);
}

TEST_F(StoreTest, MigratesAFreshFileAndRefusesANewerSchema) {
  {
    Store s = Store::Open(path_);
    EXPECT_EQ(SchemaVersion(s.db()), kSchemaVersion);
    s.db().Exec("PRAGMA user_version = 99");
  }
  try {
    Store::Open(path_);
    FAIL();
  } catch (const EnvError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99, newer than this dlbench understands (" + std::to_string(kSchemaVersion) + ")"),
              std::string::npos) << e.what();
  }
  // The read commands' path refuses the same way (it used to trip an internal check and abort).
  try {
    Store::OpenExisting(path_);
    FAIL();
  } catch (const EnvError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99, newer than this dlbench understands"),
              std::string::npos) << e.what();
  }
}

TEST_F(StoreTest, UpgradesAVersion1FileKeepingItsRuns) {
  {
    Db db(path_);
    MigrateTo(db, 1);  // the file as dlbench with schema 1 left it
    db.Exec("INSERT INTO runs (experiment, experiment_file, experiment_toml, status, started_at, "
            "host, controller_pid, dlbench_version, dlbench_revision, command_line, host_json, "
            "order_kind, seed, repetitions, cooldown_s) VALUES ('old', 'o.toml', '', 'complete', "
            "'2026-01-01', 'h', 1, '0.0.1', 'x', '[]', '{}', 'sequential', 1, 1, 0)");
    EXPECT_EQ(SchemaVersion(db), 1);
  }
  Store s = Store::Open(path_);
  EXPECT_EQ(SchemaVersion(s.db()), kSchemaVersion);
  auto runs = ListRuns(s.db());
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].experiment, "old");
  EXPECT_TRUE(GetValidations(s.db(), runs[0].run_id).empty());  // the new table exists
}

TEST_F(StoreTest, StoresValidations) {
  Store s = Store::Open(path_);
  int64_t run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[]", "{}"}, plan_);
  result::ValidationSpec spec;
  spec.frameworks = {"torch", "jax"};
  result::ModelValidation mv;
  mv.model = "resnet18";
  mv.weights_source = "seed 0 (built by torch)";
  mv.outputs.resize(2);
  mv.outputs[0].framework = "torch";
  mv.outputs[0].status = "ok";
  mv.outputs[0].settings_json = R"({"layout":"NCHW"})";
  mv.outputs[1].framework = "jax";
  mv.outputs[1].status = "ok";
  result::PairResult p;
  p.framework_a = "torch";
  p.framework_b = "jax";
  p.comparison.max_rel_err = 1e-6;
  p.comparison.cosine = 1;
  p.tolerance = analysis::ToleranceFor("fp32", "cpu", false);
  p.pass = true;
  mv.pairs.push_back(p);
  s.AddValidation(run, spec, mv);
  auto rows = GetValidations(s.db(), run);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "pass");
  EXPECT_EQ(*rows[0].framework_b, "jax");
  EXPECT_DOUBLE_EQ(*rows[0].tolerance, 2e-5);
  EXPECT_EQ(*rows[0].settings_a, R"({"layout":"NCHW"})");
  EXPECT_EQ(rows[0].workload, "inference");
  EXPECT_FALSE(rows[0].steps);

  // A training validation (validate = true on training cells): the losses' and weights' errors
  // with their tolerances; the inference figures stay empty.
  spec.workload = "training";
  spec.steps = 3;
  result::PairResult t;
  t.framework_a = "torch";
  t.framework_b = "jax";
  t.training.loss_errors = {1e-6, std::nan(""), 3e-4};
  t.training.weights_error = 0.02;
  t.training_tolerance = analysis::TrainingToleranceFor("fp32", "cpu", false);
  t.pass = true;
  mv.pairs = {t};
  s.AddValidation(run, spec, mv);
  rows = GetValidations(s.db(), run);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].workload, "training");
  EXPECT_EQ(rows[1].steps.value_or(0), 3);
  EXPECT_DOUBLE_EQ(rows[1].max_loss_err.value_or(0), 3e-4);  // the finite ones
  EXPECT_DOUBLE_EQ(rows[1].weights_err.value_or(0), 0.02);
  EXPECT_DOUBLE_EQ(rows[1].loss_tolerance.value_or(0), t.training_tolerance.later_losses);
  EXPECT_FALSE(rows[1].max_rel_err);
  EXPECT_FALSE(rows[1].tolerance);
}

TEST_F(StoreTest, ReopeningIsIdempotent) {
  { Store::Open(path_); }  // a writer runs in WAL mode, whatever the file was left in
  Store s = Store::Open(path_);
  EXPECT_EQ(SchemaVersion(s.db()), kSchemaVersion);
  Stmt q = s.db().Prepare("PRAGMA journal_mode");
  q.Step();
  EXPECT_EQ(q.Text(0), "wal");
}

// What lies beside the database file: the file itself, and its -wal/-shm while they exist.
std::vector<std::string> Beside(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The file's journal mode at rest, from byte 18 of its header (1 rollback, 2 WAL), read without
// SQLite so that the reading leaves nothing either.
std::string JournalMode(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char header[19] = {};
  in.read(header, sizeof header);
  return header[18] == 2 ? "wal" : header[18] == 1 ? "delete" : "?";
}

TEST_F(StoreTest, ReadingLeavesNothingBesideTheFile) {
  {
    Store s = Store::Open(path_);
    s.BeginRun({"h", 1, "0.1.0", "abc", "[]", "{}"}, plan_);
    EXPECT_EQ(Beside(dir_), (std::vector<std::string>{"t.db", "t.db-shm", "t.db-wal"}));
  }
  // A writer leaves its file in rollback mode, which a read-only connection reads without a trace.
  EXPECT_EQ(JournalMode(path_), "delete");
  EXPECT_EQ(Beside(dir_), std::vector<std::string>{"t.db"});
  { EXPECT_EQ(ListRuns(Store::OpenExisting(path_).db()).size(), 1u); }
  EXPECT_EQ(Beside(dir_), std::vector<std::string>{"t.db"});
  // A file left in WAL mode by an older writer is read as immutable: no -wal or -shm either.
  {
    Db db(path_);
    db.Exec("PRAGMA journal_mode = WAL");
  }
  ASSERT_EQ(JournalMode(path_), "wal");
  EXPECT_EQ(Beside(dir_), std::vector<std::string>{"t.db"});
  { EXPECT_EQ(ListRuns(Store::OpenExisting(path_).db()).size(), 1u); }
  EXPECT_EQ(Beside(dir_), std::vector<std::string>{"t.db"});
  // While a writer has it open, a reader uses the writer's index and sees its last commit.
  Store writer = Store::Open(path_);
  writer.BeginRun({"h", 1, "0.1.0", "abc", "[]", "{}"}, plan_);
  EXPECT_EQ(ListRuns(Store::OpenExisting(path_).db()).size(), 2u);
}

TEST_F(StoreTest, RunOfADeadControllerIsMarkedIncomplete) {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);  // a pid that no longer exists
  {
    Store s = Store::Open(path_);
    int64_t run = s.BeginRun({host, child, "0.1.0", "abc", "[]", "{}"}, plan_);
    Add(s, run, plan_.cells[0], Rep(0, 0, {1, 2, 3}, 0));
  }  // the "controller" dies without FinishRun
  {
    // Reading shows it incomplete, finished at its last stored repetition, and writes nothing.
    Store r = Store::OpenExisting(path_);
    auto runs = ListRuns(r.db());
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].status, "incomplete");
    EXPECT_EQ(runs[0].finished_at, "2026-11-23T00:00:00.000Z");
    Stmt q = r.db().Prepare("SELECT status FROM runs");
    q.Step();
    EXPECT_EQ(q.Text(0), "running");
  }
  Store s = Store::Open(path_);  // a command that writes marks it
  Stmt q = s.db().Prepare("SELECT status, finished_at FROM runs");
  q.Step();
  EXPECT_EQ(q.Text(0), "incomplete");
  EXPECT_EQ(q.Text(1), "2026-11-23T00:00:00.000Z");
  Stmt check = s.db().Prepare("PRAGMA integrity_check");
  check.Step();
  EXPECT_EQ(check.Text(0), "ok");
}

TEST_F(StoreTest, ReadingAnOlderSchemaUpgradesACopyInMemory) {
  {
    Db db(path_);
    MigrateTo(db, 1);
    db.Exec("INSERT INTO runs (experiment, experiment_file, experiment_toml, status, started_at, "
            "host, controller_pid, dlbench_version, dlbench_revision, command_line, host_json, "
            "order_kind, seed, repetitions, cooldown_s) VALUES ('old', 'o.toml', '', 'complete', "
            "'2026-01-01', 'h', 1, '0.0.1', 'x', '[]', '{}', 'sequential', 1, 1, 0)");
  }
  Store s = Store::OpenExisting(path_);
  EXPECT_EQ(SchemaVersion(s.db()), kSchemaVersion);
  ASSERT_EQ(ListRuns(s.db()).size(), 1u);
  Db file(path_, OpenMode::kReadOnly);
  EXPECT_EQ(SchemaVersion(file), 1);  // the file itself is as it was
}

TEST_F(StoreTest, AnotherApplicationsFileIsRefusedAndLeftAlone) {
  {
    Db db(path_);
    db.Exec("CREATE TABLE notes (text TEXT)");
  }
  for (bool write : {false, true}) {
    try {
      write ? Store::Open(path_) : Store::OpenExisting(path_);
      FAIL() << "opened another application's database";
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("is not a dlbench database (it holds the tables notes)"),
                std::string::npos) << e.what();
    }
  }
  Db db(path_, OpenMode::kReadOnly);
  EXPECT_EQ(SchemaVersion(db), 0);
}

TEST_F(StoreTest, NewFilesCarryDlbenchsApplicationId) {
  { Store::Open(path_); }
  Db db(path_, OpenMode::kReadOnly);
  Stmt q = db.Prepare("PRAGMA application_id");
  q.Step();
  EXPECT_EQ(q.Int(0), 0x646C626E);
}

TEST_F(StoreTest, OpenExistingRefusesAMissingFile) {
  EXPECT_THROW(Store::OpenExisting((dir_ / "none.db").string()), UserError);
  EXPECT_FALSE(fs::exists(dir_ / "none.db"));
}

// Every column of the cell and repetition tables is exported (JSON, CSV, or both) or named here as
// internal: a figure added to a table without saying where it goes fails this test.
TEST(ColumnRegistry, EveryFigureIsExportedOrNamedInternal) {
  const std::set<std::string_view> internal_cell = {"cell_id", "hello_json", "settings_json",
                                                    "energy_note", "repetitions_planned", "run_complete"};
  for (const auto& c : kCellColumns) {
    EXPECT_TRUE(!c.out.json.empty() || c.out.csv || internal_cell.count(c.name)) << c.name;
    EXPECT_FALSE(c.out.csv && c.out.unit == Unit::kJson) << c.name << ": JSON text in the CSV";
  }
  const std::set<std::string_view> internal_rep = {"repetition_id", "cell_id"};
  for (const auto& c : kRepetitionColumns) {
    EXPECT_TRUE(!c.out.json.empty() || internal_rep.count(c.name)) << c.name;
    EXPECT_FALSE(c.out.csv) << c.name << ": the CSV has one row per cell; use cell_median";
  }
}

// The exports carry every figure the registry lists, at the place it names, and the CSV a column
// per cell figure and per repetition median.
TEST_F(StoreTest, ExportsListEveryRegistryFigure) {
  Store s = Store::Open(path_);
  int64_t run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[]", "{}"}, plan_);
  auto r = Rep(0, 0, {10, 20, 30}, 1);
  probe::Contention n;
  n.other_cpu_frac = 0.02;
  n.voluntary_switches = 7;
  n.involuntary_switches = 3;
  r.contention = n;
  Add(s, run, plan_.cells[0], r);
  auto r2 = Rep(0, 1, {10, 20, 30}, 1);
  n.involuntary_switches = 5;
  r2.contention = n;
  Add(s, run, plan_.cells[0], r2);
  std::ostringstream js;
  ExportJson(s.db(), run, false, js);
  const auto j = nlohmann::json::parse(js.str());
  auto has_path = [](const nlohmann::json& obj, std::string_view path) {
    const nlohmann::json* at = &obj;
    std::string key;
    for (size_t i = 0; i <= path.size(); ++i) {
      if (i == path.size() || path[i] == '.' || path[i] == '[') {
        if (!at->is_object() || !at->contains(key)) return false;
        at = &(*at)[key];
        key.clear();
        if (i < path.size() && path[i] == '[') {
          const size_t idx = std::stoul(std::string(path.substr(i + 1)));
          return at->is_array() && at->size() > idx;
        }
      } else {
        key += path[i];
      }
    }
    return true;
  };
  const auto& cell = j["cells"][0];
  for (const auto& c : kCellColumns) {
    if (!c.out.json.empty()) {
      EXPECT_TRUE(has_path(cell, c.out.json)) << c.out.json;
    }
  }
  for (const auto& c : kRepetitionColumns) {
    if (!c.out.json.empty()) {
      EXPECT_TRUE(has_path(cell["repetitions"][0], c.out.json)) << c.out.json;
    }
  }
  EXPECT_EQ(cell["repetitions"][1]["contention"]["involuntary_switches"], 5);
  EXPECT_EQ(cell["repetition_medians"]["involuntary_switches"], 4);
  std::ostringstream csv;
  ExportCsv(s.db(), run, csv);
  const auto field = CsvField(csv.str(), 1);
  for (const auto& c : kCellColumns) {
    if (c.out.csv) {
      EXPECT_NO_THROW(field(c.name == "mode" ? "workload" : std::string(c.name))) << c.name;
    }
  }
  for (const auto* c : CellMedianColumns()) EXPECT_NO_THROW(field(std::string(c->name) + "_median"));
  EXPECT_EQ(field("involuntary_switches_median"), "4");
  EXPECT_EQ(field("voluntary_switches_median"), "7");
}

// TTFT, TPOT and ITL of a generation repetition are figures like any other: computed from its
// measured requests when it is written, stored, exported and shown by their registry rows.
TEST_F(StoreTest, GenerationFiguresAreComputedWhenWritten) {
  Store s = Store::Open(path_);
  int64_t run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[]", "{}"}, plan_);
  auto r = Rep(0, 0, {10, 20, 30}, 1);
  result::GenerationMeasurement g;
  g.calls = *r.series();
  int64_t index = 0;
  auto request = [&index](bool warmup, int64_t sent, std::vector<int64_t> arrivals) {
    result::RequestTrace t;
    t.index = index++;
    t.warmup = warmup;
    t.sent_ns = t.due_ns = sent;
    for (int64_t a : arrivals) t.chunks.push_back({a, 1});
    t.done_ns = arrivals.back();
    return t;
  };
  g.requests = {request(true, 0, {9'000, 10'000}),  // warm-up: left out
                request(false, 0, {1'000, 3'000, 5'000}), request(false, 0, {3'000, 4'000, 9'000})};
  r.measurement = g;
  Add(s, run, plan_.cells[0], r);
  const RepetitionRow row = GetRepetitions(s.db(), GetCells(s.db(), run)[0].cell_id)[0];
  EXPECT_DOUBLE_EQ(row.ttft_p50_ns.value_or(0), 2'000);  // 1000 and 3000
  EXPECT_DOUBLE_EQ(row.tpot_p50_ns.value_or(0), 2'500);  // 2000 and 3000
  EXPECT_DOUBLE_EQ(row.itl_p50_ns.value_or(0), 2'000);   // 2000, 2000, 1000, 5000
  std::ostringstream js;
  ExportJson(s.db(), run, false, js);
  const auto j = nlohmann::json::parse(js.str());
  EXPECT_EQ(j["cells"][0]["repetitions"][0]["generation"]["tpot_p50_ns"], 2'500);
  EXPECT_EQ(j["cells"][0]["repetition_medians"]["ttft_p50_ns"], 2'000);
}

TEST_F(StoreTest, ExportsCsvAndJson) {
  Store s = Store::Open(path_);
  int64_t run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[]", "{}"}, plan_);
  auto r = Rep(0, 0, {10, 20, 30}, 1);
  r.message = "";
  Add(s, run, plan_.cells[0], r);
  auto bad = Rep(1, 0, {}, 0);
  bad.status = result::RepStatus::kFailed;
  bad.message = "a, \"b\"\nc";
  Add(s, run, plan_.cells[1], bad);
  std::ostringstream csv;
  ExportCsv(s.db(), run, csv);
  std::string text = csv.str();
  EXPECT_EQ(text.rfind("run_id,cell_idx,framework,", 0), 0u);
  EXPECT_NE(text.find("\"a, \"\"b\"\"\nc\""), std::string::npos) << text;

  std::ostringstream js;
  ExportJson(s.db(), run, true, js);
  auto j = nlohmann::json::parse(js.str());
  EXPECT_EQ(j["format"], "dlbench-run");
  EXPECT_EQ(j["run"]["experiment"], "a, \"quoted\" <name>");
  EXPECT_EQ(j["cells"][0]["repetitions"][0]["samples"]["wall_ns"],
            nlohmann::json::array({10, 20, 30}));
  EXPECT_EQ(j["cells"][0]["repetitions"][0]["samples"]["warmup_count"], 1);
  EXPECT_EQ(j["cells"][0]["latency_ns"]["n"], 2);
  EXPECT_EQ(j["cells"][0]["repetitions"][0]["settings"]["layout"], "NCHW");
  EXPECT_EQ(j["cells"][1]["status"], "failed");
}


// Energy per sample: J / (iterations * batch) per repetition, the cell's mean with a Student-t CI
// across repetitions; telemetry rows and windows are stored and read back.
TEST_F(StoreTest, EnergyWindowsAndTelemetrySummarise) {
  Store s = Store::Open(path_);
  int64_t run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[\"dlbench\"]", "{}"}, plan_);
  auto with_energy = [&](int rep, double joules_per_window) {
    result::RepetitionResult r = Rep(1, rep, {100, 200, 300}, 1);
    r.energy_source = result::EnergySource::kRapl;
    r.cpu_telemetry = "rapl: package-0 (intel-rapl:0)";
    r.gpu_telemetry = "unavailable: not a GPU cell";
    for (int w = 0; w < 2; ++w) {
      result::EnergyWindow e;
      e.t_start_ns = w * 1'000'000'000LL;
      e.duration_ns = 1'000'000'000;
      e.iterations = 100;
      e.energy_j = joules_per_window;
      e.avg_power_w = joules_per_window;
      r.energy_windows.push_back(e);
    }
    probe::TelemetrySample t;
    t.t_ns = 5;
    t.phase = "energy";
    t.cpu_energy_j = 1.5;
    t.rss_bytes = 4096;
    r.telemetry = {t};
    return r;
  };
  Add(s, run, plan_.cells[1], with_energy(0, 400));  // batch 4: 400 J / 400 samples = 1 J
  auto cell = GetCells(s.db(), run)[1];
  ASSERT_TRUE(cell.energy_per_sample_j);
  EXPECT_DOUBLE_EQ(*cell.energy_per_sample_j, 1.0);
  // One repetition: the CI is across its windows, here two equal ones.
  EXPECT_DOUBLE_EQ(cell.energy_ci_lo_j.value_or(-1), 1.0);
  EXPECT_DOUBLE_EQ(cell.energy_ci_hi_j.value_or(-1), 1.0);
  Add(s, run, plan_.cells[1], with_energy(1, 480));  // 1.2 J per sample
  cell = GetCells(s.db(), run)[1];
  EXPECT_DOUBLE_EQ(*cell.energy_per_sample_j, 1.1);
  // scipy.stats.t.interval(0.95, 1, 1.1, 0.1) = (-0.1706204736174705, 2.3706204736174705)
  EXPECT_NEAR(*cell.energy_ci_lo_j, -0.1706204736174705, 1e-12);
  EXPECT_NEAR(*cell.energy_ci_hi_j, 2.3706204736174705, 1e-12);
  EXPECT_EQ(cell.energy_source.value_or(""), "rapl-package");
  EXPECT_DOUBLE_EQ(*cell.avg_power_w, 440.0);
  EXPECT_FALSE(cell.throttled_repetitions);  // no GPU telemetry: not known, not "0"
  auto reps = GetRepetitions(s.db(), cell.cell_id);
  auto windows = GetEnergyWindows(s.db(), reps[1].repetition_id);
  ASSERT_EQ(windows.size(), 2u);
  EXPECT_DOUBLE_EQ(windows[0].energy_j, 480);
  EXPECT_EQ(GetEnergyPerSample(s.db(), reps[1].repetition_id, 4), (std::vector<double>{1.2, 1.2}));
  auto series = GetTelemetry(s.db(), reps[0].repetition_id);
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].phase, "energy");
  EXPECT_EQ(series[0].rss_bytes.value_or(0), 4096);
  EXPECT_FALSE(series[0].gpu_power_w);
}

// GPU telemetry: slowdown reasons seen while measuring count as throttled; idle does not.
TEST_F(StoreTest, ThrottleReasonsWhileMeasuringMarkARepetition) {
  Store s = Store::Open(path_);
  int64_t run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[\"dlbench\"]", "{}"}, plan_);
  auto rep = [&](int idx, uint64_t reasons) {
    result::RepetitionResult r = Rep(0, idx, {100, 200}, 1);
    r.gpu_telemetry = "nvml";
    probe::TelemetrySample idle, busy;
    idle.phase = "load";
    idle.gpu.clock_event_reasons = 0x4;  // power cap while loading: not while measuring
    busy.phase = "measure";
    busy.gpu.clock_event_reasons = reasons;
    busy.gpu.temperature_c = 71;
    busy.gpu.process_bytes = 1 << 30;
    r.telemetry = {idle, busy};
    return r;
  };
  Add(s, run, plan_.cells[0], rep(0, 0x1));         // gpu_idle only
  Add(s, run, plan_.cells[0], rep(1, 0x1 | 0x40));  // hw thermal slowdown
  auto cell = GetCells(s.db(), run)[0];
  EXPECT_EQ(cell.throttled_repetitions.value_or(-1), 1);
  auto reps = GetRepetitions(s.db(), cell.cell_id);
  EXPECT_EQ(reps[0].throttle_reasons.value_or(""), "none");
  EXPECT_EQ(reps[1].throttle_reasons.value_or(""), "hw_thermal_slowdown");
  EXPECT_EQ(reps[1].max_temperature_c.value_or(0), 71);
  EXPECT_EQ(reps[1].peak_device_bytes_nvml.value_or(0), 1 << 30);
}

// The row tables (query.h) against a schema: every column they name exists there (a missing one
// would fail the statement, never shift the others), no member is filled twice, and every column
// of the schema is read, except those of runs that no reader uses.
void ExpectTablesMatchSchema(Db& db) {
  auto schema = [&](std::string_view table) {
    std::set<std::string> out;
    Stmt s = db.Prepare(fmt::format("SELECT name FROM pragma_table_info('{}')", table));
    while (s.Step()) out.insert(s.Text(0));
    return out;
  };
  auto check = [&](std::string_view table, auto columns, std::set<std::string> unread) {
    SCOPED_TRACE(std::string(table));
    const std::set<std::string> have = schema(table);
    std::set<std::string> named;
    for (size_t i = 0; i < columns.size(); ++i) {
      for (size_t k = 0; k < i; ++k) {
        EXPECT_FALSE(columns[k].member == columns[i].member) << columns[i].name << " fills "
                                                             << columns[k].name << "'s member";
      }
      EXPECT_TRUE(named.insert(std::string(columns[i].name)).second) << columns[i].name;
      if (columns[i].expr.empty()) {
        EXPECT_TRUE(have.count(std::string(columns[i].name))) << columns[i].name << " not in the schema";
      } else {
        EXPECT_EQ(columns[i].written, Written::kNever) << columns[i].name;
      }
    }
    for (const auto& name : have) {
      EXPECT_TRUE(named.count(name) || unread.count(name)) << name << " is not read";
    }
  };
  check("runs", kRunColumns, {"gpu_temperature_max_c", "merged_at"});
  check("cells", kCellColumns, {});
  check("repetitions", kRepetitionColumns, {});
}

// Every member a table fills, set to a value of its own.
template <typename Row>
void SetDistinct(std::span<const Column<Row>> columns, Row& row) {
  int k = 0;
  for (const auto& c : columns) {
    ++k;
    std::visit(
        [&](auto member) {
          auto& v = row.*member;
          using T = std::remove_reference_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>) {
            v = true;
          } else if constexpr (std::is_same_v<T, int64_t> ||
                               std::is_same_v<T, std::optional<int64_t>>) {
            v = 1000 + k;
          } else if constexpr (std::is_same_v<T, double> || std::is_same_v<T, std::optional<double>>) {
            v = k + 0.25;
          } else {
            v = fmt::format("text {}", k);
          }
        },
        c.member);
  }
}

// A repetition with every column set to its own value is read back as it was written, through the
// statements the table makes.
void ExpectRepetitionRoundTrip(Db& db, int64_t cell_id) {
  RepetitionRow want;
  SetDistinct(kRepetitionColumns, want);
  want.cell_id = cell_id;
  want.status = "failed";  // a CHECK constraint
  Stmt ins = db.Prepare(fmt::format("INSERT INTO repetitions ({}) VALUES ({})",
                                    ColumnNames(kRepetitionColumns), Placeholders(kRepetitionColumns)));
  Binder b(ins);
  BindColumns(b, kRepetitionColumns, Written::kInsert, want);
  ins.Run();
  want.repetition_id = db.LastInsertId();
  auto got = GetRepetitions(db, cell_id);
  ASSERT_EQ(got.size(), 1u);
  for (const auto& c : kRepetitionColumns) {
    SCOPED_TRACE(std::string(c.name));
    std::visit([&](auto member) { EXPECT_EQ(got[0].*member, want.*member); }, c.member);
  }
}

TEST_F(StoreTest, RowTablesMatchAFreshSchemaAndRoundTrip) {
  Store s = Store::Open(path_);
  ExpectTablesMatchSchema(s.db());
  int64_t run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[]", "{}"}, plan_);
  ExpectRepetitionRoundTrip(s.db(), GetCells(s.db(), run)[0].cell_id);
}

TEST_F(StoreTest, RowTablesMatchAMigratedSchemaAndRoundTrip) {
  {
    Db db(path_);
    MigrateTo(db, 1);  // the file as dlbench with schema 1 left it
  }
  Store s = Store::Open(path_);
  ExpectTablesMatchSchema(s.db());
  int64_t run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[]", "{}"}, plan_);
  ExpectRepetitionRoundTrip(s.db(), GetCells(s.db(), run)[0].cell_id);
}

// A column that the schema lacks fails the statement loudly, rather than being read as another.
TEST_F(StoreTest, AColumnTheSchemaLacksIsAnError) {
  Store s = Store::Open(path_);
  constexpr Column<RepetitionRow> bogus[] = {{"repetition_id", &RepetitionRow::repetition_id},
                                             {"no_such_figure", &RepetitionRow::median_ns}};
  const std::span<const Column<RepetitionRow>> columns = bogus;
  EXPECT_THROW(s.db().Prepare(fmt::format("SELECT {} FROM repetitions", SelectList(columns))),
               EnvError);
  EXPECT_THROW(s.db().Prepare(fmt::format("INSERT INTO repetitions ({}) VALUES ({})",
                                          ColumnNames(columns), Placeholders(columns))),
               EnvError);
}

// What the run hands the store reaches every column: a repetition and a cell summary with every
// field set leave no stored column NULL (a column added to a table but not to the writer would).
TEST_F(StoreTest, EveryFieldOfARepetitionAndASummaryIsStored) {
  Store s = Store::Open(path_);
  int64_t run = s.BeginRun({"host", ::getpid(), "0.1.0", "abc", "[]", "{}"}, plan_);
  result::RepetitionResult r = Rep(0, 0, {5, 6, 7, 8}, 1);
  r.error_kind = "kind";
  r.message = "message";
  r.phase = "measure";
  r.exit_code = 3;
  r.term_signal = 9;
  r.prefix = {"taskset", "-c", "0"};
  r.env_padding_bytes = 17;
  r.hello_json = R"({"device":"cpu"})";
  r.flops_per_sample = 20;
  r.compile_s = 0.2;
  r.sync_overhead_ns = 30;
  r.timer_overhead_ns = 40;
  r.peak_device_bytes = 50;
  r.gate_status = "passed";
  r.gpu_temperature_c = 60;
  r.gate_wait_s = 1.5;
  r.profile_check = "ok";
  r.gpu_telemetry = "nvml";
  r.cpu_telemetry = "rapl: package-0";
  r.energy_source = result::EnergySource::kRapl;
  r.energy_note = "note";
  r.telemetry_summary = {.energy_per_sample_j = 0.3, .avg_power_w = 70, .max_temperature_c = 71,
                         .throttle_reasons = "thermal", .peak_device_bytes_nvml = 80};
  r.contention = probe::Contention{.other_cpu_frac = 0.01, .steal_frac = 0.02, .load_avg_1m = 0.5,
                                   .cpus = 2, .cpu_list = {0, 1}, .capacity_ticks = 400,
                                   .contaminated = false, .minor_faults = 0, .voluntary_switches = 9,
                                   .involuntary_switches = 4};
  r.contention_policy = "exclude";
  r.contention_threshold = 0.2;
  r.quiet_gate = "quiet";
  r.quiet_wait_s = 0.5;
  r.replaces_rep_idx = 0;
  result::TimedSeries& t = *r.series();
  t.warmup_settled = t.converged = t.near_overhead = true;
  t.stop_reason = "target_rel_ci";
  t.median_ns = 6.5;
  t.rel_ci = 0.01;
  t.block_iterations = 4;
  t.minor_faults_per_call = 0.5;

  analysis::CellSummary c;
  c.status = "ok";
  c.message = "message";
  c.repetitions_ok = c.repetitions_run = 1;
  c.latency = stats::Summary{.n = 3, .mean = 7, .std = 1, .cv = 0.1, .min = 6, .p50 = 7, .p90 = 8,
                             .p95 = 8, .p99 = 8, .max = 8};
  c.median_ci = stats::MedianCi{.lo = 6, .hi = 8, .j = 1, .k = 3, .coverage = 0.96};
  c.throughput_sps = c.window_throughput_sps = 1e6;
  c.parameters = c.flops_per_sample = 10;
  c.load_s = c.compile_s = c.first_call_s = 0.5;
  c.peak_rss_bytes = c.peak_device_bytes = 100;
  c.energy_source = "rapl-package";
  c.energy_per_sample_j = c.energy_ci_lo_j = c.energy_ci_hi_j = c.avg_power_w = 0.3;
  c.throttled_repetitions = c.profile_deviations = c.contaminated_repetitions = 0;
  c.epoch_s = c.accuracy = 0.9;
  s.AddRepetition(run, plan_.cells[0], r, c);

  auto nulls = [&](std::string_view table, std::string_view which, std::string_view column) {
    Stmt q = s.db().Prepare(
        fmt::format("SELECT COUNT(*) FROM {} WHERE {} AND {} IS NULL", table, which, column));
    q.Step();
    return q.Int(0);
  };
  // A generation repetition's figures (GenerationFiguresAreComputedWhenWritten) are NULL here.
  const std::set<std::string_view> generation_only = {"ttft_p50_ns", "tpot_p50_ns", "itl_p50_ns"};
  for (const auto& col : kRepetitionColumns) {
    if (col.written == Written::kInsert) {
      EXPECT_EQ(nulls("repetitions", "1", col.name), generation_only.count(col.name) ? 1 : 0) << col.name;
    }
  }
  for (const auto& col : kCellColumns) {
    if (col.written == Written::kUpdate) {
      EXPECT_EQ(nulls("cells", "cell_idx = 0", col.name), 0) << col.name;
    }
  }
  const RepetitionRow got = GetRepetitions(s.db(), GetCells(s.db(), run)[0].cell_id)[0];
  EXPECT_EQ(got.launch_prefix, R"(["taskset","-c","0"])");
  EXPECT_EQ(got.n_samples, 3);
  EXPECT_EQ(got.warmup_iterations, 1);
  EXPECT_EQ(got.block_iterations, 4);
  EXPECT_EQ(got.stop_reason, "target_rel_ci");
  EXPECT_EQ(got.energy_source, "rapl-package");
  EXPECT_EQ(got.contaminated, 0);
  EXPECT_EQ(got.contention_policy, "exclude");
  EXPECT_EQ(got.contention_threshold, 0.2);
  EXPECT_EQ(got.quiet_gate, "quiet");
  EXPECT_EQ(got.replaces_rep_idx, 0);
}

}  // namespace
}  // namespace dlb::store
