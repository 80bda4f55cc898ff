// Move-only owner of a file descriptor (STYLE.md §8). -1 means closed, as in {fmt}'s fmt::file.
#pragma once

#include <unistd.h>

#include <string>
#include <string_view>
#include <utility>

namespace dlb {

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }  // never throws

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// A pipe with O_CLOEXEC on both ends; throws EnvError on failure.
Pipe MakePipe();

// Writes all of data, retrying on EINTR and short writes. Returns false on any other error
// (EPIPE when the reader is gone), leaving errno set.
[[nodiscard]] bool WriteAll(int fd, std::string_view data);

// Reads a whole file of at most max_bytes; throws UserError naming the path and the reason when it
// cannot: strerror, "is a directory", or the limit (checked while reading, so /dev/zero and a FIFO
// that never ends are refused too).
std::string ReadFileOrThrow(const std::string& path, size_t max_bytes);

// Reads a whole file, or returns an empty optional-like empty string and false.
[[nodiscard]] bool ReadFile(const std::string& path, std::string* out);

}  // namespace dlb
