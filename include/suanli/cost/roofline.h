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
inline OpTime GemmOp(const Device& d, const ComputeRate& r, double flops, double bytes, double kernels = 1) {
  const double bw = d.memory_bandwidth.si() * d.memory_efficiency;
  if (r.sweep == nullptr) return RooflineOp(d, flops, r.rate * r.efficiency, bytes, bw, kernels);
  const double tc = flops / (r.rate * SweepEfficiency(*r.sweep, flops / kernels));
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

inline double GemmSeconds(const Device& d, const ComputeRate& r, double flops, double bytes, double kernels = 1) {
  return GemmOp(d, r, flops, bytes, kernels).seconds;
}
inline double StreamSeconds(const Device& d, double bytes, double kernels = 1) {
  return StreamOp(d, bytes, kernels).seconds;
}

}  // namespace suanli
