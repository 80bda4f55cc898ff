#include "util/fd.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace dlb {

Pipe MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw EnvError(std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return false;
  *out = ss.str();
  return true;
}

std::string ReadFileOrThrow(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) throw UserError("cannot read " + path + ": " + std::strerror(errno));
  struct stat st{};
  if (::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw UserError(path + ": is a directory; expected a file");
  }
  std::string text;
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw UserError("cannot read " + path + ": " + std::strerror(errno));
    if (n == 0) return text;
    if (text.size() + static_cast<size_t>(n) > max_bytes) {
      throw UserError(path + ": larger than the limit of " + std::to_string(max_bytes >> 20) +
                      " MiB for this kind of file");
    }
    text.append(buf, static_cast<size_t>(n));
  }
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), out_(nullptr) {
  struct stat st{};
  const bool exists = ::stat(path_.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {
    fd_ = UniqueFd(::open(path_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  } else {
    temp_ = path_ + ".tmp-XXXXXX";
    fd_ = UniqueFd(::mkostemp(temp_.data(), O_CLOEXEC));
    if (!fd_.valid()) temp_.clear();
  }
  if (!fd_.valid()) Fail(errno);
  if (!temp_.empty()) {
    // mkostemp makes 0600; the file gets the mode of the one it replaces, or the usual 0666 & ~umask.
    mode_t mode = 0;
    if (exists) {
      mode = st.st_mode & 07777;
    } else {
      mode_t mask = ::umask(0);
      ::umask(mask);
      mode = 0666 & ~mask;
    }
    ::fchmod(fd_.get(), mode);
  }
  buffer_ = std::make_unique<Buffer>(fd_.get());
  out_.rdbuf(buffer_.get());
}

AtomicFile::~AtomicFile() {
  if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
}

void AtomicFile::Fail(int error) {
  if (!temp_.empty()) ::unlink(temp_.c_str());
  temp_.clear();
  throw EnvError("cannot write " + path_ + ": " + std::strerror(error));
}

void AtomicFile::Commit() {
  out_.flush();
  if (buffer_->error() != 0) Fail(buffer_->error());
  if (!out_) Fail(EIO);
  if (::fsync(fd_.get()) != 0 && errno != EINVAL && errno != EROFS) Fail(errno);
  if (::close(fd_.Release()) != 0) Fail(errno);
  if (!temp_.empty() && ::rename(temp_.c_str(), path_.c_str()) != 0) Fail(errno);
  committed_ = true;
}

AtomicFile::Buffer::int_type AtomicFile::Buffer::overflow(int_type c) {
  if (!Flush()) return traits_type::eof();
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  *pptr() = traits_type::to_char_type(c);
  pbump(1);
  return c;
}

bool AtomicFile::Buffer::Flush() {
  if (error_ != 0) return false;
  const std::string_view pending(pbase(), static_cast<size_t>(pptr() - pbase()));
  if (!WriteAll(fd_, pending)) {
    error_ = errno;
    return false;
  }
  setp(data_, data_ + sizeof data_);
  return true;
}

void WriteFileAtomically(const std::string& path, std::string_view data) {
  AtomicFile file(path);
  file.stream().write(data.data(), static_cast<std::streamsize>(data.size()));
  file.Commit();
}

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw EnvError(fmt::format("cannot create a temporary directory {}: {}", tmpl, std::strerror(errno)));
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace dlb
