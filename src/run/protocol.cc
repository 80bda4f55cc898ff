#include "run/protocol.h"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

namespace dlb::run {
namespace {

using nlohmann::json;

std::string Excerpt(std::string_view line) {
  constexpr size_t kMax = 120;
  std::string s(line.substr(0, kMax));
  if (line.size() > kMax) s += "...";
  return s;
}

// Parses a reply object and separates {"ok": false} failures from success.
std::expected<json, WorkerFailure> ParseReply(std::string_view line) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::exception&) {  // parse_error, or out_of_range for a number like 1e9999
    throw ProtocolError(fmt::format("reply is not JSON: \"{}\"", Excerpt(line)));
  }
  if (!j.is_object()) {
    throw ProtocolError(fmt::format("reply is not a JSON object: \"{}\"", Excerpt(line)));
  }
  auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean()) {
    throw ProtocolError("reply has no boolean \"ok\" field");
  }
  if (ok->get<bool>()) return j;
  auto err = j.find("error");
  if (err == j.end() || !err->is_object() || !err->contains("kind") ||
      !(*err)["kind"].is_string()) {
    throw ProtocolError("failure reply has no \"error\" object with a \"kind\"");
  }
  std::string kind_name = (*err)["kind"].get<std::string>();
  auto kind = ParseErrorKind(kind_name);
  if (!kind) throw ProtocolError(fmt::format("unknown error kind \"{}\"", kind_name));
  std::string message;
  if (err->contains("message") && (*err)["message"].is_string()) {
    message = (*err)["message"].get<std::string>();
  }
  return std::unexpected(WorkerFailure{*kind, std::move(message)});
}

const json& Field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) throw ProtocolError(fmt::format("reply lacks \"{}\"", name));
  return *it;
}

int64_t Int(const json& j, const char* name) {
  const json& v = Field(j, name);
  if (!v.is_number_integer()) throw ProtocolError(fmt::format("\"{}\" is not an integer", name));
  return v.get<int64_t>();
}

double Number(const json& j, const char* name) {
  const json& v = Field(j, name);
  if (!v.is_number()) throw ProtocolError(fmt::format("\"{}\" is not a number", name));
  return v.get<double>();
}

std::optional<int64_t> OptInt(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) throw ProtocolError(fmt::format("\"{}\" is not an integer", name));
  return it->get<int64_t>();
}

std::optional<double> OptNumber(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) throw ProtocolError(fmt::format("\"{}\" is not a number", name));
  return it->get<double>();
}

std::string String(const json& j, const char* name) {
  const json& v = Field(j, name);
  if (!v.is_string()) throw ProtocolError(fmt::format("\"{}\" is not a string", name));
  return v.get<std::string>();
}

}  // namespace

std::string_view ErrorKindName(ErrorKind kind) {
  for (const auto& [k, name] : kErrorKindNames)
    if (k == kind) return name;
  return "runtime";
}

std::optional<ErrorKind> ParseErrorKind(std::string_view name) {
  for (const auto& [k, n] : kErrorKindNames)
    if (n == name) return k;
  return std::nullopt;
}

std::string EncodeHello() { return json{{"op", "hello"}}.dump(); }

std::string EncodeLoad(const LoadRequest& r) {
  json j = {{"op", "load"},         {"model", r.model},   {"batch", r.batch},
            {"precision", r.precision}, {"device", r.device}, {"mode", r.mode},
            {"layout", r.layout},   {"seed", r.seed},     {"options", json::parse(r.options_json)}};
  if (r.weights) j["weights"] = *r.weights;
  if (r.process_index) j["process_index"] = *r.process_index;
  return j.dump();
}

std::string EncodeMeasure(const MeasureRequest& r) {
  json j = {{"op", "measure"},
            {"iterations", r.iterations},
            {"sync", r.sync == Sync::kEach ? "each" : "window"}};
  if (r.block > 1) j["block"] = r.block;
  return j.dump();
}

std::string EncodeBye() { return json{{"op", "bye"}}.dump(); }

std::string EncodeSaveWeights(const std::string& file) {
  return json{{"op", "save_weights"}, {"file", file}}.dump();
}

std::string EncodeOutputs(const std::string& input_file, const std::string& output_file) {
  return json{{"op", "outputs"}, {"input_file", input_file}, {"output_file", output_file}}.dump();
}

std::string EncodeTrain(int64_t steps, const std::string& input_file) {
  return json{{"op", "train"}, {"steps", steps}, {"input_file", input_file}}.dump();
}

std::string EncodeFit(const std::string& dataset, int64_t epochs) {
  return json{{"op", "fit"}, {"dataset", dataset}, {"epochs", epochs}}.dump();
}

std::string EncodeProbe(const ProbeRequest& req) {
  return json{{"op", "probe"}, {"device", req.device}, {"precision", req.precision},
              {"seconds", req.seconds}}
      .dump();
}

Reply<HelloReply> DecodeHello(std::string_view line) {
  auto j = ParseReply(line);
  if (!j) return std::unexpected(j.error());
  HelloReply r;
  r.protocol = static_cast<int>(Int(*j, "protocol"));
  r.worker = String(*j, "worker");
  r.framework = String(*j, "framework");
  const json& timer = Field(*j, "timer");
  if (!timer.is_object()) throw ProtocolError("\"timer\" is not an object");
  r.timer_overhead_ns = Int(timer, "overhead_ns");
  r.raw_json = j->dump();
  return r;
}

Reply<LoadReply> DecodeLoad(std::string_view line) {
  auto j = ParseReply(line);
  if (!j) return std::unexpected(j.error());
  LoadReply r;
  r.parameters = Int(*j, "parameters");
  r.flops_per_sample = Int(*j, "flops_per_sample");
  r.load_s = Number(*j, "load_s");
  r.compile_s = OptNumber(*j, "compile_s");
  r.first_call_s = Number(*j, "first_call_s");
  r.sync_overhead_ns = Int(*j, "sync_overhead_ns");
  const json& settings = Field(*j, "settings");
  if (!settings.is_object()) throw ProtocolError("\"settings\" is not an object");
  r.settings_json = settings.dump();
  r.peak_device_bytes = OptInt(*j, "peak_device_bytes");
  return r;
}

// A generation reply's per-call traces (prefill_ns, decode_ns), both or neither: one per call,
// every decode list of one length, every value a non-negative integer.
void DecodeTraces(const json& j, MeasureReply& r) {
  if (!j.contains("prefill_ns") && !j.contains("decode_ns")) return;
  auto nonneg = [](const json& v) { return v.is_number_integer() && v.get<int64_t>() >= 0; };
  const json& prefill = Field(j, "prefill_ns");
  const json& decode = Field(j, "decode_ns");
  auto calls = static_cast<size_t>(r.iterations * r.block);
  if (!prefill.is_array() || !decode.is_array() || prefill.size() != calls || decode.size() != calls) {
    throw ProtocolError(fmt::format("\"prefill_ns\" and \"decode_ns\" must be arrays of one entry per call ({})", calls));
  }
  for (size_t i = 0; i < calls; ++i) {
    const json& steps = decode[i];
    if (!nonneg(prefill[i]) || !steps.is_array() || !std::all_of(steps.begin(), steps.end(), nonneg)) {
      throw ProtocolError("\"prefill_ns\" or \"decode_ns\" holds a value that is not a non-negative integer");
    }
    if (steps.size() != decode[0].size()) {
      throw ProtocolError("\"decode_ns\" holds calls with different numbers of decode steps");
    }
    r.prefill_ns.push_back(prefill[i].get<int64_t>());
    r.decode_ns.push_back(steps.get<std::vector<int64_t>>());
  }
}

Reply<MeasureReply> DecodeMeasure(std::string_view line, Sync sync, int64_t block) {
  auto j = ParseReply(line);
  if (!j) return std::unexpected(j.error());
  MeasureReply r;
  if (sync == Sync::kEach) {
    const json& w = Field(*j, "wall_ns");
    if (!w.is_array()) throw ProtocolError("\"wall_ns\" is not an array");
    r.wall_ns.reserve(w.size());
    for (const auto& v : w) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0) {
        throw ProtocolError("\"wall_ns\" holds a value that is not a non-negative integer");
      }
      r.wall_ns.push_back(v.get<int64_t>());
    }
    r.iterations = static_cast<int64_t>(r.wall_ns.size());
    r.block = OptInt(*j, "block").value_or(1);
    if (r.block != block) {
      throw ProtocolError(fmt::format("asked for blocks of {} iterations, reply says {}", block, r.block));
    }
    DecodeTraces(*j, r);
  } else {
    r.window_ns = Int(*j, "window_ns");
    r.iterations = Int(*j, "iterations");
  }
  r.peak_device_bytes = OptInt(*j, "peak_device_bytes");
  r.peak_rss_bytes = OptInt(*j, "peak_rss_bytes");
  return r;
}

Reply<bool> DecodeBye(std::string_view line) {
  auto j = ParseReply(line);
  if (!j) return std::unexpected(j.error());
  return true;
}

Reply<SaveWeightsReply> DecodeSaveWeights(std::string_view line) {
  auto j = ParseReply(line);
  if (!j) return std::unexpected(j.error());
  return SaveWeightsReply{Int(*j, "tensors"), Int(*j, "bytes")};
}

Reply<OutputsReply> DecodeOutputs(std::string_view line) {
  auto j = ParseReply(line);
  if (!j) return std::unexpected(j.error());
  const json& shape = Field(*j, "shape");
  if (!shape.is_array()) throw ProtocolError("\"shape\" is not an array");
  OutputsReply r;
  for (const auto& d : shape) {
    if (!d.is_number_integer()) throw ProtocolError("\"shape\" holds a non-integer");
    r.shape.push_back(d.get<int64_t>());
  }
  return r;
}

Reply<TrainReply> DecodeTrain(std::string_view line) {
  auto j = ParseReply(line);
  if (!j) return std::unexpected(j.error());
  const json& losses = Field(*j, "losses");
  if (!losses.is_array()) throw ProtocolError("\"losses\" is not an array");
  TrainReply r;
  for (const auto& v : losses) {
    if (!v.is_number()) throw ProtocolError("\"losses\" holds a non-number");
    r.losses.push_back(v.get<double>());
  }
  return r;
}

Reply<FitReply> DecodeFit(std::string_view line) {
  auto j = ParseReply(line);
  if (!j) return std::unexpected(j.error());
  const json& epochs = Field(*j, "epochs");
  if (!epochs.is_array() || epochs.empty()) throw ProtocolError("\"epochs\" is not a non-empty array");
  FitReply r;
  for (const auto& e : epochs) {
    if (!e.is_object()) throw ProtocolError("\"epochs\" holds a non-object");
    result::EpochResult epoch;
    epoch.epoch_idx = static_cast<int64_t>(r.epochs.size());
    epoch.epoch_ns = Int(e, "epoch_ns");
    epoch.train_loss = Number(e, "train_loss");
    epoch.accuracy = Number(e, "accuracy");
    if (epoch.epoch_ns <= 0 || epoch.accuracy < 0 || epoch.accuracy > 1) {
      throw ProtocolError(fmt::format("epoch {}: epoch_ns must be > 0 and accuracy in [0, 1]",
                                      epoch.epoch_idx + 1));
    }
    r.epochs.push_back(epoch);
  }
  return r;
}

Reply<ProbeReply> DecodeProbe(std::string_view line) {
  auto j = ParseReply(line);
  if (!j) return std::unexpected(j.error());
  ProbeReply r;
  r.device = String(*j, "device");
  r.device_name = String(*j, "device_name");
  r.precision = String(*j, "precision");
  r.matmul_n = Int(*j, "matmul_n");
  r.matmul_calls = Int(*j, "matmul_calls");
  r.matmul_flops_per_s = Number(*j, "matmul_flops_per_s");
  r.copy_bytes = Int(*j, "copy_bytes");
  r.copy_calls = Int(*j, "copy_calls");
  r.copy_bytes_per_s = Number(*j, "copy_bytes_per_s");
  if (r.matmul_flops_per_s <= 0 || r.copy_bytes_per_s <= 0) {
    throw ProtocolError("probe figures must be positive");
  }
  return r;
}

plan::WorkerCapabilities DecodeCapabilities(std::string_view line) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::exception&) {  // parse_error, or out_of_range for a number like 1e9999
    throw ProtocolError(fmt::format("capabilities are not JSON: \"{}\"", Excerpt(line)));
  }
  if (!j.is_object()) {
    throw ProtocolError(fmt::format("capabilities are not a JSON object: \"{}\"", Excerpt(line)));
  }
  if (int64_t format = Int(j, "capabilities"); format != kCapabilitiesFormat) {
    throw ProtocolError(fmt::format("capabilities format {}, this dlbench reads {}", format,
                                    kCapabilitiesFormat));
  }
  if (int64_t protocol = Int(j, "protocol"); protocol != kProtocolVersion) {
    throw ProtocolError(fmt::format("worker speaks protocol {}, this dlbench speaks {}", protocol,
                                    kProtocolVersion));
  }
  auto strings = [&](const char* name) {
    const json& v = Field(j, name);
    std::vector<std::string> out;
    if (!v.is_array()) throw ProtocolError(fmt::format("\"{}\" is not an array of strings", name));
    for (const auto& item : v) {
      if (!item.is_string() || item.get<std::string>().empty()) {
        throw ProtocolError(fmt::format("\"{}\" is not an array of non-empty strings", name));
      }
      out.push_back(item.get<std::string>());
    }
    return out;
  };
  plan::WorkerCapabilities c;
  c.worker = String(j, "worker");
  c.framework = String(j, "framework");
  c.models = strings("models");
  c.precisions = strings("precisions");
  c.devices = strings("devices");
  c.workloads = strings("workloads");
  c.layouts = strings("layouts");
  c.options = strings("options");
  c.requests = strings("requests");
  const json& weights = Field(j, "canonical_weights");
  if (!weights.is_boolean()) throw ProtocolError("\"canonical_weights\" is not true or false");
  c.canonical_weights = weights.get<bool>();
  if (j.contains("datasets")) c.datasets = strings("datasets");  // absent: none
  if (j.contains("datasets_missing")) {
    const json& missing = j["datasets_missing"];
    if (!missing.is_object()) throw ProtocolError("\"datasets_missing\" is not an object");
    for (const auto& [name, why] : missing.items()) {
      if (!why.is_string()) throw ProtocolError("\"datasets_missing\" holds a non-string reason");
      c.datasets_missing[name] = why.get<std::string>();
    }
  }
  if (auto it = j.find("workload_models"); it != j.end()) {
    if (!it->is_object()) throw ProtocolError("\"workload_models\" is not an object");
    for (const auto& [workload, models] : it->items()) {
      if (std::find(c.workloads.begin(), c.workloads.end(), workload) == c.workloads.end()) {
        throw ProtocolError(fmt::format("\"workload_models\" names \"{}\", which is not in \"workloads\"", workload));
      }
      auto& list = c.workload_models[workload];
      for (const auto& m : models) {
        if (!m.is_string() || std::find(c.models.begin(), c.models.end(), m.get<std::string>()) == c.models.end()) {
          throw ProtocolError(fmt::format("\"workload_models\" names {}, which is not in \"models\"", m.dump()));
        }
        list.push_back(m.get<std::string>());
      }
    }
  }
  if (auto it = j.find("model_positions"); it != j.end()) {
    if (!it->is_object()) throw ProtocolError("\"model_positions\" is not an object");
    for (const auto& [model, n] : it->items()) {
      if (std::find(c.models.begin(), c.models.end(), model) == c.models.end()) {
        throw ProtocolError(fmt::format("\"model_positions\" names \"{}\", which is not in \"models\"", model));
      }
      if (!n.is_number_integer() || n.get<int64_t>() < 1) {
        throw ProtocolError(fmt::format("\"model_positions\" of \"{}\" is not a positive integer", model));
      }
      c.model_positions[model] = n.get<int64_t>();
    }
  }
  return c;
}

}  // namespace dlb::run
