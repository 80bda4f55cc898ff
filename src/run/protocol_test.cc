// Replays the golden transcripts shared with the Python worker's tests (tests/protocol/): the C++
// encoder must produce exactly the transcript's requests, the decoder must read every reply, and
// malformed replies must be rejected with a message naming the problem.
#include "run/protocol.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace dlb::run {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kDir = fs::path(DLBENCH_SOURCE_DIR) / "tests" / "protocol";

std::vector<json> ReadLines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

std::string Encode(const json& req) {
  std::string op = req["op"];
  if (op == "hello") return EncodeHello();
  if (op == "bye") return EncodeBye();
  if (op == "save_weights") return EncodeSaveWeights(req["file"]);
  if (op == "outputs") return EncodeOutputs(req["input_file"], req["output_file"]);
  if (op == "train") return EncodeTrain(req["steps"].get<int64_t>(), req["input_file"]);
  if (op == "fit") return EncodeFit(req["dataset"], req["epochs"].get<int64_t>());
  if (op == "measure") {
    return EncodeMeasure({req["iterations"].get<int64_t>(),
                          req["sync"] == "each" ? Sync::kEach : Sync::kWindow,
                          req.value("block", int64_t{1})});
  }
  LoadRequest l{req["model"], req["batch"], req["precision"], req["device"], req["mode"],
                req["layout"], req["seed"], req["options"].dump(), std::nullopt, std::nullopt};
  if (req.contains("weights")) l.weights = req["weights"].get<std::string>();
  if (req.contains("process_index")) l.process_index = req["process_index"].get<int>();
  return EncodeLoad(l);
}

void CheckReply(const json& req, const json& reply) {
  std::string line = reply.dump();
  std::string op = req["op"];
  bool ok = reply["ok"];
  if (op == "hello") {
    auto r = DecodeHello(line);
    ASSERT_EQ(r.has_value(), ok);
    if (ok) {
      EXPECT_EQ(r->protocol, reply["protocol"]);
      EXPECT_EQ(r->worker, reply["worker"]);
      EXPECT_EQ(json::parse(r->raw_json), reply);
    }
  } else if (op == "load") {
    auto r = DecodeLoad(line);
    ASSERT_EQ(r.has_value(), ok);
    if (ok) {
      EXPECT_EQ(r->parameters, reply["parameters"]);
      EXPECT_EQ(r->flops_per_sample, reply["flops_per_sample"]);
      EXPECT_EQ(json::parse(r->settings_json), reply["settings"]);
      EXPECT_EQ(r->compile_s.has_value(), !reply["compile_s"].is_null());
    } else {
      EXPECT_EQ(ErrorKindName(r.error().kind), reply["error"]["kind"].get<std::string>());
      EXPECT_EQ(r.error().message, reply["error"]["message"]);
    }
  } else if (op == "measure") {
    Sync sync = req["sync"] == "each" ? Sync::kEach : Sync::kWindow;
    auto r = DecodeMeasure(line, sync, req.value("block", int64_t{1}));
    ASSERT_EQ(r.has_value(), ok);
    if (ok && sync == Sync::kEach) {
      EXPECT_EQ(json(r->wall_ns), reply["wall_ns"]);
      EXPECT_EQ(json(r->prefill_ns), reply.value("prefill_ns", json::array()));
      EXPECT_EQ(json(r->decode_ns), reply.value("decode_ns", json::array()));
    }
    if (ok && sync == Sync::kWindow) {
      EXPECT_EQ(r->window_ns, reply["window_ns"]);
    }
  } else if (op == "save_weights") {
    auto r = DecodeSaveWeights(line);
    ASSERT_EQ(r.has_value(), ok);
    if (ok) {
      EXPECT_EQ(r->tensors, reply["tensors"]);
    }
  } else if (op == "outputs") {
    auto r = DecodeOutputs(line);
    ASSERT_EQ(r.has_value(), ok);
    if (ok) {
      EXPECT_EQ(nlohmann::json(r->shape), reply["shape"]);
    }
  } else if (op == "train") {
    auto r = DecodeTrain(line);
    ASSERT_EQ(r.has_value(), ok);
    if (ok) {
      EXPECT_EQ(json(r->losses), reply["losses"]);
    }
  } else if (op == "fit") {
    auto r = DecodeFit(line);
    ASSERT_EQ(r.has_value(), ok);
    if (ok) {
      ASSERT_EQ(r->epochs.size(), reply["epochs"].size());
      for (size_t i = 0; i < r->epochs.size(); ++i) {
        EXPECT_EQ(r->epochs[i].epoch_idx, static_cast<int64_t>(i));
        EXPECT_EQ(r->epochs[i].epoch_ns, reply["epochs"][i]["epoch_ns"]);
        EXPECT_EQ(r->epochs[i].accuracy, reply["epochs"][i]["accuracy"]);
      }
    } else {
      EXPECT_EQ(r.error().message, reply["error"]["message"]);
    }
  } else {
    EXPECT_EQ(DecodeBye(line).has_value(), ok);
  }
}

TEST(Protocol, ReplaysValidTranscripts) {
  int files = 0;
  for (const auto& entry : fs::directory_iterator(kDir)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("valid_", 0) != 0) continue;
    ++files;
    for (const json& ex : ReadLines(entry.path())) {
      SCOPED_TRACE(name + ": " + ex["request"].dump());
      EXPECT_EQ(json::parse(Encode(ex["request"])), ex["request"]);
      CheckReply(ex["request"], ex["reply"]);
    }
  }
  EXPECT_GE(files, 2);
}

TEST(Protocol, RejectsInvalidReplies) {
  auto cases = ReadLines(kDir / "invalid_replies.jsonl");
  ASSERT_FALSE(cases.empty());
  for (const json& c : cases) {
    std::string op = c["op"], line = c["line"], want = c["error"];
    SCOPED_TRACE(line);
    try {
      if (op == "hello") (void)DecodeHello(line);
      if (op == "load") (void)DecodeLoad(line);
      if (op == "measure") (void)DecodeMeasure(line, Sync::kEach);
      if (op == "train") (void)DecodeTrain(line);
      if (op == "fit") (void)DecodeFit(line);
      FAIL() << "accepted";
    } catch (const ProtocolError& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  }
}

TEST(Protocol, ErrorKindTableRoundTrips) {
  for (const auto& [kind, name] : kErrorKindNames) {
    EXPECT_EQ(ParseErrorKind(name), kind);
    EXPECT_EQ(ErrorKindName(kind), name);
  }
  EXPECT_FALSE(ParseErrorKind("exploded"));
}

// The --capabilities lines the Python workers print (the worker tests pin them to this file).
TEST(Capabilities, GoldenLinesDecode) {
  auto lines = ReadLines(kDir / "capabilities.jsonl");
  ASSERT_EQ(lines.size(), 4u);
  for (const auto& line : lines) {
    plan::WorkerCapabilities c = DecodeCapabilities(line.dump());
    EXPECT_EQ(c.worker, line["worker"].get<std::string>());
    EXPECT_EQ(c.models, line["models"].get<std::vector<std::string>>());
    EXPECT_EQ(c.layouts, line["layouts"].get<std::vector<std::string>>());
    EXPECT_EQ(c.canonical_weights, line["canonical_weights"].get<bool>());
    EXPECT_EQ(c.datasets, line["datasets"].get<std::vector<std::string>>());
    EXPECT_TRUE(c.datasets_missing.empty());
    EXPECT_EQ(c.CanValidate("inference"), c.worker == "torch" || c.worker == "jax");
    EXPECT_EQ(c.CanValidate("generation"), c.worker != "synthetic");
    if (c.worker == "torch") {
      EXPECT_TRUE(c.Runs("resnet18", "training"));
      EXPECT_FALSE(c.Runs("resnet18", "generation"));
      EXPECT_TRUE(c.Runs("llama-tiny", "generation"));
      EXPECT_FALSE(c.Runs("llama-tiny", "inference"));
    }
    if (c.worker == "synthetic") {
      EXPECT_TRUE(c.Runs("synthetic", "generation"));
    }
  }
}

TEST(Capabilities, MalformedLinesAreProtocolErrors) {
  json good = ReadLines(kDir / "capabilities.jsonl")[0];
  auto error = [](const json& j) -> std::string {
    try {
      DecodeCapabilities(j.dump());
    } catch (const ProtocolError& e) {
      return e.what();
    }
    return "no error";
  };
  json j = good;
  j["capabilities"] = 2;
  EXPECT_EQ(error(j), "capabilities format 2, this dlbench reads 1");
  j = good;
  j["protocol"] = 3;
  EXPECT_EQ(error(j), "worker speaks protocol 3, this dlbench speaks 1");
  j = good;
  j["models"] = "resnet18";
  EXPECT_EQ(error(j), "\"models\" is not an array of strings");
  j = good;
  j.erase("layouts");
  EXPECT_EQ(error(j), "reply lacks \"layouts\"");
  j = good;
  j["workload_models"] = {{"generation", {"gpt-5"}}};
  EXPECT_EQ(error(j), "\"workload_models\" names \"gpt-5\", which is not in \"models\"");
  j["workload_models"] = {{"serving", {"resnet18"}}};
  EXPECT_EQ(error(j), "\"workload_models\" names \"serving\", which is not in \"workloads\"");
  j = good;
  j["model_positions"] = {{"gpt-5", 2048}};
  EXPECT_EQ(error(j), "\"model_positions\" names \"gpt-5\", which is not in \"models\"");
  j["model_positions"] = {{"llama-tiny", 0}};
  EXPECT_EQ(error(j), "\"model_positions\" of \"llama-tiny\" is not a positive integer");
  EXPECT_THROW(DecodeCapabilities("torch: resnet18"), ProtocolError);
}

}  // namespace
}  // namespace dlb::run
