#include "probe/nvml.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace dlb::probe {
namespace {

// Each fake answers a value no other counter has, so a reading that takes one call's value for
// another's field fails.
int Energy(void*, unsigned long long* mj) { *mj = 123456789ULL; return 0; }
int Power(void*, unsigned int* mw) { *mw = 612345; return 0; }
int Temperature(void*, int sensor, unsigned int* c) { *c = sensor == 0 ? 57 : 999; return 0; }
int Clock(void*, int type, unsigned int* mhz) { *mhz = type == 1 ? 1980 : type == 2 ? 2619 : 1; return 0; }
int Reasons(void*, unsigned long long* mask) { *mask = 0x4; return 0; }
int Utilization(void*, NvmlUtilization* u) { u->gpu = 97; u->memory = 41; return 0; }
int Processes(void*, unsigned int* count, NvmlProcessInfo* infos) {
  *count = 2;
  infos[0] = {static_cast<unsigned int>(::getpid()), 3ULL << 30, 0, 0};
  infos[1] = {1, 5ULL << 30, 0, 0};  // init: another process group
  return 0;
}
int Fails(void*, unsigned int*) { return 3; }  // NVML_ERROR_NOT_SUPPORTED

TEST(ReadGpu, EveryCounterGetsItsOwnCallsValue) {
  NvmlReadFunctions f{Energy, Power, Temperature, Clock, Reasons, Utilization, Processes};
  GpuReading r = ReadGpu(f, nullptr, ::getpgid(0));
  EXPECT_EQ(r.energy_mj, 123456789ULL);
  ASSERT_TRUE(r.power_w);
  EXPECT_DOUBLE_EQ(*r.power_w, 612.345);
  EXPECT_EQ(r.temperature_c, 57);
  EXPECT_EQ(r.sm_clock_mhz, 1980);
  EXPECT_EQ(r.mem_clock_mhz, 2619);
  EXPECT_EQ(r.clock_event_reasons, 0x4u);
  EXPECT_EQ(r.gpu_util_pct, 97);
  EXPECT_EQ(r.mem_util_pct, 41);
  EXPECT_EQ(r.process_bytes, int64_t{3} << 30);
}

TEST(ReadGpu, AFailedOrAbsentCallIsUnknownNotAStaleValue) {
  NvmlReadFunctions f{Energy, Fails, Temperature, nullptr, nullptr, nullptr, nullptr};
  GpuReading r = ReadGpu(f, nullptr, 0);
  EXPECT_EQ(r.energy_mj, 123456789ULL);
  EXPECT_FALSE(r.power_w);
  EXPECT_EQ(r.temperature_c, 57);
  EXPECT_FALSE(r.sm_clock_mhz);
  EXPECT_FALSE(r.clock_event_reasons);
  EXPECT_FALSE(r.gpu_util_pct);
  EXPECT_FALSE(r.process_bytes);
}

}  // namespace
}  // namespace dlb::probe
