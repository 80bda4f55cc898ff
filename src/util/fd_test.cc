// AtomicFile: the file appears whole on Commit, a failure leaves the previous file as it was, and
// the error names the file and the system's reason.
#include "util/fd.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "util/error.h"

namespace dlb {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dlbench-fd-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Read(const fs::path& p) {
    std::string text;
    EXPECT_TRUE(ReadFile(p.string(), &text));
    return text;
  }
  fs::path dir_;
};

TEST_F(AtomicFileTest, AppearsOnlyWhenCommitted) {
  const fs::path p = dir_ / "out.json";
  WriteFileAtomically(p.string(), "previous");
  {
    AtomicFile f(p.string());
    f.stream() << "new content";
    EXPECT_EQ(Read(p), "previous");  // not yet
    f.Commit();
  }
  EXPECT_EQ(Read(p), "new content");
  {
    AtomicFile abandoned(p.string());
    abandoned.stream() << "half";
  }  // an exception between the first byte and Commit: the previous file stays
  EXPECT_EQ(Read(p), "new content");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(AtomicFileTest, AFullDeviceIsNamedWithItsReason) {
  try {
    WriteFileAtomically("/dev/full", "x");
    FAIL();
  } catch (const EnvError& e) {
    EXPECT_STREQ(e.what(), "cannot write /dev/full: No space left on device");
  }
  try {
    WriteFileAtomically((dir_ / "missing" / "f").string(), "x");
    FAIL();
  } catch (const EnvError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write " + (dir_ / "missing" / "f").string() +
                                         ": No such file or directory");
  }
}

TEST(ReadFileOrThrow, NamesADirectoryAndALimit) {
  EXPECT_THROW(ReadFileOrThrow("/", 100), UserError);
  try {
    ReadFileOrThrow("/dev/zero", 1u << 20);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(), "/dev/zero: larger than the limit of 1 MiB for this kind of file");
  }
}

}  // namespace
}  // namespace dlb
