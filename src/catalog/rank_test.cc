// Devices as ranks: a chip's `dies`, a system's `rank`, one die as a device
// of its own (DieOf, DieRankedSystem, RankedDevice) and what reads it.
#include <gtest/gtest.h>

#include "support/test_support.h"
#include "suanli/api/commands.h"
#include "suanli/catalog/catalog.h"
#include "suanli/hardware/cluster.h"
#include "suanli/hardware/device.h"
#include "suanli/policy/classify.h"

namespace suanli {
namespace {

std::string LoadErrors(const testing::TempDir& dir) {
  auto catalog = Catalog::Load(dir.path());
  return catalog.has_value() ? std::string() : catalog.error().ToString();
}

// A two-die chip beside the minimal catalog's one-die base.
void WriteTwoDieChip(const testing::TempDir& dir, const std::string& dies) {
  dir.Write("chips/duo.yaml",
            "id: duo\nname: Duo\nvendor: V\n"
            "compute:\n  fp16: {value: 200 TFLOPS, basis: datasheet, source: [SRC]}\n"
            "memory:\n  capacity: {value: 128 GiB, basis: datasheet, source: [SRC]}\n"
            "  bandwidth: {value: 4 TB/s, basis: datasheet, source: SRC}\n"
            "dies: {value: " + dies + ", basis: datasheet, source: [SRC]}\n");
}

TEST(Dies, ParsedWithOneWhenAbsent) {
  testing::TempDir dir;
  testing::WriteMinimalCatalog(dir);
  WriteTwoDieChip(dir, "2");
  auto c = Catalog::Load(dir.path());
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->FindChip("duo")->Dies(), 2);
  EXPECT_EQ(c->FindChip("base")->Dies(), 1);
  EXPECT_EQ(c->FindSystem("node")->rank, DeviceRank::kPackage);  // the default
  const Chip* shipped = testing::ShippedCatalog().FindChip("ascend-910c");
  ASSERT_NE(shipped, nullptr);
  EXPECT_EQ(shipped->Dies(), 2);
  EXPECT_EQ(testing::ShippedCatalog().FindSystem("cloudmatrix-384")->rank, DeviceRank::kDie);
}

TEST(Dies, BadValuesNameTheFileLineAndKey) {
  for (const char* bad : {"1.5", "0", "17", "two"}) {
    testing::TempDir dir;
    testing::WriteMinimalCatalog(dir);
    WriteTwoDieChip(dir, bad);
    const std::string errors = LoadErrors(dir);
    EXPECT_NE(errors.find("duo.yaml:9:"), std::string::npos) << bad << ": " << errors;
    EXPECT_NE(errors.find("dies"), std::string::npos) << bad << ": " << errors;
  }
  testing::TempDir dir;
  testing::WriteMinimalCatalog(dir);
  dir.Write("systems/n2.yaml", "id: n2\nname: N2\nvendor: V\nchip: base\nrank: dies\n"
                               "chips_per_node: {value: 8, basis: datasheet, source: [SRC]}\n");
  const std::string errors = LoadErrors(dir);
  EXPECT_NE(errors.find("n2.yaml:5:"), std::string::npos) << errors;
  EXPECT_NE(errors.find("rank"), std::string::npos) << errors;
}

TEST(DieOf, HalvesThePackagesPerChipFigures) {
  const Catalog& catalog = testing::ShippedCatalog();
  const Chip& package = *catalog.FindChip("ascend-910c");
  const Chip die = DieOf(package);
  EXPECT_EQ(die.rank, DeviceRank::kDie);
  EXPECT_EQ(die.id, package.id);  // the same profile and prices
  for (const char* key : {"compute.bf16", "compute.fp16", "compute.int8", "memory.capacity", "memory.bandwidth",
                          "scale_up.bandwidth", "scale_out.bandwidth", "die_area"}) {
    ASSERT_TRUE(package.Get(key).has_value()) << key;
    EXPECT_DOUBLE_EQ(*die.Get(key), *package.Get(key) / 2) << key;
  }
  EXPECT_DOUBLE_EQ(*die.Get("compute.bf16"), 376e12);
  EXPECT_DOUBLE_EQ(*die.Get("scale_up.domain"), 768);
  EXPECT_DOUBLE_EQ(die.Find("compute.bf16")->range->second, 400e12);
  // A one-die chip, and a die, come back as they are.
  const Chip& h100 = *catalog.FindChip("h100-sxm");
  EXPECT_EQ(*DieOf(h100).Get("compute.bf16"), *h100.Get("compute.bf16"));
  EXPECT_EQ(*DieOf(die).Get("compute.bf16"), *die.Get("compute.bf16"));
}

TEST(DieOf, ADieDeviceHasHalfThePackagesComputeAndMemory) {
  const Catalog& catalog = testing::ShippedCatalog();
  const Chip& chip = *catalog.FindChip("ascend-910c");
  const System& cm384 = *catalog.FindSystem("cloudmatrix-384");
  auto package = MakeCluster(catalog, chip, &cm384);
  const RankedRecords die_records = RankedDevice(chip, &cm384, std::nullopt);  // the system's rank: die
  ASSERT_EQ(die_records.rank, DeviceRank::kDie);
  auto die = MakeCluster(catalog, die_records.chip, die_records.system_ptr());
  ASSERT_TRUE(package.has_value() && die.has_value());
  for (Dtype t : {Dtype::kBf16, Dtype::kFp16, Dtype::kInt8}) {
    EXPECT_DOUBLE_EQ(Peak(die->device, t), Peak(package->device, t) / 2);
  }
  EXPECT_DOUBLE_EQ(die->device.memory_capacity.si(), package->device.memory_capacity.si() / 2);
  EXPECT_DOUBLE_EQ(die->device.memory_bandwidth.si(), package->device.memory_bandwidth.si() / 2);
  EXPECT_DOUBLE_EQ(die->topology.scale_up_bandwidth.si(), 196e9);
  EXPECT_DOUBLE_EQ(die->topology.scale_out_bandwidth.si(), 200e9 / 8);
  EXPECT_EQ(die->topology.scale_up_domain, 768);
  EXPECT_EQ(die->chips_per_node, 16);
  EXPECT_EQ(package->chips_per_node, 8);
  EXPECT_DOUBLE_EQ(die->price_per_chip.si(), package->price_per_chip.si() / 2);
  EXPECT_DOUBLE_EQ(die->node_power.si(), package->node_power.si());  // per server
  // The profile's fractions and fixed costs are the die's either way.
  EXPECT_EQ(die->device.gemm_efficiency, package->device.gemm_efficiency);
  EXPECT_EQ(die->device.reserved_bytes.si(), package->device.reserved_bytes.si());
  // --rank package on the die-ranked system is the catalog's package.
  EXPECT_EQ(RankedDevice(chip, &cm384, DeviceRank::kPackage).rank, DeviceRank::kPackage);
  EXPECT_EQ(RankedDevice(chip, nullptr, std::nullopt).rank, DeviceRank::kPackage);  // a bare chip
  EXPECT_EQ(RankedDevice(chip, nullptr, DeviceRank::kDie).rank, DeviceRank::kDie);
}

TEST(DieOf, DispatchCurvesMeasuredPerDieAreRecountedOnAPackage) {
  const Catalog& catalog = testing::ShippedCatalog();
  const Chip& chip = *catalog.FindChip("ascend-910c");
  ASSERT_EQ(catalog.ProfileFor(chip)->dispatch_rank, DeviceRank::kDie);
  auto package = MakeDevice(catalog, chip);
  auto die = MakeDevice(catalog, DieOf(chip));
  ASSERT_TRUE(package.has_value() && die.has_value());
  const DispatchCurves& p = package->expert_dispatch;
  const DispatchCurves& d = die->expert_dispatch;
  ASSERT_FALSE(p.empty());
  // As measured on the die (DEEPEP_ASCEND_A3): EP 8 dies, 146 / 125 GB/s per die over 196 GB/s of UB.
  EXPECT_DOUBLE_EQ(d.normal_intranode.At(8, false), 146e9);
  EXPECT_DOUBLE_EQ(d.normal_intranode.At(8, true), 125e9);
  EXPECT_DOUBLE_EQ(d.scale_up, 196e9);
  // The same exchange on packages: 4 packages, each carrying its two dies' traffic.
  for (double dies : {8.0, 16.0, 24.0, 64.0}) {
    for (bool combine : {false, true}) {
      EXPECT_DOUBLE_EQ(p.normal_intranode.At(dies / 2, combine), 2 * d.normal_intranode.At(dies, combine)) << dies;
      EXPECT_DOUBLE_EQ(p.low_latency.At(dies / 2, combine), 2 * d.low_latency.At(dies, combine)) << dies;
    }
  }
  EXPECT_DOUBLE_EQ(p.scale_up, 392e9);
  EXPECT_DOUBLE_EQ(p.scale_out, 2 * d.scale_out);
}

TEST(DieOf, ClassificationReadsThePackage) {
  const Catalog& catalog = testing::ShippedCatalog();
  const Chip& chip = *catalog.FindChip("ascend-910c");
  const RuleSet* rules = catalog.FindRuleSet("us-2023-10");
  ASSERT_NE(rules, nullptr);
  const Classification package = Classify(chip, *rules);
  // The die would classify differently (half the TPP), so the check below can fail.
  ASSERT_TRUE(package.metrics.tpp && Classify(DieOf(chip), *rules).metrics.tpp);
  EXPECT_DOUBLE_EQ(*Classify(DieOf(chip), *rules).metrics.tpp, *package.metrics.tpp / 2);
  // classify on the die-ranked system still sees the package.
  auto r = RunClassify(catalog, ClassifyQuery{.hardware = "cloudmatrix-384", .rules = {"us-2023-10"}, .headroom_rules = ""});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_EQ(r->results.size(), 1u);
  EXPECT_EQ(r->results[0][0].metrics.tpp, package.metrics.tpp);
  EXPECT_EQ(r->results[0][0].category, package.category);
  EXPECT_EQ(r->results[0][0].metrics.dram_bandwidth, package.metrics.dram_bandwidth);
}

TEST(AtRank, DeploymentsOnTheSystemAreDiesUnlessAsked) {
  const Catalog& catalog = testing::ShippedCatalog();
  auto die = ResolveDeployment(catalog, "cloudmatrix-384", "deepseek-r1", std::nullopt);
  auto package = ResolveDeployment(catalog, "cloudmatrix-384", "deepseek-r1", DeviceRank::kPackage);
  ASSERT_TRUE(die.has_value() && package.has_value());
  EXPECT_EQ(die->hardware.rank, DeviceRank::kDie);
  EXPECT_EQ(die->hardware.id(), "cloudmatrix-384");
  EXPECT_DOUBLE_EQ(*die->hardware.system->Get("chips_per_node"), 16);
  EXPECT_EQ(package->hardware.rank, DeviceRank::kPackage);
  EXPECT_DOUBLE_EQ(*package->hardware.system->Get("chips_per_node"), 8);
  // A copy keeps its own system record alive.
  const ResolvedHardware copy = die->hardware;
  EXPECT_DOUBLE_EQ(*copy.system->Get("scale_up.domain"), 768);
}

}  // namespace
}  // namespace suanli
