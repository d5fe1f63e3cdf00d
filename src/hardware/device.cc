// MakeDevice: a chip's datasheet peaks and its efficiency profile, flattened.
#include "suanli/hardware/device.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace suanli {

Result<Device> MakeDevice(const Catalog& catalog, const Chip& chip) {
  Device d;
  d.chip_id = chip.id;
  for (int i = 0; i < kDtypeCount; ++i) {
    if (auto r = chip.DenseRate(static_cast<Dtype>(i))) d.peak[i] = *r;
  }
  auto positive = [&](std::string_view key) -> std::optional<double> {
    auto v = chip.Get(key);
    return v && *v > 0 ? v : std::nullopt;
  };
  std::vector<Diagnostic> missing;
  auto require = [&](std::string_view key) -> double {
    if (auto v = positive(key)) return *v;
    missing.push_back(Diagnostic{.file = chip.file, .key_path = std::string(key),
                                 .message = "chip '" + chip.id + "' has no " + std::string(key) +
                                            "; the performance model needs it"});
    return 0;
  };
  d.memory_bandwidth = BytesPerSecond(require("memory.bandwidth"));
  d.memory_capacity = Bytes(require("memory.capacity"));
  if (Peak(d, Dtype::kBf16) <= 0 && Peak(d, Dtype::kFp16) <= 0) {
    missing.push_back(Diagnostic{.file = chip.file, .key_path = "compute.bf16",
                                 .message = "chip '" + chip.id + "' has neither compute.bf16 nor compute.fp16"});
  }
  d.board_power = Watts(positive("power.tdp").value_or(0));
  d.sparsity_speedup = std::max(1.0, chip.Get("compute.sparsity").value_or(1));
  const Profile* prof = catalog.ProfileFor(chip);
  if (prof == nullptr) {
    missing.push_back(Diagnostic{.file = catalog.dir(), .key_path = "profiles",
                                 .message = "no efficiency profile for chip '" + chip.id + "' and no 'generic' profile"});
  }
  if (!missing.empty()) return Error(std::move(missing));
  d.profile_id = prof->id;
  const bool listed = std::find(prof->chips.begin(), prof->chips.end(), chip.id) != prof->chips.end();
  d.tier = listed ? prof->tier
           : prof->tier == ProfileTier::kDatasheet ? ProfileTier::kDatasheet
                                                   : ProfileTier::kCalibrated;
  // Required profile fields are present: the catalog validated them on load.
  auto field = [&](std::string_view key) {
    const auto v = prof->Get(key);
    assert(v.has_value());
    return *v;
  };
  d.gemm_efficiency = field("gemm.efficiency");
  d.gemm_efficiency_fp8 = prof->Get("gemm.efficiency_fp8").value_or(d.gemm_efficiency);
  for (auto [points, out] : {std::pair{&prof->gemm_sweep, &d.sweep16}, std::pair{&prof->gemm_sweep_fp8, &d.sweep8}}) {
    for (const GemmPoint& g : *points) {
      if (out->size == int(out->log_flops.size())) break;
      out->log_flops[out->size] = std::log2(g.flops);
      out->efficiency[out->size] = g.efficiency;
      ++out->size;
    }
  }
  d.grouped_tile_m = prof->Get("gemm.grouped_tile_m").value_or(1);
  d.grouped_tile_m_min = std::min(d.grouped_tile_m, prof->Get("gemm.grouped_tile_m_min").value_or(1));
  d.grouped_tile_n = prof->Get("gemm.grouped_tile_n").value_or(1);
  d.k_overhead8 = prof->Get("gemm.k_overhead").value_or(0);
  // The overhead is an epilogue at memory speed counted in main-loop steps at
  // the tensor rate: on a chip with less compute per byte (the H20) it is fewer steps.
  if (const auto ref = prof->Get("gemm.k_overhead_flops_per_byte"); ref && *ref > 0) {
    const double fp8 = Peak(d, Dtype::kFp8), bw = d.memory_bandwidth.si();
    if (fp8 > 0 && bw > 0) d.k_overhead8 *= (fp8 / bw) / *ref;
  }
  d.attention_efficiency = field("attention.efficiency");
  d.memory_efficiency = field("memory.efficiency");
  d.decode_attention_efficiency = prof->Get("attention.decode_memory_efficiency").value_or(d.memory_efficiency);
  d.decode_attention_compute_efficiency =
      prof->Get("attention.decode_compute_efficiency").value_or(d.attention_efficiency);
  d.reserved_bytes = Bytes(field("memory.reserved"));
  d.reserved_fraction = field("memory.reserved_fraction");
  d.allreduce_efficiency = field("collective.allreduce_efficiency");
  // Validated on load; a bad curve is left empty (the one figure).
  if (const Figure* f = prof->Find("collective.allreduce_by_ranks"); f != nullptr) {
    std::string error;
    if (!ParseRankCurve(f->text, kAllReduceEfficiencyMax, d.allreduce_by_ranks, error)) d.allreduce_by_ranks = {};
  }
  d.allgather_efficiency = prof->Get("collective.allgather_efficiency").value_or(0);
  // Without a measured all-to-all, the all-reduce's fraction (no in-switch
  // reduction helps an exchange, so at most the link rate).
  d.alltoall_efficiency =
      prof->Get("collective.alltoall_efficiency").value_or(std::min(1.0, d.allreduce_efficiency));
  d.collective_latency = Seconds(field("collective.latency"));
  d.scale_out_efficiency = field("collective.scale_out_efficiency");
  d.overlap_slowdown = field("collective.overlap_slowdown");
  d.kernel_overhead = Seconds(field("overhead.kernel"));
  d.step_overhead = Seconds(field("overhead.step"));
  d.host_op_overhead = Seconds(field("overhead.host_op"));
  // Measured dispatch curves (validated on load; a bad one is left empty).
  for (auto [key, out] : {std::pair{"expert_dispatch.normal_intranode", &d.expert_dispatch.normal_intranode},
                          std::pair{"expert_dispatch.normal_internode", &d.expert_dispatch.normal_internode},
                          std::pair{"expert_dispatch.low_latency", &d.expert_dispatch.low_latency}}) {
    std::string error;
    if (const Figure* f = prof->Find(key); f != nullptr && !ParseDispatchCurve(f->text, *out, error)) *out = {};
  }
  d.expert_dispatch.scale_up = prof->Get("expert_dispatch.scale_up").value_or(0);
  d.expert_dispatch.scale_out = prof->Get("expert_dispatch.scale_out").value_or(0);
  if (d.expert_dispatch.scale_up <= 0 || d.expert_dispatch.scale_out <= 0) d.expert_dispatch = {};
  // Curves counted in the other rank than this device's (measured per die,
  // the device a package, or the reverse): recounted in this device's ranks.
  if (const int dies = chip.Dies(); dies > 1 && prof->dispatch_rank != chip.rank && !d.expert_dispatch.empty()) {
    RecountRanks(d.expert_dispatch, prof->dispatch_rank == DeviceRank::kDie ? double(dies) : 1.0 / dies);
  }
  return d;
}

}  // namespace suanli
