// A main() for the fuzz harnesses when they are built without libFuzzer (the ordinary build's
// ctest): runs every file of the given corpus folders through LLVMFuzzerTestOneInput once. A crash,
// an abort or an escaped exception fails the test, as it would fail the fuzzer.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  int64_t files = 0;
  for (int i = 1; i < argc; ++i) {
    std::vector<std::filesystem::path> paths;
    for (const auto& entry : std::filesystem::directory_iterator(argv[i])) {
      if (entry.is_regular_file()) paths.push_back(entry.path());
    }
    if (paths.empty()) {
      std::fprintf(stderr, "%s: no inputs; a corpus folder is never empty\n", argv[i]);
      return 1;
    }
    for (const auto& p : paths) {
      std::ifstream in(p, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++files;
    }
  }
  std::printf("%lld inputs replayed\n", static_cast<long long>(files));
  return 0;
}
