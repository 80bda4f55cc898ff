#include "util/error.h"

#include <cstdio>
#include <cstdlib>

namespace dlb::detail {

CheckFailure::CheckFailure(const char* cond, const char* file, int line) {
  stream_ << "dlbench: internal error: check failed: " << cond << " at " << file << ":" << line
          << ": ";
}

CheckFailure::~CheckFailure() {
  std::fprintf(stderr, "%s\n", stream_.str().c_str());
  std::abort();
}

}  // namespace dlb::detail
