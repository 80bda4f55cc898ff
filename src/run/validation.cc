#include "run/validation.h"

#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "run/protocol.h"
#include "run/worker_client.h"
#include "util/error.h"
#include "util/process.h"
#include "util/random.h"
#include "util/safetensors.h"

namespace dlb::run {
namespace {

namespace fs = std::filesystem;
constexpr int kImageSize = 224;

std::chrono::milliseconds Millis(double s) {
  return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
}

// One worker conversation for validation: hello, load, then requests; the first fault becomes the
// message and ends the conversation.
class Session {
 public:
  Session(const std::string& framework, const WorkerLaunch& launch, double timeout_s)
      : framework_(framework), timeout_(Millis(timeout_s)) {
    auto c = WorkerClient::Start(WorkerCommand(launch, framework), WorkerBaseEnvironment(launch));
    if (!c) {
      Fail(c.error());
      return;
    }
    client_.emplace(std::move(*c));
    Check(client_->Hello(timeout_));
  }

  ~Session() {
    if (client_ && !client_->ended()) {
      if (error_.empty() || unsupported_) {
        (void)client_->Bye(std::chrono::seconds(10));
      } else {
        client_->End();
      }
    }
  }

  bool Load(const LoadRequest& req) {
    if (!ok()) return false;
    auto r = client_->Load(req, timeout_);
    if (r) settings_json_ = r->settings_json;
    return Check(r);
  }
  // A generation load's vocabulary, from its settings; 0 when they do not say.
  int64_t VocabSize() const {
    auto j = nlohmann::json::parse(settings_json_, nullptr, false);
    return j.is_object() ? j.value("vocab_size", int64_t{0}) : 0;
  }
  bool SaveWeights(const std::string& file) { return ok() && Check(client_->SaveWeights(file, timeout_)); }
  bool Outputs(const std::string& in, const std::string& out) {
    return ok() && Check(client_->Outputs(in, out, timeout_));
  }
  std::optional<std::vector<double>> Train(int64_t steps, const std::string& input_file) {
    if (!ok()) return std::nullopt;
    auto r = client_->Train(steps, input_file, timeout_);
    if (!Check(r)) return std::nullopt;
    return r->losses;
  }

  const std::string& error() const { return error_; }
  bool unsupported() const { return unsupported_; }
  const std::string& settings_json() const { return settings_json_; }
  std::string Log() const { return client_ ? client_->process().Log(16 * 1024) : ""; }

 private:
  bool ok() const { return client_ && error_.empty(); }

  template <typename T>
  bool Check(const WorkerResult<T>& r) {
    if (r) return true;
    Fail(r.error());
    return false;
  }

  void Fail(const WorkerFault& f) {
    unsupported_ = f.unsupported();
    error_ = fmt::format("{} worker: {}", framework_, f.Describe());
  }

  std::string framework_;
  std::chrono::milliseconds timeout_;
  std::optional<WorkerClient> client_;
  std::string error_;
  bool unsupported_ = false;
  std::string settings_json_ = "{}";
};

LoadRequest Request(const std::string& model, const ValidationSpec& spec, int batch,
                    const std::string& precision, const std::string& device) {
  LoadRequest r;
  r.model = model;
  r.batch = batch;
  r.precision = precision;
  r.device = device;
  r.mode = "inference";
  r.layout = "default";
  r.seed = static_cast<int64_t>(spec.seed);
  if (spec.workload == "generation") {
    // The lengths of a generation load; validation asks only for outputs, which take their own.
    r.mode = "generation";
    r.options_json = R"({"prompt_tokens": 1, "new_tokens": 1})";
  }
  return r;
}

}  // namespace

std::string ValidationOptimizer(const std::string& name) {
  if (name == "adamw") {
    return R"({"name": "adamw", "lr": 0.0001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-08, "weight_decay": 0.1})";
  }
  DLB_CHECK(name == "sgd") << "no validation optimizer " << name;
  return R"({"name": "sgd", "lr": 0.001, "momentum": 0.9, "nesterov": true, "weight_decay": 0.0005})";
}

std::vector<float> FixedTokens(int rows, int length, int64_t vocab_size, uint64_t seed) {
  DLB_CHECK(vocab_size > 0 && vocab_size < (int64_t{1} << 24)) << "vocabulary " << vocab_size;
  Rng rng(seed ^ 0x70cc3e5ULL);
  std::vector<float> v(static_cast<size_t>(rows) * static_cast<size_t>(length));
  for (auto& id : v) id = static_cast<float>(rng() % static_cast<uint64_t>(vocab_size));
  return v;
}

std::vector<float> FixedInputs(int rows, uint64_t seed) {
  // Box-Muller over our own uniform draws: the same inputs on every machine.
  Rng rng(seed ^ 0x5eedf00dULL);
  auto uniform = [&] { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53; };
  size_t n = static_cast<size_t>(rows) * 3 * kImageSize * kImageSize;
  std::vector<float> v(n);
  for (size_t i = 0; i < n; i += 2) {
    double r = std::sqrt(-2 * std::log(uniform())), t = 2 * M_PI * uniform();
    v[i] = static_cast<float>(r * std::cos(t));
    if (i + 1 < n) v[i + 1] = static_cast<float>(r * std::sin(t));
  }
  return v;
}

ModelValidation ValidateModel(const std::string& model, const ValidationSpec& spec,
                              const WorkerLaunch& launch) {
  ModelValidation mv;
  mv.model = model;
  fs::path dir = fs::path(spec.workdir) / model;
  fs::create_directories(dir);

  // 1. One set of weights, in the canonical layout, always fp32. A decoder's first load also says
  // its vocabulary, which the token inputs need, so it is made even when a file is given.
  const bool generation = spec.workload == "generation";
  std::string weights = spec.weights_file;
  int64_t vocab_size = 0;
  if (weights.empty() || generation) {
    bool build = weights.empty();
    if (build) weights = (dir / "weights.safetensors").string();
    Session base(spec.frameworks.front(), launch, spec.timeout_s);
    LoadRequest req = Request(model, spec, 1, "fp32", "cpu");
    if (!build) req.weights = weights;
    if (!base.Load(req) || (build && !base.SaveWeights(weights))) {
      mv.error = "building the weights failed: " + base.error();
      return mv;
    }
    vocab_size = base.VocabSize();
    if (generation && vocab_size <= 0) {
      mv.error = fmt::format("the {} worker's settings for {} give no vocab_size",
                             spec.frameworks.front(), model);
      return mv;
    }
  }
  mv.weights_source = spec.weights_file.empty()
                          ? fmt::format("seed {} (built by {})", spec.seed, spec.frameworks.front())
                          : spec.weights_file;

  // 2. The same fixed inputs for every framework: images, or token sequences.
  std::string inputs = (dir / "inputs.safetensors").string();
  if (generation) {
    WriteSafetensors(inputs, {{"input", F32Tensor{{spec.inputs, kValidationTokens},
                                                  FixedTokens(spec.inputs, kValidationTokens,
                                                              vocab_size, spec.seed)}}});
  } else {
    WriteSafetensors(inputs, {{"input", F32Tensor{{spec.inputs, 3, kImageSize, kImageSize},
                                                  FixedInputs(spec.inputs, spec.seed)}}});
  }

  // 3. Each framework's outputs, or its losses and trained weights.
  const bool training = spec.workload == "training";
  for (const auto& fw : spec.frameworks) {
    FrameworkOutput fo;
    fo.framework = fw;
    std::string out_file = (dir / (fw + (training ? "-trained" : "-outputs") + ".safetensors")).string();
    {
      Session s(fw, launch, spec.timeout_s);
      LoadRequest req = Request(model, spec, spec.inputs, spec.precision, spec.device);
      req.weights = weights;
      bool ok = false;
      if (training) {
        req.mode = "training";
        req.options_json = nlohmann::json{{"optimizer", nlohmann::json::parse(spec.optimizer_json)}}.dump();
        if (s.Load(req)) {
          if (auto losses = s.Train(spec.steps, inputs)) {
            fo.losses = std::move(*losses);
            ok = s.SaveWeights(out_file);
          }
        }
      } else {
        ok = s.Load(req) && s.Outputs(inputs, out_file);
      }
      if (ok) {
        fo.status = "ok";
      } else {
        fo.status = s.unsupported() ? "unsupported" : "failed";
        fo.message = s.error();
        fo.log = s.Log();
      }
      fo.settings_json = s.settings_json();
    }
    if (fo.status == "ok") {
      try {
        auto tensors = ReadSafetensors(out_file);
        if (training) {
          for (auto& [name, t] : tensors) fo.weights_after.emplace(name, std::move(t.data));
        } else {
          // Logits [B, T, vocab] compare as B x T rows: one distribution per position.
          const size_t rank = generation ? 3 : 2;
          auto it = tensors.find("output");
          if (it == tensors.end() || it->second.shape.size() != rank) {
            throw UserError(fmt::format("{}: no {}-D tensor \"output\"", out_file, rank));
          }
          const auto& shape = it->second.shape;
          fo.rows = generation ? shape[0] * shape[1] : shape[0];
          fo.cols = shape.back();
          fo.output = std::move(it->second.data);
        }
      } catch (const UserError& e) {
        fo.status = "failed";
        fo.message = e.what();
      }
    }
    mv.outputs.push_back(std::move(fo));
  }

  analysis::NamedTensors start;
  if (training) {
    try {
      for (auto& [name, t] : ReadSafetensors(weights)) start.emplace(name, std::move(t.data));
    } catch (const UserError& e) {
      mv.error = e.what();
      return mv;
    }
  }

  // 4. Every pair of frameworks that produced outputs; the first is the reference.
  for (size_t i = 0; i < mv.outputs.size(); ++i) {
    for (size_t j = i + 1; j < mv.outputs.size(); ++j) {
      const auto& a = mv.outputs[i];
      const auto& b = mv.outputs[j];
      if (a.status != "ok" || b.status != "ok") continue;
      bool tf32 = analysis::SettingsShowTf32(a.settings_json) ||
                  analysis::SettingsShowTf32(b.settings_json);
      if (training) {
        PairResult p;
        p.framework_a = a.framework;
        p.framework_b = b.framework;
        p.training = analysis::CompareTraining(a.losses, b.losses, start, a.weights_after, b.weights_after);
        p.training_tolerance = analysis::TrainingToleranceFor(spec.precision, spec.device, tf32);
        p.pass = analysis::Passes(p.training, p.training_tolerance);
        mv.pairs.push_back(std::move(p));
        continue;
      }
      if (a.rows != b.rows || a.cols != b.cols) {
        mv.error = fmt::format("{} and {} returned different shapes", a.framework, b.framework);
        continue;
      }
      PairResult p;
      p.framework_a = a.framework;
      p.framework_b = b.framework;
      p.comparison = analysis::CompareOutputs(a.output, b.output, a.rows, a.cols);
      p.tolerance = analysis::ToleranceFor(spec.precision, spec.device, tf32);
      p.pass = analysis::Passes(p.comparison, p.tolerance);
      mv.pairs.push_back(std::move(p));
    }
  }
  return mv;
}

}  // namespace dlb::run
