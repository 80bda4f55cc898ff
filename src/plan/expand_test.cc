// Pins matrix expansion (which cells exist, with which merged settings), --filter, and the three
// task orders, including that a shuffled order is reproducible from its seed on any machine.
#include "plan/expand.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "plan/parse.h"
#include "run/golden_capabilities.h"
#include "util/error.h"

namespace dlb::plan {
namespace {

const char* kExperiment = R"(
[experiment]
name = "e"
repetitions = 2
[matrix]
framework = ["torch", "jax"]
model = ["resnet18", "vit_b_16"]
batch = [1, 8]
[options]
[variants.default]
[variants.notf32]
frameworks = ["jax"]
env = { XLA_FLAGS = "--a" }
options = { matmul_precision = "highest" }
[environments.native]
[environments.pinned]
prefix = ["taskset", "-c", "0"]
env = { XLA_FLAGS = "--b", OMP_NUM_THREADS = "1" }
)";

TEST(Expand, CrossesAxesAndRestrictsVariantsToTheirFrameworks) {
  Plan p = Expand(run::ParseWithGoldenWorkers(kExperiment, "e.toml"), {});
  // 2 models x 2 batches x 2 environments x (torch default, jax default, jax notf32) = 24
  EXPECT_EQ(p.cells.size(), 24u);
  EXPECT_EQ(p.tasks.size(), 48u);
  for (size_t i = 0; i < p.cells.size(); ++i) EXPECT_EQ(p.cells[i].cell_idx, static_cast<int>(i));
  int torch_notf32 = 0;
  for (const auto& c : p.cells) torch_notf32 += c.framework == "torch" && c.variant == "notf32";
  EXPECT_EQ(torch_notf32, 0);
}

TEST(Expand, MergesEnvironmentAndVariantSettings) {
  Plan p = Expand(run::ParseWithGoldenWorkers(kExperiment, "e.toml"),
                  {ParseFilter("variant=notf32"), ParseFilter("environment=pinned"),
                   ParseFilter("model=resnet18"), ParseFilter("batch=8")});
  ASSERT_EQ(p.cells.size(), 1u);
  const Cell& c = p.cells[0];
  EXPECT_EQ(c.prefix, (std::vector<std::string>{"taskset", "-c", "0"}));
  EnvVars want = {{"OMP_NUM_THREADS", "1"}, {"XLA_FLAGS", "--a"}};  // the variant wins
  EXPECT_EQ(c.env, want);
  EXPECT_EQ(nlohmann::json::parse(c.options_json)["matmul_precision"], "highest");
  EXPECT_EQ(c.Key(), "jax/resnet18/bs8/fp32/cpu/inference/default/notf32/pinned");
  EXPECT_EQ(c.Label(), "jax resnet18 bs8 fp32 cpu [notf32] @pinned");
}

TEST(Filter, RejectsUnknownKeysAndEmptyResults) {
  try {
    ParseFilter("modle=resnet18");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(),
                 "--filter modle=resnet18: \"modle\" is not a filter key; allowed: framework, "
                 "model, batch, precision, device, workload, layout, variant, environment, profile (did you "
                 "mean \"model\"?)");
  }
  EXPECT_THROW(ParseFilter("model"), UserError);
  EXPECT_THROW(Expand(run::ParseWithGoldenWorkers(kExperiment, "e.toml"), {ParseFilter("batch=3")}), UserError);
  Plan p = Expand(run::ParseWithGoldenWorkers(kExperiment, "e.toml"), {ParseFilter("framework=torch,jax"),
                                                           ParseFilter("batch=1")});
  EXPECT_EQ(p.cells.size(), 12u);
}

// Recorded from this implementation; a change means shuffled studies would no longer reproduce.
const std::vector<int> kShuffledSeed1 = {1, 0, 2};

TEST(Order, SequentialAndInterleaved) {
  auto seq = OrderTasks(2, 2, Order::kSequential, 0);
  EXPECT_EQ(seq, (std::vector<Task>{{0, 0}, {0, 1}, {1, 0}, {1, 1}}));
  auto abab = OrderTasks(2, 2, Order::kInterleaved, 0);
  EXPECT_EQ(abab, (std::vector<Task>{{0, 0}, {1, 0}, {0, 1}, {1, 1}}));
}

TEST(Order, ShuffledIsAPermutationReproducibleFromItsSeed) {
  auto a = OrderTasks(5, 3, Order::kShuffled, 123);
  auto b = OrderTasks(5, 3, Order::kShuffled, 123);
  auto c = OrderTasks(5, 3, Order::kShuffled, 124);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  ASSERT_EQ(a.size(), 15u);
  std::vector<int> next(5, 0);
  for (const auto& t : a) EXPECT_EQ(t.rep_idx, next[static_cast<size_t>(t.cell_idx)]++);
  for (int n : next) EXPECT_EQ(n, 3);
  // The same sequence on every machine: mt19937_64 and our own bounded draw only.
  std::vector<int> cells;
  for (const auto& t : OrderTasks(3, 1, Order::kShuffled, 1)) cells.push_back(t.cell_idx);
  EXPECT_EQ(cells, kShuffledSeed1);
}

}  // namespace
}  // namespace dlb::plan

namespace dlb::plan {
namespace {

constexpr const char* kTraining = R"(
[experiment]
name = "t"
[matrix]
framework = ["torch", "jax"]
model = "resnet18"
mode = ["inference", "training"]
[training]
optimizer = "adamw"
beta2 = 0.99
)";

TEST(Training, EveryTrainingCellGetsTheWholeOptimizerAndInferenceCellsNone) {
  Plan p = Expand(run::ParseWithGoldenWorkers(kTraining, "t.toml"), {});  // `mode`: the workload's old name
  ASSERT_EQ(p.cells.size(), 4u);
  int training = 0;
  for (const auto& c : p.cells) {
    auto options = nlohmann::json::parse(c.options_json);
    if (c.workload == "inference") {
      EXPECT_FALSE(options.contains("optimizer"));
      // The key reads as it did before the workload axis had a second value.
      EXPECT_EQ(c.Key(), c.framework + "/resnet18/bs1/fp32/cpu/inference/default/default/native");
      continue;
    }
    ++training;
    EXPECT_EQ(options["optimizer"], nlohmann::json::parse(
        R"({"name": "adamw", "lr": 0.001, "weight_decay": 0.01, "beta1": 0.9, "beta2": 0.99, "eps": 1e-08})"));
    EXPECT_NE(c.Label().find(" training"), std::string::npos) << c.Label();
  }
  EXPECT_EQ(training, 2);
  Plan only = Expand(run::ParseWithGoldenWorkers(kTraining, "t.toml"), {ParseFilter("workload=training")});
  EXPECT_EQ(only.cells.size(), 2u);
  EXPECT_EQ(Expand(run::ParseWithGoldenWorkers(kTraining, "t.toml"), {ParseFilter("mode=training")}).cells.size(), 2u);
}

// The golden capabilities say the image models classify and train and the decoders only generate
// (workload_models): the pairs no worker runs are skipped, the generation cells carry the lengths.
TEST(Generation, OnlyThePairsAWorkerRunsArePlannedAndCarryTheLengths) {
  constexpr const char* kGeneration = R"(
[experiment]
name = "g"
[matrix]
framework = ["torch", "jax", "transformers"]
model = ["resnet18", "llama-tiny"]
workload = ["inference", "generation"]
[generation]
prompt_tokens = 64
)";
  Plan p = Expand(run::ParseWithGoldenWorkers(kGeneration, "g.toml"), {});
  std::vector<std::string> planned;
  for (const auto& c : p.cells) {
    planned.push_back(c.framework + " " + c.model + " " + c.workload);
    auto options = nlohmann::json::parse(c.options_json);
    EXPECT_EQ(options.contains("prompt_tokens"), c.workload == "generation");
    if (c.workload == "generation") {
      EXPECT_EQ(options["prompt_tokens"], 64);
      EXPECT_EQ(options["new_tokens"], 32);  // the default
    }
  }
  EXPECT_EQ(planned, (std::vector<std::string>{
                         "torch resnet18 inference", "jax resnet18 inference",
                         "torch llama-tiny generation", "jax llama-tiny generation",
                         "transformers llama-tiny generation"}));
}

TEST(Training, KeysThatDoNotApplyAreRefusedWithTheField) {
  auto error = [](const std::string& text) {
    try {
      run::ParseWithGoldenWorkers(text, "t.toml");
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string base = "[experiment]\nname = \"t\"\n[matrix]\nframework = \"torch\"\nmodel = \"resnet18\"\n";
  EXPECT_NE(error(base + "[training]\nlr = 0.1\n").find("t.toml:6: training: the matrix has no training cells"),
            std::string::npos);
  std::string train = base + "workload = \"training\"\n";
  EXPECT_NE(error(train + "[training]\nbeta1 = 0.8\n").find("training.beta1: sgd has no beta1"),
            std::string::npos) << error(train + "[training]\nbeta1 = 0.8\n");
  EXPECT_NE(error(train + "[training]\noptimizer = \"lamb\"\n").find("\"lamb\" is not an optimizer; allowed: sgd, adamw"),
            std::string::npos);
  EXPECT_NE(error(train + "[training]\nlr = 0\n").find("training.lr"), std::string::npos);
  EXPECT_NE(error(base + "workload = \"training\"\nmode = \"training\"\n").find("matrix.mode: the old name of matrix.workload"),
            std::string::npos);
  EXPECT_NE(error(base + "workload = \"serving\"\n").find("\"serving\" is not a workload"), std::string::npos);
  EXPECT_EQ(error(train), "no error");  // the defaults: SGD with momentum
  Plan p = Expand(run::ParseWithGoldenWorkers(train, "t.toml"), {});
  EXPECT_EQ(nlohmann::json::parse(p.cells[0].options_json)["optimizer"],
            nlohmann::json::parse(R"({"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": false, "weight_decay": 0.0001})"));
}

// training.dataset: every training worker of the matrix must list the dataset and be able to load
// it (its capabilities' datasets and datasets_missing); epochs only with it. Training cells carry
// both, inference cells neither.
TEST(Training, ADatasetIsCheckedAgainstTheWorkersAndCarriedByTrainingCells) {
  run::GoldenCapabilities golden;
  auto error = [&](const std::string& text) {
    try {
      ParseExperiment(text, "t.toml", golden);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string head = "[experiment]\nname = \"t\"\n[matrix]\nframework = [\"torch\", \"jax\"]\n"
                           "model = \"resnet18\"\nworkload = [\"inference\", \"training\"]\n[training]\n";
  Plan p = Expand(ParseExperiment(head + "dataset = \"digits\"\nepochs = 3\n", "t.toml", golden), {});
  ASSERT_EQ(p.cells.size(), 4u);
  for (const auto& c : p.cells) {
    EXPECT_EQ(c.dataset, c.workload == "training" ? "digits" : "") << c.Key();
    EXPECT_EQ(c.epochs, c.workload == "training" ? 3 : 0) << c.Key();
  }
  for (const auto& c : Expand(ParseExperiment(head + "dataset = \"digits\"\n", "t.toml", golden), {}).cells) {
    EXPECT_EQ(c.epochs, c.workload == "training" ? 1 : 0);  // one epoch unless said
  }
  EXPECT_EQ(error(head + "epochs = 2\n"),
            "t.toml:8: training.epochs: counts the epochs over training.dataset, which is not set; "
            "set dataset too (allowed: digits), or leave epochs out");
  EXPECT_EQ(error(head + "dataset = \"mnist\"\n"),
            "t.toml:8: training.dataset: \"mnist\" is not a dataset of worker torch; allowed: digits");
  EXPECT_NE(error(head + "dataset = \"digits\"\nepochs = 0\n").find("t.toml:9: training.epochs"),
            std::string::npos);
  plan::WorkerCapabilities jax = golden.Get({"jax", {}, "", std::nullopt});
  jax.datasets_missing["digits"] = "scikit-learn is not installed in this Python";
  golden.Set("jax", jax);
  EXPECT_EQ(error(head + "dataset = \"digits\"\n"),
            "t.toml:8: training.dataset: \"digits\" cannot be loaded by worker jax: scikit-learn is not "
            "installed in this Python");
}

}  // namespace
}  // namespace dlb::plan
