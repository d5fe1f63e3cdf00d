// One chip as the cost models see it: its datasheet peaks and what its
// efficiency profile says it really reaches (catalog/profiles/).
//
// A Device is built once per chip (MakeDevice, ~2 us) and read by every
// estimator; it holds no pointers into the catalog. Rates, capacities and
// times carry their unit in the type; hot loops read `.si()` doubles.
#pragma once

#include <array>
#include <string>

#include "suanli/catalog/catalog.h"
#include "suanli/core/dtype.h"
#include "suanli/core/result.h"
#include "suanli/core/units.h"
#include "suanli/hardware/dispatch_curve.h"
#include "suanli/hardware/rank_curve.h"

namespace suanli {

struct Device {
  std::string chip_id;
  std::string profile_id;
  ProfileTier tier = ProfileTier::kDatasheet;  // measured on this chip, calibrated from its family, or datasheet defaults
  std::array<OpsPerSecond, kDtypeCount> peak{};  // dense, by Dtype; 0 = no matrix units for it
  BytesPerSecond memory_bandwidth;
  Bytes memory_capacity;
  Watts board_power;            // 0 = unknown
  double sparsity_speedup = 1;  // 2:4 sparse matrix rate over dense (compute.sparsity); 1 = none

  // The efficiency profile: fractions of the peaks reached, and fixed costs.
  double gemm_efficiency = 0;      // 16-bit GEMMs at large sizes
  double gemm_efficiency_fp8 = 0;  // 8-bit
  // Measured GEMM efficiency by size (log2 FLOPs, fraction), 16- and 8-bit;
  // when present it replaces the scalar efficiency and the kernel overhead of GEMMs.
  struct Sweep {
    std::array<double, 16> log_flops{};
    std::array<double, 16> efficiency{};
    int size = 0;
  };
  Sweep sweep16;
  Sweep sweep8;
  // Grouped (MoE expert) GEMMs: output tile rows and columns, and a tile's
  // fixed cost in reduction elements of an 8-bit main loop (0 = none).
  double grouped_tile_m = 1;
  double grouped_tile_m_min = 1;  // the smallest row tile kernels pick for few tokens
  double grouped_tile_n = 1;
  double k_overhead8 = 0;
  double attention_efficiency = 0;         // flash attention, of the 16-bit peak
  double memory_efficiency = 0;            // streaming kernels, of memory bandwidth
  double decode_attention_efficiency = 0;  // reading the KV cache, of memory bandwidth
  double decode_attention_compute_efficiency = 0;  // decode attention's FLOPs when compute-bound (MLA), of the 16-bit peak
  Bytes reserved_bytes;                    // runtime's fixed reserve
  double reserved_fraction = 0;            // and the share of what is left that it keeps free
  double allreduce_efficiency = 0;         // all-reduce bus bandwidth over the scale-up link rate
  RankCurve allreduce_by_ranks;            // the same by group size (measured); empty = the one figure for every group
  double allgather_efficiency = 0;         // all-gather and reduce-scatter bus bandwidth over the link rate; 0 = the all-reduce's
  double alltoall_efficiency = 0;          // all-to-all bus bandwidth over the link rate the group uses (at most 1)
  Seconds collective_latency;              // fixed cost of one collective or transfer
  double scale_out_efficiency = 0;         // achieved over the scale-out link rate
  double overlap_slowdown = 0;             // compute runs (1 + this) times longer while a collective overlaps it
  Seconds kernel_overhead;                 // per kernel launch, beyond the roofline
  Seconds step_overhead;                   // per forward pass (scheduling, sampling)
  Seconds host_op_overhead;                // per operator of an eager training framework that the kernels do not hide
  DispatchCurves expert_dispatch;          // measured EP dispatch/combine bandwidth (DeepEP); empty = none
};

// The dense peak in `t` (ops/s; 0 when the chip has no matrix units for it).
inline double Peak(const Device& d, Dtype t) { return d.peak[static_cast<int>(t)].si(); }
// bf16 where the chip has it, else fp16.
inline Dtype SixteenBit(const Device& d) { return Peak(d, Dtype::kBf16) > 0 ? Dtype::kBf16 : Dtype::kFp16; }

// Builds the Device of a chip with the profile the catalog gives it. Fails
// when the chip lacks a figure the models need (memory bandwidth and
// capacity, a 16-bit matrix rate) or the catalog has no profile for it.
Result<Device> MakeDevice(const Catalog& catalog, const Chip& chip);

}  // namespace suanli
