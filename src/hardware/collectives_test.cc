// Collectives over a switchless full mesh (HCCS on Atlas 800T A2, xGMI on
// MI300X): a group reaches only the links to its own peers.
#include "suanli/hardware/collectives.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace suanli
