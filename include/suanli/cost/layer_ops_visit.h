// The operators of a layer, handed one by one to a visitor: the form the
// hot loops use (the inference pass prices each operator as it is made,
// with no list in between). LayerOps() and HeadOps() in layer_ops.h collect
// the same operators into an OpList. Formulas cite their sources in
// docs/inference-model.md and docs/training-model.md.
#pragma once

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "suanli/cost/layer_ops.h"

namespace suanli {
namespace detail {

// Launches of a GEMM for an eager training framework: forward, and backward's
// input gradient, weight gradient, its accumulation and the bias gradient.
inline constexpr Launches kGemmLaunches{.forward = 1, .backward = 4};

template <typename Visit>
class OpBuilder {
 public:
  OpBuilder(const OpBytes& b, Visit& visit) : b_(b), visit_(visit) {}

  // A GEMM of `rows` x `k` x `n` (weights k x n).
  void Gemm(OpClass cls, double rows, double k, double n) {
    if (rows <= 0) return;
    visit_(Op{.kind = OpKind::kGemm, .cls = cls, .flops = 2 * rows * k * n,
                .bytes = k * n * b_.weight + rows * (k + n) * b_.activation, .kernels = 1, .rows = rows, .k = k, .n = n,
                .sixteen_bit = false, .launches = kGemmLaunches});
  }
  void Stream(OpClass cls, double bytes, double kernels, Launches launches) {
    visit_(Op{.kind = OpKind::kStream, .cls = cls, .flops = 0, .bytes = bytes, .kernels = kernels, .rows = 0, .k = 0,
                .n = 0, .sixteen_bit = false, .launches = launches});
  }
  void Add(const Op& op) { visit_(op); }

 private:
  const OpBytes& b_;
  Visit& visit_;
};

}  // namespace detail

// Calls visit(const Op&) for every operator of one layer of `g`, in order.
template <typename Visit>
void ForEachLayerOp(const LayerGroup& g, int hidden, const LayerShard& shard, const OpBytes& b, const OpStyle& style,
                    const LayerTokens& t, Visit&& visit) {
  detail::OpBuilder<std::remove_reference_t<Visit>> ops(b, visit);
  const double h = hidden, tp = shard.tp, ep = shard.ep;
  const double rows = t.rows;
  const double ab = b.activation;
  const AttentionShape& a = g.attention;
  const double heads = a.heads / tp;

  // Norms and residual adds: memory-bound; sequence parallelism splits them.
  if (style.norms == NormFusion::kFusedResidualNorm) {
    // vLLM's fused_add_rms_norm (csrc/layernorm_kernels.cu) and TensorRT-LLM's
    // residual + RMSNorm fusion: read the input and the residual, write the
    // new residual and the normalised input, 4 values per token, twice a layer.
    ops.Stream(OpClass::kElementwise, 2 * 4 * rows * h * ab, 2, Launches{.forward = 2, .backward = 4});
  } else {
    // Two norms (read, write: 2 values) and two residual adds (+ dropout; 3 values), Megatron-style.
    const double shard_tokens = shard.sequence_parallel ? rows / tp : rows;
    ops.Stream(OpClass::kElementwise, shard_tokens * 10 * h * ab, 4, Launches{.forward = 4, .backward = 8});
  }

  // Projections.
  if (a.kind == AttentionKind::kLatent) {
    const double q_in = a.q_lora_rank > 0 ? a.q_lora_rank : h;
    if (a.q_lora_rank > 0) ops.Gemm(OpClass::kProjection, rows, h, a.q_lora_rank);
    ops.Gemm(OpClass::kProjection, rows, q_in, heads * a.head_dim);
    ops.Gemm(OpClass::kProjection, rows, h, a.kv_lora_rank + a.rope_dim);
    // kv_b: up-projects the latent for prefill keys/values, or is absorbed into
    // the query and output for decode; the same weights and FLOPs per row.
    ops.Gemm(OpClass::kProjection, rows, a.kv_lora_rank, heads * (a.head_dim - a.rope_dim + a.v_head_dim));
  } else {
    const double kv = KvHeadsPerRank(a, shard.tp);
    ops.Gemm(OpClass::kProjection, rows, h, heads * a.head_dim + kv * (a.head_dim + a.v_head_dim));
  }

  // Attention core.
  const AttentionLoad& load = t.attention;
  const double kv_values = KvValuesPerTokenPerLayer(a, shard.tp);
  if (load.prefill_rows > 0) {
    const double flops = 2 * heads * (a.head_dim + a.v_head_dim) * load.prefill_pairs;
    if (style.attention == AttentionImpl::kFlash) {
      // Reads Q, K, V, writes O, appends the cache.
      const double bytes = load.prefill_rows * (2 * heads * (a.head_dim + a.v_head_dim) + kv_values) * ab +
                           load.prefill_rows * kv_values * b.kv;
      ops.Add(Op{.kind = OpKind::kAttention, .cls = OpClass::kAttention, .flops = flops, .bytes = bytes, .kernels = 1,
                 .rows = 0, .k = 0, .n = 0, .sixteen_bit = true, .launches = Launches{.forward = 1, .backward = 2}});
    } else {
      // Two batched GEMMs (QK^T, PV) over every head, and scale-mask-softmax
      // + dropout over the materialised scores (fp16: softmax reads and writes
      // 4 B, dropout reads, writes and masks 5 B per score).
      const double score_values = heads * load.scores;
      const double qkv_bytes = load.prefill_rows * (heads * (a.head_dim + a.v_head_dim) * 2) * ab;
      const Op scores{.kind = OpKind::kScores, .cls = OpClass::kAttention, .flops = flops / 2,
                      .bytes = qkv_bytes / 2 + score_values * ab, .kernels = 1, .rows = 0, .k = 0, .n = 0,
                      .sixteen_bit = true, .launches = Launches{.forward = 1, .backward = 2}};
      ops.Add(scores);
      ops.Add(scores);
      ops.Add(Op{.kind = OpKind::kSoftmax, .cls = OpClass::kAttention, .flops = 0, .bytes = score_values * 9,
                 .kernels = 1, .rows = 0, .k = 0, .n = 0, .sixteen_bit = true,
                 .launches = Launches{.forward = 4, .backward = 4}});  // softmax, dropout, two layout copies
    }
  }
  if (load.decode_rows > 0) {
    // MLA decode attends in the latent space (absorbed): q.k over kv_lora + rope, v of kv_lora.
    const double qk = a.kind == AttentionKind::kLatent ? a.kv_lora_rank + a.rope_dim : a.head_dim;
    const double v = a.kind == AttentionKind::kLatent ? a.kv_lora_rank : a.v_head_dim;
    const double query_keys = load.decode_query_keys > 0 ? load.decode_query_keys : load.decode_keys;
    const double flops = 2 * heads * (qk + v) * query_keys;
    const double bytes = load.decode_keys * kv_values * b.kv + load.decode_rows * kv_values * b.kv;
    ops.Add(Op{.kind = OpKind::kDecodeAttention, .cls = OpClass::kAttention, .flops = flops, .bytes = bytes,
               .kernels = 1, .rows = 0, .k = 0, .n = 0, .sixteen_bit = true, .launches = {}});
  }
  ops.Gemm(OpClass::kProjection, rows, heads * a.v_head_dim, h);
  // EP inside the TP group (tp_ep > 1): a reduce-scatter here and an
  // all-gather after the experts move one all-reduce's bytes between them
  // (each half of the ring's passes), priced as all-reduces of half the bytes.
  const bool scattered = g.is_moe() && shard.tp_ep > 1 && shard.tp_ep_scattered;
  const double all_reduce_bytes = rows * h * b.comm;
  const Op all_reduce{.kind = OpKind::kTpAllReduce, .cls = OpClass::kAllReduce, .flops = 0,
                      .bytes = scattered ? all_reduce_bytes / 2 : all_reduce_bytes, .kernels = 1, .rows = 0, .k = 0,
                      .n = 0, .sixteen_bit = false, .launches = Launches{.forward = 1, .backward = 1}};
  if (shard.tp > 1 && rows > 0) ops.Add(all_reduce);

  // MLP or MoE.
  if (g.is_moe()) {
    const MoeShape& e = g.moe;
    ops.Gemm(OpClass::kExperts, rows, h, e.experts);  // router (replicated over tp)
    if (e.shared_experts > 0) {
      const double ffn = e.shared_experts * double(e.shared_ffn) / tp;
      ops.Gemm(OpClass::kMlp, rows, h, 2 * ffn);
      ops.Gemm(OpClass::kMlp, rows, ffn, h);
    }
    // Routed experts on this device: E/ep of them, each with ffn/tp columns.
    // The expert-parallel group's tokens (rows x ep) spread over all experts;
    // with experts split over ranks the busiest rank gets `expert_imbalance`
    // times the mean share and the others wait for it. With every expert on
    // every device (ep 1) the device does exactly its tokens' share.
    // Folded (etp != tp): the attention's tp ranks hold 1/tp of the tokens
    // each (sequence-sharded), and each expert-TP group of etp ranks gathers
    // its members' shares, so a device's experts see rows x etp / tp tokens
    // with ffn / etp columns each: the FLOPs are the same, the GEMMs' shape
    // and the weights per device are not.
    // EP inside the TP group (tp_ep > 1): whole experts split tp_ep ways over
    // the tp ranks, each rank's 1/tp of the tokens dispatched to them (or,
    // unscattered, every rank's copy of all tokens filtered to its experts:
    // the same rows per expert).
    const double etp = shard.tp_ep > 1 ? tp / shard.tp_ep : shard.etp > 0 ? shard.etp : tp;
    const double moe_rows = rows * etp / tp;
    const double experts_ep = ep * std::max(1, shard.tp_ep);  // ranks the routed experts are split over
    const double imbalance = experts_ep > 1 || style.experts_padded ? style.expert_imbalance : 1.0;
    const double local_experts = (e.experts + shard.redundant_experts) / experts_ep;
    const double group_tokens = moe_rows * experts_ep;
    const double assignments = moe_rows * e.top_k * imbalance;
    const double p_miss = std::pow(1.0 - double(e.top_k) / e.experts, group_tokens);
    const double touched = local_experts * (1.0 - p_miss);  // experts that receive a token
    const double ffn = e.expert_ffn / etp;
    if (assignments > 0) {
      ops.Add(Op{.kind = OpKind::kGroupedGemm, .cls = OpClass::kExperts, .flops = 2 * assignments * h * 3 * ffn,
                 .bytes = touched * 3 * h * ffn * b.weight + assignments * (2 * h + 3 * ffn) * ab, .kernels = 2,
                 .rows = assignments, .k = h, .n = ffn, .sixteen_bit = false,
                 .launches = Launches{.forward = 2, .backward = 8},  // grouped gate_up and down
                 .groups = touched});
      // The activation, and permuting tokens to their experts and back.
      ops.Stream(OpClass::kElementwise, assignments * 3 * ffn * ab + 2 * moe_rows * e.top_k * h * ab, 2,
                 Launches{.forward = 2, .backward = 4});
    }
    // With the tokens sharded over tp (sequence parallel), the exchange also
    // carries the dispatcher's all-gather over etp ranks, with or without EP.
    const bool etp_gather = shard.sequence_parallel && etp > 1;
    if ((experts_ep > 1 || etp_gather) && rows > 0 && (shard.tp_ep <= 1 || shard.tp_ep_scattered)) {
      // Dispatch and combine: each token's hidden state goes to top_k experts,
      // (ep - 1) / ep of them on other devices.
      ops.Add(Op{.kind = OpKind::kExpertAllToAll, .cls = OpClass::kAllToAll, .flops = 0,
                 .bytes = moe_rows * e.top_k * h * b.comm * (experts_ep - 1) / experts_ep * imbalance, .kernels = 2, .rows = 0,
                 .k = 0, .n = 0, .sixteen_bit = false,
                 .launches = experts_ep > 1 && etp_gather ? Launches{.forward = 4, .backward = 4}
                                                          : Launches{.forward = 2, .backward = 2}});
    }
  } else {
    const double ffn = g.mlp.ffn / tp;
    ops.Gemm(OpClass::kMlp, rows, h, (g.mlp.gated ? 2 : 1) * ffn);
    // The activation: gated, reads gate and up and writes one; else reads and writes one.
    const double values = g.mlp.gated ? 3 : 2;
    ops.Stream(OpClass::kElementwise, rows * values * ffn * ab, 1, Launches{.forward = 1, .backward = 3});
    ops.Gemm(OpClass::kMlp, rows, ffn, h);
  }
  // Megatron-Core's MoE block with sequence parallelism: no collective over
  // the attention's tp ranks after the routed experts (their etp gather is
  // the dispatcher's, priced with the exchange); one for the shared experts.
  const bool sharded_moe = g.is_moe() && shard.sequence_parallel;
  if (shard.tp > 1 && rows > 0 && (!sharded_moe || g.moe.shared_experts > 0)) ops.Add(all_reduce);
}

// Calls visit(const Op&) for the embedding lookup, then the LM head.
template <typename Visit>
void ForEachHeadOp(const ModelArch& m, const LayerShard& shard, const OpBytes& b, double rows, double sample_rows,
                   Visit&& visit) {
  const double h = m.hidden, vocab = double(m.vocab) / shard.tp;
  // Embedding lookup: read the rows of the table, write the hidden state.
  visit(Op{.kind = OpKind::kStream, .cls = OpClass::kLmHead, .flops = 0, .bytes = rows * h * b.activation * 2,
             .kernels = 1, .rows = 0, .k = 0, .n = 0, .sixteen_bit = false, .launches = {}});
  // LM head: the vocabulary-parallel GEMM of the rows that sample (or take a
  // loss), at 16 bits like its weights (quantisers leave it out: ModelOpt,
  // AWQ and GPTQ keep lm_head in the checkpoint's 16-bit type).
  visit(Op{.kind = OpKind::kGemm, .cls = OpClass::kLmHead, .flops = 2 * sample_rows * h * vocab,
             .bytes = h * vocab * b.head_weight + sample_rows * (h * b.activation + vocab * b.logits), .kernels = 1,
             .rows = sample_rows, .k = h, .n = vocab, .sixteen_bit = true, .launches = {}});
}

}  // namespace suanli
