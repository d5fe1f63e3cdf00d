// The cost of one serving iteration: one forward pass of a batch whose
// sequences each have their own context, some decoding one token and some
// prefilling a chunk of their prompt (continuous batching, chunked prefill).
//
// IterationModel::Make prepares a plan once (checks it, picks the GEMM rate,
// the bytes per value, the links); Cost() then prices any batch composition
// from the shared operator list (cost/layer_ops.h) on the shared roofline and
// collectives, in well under a microsecond for a handful of buckets. Both the
// analytical estimator (infer.h) and the serving simulator call it; nothing
// else times a forward pass. Cost() allocates nothing and is safe to call
// from many threads; the model keeps pointers to the cluster and the
// architecture, which must outlive it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "suanli/core/dtype.h"
#include "suanli/core/result.h"
#include "suanli/cost/layer_ops.h"
#include "suanli/cost/moe_dispatch.h"
#include "suanli/cost/roofline.h"
#include "suanli/hardware/collectives.h"
#include "suanli/model/model.h"

namespace suanli {

struct Precision {
  Dtype weights = Dtype::kBf16;
  Dtype activations = Dtype::kBf16;
  Dtype kv_cache = Dtype::kBf16;
  bool sparse_24 = false;  // 2:4 structured-sparse linear weights (half the values plus 2-bit indices)
};

// How one serving instance is laid out: tp x pp x ep devices. Expert
// parallelism replicates attention ep ways (data-parallel attention): each
// replica serves 1/ep of the sequences, the experts are split over all.
struct InferencePlan {
  int tp = 1;
  int pp = 1;
  int ep = 1;
  Precision precision;
  int redundant_experts = 0;  // MoE: extra expert replicas (EPLB); ep divides experts + redundant
  // MoE without DP attention: the routed experts split tp_ep ways over the tp
  // ranks as expert parallelism (LayerShard::tp_ep; SGLang's --ep-size with an
  // all-to-all backend). 1: the experts are split tensor-parallel with the
  // attention. Needs ep 1 and tp_ep dividing tp. With a stack that
  // dispatches over an all-to-all backend (IterationStack::deepep) the tokens
  // are scattered and dispatched; else every rank keeps them all and the
  // all-reduces stay (TensorRT-LLM's and vLLM's EP with TP attention).
  int tp_ep = 1;
  [[nodiscard]] int devices() const { return tp * pp * ep; }
  [[nodiscard]] int expert_ranks() const { return ep * tp_ep; }  // ranks the routed experts are split over
};

enum class Bound { kCompute, kMemory, kCommunication, kOverhead };
std::string_view BoundName(Bound b);

// One pass: seconds per device, by operator class and by what limits them
// (the four parts sum to `seconds`, as do the classes).
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

// Sequences of the whole instance (all attention replicas) in one iteration.
struct DecodeBucket {
  double sequences = 0;  // decoding one token each
  double context = 0;    // tokens already in each one's KV cache
  double tokens = 1;     // query tokens per sequence: 1, or 1 + draft tokens when verifying a speculative step
};
struct PrefillChunk {
  double sequences = 0;  // prefilling a chunk each
  double offset = 0;     // prompt tokens already prefilled (in the KV cache)
  double tokens = 0;     // new prompt tokens in this chunk
  bool completes = true; // the chunk ends the prompt: its last token samples the first output token
};
struct BatchComposition {
  std::span<const DecodeBucket> decode;
  std::span<const PrefillChunk> prefill;
};

// Whether the pipeline fills and drains within the pass (one static prefill)
// or every stage is busy (decode and continuous batching in steady state).
enum class PipelineFill { kFillAndDrain, kSteady };

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
  kWarnDispatchLinkModel = 1u << 9,      // no measured EP dispatch curve for the chip: the link model prices it
  kWarnDispatchCurveScaled = 1u << 10,   // the measured EP dispatch curve is scaled to this cluster's links
};
std::string WarningTexts(uint32_t warnings);  // "; "-separated
std::vector<std::string> WarningList(uint32_t warnings);
std::string_view WarningCode(uint32_t bit);

// The largest tp, pp or ep an inference plan may have.
inline constexpr int kMaxInferenceDegree = 4096;

// Checks that the plan can exist for this model on this cluster (tp divides
// the heads, ep the experts, precisions the chip supports, ...).
Status CheckInferencePlan(const Cluster& cluster, const ModelArch& model, const InferencePlan& plan);

// What the serving stack decides about a forward pass's kernels.
struct IterationStack {
  double expert_imbalance = 1;  // busiest expert-parallel rank's routed tokens over the mean
  bool fused_residual_norm = true;
  // Two-batch overlap (SGLang): the batch runs as two micro-batches, one's
  // EP dispatch/combine under the other's compute.
  bool two_batch_overlap = false;
  // EP dispatch and combine with DeepEP's kernels (priced on the chip's
  // measured curves where its profile has them); else the generic exchange.
  bool deepep = false;
};

class IterationModel {
 public:
  // Checks the plan (CheckInferencePlan) and prepares its costs.
  static Result<IterationModel> Make(const Cluster& cluster, const ModelArch& model, const InferencePlan& plan,
                                     const IterationStack& stack);

  // One iteration of `batch`, per device, in `micro_batches` micro-batches
  // through the pipeline (0: as many as the sequences allow, up to pp).
  [[nodiscard]] PhaseEstimate Cost(const BatchComposition& batch, PipelineFill fill, double micro_batches = 0) const;

  // KV-cache bytes per device for one sequence of `context` tokens (the
  // fullest pipeline stage; sliding-window layers stop at their window).
  [[nodiscard]] double KvBytes(double context) const;

  [[nodiscard]] const Cluster& cluster() const { return *cluster_; }
  [[nodiscard]] const ModelArch& model() const { return *model_; }
  [[nodiscard]] const InferencePlan& plan() const { return plan_; }
  [[nodiscard]] const OpBytes& bytes() const { return bytes_; }
  [[nodiscard]] Dtype compute_dtype() const { return gemm_.dtype; }
  [[nodiscard]] uint32_t warnings() const { return warnings_; }

 private:
  IterationModel() = default;
  void StagePass(const BatchComposition& batch, double share, PhaseEstimate& out) const;

  const Cluster* cluster_ = nullptr;
  const ModelArch* model_ = nullptr;
  InferencePlan plan_;
  ComputeRate gemm_;        // the plan's GEMMs
  ComputeRate gemm16_;      // 16-bit GEMMs
  double rate16_attention_ = 0;  // 16-bit peak x attention efficiency
  double rate16_decode_attention_ = 0;  // 16-bit peak x decode attention's compute efficiency
  OpBytes bytes_;
  OpStyle style_;
  CollectiveCost tp_all_reduce_;  // over the tp ranks of a replica
  CollectiveCost ep_exchange_;    // dispatch or combine over the ep replicas
  CollectiveCost pp_send_;        // one stage to the next
  // EP dispatch/combine from the measured curves (DeepEP), when the chip's
  // profile has them (cost/moe_dispatch.h, MeasuredDispatch).
  std::optional<MeasuredDispatchRates> measured_dispatch_;
  bool two_batch_overlap_ = false;
  bool tp_ep_scattered_ = false;  // EP inside TP dispatches scattered tokens (an all-to-all backend: DeepEP)
  bool deepep_ = false;           // the stack dispatches with DeepEP's kernels
  Links links_;                   // the cluster's links (for dispatch without measured curves)
  double DispatchCombineSeconds(const MoeShape& e, double rows, bool prefill) const;
  double LinkDispatchSeconds(const MoeShape& e, double rows, bool prefill) const;
  uint32_t warnings_ = 0;
  // KvBytes: bytes per context token of the layers without a sliding window,
  // and whether any layer has one (then those are summed per call).
  double kv_bytes_per_token_ = 0;
  bool kv_windowed_ = false;
};

}  // namespace suanli
