// Measured dispatch curves: parsing (and each error), the points given back
// exactly, interpolation between them monotone.
#include "suanli/hardware/dispatch_curve.h"

#include <gtest/gtest.h>

namespace suanli {
namespace {

DispatchCurve Parse(std::string_view text) {
  DispatchCurve c;
  std::string error;
  EXPECT_TRUE(ParseDispatchCurve(text, c, error)) << error;
  return c;
}

// DeepEP V1 (docs/legacy.md), the development set's micro-22 and micro-23.
constexpr std::string_view kLowLatency = "8=98/127, 16=63/74, 32=48/53, 64=43/46, 128=39/39, 256=39/40";

TEST(DispatchCurve, GivesBackEveryMeasuredPoint) {
  const DispatchCurve internode = Parse("16=43, 32=58/57, 64=51/50");
  ASSERT_EQ(internode.size, 3);
  EXPECT_DOUBLE_EQ(internode.At(16, false), 43e9);
  EXPECT_DOUBLE_EQ(internode.At(16, true), 43e9);  // one figure is both
  EXPECT_DOUBLE_EQ(internode.At(32, false), 58e9);
  EXPECT_DOUBLE_EQ(internode.At(32, true), 57e9);
  EXPECT_DOUBLE_EQ(internode.At(64, true), 50e9);
  const DispatchCurve ll = Parse(kLowLatency);
  const double ep[] = {8, 16, 32, 64, 128, 256}, dispatch[] = {98, 63, 48, 43, 39, 39}, combine[] = {127, 74, 53, 46, 39, 40};
  for (int i = 0; i < 6; ++i) {
    EXPECT_DOUBLE_EQ(ll.At(ep[i], false), dispatch[i] * 1e9) << ep[i];
    EXPECT_DOUBLE_EQ(ll.At(ep[i], true), combine[i] * 1e9) << ep[i];
  }
  // Beyond the ends: the end points (EP 4 takes EP 8's figure).
  EXPECT_DOUBLE_EQ(ll.At(4, false), 98e9);
  EXPECT_DOUBLE_EQ(ll.At(1024, true), 40e9);
}

TEST(DispatchCurve, InterpolationStaysBetweenItsNeighbours) {
  const DispatchCurve ll = Parse(kLowLatency);
  for (bool combine : {false, true}) {
    for (int i = 0; i + 1 < ll.size; ++i) {
      const double lo = std::min(ll.At(ll.ep[i], combine), ll.At(ll.ep[i + 1], combine));
      const double hi = std::max(ll.At(ll.ep[i], combine), ll.At(ll.ep[i + 1], combine));
      const bool falling = ll.At(ll.ep[i + 1], combine) <= ll.At(ll.ep[i], combine);
      double last = ll.At(ll.ep[i], combine);
      for (double r = ll.ep[i]; r <= ll.ep[i + 1]; r += 1) {
        const double v = ll.At(r, combine);
        EXPECT_GE(v, lo - 1e-3);
        EXPECT_LE(v, hi + 1e-3);
        if (falling) EXPECT_LE(v, last + 1e-3) << r; else EXPECT_GE(v, last - 1e-3) << r;
        last = v;
      }
    }
  }
  // Half-way in log2(EP) between 8 and 16: the mean of the two.
  EXPECT_NEAR(ll.At(std::sqrt(8.0 * 16.0), false), (98e9 + 63e9) / 2, 1e3);
}

TEST(DispatchCurve, RejectsWhatIsNotACurve) {
  DispatchCurve c;
  std::string error;
  for (std::string_view bad : {"", "8", "8=", "8=abc", "x=3", "8=-1", "8=0/5", "8=1/0", "2.5=3", "0=3", "16=3, 8=4",
                               "8=3, 8=4", "8=3/4/5", "8=3x"}) {
    error.clear();
    EXPECT_FALSE(ParseDispatchCurve(bad, c, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  EXPECT_TRUE(ParseDispatchCurve(" 8 = 153 / 158 ,", c, error)) << error;
  EXPECT_EQ(c.size, 1);
  EXPECT_EQ(DispatchCurve{}.At(8, false), 0);
}

}  // namespace
}  // namespace suanli
