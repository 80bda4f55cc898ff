// The three kinds of failure: UserError and EnvError end a command with a finished
// one-line message and are caught only in main(); expected failures are values; bugs trip DLB_CHECK,
// which stays on in release builds.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace dlb {

// Bad input from the user: a flag, an experiment file, a RUN id. Exit code 2.
class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The environment failed us: a database cannot be opened, a Python cannot be started. Exit code 3.
class EnvError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
class CheckFailure {
 public:
  CheckFailure(const char* cond, const char* file, int line);
  [[noreturn]] ~CheckFailure();
  template <typename T>
  CheckFailure& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  std::ostringstream stream_;
};
}  // namespace detail

}  // namespace dlb

// Aborts with the condition and context when cond is false, in every build type.
#define DLB_CHECK(cond) \
  if (cond) {           \
  } else                \
    ::dlb::detail::CheckFailure(#cond, __FILE__, __LINE__)
