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
// domain, across domains, or both. Formulas: docs/architecture.md.
//
// `Links` is precomputed once per cluster; the functions are pure arithmetic
// (a few dozen ns), safe from any thread. Times in seconds, sizes in bytes.
#pragma once

#include <algorithm>

#include "suanli/hardware/cluster.h"

namespace suanli {

struct Links {
  double up_busbw = 0;  // all-reduce bus bandwidth inside a domain (B/s)
  double up_a2a = 0;    // all-to-all and exchanges inside a domain, per rank (B/s)
  double up_p2p = 0;    // a point-to-point transfer inside a domain (B/s)
  double out = 0;       // scale-out per chip, achieved (B/s)
  double latency = 0;   // one collective call (s)
  int domain = 1;       // chips per scale-up domain
  const Topology* topology = nullptr;
};

inline Links LinksOf(const Cluster& c) {
  const Device& d = c.device;
  const Topology& t = c.topology;
  const double up = t.scale_up_bandwidth.si();
  Links l;
  l.out = t.scale_out_bandwidth.si() * d.scale_out_efficiency;
  l.up_busbw = up > 0 ? up * d.allreduce_efficiency : l.out;
  l.up_a2a = up > 0 ? up * std::min(1.0, d.allreduce_efficiency) : l.out;
  l.up_p2p = up > 0 ? up : l.out;
  l.latency = d.collective_latency.si();
  l.domain = t.scale_up_domain;
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
inline double Hierarchical(const Links& l, double bytes, const Group& g, double passes) {
  if (g.ranks <= 1 || bytes <= 0) return 0;
  const int local = g.per_domain(l.domain);
  const int domains = g.ranks / local;
  double t = 0;
  if (local > 1) t += l.latency + passes * double(local - 1) / local * bytes / l.up_busbw;
  if (domains > 1) t += l.latency + passes * double(domains - 1) / domains * (bytes / local) / OutBandwidth(l, g);
  return t;
}

// A reduce-scatter (or all-gather) of a `bytes` buffer over the group.
inline double ReduceScatter(const Links& l, double bytes, const Group& g) { return Hierarchical(l, bytes, g, 1); }
inline double AllGather(const Links& l, double bytes, const Group& g) { return ReduceScatter(l, bytes, g); }

// An all-reduce of `bytes`: a reduce-scatter's and an all-gather's traffic in
// one call per phase (NCCL's ring and NVLS all-reduce; the profile measures
// its latency as one call).
inline double AllReduce(const Links& l, double bytes, const Group& g) { return Hierarchical(l, bytes, g, 2); }

// Every rank sends `bytes` to the others at once (an all-to-all's share, or
// one step of a ring exchange).
inline double Exchange(const Links& l, double bytes, const Group& g) {
  const double bw = g.in_domain(l.domain) ? l.up_a2a : OutBandwidth(l, g);
  return l.latency + bytes / bw;
}

// One transfer of `bytes` between two ranks of a job that spans `span_chips`
// chips: over the scale-up link when the job fits in one domain, else over
// the NICs through every tier the job's traffic crosses.
inline double SendRecv(const Links& l, double bytes, double span_chips) {
  const double bw = span_chips <= l.domain ? l.up_p2p : l.out * l.topology->ScaleOutShare(span_chips);
  return l.latency + bytes / bw;
}

}  // namespace suanli
