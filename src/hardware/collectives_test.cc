// Collectives over a switchless full mesh (HCCS on Atlas 800T A2, xGMI on
// MI300X): a group reaches only the links to its own peers. Bus bandwidth by
// group size (NVLS): a curve equal to the one figure changes nothing, more
// bandwidth at any size is never slower, measured points give back their time.
#include "suanli/hardware/collectives.h"

#include <gtest/gtest.h>

#include <string>

namespace suanli {
namespace {

Links MeshLinks(const Topology& topo, int mesh_links) {
  Links l;
  l.up_busbw = 125.4e9;  // 0.64 x 196 GB/s: the 8-rank HCCL bus bandwidth on 8 x 910B
  l.up_a2a = 125.4e9;
  l.up_p2p = 196e9;
  l.out = 25e9;
  l.latency = 45e-6;
  l.domain = 8;
  l.mesh_links = mesh_links;
  l.topology = &topo;
  return l;
}

TEST(Collectives, FullMeshGroupsReachOnlyTheirOwnLinks) {
  const Topology topo;
  const Links mesh = MeshLinks(topo, 7);
  const Links sw = MeshLinks(topo, 0);
  EXPECT_DOUBLE_EQ(UpShare(sw, 1), 1);
  EXPECT_DOUBLE_EQ(UpShare(mesh, 1), 1.0 / 7);
  EXPECT_DOUBLE_EQ(UpShare(mesh, 7), 1);
  EXPECT_DOUBLE_EQ(UpShare(mesh, 0), 1.0 / 7);  // never zero bandwidth
  // The HCCL measurement the 910B profile cites: bus bandwidth 18.5, 54.2 and
  // 125.4 GB/s for 2, 4 and 8 ranks (all-reduce of 8.67 GB in 468.5, 240.0, 121.1 ms).
  const double bytes = 4336808666.0 * 2;
  const double measured_ms[] = {468.46, 240.03, 121.09};
  int i = 0;
  for (int ranks : {2, 4, 8}) {
    const double t = AllReduce(mesh, bytes, Group{.ranks = ranks, .stride = 1});
    EXPECT_NEAR(t * 1e3, measured_ms[i], 0.05 * measured_ms[i]) << ranks << " ranks";
    // Through a switch every group gets the full bandwidth.
    EXPECT_LE(AllReduce(sw, bytes, Group{.ranks = ranks, .stride = 1}), t * (1 + 1e-12));
    ++i;
  }
  // The whole domain is the same either way; a pair's transfer uses one link.
  EXPECT_DOUBLE_EQ(AllReduce(mesh, bytes, Group{.ranks = 8, .stride = 1}), AllReduce(sw, bytes, Group{.ranks = 8, .stride = 1}));
  EXPECT_NEAR(SendRecv(mesh, 1e9, 2) - mesh.latency, 7 * (SendRecv(sw, 1e9, 2) - sw.latency), 1e-9);
  EXPECT_GT(Exchange(mesh, 1e9, Group{.ranks = 4, .stride = 1}), Exchange(sw, 1e9, Group{.ranks = 4, .stride = 1}));
}

TEST(Collectives, MeasuredAllToAllOnTheMesh) {
  // HCCL alltoall on 8 x 910B (AIC_NPU_910B_HCCL): 8.67 GB per rank in 99.7 ms
  // over 8 ranks, 182.0 ms over 4. The profile's all-to-all efficiency (0.388
  // of 196 GB/s) gives the 8-rank time; 4 ranks use 3 of the 7 links.
  const Topology topo;
  Links mesh = MeshLinks(topo, 7);
  mesh.up_a2a = 196e9 * 0.388;
  const double buffer = 4336808666.0 * 2;
  EXPECT_NEAR(Exchange(mesh, buffer * 7 / 8, Group{.ranks = 8, .stride = 1}) * 1e3, 99.7, 0.02 * 99.7);
  EXPECT_NEAR(Exchange(mesh, buffer * 3 / 4, Group{.ranks = 4, .stride = 1}) * 1e3, 182.0, 0.12 * 182.0);
}

// A switched HGX-like node (8 chips, 450 GB/s per direction) and its 8-node
// cluster: one figure, 1.064 of the link (micro-19), for every group.
Links SwitchLinks(const Topology& topo, const RankCurve* curve) {
  Links l;
  l.up = 450e9;
  l.up_busbw = 450e9 * 1.064;
  l.up_a2a = 450e9 * 0.8;
  l.up_p2p = 450e9;
  l.out = 40e9;
  l.latency = 38e-6;
  l.domain = 8;
  l.topology = &topo;
  l.busbw_by_ranks = curve;
  return l;
}

RankCurve Curve(std::string_view text) {
  RankCurve c;
  std::string error;
  EXPECT_TRUE(ParseRankCurve(text, kAllReduceEfficiencyMax, c, error)) << error;
  return c;
}

const Group kGroups[] = {{.ranks = 2, .stride = 1}, {.ranks = 4, .stride = 1}, {.ranks = 8, .stride = 1},
                         {.ranks = 4, .stride = 2}, {.ranks = 16, .stride = 1}, {.ranks = 64, .stride = 1},
                         {.ranks = 8, .stride = 4}, {.ranks = 6, .stride = 1}};

TEST(Collectives, ACurveEqualToTheOneFigureChangesNothing) {
  const Topology topo;
  const Links one = SwitchLinks(topo, nullptr);
  const RankCurve flat = Curve("2=1.064, 4=1.064, 8=1.064");
  const RankCurve point = Curve("8=1.064");
  for (const RankCurve* c : {&flat, &point}) {
    const Links curved = SwitchLinks(topo, c);
    for (const Group& g : kGroups) {
      for (double bytes : {0.0, 1e3, 1e6, 8e9}) {
        EXPECT_EQ(AllReduce(curved, bytes, g), AllReduce(one, bytes, g)) << g.ranks << "x" << g.stride;
        EXPECT_EQ(ReduceScatter(curved, bytes, g), ReduceScatter(one, bytes, g));
        EXPECT_EQ(AllGather(curved, bytes, g), AllGather(one, bytes, g));
      }
    }
  }
}

TEST(Collectives, MoreBusBandwidthAtAnySizeIsNeverSlower) {
  const Topology topo;
  const std::string base[] = {"2=", "0.817", ", 4=", "0.817", ", 8=", "1.064"};
  const RankCurve before = Curve(base[0] + base[1] + base[2] + base[3] + base[4] + base[5]);
  for (int raised = 1; raised <= 5; raised += 2) {
    std::string text;
    for (int i = 0; i < 6; ++i) text += i == raised ? std::to_string(std::stod(base[i]) * 1.2) : base[i];
    const RankCurve after = Curve(text);
    const Links a = SwitchLinks(topo, &before), b = SwitchLinks(topo, &after);
    for (const Group& g : kGroups) {
      for (double bytes : {1e6, 8e9}) {
        EXPECT_LE(AllReduce(b, bytes, g), AllReduce(a, bytes, g)) << text << " " << g.ranks << "x" << g.stride;
        EXPECT_LE(ReduceScatter(b, bytes, g), ReduceScatter(a, bytes, g)) << text;
      }
    }
  }
}

TEST(Collectives, AllGatherFigurePricesReduceScatterAndAllGatherOnly) {
  // H100: every collective but the all-reduce at the ring's 370 GB/s (0.822 of 450).
  const Topology topo;
  const RankCurve h100 = Curve("2=0.817, 4=0.817, 8=1.064");
  const Links before = SwitchLinks(topo, &h100);
  Links l = before;
  l.up_gather = 450e9 * 0.822;
  const double bytes = 8e9;
  for (const Group& g : kGroups) {
    EXPECT_EQ(AllReduce(l, bytes, g), AllReduce(before, bytes, g)) << g.ranks << "x" << g.stride;
    if (!g.in_domain(l.domain)) continue;
    const double n = g.ranks;
    EXPECT_NEAR(AllGather(l, bytes, g) - l.latency, (n - 1) / n * bytes / (450e9 * 0.822), 1e-12) << g.ranks;
    EXPECT_DOUBLE_EQ(ReduceScatter(l, bytes, g), AllGather(l, bytes, g));
  }
  // More all-gather bandwidth is never slower; 8-rank all-gathers are slower than at the NVLS figure.
  Links faster = l;
  faster.up_gather *= 1.2;
  for (const Group& g : kGroups) EXPECT_LE(AllGather(faster, bytes, g), AllGather(l, bytes, g));
  EXPECT_GT(AllGather(l, bytes, Group{.ranks = 8, .stride = 1}), AllGather(before, bytes, Group{.ranks = 8, .stride = 1}));
}

TEST(Collectives, MeasuredBusBandwidthByGroupSize) {
  // H100 through NVSwitch (NVIDIA/nccl issue 1455, micro-19): NVLS reaches
  // bus bandwidth 367.5 GB/s on 2 and 4 ranks, as the ring does, and 478.9 on 8.
  const Topology topo;
  const RankCurve h100 = Curve("2=0.8167, 4=0.8167, 8=1.0642");
  const Links l = SwitchLinks(topo, &h100);
  const double bytes = 8e9;
  for (auto [ranks, busbw] : {std::pair{2, 367.5e9}, std::pair{4, 367.5e9}, std::pair{8, 478.9e9}}) {
    const double t = AllReduce(l, bytes, Group{.ranks = ranks, .stride = 1}) - l.latency;
    // nccl-tests' bus bandwidth: 2 (n - 1) / n of the buffer over the time.
    EXPECT_NEAR(2.0 * (ranks - 1) / ranks * bytes / t, busbw, 2e8) << ranks;
  }
  // A 4-rank group at the one 8-rank figure takes 23 % less time than measured.
  const Links one = SwitchLinks(topo, nullptr);
  const Group four{.ranks = 4, .stride = 1};
  EXPECT_NEAR((AllReduce(one, bytes, four) - one.latency) / (AllReduce(l, bytes, four) - l.latency), 0.8167 / 1.064, 1e-3);
  // Across domains the domain's part takes the local group's figure: 16 ranks
  // spread 4 per domain (stride 2) read the 4-rank point.
  const Group spread{.ranks = 16, .stride = 2};
  EXPECT_GT(AllReduce(l, bytes, spread), AllReduce(one, bytes, spread));
}

}  // namespace
}  // namespace suanli
