// Chips in the nodes of a system, and the network that joins them.
//
// A Topology has one notion of a node for every cost model: the scale-up
// domain, the chips a scale-up fabric (NVLink + NVSwitch, HCCS, UB, Infinity
// Fabric) joins at its own bandwidth. Collectives and transfers that stay in
// it run over the scale-up link; the rest cross the scale-out network, each
// chip on its share of the NICs, through tiers that may be oversubscribed.
// A bare chip (no system) gets an assumed node of up to 8 chips, and every
// estimate that depends on it says so.
#pragma once

#include <string>
#include <vector>

#include "suanli/hardware/device.h"

namespace suanli {

// Scale-out bandwidth per chip assumed when neither system nor chip states
// one (a 400 Gb/s NIC); every estimate that uses it carries a warning.
inline constexpr double kDefaultScaleOut = 50e9;

struct Topology {
  int scale_up_domain = 1;             // chips on one scale-up fabric (1: none)
  BytesPerSecond scale_up_bandwidth;   // per chip per direction; 0 = no scale-up link
  // Switchless full mesh (HCCS in an Atlas 800T A2): the chip's scale-up
  // bandwidth is spread over this many point-to-point links, one per peer, so
  // a group of g chips reaches (g - 1) / mesh_links of it. 0 = a switch.
  int scale_up_mesh_links = 0;
  BytesPerSecond scale_out_bandwidth;  // per chip per direction (kDefaultScaleOut when not stated)
  bool scale_out_assumed = false;      // not stated: kDefaultScaleOut
  bool domain_assumed = false;         // a bare chip whose domain is not stated, or larger than the assumed node
  // Network tiers above the scale-up domain, innermost first: how many chips
  // each spans and its oversubscription. Traffic among more chips than a tier
  // spans crosses the next tier and shares its bandwidth.
  struct Tier {
    double span_chips = 0;  // 0 = unbounded
    double oversubscription = 1;
  };
  std::vector<Tier> tiers;

  // Bandwidth factor (<= 1) for scale-out traffic among `chips` chips: one
  // over the worst oversubscription of the tiers it crosses (1 inside a
  // scale-up domain).
  [[nodiscard]] double ScaleOutShare(double chips) const;
};

struct Cluster {
  Device device;
  Topology topology;
  std::string system_id;        // empty for a bare chip
  bool assumed_system = false;  // a bare chip: nodes assumed (see above)
  int chips_per_node = 1;       // chips in one server (power and price are per server)
  Watts node_power;             // per server; 0 = unknown
  Usd price_per_chip;           // a system's price over its chips, else the chip's; 0 = unknown
  // Host time per framework operator (system's host.op_dispatch, else the
  // profile's overhead.host_op): the CPU issues a micro-batch's operators no
  // faster than this, however fast the device runs them.
  Seconds host_dispatch;
  // The chip's host link (PCIe, NVLink-C2C), per direction: what activation
  // offload to host memory moves over. 0 = unknown.
  BytesPerSecond host_link;
  // The host's memory bandwidth per chip (its share of the CPU's DRAM; the
  // system's host.memory_bandwidth): what an optimizer step offloaded to the
  // CPU streams its state at. 0 = unknown.
  BytesPerSecond host_memory;
};

// Builds the cluster of `chip` in `system` (nullptr: a bare chip).
Result<Cluster> MakeCluster(const Catalog& catalog, const Chip& chip, const System* system);

}  // namespace suanli
