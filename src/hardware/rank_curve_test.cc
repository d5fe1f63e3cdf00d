// A figure by group size: parsing (and each error), the points given back
// exactly, interpolation between them monotone, the ends held.
#include "suanli/hardware/rank_curve.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace suanli {
namespace {

RankCurve Parse(std::string_view text) {
  RankCurve c;
  std::string error;
  EXPECT_TRUE(ParseRankCurve(text, kAllReduceEfficiencyMax, c, error)) << error;
  return c;
}

std::string ErrorOf(std::string_view text) {
  RankCurve c;
  std::string error;
  EXPECT_FALSE(ParseRankCurve(text, kAllReduceEfficiencyMax, c, error)) << text;
  EXPECT_TRUE(c.empty() || !error.empty());
  return error;
}

// The GB200 all-reduce bus bandwidths over 900 GB/s (nvidia-blackwell.yaml).
constexpr std::string_view kGb200 = "4=0.755, 8=0.901, 72=0.941";

TEST(RankCurve, GivesBackEveryMeasuredPointAndHoldsTheEnds) {
  const RankCurve c = Parse(kGb200);
  ASSERT_EQ(c.size, 3);
  EXPECT_DOUBLE_EQ(c.At(4), 0.755);
  EXPECT_DOUBLE_EQ(c.At(8), 0.901);
  EXPECT_DOUBLE_EQ(c.At(72), 0.941);
  EXPECT_DOUBLE_EQ(c.At(2), 0.755);    // below the first point: the first
  EXPECT_DOUBLE_EQ(c.At(576), 0.941);  // beyond the last: the last
  EXPECT_DOUBLE_EQ(RankCurve{}.At(8), 0);
}

TEST(RankCurve, InterpolationStaysBetweenItsNeighbours) {
  const RankCurve c = Parse("2=0.817, 4=0.817, 5=0.933, 8=1.064, 16=0.9");
  for (int i = 0; i + 1 < c.size; ++i) {
    const double a = c.value[i], b = c.value[i + 1];
    double last = a;
    for (double n = c.ranks[i]; n <= c.ranks[i + 1]; n += 0.25) {
      const double v = c.At(n);
      EXPECT_GE(v, std::min(a, b) - 1e-12) << n;
      EXPECT_LE(v, std::max(a, b) + 1e-12) << n;
      if (b >= a) EXPECT_GE(v, last - 1e-12) << n; else EXPECT_LE(v, last + 1e-12) << n;
      last = v;
    }
  }
  // Half-way in log2(ranks) between 4 and 16 points of a two-point curve: the mean.
  const RankCurve two = Parse("4=0.6, 16=0.9");
  EXPECT_NEAR(two.At(8), 0.75, 1e-12);
}

TEST(RankCurve, RejectsWhatIsNotACurve) {
  EXPECT_NE(ErrorOf("").find("no points"), std::string::npos);
  EXPECT_NE(ErrorOf("8").find("RANKS=FRACTION"), std::string::npos);
  EXPECT_NE(ErrorOf("1=0.8").find("at least 2"), std::string::npos);
  EXPECT_NE(ErrorOf("2.5=0.8").find("whole number"), std::string::npos);
  EXPECT_NE(ErrorOf("x=0.8").find("whole number"), std::string::npos);
  EXPECT_NE(ErrorOf("8=fast").find("RANKS=FRACTION"), std::string::npos);
  EXPECT_NE(ErrorOf("8=0.9x").find("RANKS=FRACTION"), std::string::npos);
  EXPECT_NE(ErrorOf("8=0").find("positive and at most 2"), std::string::npos);
  EXPECT_NE(ErrorOf("8=2.5").find("positive and at most 2"), std::string::npos);
  EXPECT_NE(ErrorOf("8=nan").find("positive"), std::string::npos);
  EXPECT_NE(ErrorOf("8=0.9, 4=0.8").find("must increase"), std::string::npos);
  EXPECT_NE(ErrorOf("8=0.9, 8=0.8").find("must increase"), std::string::npos);
  EXPECT_NE(ErrorOf("2=1,3=1,4=1,5=1,6=1,7=1,8=1,9=1,10=1,11=1,12=1,13=1,14=1").find("at most 12"), std::string::npos);
}

}  // namespace
}  // namespace suanli
