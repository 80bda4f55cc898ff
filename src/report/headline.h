// The report's opening: its answer in plain sentences, generated from the data, before any table.
// What was compared, what won (by how much, with what confidence), what is equivalent, what could
// not be decided and why, the recommendation when the report has an objective, and which plot
// shows it. The sentences about pairs are the findings' own (analysis::VerdictSentence), so they
// read exactly as `compare`, `show` and `run` print them.
#pragma once

#include <string>
#include <vector>

#include "report/document.h"

namespace dlb::report {

struct Headline {
  std::vector<std::string> compared;  // what was measured: per run, the cells and their axes
  std::vector<std::string> won, equivalent, undecided;  // verdict sentences, largest factor first
  std::string undecided_why;          // "2 of 6 comparisons were not decided: ..." or empty
  std::string contention;             // ReportInput::contention: the machine was busy, and what it did
  std::vector<std::string> best;      // the highest throughput per model, with its CI
  std::vector<std::string> recommendation;  // ReportInput::recommendation
  size_t shown_per_list = 0;          // each list holds at most this many; `more` counts the rest
  size_t more_won = 0, more_equivalent = 0, more_undecided = 0;
};

// At most `max_per_list` sentences in each list; the rest are counted.
Headline BuildHeadline(const ReportInput& in, size_t max_per_list = 6);

}  // namespace dlb::report
