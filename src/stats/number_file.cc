#include "stats/number_file.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "util/error.h"
#include "util/limits.h"
#include "util/strings.h"

namespace dlb::stats {

std::vector<double> ParseNumberFile(std::string_view text, const std::string& path) {
  auto separator = [](char c) { return c == ' ' || c == ',' || c == '\t' || c == '\r' || c == '\n'; };
  std::vector<double> v;
  int64_t line_no = 1;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '\n') ++line_no;
    if (separator(c)) {
      ++i;
      continue;
    }
    if (c == '#') {
      i = text.find('\n', i);
      if (i == std::string_view::npos) break;
      continue;
    }
    size_t end = i;
    while (end < text.size() && !separator(text[end]) && text[end] != '#') ++end;
    const std::string_view token = text.substr(i, end - i);
    // strtod needs a terminator: the token is copied (short tokens stay in the string's own buffer).
    const std::string copy(token);
    char* parsed_to = nullptr;
    const double x = std::strtod(copy.c_str(), &parsed_to);
    if (parsed_to != copy.c_str() + copy.size()) {
      throw UserError(fmt::format("{}:{}: \"{}\" is not a number", path, line_no,
                                  TerminalSafe(token.substr(0, 40))));
    }
    if (!std::isfinite(x)) {
      throw UserError(fmt::format("{}:{}: \"{}\" is not a finite number", path, line_no,
                                  TerminalSafe(token.substr(0, 40))));
    }
    if (v.size() == kMaxStatsValues) {
      throw UserError(fmt::format("{}: more than {} numbers, the limit per file", path, kMaxStatsValues));
    }
    v.push_back(x);
    i = end;
  }
  if (v.empty()) throw UserError(fmt::format("{}: no numbers", path));
  if (v.size() == 1) throw UserError(fmt::format("{}: 1 value; statistics need at least 2", path));
  if (std::all_of(v.begin(), v.end(), [&](double x) { return x == v[0]; })) {
    throw UserError(fmt::format("{}: all {} values are equal ({}); zero variance, no test applies",
                                path, v.size(), v[0]));
  }
  return v;
}

}  // namespace dlb::stats
