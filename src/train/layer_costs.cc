// One mean layer of a training step on one micro-batch, from the shared
// operator list: each operator forward, its backward and recompute, the
// launches the host dispatches, and the activations kept for backward.
#include <cmath>

#include "suanli/cost/layer_ops.h"
#include "suanli/cost/layer_ops_visit.h"
#include "train/train_internal.h"

namespace suanli::train {
namespace {

// Activation bytes one layer of `g` keeps for backward, per token (Korthikanti
// et al. 2022, Table 2, generalised to GQA, gated MLPs, MoE and flash attention).
struct LayerActivations {
  double none = 0, selective = 0, full = 0;
  double module[kRecomputeModuleCount] = {};  // freed by recomputing each module (RecomputeModule order)
};
// With FP8 caching (DeepSeek-V3 section 3.3.2) the inputs of the linear
// layers are kept in FP8 (`lin` 1 B; the output projection's input, which
// attention's backward also reads, in E5M6: `out_lin` 1.5 B) and the MoE's
// SwiGLU keeps only its input, in FP8, recomputing its output in backward.
struct CacheBytes {
  double lin = 2, out_lin = 2;
  bool fp8_swiglu = false;
};
LayerActivations ActivationsPerToken(const LayerGroup& g, double h, double tp, double s, double cp, bool sp, bool flash,
                                     const CacheBytes& cb) {
  const AttentionShape& a = g.attention;
  const double heads = a.heads / tp;
  const double kv = KvHeadsPerRank(a, int(tp));  // tp: the plan's integer degree
  // Activation bytes of the MLP's internals per token, after tp: a gated
  // MLP's SwiGLU input (gate and up outputs) and output (the down
  // projection's input); FP8 caching keeps an MoE SwiGLU's input in FP8 and
  // none of its output.
  const double swiglu_in = cb.fp8_swiglu ? 1 : 2, swiglu_out = cb.fp8_swiglu ? 0 : cb.lin;
  double mlp_internals = 0;
  if (g.is_moe()) {
    const MoeShape& e = g.moe;
    mlp_internals = e.top_k * (swiglu_in * 2 * e.expert_ffn + swiglu_out * e.expert_ffn) / tp +
                    e.shared_experts * (swiglu_in * 2 + swiglu_out) * double(e.shared_ffn) / tp;
  } else {
    mlp_internals = ((g.mlp.gated ? 4.0 : 2.0) + cb.lin) * g.mlp.ffn / tp;
  }
  const double shard = sp ? tp : 1;
  const double dropout = flash ? 0 : 2 * h;  // two 1-byte masks
  const double attn_block = 2 * h / shard                                        // norm input
                            + cb.lin * h / shard                                 // QKV input
                            + 2 * (heads * a.head_dim + kv * (a.head_dim + a.v_head_dim))  // Q, K, V
                            + cb.out_lin * heads * a.v_head_dim                  // output-projection input
                            + (flash ? 4 * heads : 5 * heads * s / cp)           // softmax stats or scores
                            + dropout / 2 / shard;
  // Norm input, the MLP's internals, its up-projection input.
  const double mlp_block = 2 * h / shard + mlp_internals + cb.lin * h / shard + dropout / 2 / shard;
  const double scores = flash ? 0 : 5 * heads * s / cp;
  LayerActivations out{.none = attn_block + mlp_block, .selective = attn_block + mlp_block - scores,
                       .full = 2 * h / shard};
  // What each of Megatron-Core's recompute modules frees: core_attn the
  // scores; layernorm its two outputs (output-discarding checkpointing keeps
  // the inputs); moe_act the experts' activation output; mlp / moe the
  // block's internals (normal checkpointing keeps the input); shared_experts
  // theirs; mla_up_proj the up-projected Q, K and V.
  out.module[0] = scores;
  out.module[1] = 2 * (cb.lin * h / shard);
  if (g.is_moe()) {
    out.module[2] = g.moe.top_k * swiglu_out * g.moe.expert_ffn / tp;
    out.module[4] = mlp_internals;
    out.module[5] = g.moe.shared_experts * (swiglu_in * 2 + swiglu_out) * double(g.moe.shared_ffn) / tp;
  } else {
    out.module[3] = mlp_internals;
  }
  if (a.kind == AttentionKind::kLatent) out.module[6] = 2 * (heads * a.head_dim + kv * (a.head_dim + a.v_head_dim));
  return out;
}

}  // namespace

ModelTotals Totals(const ModelArch& m) {
  ModelTotals t;
  t.layers = m.layers;
  // CountParams' embedding, head and active count, summed here in its order
  // (so equal to it: a test holds them so) on the one walk over the groups
  // this needs anyway.
  ParamCount pc = CountEmbeddingParams(m);
  pc.active = pc.embedding + pc.lm_head + FinalNormParams(m);
  double shared = 0, experts = 0, attn = 0;
  t.min_heads = 1 << 30;
  t.min_experts = 1 << 30;
  for (const LayerGroup& g : m.groups) {
    const LayerParams lp = CountLayerParams(g, m.hidden, m.norm);
    pc.active += g.count * (lp.shared + lp.active_experts);
    shared += g.count * lp.shared;
    experts += g.count * lp.experts;
    attn += g.count * double(g.attention.heads) * (g.attention.head_dim + g.attention.v_head_dim) / 2;
    t.min_heads = std::min(t.min_heads, g.attention.heads);
    if (g.is_moe()) {
      t.moe = true;
      t.min_experts = std::min(t.min_experts, g.moe.experts);
    }
  }
  t.shared_params_per_layer = shared / m.layers;
  t.expert_params_per_layer = experts / m.layers;
  t.embed_params = pc.embedding;
  t.lm_head_params = pc.lm_head > 0 ? pc.lm_head : double(m.vocab) * m.hidden;
  t.head_params = std::max(pc.embedding, pc.lm_head);
  t.active_flops_params = pc.active - pc.embedding + (pc.lm_head > 0 ? 0 : double(m.vocab) * m.hidden);
  t.attention_flops_per_token = 12 * attn;  // x seq_len: 12 L H Q s with (Q_k + Q_v) / 2 per head
  return t;
}

MtpParams MtpModuleParams(const ModelArch& m) {
  if (m.groups.empty()) return {};
  const double h = m.hidden;
  const LayerParams lp = CountLayerParams(m.groups.back(), m.hidden, m.norm);
  return MtpParams{.shared = 2 * h + 2 * h * h + lp.shared + h, .experts = lp.experts};
}

// Prices one mean layer and the end stages for (tp, cp, ep, micro-batch, sp)
// from the shared operator list: each operator forward, its backward (GEMMs
// twice, or once with frozen LoRA weights; flash attention 2.5 times;
// element-wise kernels twice) and the operators the host launches.
LayerCosts ComputeLayerCosts(const Cluster& c, const Links& links, const ModelArch& m, const TrainRequest& r,
                             const TrainPlan& p, const ComputeRate& rate) {
  const Device& d = c.device;
  LayerCosts out;
  const double tp = p.tp, cp = p.cp, b = p.micro_batch, s = double(r.seq_len);
  const double h = m.hidden;
  const double T = b * s / cp;  // tokens on this device
  const double attn_rate = Peak(d, SixteenBit(d)) * d.attention_efficiency;
  const ComputeRate rate16 = RateFor(d, SixteenBit(d));
  const double ab = 2;  // activations in 16 bits (fp8 training keeps them in bf16 between GEMMs)
  const bool flash = r.flash_attention;
  const bool sp = p.sequence_parallel && p.tp > 1;
  const double L = m.layers;
  const bool fp8 = DtypeBits(rate.dtype) <= 8;
  const OpBytes bytes{.weight = DtypeBytes(rate.dtype), .activation = ab, .kv = 0, .head_weight = 2, .logits = ab,
                      .comm = ab};
  // Expert capacity: dropping caps the busiest rank's share at the factor;
  // padding makes every expert compute exactly that share.
  const double cf = r.moe_capacity_factor;
  const bool padded = cf > 0 && r.moe_pad_to_capacity;
  const double imbalance = padded ? cf : cf > 0 ? std::min(r.stack.expert_imbalance, cf) : r.stack.expert_imbalance;
  const OpStyle style{.norms = r.stack.fused_residual_norm ? NormFusion::kFusedResidualNorm : NormFusion::kUnfused,
                      .attention = flash ? AttentionImpl::kFlash : AttentionImpl::kMaterialised,
                      .expert_imbalance = imbalance, .experts_padded = padded};
  // With sequence parallelism (which Megatron-Core requires of MoE with tp >
  // 1: arguments.py) a MoE block's tokens stay sharded over tp and its
  // dispatcher gathers them over the etp ranks only (LayerShard).
  const LayerShard shard{.tp = p.tp, .ep = p.ep, .sequence_parallel = sp, .etp = ExpertTp(p)};
  // Tensor-parallel collectives: an all-reduce, or with SP an all-gather and
  // a reduce-scatter (the same bytes on the wire in two calls), hierarchical
  // when TP spans domains.
  const Group tp_group{.ranks = p.tp, .stride = 1};
  const double gather = AllGather(links, T * h * ab, tp_group);
  const double tp_collective = sp ? 2 * gather : AllReduce(links, T * h * ab, tp_group);
  const double bw = d.memory_bandwidth.si() * d.memory_efficiency;
  // DeepEP over EP ranks on the profile's measured normal kernels, looked up
  // once per estimate (none for a dense model: its ep is 1).
  std::optional<MeasuredDispatchRates> deepep;
  if (p.dispatcher == ExpertDispatcher::kDeepEp && p.ep > 1) [[unlikely]] {
    deepep = MeasuredDispatch(c, Group{.ranks = p.ep, .stride = ExpertTp(p)});
  }

  const CacheBytes cache = p.fp8_activations && fp8 ? CacheBytes{.lin = 1, .out_lin = 1.5, .fp8_swiglu = true}
                                                    : CacheBytes{};
  // Adds layer group `g` to `out` with weight w (its share of the mean layer).
  auto add_group = [&](const LayerGroup& g, double w, LayerCosts& into) {
    // Causal pairs within the layer's window with flash attention (it skips
    // masked blocks); the full square when the scores are materialised.
    const double pairs = (flash ? AttentionPairs(0, s, g.attention.window) : s * s) / cp;
    const LayerTokens tokens{.rows = T,
                             .attention = {.prefill_rows = T, .prefill_pairs = b * pairs, .scores = b * s * s / cp,
                                           .decode_rows = 0, .decode_keys = 0}};
    // Per-module accounting only for a plan that recomputes by module.
    const bool modules = p.recompute_modules != 0;
    int streams = 0;  // the layer's memory-bound kernels in order: norms first, then the MLP's activation
    const bool moe = g.is_moe();
    const bool latent = g.attention.kind == AttentionKind::kLatent;
    struct {
      double flops = -1, bytes = 0, kernels = 0, t = 0;
      bool sixteen_bit = false;
    } last;  // the last plain GEMM priced
    ForEachLayerOp(g, m.hidden, shard, bytes, style, tokens, [&](const Op& op) __attribute__((always_inline)) {
      const double launches_b = r.lora && (op.kind == OpKind::kGemm || op.kind == OpKind::kGroupedGemm)
                                    ? op.launches.forward  // frozen weights: the input gradient only
                                    : op.launches.backward;
      into.ops_f += w * op.launches.forward;
      into.ops_b += w * launches_b;
      switch (op.kind) {
        case OpKind::kGemm:
        case OpKind::kGroupedGemm: {
          // Grouped GEMMs: the work that tokens per expert and the experts'
          // dims add, per pass (cost/roofline.h, ExpertGemmWork).
          const bool grouped = op.kind == OpKind::kGroupedGemm && op.groups > 0;
          const double m_e = grouped ? op.rows / op.groups : 0;
          auto work = [&](GroupedPass pass) { return grouped ? ExpertGemmWork(d, rate.dtype, pass, m_e, op.k, op.n) : 1.0; };
          // A plain GEMM like the one before it (a non-gated MLP's up and
          // down projections: the same FLOPs, bytes and launches) takes the
          // same time: priced once.
          double t = last.t;
          if (grouped || op.flops != last.flops || op.bytes != last.bytes || op.kernels != last.kernels ||
              op.sixteen_bit != last.sixteen_bit) {
            t = GemmSeconds(d, op.sixteen_bit ? rate16 : rate, op.flops, op.bytes, op.kernels, work(GroupedPass::kForward));
            if (!grouped) last = {.flops = op.flops, .bytes = op.bytes, .kernels = op.kernels, .t = t, .sixteen_bit = op.sixteen_bit};
          }
          into.gemm_f += w * t;
          if (modules) {
            if (op.cls == OpClass::kMlp) into.module_f[moe ? 5 : 3] += w * t;  // shared experts or the dense MLP
            if (moe && (op.cls == OpClass::kMlp || op.cls == OpClass::kExperts)) into.module_f[4] += w * t;
            if (latent && op.cls == OpClass::kProjection &&
                ((g.attention.q_lora_rank > 0 && op.k == g.attention.q_lora_rank) || op.k == g.attention.kv_lora_rank)) {
              into.module_f[6] += w * t;  // the MLA up-projections
            }
          }
          if (grouped) {
            // The input gradient, and the weight gradient (a reduction over each expert's tokens).
            const double ti = GemmSeconds(d, rate, op.flops, op.bytes, op.kernels, work(GroupedPass::kInputGrad));
            const double tw = GemmSeconds(d, rate, op.flops, op.bytes, op.kernels, work(GroupedPass::kWeightGrad));
            into.gemm_b += w * (r.lora ? ti : ti + tw);
          } else {
            into.gemm_b += w * (r.lora ? 1 : 2) * t;  // input and weight gradients; frozen weights need no weight gradient
          }
          into.flops_f += w * op.flops;
          if (fp8 && grouped && !op.sixteen_bit) {
            // FP8 grouped GEMMs quantise their operands too (Transformer
            // Engine quantises the fprop, dgrad and wgrad inputs of every
            // linear layer, the experts' included): forward the dispatched
            // tokens (gate/up input, rows x k) and the SwiGLU output (down
            // input, rows x n), backward the output gradients of down
            // (rows x k) and gate/up (rows x 2n). Each read in 16 bits and
            // written twice in 8: row-wise for its own GEMM and column-wise
            // for the weight gradient, which reduces over the tokens.
            const double fwd = StreamSeconds(d, op.rows * (op.k + op.n) * 4, 2);
            const double bwd = StreamSeconds(d, op.rows * (op.k + 2 * op.n) * 4, 2);
            into.elem_f += w * fwd;
            into.cast_f += w * fwd;
            into.cast_b += w * bwd;
          }
          if (fp8 && op.kind == OpKind::kGemm && !op.sixteen_bit) {
            // FP8 GEMMs take 8-bit inputs: the activation is cast (read 2 B, write
            // 1 B) forward, the output gradient backward, with a transposed copy
            // for the weight gradient.
            into.elem_f += w * StreamSeconds(d, op.rows * op.k * 3);
            into.elem_f += w * StreamSeconds(d, op.rows * op.n * 4) / 2;  // half of the backward casts, doubled below
          }
          break;
        }
        case OpKind::kStream: {
          const double t = StreamSeconds(d, op.bytes, op.kernels);
          into.elem_f += w * t;
          if (modules || cache.fp8_swiglu) {
            if (cache.fp8_swiglu && moe && streams == 1) into.swiglu_f += w * t;  // the experts' activation, again
            if (modules) {
              if (streams == 0) into.module_f[1] += w * t;            // norms
              if (streams == 1) into.module_f[moe ? 2 : 3] += w * t;  // the activation (with the permutes for experts)
              if (streams == 1 && moe) into.module_f[4] += w * t;
            }
            ++streams;
          }
          break;
        }
        case OpKind::kAttention: {
          const double t = RooflineOp(d, op.flops, attn_rate, op.bytes, bw, op.kernels).seconds;
          into.attn_f += w * t;
          into.attn_b += w * 2.5 * t;  // FlashAttention-2 backward: five matmuls to the forward's two
          into.attn_flops_f += w * op.flops;
          into.flops_f += w * op.flops;
          into.attn_ops_f += w * op.launches.forward;
          break;
        }
        case OpKind::kScores: {
          const double t = GemmSeconds(d, rate16, op.flops, op.bytes, op.kernels);
          into.attn_f += w * t;
          into.attn_b += w * 2 * t;
          into.attn_flops_f += w * op.flops;
          into.flops_f += w * op.flops;
          into.attn_ops_f += w * op.launches.forward;
          break;
        }
        case OpKind::kSoftmax: {
          const double t = StreamSeconds(d, op.bytes, op.kernels);
          into.attn_f += w * t;
          into.attn_b += w * 2 * t;
          into.attn_ops_f += w * op.launches.forward;
          break;
        }
        case OpKind::kTpAllReduce:
          into.tp_f += w * tp_collective;
          // Megatron keeps the sequence-sharded input of each column-parallel
          // GEMM and all-gathers it again for the weight gradient (Korthikanti
          // et al. 2022, section 4.2.2): one more all-gather per collective.
          into.tp_b += w * (tp_collective + (sp ? gather : 0));
          into.ops_b += w * (sp ? 1 : 0);
          break;
        case OpKind::kExpertAllToAll: {
          const double t = ExpertExchangeSeconds(links, p, sp, T, h * ab, g.moe, imbalance, deepep ? &*deepep : nullptr);
          into.ep_f += w * t;
          into.ep_b += w * t;
          break;
        }
        case OpKind::kDecodeAttention:
          break;  // serving only
      }
    });
    const LayerActivations act = ActivationsPerToken(g, h, tp, s, cp, sp, flash, cache);
    into.act_none += w * T * act.none;
    into.act_selective += w * T * act.selective;
    into.act_full += w * T * act.full;
    if (modules) {
      for (int k = 0; k < kRecomputeModuleCount; ++k) into.module_act[k] += w * T * act.module[k];
    }
  };
  for (const LayerGroup& g : m.groups) add_group(g, g.count / L, out);
  // Context parallelism: ring exchange of K and V blocks, hidden behind the
  // attention of the current block when it is long enough.
  if (p.cp > 1 && p.cp_comm == CpComm::kAllToAll) {
    // DeepSpeed-Ulysses: Q, K and V all-to-all'd from sequence to head
    // shards before attention and the output back after (four all-to-alls
    // forward, their gradients backward), on the critical path: attention
    // needs all of them first. Each rank sends (cp - 1) / cp of its shard.
    double values = 0;
    for (const LayerGroup& g : m.groups) {
      const AttentionShape& a = g.attention;
      values += g.count / L * (double(a.heads) / tp * (a.head_dim + a.v_head_dim) +
                               double(KvHeadsPerRank(a, p.tp)) * (a.head_dim + a.v_head_dim));
    }
    const double a2a = Exchange(links, T * values * ab * (cp - 1) / cp, Group{.ranks = p.cp, .stride = p.tp});
    out.cp_f = a2a + 3 * links.latency;  // four calls
    out.cp_b = out.cp_f;
  } else if (p.cp > 1) {
    double kv_values = 0;
    for (const LayerGroup& g : m.groups) {
      const AttentionShape& a = g.attention;
      kv_values += g.count / L * (a.kind == AttentionKind::kLatent ? a.kv_lora_rank + a.rope_dim
                                                                   : double(KvHeadsPerRank(a, p.tp)) * (a.head_dim + a.v_head_dim));
    }
    const double step = Exchange(links, T * kv_values * ab, Group{.ranks = p.cp, .stride = p.tp});
    // Ring attention passes K and V around the ring under the attention
    // kernels, which slow while the exchange runs beside them.
    out.cp_f = Overlapped((cp - 1) * step, out.attn_f, d.overlap_slowdown);
    out.cp_b = Overlapped(2 * (cp - 1) * step, out.attn_b, d.overlap_slowdown);
  }
  out.module_f[0] = out.attn_f;
  // LM head and loss (last stage), embedding (first stage).
  {
    Op embedding, lm_head;
    int n = 0;
    ForEachHeadOp(m, shard, bytes, T, T, [&](const Op& op) { (n++ == 0 ? embedding : lm_head) = op; });
    const double t = GemmSeconds(d, rate16, lm_head.flops, lm_head.bytes, lm_head.kernels);
    const double vocab = double(m.vocab) / tp;
    const double loss = StreamSeconds(d, T * vocab * 4 * 2);  // fp32 logits and their gradient
    out.head_f = t + loss + StreamSeconds(d, embedding.bytes, embedding.kernels);
    out.head_b = 2 * t + loss;
    out.head_flops_f = lm_head.flops;
    out.logits_bytes = T * vocab * 4;
    out.head_w = r.lora ? 0 : t;
  }
  // Backward reads the saved inputs and writes input gradients of the
  // element-wise kernels; the grouped GEMMs' quantisation pays its own.
  out.elem_b = 2 * (out.elem_f - out.cast_f) + out.cast_b;
  if (p.mtp_layers > 0 && !m.groups.empty()) {
    // One MTP module (DeepSeek-V3 section 2.2): the two RMSNorms and the
    // concatenation's projection eh_proj (2h -> h) on every token, a layer
    // like the model's last, and the shared LM head and loss once more.
    LayerCosts one;
    add_group(m.groups.back(), 1, one);
    const double proj = GemmSeconds(d, rate, T * 2 * h * h / tp * 2, (2 * h * h / tp) * bytes.weight + T * 3 * h * ab, 1);
    const double norms = StreamSeconds(d, T * h * ab * 2 * 2, 2);
    const double f = one.gemm_f + one.attn_f + one.elem_f + one.tp_f + one.ep_f + proj + norms + out.head_f;
    const double w_grad = r.lora ? 0 : one.gemm_b - one.gemm_f + proj;
    out.mtp_f = f;
    out.mtp_b = one.gemm_b + one.attn_b + 2 * (one.elem_f - one.cast_f + norms) + one.cast_b + one.tp_b + one.ep_b + 2 * proj + out.head_b;
    out.mtp_w = w_grad + out.head_w;
    out.mtp_act = one.act_none + T * (2 * h * ab + h * ab) / (sp ? tp : 1) + out.logits_bytes;
    out.mtp_flops_f = one.flops_f + T * 2 * h * h / tp * 2 + out.head_flops_f;
  }
  // Megatron sends 1/tp of the activations and all-gathers them on arrival
  // (the scatter/gather optimisation of Narayanan et al. 2021).
  out.p2p = SendRecv(links, T * h * ab / tp, double(p.tp) * p.cp * p.dp * p.pp);
  return out;
}

}  // namespace suanli::train
