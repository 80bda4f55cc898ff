// Plain-text tables for the terminal: columns padded to their widest cell, numbers right-aligned.
// UTF-8 aware widths (µ, ×) so that columns line up. Cells pass through TerminalSafe, so stored
// text can neither move the cursor nor split a row.
#pragma once

#include <string>
#include <vector>

namespace dlb::report {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header, std::vector<bool> right_align = {});
  void AddRow(std::vector<std::string> row);
  std::string Render() const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// Display width of a UTF-8 string (code points, which is right for the symbols we print).
size_t DisplayWidth(const std::string& s);

}  // namespace dlb::report
