// Inference performance model: prefill and decode of a transformer on a
// chip or system, analytically, for a static batch or continuous batching.
//
// Every forward pass is one IterationModel::Cost (iteration.h) of the shared
// operator list: each operator takes
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
#include "suanli/infer/iteration.h"
#include "suanli/model/model.h"
#include "suanli/core/result.h"

namespace suanli {

enum class BatchMode {
  kStatic,          // `batch` requests start together: prefill all, decode together
  kStaticMax,       // the static batch that maximises output tokens/s within memory
  kConcurrency,     // `batch` requests always in flight, continuously batched
  kConcurrencyMax,  // the largest concurrency that fits (offline max-throughput)
};

// What is asked of the deployment: fixed-length requests and how they arrive.
struct InferenceWorkload {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  BatchMode mode = BatchMode::kStatic;
  int64_t batch = 1;  // requests (kStatic) or requests in flight (kConcurrency)
};

// The serving framework as the estimator uses it, from a stack record
// (catalog/stacks/, kind serving). A default-constructed one is not a stack:
// requests must carry one (MakeServingStack).
struct ServingStack {
  std::string id;
  double max_num_tokens = 0;  // tokens per forward pass; longer prefills are chunked to it
  double expert_imbalance = 1;  // busiest expert-parallel rank's routed tokens over the mean
  bool fused_residual_norm = true;
  bool deepep = false;  // EP dispatch/combine on DeepEP's kernels (moe.deepep)
};
// The stack `id` of the catalog, or its default serving stack when `id` is empty.
Result<ServingStack> MakeServingStack(const Catalog& catalog, std::string_view id);

struct InferenceRequest {
  InferenceWorkload workload;
  InferencePlan plan;
  ServingStack stack;
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

// Checks the workload and the plan (CheckInferencePlan).
Status CheckInferenceRequest(const Cluster& cluster, const ModelArch& model, const InferenceRequest& request);

// Estimates one deployment. Calls CheckInferenceRequest first.
Result<InferenceEstimate> EstimateInference(const Cluster& cluster, const ModelArch& model,
                                            const InferenceRequest& request);

}  // namespace suanli
