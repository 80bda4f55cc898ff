// Move-only owner of a file descriptor (RAII, like every OS handle here). -1 means closed, as in
// {fmt}'s fmt::file.
#pragma once

#include <unistd.h>

#include <memory>
#include <ostream>
#include <streambuf>
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

// A directory of its own under $TMPDIR (or /tmp), PREFIX-XXXXXX, removed with everything in it
// when this goes away. Throws EnvError when it cannot be made.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
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

// An output file that appears whole or not at all: written to a temporary file beside it and
// renamed into place by Commit(), so that a failure (a full disk, a size limit, a crash) leaves any
// previous file at that path as it was. A path that exists and is not a regular file (/dev/stdout,
// /dev/full, a FIFO) is written in place. Every failure is an EnvError "cannot write PATH: <the
// system's reason>" ("No space left on device").
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();  // removes the temporary file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream() { return out_; }
  void Commit();  // flush, fsync, rename

 private:
  // Writes straight to the descriptor and keeps the errno of the first failed write.
  class Buffer : public std::streambuf {
   public:
    explicit Buffer(int fd) : fd_(fd) { setp(data_, data_ + sizeof data_); }
    int error() const { return error_; }

   protected:
    int_type overflow(int_type c) override;
    int sync() override { return Flush() ? 0 : -1; }

   private:
    bool Flush();
    int fd_;
    int error_ = 0;
    char data_[1 << 16];
  };

  [[noreturn]] void Fail(int error);

  std::string path_, temp_;  // temp_ is empty when writing in place
  UniqueFd fd_;
  std::unique_ptr<Buffer> buffer_;
  std::ostream out_;
  bool committed_ = false;
};

// AtomicFile for data already in memory.
void WriteFileAtomically(const std::string& path, std::string_view data);

}  // namespace dlb
