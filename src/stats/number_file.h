// The plain files of numbers that `dlbench stats` reads: numbers separated by whitespace or commas,
// '#' to the end of the line is a comment.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dlb::stats {

// Parses text in one pass (a million numbers take a fraction of a second). path is used only in messages. Every problem is one UserError line naming path and line:
// a token that is not a finite number, no numbers, one number, all equal, or more than
// kMaxStatsValues. Any input, of any content, either parses or is such an error
// (tests/fuzz/number_file.cc holds it to that).
std::vector<double> ParseNumberFile(std::string_view text, const std::string& path);

}  // namespace dlb::stats
