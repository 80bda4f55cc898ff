// dlbench doctor: what this machine is and whether each worker starts, with which framework
// versions and devices. Run it first on a new node; it changes nothing.
#include <fmt/format.h>

#include <chrono>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "analysis/peaks.h"
#include "cli/common.h"
#include "probe/contention.h"
#include "probe/host.h"
#include "probe/nvml.h"
#include "run/protocol.h"
#include "run/repetition.h"
#include "run/worker_client.h"
#include "util/process.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

using nlohmann::json;

struct DoctorOptions {
  std::string python;
  bool json_output = false;
  double timeout_s = 180;
  bool probe = false;                  // measure matmul FLOP/s and copy bandwidth per device
  double probe_seconds = 2;
  std::vector<std::string> probe_precisions;  // default: fp32, bf16, and tf32 on cuda
};

// The table's peak for a probe's device and math, as "72.1% of H100 SXM5 80GB's 989.4 TFLOP/s".
json PeakFields(const run::ProbeReply& r) {
  json out = json::object();
  const analysis::DevicePeak* peak = analysis::FindDevicePeak(r.device_name);
  if (!peak) return out;
  out["peak_name"] = peak->name;
  if (auto flops = analysis::PeakFlops(*peak, r.precision)) out["peak_flops_per_s"] = *flops;
  out["peak_bytes_per_s"] = peak->memory_gbps * 1e9;
  return out;
}

// After hello: `probe` for each of the worker's devices and each precision; unsupported
// combinations (tf32 on the CPU) are recorded with the worker's reason.
json RunProbes(run::WorkerClient& worker, const json& hello, const DoctorOptions& o) {
  json out = json::array();
  for (const auto& d : hello["devices"]) {
    std::string device = d.value("id", "");
    std::vector<std::string> precisions = o.probe_precisions;
    if (precisions.empty()) {
      precisions = {"fp32", "bf16"};
      if (device != "cpu") precisions.insert(precisions.begin() + 1, "tf32");
    }
    for (const auto& precision : precisions) {
      json p = {{"device", device}, {"precision", precision}};
      auto reply = worker.Probe({device, precision, o.probe_seconds},
                                std::chrono::milliseconds(static_cast<int64_t>((o.probe_seconds + o.timeout_s) * 1000)));
      if (!reply) {
        p["ok"] = false;
        p["error"] = reply.error().Reason();  // printed after "probe DEVICE PRECISION"
        out.push_back(p);
        if (worker.ended()) return out;  // the worker is gone
        continue;
      }
      p["ok"] = true;
      p["device_name"] = reply->device_name;
      p["matmul_n"] = reply->matmul_n;
      p["matmul_calls"] = reply->matmul_calls;
      p["matmul_flops_per_s"] = reply->matmul_flops_per_s;
      p["copy_bytes"] = reply->copy_bytes;
      p["copy_calls"] = reply->copy_calls;
      p["copy_bytes_per_s"] = reply->copy_bytes_per_s;
      p.update(PeakFields(*reply));
      out.push_back(p);
    }
  }
  return out;
}

// Starts one worker, asks hello, says bye. Returns the hello reply or the reason it failed.
json ProbeWorker(const std::string& name, const LaunchChoice& launch, const DoctorOptions& o) {
  json out = {{"worker", name}};
  auto worker = run::WorkerClient::Start(run::WorkerCommand(launch.launch, name),
                                         run::WorkerBaseEnvironment(launch.launch));
  if (!worker) {
    out["ok"] = false;
    out["error"] = worker.error().message;
    return out;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto hello = worker->Hello(std::chrono::milliseconds(static_cast<int64_t>(o.timeout_s * 1000)));
  double start_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!hello) {
    out["ok"] = false;
    out["error"] = hello.error().Describe();
    if (worker->ended()) out["error"] = fmt::format("{}; {}", hello.error().Describe(),
                                                    std::string(Trim(worker->process().Log(4096))));
    worker->End();
    return out;
  }
  out["ok"] = true;
  out["start_s"] = start_s;
  out["hello"] = json::parse(hello->raw_json);
  if (o.probe && hello->framework != "synthetic") out["probes"] = RunProbes(*worker, out["hello"], o);
  if (!worker->ended()) (void)worker->Bye(std::chrono::seconds(10));
  return out;
}

void PrintHuman(const json& report) {
  const auto& h = report["host"];
  fmt::print("host\n");
  fmt::print("  name        {} (kernel {})\n", h["hostname"].get<std::string>(), h["kernel"].get<std::string>());
  fmt::print("  cpu         {}\n", h["cpu_model"].get<std::string>());
  fmt::print("  cores       {} logical, {} allowed to this process\n", h["logical_cpus"].get<int>(), h["allowed_cpus"].size());
  fmt::print("  isa         {}\n", h["isa_flags"].empty() ? "-" : Join(h["isa_flags"].get<std::vector<std::string>>(), " "));
  fmt::print("  memory      {}\n", h["memory_bytes"].is_null() ? "unknown" : FormatBytes(h["memory_bytes"].get<double>()));
  fmt::print("  governor    {}\n", h["governor"].is_null() ? "not readable" : h["governor"].get<std::string>());
  fmt::print("  turbo       {}\n", h["turbo"].is_null() ? "not readable" : (h["turbo"].get<bool>() ? "on" : "off"));
  fmt::print("  aslr        {}\n", h["aslr"].is_null() ? "not readable" : std::to_string(h["aslr"].get<int>()));
  for (const auto& w : report["warnings"]) fmt::print("  warning: {}\n", w.get<std::string>());
  const auto& g = report["gpus"];
  fmt::print("gpus\n");
  if (g["devices"].empty()) {
    fmt::print("  none: {}\n", g["why_none"].get<std::string>());
  } else {
    fmt::print("  driver {}\n", g["driver_version"].get<std::string>());
    for (const auto& d : g["devices"]) {
      fmt::print("  cuda:{}  {}  {}\n", d["index"].get<int>(), d["name"].get<std::string>(),
                 FormatBytes(d["memory_total_bytes"].get<double>()));
    }
  }
  const auto& p = report["python"];
  fmt::print("python\n  {} (from {})\n  workers from {} ({})\n", p["python"].get<std::string>(),
             p["python_source"].get<std::string>(), p["workers_dir"].get<std::string>(),
             p["workers_source"].get<std::string>());
  fmt::print("workers\n");
  for (const auto& w : report["workers"]) {
    std::string name = w["worker"].get<std::string>();
    if (!w["ok"].get<bool>()) {
      fmt::print("  {:10} FAILED: {}\n", name, w["error"].get<std::string>());
      continue;
    }
    const auto& hello = w["hello"];
    std::vector<std::string> versions, devices;
    for (const auto& [k, v] : hello["versions"].items()) versions.push_back(k + " " + v.get<std::string>());
    for (const auto& d : hello["devices"]) devices.push_back(d["id"].get<std::string>());
    fmt::print("  {:10} ok in {:.2f} s: {}; devices: {}; timer overhead {} ns\n", name,
               w["start_s"].get<double>(), Join(versions, ", "), Join(devices, ", "),
               hello["timer"]["overhead_ns"].get<int64_t>());
    if (!w.contains("probes")) continue;
    for (const auto& p : w["probes"]) {
      std::string what = fmt::format("    probe {} {}", p["device"].get<std::string>(), p["precision"].get<std::string>());
      if (!p["ok"].get<bool>()) {
        fmt::print("{}: {}\n", what, p["error"].get<std::string>());
        continue;
      }
      double flops = p["matmul_flops_per_s"].get<double>(), bw = p["copy_bytes_per_s"].get<double>();
      std::string peak_f, peak_b;
      if (p.contains("peak_flops_per_s")) {
        peak_f = fmt::format(" = {:.1f}% of {}'s {:.4g} TFLOP/s", 100 * flops / p["peak_flops_per_s"].get<double>(),
                             p["peak_name"].get<std::string>(), p["peak_flops_per_s"].get<double>() / 1e12);
      }
      if (p.contains("peak_bytes_per_s")) {
        peak_b = fmt::format(" = {:.1f}% of {:.4g} GB/s", 100 * bw / p["peak_bytes_per_s"].get<double>(),
                             p["peak_bytes_per_s"].get<double>() / 1e9);
      }
      fmt::print("{}: matmul {:.4g} TFLOP/s (N={}, median of {} calls){}; copy {:.4g} GB/s "
                 "({} per call){}\n",
                 what, flops / 1e12, p["matmul_n"].get<int64_t>(), p["matmul_calls"].get<int64_t>(), peak_f,
                 bw / 1e9, FormatBytes(p["copy_bytes"].get<double>()), peak_b);
    }
  }
}

// How long doctor and run watch the machine for other processes before they start.
constexpr double kBusySampleS = 0.5;

ExitCode Doctor(const DoctorOptions& o) {
  LaunchChoice launch = ChooseLaunch(o.python);
  probe::HostFacts host = probe::ReadHostFacts();
  probe::GpuProbe gpus = probe::ProbeGpus();
  json report;
  report["host"] = json::parse(probe::HostFactsJson(host));
  report["warnings"] = probe::HostWarnings(host);
  if (auto busy = probe::SampleMachineBusy(kBusySampleS)) {
    report["busy"] = {{"other_cpu_frac", busy->busy_frac}, {"load_avg_1m", busy->load_avg_1m},
                      {"cpus", busy->cpus}, {"sample_s", kBusySampleS}};
    if (auto w = probe::BusyMachineWarning(*busy, kBusySampleS); !w.empty()) {
      report["warnings"].push_back(w);
    }
  }
  json devices = json::array();
  for (const auto& d : gpus.gpus) {
    devices.push_back({{"index", d.index}, {"name", d.name}, {"uuid", d.uuid},
                       {"memory_total_bytes", d.memory_total_bytes}});
  }
  report["gpus"] = {{"nvml_available", gpus.nvml_available}, {"driver_version", gpus.driver_version},
                    {"why_none", gpus.why_none}, {"devices", devices}};
  report["python"] = {{"python", launch.launch.python}, {"python_source", launch.python_source},
                      {"workers_dir", launch.launch.workers_dir},
                      {"workers_source", launch.workers_source}};
  bool all_ok = true;
  report["workers"] = json::array();
  for (const auto& name : launch.launch.workers.Names()) {
    json w = ProbeWorker(name, launch, o);
    all_ok = all_ok && w["ok"].get<bool>();
    report["workers"].push_back(std::move(w));
  }
  if (o.json_output) {
    fmt::print("{}\n", report.dump(2, ' ', false, json::error_handler_t::replace));
  } else {
    PrintHuman(report);
  }
  return all_ok ? ExitCode::kDone : ExitCode::kSomeFailed;
}

}  // namespace

void AddDoctorCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand(
      "doctor", "Describe this host and GPUs, and check that every worker starts (framework versions, devices)");
  auto o = std::make_shared<DoctorOptions>();
  cmd->add_option("--python", o->python,
                  "Python interpreter that has the frameworks (default: $DLBENCH_PYTHON, then the "
                  "source tree's .venv, then python3)");
  cmd->add_flag("--json", o->json_output, "machine-readable output");
  cmd->add_option("--timeout", o->timeout_s, "seconds to wait for each worker to start")
      ->capture_default_str();
  cmd->add_flag("--probe", o->probe,
                "measure dense matmul FLOP/s and copy bandwidth on every device through each "
                "framework worker, against the datasheet peak (docs/peaks.md)");
  cmd->add_option("--probe-seconds", o->probe_seconds, "seconds per probe (half matmul, half copy)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 600.0));
  cmd->add_option("--probe-precision", o->probe_precisions,
                  "precisions to probe: fp32, tf32, bf16, fp16 (default fp32, bf16, and tf32 on cuda)")
      ->check(CLI::IsMember({"fp32", "tf32", "bf16", "fp16"}));
  cmd->callback([o, &result] { result = Doctor(*o); });
}

}  // namespace dlb::cli
