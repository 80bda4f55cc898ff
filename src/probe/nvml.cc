#include "probe/nvml.h"

#include <dlfcn.h>

#include <fmt/format.h>

namespace dlb::probe {
namespace {

// NVML API (nvml.h, read 2026-11): return codes are ints, 0 = NVML_SUCCESS.
using nvmlDevice_t = void*;
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
using InitFn = int (*)();
using ShutdownFn = int (*)();
using CountFn = int (*)(unsigned int*);
using HandleFn = int (*)(unsigned int, nvmlDevice_t*);
using NameFn = int (*)(nvmlDevice_t, char*, unsigned int);
using MemoryFn = int (*)(nvmlDevice_t, nvmlMemory_t*);
using DriverFn = int (*)(char*, unsigned int);

class Library {
 public:
  Library() : handle_(dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL)) {}
  ~Library() {
    if (handle_) dlclose(handle_);
  }
  explicit operator bool() const { return handle_ != nullptr; }
  template <typename F>
  F Get(const char* name) const {
    return reinterpret_cast<F>(dlsym(handle_, name));
  }

 private:
  void* handle_;
};

using TemperatureFn = int (*)(nvmlDevice_t, int, unsigned int*);

}  // namespace

std::optional<int> GpuTemperatureC(int index) {
  // Loaded and initialised once; NVML stays initialised for the life of the process.
  static const struct Handle {
    Library lib;
    HandleFn handle = nullptr;
    TemperatureFn temperature = nullptr;
    bool ok = false;
    Handle() {
      if (!lib) return;
      auto init = lib.Get<InitFn>("nvmlInit_v2");
      handle = lib.Get<HandleFn>("nvmlDeviceGetHandleByIndex_v2");
      temperature = lib.Get<TemperatureFn>("nvmlDeviceGetTemperature");
      ok = init && handle && temperature && init() == 0;
    }
  } nvml;
  if (!nvml.ok || index < 0) return std::nullopt;
  nvmlDevice_t dev = nullptr;
  unsigned int celsius = 0;
  if (nvml.handle(static_cast<unsigned int>(index), &dev) != 0) return std::nullopt;
  if (nvml.temperature(dev, /*NVML_TEMPERATURE_GPU=*/0, &celsius) != 0) return std::nullopt;
  return static_cast<int>(celsius);
}

GpuProbe ProbeGpus() {
  GpuProbe p;
  Library lib;
  if (!lib) {
    const char* err = dlerror();
    p.why_none = fmt::format("NVML not found ({})", err ? err : "libnvidia-ml.so.1");
    return p;
  }
  auto init = lib.Get<InitFn>("nvmlInit_v2");
  auto shutdown = lib.Get<ShutdownFn>("nvmlShutdown");
  auto count = lib.Get<CountFn>("nvmlDeviceGetCount_v2");
  auto handle = lib.Get<HandleFn>("nvmlDeviceGetHandleByIndex_v2");
  auto name = lib.Get<NameFn>("nvmlDeviceGetName");
  auto uuid = lib.Get<NameFn>("nvmlDeviceGetUUID");
  auto memory = lib.Get<MemoryFn>("nvmlDeviceGetMemoryInfo");
  auto driver = lib.Get<DriverFn>("nvmlSystemGetDriverVersion");
  if (!init || !shutdown || !count || !handle || !name) {
    p.why_none = "NVML library lacks the functions dlbench needs";
    return p;
  }
  if (int rc = init(); rc != 0) {
    p.why_none = fmt::format("nvmlInit failed (NVML error {})", rc);
    return p;
  }
  p.nvml_available = true;
  char buf[256] = {0};
  if (driver && driver(buf, sizeof buf) == 0) p.driver_version = buf;
  unsigned int n = 0;
  if (count(&n) == 0) {
    for (unsigned int i = 0; i < n; ++i) {
      nvmlDevice_t dev = nullptr;
      if (handle(i, &dev) != 0) continue;
      GpuInfo g;
      g.index = static_cast<int>(i);
      if (name(dev, buf, sizeof buf) == 0) g.name = buf;
      if (uuid && uuid(dev, buf, sizeof buf) == 0) g.uuid = buf;
      nvmlMemory_t mem{};
      if (memory && memory(dev, &mem) == 0) g.memory_total_bytes = static_cast<long long>(mem.total);
      p.gpus.push_back(g);
    }
  }
  if (p.gpus.empty()) p.why_none = "NVML found no GPU";
  shutdown();
  return p;
}

}  // namespace dlb::probe
