#include "probe/telemetry.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "util/strings.h"

namespace dlb::probe {
namespace {

std::optional<std::string> ReadLine(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  if (!f || !std::getline(f, line)) return std::nullopt;
  return std::string(Trim(line));
}

std::optional<uint64_t> ReadUint(const std::string& path) {
  auto line = ReadLine(path);
  if (!line) return std::nullopt;
  auto v = ParseInt(*line);
  if (!v || *v < 0) return std::nullopt;
  return static_cast<uint64_t>(*v);
}

// intel-rapl:0 is a package zone; intel-rapl:0:1 is a subzone (core, uncore, dram) inside it.
bool IsPackageZone(const std::string& name) {
  if (!StartsWith(name, "intel-rapl:")) return false;
  return name.find(':', 11) == std::string::npos;
}

}  // namespace

std::string PowercapRoot() {
  const char* env = std::getenv("DLBENCH_POWERCAP_ROOT");
  return env && *env ? env : "/sys/class/powercap";
}

std::optional<RaplReader> RaplReader::Open(const std::string& powercap_root, std::string* why) {
  DIR* dir = ::opendir(powercap_root.c_str());
  if (!dir) {
    *why = fmt::format("no {} (no RAPL driver, or not visible in this container)", powercap_root);
    return std::nullopt;
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    if (IsPackageZone(e->d_name)) names.emplace_back(e->d_name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    *why = fmt::format("no RAPL package zone (intel-rapl:N) under {}", powercap_root);
    return std::nullopt;
  }
  RaplReader r;
  for (const auto& name : names) {
    std::string base = powercap_root + "/" + name;
    Zone z;
    z.energy_path = base + "/energy_uj";
    auto now = ReadUint(z.energy_path);
    if (!now) {
      *why = fmt::format("{} is not readable (root only since Linux 5.10)", z.energy_path);
      return std::nullopt;
    }
    z.last_uj = *now;
    z.max_range_uj = ReadUint(base + "/max_energy_range_uj").value_or(0);
    r.zones_.push_back(z);
    r.names_.push_back(fmt::format("{} ({})", ReadLine(base + "/name").value_or("?"), name));
  }
  return r;
}

std::optional<double> RaplReader::ReadJ() {
  uint64_t total = 0;
  for (auto& z : zones_) {
    auto now = ReadUint(z.energy_path);
    if (!now) return std::nullopt;
    // A smaller value than last time is a wrap at max_energy_range_uj (the counter's range).
    uint64_t delta = *now >= z.last_uj ? *now - z.last_uj
                     : z.max_range_uj > z.last_uj ? z.max_range_uj - z.last_uj + *now + 1
                                                  : *now;
    z.accumulated_uj += delta;
    z.last_uj = *now;
    total += z.accumulated_uj;
  }
  return static_cast<double>(total) * 1e-6;
}

std::optional<int64_t> ProcessRssBytes(pid_t pid) {
  std::ifstream f(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (f && std::getline(f, line)) {
    if (!StartsWith(line, "VmRSS:")) continue;
    auto kb = ParseInt(Trim(std::string_view(line).substr(6, line.size() - 6 - 3)));
    if (kb) return *kb * 1024;
  }
  return std::nullopt;
}

TelemetrySampler::TelemetrySampler(const TelemetryConfig& config) : config_(config) {
  if (config_.gpu_index) {
    std::string why;
    gpu_ = GpuTelemetry::Open(*config_.gpu_index, &why);
    gpu_source_ = gpu_ ? "nvml" : "unavailable: " + why;
    if (gpu_) {
      GpuReading first = gpu_->Read(-1);
      gpu_energy_base_mj_ = first.energy_mj;
      gpu_has_energy_counter_ = first.energy_mj.has_value();
    }
  } else {
    gpu_source_ = "unavailable: " + config_.no_gpu_reason;
  }
  std::string why;
  rapl_ = RaplReader::Open(config_.powercap_root, &why);
  cpu_source_ = rapl_ ? "rapl: " + Join(rapl_->zones(), ", ") : "unavailable: " + why;
}

TelemetrySampler::~TelemetrySampler() { Stop(); }

const std::string& TelemetrySampler::gpu_name() const {
  static const std::string kNone;
  return gpu_ ? gpu_->name() : kNone;
}

void TelemetrySampler::Start(pid_t worker_pid) {
  {
    std::lock_guard lock(mu_);
    pid_ = worker_pid;
  }
  if (config_.interval_s > 0 && !thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void TelemetrySampler::SetPhase(const std::string& phase) {
  std::lock_guard lock(mu_);
  phase_ = phase;
}

TelemetrySample TelemetrySampler::ReadLocked() {
  TelemetrySample s;
  s.t_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0_)
               .count();
  s.phase = phase_;
  if (gpu_) {
    // The worker runs as the leader of its own process group (util/process.h): its pid is the pgid.
    s.gpu = gpu_->Read(pid_);
    if (s.gpu.energy_mj && gpu_energy_base_mj_) {
      s.gpu_energy_j = static_cast<double>(*s.gpu.energy_mj - *gpu_energy_base_mj_) * 1e-3;
    }
  }
  if (rapl_) s.cpu_energy_j = rapl_->ReadJ();
  if (pid_ > 0) s.rss_bytes = ProcessRssBytes(pid_);
  series_.push_back(s);
  return s;
}

TelemetrySample TelemetrySampler::SampleNow() {
  std::lock_guard lock(mu_);
  return ReadLocked();
}

void TelemetrySampler::Loop() {
  auto interval = std::chrono::duration<double>(config_.interval_s);
  auto next = std::chrono::steady_clock::now();
  while (!stop_.load()) {
    {
      std::lock_guard lock(mu_);
      ReadLocked();
    }
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
    std::unique_lock lock(wake_mu_);
    wake_.wait_until(lock, next, [this] { return stop_.load(); });
  }
}

void TelemetrySampler::Stop() {
  {
    std::lock_guard lock(wake_mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<TelemetrySample> TelemetrySampler::Series() const {
  std::lock_guard lock(mu_);
  return series_;
}

}  // namespace dlb::probe
