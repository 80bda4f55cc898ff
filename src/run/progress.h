// Progress on stderr: on a terminal one line redrawn in place and trimmed to the width
// (ninja's LinePrinter); on a pipe one full line per finished repetition. Time left is the mean
// duration of finished repetitions times the number left.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "result/repetition.h"

namespace dlb::run {

class Progress {
 public:
  Progress(int total, bool enabled);
  // `reason`, when not empty, says why this repetition runs (a precision target not yet met).
  void Start(const std::string& label, int rep_idx, int repetitions, const std::string& reason = "");
  void Skip();          // a task that will not run (its cell is unsupported)
  void Extend(int n);   // n more tasks than planned (a round towards a precision target)
  void Finish(const std::string& label, int repetitions, const result::RepetitionResult& r);
  void Note(const std::string& line);  // a line that must not be overwritten (a warning)
  void Done();

 private:
  std::string EtaText() const;
  void Redraw(const std::string& line);

  int total_;
  int done_ = 0;
  bool enabled_;
  bool tty_;
  bool dirty_ = false;  // a redrawn line is on screen
  double spent_s_ = 0;
  std::string last_reason_;
  std::chrono::steady_clock::time_point task_start_;
};

}  // namespace dlb::run
