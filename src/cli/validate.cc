// dlbench validate: do the frameworks compute the same function? Identical weights, the same inputs,
// outputs compared pairwise with the tolerance for the precision and device, each side's numeric
// settings printed beside the result so that a TF32-vs-fp32 difference is explained, not hidden.
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/validation_output.h"
#include "plan/catalog.h"
#include "plan/registry.h"
#include "report/table.h"
#include "run/capabilities.h"
#include "run/validation.h"
#include "util/error.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

namespace fs = std::filesystem;

struct ValidateOptions {
  std::vector<std::string> models;
  std::vector<std::string> frameworks;  // empty: every worker that can be validated
  std::string precision = "fp32";
  std::string device = "cpu";
  std::string weights;
  std::string python;
  uint64_t seed = 0;
  int inputs = 4;
  std::string workload = "inference";
  int steps = 3;
  std::string optimizer = "sgd";
  bool json_output = false;
  double timeout_s = 600;
};

bool Lists(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// The workers that can take part, from what they report: canonical weights, and save_weights with
// outputs (inference) or train (training). Asks every registry worker once.
std::vector<std::string> ValidatableWorkers(const plan::WorkerRegistry& registry,
                                            plan::CapabilitySource& capabilities,
                                            const std::string& workload) {
  std::vector<std::string> names;
  for (const auto& entry : registry.entries()) {
    if (capabilities.Get(entry).CanValidate(workload)) names.push_back(entry.name);
  }
  return names;
}

// Fills in the frameworks (every validatable worker) and the models (those every chosen framework
// offers) when none were given, and checks the ones that were.
void Resolve(ValidateOptions& o, const plan::WorkerRegistry& registry,
             plan::CapabilitySource& capabilities) {
  std::vector<std::string> with_weights = ValidatableWorkers(registry, capabilities, o.workload);
  if (o.frameworks.empty()) o.frameworks = with_weights;
  for (const auto& f : o.frameworks) {
    if (!Lists(with_weights, f)) {
      throw UserError(fmt::format("--framework {}: not a framework with weights; {}", f,
                                  AllowedValues(f, with_weights)));
    }
  }
  if (o.frameworks.size() < 2) throw UserError("--framework: give at least two frameworks to compare");
  std::vector<std::string> models;
  for (const auto& m : capabilities.Get(*registry.Find(o.frameworks[0])).models) {
    bool everywhere = std::all_of(o.frameworks.begin(), o.frameworks.end(), [&](const auto& f) {
      return capabilities.Get(*registry.Find(f)).Runs(m, o.workload);
    });
    if (everywhere) models.push_back(m);
  }
  for (const auto& m : o.models) {
    if (!Lists(models, m)) {
      throw UserError(fmt::format("--model {}: not a model; {}", m, AllowedValues(m, models)));
    }
  }
  if (o.models.empty()) o.models = models;
}

void Check(const ValidateOptions& o) {
  if (std::find(plan::kPrecisions.begin(), plan::kPrecisions.end(), o.precision) == plan::kPrecisions.end()) {
    throw UserError(fmt::format("--precision {}: {}", o.precision, AllowedValues(o.precision, plan::kPrecisions)));
  }
  if (!plan::IsValidDevice(o.device)) {
    throw UserError(fmt::format("--device {}: allowed: cpu, cuda, cuda:N", o.device));
  }
  if (!o.weights.empty() && !fs::exists(o.weights)) {
    throw UserError(fmt::format("--weights {}: no such file", o.weights));
  }
  if (!o.weights.empty() && o.models.size() != 1) {
    throw UserError("--weights: give exactly one --model the weights belong to");
  }
  if (o.inputs < 1 || o.inputs > 256) throw UserError(fmt::format("--inputs {}: allowed: 1 to 256", o.inputs));
  const std::vector<std::string> workloads = {"inference", "training", "generation"};
  const std::vector<std::string> optimizers = {"sgd", "adamw"};
  if (std::find(workloads.begin(), workloads.end(), o.workload) == workloads.end()) {
    throw UserError(fmt::format("--workload {}: {}", o.workload, AllowedValues(o.workload, workloads)));
  }
  if (std::find(optimizers.begin(), optimizers.end(), o.optimizer) == optimizers.end()) {
    throw UserError(fmt::format("--optimizer {}: {}", o.optimizer, AllowedValues(o.optimizer, optimizers)));
  }
  if (o.workload == "training") {
    if (o.steps < 2 || o.steps > 100) {
      throw UserError(fmt::format("--steps {}: allowed: 2 to 100 (the first loss is one forward; "
                                  "later ones show the updates)", o.steps));
    }
    if (o.precision == "fp16") {
      throw UserError("--precision fp16: training allows fp32 or bf16 (fp16 would need loss "
                      "scaling, which the workers do not implement)");
    }
    if (o.inputs < 2) {
      throw UserError(fmt::format("--inputs {}: training needs at least 2 (BatchNorm in training "
                                  "mode needs more than one value per channel)", o.inputs));
    }
  }
}

ExitCode Validate(ValidateOptions o) {
  Check(o);
  LaunchChoice launch = ChooseLaunch(o.python);
  run::WorkerCapabilityCache capabilities(launch.launch);
  Resolve(o, launch.launch.workers, capabilities);
  std::string tmpl = (fs::temp_directory_path() / "dlbench-validate-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw EnvError("cannot create a temporary directory");
  run::ValidationSpec spec;
  spec.models = o.models;
  spec.frameworks = o.frameworks;
  spec.precision = o.precision;
  spec.device = o.device;
  spec.weights_file = o.weights.empty() ? "" : fs::absolute(o.weights).string();
  spec.seed = o.seed;
  spec.inputs = o.inputs;
  spec.timeout_s = o.timeout_s;
  spec.workdir = tmpl;
  spec.workload = o.workload;
  spec.steps = o.steps;
  if (o.workload == "training") spec.optimizer_json = run::ValidationOptimizer(o.optimizer);
  std::vector<run::ModelValidation> results;
  for (const auto& m : o.models) {
    if (!o.json_output) std::fprintf(stderr, "validating %s ...\n", m.c_str());
    results.push_back(run::ValidateModel(m, spec, launch.launch));
  }
  std::error_code ec;
  fs::remove_all(tmpl, ec);
  bool all_ok = std::all_of(results.begin(), results.end(), [](const auto& r) { return r.ok(); });
  if (o.json_output) {
    std::fputs((ValidationJson(results, spec).dump(2) + "\n").c_str(), stdout);
  } else {
    std::fputs(ValidationText(results, spec).c_str(), stdout);
  }
  return all_ok ? ExitCode::kDone : ExitCode::kSomeFailed;
}

}  // namespace

void AddValidateCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand(
      "validate", "Check that the frameworks compute the same function: identical weights, outputs (or training losses and weights) compared");
  auto o = std::make_shared<ValidateOptions>();
  cmd->add_option("--model", o->models, "model(s) to check (default: every model the frameworks share)");
  cmd->add_option("--framework", o->frameworks,
                  "frameworks to compare; the first builds the weights (default: every worker that "
                  "reports canonical weights and the workload's requests: torch, jax; for "
                  "generation also transformers)");
  cmd->add_option("--precision", o->precision, "fp32, bf16 or fp16")->capture_default_str();
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--weights", o->weights,
                  "safetensors file in the canonical layout (torchvision's, or for the decoders "
                  "transformers' LlamaForCausalLM) instead of seeded weights");
  cmd->add_option("--seed", o->seed, "seed for the weights and the inputs")->capture_default_str();
  cmd->add_option("--inputs", o->inputs,
                  "number of fixed input images (training: the batch; generation: token sequences "
                  "of 16)")
      ->capture_default_str();
  cmd->add_option("--workload", o->workload,
                  "inference (outputs of one forward), training (losses of --steps optimizer "
                  "steps and the weights after them) or generation (a decoder's logits on fixed "
                  "tokens through its KV cache)")
      ->capture_default_str();
  cmd->add_option("--steps", o->steps, "training: optimizer steps")->capture_default_str();
  cmd->add_option("--optimizer", o->optimizer,
                  "training: sgd (lr 1e-3, momentum 0.9, Nesterov, weight decay 5e-4) or adamw "
                  "(lr 1e-4, betas 0.9/0.999, eps 1e-8, weight decay 0.1)")
      ->capture_default_str();
  cmd->add_option("--python", o->python, "Python interpreter that has the frameworks");
  cmd->add_option("--timeout", o->timeout_s, "seconds to wait for any one worker reply")->capture_default_str();
  cmd->add_flag("--json", o->json_output, "machine-readable output");
  cmd->callback([o, &result] { result = Validate(*o); });
}

}  // namespace dlb::cli
