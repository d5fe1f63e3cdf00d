// Shared by the libFuzzer targets: the properties every accepted model must
// keep (finite, non-negative parameters, KV cache and estimates), a fixed
// H100-like device, plan choices drawn from a hash of the whole input (never
// from bytes inside the document, which a parser sees first), and scratch
// files for the targets that read from disk.
#pragma once

#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "suanli/catalog/catalog.h"
#include "support/test_support.h"
#include "suanli/infer/infer.h"
#include "suanli/model/model.h"
#include "suanli/train/train.h"

namespace suanli::fuzz {

inline uint64_t Hash(std::string_view bytes) {  // FNV-1a
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

inline bool Finite(double v) { return std::isfinite(v) && v >= 0; }

inline void CheckModel(const ModelArch& m) {
  const ParamCount p = CountParams(m);
  const double kv = KvValuesForContext(m, 4096);
  if (!Finite(p.total) || !Finite(p.active) || p.active > p.total * 1.0000001 || !Finite(kv) ||
      m.groups.size() > static_cast<std::size_t>(ArchLimits::kLayers)) {
    std::abort();
  }
}

inline const Cluster& FuzzCluster() {
  static const Cluster cluster = [] {
    Cluster c;
    Device& d = c.device;
    d.chip_id = "fuzz";
    d.peak[static_cast<int>(Dtype::kBf16)] = 989e12;
    d.peak[static_cast<int>(Dtype::kFp16)] = 989e12;
    d.peak[static_cast<int>(Dtype::kFp8)] = 1979e12;
    d.memory_bandwidth = 3.35e12;
    d.memory_capacity = 80e9;
    d.scale_up_bandwidth = 450e9;
    d.scale_up_domain = 8;
    d.gemm_efficiency = d.gemm_efficiency_fp8 = 0.7;
    d.attention_efficiency = 0.33;
    d.memory_efficiency = d.decode_attention_efficiency = 0.9;
    d.reserved_bytes = 1e9;
    d.reserved_fraction = 0.05;
    d.allreduce_efficiency = 1.0;
    d.collective_latency = 40e-6;
    d.scale_out_efficiency = 0.8;
    d.kernel_overhead = 5e-6;
    d.step_overhead = 3e-4;
    d.host_op_overhead = 15e-6;
    d.overlap_slowdown = 0.19;
    c.chips_per_node = 8;
    c.scale_out_bandwidth = 50e9;
    return c;
  }();
  return cluster;
}

// Inference and training of an accepted model stay finite under a few plans.
inline void CheckEstimates(const ModelArch& m, uint64_t h) {
  const unsigned a = h & 0xff, b = (h >> 8) & 0xff;
  InferenceRequest r;
  r.input_tokens = 1 + (a % 64) * 97;
  r.output_tokens = 1 + (b % 32) * 31;
  r.batch = 1 + (a >> 4);
  r.tp = 1 << (b % 4);
  r.mode = static_cast<BatchMode>(a % 4);
  if (auto e = EstimateInference(FuzzCluster().device, m, r)) {
    if (!Finite(e->ttft_s) || !Finite(e->tpot_s) || !Finite(e->output_tokens_per_s) || !Finite(e->memory.total)) {
      std::abort();
    }
  }
  TrainRequest t;
  t.devices = 8;
  t.seq_len = 128 << (a % 4);
  t.global_batch = 16;
  t.plan.tp = 1 << (b % 4);
  t.plan.dp = int(8 / t.plan.tp);
  t.plan.recompute = static_cast<Recompute>(b % 3);
  if (auto e = EstimateTraining(FuzzCluster(), m, t)) {
    if (!Finite(e->step_time_s) || e->step_time_s <= 0 || !Finite(e->memory.total) || !Finite(e->mfu)) std::abort();
  }
}

// The catalog shipped with the sources, loaded once (shared with the unit tests).
using suanli::testing::ShippedCatalog;

// A per-process scratch directory for targets that read files, removed at exit.
inline std::filesystem::path ScratchPath() {
  return std::filesystem::temp_directory_path() / ("suanli-fuzz-" + std::to_string(::getpid()));
}
inline void RemoveScratch() {
  std::error_code ec;
  std::filesystem::remove_all(ScratchPath(), ec);
}
inline const std::filesystem::path& ScratchDir() {
  static const std::filesystem::path dir = [] {
    auto p = ScratchPath();
    std::filesystem::create_directories(p);
    std::atexit(RemoveScratch);
    return p;
  }();
  return dir;
}

inline std::string WriteScratch(const std::string& relative, std::string_view text) {
  const auto path = ScratchDir() / relative;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(text.data(), static_cast<std::streamsize>(text.size()));
  return path.string();
}

}  // namespace suanli::fuzz
