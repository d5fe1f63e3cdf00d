// Collectives and transfers over a cluster's scale-up and scale-out links.
//
// Ranks are laid out as Megatron and every serving stack lay them out: the
// innermost parallel dimension on consecutive chips, so a group of `ranks`
// ranks `stride` chips apart has min(ranks, domain / stride) of them in each
// scale-up domain. NCCL's hierarchical algorithms then move a collective's
// data inside the domain over the scale-up link and across domains 1/local of
// it per rank, each rank on its own share of the NICs, through the network's
// tiers (oversubscribed tiers share their bandwidth). A collective pays the
// profile's measured collective latency once per phase it has: inside the
// domain, across domains, or both. Inside a domain the bus bandwidth is the
// profile's, for the group's size where the profile measured it by size
// (`collective.allreduce_by_ranks`). Formulas: docs/architecture.md.
//
// `Links` is precomputed once per cluster and points into it (its topology,
// its device's curve), so it lives no longer; the functions are pure arithmetic
// (a few dozen ns), safe from any thread. Times in seconds, sizes in bytes.
#pragma once

#include <algorithm>

#include "suanli/hardware/cluster.h"

namespace suanli {

struct Links {
  double up_busbw = 0;  // all-reduce bus bandwidth inside a domain (B/s), where the profile has no curve by group size
  double up = 0;        // scale-up bandwidth per chip per direction (B/s)
  double up_gather = 0; // all-gather and reduce-scatter bus bandwidth inside a domain (B/s); 0 = the all-reduce's
  const RankCurve* busbw_by_ranks = nullptr;  // the profile's bus bandwidth by group size, of `up` (the cluster's device's); null = up_busbw for every group
  double up_a2a = 0;    // all-to-all and exchanges inside a domain, per rank (B/s)
  double up_p2p = 0;    // a point-to-point transfer inside a domain (B/s)
  double out = 0;       // scale-out per chip, achieved (B/s)
  double latency = 0;   // one collective call (s)
  int domain = 1;       // chips per scale-up domain
  int mesh_links = 0;   // switchless full mesh: links per chip sharing the scale-up bandwidth (0 = a switch)
  const Topology* topology = nullptr;
};

// Share of the scale-up bandwidth a chip reaches talking to `peers` others of
// its domain: all of it through a switch; in a switchless full mesh only the
// links to those peers, (peers / mesh_links). Bus bandwidth measured by HCCL
// on an Atlas 800T A2 (8 x 910B) grows with the group as 1 : 3 : 7 for 2, 4
// and 8 ranks (docs/architecture.md, "Collectives").
inline double UpShare(const Links& l, double peers) {
  if (l.mesh_links <= 0) return 1;
  return std::clamp(peers / l.mesh_links, 1.0 / l.mesh_links, 1.0);
}

// All-reduce bus bandwidth (B/s) of `local` ranks of one domain: the
// profile's measured figure for that group size where it has a curve (NVLS's
// bus bandwidth grows with the group, a ring's does not), else its one
// figure. On a full mesh the fraction is of the links the group uses (UpShare).
inline double UpBusBandwidth(const Links& l, int local) {
  return l.busbw_by_ranks != nullptr ? l.up * l.busbw_by_ranks->At(local) : l.up_busbw;
}

inline Links LinksOf(const Cluster& c) {
  const Device& d = c.device;
  const Topology& t = c.topology;
  const double up = t.scale_up_bandwidth.si();
  Links l;
  l.out = t.scale_out_bandwidth.si() * d.scale_out_efficiency;
  l.up_busbw = up > 0 ? up * d.allreduce_efficiency : l.out;
  l.up_a2a = up > 0 ? up * d.alltoall_efficiency : l.out;
  l.up_p2p = up > 0 ? up : l.out;
  l.up = up;
  l.up_gather = up > 0 ? up * d.allgather_efficiency : 0;
  l.busbw_by_ranks = up > 0 && !d.allreduce_by_ranks.empty() ? &d.allreduce_by_ranks : nullptr;
  l.latency = d.collective_latency.si();
  l.domain = t.scale_up_domain;
  l.mesh_links = up > 0 ? t.scale_up_mesh_links : 0;
  l.topology = &t;
  return l;
}

// A group of `ranks` ranks, `stride` chips apart (the product of the parallel
// degrees laid out inside it: 1 for TP, tp for EP and CP, tp x cp for DP).
struct Group {
  int ranks = 1;
  int stride = 1;
  [[nodiscard]] double span() const { return double(ranks) * stride; }  // chips the group's traffic covers
  [[nodiscard]] int per_domain(int domain) const { return std::clamp(domain / std::max(1, stride), 1, std::max(1, ranks)); }
  [[nodiscard]] bool in_domain(int domain) const { return span() <= domain; }
};

// Scale-out bandwidth per rank for `g`'s traffic after the tiers it crosses.
inline double OutBandwidth(const Links& l, const Group& g) { return l.out * l.topology->ScaleOutShare(g.span()); }

// The two phases of a hierarchical collective of `bytes` over `g`: the
// fraction of the buffer each rank moves inside its domain and across
// domains, each with one latency.
// A collective over a fixed group as latency + bytes x per_byte: what the
// hot loops keep once per plan instead of re-deriving the tiers per call.
// No bytes, no call: zero time.
struct CollectiveCost {
  double latency = 0;   // s
  double per_byte = 0;  // s/B
  [[nodiscard]] double operator()(double bytes) const { return bytes > 0 ? latency + bytes * per_byte : 0; }
};

// A ring within each scale-up domain, then across domains on the scale-out
// share: `passes` is 1 for reduce-scatter or all-gather, 2 for all-reduce.
// A reduce-scatter or all-gather inside the domain runs at the profile's
// all-gather figure where it has one (NVLS speeds only the all-reduce).
// Kept inline at every caller (the curve's lookup is a call of its own).
[[gnu::always_inline]] inline CollectiveCost HierarchicalCost(const Links& l, const Group& g, double passes) {
  CollectiveCost c;
  if (g.ranks <= 1) return c;
  const int local = g.per_domain(l.domain);
  const int domains = g.ranks / local;
  if (local > 1) {
    c.latency += l.latency;
    const double busbw = passes < 2 && l.up_gather > 0 ? l.up_gather : UpBusBandwidth(l, local);
    c.per_byte += passes * double(local - 1) / local / (busbw * UpShare(l, local - 1));
  }
  if (domains > 1) {
    c.latency += l.latency;
    c.per_byte += passes * double(domains - 1) / domains / local / OutBandwidth(l, g);
  }
  return c;
}
inline double Hierarchical(const Links& l, double bytes, const Group& g, double passes) {
  return HierarchicalCost(l, g, passes)(bytes);
}

inline double ReduceScatter(const Links& l, double bytes, const Group& g) { return Hierarchical(l, bytes, g, 1); }
inline double AllGather(const Links& l, double bytes, const Group& g) { return ReduceScatter(l, bytes, g); }

inline CollectiveCost AllReduceCost(const Links& l, const Group& g) { return HierarchicalCost(l, g, 2); }
inline double AllReduce(const Links& l, double bytes, const Group& g) { return AllReduceCost(l, g)(bytes); }

// Every rank sends `bytes` to the others of its group at once (all-to-all).
inline CollectiveCost ExchangeCost(const Links& l, const Group& g) {
  const double bw = g.in_domain(l.domain) ? l.up_a2a * UpShare(l, g.ranks - 1) : OutBandwidth(l, g);
  return CollectiveCost{.latency = l.latency, .per_byte = 1 / bw};
}
inline double Exchange(const Links& l, double bytes, const Group& g) { return ExchangeCost(l, g)(bytes); }

// One transfer between neighbours of a group spanning `span_chips`.
inline CollectiveCost SendRecvCost(const Links& l, double span_chips) {
  const double bw = span_chips <= l.domain ? l.up_p2p * UpShare(l, 1) : l.out * l.topology->ScaleOutShare(span_chips);
  return CollectiveCost{.latency = l.latency, .per_byte = 1 / bw};
}
inline double SendRecv(const Links& l, double bytes, double span_chips) { return SendRecvCost(l, span_chips)(bytes); }

}  // namespace suanli
