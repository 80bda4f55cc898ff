#include "probe/nvml.h"

#include <dlfcn.h>
#include <unistd.h>

#include <fmt/format.h>

#include "util/strings.h"

namespace dlb::probe {
namespace {

// NVML API (nvml.h of CUDA 12/13, read 2026-11): return codes are ints, 0 = NVML_SUCCESS.
using nvmlDevice_t = void*;
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
constexpr unsigned long long kNvmlValueNotAvailable = ~0ULL;
constexpr int kNvmlTemperatureGpu = 0;
constexpr int kNvmlClockSm = 1, kNvmlClockMem = 2;

using InitFn = int (*)();
using ShutdownFn = int (*)();
using CountFn = int (*)(unsigned int*);
using HandleFn = int (*)(unsigned int, nvmlDevice_t*);
using NameFn = int (*)(nvmlDevice_t, char*, unsigned int);
using MemoryFn = int (*)(nvmlDevice_t, nvmlMemory_t*);
using DriverFn = int (*)(char*, unsigned int);
using TemperatureFn = int (*)(nvmlDevice_t, int, unsigned int*);
using ReasonsFn = int (*)(nvmlDevice_t, unsigned long long*);

class Library {
 public:
  Library() : handle_(dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL)) {
    if (!handle_) {
      const char* err = dlerror();
      error_ = err ? err : "libnvidia-ml.so.1";
    }
  }
  ~Library() {
    if (handle_) dlclose(handle_);
  }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  explicit operator bool() const { return handle_ != nullptr; }
  const std::string& error() const { return error_; }
  template <typename F>
  F Get(const char* name) const {
    return handle_ ? reinterpret_cast<F>(dlsym(handle_, name)) : nullptr;
  }

 private:
  void* handle_;
  std::string error_;
};

// NVML loaded and initialised once; it stays initialised for the life of the process.
struct Nvml {
  Library lib;
  HandleFn handle = lib.Get<HandleFn>("nvmlDeviceGetHandleByIndex_v2");
  NameFn name = lib.Get<NameFn>("nvmlDeviceGetName");
  TemperatureFn temperature = lib.Get<TemperatureFn>("nvmlDeviceGetTemperature");
  NvmlReadFunctions read{
      lib.Get<decltype(NvmlReadFunctions::energy)>("nvmlDeviceGetTotalEnergyConsumption"),
      lib.Get<decltype(NvmlReadFunctions::power)>("nvmlDeviceGetPowerUsage"),
      temperature,
      lib.Get<decltype(NvmlReadFunctions::clock)>("nvmlDeviceGetClockInfo"),
      // Renamed in CUDA 12.2 (clocks "event" reasons); the old name is kept by newer drivers.
      lib.Get<ReasonsFn>("nvmlDeviceGetCurrentClocksEventReasons")
          ? lib.Get<ReasonsFn>("nvmlDeviceGetCurrentClocksEventReasons")
          : lib.Get<ReasonsFn>("nvmlDeviceGetCurrentClocksThrottleReasons"),
      lib.Get<decltype(NvmlReadFunctions::utilization)>("nvmlDeviceGetUtilizationRates"),
      lib.Get<decltype(NvmlReadFunctions::processes)>("nvmlDeviceGetComputeRunningProcesses_v3")};
  std::string why_not;
  bool ok = false;

  Nvml() {
    if (!lib) {
      why_not = fmt::format("NVML not found ({})", lib.error());
      return;
    }
    auto init = lib.Get<InitFn>("nvmlInit_v2");
    if (!init || !handle) {
      why_not = "NVML library lacks nvmlInit_v2 or nvmlDeviceGetHandleByIndex_v2";
      return;
    }
    if (int rc = init(); rc != 0) {
      why_not = fmt::format("nvmlInit failed (NVML error {})", rc);
      return;
    }
    ok = true;
  }

  static const Nvml& Get() {
    static const Nvml nvml;
    return nvml;
  }
};

// Calls `call` (which writes its result into `out`), and only then reads `out`. A single
// expression Ok(call(&u), u) would leave the order unspecified: GCC reads u first, and every counter
// got the previous call's value (seen on the first H100 run).
template <typename T, typename Out, typename Call>
std::optional<T> ReadOne(Call call) {
  Out out{};
  if (call(&out) != 0) return std::nullopt;
  return static_cast<T>(out);
}

}  // namespace

GpuReading ReadGpu(const NvmlReadFunctions& f, void* dev, pid_t pgid) {
  using U = unsigned int;
  using ULL = unsigned long long;
  GpuReading r;
  if (f.energy) r.energy_mj = ReadOne<uint64_t, ULL>([&](ULL* v) { return f.energy(dev, v); });
  if (f.power) {
    if (auto mw = ReadOne<double, U>([&](U* v) { return f.power(dev, v); })) r.power_w = *mw / 1000.0;
  }
  if (f.temperature) {
    r.temperature_c = ReadOne<int, U>([&](U* v) { return f.temperature(dev, kNvmlTemperatureGpu, v); });
  }
  if (f.clock) {
    r.sm_clock_mhz = ReadOne<int, U>([&](U* v) { return f.clock(dev, kNvmlClockSm, v); });
    r.mem_clock_mhz = ReadOne<int, U>([&](U* v) { return f.clock(dev, kNvmlClockMem, v); });
  }
  if (f.reasons) r.clock_event_reasons = ReadOne<uint64_t, ULL>([&](ULL* v) { return f.reasons(dev, v); });
  NvmlUtilization util{};
  if (f.utilization && f.utilization(dev, &util) == 0) {
    r.gpu_util_pct = static_cast<int>(util.gpu);
    r.mem_util_pct = static_cast<int>(util.memory);
  }
  if (f.processes && pgid > 0) {
    NvmlProcessInfo infos[64];
    unsigned int count = 64;
    // On NVML_ERROR_INSUFFICIENT_SIZE (more than 64 processes) the entries are not filled: unknown.
    int rc = f.processes(dev, &count, infos);
    if (rc == 0) {
      int64_t bytes = 0;
      bool any = false;
      for (unsigned int i = 0; i < count && i < 64; ++i) {
        if (::getpgid(static_cast<pid_t>(infos[i].pid)) != pgid) continue;
        if (infos[i].usedGpuMemory == kNvmlValueNotAvailable) continue;
        bytes += static_cast<int64_t>(infos[i].usedGpuMemory);
        any = true;
      }
      // No match (another PID namespace, or no context yet) is unknown, not zero.
      if (any) r.process_bytes = bytes;
    }
  }
  return r;
}

std::optional<int> GpuTemperatureC(int index) {
  const Nvml& nvml = Nvml::Get();
  if (!nvml.ok || index < 0 || !nvml.temperature) return std::nullopt;
  nvmlDevice_t dev = nullptr;
  unsigned int celsius = 0;
  if (nvml.handle(static_cast<unsigned int>(index), &dev) != 0) return std::nullopt;
  if (nvml.temperature(dev, kNvmlTemperatureGpu, &celsius) != 0) return std::nullopt;
  return static_cast<int>(celsius);
}

std::optional<GpuTelemetry> GpuTelemetry::Open(int index, std::string* why) {
  const Nvml& nvml = Nvml::Get();
  if (!nvml.ok) {
    *why = nvml.why_not;
    return std::nullopt;
  }
  nvmlDevice_t dev = nullptr;
  if (index < 0 || nvml.handle(static_cast<unsigned int>(index), &dev) != 0) {
    *why = fmt::format("NVML has no GPU {}", index);
    return std::nullopt;
  }
  GpuTelemetry t;
  t.device_ = dev;
  char buf[256] = {0};
  if (nvml.name && nvml.name(dev, buf, sizeof buf) == 0) t.name_ = buf;
  return t;
}

GpuReading GpuTelemetry::Read(pid_t pgid) const {
  return ReadGpu(Nvml::Get().read, device_, pgid);
}

std::string ClockEventReasonNames(uint64_t reasons) {
  static const std::pair<uint64_t, const char*> kNames[] = {
      {0x1, "gpu_idle"},           {0x2, "applications_clocks_setting"},
      {0x4, "sw_power_cap"},       {0x8, "hw_slowdown"},
      {0x10, "sync_boost"},        {0x20, "sw_thermal_slowdown"},
      {0x40, "hw_thermal_slowdown"}, {0x80, "hw_power_brake_slowdown"},
      {0x100, "display_clock_setting"}};
  std::vector<std::string> names;
  uint64_t known = 0;
  for (const auto& [bit, name] : kNames) {
    known |= bit;
    if (reasons & bit) names.emplace_back(name);
  }
  if (reasons & ~known) names.push_back(fmt::format("0x{:x}", reasons & ~known));
  return Join(names, ", ");
}

GpuProbe ProbeGpus() {
  GpuProbe p;
  const Nvml& nvml = Nvml::Get();
  if (!nvml.ok) {
    p.why_none = nvml.why_not;
    return p;
  }
  auto count = nvml.lib.Get<CountFn>("nvmlDeviceGetCount_v2");
  auto uuid = nvml.lib.Get<NameFn>("nvmlDeviceGetUUID");
  auto memory = nvml.lib.Get<MemoryFn>("nvmlDeviceGetMemoryInfo");
  auto driver = nvml.lib.Get<DriverFn>("nvmlSystemGetDriverVersion");
  p.nvml_available = true;
  char buf[256] = {0};
  if (driver && driver(buf, sizeof buf) == 0) p.driver_version = buf;
  unsigned int n = 0;
  if (count && count(&n) == 0) {
    for (unsigned int i = 0; i < n; ++i) {
      nvmlDevice_t dev = nullptr;
      if (nvml.handle(i, &dev) != 0) continue;
      GpuInfo g;
      g.index = static_cast<int>(i);
      if (nvml.name && nvml.name(dev, buf, sizeof buf) == 0) g.name = buf;
      if (uuid && uuid(dev, buf, sizeof buf) == 0) g.uuid = buf;
      nvmlMemory_t mem{};
      if (memory && memory(dev, &mem) == 0) g.memory_total_bytes = static_cast<long long>(mem.total);
      p.gpus.push_back(g);
    }
  }
  if (p.gpus.empty()) p.why_none = "NVML found no GPU";
  return p;
}

}  // namespace dlb::probe
