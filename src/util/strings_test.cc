// Pins the helpers behind every error message ("did you mean") and every printed figure.
#include "util/strings.h"

#include <gtest/gtest.h>

#include <cmath>

#include "util/random.h"

namespace dlb {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsSubstitutions) {
  EXPECT_EQ(EditDistance("bf61", "bf16"), 1);  // one transposition
  EXPECT_EQ(EditDistance("", "abc"), 3);
  EXPECT_EQ(EditDistance("resnet50", "resnet50"), 0);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
}

TEST(ClosestMatch, SuggestsOnlyCloseWords) {
  std::vector<std::string> models = {"resnet18", "resnet50", "vit_b_16"};
  EXPECT_EQ(ClosestMatch("resnet5", models), "resnet50");
  EXPECT_EQ(ClosestMatch("vit_b16", models), "vit_b_16");
  EXPECT_EQ(ClosestMatch("alexnet", models), std::nullopt);
}

TEST(AllowedValues, ListsAndSuggests) {
  EXPECT_EQ(AllowedValues("bf61", {"fp32", "bf16", "fp16"}),
            "allowed: fp32, bf16, fp16 (did you mean \"bf16\"?)");
  EXPECT_EQ(AllowedValues("zzzzzz", {"a", "b"}), "allowed: a, b");
}

TEST(Split, KeepsEmptyFields) {
  EXPECT_EQ(Split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(Join({"x", "y"}, " "), "x y");
}

TEST(ParseInt, RejectsTrailingText) {
  EXPECT_EQ(ParseInt("42"), 42);
  EXPECT_EQ(ParseInt("42x"), std::nullopt);
  EXPECT_EQ(ParseInt(""), std::nullopt);
}

TEST(TerminalSafe, ControlCharactersBecomeVisible) {
  EXPECT_EQ(TerminalSafe("plain µs ×"), "plain µs ×");
  EXPECT_EQ(TerminalSafe("a\x1b[2Jb"), "a\\x1b[2Jb");             // clear screen
  EXPECT_EQ(TerminalSafe("\x1b]0;pwned\x07"), "\\x1b]0;pwned\\x07");  // OSC window title
  EXPECT_EQ(TerminalSafe(std::string_view("a\0b", 3)), "a\\x00b");   // NUL no longer cuts
  EXPECT_EQ(TerminalSafe("a\nb\tc"), "a\\nb\\tc");
  EXPECT_EQ(TerminalSafe("a\nb\tc", true), "a\nb\tc");
  EXPECT_EQ(TerminalSafe("\xc2\x9b" "31m"), "\\u009b31m");        // C1 CSI
  EXPECT_EQ(TerminalSafe("\xff\x7f"), "\\xff\\x7f");
  EXPECT_EQ(FirstControl("fine name"), std::nullopt);
  EXPECT_EQ(FirstControl("bad\x1bname"), "\\x1b");
  EXPECT_EQ(FirstControl("new\nline"), "\\n");
}

TEST(CsvField, QuotesAndNeutralisesFormulas) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,\"b\""), "\"a,\"\"b\"\"\"");
  // OWASP CSV injection: a spreadsheet would run these.
  EXPECT_EQ(CsvField("=1+1"), "'=1+1");
  EXPECT_EQ(CsvField("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
  EXPECT_EQ(CsvField("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(CsvField("-2+3,x"), "\"'-2+3,x\"");
  EXPECT_EQ(CsvField("\t=x"), "'\t=x");
  // Numbers are not formulas.
  EXPECT_EQ(CsvField("-1.5"), "-1.5");
  EXPECT_EQ(CsvField("+3e9"), "+3e9");
  EXPECT_EQ(CsvField("-12.5%"), "-12.5%");
  // The tables' "no value" is a lone dash: text in a spreadsheet, nothing to neutralise.
  EXPECT_EQ(CsvField("-"), "-");
  EXPECT_EQ(CsvField("="), "=");
  // A sign before anything but a number still could be a formula.
  EXPECT_EQ(CsvField("-1.2 ms"), "'-1.2 ms");
  EXPECT_EQ(CsvField("--"), "'--");
  EXPECT_EQ(CsvField("-%"), "'-%");
}

TEST(Format, DurationsAndSizes) {
  EXPECT_EQ(FormatDuration(0.25), "250ms");
  EXPECT_EQ(FormatDuration(190), "3m10s");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatNs(12'300'000), "12.3 ms");
  EXPECT_EQ(FormatNsWithInterval(202'000, 201'400, 201'900), "202 µs [201.4, 201.9]");
}

TEST(Format, Figures) {
  EXPECT_EQ(FormatFigure(19'768.4), "19,770");
  EXPECT_EQ(FormatFigure(1'234'567), "1,235,000");
  EXPECT_EQ(FormatFigure(9'999.4), "9999");
  EXPECT_EQ(FormatFigure(843.21), "843.2");
  EXPECT_EQ(FormatFigure(0.012341), "0.01234");
  EXPECT_EQ(FormatFigure(-25'000), "-25,000");
  EXPECT_EQ(FormatFigure(std::nan("")), "-");
}

// The shuffle must be the same on every machine: these values were produced by this code and
// depend only on mt19937_64's standard-defined output.
TEST(Random, UniformIndexIsPortable) {
  Rng rng(42);
  std::vector<uint64_t> got;
  for (int i = 0; i < 5; ++i) got.push_back(UniformIndex(rng, 10));
  Rng again(42);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(UniformIndex(again, 10), got[static_cast<size_t>(i)]);
  EXPECT_EQ(got, (std::vector<uint64_t>{6, 4, 0, 2, 1}));  // recorded; must never change
  // [rand.predef]: the 10000th output of a default-constructed mt19937_64 is fixed by the standard.
  Rng standard;
  standard.discard(9999);
  EXPECT_EQ(standard(), 9981545732273789042ULL);
}

}  // namespace
}  // namespace dlb
