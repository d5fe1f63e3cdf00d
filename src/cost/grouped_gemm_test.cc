// Grouped (MoE expert) GEMMs: tile padding and the tile's fixed cost, from
// first principles and against the kernel measurements the profile cites.
#include <gtest/gtest.h>

#include <cmath>

#include "suanli/cost/roofline.h"

namespace suanli {
namespace {

Device Hopperish() {
  Device d;
  d.grouped_tile_m = 128;
  d.grouped_tile_m_min = 16;
  d.grouped_tile_n = 128;
  d.k_overhead8 = 718;
  return d;
}

TEST(GroupedGemm, NoTilesAndNoOverheadIsNoExtraWork) {
  const Device d;  // profile without the figures
  for (double m : {1.0, 7.0, 300.0, 1e5}) {
    EXPECT_DOUBLE_EQ(GroupedGemmWork(d, Dtype::kFp8, m, 512, 100), 1);
    for (GroupedPass p : {GroupedPass::kForward, GroupedPass::kInputGrad, GroupedPass::kWeightGrad}) {
      EXPECT_DOUBLE_EQ(ExpertGemmWork(d, Dtype::kBf16, p, m, 4096, 1536), 1);
    }
  }
}

TEST(GroupedGemm, RowsPadToTilesAndSmallerTilesForFewTokens) {
  const Device d = Hopperish();
  EXPECT_DOUBLE_EQ(GroupedRows(d, 1), 16);      // one token still computes the smallest tile
  EXPECT_DOUBLE_EQ(GroupedRows(d, 64), 96);     // the next power of two pads about half of m
  EXPECT_DOUBLE_EQ(GroupedRows(d, 128), 192);   // continuous where full tiles take over
  EXPECT_DOUBLE_EQ(GroupedRows(d, 4096), 4160); // half a 128-row tile on average
  // More tokens per expert never cost less in total, and waste less per token.
  for (double m = 1; m < 1e5; m *= 1.7) {
    EXPECT_LE(GroupedRows(d, m), GroupedRows(d, m * 1.7) + 1e-9);
    EXPECT_GE(GroupedRows(d, m) / m + 1e-12, GroupedRows(d, m * 1.7) / (m * 1.7));
    EXPECT_GE(GroupedRows(d, m), m);
  }
}

TEST(GroupedGemm, TileOverheadReproducesTheMeasuredShortReduction) {
  // micro-06 (DeepGEMM FP8 on H800): 4096x32768x512 at 590 and 4096x7168x16384
  // at 1358 TFLOP/s. Rows and columns are whole tiles, so the ratio is the
  // reduction depth alone.
  const Device d = Hopperish();
  const double short_k = GroupedGemmWork(d, Dtype::kFp8, 4096 - 64, 512, 32768);
  const double long_k = GroupedGemmWork(d, Dtype::kFp8, 4096 - 64, 16384, 7168);
  EXPECT_NEAR(long_k / short_k, 590.0 / 1358.0, 0.01);
  // The grouped contiguous GEMMs of the same README (DeepSeek-V3's experts:
  // N 4096 K 7168, N 7168 K 2048) measured 1297 and 1088 TFLOP/s.
  const double gate_up = GroupedGemmWork(d, Dtype::kFp8, 8192, 7168, 4096);
  const double down = GroupedGemmWork(d, Dtype::kFp8, 8192, 2048, 7168);
  EXPECT_NEAR(1358 / gate_up, 1297, 0.05 * 1297);
  EXPECT_NEAR(1358 / down, 1088, 0.05 * 1088);
  // Deeper reductions are never more work; beyond the measured depth none is added.
  for (double k = 64; k < 65536; k *= 2) {
    EXPECT_GE(GroupedGemmWork(d, Dtype::kFp8, 1e6, k, 4096), GroupedGemmWork(d, Dtype::kFp8, 1e6, 2 * k, 4096));
  }
  EXPECT_NEAR(GroupedGemmWork(d, Dtype::kFp8, 1e6, 65536, 4096), 1, 1e-3);
}

TEST(GroupedGemm, NarrowerOperandsPayTheFixedPartMoreOften) {
  // The main loop per reduction element takes half as long at 8 bits as at 16.
  const Device d = Hopperish();
  EXPECT_DOUBLE_EQ(KOverhead(d, Dtype::kBf16), 359);
  EXPECT_DOUBLE_EQ(KOverhead(d, Dtype::kFp8), 718);
  EXPECT_DOUBLE_EQ(KOverhead(d, Dtype::kFp4), 1436);
  EXPECT_LT(GroupedGemmWork(d, Dtype::kBf16, 4096, 1536, 4096), GroupedGemmWork(d, Dtype::kFp8, 4096, 1536, 4096));
}

TEST(GroupedGemm, ColumnsPadToWholeTiles) {
  const Device d = Hopperish();
  EXPECT_NEAR(GroupedGemmWork(d, Dtype::kBf16, 1e9, 1e9, 192), 256.0 / 192, 1e-6);
  EXPECT_NEAR(GroupedGemmWork(d, Dtype::kBf16, 1e9, 1e9, 256), 1, 1e-6);
}

TEST(GroupedGemm, WeightGradientReducesOverTheExpertsTokens) {
  // Few tokens per expert: the weight gradient's reduction is short, so it is
  // the pass that pays most; with many tokens all three passes converge.
  const Device d = Hopperish();
  const double few_f = ExpertGemmWork(d, Dtype::kBf16, GroupedPass::kForward, 256, 4096, 1536);
  const double few_w = ExpertGemmWork(d, Dtype::kBf16, GroupedPass::kWeightGrad, 256, 4096, 1536);
  EXPECT_GT(few_w, few_f);
  const double many_f = ExpertGemmWork(d, Dtype::kBf16, GroupedPass::kForward, 1e6, 4096, 1536);
  const double many_i = ExpertGemmWork(d, Dtype::kBf16, GroupedPass::kInputGrad, 1e6, 4096, 1536);
  const double many_w = ExpertGemmWork(d, Dtype::kBf16, GroupedPass::kWeightGrad, 1e6, 4096, 1536);
  EXPECT_NEAR(many_w, 1, 1e-3);
  EXPECT_GT(many_f, 1);  // the 1536-deep down projection
  EXPECT_GT(many_i, 1);
}

TEST(GroupedGemm, WorkSlowsTheComputeRoofOnly) {
  Device d = Hopperish();
  d.peak[static_cast<int>(Dtype::kBf16)] = OpsPerSecond(1e15);
  d.memory_bandwidth = BytesPerSecond(3e12);
  d.memory_efficiency = 1;
  d.gemm_efficiency = 0.5;
  const ComputeRate r = RateFor(d, Dtype::kBf16);
  const OpTime big = GemmOp(d, r, 1e12, 1e6, 1, 2);  // compute-bound: twice the work, twice the time
  EXPECT_NEAR(big.seconds, 2 * GemmOp(d, r, 1e12, 1e6, 1, 1).seconds, 1e-15);
  const OpTime streamed = GemmOp(d, r, 1e6, 3e9, 1, 2);  // memory-bound: unchanged
  EXPECT_DOUBLE_EQ(streamed.seconds, GemmOp(d, r, 1e6, 3e9, 1, 1).seconds);
}

}  // namespace
}  // namespace suanli
