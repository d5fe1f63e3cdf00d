// The roofline every estimator times operators on: a kernel takes the longer
// of its compute at the achievable rate and its memory traffic at the
// achievable bandwidth, plus a fixed launch cost. GEMMs reach the efficiency
// the profile measured at their size (a sweep), else its scalar efficiency.
// Inference, training and serving all call these; nothing else times a kernel.
#pragma once

#include <algorithm>
#include <cmath>

#include "suanli/hardware/device.h"

namespace suanli {

// The rate a GEMM runs at and the efficiency that goes with it.
struct ComputeRate {
  double rate = 0;  // ops/s, dense peak in `dtype` (times the 2:4 sparsity speed-up when used)
  double efficiency = 0;
  Dtype dtype = Dtype::kBf16;
  const Device::Sweep* sweep = nullptr;  // efficiency by GEMM size, if measured
};

// Efficiency of a GEMM of `flops` from a measured sweep: linear in log FLOPs
// between points, flat beyond the ends.
inline double SweepEfficiency(const Device::Sweep& s, double flops) {
  const double x = std::log2(std::max(flops, 1.0));  // log2: glibc's is several times cheaper than log10
  if (x <= s.log_flops[0]) return s.efficiency[0];
  for (int i = 1; i < s.size; ++i) {
    if (x <= s.log_flops[i]) {
      if (s.log_flops[i] <= s.log_flops[i - 1]) return s.efficiency[i];
      const double f = (x - s.log_flops[i - 1]) / (s.log_flops[i] - s.log_flops[i - 1]);
      return s.efficiency[i - 1] + f * (s.efficiency[i] - s.efficiency[i - 1]);
    }
  }
  return s.efficiency[s.size - 1];
}

// The rate for GEMMs in `dtype` on `d` (16- or 8-bit efficiency and sweep).
inline ComputeRate RateFor(const Device& d, Dtype dtype) {
  const bool eight_bit = DtypeBits(dtype) <= 8;
  const Device::Sweep& sweep = eight_bit ? d.sweep8 : d.sweep16;
  return ComputeRate{.rate = Peak(d, dtype),
                     .efficiency = eight_bit ? d.gemm_efficiency_fp8 : d.gemm_efficiency,
                     .dtype = dtype,
                     .sweep = sweep.size >= 2 ? &sweep : nullptr};
}

// One operator's time and what it was spent on (the parts sum to `seconds`).
struct OpTime {
  double seconds = 0;
  double compute = 0;   // limited by the compute roof
  double memory = 0;    // limited by the memory roof
  double overhead = 0;  // kernel launches
};

// An operator of `flops` at `rate_eff` (ops/s achieved) moving `bytes` at
// `bw` (B/s achieved), in `kernels` launches.
inline OpTime RooflineOp(const Device& d, double flops, double rate_eff, double bytes, double bw, double kernels) {
  const double tc = rate_eff > 0 ? flops / rate_eff : 0;
  const double tm = bytes / bw;
  const double over = kernels * d.kernel_overhead.si();
  OpTime t;
  (tc >= tm ? t.compute : t.memory) = std::max(tc, tm);
  t.overhead = over;
  t.seconds = std::max(tc, tm) + over;
  return t;
}

// A GEMM (or grouped GEMM) of `flops` and `bytes` in `kernels` launches.
// With a measured sweep the compute time comes from the efficiency measured
// at each kernel's size, which already includes launch and ramp; the memory
// roof still pays the launches.
// `work` (at least 1) is the kernel's work over its useful FLOPs (grouped
// GEMMs' padded tiles and tile overheads, GroupedGemmWork): the compute roof
// pays it, the efficiency is still read at the useful size.
inline OpTime GemmOp(const Device& d, const ComputeRate& r, double flops, double bytes, double kernels = 1,
                     double work = 1) {
  const double bw = d.memory_bandwidth.si() * d.memory_efficiency;
  if (r.sweep == nullptr) return RooflineOp(d, flops * work, r.rate * r.efficiency, bytes, bw, kernels);
  const double tc = flops * work / (r.rate * SweepEfficiency(*r.sweep, flops / kernels));
  const double over = kernels * d.kernel_overhead.si();
  const double tm = bytes / bw + over;
  OpTime t;
  t.seconds = std::max(tc, tm);
  if (tc >= tm) {
    t.compute = tc;
  } else {
    t.memory = tm - over;
    t.overhead = over;
  }
  return t;
}

// A memory-bound kernel (norms, element-wise, copies) moving `bytes`.
inline OpTime StreamOp(const Device& d, double bytes, double kernels = 1) {
  return RooflineOp(d, 0, 0, bytes, d.memory_bandwidth.si() * d.memory_efficiency, kernels);
}

inline double GemmSeconds(const Device& d, const ComputeRate& r, double flops, double bytes, double kernels = 1,
                          double work = 1) {
  return GemmOp(d, r, flops, bytes, kernels, work).seconds;
}

// Grouped GEMMs: the routed experts' GEMMs of one device in one kernel per
// projection (DeepGEMM's M-grouped contiguous layout, CUTLASS / Transformer
// Engine grouped GEMM). Every expert's GEMM is cut into output tiles of
// grouped_tile_m x grouped_tile_n; a tile costs its main loop (one step per
// reduction element) plus a fixed prologue and epilogue. So an expert with
// few tokens computes a whole tile of rows, an expert with few columns whole
// tiles of columns, and a short reduction (a small expert's down projection,
// the weight gradient's token dimension) pays the fixed part more often. The
// profile's scalar efficiency and sweep are measured on large square GEMMs
// (reduction depth kLargeK or more), whose tile overhead they already hold;
// the work below is relative to them. docs/inference-model.md, "Grouped GEMMs".
inline constexpr double kLargeK = 16384;

// A tile's fixed cost in reduction elements for GEMMs at `dtype`: the
// profile's figure is for an 8-bit main loop; the loop's time per element
// scales with the operand width on tensor cores whose rate doubles per halving.
inline double KOverhead(const Device& d, Dtype dtype) { return d.k_overhead8 * 8.0 / DtypeBits(dtype); }

// Rows an expert with `m` tokens computes. Its rows vary from step to step,
// so the padding is the expected one: half a tile. Kernels pick a smaller
// tile for fewer tokens than a full one (vLLM's fused MoE configs by batch,
// DeepGEMM's block_m by expected m, swap-AB kernels for decode), the next
// power of two down to grouped_tile_m_min, which pads about half of m.
inline double GroupedRows(const Device& d, double m) {
  m = std::max(m, 1.0);
  const double tm = d.grouped_tile_m;
  if (tm <= 1) return m;
  return std::max(d.grouped_tile_m_min, m + std::min(m, tm) / 2);
}

// Work over useful FLOPs of one GEMM of `m` rows, reduction depth `k` and
// `n` columns per expert.
inline double GroupedGemmWork(const Device& d, Dtype dtype, double m, double k, double n, bool pad_rows = true) {
  double work = 1;
  m = std::max(m, 1.0);
  const double tn = d.grouped_tile_n;
  if (pad_rows) work *= GroupedRows(d, m) / m;
  if (tn > 1 && n > 0) work *= std::ceil(n / tn) * tn / n;
  const double k0 = KOverhead(d, dtype);
  if (k0 > 0 && k > 0) work *= std::max(1.0, (1 + k0 / k) / (1 + k0 / kLargeK));
  return work;
}

// The three passes over the experts' gate/up (hidden -> 2 ffn) and down
// (ffn -> hidden) GEMMs: forward, the input gradient (reductions over 2 ffn
// and hidden) and the weight gradient (a reduction over each expert's tokens,
// padded rows included).
enum class GroupedPass { kForward, kInputGrad, kWeightGrad };

// Work of the pair (gate/up is 2/3 of the FLOPs, down 1/3) for experts with
// `m` tokens each, `h` hidden and `ffn` columns per device.
inline double ExpertGemmWork(const Device& d, Dtype dtype, GroupedPass pass, double m, double h, double ffn) {
  switch (pass) {
    case GroupedPass::kForward:
      return (2 * GroupedGemmWork(d, dtype, m, h, 2 * ffn) + GroupedGemmWork(d, dtype, m, ffn, h)) / 3;
    case GroupedPass::kInputGrad:
      return (2 * GroupedGemmWork(d, dtype, m, 2 * ffn, h) + GroupedGemmWork(d, dtype, m, h, ffn)) / 3;
    case GroupedPass::kWeightGrad: {
      const double rows = std::max(m, 1.0);
      const double padded = GroupedRows(d, rows);
      const double pad = padded / rows;
      return pad * (2 * GroupedGemmWork(d, dtype, h, padded, 2 * ffn, false) + GroupedGemmWork(d, dtype, ffn, padded, h, false)) / 3;
    }
  }
  return 1;
}
inline double StreamSeconds(const Device& d, double bytes, double kernels = 1) {
  return StreamOp(d, bytes, kernels).seconds;
}

}  // namespace suanli
