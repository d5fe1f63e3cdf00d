// Inference performance model: prefill and decode of a transformer on a
// chip or system, from operator FLOPs and bytes, the chip's datasheet peaks
// and its efficiency profile.
//
// Every operator of a forward pass (projections, attention, MLP or MoE
// experts, norms, LM head, collectives) takes
//     max(FLOPs / (peak x GEMM efficiency), bytes / (bandwidth x memory efficiency))
// plus a fixed kernel cost; collectives take latency + bytes / bus bandwidth.
// The model is explained in docs/inference-model.md.
//
// Usage:
//   auto cluster = MakeCluster(catalog, chip, system);          // once per chip
//   auto est = EstimateInference(*cluster, model.arch, request); // ~0.3 us
//
// EstimateInference allocates nothing and never throws; a plan that cannot
// exist (TP not dividing the heads, zero tokens, ...) is an Error, a plan that
// does not fit in memory is an estimate with fits == false and a reason.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "suanli/hardware/cluster.h"
#include "suanli/model/model.h"
#include "suanli/core/result.h"

namespace suanli {

enum class BatchMode {
  kStatic,          // `batch` requests start together: prefill all, decode together
  kStaticMax,       // the static batch that maximises output tokens/s within memory
  kConcurrency,     // `batch` requests always in flight, continuously batched
  kConcurrencyMax,  // the largest concurrency that fits (offline max-throughput)
};

struct Precision {
  Dtype weights = Dtype::kBf16;
  Dtype activations = Dtype::kBf16;
  Dtype kv_cache = Dtype::kBf16;
  bool sparse_24 = false;  // 2:4 structured-sparse linear weights (half the values plus 2-bit indices)
};

struct InferenceRequest {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  BatchMode mode = BatchMode::kStatic;
  int64_t batch = 1;  // requests (kStatic) or requests in flight (kConcurrency)
  int tp = 1;
  int pp = 1;
  int ep = 1;
  Precision precision;
};

enum class Bound { kCompute, kMemory, kCommunication, kOverhead };
std::string_view BoundName(Bound b);

// Where time goes, by operator class.
enum class OpClass {
  kProjection,   // QKV and output projections
  kAttention,    // attention core (flash prefill, KV-cache decode)
  kMlp,          // dense MLP and shared experts
  kExperts,      // router and routed experts
  kLmHead,       // embedding lookup and LM head
  kElementwise,  // norms, activations
  kAllReduce,    // tensor-parallel all-reduce
  kAllToAll,     // expert-parallel dispatch and combine
  kPipeline,     // pipeline-stage transfers
  kFixed,        // per-pass fixed cost (scheduling, sampling)
};
inline constexpr int kOpClassCount = 10;
std::string_view OpClassName(OpClass c);

struct PhaseEstimate {
  double seconds = 0;
  std::array<double, kOpClassCount> by_class{};
  double compute_seconds = 0;        // operators limited by compute
  double memory_seconds = 0;         // operators limited by memory bandwidth
  double communication_seconds = 0;  // collectives and transfers
  double overhead_seconds = 0;       // kernel and pass fixed costs
  double flops = 0;                  // per device
  double bytes = 0;                  // memory traffic per device
  Bound bound = Bound::kCompute;
};

struct MemoryEstimate {  // per device, bytes
  double weights = 0;
  double kv_cache = 0;
  double activations = 0;
  double reserved = 0;
  double total = 0;
  double capacity = 0;
};

enum class InfeasibleReason { kNone, kWeightsDoNotFit, kKvDoesNotFit, kContextTooLong };
std::string_view InfeasibleReasonText(InfeasibleReason r);

// Warnings are bits; WarningTexts() turns them into sentences.
enum Warning : uint32_t {
  kWarnWeightsDequantized = 1u << 0,     // weight dtype has no matrix units: computed at 16 bits
  kWarnActivationsFallback = 1u << 1,    // activation dtype has no matrix units: computed at 16 bits
  kWarnTpCrossesNodes = 1u << 2,         // tensor parallelism spans the scale-up domain
  kWarnEpCrossesNodes = 1u << 3,         // expert parallelism spans the scale-up domain
  kWarnKvHeadsReplicated = 1u << 4,      // TP exceeds the KV heads: K/V replicated
  kWarnContextBeyondModel = 1u << 5,     // input + output exceed the model's max positions
  kWarnNoScaleOutBandwidth = 1u << 6,    // scale-out bandwidth unknown: assumed 50 GB/s
  kWarnSparsityFallback = 1u << 7,       // 2:4 sparse weights on a chip without sparse units: dense rate
  kWarnAssumedNode = 1u << 8,            // a bare chip: nodes of up to 8 chips assumed
};
std::string WarningTexts(uint32_t warnings);  // "; "-separated
std::vector<std::string> WarningList(uint32_t warnings);

struct InferenceEstimate {
  double ttft_s = 0;
  double tpot_s = 0;
  double request_latency_s = 0;
  double output_tokens_per_s = 0;  // whole deployment
  double output_tokens_per_s_per_device = 0;
  double input_tokens_per_s = 0;
  double output_tokens_per_s_per_kw = 0;   // per kW of board power; 0 = power unknown
  double output_tokens_per_s_per_usd = 0;  // per USD of chips; 0 = price unknown
  int64_t batch = 0;  // requests (static) or in flight (concurrency)
  int devices = 0;
  bool fits = false;
  InfeasibleReason reason = InfeasibleReason::kNone;
  PhaseEstimate prefill;  // the prefill pass (static) or one mixed iteration's prefill share
  PhaseEstimate decode;   // one decode step
  MemoryEstimate memory;
  int64_t max_batch = 0;           // largest batch (or concurrency) that fits
  int64_t max_context_tokens = 0;  // longest input + output that fits at this batch
  Dtype compute_dtype = Dtype::kBf16;
  ProfileTier tier = ProfileTier::kDatasheet;
  uint32_t warnings = 0;
};

// Checks that the plan can exist for this model and device.
Status CheckInferencePlan(const Cluster& cluster, const ModelArch& model, const InferenceRequest& request);

// Estimates one deployment. Calls CheckInferencePlan first.
Result<InferenceEstimate> EstimateInference(const Cluster& cluster, const ModelArch& model,
                                            const InferenceRequest& request);

}  // namespace suanli
