#include "run/worker_client.h"

#include <fmt/format.h>

namespace dlb::run {
namespace {

// How long a worker that closed its reply stream may take to exit before it is killed.
constexpr std::chrono::seconds kExitGrace{5};

}  // namespace

std::string WorkerFault::Reason() const {
  switch (kind) {
    case Kind::kChannel: {
      std::string s = fmt::format("worker {}", channel ? ChannelFaultName(*channel) : std::string_view("failed"));
      if (!message.empty()) s += ": " + message;
      if (exit) s += fmt::format(" ({})", exit->Describe());
      return s;
    }
    case Kind::kProtocol:
      return fmt::format("worker broke the protocol: {}; killed", message);
    case Kind::kWorker:
      return fmt::format("{}: {}", error ? ErrorKindName(*error) : "error", message);
  }
  return message;
}

std::string WorkerFault::Describe() const { return request + ": " + Reason(); }

WorkerResult<WorkerClient> WorkerClient::Start(const std::vector<std::string>& argv,
                                               const std::vector<std::string>& env) {
  auto w = WorkerProcess::Start(argv, env);
  if (!w) {
    WorkerFault f;
    f.request = "start";
    f.channel = ChannelFault::kStartFailed;
    f.message = w.error();
    return std::unexpected(std::move(f));
  }
  return WorkerClient(std::move(*w));
}

template <typename T, typename Decode>
WorkerResult<T> WorkerClient::Call(const char* request, const std::string& line, Timeout timeout,
                                   Decode decode) {
  WorkerFault f;
  f.request = request;
  if (ended_) {
    f.channel = ChannelFault::kExited;
    f.message = "the worker has already ended";
    f.exit = exit_;
    return std::unexpected(std::move(f));
  }
  auto reply = process_.Call(line, timeout);
  if (!reply) {
    f.channel = reply.error();
    // A worker that closed its end is given time to exit before any kill: its launch prefix may
    // still be on its way out (exit status 127 for a missing program), and a SIGKILL sent in that
    // instant would be recorded as the cause.
    bool gone = reply.error() == ChannelFault::kExited || reply.error() == ChannelFault::kWriteFailed;
    exit_ = gone ? process_.Finish(kExitGrace) : process_.Kill();
    ended_ = true;
    f.exit = exit_;
    return std::unexpected(std::move(f));
  }
  try {
    Reply<T> decoded = decode(*reply);
    if (decoded) return std::move(*decoded);
    f.kind = WorkerFault::Kind::kWorker;
    f.error = decoded.error().kind;
    f.message = decoded.error().message;
    return std::unexpected(std::move(f));
  } catch (const ProtocolError& e) {
    f.kind = WorkerFault::Kind::kProtocol;
    f.message = e.what();
    f.exit = End();
    return std::unexpected(std::move(f));
  }
}

WorkerResult<HelloReply> WorkerClient::Hello(Timeout timeout) {
  return Call<HelloReply>("hello", EncodeHello(), timeout, [](std::string_view l) {
    auto r = DecodeHello(l);
    if (r && r->protocol != kProtocolVersion) {
      throw ProtocolError(fmt::format("worker speaks protocol {}, this dlbench speaks {}",
                                      r->protocol, kProtocolVersion));
    }
    return r;
  });
}

WorkerResult<LoadReply> WorkerClient::Load(const LoadRequest& req, Timeout timeout) {
  return Call<LoadReply>("load", EncodeLoad(req), timeout, DecodeLoad);
}

WorkerResult<MeasureReply> WorkerClient::Measure(const MeasureRequest& req, Timeout timeout) {
  return Call<MeasureReply>("measure", EncodeMeasure(req), timeout, [&](std::string_view l) {
    auto r = DecodeMeasure(l, req.sync, req.block);
    if (r && req.sync == Sync::kEach && static_cast<int64_t>(r->wall_ns.size()) != req.iterations) {
      throw ProtocolError(
          fmt::format("asked for {} samples, got {}", req.iterations, r->wall_ns.size()));
    }
    return r;
  });
}

WorkerResult<TrainReply> WorkerClient::Train(int64_t steps, const std::string& input_file,
                                             Timeout timeout) {
  return Call<TrainReply>("train", EncodeTrain(steps, input_file), timeout, [&](std::string_view l) {
    auto r = DecodeTrain(l);
    if (r && static_cast<int64_t>(r->losses.size()) != steps) {
      throw ProtocolError(fmt::format("asked for {} steps, got {} losses", steps, r->losses.size()));
    }
    return r;
  });
}

WorkerResult<FitReply> WorkerClient::Fit(const std::string& dataset, int64_t epochs,
                                         Timeout timeout) {
  return Call<FitReply>("fit", EncodeFit(dataset, epochs), timeout, [&](std::string_view l) {
    auto r = DecodeFit(l);
    if (r && static_cast<int64_t>(r->epochs.size()) != epochs) {
      throw ProtocolError(fmt::format("asked for {} epochs, got {}", epochs, r->epochs.size()));
    }
    return r;
  });
}

WorkerResult<OutputsReply> WorkerClient::Outputs(const std::string& input_file,
                                                 const std::string& output_file, Timeout timeout) {
  return Call<OutputsReply>("outputs", EncodeOutputs(input_file, output_file), timeout, DecodeOutputs);
}

WorkerResult<SaveWeightsReply> WorkerClient::SaveWeights(const std::string& file, Timeout timeout) {
  return Call<SaveWeightsReply>("save_weights", EncodeSaveWeights(file), timeout, DecodeSaveWeights);
}

WorkerResult<ProbeReply> WorkerClient::Probe(const ProbeRequest& req, Timeout timeout) {
  return Call<ProbeReply>("probe", EncodeProbe(req), timeout, DecodeProbe);
}

WorkerResult<ExitStatus> WorkerClient::Bye(Timeout timeout, Timeout grace) {
  auto r = Call<bool>("bye", EncodeBye(), timeout, DecodeBye);
  if (!r) {
    if (!ended_) End();  // an {"ok": false} to bye: the worker is not trusted to exit by itself
    r.error().exit = exit_;
    return std::unexpected(std::move(r.error()));
  }
  exit_ = process_.Finish(grace);
  ended_ = true;
  return *exit_;
}

ExitStatus WorkerClient::End() {
  if (!ended_) {
    exit_ = process_.Kill();
    ended_ = true;
  }
  return *exit_;
}

}  // namespace dlb::run
