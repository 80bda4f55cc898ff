#include "run/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "util/strings.h"

namespace dlb::run {
namespace {

size_t TerminalWidth() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) return ws.ws_col;
  return 80;
}

}  // namespace

Progress::Progress(int total, bool enabled)
    : total_(total), enabled_(enabled), tty_(enabled && ::isatty(STDERR_FILENO)) {}

std::string Progress::EtaText() const {
  if (done_ == 0) return "";
  double left = spent_s_ / done_ * (total_ - done_);
  return fmt::format("  ~{} left", FormatDuration(left));
}

void Progress::Redraw(const std::string& line) {
  std::string s = line;
  size_t width = TerminalWidth() - 1;
  if (s.size() > width) s.resize(width);
  std::fprintf(stderr, "\r\x1b[K%s", s.c_str());
  std::fflush(stderr);
  dirty_ = true;
}

void Progress::Skip() { --total_; }

void Progress::Extend(int n) { total_ += n; }

void Progress::Start(const std::string& label, int rep_idx, int repetitions,
                     const std::string& reason) {
  task_start_ = std::chrono::steady_clock::now();
  if (!enabled_) return;
  if (!reason.empty() && reason != last_reason_) {  // why the run goes on, once per reason
    Note(fmt::format("[{}/{}] more repetitions: {}", done_ + 1, total_, reason));
  }
  last_reason_ = reason;
  if (!tty_) return;
  Redraw(fmt::format("[{}/{}] {} rep {}/{}{}", done_ + 1, total_, label, rep_idx + 1, repetitions,
                     EtaText()));
}

void Progress::Finish(const std::string& label, int repetitions, const result::RepetitionResult& r) {
  spent_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - task_start_).count();
  ++done_;
  if (!enabled_) return;
  std::string outcome;
  const result::TimedSeries* series = r.series();
  if (r.status == result::RepStatus::kOk && series != nullptr) {
    outcome = fmt::format("median {} (n={}{})", series->median_ns ? FormatNs(*series->median_ns) : "-",
                          series->steady_count(), series->converged ? "" : ", not converged");
  } else {
    outcome = fmt::format("{}: {}", result::RepStatusName(r.status), r.message);
  }
  std::string line = fmt::format("[{}/{}] {} rep {}/{}: {}{}", done_, total_, label, r.rep_idx + 1,
                                 repetitions, outcome, EtaText());
  if (tty_) {
    if (r.status != result::RepStatus::kOk) {
      Note(line);  // failures stay on screen
    } else {
      Redraw(line);
    }
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

void Progress::Note(const std::string& line) {
  if (dirty_) std::fprintf(stderr, "\r\x1b[K");
  std::fprintf(stderr, "%s\n", line.c_str());
  dirty_ = false;
}

void Progress::Done() {
  if (dirty_) std::fprintf(stderr, "\r\x1b[K");
  dirty_ = false;
  std::fflush(stderr);
}

}  // namespace dlb::run
