// Expert dispatch: copies per token from first principles (uniform top-k
// routing), and what each dispatcher sends over which link.
#include "suanli/cost/moe_dispatch.h"

#include <gtest/gtest.h>

#include <cmath>

namespace suanli {
namespace {

// C(E - n, k) / C(E, k) by hand for small numbers.
TEST(MoeDispatch, HitProbabilityIsOneMinusTheMissRatio) {
  EXPECT_DOUBLE_EQ(ExpertSetHit(8, 2, 2), 1 - (6.0 * 5) / (8.0 * 7));
  EXPECT_DOUBLE_EQ(ExpertSetHit(8, 8, 2), 1);
  EXPECT_DOUBLE_EQ(ExpertSetHit(8, 0, 2), 0);
  EXPECT_DOUBLE_EQ(ExpertSetHit(8, 7, 2), 1);  // two distinct experts cannot both miss 7 of 8
  for (double n = 1; n < 128; n *= 2) EXPECT_LT(ExpertSetHit(128, n, 8), ExpertSetHit(128, 2 * n, 8) + 1e-12);
}

TEST(MoeDispatch, DeepEpSendsATokenOncePerRankAndDomain) {
  // Qwen3-235B: 128 experts, top-8, EP 32 over four 8-GPU nodes.
  const Group g{.ranks = 32, .stride = 1};
  const DispatchCopies a2a = ExpertDispatchCopies(ExpertDispatcher::kAllToAll, g, 8, 128, 8);
  const DispatchCopies deep = ExpertDispatchCopies(ExpertDispatcher::kDeepEp, g, 8, 128, 8);
  EXPECT_DOUBLE_EQ(a2a.off_rank, 8.0 * 31 / 32);
  EXPECT_DOUBLE_EQ(a2a.off_domain, 8.0 * 24 / 32);
  EXPECT_LT(deep.off_rank, a2a.off_rank);
  EXPECT_LT(deep.off_domain, a2a.off_domain);
  EXPECT_LE(deep.off_domain, 3);  // at most once to each of the other three nodes
  EXPECT_NEAR(deep.off_domain, 3 * ExpertSetHit(128, 32, 8), 1e-12);
  // Inside one domain nothing crosses it.
  const Group node{.ranks = 8, .stride = 1};
  EXPECT_EQ(ExpertDispatchCopies(ExpertDispatcher::kDeepEp, node, 8, 128, 8).off_domain, 0);
  EXPECT_EQ(ExpertDispatchCopies(ExpertDispatcher::kAllToAll, node, 8, 128, 8).off_domain, 0);
  EXPECT_EQ(ExpertDispatchCopies(ExpertDispatcher::kDeepEp, Group{}, 8, 128, 8).off_rank, 0);
}

// DeepEP's benchmarks count a token on its own rank and its own node too
// (tests/test_intranode.py: recv_x.numel(); tests/test_internode.py:
// num_rdma_token_sent over all nodes): the off-rank and off-node copies plus
// the chance that its own rank (node) hosts one of its experts.
TEST(MoeDispatch, DeepEpCountsTheCopiesItsBenchmarksCount) {
  const Group g{.ranks = 32, .stride = 1};
  const DispatchCopies off = ExpertDispatchCopies(ExpertDispatcher::kDeepEp, g, 8, 128, 8);
  const CountedCopies counted = DeepEpCountedCopies(g, 8, 128, 8);
  EXPECT_NEAR(counted.ranks, off.off_rank + ExpertSetHit(128, 4, 8), 1e-12);
  EXPECT_NEAR(counted.domains, off.off_domain + ExpertSetHit(128, 32, 8), 1e-12);
  EXPECT_LE(counted.ranks, 8);    // at most one copy per expert
  EXPECT_LE(counted.domains, 4);  // at most once per node
  // Inside one node every token is counted once over RDMA's figure (its own node).
  const CountedCopies node = DeepEpCountedCopies(Group{.ranks = 8, .stride = 1}, 8, 256, 8);
  EXPECT_DOUBLE_EQ(node.domains, 1);
  EXPECT_NEAR(node.ranks, 8 * ExpertSetHit(256, 32, 8), 1e-12);
  EXPECT_EQ(DeepEpCountedCopies(Group{}, 8, 128, 8).ranks, 0);
}

TEST(MoeDispatch, TimeFollowsTheSlowerLinkAndNeverBeatsIt) {
  Topology topo;
  Links l;
  l.up_a2a = 400e9;
  l.out = 40e9;
  l.latency = 20e-6;
  l.domain = 8;
  l.topology = &topo;
  const Group g{.ranks = 32, .stride = 1};
  const double tokens = 2048, bytes = 4096 * 2;
  for (ExpertDispatcher d : {ExpertDispatcher::kAllToAll, ExpertDispatcher::kDeepEp}) {
    const double t = ExpertDispatchSeconds(l, g, d, tokens, bytes, 128, 8, 1);
    const DispatchCopies c = ExpertDispatchCopies(d, g, 8, 128, 8);
    EXPECT_GE(t, l.latency + tokens * bytes * c.off_domain / l.out - 1e-12);
    Links faster = l;
    faster.out *= 2;
    EXPECT_LT(ExpertDispatchSeconds(faster, g, d, tokens, bytes, 128, 8, 1), t);
    EXPECT_GT(ExpertDispatchSeconds(l, g, d, tokens, bytes, 128, 8, 1.2), t);  // the busiest rank
  }
  EXPECT_LT(ExpertDispatchSeconds(l, g, ExpertDispatcher::kDeepEp, tokens, bytes, 128, 8, 1),
            ExpertDispatchSeconds(l, g, ExpertDispatcher::kAllToAll, tokens, bytes, 128, 8, 1));
  EXPECT_EQ(ExpertDispatchSeconds(l, Group{}, ExpertDispatcher::kAllToAll, tokens, bytes, 128, 8, 1), 0);
}

TEST(MoeDispatch, AFullMeshGroupUsesOnlyTheLinksToItsPeers) {
  // Atlas 800T A2 / MI300X platform: 7 links per chip, one to each peer. EP 8
  // reaches all of them at once, as through a switch; EP 4 only 3 of 7.
  Topology topo;
  Links sw;
  sw.up_a2a = 196e9 * 0.388;
  sw.out = 25e9;
  sw.latency = 45e-6;
  sw.domain = 8;
  sw.topology = &topo;
  Links mesh = sw;
  mesh.mesh_links = 7;
  for (ExpertDispatcher d : {ExpertDispatcher::kAllToAll, ExpertDispatcher::kDeepEp}) {
    const Group eight{.ranks = 8, .stride = 1}, four{.ranks = 4, .stride = 1}, pairs{.ranks = 4, .stride = 2};
    EXPECT_DOUBLE_EQ(ExpertDispatchSeconds(mesh, eight, d, 4096, 7168, 256, 8, 1),
                     ExpertDispatchSeconds(sw, eight, d, 4096, 7168, 256, 8, 1));
    for (const Group& g : {four, pairs}) {
      const double t_mesh = ExpertDispatchSeconds(mesh, g, d, 4096, 7168, 256, 8, 1) - mesh.latency;
      const double t_sw = ExpertDispatchSeconds(sw, g, d, 4096, 7168, 256, 8, 1) - sw.latency;
      EXPECT_NEAR(t_mesh, t_sw * 7 / 3, 1e-9 * t_mesh);
    }
  }
}

}  // namespace
}  // namespace suanli
