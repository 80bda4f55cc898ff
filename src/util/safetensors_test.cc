// The safetensors codec: a round trip, the header's layout (8-byte length, JSON padded to a multiple
// of 8), metadata, and the errors for files that are not safetensors or hold other dtypes.
#include "util/safetensors.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "util/error.h"
#include "util/fd.h"

namespace dlb {
namespace {

std::string Temp(const char* name) {
  return (std::filesystem::temp_directory_path() /
          (std::string("dlb-st-") + std::to_string(::getpid()) + "-" + name))
      .string();
}

TEST(Safetensors, RoundTripWithMetadata) {
  std::string path = Temp("rt.safetensors");
  std::map<std::string, F32Tensor> in = {
      {"b", {{2, 3}, {1, 2, 3, 4, 5, 6}}}, {"a", {{1}, {-0.5f}}}};
  WriteSafetensors(path, in, {{"format", "dlbench-canonical"}});
  Metadata meta;
  auto out = ReadSafetensors(path, &meta);
  EXPECT_EQ(meta["format"], "dlbench-canonical");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out["b"].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(out["b"].data, in["b"].data);
  EXPECT_EQ(out["a"].data, in["a"].data);

  std::string bytes;
  ASSERT_TRUE(ReadFile(path, &bytes));
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + n + 7 * sizeof(float));
  std::filesystem::remove(path);
}

TEST(Safetensors, RejectsOtherFilesAndDtypes) {
  std::string path = Temp("bad.safetensors");
  std::ofstream(path) << "hello";
  EXPECT_THROW(ReadSafetensors(path), UserError);
  std::string header = R"({"x":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}})";
  uint64_t n = header.size();
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << header << "ab";
  f.close();
  try {
    ReadSafetensors(path);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("tensor \"x\" is \"F16\"; allowed: F32"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ReadSafetensors(Temp("missing")), UserError);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace dlb
