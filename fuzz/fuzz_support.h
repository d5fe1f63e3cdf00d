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

// The catalog shipped with the sources, loaded once (shared with the unit tests).
using suanli::testing::ShippedCatalog;

// An HGX H100 node from the shipped catalog, with its stacks.
inline const Cluster& FuzzCluster() {
  static const Cluster cluster = [] {
    const Catalog& c = ShippedCatalog();
    auto made = MakeCluster(c, *c.FindChip("h100-sxm"), c.FindSystem("hgx-h100"));
    if (!made) std::abort();
    return *made;
  }();
  return cluster;
}

// Inference and training of an accepted model stay finite under a few plans.
inline void CheckEstimates(const ModelArch& m, uint64_t h) {
  const unsigned a = h & 0xff, b = (h >> 8) & 0xff;
  InferenceRequest r;
  r.stack = suanli::testing::DefaultServingStack();
  r.workload.input_tokens = 1 + (a % 64) * 97;
  r.workload.output_tokens = 1 + (b % 32) * 31;
  r.workload.batch = 1 + (a >> 4);
  r.plan.tp = 1 << (b % 4);
  r.workload.mode = static_cast<BatchMode>(a % 4);
  if (auto e = EstimateInference(FuzzCluster(), m, r)) {
    if (!Finite(e->ttft_s) || !Finite(e->tpot_s) || !Finite(e->output_tokens_per_s) || !Finite(e->memory.total)) {
      std::abort();
    }
  }
  TrainRequest t;
  t.stack = suanli::testing::DefaultTrainingStack();
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
