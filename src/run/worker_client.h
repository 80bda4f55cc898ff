// One typed client for a worker conversation: each request of docs/protocol.md is a method that
// returns its decoded reply or one WorkerFault. run, validate, doctor and selftest all talk to
// workers through it, so a channel fault, a broken reply and an {"ok": false} are told apart in one
// place and a worker that broke the conversation is always ended (killed or reaped) by the client.
#pragma once

#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "run/protocol.h"
#include "run/worker.h"
#include "util/process.h"

namespace dlb::run {

struct WorkerFault {
  enum class Kind {
    kChannel,   // no reply: start failed, timeout, exit, Ctrl-C, write failure (channel says which)
    kProtocol,  // a reply that breaks the protocol; the client killed the worker
    kWorker,    // a well-formed {"ok": false}; the worker lives on
  };
  Kind kind = Kind::kChannel;
  std::string request;                  // "hello", "load", "measure", ...
  std::optional<ChannelFault> channel;  // kChannel
  std::optional<ErrorKind> error;       // kWorker
  std::string message;                  // the worker's message, or what broke
  std::optional<ExitStatus> exit;       // how the process ended, when the client ended it

  bool unsupported() const { return error == ErrorKind::kUnsupported; }
  // One line without the request: "unsupported: ..." / "worker timeout: ...".
  std::string Reason() const;
  // Reason() after the request: "load: unsupported: ...".
  std::string Describe() const;
};

template <typename T>
using WorkerResult = std::expected<T, WorkerFault>;

class WorkerClient {
 public:
  // Starts argv with env. A program that cannot be started is a kChannel fault (kStartFailed).
  static WorkerResult<WorkerClient> Start(const std::vector<std::string>& argv,
                                          const std::vector<std::string>& env);
  explicit WorkerClient(WorkerProcess process) : process_(std::move(process)) {}

  using Timeout = std::chrono::milliseconds;
  WorkerResult<HelloReply> Hello(Timeout timeout);  // also checks the protocol version
  WorkerResult<LoadReply> Load(const LoadRequest& req, Timeout timeout);
  WorkerResult<MeasureReply> Measure(const MeasureRequest& req, Timeout timeout);
  WorkerResult<TrainReply> Train(int64_t steps, const std::string& input_file, Timeout timeout);
  WorkerResult<FitReply> Fit(const std::string& dataset, int64_t epochs, Timeout timeout);
  WorkerResult<OutputsReply> Outputs(const std::string& input_file, const std::string& output_file,
                                     Timeout timeout);
  WorkerResult<SaveWeightsReply> SaveWeights(const std::string& file, Timeout timeout);
  WorkerResult<ProbeReply> Probe(const ProbeRequest& req, Timeout timeout);
  // bye and a clean exit within grace; a worker that does not answer or exit is killed.
  WorkerResult<ExitStatus> Bye(Timeout timeout, Timeout grace = std::chrono::seconds(5));

  // Ends the worker now (kill and reap); a no-op once ended. Returns how it ended.
  ExitStatus End();
  bool ended() const { return ended_; }
  const WorkerProcess& process() const { return process_; }

 private:
  template <typename T, typename Decode>
  WorkerResult<T> Call(const char* request, const std::string& line, Timeout timeout, Decode decode);

  WorkerProcess process_;
  bool ended_ = false;
  std::optional<ExitStatus> exit_;
};

}  // namespace dlb::run
