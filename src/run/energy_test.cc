// Telemetry sources read for real where this machine has them (the process's own RSS, RAPL files
// when readable), RAPL's arithmetic on a powercap directory written by the test (package zones,
// subzones ignored, counter wrap), energy windows from recorded readings, the NVML index mapping,
// and the datasheet-peak lookup.
#include "run/energy.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "analysis/peaks.h"
#include "probe/nvml.h"
#include "probe/telemetry.h"
#include "run/gate.h"
#include "stats/descriptive.h"

namespace dlb::run {
namespace {

namespace fs = std::filesystem;

void Put(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text << "\n";
}

class PowercapDir : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("dlbench-powercap-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    Zone("intel-rapl:0", "package-0", 1'000'000, 10'000'000);
    Zone("intel-rapl:1", "package-1", 2'000'000, 10'000'000);
    Zone("intel-rapl:0:0", "core", 5, 10'000'000);  // a subzone: counted inside its package
  }
  void TearDown() override { fs::remove_all(root_); }
  void Zone(const std::string& dir, const std::string& name, uint64_t uj, uint64_t range) {
    Put(root_ / dir / "name", name);
    Put(root_ / dir / "energy_uj", std::to_string(uj));
    Put(root_ / dir / "max_energy_range_uj", std::to_string(range));
  }
  void Energy(const std::string& dir, uint64_t uj) { Put(root_ / dir / "energy_uj", std::to_string(uj)); }
  fs::path root_;
};

TEST_F(PowercapDir, SumsPackagesAndCountsAcrossAWrap) {
  std::string why;
  auto rapl = probe::RaplReader::Open(root_.string(), &why);
  ASSERT_TRUE(rapl) << why;
  EXPECT_EQ(rapl->zones(), (std::vector<std::string>{"package-0 (intel-rapl:0)", "package-1 (intel-rapl:1)"}));
  EXPECT_DOUBLE_EQ(rapl->ReadJ().value(), 0.0);
  Energy("intel-rapl:0", 3'000'000);  // +2 J
  Energy("intel-rapl:1", 2'500'000);  // +0.5 J
  EXPECT_DOUBLE_EQ(rapl->ReadJ().value(), 2.5);
  Energy("intel-rapl:0", 999'999);  // wrapped at 10 J: +(10'000'000 - 3'000'000) + 999'999 + 1 uJ
  EXPECT_DOUBLE_EQ(rapl->ReadJ().value(), 2.5 + 8.0);
  fs::remove(root_ / "intel-rapl:1" / "energy_uj");
  EXPECT_FALSE(rapl->ReadJ());
}

TEST_F(PowercapDir, UnreadableOrMissingIsUnavailableWithTheReason) {
  std::string why;
  EXPECT_FALSE(probe::RaplReader::Open((root_ / "absent").string(), &why));
  EXPECT_NE(why.find("no RAPL driver"), std::string::npos) << why;
  fs::remove(root_ / "intel-rapl:0" / "energy_uj");
  EXPECT_FALSE(probe::RaplReader::Open(root_.string(), &why));
  EXPECT_NE(why.find("energy_uj is not readable"), std::string::npos) << why;
}

// The real RAPL of this machine, where the kernel exposes it and we may read it.
TEST(Rapl, RealCounterIsMonotonicWhereReadable) {
  std::string why;
  auto rapl = probe::RaplReader::Open("/sys/class/powercap", &why);
  if (!rapl) GTEST_SKIP() << "no readable RAPL here: " << why;
  double a = rapl->ReadJ().value();
  volatile double x = 0;
  for (int i = 0; i < 20'000'000; ++i) x = x + i;
  double b = rapl->ReadJ().value();
  EXPECT_GT(b, a);
}

TEST(Telemetry, ReadsTheProcessResidentSet) {
  auto rss = probe::ProcessRssBytes(::getpid());
  ASSERT_TRUE(rss);
  EXPECT_GT(*rss, 1 << 20);
  EXPECT_FALSE(probe::ProcessRssBytes(999'999'999));
}

TEST(Telemetry, SamplerThreadRecordsPhasesAndRss) {
  probe::TelemetryConfig config;
  config.interval_s = 0.005;
  probe::TelemetrySampler sampler(config);
  EXPECT_EQ(sampler.gpu_source(), "unavailable: not a GPU cell");
  sampler.Start(::getpid());
  sampler.SetPhase("measure");
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  auto now = sampler.SampleNow();
  EXPECT_EQ(now.phase, "measure");
  sampler.Stop();
  auto series = sampler.Series();
  ASSERT_GE(series.size(), 3u);
  for (size_t i = 1; i < series.size(); ++i) EXPECT_GE(series[i].t_ns, series[i - 1].t_ns);
  EXPECT_GT(series.back().rss_bytes.value_or(0), 1 << 20);
  size_t after_stop = series.size();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(sampler.Series().size(), after_stop);
}

// No GPU, or no NVML: the GPU source says why, and nothing else changes.
TEST(Telemetry, GpuWithoutNvmlIsUnavailableNotACrash) {
  probe::TelemetryConfig config;
  config.gpu_index = 0;
  config.interval_s = 0;
  probe::TelemetrySampler sampler(config);
  if (sampler.has_gpu()) GTEST_SKIP() << "this machine has NVML and a GPU";
  EXPECT_EQ(sampler.gpu_source().rfind("unavailable: ", 0), 0u) << sampler.gpu_source();
  auto s = sampler.SampleNow();
  EXPECT_FALSE(s.gpu.power_w);
  EXPECT_FALSE(s.gpu_energy_j);
}

probe::TelemetrySample At(int64_t t_ns, std::optional<double> power, std::optional<double> gpu_j,
                          std::optional<double> cpu_j) {
  probe::TelemetrySample s;
  s.t_ns = t_ns;
  s.gpu.power_w = power;
  s.gpu_energy_j = gpu_j;
  s.cpu_energy_j = cpu_j;
  return s;
}

TEST(EnergyWindow, CounterDifferenceBetweenTheEdges) {
  auto begin = At(1'000'000'000, 300, 10.0, 5.0);
  auto end = At(3'000'000'000, 300, 610.0, 45.0);
  auto w = MakeEnergyWindow(EnergySource::kNvmlCounter, begin, end, {}, 200);
  ASSERT_TRUE(w);
  EXPECT_DOUBLE_EQ(w->energy_j, 600);
  EXPECT_DOUBLE_EQ(w->avg_power_w, 300);
  EXPECT_EQ(w->duration_ns, 2'000'000'000);
  auto r = MakeEnergyWindow(EnergySource::kRapl, begin, end, {}, 200);
  EXPECT_DOUBLE_EQ(r->energy_j, 40);
  EXPECT_EQ(JoulesPerSample(std::vector<EnergyWindow>{*w}, 8), (std::vector<double>{600.0 / 1600}));
  EXPECT_FALSE(MakeEnergyWindow(EnergySource::kNvmlCounter, At(0, {}, {}, {}), end, {}, 1));
  EXPECT_FALSE(MakeEnergyWindow(EnergySource::kRapl, end, begin, {}, 1));  // reversed edges
}

TEST(EnergyWindow, IntegratesPowerByTrapezoidsAndSummarisesConditions) {
  auto begin = At(0, 100, {}, {});
  auto end = At(2'000'000'000, 300, {}, {});
  std::vector<probe::TelemetrySample> series = {begin, At(1'000'000'000, 200, {}, {}), end};
  series[1].gpu.sm_clock_mhz = 1980;
  series[1].gpu.temperature_c = 60;
  series[1].gpu.clock_event_reasons = 0x4;
  series[2].gpu.sm_clock_mhz = 1700;
  series[2].gpu.temperature_c = 65;
  auto w = MakeEnergyWindow(EnergySource::kNvmlPower, begin, end, series, 10);
  ASSERT_TRUE(w);
  EXPECT_DOUBLE_EQ(w->energy_j, 150 + 250);  // (100+200)/2·1 s + (200+300)/2·1 s
  EXPECT_EQ(w->max_temperature_c.value_or(0), 65);
  EXPECT_DOUBLE_EQ(w->sm_clock_mhz.value_or(0), 1840);
  EXPECT_EQ(w->clock_event_reasons, 0x4u);
}

TEST(EnergyWindow, MeanConfidenceIntervalMatchesScipy) {
  // scipy.stats.t.interval(0.95, 3, mean, sem) for [1.25, 1.5, 1.75, 1.4] (SciPy 1.18.1)
  std::vector<double> x = {1.25, 1.5, 1.75, 1.4};
  auto ci = stats::MeanConfidenceInterval(x, 0.95);
  ASSERT_TRUE(ci);
  EXPECT_NEAR(ci->lo, 1.1405906582249776, 1e-12);
  EXPECT_NEAR(ci->hi, 1.8094093417750226, 1e-12);
  EXPECT_FALSE(stats::MeanConfidenceInterval(std::vector<double>{1.0}, 0.95));
}

TEST(NvmlIndex, FollowsCudaVisibleDevices) {
  EXPECT_EQ(NvmlIndex("cuda:1", ""), 1);
  EXPECT_EQ(NvmlIndex("cuda", "3,5"), 3);
  EXPECT_EQ(NvmlIndex("cuda:1", "3, 5"), 5);
  EXPECT_EQ(NvmlIndex("cuda:2", "3,5"), std::nullopt);
  EXPECT_EQ(NvmlIndex("cpu", "3"), std::nullopt);
  EXPECT_EQ(NvmlIndex("cuda:0", "GPU-does-not-exist"), std::nullopt);
}

TEST(ClockEvents, NamesAndThrottleMask) {
  EXPECT_EQ(probe::ClockEventReasonNames(0x44), "sw_power_cap, hw_thermal_slowdown");
  EXPECT_EQ(probe::ClockEventReasonNames(0x1 | 0x1000), "gpu_idle, 0x1000");
  EXPECT_EQ(0x1u & probe::kThrottleMask, 0u);  // idle is not a slowdown
  EXPECT_NE(0x80u & probe::kThrottleMask, 0u);
}

TEST(Peaks, MatchesSpecificNamesFirst) {
  using analysis::FindDevicePeak;
  ASSERT_TRUE(FindDevicePeak("NVIDIA H100 80GB HBM3"));
  EXPECT_EQ(FindDevicePeak("NVIDIA H100 80GB HBM3")->name, "H100 SXM5 80GB");
  EXPECT_EQ(FindDevicePeak("NVIDIA H100 PCIe")->name, "H100 PCIe");
  EXPECT_EQ(FindDevicePeak("NVIDIA H100 NVL")->name, "H100 NVL");
  EXPECT_EQ(FindDevicePeak("NVIDIA H200")->name, "H200 SXM 141GB");
  EXPECT_EQ(FindDevicePeak("NVIDIA H200 NVL")->name, "H200 NVL");
  EXPECT_EQ(FindDevicePeak("NVIDIA A100-SXM4-80GB")->name, "A100 SXM4 80GB");
  EXPECT_EQ(FindDevicePeak("Intel(R) Xeon(R) CPU"), nullptr);
  EXPECT_EQ(FindDevicePeak("NVIDIA L4")->name, "L4");
  EXPECT_EQ(FindDevicePeak("NVIDIA L40S")->name, "L40S");
  EXPECT_EQ(FindDevicePeak("NVIDIA L40"), nullptr);    // not in the table: not the L4
  EXPECT_EQ(FindDevicePeak("NVIDIA GH200 480GB"), nullptr);  // not the H200
  EXPECT_EQ(FindDevicePeak(""), nullptr);
  const auto& h100 = *FindDevicePeak("NVIDIA H100 80GB HBM3");
  EXPECT_DOUBLE_EQ(analysis::PeakFlops(h100, "bf16").value(), 989.4e12);
  EXPECT_DOUBLE_EQ(analysis::PeakFlops(h100, "tf32").value(), 494.7e12);
  EXPECT_FALSE(analysis::PeakFlops(h100, "int8"));
}

TEST(Peaks, MathModeFromReadBackSettings) {
  using analysis::MathMode;
  EXPECT_EQ(MathMode("bf16", "{}", "cuda"), "bf16");
  // torch's defaults on CUDA: matmuls ieee, cuDNN convolutions TF32.
  EXPECT_EQ(MathMode("fp32", R"({"matmul_fp32_precision":"ieee","conv_fp32_precision":"tf32"})", "cuda:0"), "tf32");
  EXPECT_EQ(MathMode("fp32", R"({"matmul_fp32_precision":"ieee","conv_fp32_precision":"ieee"})", "cuda:0"), "fp32");
  // torch's defaults on a GPU: TF32 convolutions, IEEE matmuls. A CNN ran tf32, a ViT fp32.
  const char* torch_default = R"({"matmul_fp32_precision":"ieee","conv_fp32_precision":"tf32"})";
  EXPECT_EQ(MathMode("fp32", torch_default, "cuda:0", "conv"), "tf32");
  EXPECT_EQ(MathMode("fp32", torch_default, "cuda:0", "matmul"), "fp32");
  EXPECT_EQ(MathMode("fp32", R"({"jax_default_matmul_precision":null})", "cuda:0"), "tf32");
  EXPECT_EQ(MathMode("fp32", R"({"jax_default_matmul_precision":null})", "cpu"), "fp32");
  EXPECT_EQ(MathMode("fp32", R"({"jax_default_matmul_precision":"highest"})", "cuda:0"), "fp32");
  EXPECT_EQ(analysis::DeviceNameFromHello(
                R"({"devices":[{"id":"cpu","name":"Xeon"},{"id":"cuda:0","name":"NVIDIA H100 80GB HBM3"}]})",
                "cuda"),
            "NVIDIA H100 80GB HBM3");
}

}  // namespace
}  // namespace dlb::run
