// Pins the helpers behind every error message ("did you mean") and every printed figure.
#include "util/strings.h"

#include <gtest/gtest.h>

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

TEST(Format, DurationsAndSizes) {
  EXPECT_EQ(FormatDuration(0.25), "250ms");
  EXPECT_EQ(FormatDuration(190), "3m10s");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatNs(12'300'000), "12.3 ms");
  EXPECT_EQ(FormatNsWithInterval(202'000, 201'400, 201'900), "202 µs [201.4, 201.9]");
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
