// Profiles expand into each worker's precision, layout, options and environment; the read-back
// check names every deviation; the parser refuses a profile beside an explicit precision.
#include "plan/profile.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "plan/expand.h"
#include "plan/parse.h"
#include "run/golden_capabilities.h"
#include "util/error.h"

namespace dlb::plan {
namespace {

using nlohmann::json;

TEST(Profile, ResolvesPerFrameworkAndDevice) {
  auto strict_torch = ResolveProfile("fp32-strict", "torch", "cuda");
  EXPECT_EQ(strict_torch.precision, "fp32");
  EXPECT_EQ(json::parse(strict_torch.options_json), json({{"fp32_precision", "ieee"}}));
  auto tf32_jax = ResolveProfile("tf32", "jax", "cuda:0");
  EXPECT_EQ(json::parse(tf32_jax.options_json), json({{"matmul_precision", "tensorfloat32"}}));
  auto tuned_torch = ResolveProfile("bf16-tuned", "torch", "cuda");
  EXPECT_EQ(tuned_torch.precision, "bf16");
  EXPECT_EQ(tuned_torch.layout, "channels_last");
  EXPECT_EQ(json::parse(tuned_torch.options_json),
            json({{"compile", "default"}, {"cudnn_benchmark", true}}));
  auto tuned_torch_cpu = ResolveProfile("bf16-tuned", "torch", "cpu");
  EXPECT_EQ(json::parse(tuned_torch_cpu.options_json), json({{"compile", "default"}}));
  auto tuned_jax = ResolveProfile("bf16-tuned", "jax", "cuda");
  EXPECT_EQ(tuned_jax.layout, "default");
  EXPECT_EQ(tuned_jax.env, (EnvVars{{"XLA_FLAGS", "--xla_gpu_autotune_level=4"}}));
  EXPECT_TRUE(ResolveProfile("bf16-tuned", "jax", "cpu").env.empty());
  auto plain = ResolveProfile("framework-default", "torch", "cuda");
  EXPECT_EQ(plain.options_json, "{}");
}

TEST(Profile, CheckNamesEachDeviation) {
  std::string good = R"({"dtype":"float32","matmul_fp32_precision":"ieee","conv_fp32_precision":"ieee"})";
  EXPECT_TRUE(CheckProfile("fp32-strict", "torch", "cuda", good).empty());
  std::string tf32_conv = R"({"dtype":"float32","matmul_fp32_precision":"ieee","conv_fp32_precision":"tf32"})";
  EXPECT_EQ(CheckProfile("fp32-strict", "torch", "cuda", tf32_conv),
            (std::vector<std::string>{R"(conv_fp32_precision is "tf32"; fp32-strict expects "ieee")"}));
  std::string jax_fallback = R"({"dtype":"bfloat16","layout":"NHWC","xla_gpu_autotune_level":"0"})";
  EXPECT_EQ(CheckProfile("bf16-tuned", "jax", "cuda", jax_fallback),
            (std::vector<std::string>{R"(xla_gpu_autotune_level is "0"; bf16-tuned expects "4")"}));
  EXPECT_EQ(CheckProfile("tf32", "jax", "cuda", R"({"dtype":"float32"})"),
            (std::vector<std::string>{R"(jax_default_matmul_precision is absent; tf32 expects "tensorfloat32")"}));
  EXPECT_EQ(CheckProfile("fp32-strict", "torch", "cpu", "not json").size(), 1u);
  EXPECT_TRUE(CheckProfile("", "torch", "cpu", "{}").empty());
}

TEST(Profile, ExpandsAsAnAxisAndAVariantStillWins) {
  auto e = run::ParseWithGoldenWorkers(R"(
[experiment]
name = "p"
[matrix]
framework = ["torch", "jax"]
model = "resnet18"
device = "cuda"
profile = ["fp32-strict", "bf16-tuned"]
variant = ["default", "no-autotune"]
[variants.default]
[variants.no-autotune]
frameworks = ["jax"]
env = { XLA_FLAGS = "--xla_gpu_autotune_level=0" }
)", "p.toml");
  Plan plan = Expand(e, {});
  ASSERT_EQ(plan.cells.size(), 6u);  // 2 profiles x (torch, jax, jax no-autotune)
  int checked = 0;
  for (const auto& c : plan.cells) {
    EXPECT_EQ(c.Key().substr(c.Key().rfind('/') + 1), c.profile);
    if (c.profile == "bf16-tuned") {
      EXPECT_EQ(c.precision, "bf16");
    }
    if (c.profile == "bf16-tuned" && c.framework == "torch") {
      EXPECT_EQ(c.layout, "channels_last");
    }
    if (c.profile == "bf16-tuned" && c.framework == "jax") {
      std::string flags;
      for (const auto& [k, v] : c.env)
        if (k == "XLA_FLAGS") flags = v;
      EXPECT_EQ(flags, c.variant == "no-autotune" ? "--xla_gpu_autotune_level=0"
                                                 : "--xla_gpu_autotune_level=4");
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2);
  EXPECT_EQ(Expand(e, {ParseFilter("profile=fp32-strict")}).cells.size(), 3u);
}

TEST(Profile, ParserRefusesAProfileBesideAPrecision) {
  try {
    run::ParseWithGoldenWorkers(R"(
[experiment]
name = "p"
[matrix]
framework = "torch"
model = "resnet18"
precision = "bf16"
profile = ["tf32"]
)", "p.toml");
    FAIL() << "accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("p.toml:7: matrix.precision: a profile sets the precision"),
              std::string::npos)
        << e.what();
  }
  try {
    run::ParseWithGoldenWorkers("[experiment]\nname = \"p\"\n[matrix]\nframework = \"torch\"\nmodel = \"resnet18\"\nprofile = \"fp16-fast\"\n", "q.toml");
    FAIL() << "accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("allowed: framework-default, fp32-strict, tf32, bf16-tuned"),
              std::string::npos)
        << e.what();
  }
}

TEST(Energy, SettingsParseWithLimits) {
  auto e = run::ParseWithGoldenWorkers("[experiment]\nname = \"e\"\ntelemetry_interval_s = 0.5\n[energy]\nwindows = 5\ngpu_window_s = 4\n[matrix]\nframework = \"synthetic\"\nmodel = \"synthetic\"\n", "e.toml");
  EXPECT_EQ(e.energy.windows, 5);
  EXPECT_DOUBLE_EQ(e.energy.gpu_window_s, 4);
  EXPECT_DOUBLE_EQ(e.energy.cpu_window_s, 1);
  EXPECT_DOUBLE_EQ(e.telemetry_interval_s, 0.5);
  EXPECT_THROW(run::ParseWithGoldenWorkers("[experiment]\nname = \"e\"\n[energy]\nwindow = 5\n[matrix]\nframework = \"synthetic\"\nmodel = \"synthetic\"\n", "e.toml"), UserError);
}

}  // namespace
}  // namespace dlb::plan
