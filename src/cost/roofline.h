// Roofline pieces shared by the inference and training estimators: the
// rate a GEMM runs at, its efficiency by size from a measured sweep, and
// operator time on the roofline of achievable rates.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "suanli/infer/infer.h"

namespace suanli {

// Scale-out bandwidth per chip assumed when neither system nor chip states
// one (a 400 Gb/s NIC); every estimate that uses it carries a warning.
inline constexpr double kDefaultScaleOut = 50e9;

// The sentences for the warning bits set in `w`, in table order.
inline std::vector<std::string> WarningSentences(uint32_t w, std::span<const std::pair<uint32_t, std::string_view>> table) {
  std::vector<std::string> out;
  for (const auto& [bit, text] : table) {
    if ((w & bit) != 0) out.emplace_back(text);
  }
  return out;
}

inline std::string JoinSentences(const std::vector<std::string>& sentences) {
  std::string out;
  for (const auto& s : sentences) out += (out.empty() ? "" : "; ") + s;
  return out;
}

inline double DtypeBytes(Dtype t) { return DtypeBits(t) / 8.0; }
inline double Peak(const Device& d, Dtype t) { return d.peak[static_cast<int>(t)]; }
inline Dtype SixteenBit(const Device& d) { return Peak(d, Dtype::kBf16) > 0 ? Dtype::kBf16 : Dtype::kFp16; }

// The rate a GEMM runs at and the efficiency that goes with it.
struct ComputeRate {
  double rate = 0;  // ops/s
  double efficiency = 0;
  Dtype dtype = Dtype::kBf16;
  const Device::Sweep* sweep = nullptr;  // efficiency by GEMM size, if measured
};

// Efficiency of a GEMM of `flops` from a measured sweep: linear in log FLOPs
// between points, flat beyond the ends.
inline double SweepEfficiency(const Device::Sweep& s, double flops) {
  const double x = std::log10(std::max(flops, 1.0));
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

// Seconds of one GEMM kernel: the measured efficiency at its size (which
// includes launch and ramp), or the scalar efficiency plus the kernel cost;
// never faster than its memory traffic plus the kernel cost.
inline double GemmSeconds(const Device& d, const ComputeRate& r, double flops, double bytes) {
  const double tm = bytes / (d.memory_bandwidth * d.memory_efficiency) + d.kernel_overhead;
  if (r.sweep != nullptr) return std::max(flops / (r.rate * SweepEfficiency(*r.sweep, flops)), tm);
  return std::max(flops / (r.rate * r.efficiency) + d.kernel_overhead, tm);
}

// Seconds of a memory-bound kernel moving `bytes`.
inline double StreamSeconds(const Device& d, double bytes) {
  return bytes / (d.memory_bandwidth * d.memory_efficiency) + d.kernel_overhead;
}

}  // namespace suanli
