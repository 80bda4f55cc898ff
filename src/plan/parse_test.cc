// Pins the experiment file format and its error lines: every problem names the file, the line,
// the field and what is allowed, with a suggestion where one is close.
#include "plan/parse.h"
#include "run/golden_capabilities.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "plan/expand.h"
#include "util/error.h"

namespace dlb::plan {
namespace {

const char* kGood = R"(
[experiment]
name = "study"
repetitions = 4
order = "interleaved"
seed = 7
cooldown_s = 1.5

[matrix]
framework = ["torch", "jax"]
model = ["resnet50", "vit_b_16"]
batch = [1, 8]
precision = ["fp32", "bf16"]
device = ["cpu", "cuda:1"]

[sampling]
min_iterations = 30
target_rel_ci = 0.02

[variants.base]
[variants.autotune0]
frameworks = ["jax"]
env = { XLA_FLAGS = "--xla_gpu_autotune_level=0" }
sampling = { max_time_s = 10 }

[environments.native]
[environments.pinned]
prefix = ["taskset", "-c", "0"]
env = { OMP_NUM_THREADS = "1" }
)";

std::string ErrorOf(const std::string& text) {
  try {
    run::ParseWithGoldenWorkers(text, "exp.toml");
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Parse, ReadsEverySection) {
  Experiment e = run::ParseWithGoldenWorkers(kGood, "exp.toml");
  EXPECT_EQ(e.name, "study");
  EXPECT_EQ(e.repetitions, 4);
  EXPECT_EQ(e.order, Order::kInterleaved);
  EXPECT_EQ(e.seed, 7u);
  EXPECT_DOUBLE_EQ(e.cooldown_s, 1.5);
  EXPECT_EQ(e.matrix.framework, (std::vector<std::string>{"torch", "jax"}));
  EXPECT_EQ(e.matrix.batch, (std::vector<int>{1, 8}));
  EXPECT_EQ(e.matrix.device, (std::vector<std::string>{"cpu", "cuda:1"}));
  EXPECT_EQ(e.matrix.workload, (std::vector<std::string>{"inference"}));
  EXPECT_EQ(e.matrix.variant, (std::vector<std::string>{"base", "autotune0"}));
  EXPECT_EQ(e.sampling.min_iterations, 30);
  EXPECT_DOUBLE_EQ(e.sampling.target_rel_ci, 0.02);
  ASSERT_EQ(e.variants.size(), 2u);
  EXPECT_EQ(e.variants[1].frameworks, (std::vector<std::string>{"jax"}));
  EXPECT_EQ(e.variants[1].env[0].second, "--xla_gpu_autotune_level=0");
  EXPECT_DOUBLE_EQ(e.variants[1].sampling.max_time_s, 10);
  EXPECT_EQ(e.variants[1].sampling.min_iterations, 30);  // inherits the experiment's sampling
  ASSERT_EQ(e.environments.size(), 2u);
  EXPECT_EQ(e.environments[1].prefix, (std::vector<std::string>{"taskset", "-c", "0"}));
}

TEST(Parse, SlurmDefaultsAndExtraSbatchLines) {
  Experiment e = run::ParseWithGoldenWorkers(
      "[experiment]\nname = \"x\"\n[matrix]\nframework = \"synthetic\"\nmodel = \"synthetic\"\n"
      "[slurm]\npartition = \"gpu\"\ngpus_per_task = 1\narray_parallelism = 4\n"
      "sbatch = [\"--qos=high\", \"--constraint=h100\"]\n",
      "x.toml");
  EXPECT_EQ(e.slurm.partition, "gpu");
  EXPECT_EQ(e.slurm.gpus_per_task, 1);
  EXPECT_EQ(e.slurm.array_parallelism, 4);
  EXPECT_EQ(e.slurm.sbatch, (std::vector<std::string>{"--qos=high", "--constraint=h100"}));
  EXPECT_NE(ErrorOf("[experiment]\nname = \"x\"\n[matrix]\nframework = \"synthetic\"\nmodel = "
                    "\"synthetic\"\n[slurm]\nsbatch = [\"#SBATCH --x\"]\n")
                .find("slurm.sbatch: \"#SBATCH --x\" is not an sbatch option"),
            std::string::npos);
}

// Found by the experiment fuzzer: toml++ 3.3.0 (Debian 12's) reaches an "unreachable" point when it
// asks whether a code point between U+00A1 and U+0499 is whitespace (toml++ issues 190 and 295,
// fixed upstream after that release). Such a character where whitespace may stand is a syntax
// error, and after a line-ending backslash in a multi-line string it is the string's next
// character; this build does both.
TEST(Parse, NonAsciiWhereTomlExpectsWhitespace) {
  EXPECT_NE(ErrorOf("c\xc3\xa9").find("exp.toml:1: TOML syntax error"), std::string::npos)
      << ErrorOf("c\xc3\xa9");
  EXPECT_NE(ErrorOf("\xcb\xa0").find("exp.toml:1: TOML syntax error"), std::string::npos);
  Experiment e = run::ParseWithGoldenWorkers(
      "[experiment]\nname = \"\"\"caf\\\n   \xc3\xa9\"\"\"\n[matrix]\nframework = \"synthetic\"\n"
      "model = \"synthetic\"\n",
      "x.toml");
  EXPECT_EQ(e.name, "caf\xc3\xa9");
}

TEST(ParseErrors, UnknownKeyWithLineAndSuggestion) {
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"x\"\nrepetitons = 3\n[matrix]\nframework = \"torch\"\nmodel = \"resnet18\"\n"),
            "exp.toml:3: experiment.repetitons: unknown key \"repetitons\" in [experiment]; "
            "allowed: name, description, repetitions, order, seed, cooldown_s, timeout_s, validate, "
            "gpu_temperature_max_c, gpu_temperature_timeout_s, telemetry_interval_s, compare_by "
            "(did you mean \"repetitions\"?)");
}

TEST(ParseErrors, UnknownModel) {
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"x\"\n[matrix]\nframework = \"torch\"\nmodel = [\"resnet5\"]\n"),
            "exp.toml:5: matrix.model: \"resnet5\" is not a model; allowed: resnet18, resnet50, "
            "vit_b_16, mobilenet_v3_small, efficientnet_b0, llama-tiny, llama-125m, llama-1b, synthetic "
            "(did you mean \"resnet50\"?)");
}

TEST(ParseErrors, ModelNotOfferedByTheFrameworks) {
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"x\"\n[matrix]\nframework = \"torch\"\nmodel = \"synthetic\"\n"),
            "exp.toml:5: matrix.model: \"synthetic\" is not offered by torch");
}

TEST(ParseErrors, BatchZero) {
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"x\"\n[matrix]\nframework = \"torch\"\nmodel = \"resnet18\"\nbatch = [1, 0]\n"),
            "exp.toml:6: matrix.batch: 0 is not a batch size; allowed: integers from 1 to 1000000");
}

TEST(ParseErrors, Precision) {
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"x\"\n[matrix]\nframework = \"jax\"\nmodel = \"resnet18\"\nprecision = [\"bf61\"]\n"),
            "exp.toml:6: matrix.precision: \"bf61\" is not a precision; allowed: fp32, bf16, fp16 "
            "(did you mean \"bf16\"?)");
}

TEST(ParseErrors, LayoutAFrameworkCannotUseIsSkippedNotFatal) {
  Experiment e = run::ParseWithGoldenWorkers(
      "[experiment]\nname = \"x\"\n[matrix]\nframework = [\"jax\", \"torch\"]\nmodel = "
      "\"resnet18\"\nlayout = [\"channels_first\"]\n",
      "exp.toml");
  EXPECT_EQ(e.matrix.layout, (std::vector<std::string>{"channels_first"}));
}

TEST(ParseErrors, TomlSyntax) {
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"x\n"),
            ErrorOf("[experiment]\nname = \"x\n"));  // deterministic
  std::string e = ErrorOf("[experiment]\nname = \"x\n");
  EXPECT_EQ(e.rfind("exp.toml:2: TOML syntax error: ", 0), 0u) << e;
}

TEST(ParseErrors, UnreadableFile) {
  try {
    run::GoldenCapabilities golden;
    ParseExperimentFile("/nonexistent/exp.toml", golden);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(), "cannot read /nonexistent/exp.toml: No such file or directory");
  }
}

TEST(ParseErrors, OptionNotAcceptedByAFramework) {
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"x\"\n[matrix]\nframework = [\"torch\", \"jax\"]\n"
                    "model = \"resnet18\"\n[options]\nnum_threads = 1\n"),
            "exp.toml:7: options.num_threads: the jax worker has no option \"num_threads\"; "
            "allowed: matmul_precision (limit a variant to frameworks with `frameworks = [...]`)");
}

TEST(ParseErrors, MissingSections) {
  EXPECT_EQ(ErrorOf("[matrix]\nframework = \"torch\"\nmodel = \"resnet18\"\n"),
            "exp.toml: experiment: missing [experiment] table with a name");
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"x\"\n"), "exp.toml: matrix: missing [matrix] table");
}

TEST(ParseErrors, OrderAndRanges) {
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"x\"\norder = \"random\"\n[matrix]\nframework = \"torch\"\nmodel = \"resnet18\"\n"),
            "exp.toml:3: experiment.order: \"random\" is not an order; allowed: sequential, "
            "shuffled, interleaved");
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"x\"\nrepetitions = 0\n[matrix]\nframework = \"torch\"\nmodel = \"resnet18\"\n"),
            "exp.toml:3: experiment.repetitions: 0 is out of range; allowed: integers from 1 to 10000");
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"x\"\n[matrix]\nframework = \"torch\"\nmodel = \"resnet18\"\n"
                    "[sampling]\nmin_iterations = 50\nmax_iterations = 10\n"),
            "exp.toml:8: sampling.max_iterations: 10 is below min_iterations (50)");
}

TEST(ParseErrors, PrefixMustBeAnArgumentList) {
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"x\"\n[matrix]\nframework = \"torch\"\nmodel = \"resnet18\"\n"
                    "[environments.pinned]\nprefix = \"taskset -c 0\"\n"),
            "exp.toml:7: environments.pinned.prefix: expected an argument list such as "
            "[\"taskset\", \"-c\", \"0\"] (no shell is used)");
}

TEST(ParseErrors, UnknownVariantInMatrix) {
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"x\"\n[matrix]\nframework = \"torch\"\nmodel = \"resnet18\"\n"
                    "variant = [\"fsat\"]\n[variants.fast]\n"),
            "exp.toml:6: matrix.variant: \"fsat\" is not a variant; allowed: fast (did you mean \"fast\"?)");
}

TEST(ParseErrors, DuplicateValues) {
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"x\"\n[matrix]\nframework = [\"torch\", \"torch\"]\nmodel = \"resnet18\"\n"),
            "exp.toml:4: matrix.framework: \"torch\" is listed twice");
}

// Capabilities: the plan is checked against what each worker reports, and only the matrix's workers
// are asked unless a message needs every worker's models.

std::string ErrorWith(run::GoldenCapabilities& golden, const std::string& text) {
  try {
    ParseExperiment(text, "exp.toml", golden);
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ParseCapabilities, OnlyTheMatrixWorkersAreAsked) {
  run::GoldenCapabilities golden;
  Experiment e = ParseExperiment(
      "[experiment]\nname = \"x\"\n[matrix]\nframework = \"synthetic\"\nmodel = \"synthetic\"\n",
      "exp.toml", golden);
  ASSERT_EQ(e.capabilities.size(), 1u);
  EXPECT_EQ(e.capabilities[0].worker, "synthetic");
  for (const auto& name : golden.asked) EXPECT_EQ(name, "synthetic");
}

TEST(ParseCapabilities, AUserWorkerEntry) {
  run::GoldenCapabilities golden;
  golden.Set("mini", golden.Get(*WorkerRegistry().Find("synthetic")));
  Experiment e = ParseExperiment(
      "[experiment]\nname = \"x\"\n[workers.mini]\ncommand = [\"{python}\", \"-m\", "
      "\"dlbench_worker\", \"synthetic\"]\n[matrix]\nframework = \"mini\"\nmodel = \"synthetic\"\n",
      "exp.toml", golden);
  const WorkerEntry* mini = e.workers.Find("mini");
  ASSERT_NE(mini, nullptr);
  EXPECT_EQ(mini->defined_at, "exp.toml:4");
  EXPECT_EQ(mini->command, (std::vector<std::string>{"{python}", "-m", "dlbench_worker", "synthetic"}));
  ASSERT_NE(e.CapabilitiesOf("mini"), nullptr);
  EXPECT_NE(e.workers.Find("torch"), nullptr);  // the built-in ones stay
}

TEST(ParseCapabilities, BadWorkerEntries) {
  run::GoldenCapabilities golden;
  const std::string head = "[experiment]\nname = \"x\"\n";
  const std::string tail = "[matrix]\nframework = \"synthetic\"\nmodel = \"synthetic\"\n";
  EXPECT_EQ(ErrorWith(golden, head + "[workers.mini]\ncommand = \"python -m x\"\n" + tail),
            "exp.toml:4: workers.mini.command: expected an argument list such as [\"{python}\", "
            "\"-m\", \"dlbench_worker\", \"torch\"] (no shell is used)");
  EXPECT_EQ(ErrorWith(golden, head + "[workers.mini]\ncommand = [\"{pyton}\", \"w\"]\n" + tail),
            "exp.toml:4: workers.mini.command: unknown placeholder {pyton} in \"{pyton}\"; allowed: "
            "{python}, {workers_dir}, {worker}");
  EXPECT_EQ(ErrorWith(golden, head + "[workers.mini]\ncomand = [\"w\"]\n" + tail),
            "exp.toml:4: workers.mini.comand: unknown key \"comand\" in [workers.mini]; allowed: "
            "command (did you mean \"command\"?)");
  EXPECT_EQ(ErrorWith(golden, head + "[workers.mini]\n" + tail),
            "exp.toml:3: workers.mini.command: missing; expected an argument list such as "
            "[\"{python}\", \"-m\", \"dlbench_worker\", \"torch\"] (no shell is used)");
  // A worker the registry does not know is not a framework.
  EXPECT_EQ(ErrorWith(golden, head + "[matrix]\nframework = \"mxnet\"\nmodel = \"synthetic\"\n"),
            "exp.toml:4: matrix.framework: \"mxnet\" is not a framework; allowed: torch, jax, synthetic, transformers");
  // A user worker that cannot say what it runs: the golden source has no "ghost".
  EXPECT_EQ(ErrorWith(golden, head + "[workers.ghost]\ncommand = [\"ghost\"]\n"
                              "[matrix]\nframework = \"ghost\"\nmodel = \"synthetic\"\n"),
            "exp.toml:4: workers.ghost.command: the worker cannot say what it runs");
}

TEST(ParseCapabilities, CellsAWorkerDoesNotCover) {
  run::GoldenCapabilities golden;
  WorkerCapabilities narrow = golden.Get(*WorkerRegistry().Find("synthetic"));
  narrow.precisions = {"fp32"};
  narrow.devices = {"cpu"};
  narrow.workloads = {"inference"};
  narrow.layouts = {"default"};
  narrow.options = {"latency"};
  golden.Set("narrow", narrow);
  const std::string head =
      "[experiment]\nname = \"x\"\n[workers.narrow]\ncommand = [\"narrow\"]\n[matrix]\n"
      "framework = \"narrow\"\nmodel = \"synthetic\"\n";
  EXPECT_EQ(ErrorWith(golden, head + "precision = [\"fp32\", \"bf16\"]\n"),
            "exp.toml:8: matrix.precision: \"bf16\" is not supported by the narrow worker; allowed: fp32");
  EXPECT_EQ(ErrorWith(golden, head + "device = [\"cuda:1\"]\n"),
            "exp.toml:8: matrix.device: \"cuda:1\" is not a device of the narrow worker; allowed: cpu");
  EXPECT_EQ(ErrorWith(golden, head + "workload = \"training\"\n"),
            "exp.toml:8: matrix.workload: \"training\" is not a workload of the narrow worker; "
            "allowed: inference");
  EXPECT_EQ(ErrorWith(golden, head + "layout = \"channels_last\"\n"),
            "exp.toml:8: matrix.layout: \"channels_last\" is not offered by narrow");
  EXPECT_EQ(ErrorWith(golden, head + "[options]\nfaults = {}\n"),
            "exp.toml:9: options.faults: the narrow worker has no option \"faults\"; allowed: latency "
            "(limit a variant to frameworks with `frameworks = [...]`)");
  EXPECT_EQ(ErrorWith(golden, "[experiment]\nname = \"x\"\n[workers.narrow]\ncommand = [\"narrow\"]\n"
                              "[matrix]\nframework = \"narrow\"\nmodel = \"resnet18\"\n"),
            "exp.toml:7: matrix.model: \"resnet18\" is not offered by narrow");
}


// A prompt and its new tokens must fit the decoder's positions, which the workers report
// (model_positions): the file is refused at the line of the length that overflows, and the
// defaults fit.
TEST(Parse, GenerationLengthsBeyondTheModelsPositionsAreRefused) {
  const std::string head =
      "[experiment]\nname = \"g\"\n[matrix]\nframework = [\"torch\", \"jax\"]\nmodel = \"llama-tiny\"\n"
      "workload = \"generation\"\n";
  EXPECT_EQ(ErrorOf(head + "[generation]\nprompt_tokens = 2000\nnew_tokens = 100\n"),
            "exp.toml:9: generation.new_tokens: prompt_tokens + new_tokens is 2100; llama-tiny has 2048 "
            "positions (the torch worker's)");
  EXPECT_EQ(ErrorOf(head + "[generation]\nprompt_tokens = 2049\n"),
            "exp.toml:8: generation.prompt_tokens: prompt_tokens + new_tokens is 2081; llama-tiny has 2048 "
            "positions (the torch worker's)");
  EXPECT_EQ(ErrorOf(head + "[generation]\nprompt_tokens = 2000\nnew_tokens = 48\n"), "no error");
  EXPECT_EQ(ErrorOf(head), "no error");
}

const char* kServing = R"(
[experiment]
name = "s"
seed = 5
[matrix]
framework = ["torch", "fx"]
model = "llama-tiny"
batch = [1, 4]
workload = "generation"
[generation]
prompt_tokens = 16
new_tokens = 8
[servers.fx]
command = ["{serve_python}", "{serve_dir}/x.py", "--port", "{port}", "--model", "{model}", "--dir", "{scratch}"]
health = "/v1/models"
prompt = "text"
eos_token = 2
models = ["llama-tiny"]
[load]
requests = 12
warmup = 3
)";

TEST(ParseServers, AServerIsAFrameworkWithDeclaredCapabilitiesAndItsCellsCarryTheLoad) {
  Experiment e = run::ParseWithGoldenWorkers(kServing, "exp.toml");
  const WorkerEntry* fx = e.workers.Find("fx");
  ASSERT_TRUE(fx != nullptr && fx->server);
  EXPECT_EQ(fx->defined_at, "exp.toml:13");
  EXPECT_EQ(fx->server->health, "/v1/models");
  EXPECT_EQ(fx->server->prompt, "text");
  EXPECT_EQ(fx->server->eos_token, 2);
  EXPECT_EQ(fx->server->url, "http://127.0.0.1:{port}");
  const WorkerCapabilities* caps = e.CapabilitiesOf("fx");
  ASSERT_NE(caps, nullptr);
  EXPECT_EQ(caps->workloads, (std::vector<std::string>{"generation"}));
  EXPECT_EQ(caps->precisions, (std::vector<std::string>{"fp32"}));
  EXPECT_EQ(e.load.requests, 12);
  EXPECT_EQ(e.load.warmup, 3);
  Plan plan = Expand(e, {});
  ASSERT_EQ(plan.cells.size(), 4u);
  int servers = 0;
  for (const Cell& c : plan.cells) {
    if (c.framework != "fx") {
      EXPECT_EQ(c.options_json.find("\"load\""), std::string::npos) << c.options_json;
      continue;
    }
    ++servers;
    EXPECT_EQ(c.load, e.load);
    EXPECT_NE(c.options_json.find(fmt::format("\"concurrency\":{}", c.batch)), std::string::npos) << c.options_json;
    EXPECT_NE(c.options_json.find("\"prompt_tokens\":16"), std::string::npos) << c.options_json;
  }
  EXPECT_EQ(servers, 2);
  // Worker options apply to the workers; a server's cell records only its load.
  std::string with_options = kServing;
  with_options += "[options]\nnum_threads = 1\n";
  Plan p2 = Expand(run::ParseWithGoldenWorkers(with_options, "exp.toml"), {});
  for (const Cell& c : p2.cells) {
    EXPECT_EQ(c.options_json.find("num_threads") != std::string::npos, c.framework == "torch") << c.options_json;
  }
  CommandVariables v;
  v.serve_python = "/sp";
  v.serve_dir = "/sd";
  v.port = "8011";
  v.model = "llama-tiny";
  v.scratch = "/tmp/x";
  EXPECT_EQ(ExpandCommand(*fx, v), (std::vector<std::string>{"/sp", "/sd/x.py", "--port", "8011", "--model",
                                                               "llama-tiny", "--dir", "/tmp/x"}));
  EXPECT_EQ(ExpandServerText(fx->server->url, "fx", v), "http://127.0.0.1:8011");
}

TEST(ParseServers, AnOpenLoopLoadRunsTheServersCellsAtBatchOneOnly) {
  std::string text = kServing;
  text.replace(text.find("requests = 12"), 13, "requests = 12\narrival = \"gamma\"\nrate = 40\nburstiness = 0.5");
  Experiment e = run::ParseWithGoldenWorkers(text, "exp.toml");
  EXPECT_EQ(e.load.arrival, "gamma");
  EXPECT_DOUBLE_EQ(e.load.rate, 40);
  EXPECT_DOUBLE_EQ(e.load.burstiness, 0.5);
  Plan plan = Expand(e, {});
  std::vector<std::string> cells;
  for (const Cell& c : plan.cells) cells.push_back(fmt::format("{} bs{}", c.framework, c.batch));
  EXPECT_EQ(cells, (std::vector<std::string>{"torch bs1", "fx bs1", "torch bs4"}));
  const Cell& fx = plan.cells[1];
  EXPECT_NE(fx.options_json.find("\"rate\":40"), std::string::npos) << fx.options_json;
  EXPECT_EQ(fx.options_json.find("concurrency"), std::string::npos) << fx.options_json;
  const std::string head =
      "[experiment]\nname = \"s\"\n[matrix]\nframework = [\"fx\"]\nmodel = \"llama-tiny\"\n"
      "workload = \"generation\"\n[servers.fx]\ncommand = [\"x\"]\nmodels = [\"llama-tiny\"]\n[load]\n";
  EXPECT_EQ(ErrorOf(head + "arrival = \"poisson\"\n"),
            "exp.toml:10: load.rate: missing; a poisson load needs a rate in requests/s, a number > 0");
  EXPECT_EQ(ErrorOf(head + "rate = 5\n"),
            "exp.toml:11: load.rate: a closed load has no rate; allowed with arrival = \"poisson\" or \"gamma\"");
  EXPECT_EQ(ErrorOf(head + "arrival = \"poisson\"\nrate = 0\n"),
            "exp.toml:12: load.rate: 0 is out of range; allowed: numbers > 0 and <= 1000000000");
  EXPECT_EQ(ErrorOf(head + "arrival = \"posson\"\n"),
            "exp.toml:11: load.arrival: \"posson\"; allowed: closed, offline, poisson, gamma (did you mean \"poisson\"?)");
  EXPECT_EQ(ErrorOf(head + "arrival = \"poisson\"\nrate = 5\nburstiness = 2\n"),
            "exp.toml:13: load.burstiness: only a gamma load has a burstiness");
  std::string no_one = head + "arrival = \"offline\"\n";
  no_one.replace(no_one.find("model = "), 0, "batch = [2, 4]\n");
  EXPECT_EQ(ErrorOf(no_one),
            "exp.toml:12: load.arrival: a load with arrival = \"offline\" runs a server's cells at batch 1 only (a closed loop's batch "
            "is its concurrency); matrix.batch has no 1");
}

TEST(ParseServers, BadEntriesAreOneLineWithTheFieldAndTheAllowedValues) {
  const std::string head =
      "[experiment]\nname = \"s\"\n[matrix]\nframework = [\"fx\"]\nmodel = \"llama-tiny\"\n"
      "workload = \"generation\"\n[servers.fx]\n";
  EXPECT_EQ(ErrorOf(head + "command = [\"x\"]\n"),
            "exp.toml:7: servers.fx.models: missing; the names of the models this server serves "
            "(matrix.model names them)");
  EXPECT_EQ(ErrorOf(head + "models = [\"llama-tiny\"]\n"),
            "exp.toml:7: servers.fx: needs a command that starts the server, or the url of one that is running");
  EXPECT_EQ(ErrorOf(head + "models = [\"llama-tiny\"]\nurl = \"ftp://h:1\"\n"),
            "exp.toml:9: servers.fx.url: \"ftp://h:1\" is not an http(s) URL (expected http://host:port)");
  EXPECT_EQ(ErrorOf(head + "models = [\"llama-tiny\"]\nurl = \"http://h:{port}\"\n"),
            "exp.toml:9: servers.fx.url: {port} is picked for a server dlbench starts; give the running server's port");
  EXPECT_EQ(ErrorOf(head + "models = [\"llama-tiny\"]\ncommand = [\"x\", \"--port={prot}\"]\n"),
            "exp.toml:9: servers.fx.command: unknown placeholder {prot} in \"--port={prot}\"; allowed: {python}, "
            "{workers_dir}, {worker}, {serve_python}, {serve_dir}, {port}, {model}, {precision}, {device}, {batch}, "
            "{seed}, {scratch}");
  EXPECT_EQ(ErrorOf(head + "models = [\"llama-tiny\"]\ncommand = [\"x\"]\napi = \"chats\"\n"),
            "exp.toml:10: servers.fx.api: \"chats\"; allowed: completions, chat (did you mean \"chat\"?)");
  EXPECT_EQ(ErrorOf(head + "models = [\"llama-tiny\"]\ncommand = [\"x\"]\nhealth = \"health\"\n"),
            "exp.toml:10: servers.fx.health: \"health\" is not a path; expected one such as /health");
  EXPECT_EQ(ErrorOf(head + "models = [\"llama-tiny\"]\ncommand = [\"x\"]\nprecisions = [\"int3\"]\n"),
            "exp.toml:10: servers.fx.precisions: \"int3\"; allowed: fp32, bf16, fp16");
  EXPECT_EQ(ErrorOf(head + "models = [\"llama-tiny\"]\ncommand = [\"x\"]\n[load]\nrequests = 0\n"),
            "exp.toml:11: load.requests: 0 is out of range; allowed: integers from 1 to 10000000");
  // A worker's command has no server placeholders, and a server takes no worker's name.
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"s\"\n[matrix]\nframework = \"torch\"\nmodel = \"resnet18\"\n"
                    "[workers.w]\ncommand = [\"{python}\", \"{port}\"]\n"),
            "exp.toml:7: workers.w.command: unknown placeholder {port} in \"{port}\"; allowed: {python}, "
            "{workers_dir}, {worker}");
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"s\"\n[matrix]\nframework = \"torch\"\nmodel = \"resnet18\"\n"
                    "[servers.torch]\ncommand = [\"x\"]\nmodels = [\"m\"]\n"),
            "exp.toml:6: servers.torch: \"torch\" is already a worker's name; a server needs a name of its own");
  // [load] without a server in the matrix; a model the server does not serve.
  EXPECT_EQ(ErrorOf("[experiment]\nname = \"s\"\n[matrix]\nframework = \"torch\"\nmodel = \"resnet18\"\n"
                    "[load]\nrequests = 3\n"),
            "exp.toml:6: load: the matrix names no server ([servers.NAME] in matrix.framework); [load] applies "
            "only to them");
  EXPECT_EQ(ErrorOf(head + "models = [\"other\"]\ncommand = [\"x\"]\n"),
            "exp.toml:5: matrix.model: \"llama-tiny\" is not offered by fx");
}

}  // namespace
}  // namespace dlb::plan
