// The controller's half of the worker protocol (docs/protocol.md): the only C++ code that encodes
// requests or decodes replies. The Python half is workers/python/dlbench_worker/protocol.py; both
// replay tests/protocol/*.jsonl.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plan/registry.h"
#include "result/measurement.h"

namespace dlb::run {

inline constexpr int kProtocolVersion = 1;

enum class ErrorKind { kUnsupported, kOutOfMemory, kCompileFailed, kRuntime, kBadRequest };

inline constexpr std::pair<ErrorKind, std::string_view> kErrorKindNames[] = {
    {ErrorKind::kUnsupported, "unsupported"},
    {ErrorKind::kOutOfMemory, "out_of_memory"},
    {ErrorKind::kCompileFailed, "compile_failed"},
    {ErrorKind::kRuntime, "runtime"},
    {ErrorKind::kBadRequest, "bad_request"},
};

std::string_view ErrorKindName(ErrorKind kind);
std::optional<ErrorKind> ParseErrorKind(std::string_view name);

// A reply that breaks the protocol: not JSON, a missing or mistyped field. The repetition fails.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A well-formed {"ok": false} reply.
struct WorkerFailure {
  ErrorKind kind;
  std::string message;
};

template <typename T>
using Reply = std::expected<T, WorkerFailure>;

struct LoadRequest {
  std::string model;
  int batch = 1;
  std::string precision, device, mode, layout;
  int64_t seed = 0;
  std::string options_json = "{}";
  std::optional<std::string> weights;  // canonical-layout safetensors file; sent only when set
  std::optional<int> process_index;    // the process's position in the run's order; sent only when set
};

enum class Sync { kEach, kWindow };

struct MeasureRequest {
  int64_t iterations = 1;
  Sync sync = Sync::kEach;
  int64_t block = 1;  // sync each: each sample times this many iterations; sent only when > 1
};

std::string EncodeHello();
std::string EncodeLoad(const LoadRequest& req);
std::string EncodeMeasure(const MeasureRequest& req);
std::string EncodeBye();
std::string EncodeSaveWeights(const std::string& file);
std::string EncodeOutputs(const std::string& input_file, const std::string& output_file);
// `train` (training loads only): `steps` optimizer steps on the batch in `input_file`, with the
// fixed labels of docs/protocol.md; the reply holds the loss of each step.
std::string EncodeTrain(int64_t steps, const std::string& input_file);
// `fit` (training loads only): `epochs` epochs over a real dataset from the load's initial weights;
// the reply holds each epoch's time, mean loss and held-out accuracy.
std::string EncodeFit(const std::string& dataset, int64_t epochs);

// `probe`: the device's dense matmul FLOP/s and copy bandwidth through the framework.
struct ProbeRequest {
  std::string device;     // cpu, cuda, cuda:N
  std::string precision;  // fp32, tf32, bf16, fp16
  double seconds = 2;     // split between the matmul and the copy
};
std::string EncodeProbe(const ProbeRequest& req);

struct HelloReply {
  int protocol = 0;
  std::string worker, framework;
  int64_t timer_overhead_ns = 0;
  std::string raw_json;  // the whole reply, stored with the repetition
};

struct LoadReply {
  int64_t parameters = 0;
  int64_t flops_per_sample = 0;
  double load_s = 0;
  std::optional<double> compile_s;
  double first_call_s = 0;
  int64_t sync_overhead_ns = 0;
  std::string settings_json = "{}";
  std::optional<int64_t> peak_device_bytes;
};

struct MeasureReply {
  std::vector<int64_t> wall_ns;  // sync "each": per sample, i.e. per block of `block` iterations
  int64_t block = 1;
  int64_t window_ns = 0;         // sync "window"
  int64_t iterations = 0;
  // A generation load's sync "each" reply: per call (wall_ns.size() x block calls, in order), the
  // prefill's ns and each decode step's ns, every call with the same number of steps. Empty for
  // other loads and for windows.
  std::vector<int64_t> prefill_ns;
  std::vector<std::vector<int64_t>> decode_ns;
  std::optional<int64_t> peak_device_bytes;
  std::optional<int64_t> peak_rss_bytes;
};

// Each throws ProtocolError for a malformed reply and returns WorkerFailure for {"ok": false}.
Reply<HelloReply> DecodeHello(std::string_view line);
Reply<LoadReply> DecodeLoad(std::string_view line);
Reply<MeasureReply> DecodeMeasure(std::string_view line, Sync sync, int64_t block = 1);
Reply<bool> DecodeBye(std::string_view line);

struct SaveWeightsReply {
  int64_t tensors = 0;
  int64_t bytes = 0;
};
Reply<SaveWeightsReply> DecodeSaveWeights(std::string_view line);

struct OutputsReply {
  std::vector<int64_t> shape;
};
Reply<OutputsReply> DecodeOutputs(std::string_view line);

struct TrainReply {
  std::vector<double> losses;  // one per step, all finite
};
Reply<TrainReply> DecodeTrain(std::string_view line);

struct FitReply {
  std::vector<result::EpochResult> epochs;  // in order, at least one
};
Reply<FitReply> DecodeFit(std::string_view line);

struct ProbeReply {
  std::string device, device_name, precision;
  int64_t matmul_n = 0, matmul_calls = 0, copy_bytes = 0, copy_calls = 0;
  double matmul_flops_per_s = 0, copy_bytes_per_s = 0;
};
Reply<ProbeReply> DecodeProbe(std::string_view line);

// The line `WORKER-ARGV --capabilities` prints (docs/protocol.md, "Capabilities"); not a reply, so
// it has no `ok`. Throws ProtocolError when it is malformed, of another format version, or of
// another protocol version.
inline constexpr int kCapabilitiesFormat = 1;
plan::WorkerCapabilities DecodeCapabilities(std::string_view line);

}  // namespace dlb::run
