// One transformer layer as a list of operators: the one description of a
// layer that inference, training and serving all price.
//
// LayerOps() lists, for one layer of a group on one device, every operator
// with its FLOPs, bytes and kernel launches: the norms and residual adds,
// the QKV / MLA projections, the attention core, the output projection, the
// tensor-parallel all-reduces, the dense MLP or the MoE router, shared and
// routed experts with their dispatch and combine. HeadOps() lists the
// embedding lookup and the LM head. The callers only price the list:
// inference times each operator once (infer/iteration.cc); training times it
// forward, adds its backward and recompute and counts its launches for the
// host (train/layer_costs.cc). Formulas cite their sources in
// docs/inference-model.md and docs/training-model.md.
//
// Pure arithmetic on small fixed arrays; no allocation.
#pragma once

#include <cassert>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>

#include <string_view>

#include "suanli/model/model.h"

namespace suanli {

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

enum class OpKind : uint8_t {
  kGemm,             // a dense GEMM (rows x k x n)
  kGroupedGemm,      // the routed experts' grouped GEMMs (gate/up and down)
  kStream,           // a memory-bound kernel: norm, residual add, activation, permute
  kAttention,        // flash attention over prefill or training tokens
  kScores,           // materialised attention: QK^T and PV batched GEMMs (16-bit)
  kSoftmax,          // materialised attention: scale, mask, softmax, dropout over the scores
  kDecodeAttention,  // decode attention reading the KV cache
  kTpAllReduce,      // tensor-parallel all-reduce of the hidden state
  kExpertAllToAll,   // expert-parallel dispatch and combine (both)
};

// What the training accountant counts as launched operators for one of these
// (the host dispatches each; frameworks pay a fixed cost per operator).
struct Launches {
  double forward = 1;
  double backward = 0;
};

struct Op {
  OpKind kind = OpKind::kGemm;
  OpClass cls = OpClass::kProjection;  // where its time is reported
  double flops = 0;
  double bytes = 0;    // memory traffic (collectives: bytes on the wire per rank)
  double kernels = 1;
  double rows = 0, k = 0, n = 0;  // GEMMs: the shape (training casts fp8 inputs by it); grouped: all
                                  // assignments, hidden, ffn columns per expert
  bool sixteen_bit = false;        // computes at 16 bits whatever the plan's precision (LM head, scores)
  Launches launches;
  double groups = 0;  // grouped GEMMs: experts on this device that receive tokens (rows / groups per expert)
};

// A short list of operators: no allocation, and no writes beyond the
// operators added (the estimators build two or three lists per pass, so
// zeroing a full array would cost more than the arithmetic).
class OpList {
 public:
  static constexpr int kCapacity = 24;  // a layer has at most 17 (MLA + MoE + materialised attention)
  OpList() {}  // NOLINT: storage left uninitialised on purpose
  OpList(const OpList& o) : size_(o.size_) { std::memcpy(storage_, o.storage_, std::size_t(size_) * sizeof(Op)); }
  OpList& operator=(const OpList& o) {
    size_ = o.size_;
    std::memmove(storage_, o.storage_, std::size_t(size_) * sizeof(Op));
    return *this;
  }
  void Add(const Op& op) {
    assert(size_ < kCapacity);
    ::new (static_cast<void*>(storage_ + std::size_t(size_++) * sizeof(Op))) Op(op);
  }
  [[nodiscard]] int size() const { return size_; }
  [[nodiscard]] const Op& operator[](int i) const {
    assert(i >= 0 && i < size_);
    return data()[i];
  }
  [[nodiscard]] const Op* begin() const { return data(); }
  [[nodiscard]] const Op* end() const { return data() + size_; }

 private:
  [[nodiscard]] const Op* data() const { return std::launder(reinterpret_cast<const Op*>(storage_)); }
  alignas(Op) unsigned char storage_[kCapacity * sizeof(Op)];
  int size_ = 0;
};
static_assert(std::is_trivially_copyable_v<Op> && std::is_trivially_destructible_v<Op>);

// How the layer is split over devices.
struct LayerShard {
  int tp = 1;  // heads and FFN columns split tp ways
  int ep = 1;  // routed experts split ep ways; each device's attention sees 1/ep of the tokens
  // Norms and residual adds split tp ways (Megatron SP). A MoE block then
  // takes its tokens sharded over tp as Megatron-Core's does
  // (megatron/core/transformer/moe/token_dispatcher.py: the dispatcher's tp
  // group is expt_tp_group; alltoall: permute, A2A over EP, all-gather over
  // etp, and back with a reduce-scatter over etp): no tensor-parallel
  // collective surrounds the routed experts, only the shared experts' (an MLP
  // over the attention's tp ranks), and the exchange carries the etp gather.
  bool sequence_parallel = false;
  int redundant_experts = 0;  // extra replicas of the busiest experts spread over the ep ranks (EPLB)
  // Expert tensor parallelism (MoE parallel folding, Liu et al. 2025,
  // arXiv:2504.14960): routed experts' FFN columns split etp ways, where the
  // attention splits tp ways over the same ranks. 0: etp = tp (no folding).
  int etp = 0;
  // Expert parallelism inside the tensor-parallel group, without DP attention
  // (SGLang with an all-to-all backend, python/sglang/srt/layers/communicator.py:
  // the MoE layers' tokens are SCATTERED): attention runs tp ways, its output is
  // reduce-scattered so each rank holds 1/tp of the tokens, which are dispatched
  // to whole experts split tp_ep ways (etp = tp / tp_ep), combined, and
  // all-gathered before the next attention. 1: off. Without the scatter
  // (tp_ep_scattered false: TensorRT-LLM's and vLLM's EP with TP attention,
  // SGLang without an all-to-all backend) every rank keeps all the tokens,
  // runs its own experts on those routed to them, and the all-reduces stay:
  // the experts' GEMM shapes change, not the communication.
  int tp_ep = 1;
  bool tp_ep_scattered = true;
};

// Bytes per value of what operators read and write.
struct OpBytes {
  double weight = 2;       // linear-layer weights (int4: 0.5; 2:4 sparse: half the values plus an index)
  double activation = 2;   // activations between operators
  double kv = 2;           // KV cache appended (0: no cache, as in training)
  double head_weight = 2;  // embedding and LM head weights
  double logits = 4;       // LM head output per value
  double comm = 2;         // collective payload per value
};

// Software-stack choices that change which kernels run.
enum class NormFusion {
  kFusedResidualNorm,  // serving kernels: residual add fused into the next norm (2 kernels per layer)
  kUnfused,            // Megatron: two norms and two residual adds (+ dropout), 4 kernels per layer
};
enum class AttentionImpl { kFlash, kMaterialised };

struct OpStyle {
  NormFusion norms = NormFusion::kFusedResidualNorm;
  AttentionImpl attention = AttentionImpl::kFlash;
  double expert_imbalance = 1;  // busiest expert rank's routed tokens over the mean
  bool experts_padded = false;  // every expert computes expert_imbalance x its mean share, whatever ep (padded to capacity)
};

// One layer's attention core on one device.
struct AttentionLoad {
  double prefill_rows = 0;   // query tokens of prefill chunks or training sequences
  double prefill_pairs = 0;  // their causal (query, key) pairs, after the window
  double scores = 0;         // materialised: score values per head (b x s x s / cp)
  double decode_rows = 0;    // decoding sequences (one query each)
  double decode_keys = 0;    // cached keys they read, summed, after the window
  double decode_query_keys = 0;  // (query, key) products: decode_keys x query tokens per sequence
                                 // (more than one when verifying draft tokens); 0 = decode_keys
};

// The tokens through one layer on one device.
struct LayerTokens {
  double rows = 0;  // GEMM rows: tokens this device's attention replica processes
  AttentionLoad attention;
};

// Causal (query, key) pairs of one sequence of `len` new tokens after `past`
// cached ones, with a sliding window (0 = none).
double AttentionPairs(double past, double len, int window);

// The operators of one layer of `g` (hidden size `hidden`).
OpList LayerOps(const LayerGroup& g, int hidden, const LayerShard& shard, const OpBytes& bytes, const OpStyle& style,
                const LayerTokens& tokens);

// The end stages: the embedding lookup for `rows` tokens and the LM head for
// `sample_rows` of them (every decode token and each prompt's last token in
// serving; every token in training).
OpList HeadOps(const ModelArch& m, const LayerShard& shard, const OpBytes& bytes, double rows,
               double sample_rows);

}  // namespace suanli
