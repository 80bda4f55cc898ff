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

TEST(Escape, MarkdownGnuplot) {
  EXPECT_EQ(MarkdownEscape("a|b<c"), "a\\|b&lt;c");
  EXPECT_EQ(GnuplotString("say \"hi\" \\"), "\"say \\\"hi\\\" \\\\\"");
  EXPECT_EQ(FileSafe("vit_b/16 <x>"), "vit_b_16__x_");
}

// An ESC in a stored name made pdflatex fail and cleared the screen of whoever read the Markdown.
TEST(Escape, ControlCharactersBecomeVisibleInEveryFormat) {
  EXPECT_EQ(LatexEscape("a\x1b[2Jb"), "a\\textbackslash{}x1b[2Jb");
  EXPECT_EQ(LatexEscape("two\nlines"), "two lines");
  EXPECT_EQ(MarkdownEscape("a\x1b]0;title\x07|b\nc"), "a\\x1b]0;title\\x07\\|b c");
  EXPECT_EQ(HtmlEscape("a\x1b<"), "a\\x1b&lt;");
  EXPECT_EQ(GnuplotString("a\x1b"), "\"a\\\\x1b\"");
}

}  // namespace
}  // namespace dlb::report
