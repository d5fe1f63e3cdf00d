// Export-control classification of the shipped catalog, pinned to the
// figures of shared research hardware.md part B (table in B.2).
#include <gtest/gtest.h>

#include "support/test_support.h"
#include "suanli/policy/classify.h"

namespace suanli {
namespace {

class ClassifyTest : public ::testing::Test {
 protected:
  static const Catalog& catalog() { return testing::ShippedCatalog(); }
  static Classification Of(const char* chip, const char* rules) {
    const Chip* c = catalog().FindChip(chip);
    const RuleSet* r = catalog().FindRuleSet(rules);
    EXPECT_NE(c, nullptr) << chip;
    EXPECT_NE(r, nullptr) << rules;
    return Classify(*c, *r);
  }
};

TEST_F(ClassifyTest, H20SitsJustBelowTheOct2023Thresholds) {
  const Classification c = Of("h20", "us-2023-10");
  EXPECT_NEAR(*c.metrics.tpp, 2368, 0.5);
  EXPECT_NEAR(*c.metrics.performance_density, 2.91, 0.01);
  EXPECT_EQ(c.metrics.tpp_format, "fp8");
  EXPECT_EQ(c.controlled, false);
  EXPECT_EQ(c.category, "not-3A090");
  // Headroom: 32 TPP (1.35%) before 3A090.b.1 at TPP 2400.
  ASSERT_FALSE(c.headroom.empty());
  EXPECT_EQ(c.headroom[0].metric, "tpp");
  EXPECT_NEAR(*c.headroom[0].limit, 2400, 1e-6);
  EXPECT_NEAR(c.headroom[0].margin, 32, 1e-6);
  EXPECT_EQ(c.headroom[0].flips_to, "3A090.b");
}

TEST_F(ClassifyTest, H20NeedsALicenceUnderTheApril2025Criteria) {
  const Classification c = Of("h20", "us-2025-04-h20");
  EXPECT_EQ(c.controlled, true);
  EXPECT_EQ(c.category, "licence (DRAM bandwidth)");
  EXPECT_FALSE(c.warnings.empty());  // reported, not rule text
}

TEST_F(ClassifyTest, A800AndH800WereFreeInOct2022AndControlledInOct2023) {
  for (const char* chip : {"a800-sxm-80gb", "h800-sxm"}) {
    EXPECT_EQ(Of(chip, "us-2022-10").controlled, false) << chip;
    EXPECT_LT(*Of(chip, "us-2022-10").metrics.io_bidirectional, 600e9) << chip;
    EXPECT_EQ(Of(chip, "us-2023-10").controlled, true) << chip;
    EXPECT_EQ(Of(chip, "us-2023-10").category, "3A090.a.1") << chip;
  }
  EXPECT_EQ(Of("a100-sxm-80gb", "us-2022-10").controlled, true);  // the unmodified A100 was
}

TEST_F(ClassifyTest, H100Is3A090a1) {
  const Classification c = Of("h100-sxm", "us-2023-10");
  EXPECT_NEAR(*c.metrics.tpp, 15832, 1);
  EXPECT_NEAR(*c.metrics.performance_density, 19.45, 0.01);
  EXPECT_EQ(c.category, "3A090.a.1");
  // To leave control an H100-sized die would need TPP below 2400.
  ASSERT_FALSE(c.headroom.empty());
  EXPECT_NEAR(*c.headroom[0].limit, 2400, 1e-6);
  EXPECT_LT(c.headroom[0].margin, 0);
}

TEST_F(ClassifyTest, Rtx4090ControlledAnd4090DNotByNote2) {
  const Classification full = Of("rtx-4090", "us-2023-10");
  const Classification d = Of("rtx-4090d", "us-2023-10");
  EXPECT_NEAR(*full.metrics.tpp, 5285, 1);
  EXPECT_EQ(full.category, "3A090.a.1");
  EXPECT_NEAR(*d.metrics.tpp, 4707, 1);
  EXPECT_EQ(d.controlled, false);
  EXPECT_EQ(d.category, "not-3A090 (Note 2)");  // PD 7.7 would be .a.2 for a datacenter part
  EXPECT_NEAR(*d.metrics.performance_density, 7.73, 0.01);
}

TEST_F(ClassifyTest, L20IsBelowTheThresholds) {
  const Classification c = Of("l20", "us-2023-10");
  EXPECT_NEAR(*c.metrics.tpp, 1912, 1);  // TF32 x 32 would give 1913.6: excluded
  EXPECT_NEAR(*c.metrics.performance_density, 3.14, 0.01);
  EXPECT_EQ(c.controlled, false);
}

TEST_F(ClassifyTest, AscendChips) {
  const Classification b = Of("ascend-910b", "us-2023-10");
  EXPECT_GE(*b.metrics.tpp, 4480);
  EXPECT_LE(*b.metrics.tpp, 6016);
  EXPECT_EQ(b.controlled, true);
  EXPECT_EQ(Of("ascend-910b4", "us-2023-10").category, "3A090.a.2");  // TPP 4480 < 4800, PD 6.7
  const Classification c = Of("ascend-910c", "us-2023-10");
  EXPECT_GE(*c.metrics.tpp, 12032);
  EXPECT_EQ(c.category, "3A090.a.1");
  EXPECT_EQ(Of("ascend-910c", "us-2022-10").controlled, true);
}

TEST_F(ClassifyTest, NoDieAreaMeansTppOnlyWithAWarning) {
  const Classification a1 = Of("gaudi3", "us-2023-10");  // TPP far above 4800
  EXPECT_FALSE(a1.metrics.performance_density.has_value());
  EXPECT_EQ(a1.category, "3A090.a.1");
  EXPECT_FALSE(a1.warnings.empty());
  const Classification u = Of("mlu370-x8", "us-2023-10");  // TPP 2048: depends on density
  EXPECT_EQ(u.category, "undetermined");
  EXPECT_FALSE(u.controlled.has_value());
  bool area_hint = false;
  for (const auto& r : u.reasons) area_hint |= r.find("die area <= 346 mm2") != std::string::npos;
  EXPECT_TRUE(area_hint);
}

TEST_F(ClassifyTest, HbmRuleDoesNotClassifyChips) {
  const Classification c = Of("h100-sxm", "us-2024-12-hbm");
  EXPECT_EQ(c.controlled, false);
  EXPECT_NE(c.reasons.front().find("HBM stacks"), std::string::npos);
}

TEST(ClassifyMetrics, HeadroomIsConsistentWithReclassification) {
  // Property: a chip scaled to just below its TPP limit keeps its status;
  // scaled to the limit it flips.
  auto loaded = Catalog::Load(testing::CatalogDir());
  ASSERT_TRUE(loaded.has_value());
  const RuleSet* rules = loaded->FindRuleSet("us-2023-10");
  for (const auto& chip : loaded->chips()) {
    const Classification c = Classify(chip, *rules);
    for (const auto& h : c.headroom) {
      if (h.metric != "tpp" || !h.limit || !c.controlled) continue;
      const double keep = *h.limit * (*c.controlled ? 1.000001 : 0.999999);
      const double flip = *h.limit * (*c.controlled ? 0.999999 : 1.000001);
      for (double target : {keep, flip}) {
        Chip scaled = chip;
        const double k = target / h.current;
        for (auto& [key, fig] : scaled.figures) {
          if (key.starts_with("compute.") && key != "compute.sparsity") fig.value *= k;
        }
        const Classification after = Classify(scaled, *rules);
        if (target == keep) {
          EXPECT_EQ(after.controlled, c.controlled) << chip.id;
        } else {
          EXPECT_NE(after.controlled, c.controlled) << chip.id;
        }
      }
    }
  }
}

}  // namespace
}  // namespace suanli
