#include <gtest/gtest.h>

#include "core/quantity_parse.h"
#include "suanli/core/text.h"

namespace suanli {
namespace {

TEST(Units, ParsesDecimalAndBinaryBytesApart) {
  auto gb = ParseQuantity("96 GB");
  auto gib = ParseQuantity("96 GiB");
  ASSERT_TRUE(gb.ok && gib.ok);
  EXPECT_DOUBLE_EQ(gb.quantity.si, 96e9);
  EXPECT_DOUBLE_EQ(gib.quantity.si, 96.0 * 1024 * 1024 * 1024);
  EXPECT_EQ(gb.quantity.dim, dims::kByte);
}

TEST(Units, ParsesRatesBandwidthBitsPowerArea) {
  EXPECT_DOUBLE_EQ(ParseQuantity("4.0 TB/s").quantity.si, 4e12);
  EXPECT_DOUBLE_EQ(ParseQuantity("400 Gb/s").quantity.si, 50e9);  // bits
  EXPECT_DOUBLE_EQ(ParseQuantity("989.4 TFLOPS").quantity.si, 989.4e12);
  EXPECT_DOUBLE_EQ(ParseQuantity("296 TOPS").quantity.si, 296e12);
  EXPECT_DOUBLE_EQ(ParseQuantity("10.2 kW").quantity.si, 10200);
  EXPECT_DOUBLE_EQ(ParseQuantity("814 mm2").quantity.si, 814e-6);
  EXPECT_DOUBLE_EQ(ParseQuantity("5 us").quantity.si, 5e-6);
  EXPECT_EQ(ParseQuantity("4.0 TB/s").quantity.dim, dims::kBandwidth);
  EXPECT_EQ(ParseQuantity("700W").quantity.dim, dims::kPower);  // space optional
  EXPECT_EQ(ParseQuantity("70.6e9").quantity.dim, dims::kNone);
}

TEST(Units, RejectsUnknownUnitsAndNonNumbers) {
  auto bad = ParseQuantity("4 TB/sec");
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.message.find("unknown unit 'TB/sec'"), std::string::npos);
  EXPECT_FALSE(ParseQuantity("fast").ok);
  EXPECT_FALSE(ParseQuantity("").ok);
  EXPECT_FALSE(ParseQuantity("inf GB").ok);
}

TEST(Units, NumbersOutOfRangeSaySo) {
  // Issue 11: '1e400' does start with a number; it is out of range.
  auto huge = ParseQuantity("1e400 TB/s");
  EXPECT_FALSE(huge.ok);
  EXPECT_NE(huge.message.find("out of range"), std::string::npos) << huge.message;
  // Finite as written, infinite once scaled by 10^12.
  auto scaled = ParseQuantity("1e300 TFLOPS");
  EXPECT_FALSE(scaled.ok);
  EXPECT_NE(scaled.message.find("out of range once converted to SI units"), std::string::npos) << scaled.message;
  EXPECT_FALSE(ParseQuantity("1e-320 ns").ok);  // underflows to zero
  EXPECT_TRUE(ParseQuantity("1e300").ok);       // no unit, no scaling
}

TEST(Units, QuantityArithmeticCarriesDimensions) {
  const Bytes weights(140e9);
  const BytesPerSecond bw(4e12);
  const Seconds t = weights / bw;
  EXPECT_DOUBLE_EQ(t.si(), 0.035);
  const OpsPerSecond rate(148e12);
  const Ops work = rate * Seconds(2.0);
  EXPECT_DOUBLE_EQ(work.si(), 296e12);
  EXPECT_DOUBLE_EQ((Bytes(3) + Bytes(4)).si(), 7);
  EXPECT_LT(Bytes(1), Bytes(2));
}

TEST(Units, EveryDimensionHasAnExampleThatParsesBack) {
  for (Dim d : {dims::kByte, dims::kBandwidth, dims::kOpRate, dims::kPower, dims::kArea, dims::kSecond,
                dims::kUsd, dims::kCny}) {
    auto q = ParseQuantity(DimExample(d));
    ASSERT_TRUE(q.ok) << DimExample(d);
    EXPECT_EQ(q.quantity.dim, d) << DimExample(d);
    EXPECT_FALSE(UnitsFor(d).empty());
  }
}

TEST(Text, TrimBlanksDropsSpacesAndTabsAtTheEnds) {
  EXPECT_EQ(TrimBlanks(" \tsglang \t"), "sglang");
  EXPECT_EQ(TrimBlanks(" \t "), "");
  EXPECT_EQ(TrimBlanks("a b"), "a b");
}

TEST(Text, CommaListsDropWhiteSpaceAndEmptyItems) {
  EXPECT_EQ(SplitCommaList(" 8 = 153/158, 16=43,,"), (std::vector<std::string>{"8=153/158", "16=43"}));
  EXPECT_TRUE(SplitCommaList(" , ").empty());
  EXPECT_EQ(SplitCommaList("a"), std::vector<std::string>{"a"});
}

TEST(Text, CommaItemsKeepEmptyItemsForTheParserToRefuse) {
  EXPECT_EQ(SplitCommaItems(" 0.9 ,\t,0.7 "), (std::vector<std::string>{"0.9", "", "0.7"}));
  EXPECT_EQ(SplitCommaItems("a b,"), (std::vector<std::string>{"a b", ""}));
  EXPECT_EQ(SplitCommaItems(""), std::vector<std::string>{""});
}

}  // namespace
}  // namespace suanli

