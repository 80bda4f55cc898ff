#include "report/escape.h"

#include <gtest/gtest.h>

namespace dlb::report {
namespace {

TEST(Escape, Html) {
  EXPECT_EQ(HtmlEscape("a<b&c%d"), "a&lt;b&amp;c%d");
  EXPECT_EQ(HtmlEscape("\"x\" 'y' >"), "&quot;x&quot; &#39;y&#39; &gt;");
}

TEST(Escape, Latex) {
  EXPECT_EQ(LatexEscape("a<b&c%d"), "a\\textless{}b\\&c\\%d");
  EXPECT_EQ(LatexEscape("$#_{}"), "\\$\\#\\_\\{\\}");
  EXPECT_EQ(LatexEscape("\\~^"), "\\textbackslash{}\\textasciitilde{}\\textasciicircum{}");
}

TEST(Escape, MarkdownCsvGnuplot) {
  EXPECT_EQ(MarkdownEscape("a|b<c"), "a\\|b&lt;c");
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,\"b\""), "\"a,\"\"b\"\"\"");
  EXPECT_EQ(GnuplotString("say \"hi\" \\"), "\"say \\\"hi\\\" \\\\\"");
  EXPECT_EQ(FileSafe("vit_b/16 <x>"), "vit_b_16__x_");
}

}  // namespace
}  // namespace dlb::report
