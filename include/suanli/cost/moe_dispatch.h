// Expert-parallel dispatch and combine: how many copies of a token leave its
// rank and its scale-up domain, and how long one dispatch takes over the
// group's links. Shared by training and serving (docs/training-model.md,
// "MoE dispatch").
//
// Two dispatchers:
// - kAllToAll: Megatron-Core's alltoall dispatcher on NCCL. The permute makes
//   one copy per (token, expert) pair, so a token routed to two experts of
//   one rank is sent twice; NCCL sends to peers in the domain over the
//   scale-up link and to the others over the NICs at once.
// - kDeepEp: DeepEP / HybridEP (Megatron-Core's flex dispatcher). A token is
//   sent once to each rank that hosts one of its experts, and across domains
//   once to each domain that does (over RDMA, to the rank of the same local
//   index), which forwards it over the scale-up link (DeepEP's normal
//   kernels; deepseek-ai/DeepEP README and docs/legacy.md).
// With routing spread evenly (the top-k experts a uniform sample), a set of
// n of the E experts receives a token with probability
// 1 - C(E - n, k) / C(E, k); `imbalance` scales the busiest rank's bytes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>

#include "suanli/core/names.h"
#include "suanli/hardware/collectives.h"

namespace suanli {

enum class ExpertDispatcher { kAllToAll, kDeepEp };
inline constexpr EnumName<ExpertDispatcher> kExpertDispatcherNames[] = {{ExpertDispatcher::kAllToAll, "alltoall"},
                                                                       {ExpertDispatcher::kDeepEp, "deepep"}};

// Probability that at least one of a token's `top_k` distinct experts is
// among `n` given experts of `experts`.
inline double ExpertSetHit(double experts, double n, double top_k) {
  if (n >= experts) return 1;
  if (n <= 0 || top_k <= 0) return 0;
  double miss = 1;
  for (int i = 0; i < int(top_k) && miss > 0; ++i) miss *= std::max(0.0, (experts - n - i) / (experts - i));
  return 1 - miss;
}

// Copies of one token a rank sends: to other ranks, and of those to other
// scale-up domains, for an EP group `g` on `domain`-chip domains.
struct DispatchCopies {
  double off_rank = 0;
  double off_domain = 0;
};
inline DispatchCopies ExpertDispatchCopies(ExpertDispatcher d, const Group& g, int domain, double experts,
                                           double top_k) {
  const double ep = g.ranks;
  if (ep <= 1) return {};
  const double local = g.per_domain(domain);  // group ranks per domain
  const double domains = ep / local;
  if (d == ExpertDispatcher::kAllToAll) {
    return DispatchCopies{.off_rank = top_k * (ep - 1) / ep, .off_domain = top_k * (ep - local) / ep};
  }
  const double per_rank = ExpertSetHit(experts, experts / ep, top_k);
  const double per_domain = ExpertSetHit(experts, experts * local / ep, top_k);
  return DispatchCopies{.off_rank = (ep - 1) * per_rank, .off_domain = (domains - 1) * per_domain};
}

// The copies of one token that DeepEP's own benchmarks count when they turn a
// normal-kernel dispatch time into the bandwidth their figures quote (the chip
// profiles' expert_dispatch curves): deep_ep tests/test_intranode.py counts
// over NVLink the tokens each rank receives, its own included
// (recv_x.numel()), and tests/test_internode.py counts over RDMA each token
// once per node hosting one of its experts, its own node included
// (num_rdma_token_sent, rdma_idx over all nodes). Time on a measured curve is
// these copies' bytes over its figure: the ranks, and the domains, of the EP
// group `g` on `domain`-chip domains that host one of a token's experts.
struct CountedCopies {
  double ranks = 0;
  double domains = 0;
};
inline CountedCopies DeepEpCountedCopies(const Group& g, int domain, double experts, double top_k) {
  const double ep = g.ranks;
  if (ep <= 1) return {};
  const double local = g.per_domain(domain);
  return CountedCopies{.ranks = ep * ExpertSetHit(experts, experts / ep, top_k),
                       .domains = ep / local * ExpertSetHit(experts, experts * local / ep, top_k)};
}

// One dispatch (or combine) of `tokens` tokens of `token_bytes` each from
// one rank: the scale-up and scale-out parts run at once, one latency.
inline double ExpertDispatchSeconds(const Links& l, const Group& g, ExpertDispatcher d, double tokens,
                                    double token_bytes, double experts, double top_k, double imbalance) {
  if (g.ranks <= 1 || tokens <= 0) return 0;
  const DispatchCopies c = ExpertDispatchCopies(d, g, l.domain, experts, top_k);
  const double bytes = tokens * token_bytes * imbalance;
  const double in_domain = bytes * (c.off_rank - (d == ExpertDispatcher::kAllToAll ? c.off_domain : 0));
  const double across = bytes * c.off_domain;
  // A switchless full mesh (Atlas 800T A2, MI300X platform) sends to the
  // group's peers in the domain over one link each, all at once: the share of
  // the scale-up bandwidth those links carry (UpShare; all of it through a switch).
  const double up = in_domain / (l.up_a2a * UpShare(l, g.per_domain(l.domain) - 1));
  const double out = across > 0 ? across / OutBandwidth(l, g) : 0;
  return l.latency + std::max(up, out);
}

// DeepEP's measured rates (B/s per rank) for EP group `g` on cluster `c`,
// from its chip profile's expert_dispatch curves, scaled by the cluster's
// links over the ones measured on; none where the profile has no normal-kernel
// curve for the group (intranode, or internode when it spans domains).
// Training and serving both read them.
struct MeasuredDispatchRates {
  double normal_up[2] = {0, 0};    // normal kernels over the scale-up link: dispatch, combine
  double normal_out[2] = {0, 0};   // normal kernels, the RDMA bottleneck across domains (0: inside one)
  double low_latency[2] = {0, 0};  // low-latency kernels (0: no curve)
  double latency = 0;              // no call beats the collective latency
  bool scaled = false;             // the cluster's links differ from the ones measured on
};
std::optional<MeasuredDispatchRates> MeasuredDispatch(const Cluster& c, const Group& g);

// One normal-kernel dispatch and combine of `tokens` tokens per rank (the
// busiest rank's), `token_bytes` each way, on the measured rates: the copies
// DeepEP's benchmarks count for those figures (DeepEpCountedCopies) over
// them, the NVLink and RDMA parts at once.
// Out of line, as MeasuredDispatch: the dense layer walks that include this
// header stay as they compile without it.
double NormalKernelSeconds(const MeasuredDispatchRates& r, const Group& g, int domain, double tokens,
                           const double (&token_bytes)[2], double experts, double top_k);

}  // namespace suanli
