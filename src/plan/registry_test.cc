// Pins the worker registry: the built-in entries, argv template expansion (placeholders, literal
// braces, the errors for a bad template), user entries replacing or adding workers, and what a
// worker's reported capabilities cover (devices by kind, the requests validation needs).
#include "plan/registry.h"

#include <gtest/gtest.h>

namespace dlb::plan {
namespace {

const CommandVariables kVars{.python = "/venv/bin/python", .workers_dir = "/src/workers/python", .serve_python = "", .serve_dir = "", .port = "", .model = "", .seed = "", .scratch = "", .precision = "", .device = "", .batch = ""};

TEST(Registry, DefaultWorkersRunThePythonPackage) {
  WorkerRegistry r;
  EXPECT_EQ(r.Names(), (std::vector<std::string>{"torch", "jax", "synthetic", "transformers"}));
  EXPECT_EQ(ExpandCommand(*r.Find("jax"), kVars),
            (std::vector<std::string>{"/venv/bin/python", "-m", "dlbench_worker", "jax"}));
  EXPECT_EQ(r.Find("mxnet"), nullptr);
}

TEST(Registry, TemplateExpansion) {
  WorkerEntry e{"mine", {"docker", "run", "-i", "-v", "{workers_dir}:/w", "img", "{python}",
                         "--name={worker}", "{{literal}}"}, "exp.toml:3", std::nullopt};
  EXPECT_FALSE(CheckCommandTemplate(e.command));
  EXPECT_EQ(ExpandCommand(e, kVars),
            (std::vector<std::string>{"docker", "run", "-i", "-v", "/src/workers/python:/w", "img",
                                      "/venv/bin/python", "--name=mine", "{literal}"}));
}

TEST(Registry, BadTemplates) {
  EXPECT_EQ(CheckCommandTemplate({}), "must not be empty (the program and its arguments)");
  EXPECT_EQ(CheckCommandTemplate({""}), "the program (the first element) must not be empty");
  EXPECT_EQ(CheckCommandTemplate({"{pyhton}"}),
            "unknown placeholder {pyhton} in \"{pyhton}\"; allowed: {python}, {workers_dir}, {worker}");
  EXPECT_EQ(CheckCommandTemplate({"a{python"}),
            "\"a{python\" has an unclosed { (write {{ for a literal one)");
  EXPECT_EQ(CheckCommandTemplate({"a}"}), "\"a}\" has a lone } (write }} for a literal one)");
}

TEST(Registry, UserEntriesAddOrReplace) {
  WorkerRegistry r;
  r.Add({"torch", {"ssh", "gpu-node", "python3", "-m", "dlbench_worker", "torch"}, "exp.toml:5", std::nullopt});
  r.Add({"mini", {"{python}", "-m", "dlbench_worker", "synthetic"}, "exp.toml:7", std::nullopt});
  EXPECT_EQ(r.Names(), (std::vector<std::string>{"torch", "jax", "synthetic", "transformers", "mini"}));
  EXPECT_EQ(ExpandCommand(*r.Find("torch"), kVars)[0], "ssh");
  EXPECT_EQ(r.Find("mini")->defined_at, "exp.toml:7");
}

TEST(Capabilities, DevicesAreCoveredByKind) {
  WorkerCapabilities c;
  c.devices = {"cpu", "cuda"};
  EXPECT_TRUE(CoversDevice(c, "cpu"));
  EXPECT_TRUE(CoversDevice(c, "cuda:3"));
  c.devices = {"cpu"};
  EXPECT_FALSE(CoversDevice(c, "cuda"));
  EXPECT_FALSE(CoversDevice(c, "cuda:0"));
}

TEST(Capabilities, ValidationNeedsWeightsAndTheRequests) {
  WorkerCapabilities c;
  c.workloads = {"inference", "training"};
  c.requests = {"hello", "load", "measure", "bye", "save_weights", "outputs"};
  c.canonical_weights = true;
  EXPECT_TRUE(c.CanValidate("inference"));
  EXPECT_FALSE(c.CanValidate("training"));  // no train
  c.requests.push_back("train");
  EXPECT_TRUE(c.CanValidate("training"));
  c.canonical_weights = false;
  EXPECT_FALSE(c.CanValidate("inference"));
}

}  // namespace
}  // namespace dlb::plan
