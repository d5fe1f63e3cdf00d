// The training estimator and the parallel-plan search.
//
// Costs split in two levels so the search is fast: LayerCosts depends only
// on (tp, cp, micro-batch, sequence parallelism) and prices one layer's
// forward, backward and recompute on one micro-batch; Assemble adds the plan's
// pipeline, data-parallel, ZeRO and optimizer terms with a few dozen
// arithmetic operations. EstimateTraining runs both; the search computes
// LayerCosts once per outer tuple and Assemble for every plan.
#include "suanli/train/train.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

#include "core/warning_table.h"
#include "suanli/cost/layer_ops.h"
#include "suanli/cost/roofline.h"
#include "suanli/hardware/collectives.h"

namespace suanli {
namespace {

// Bytes per parameter: 16-bit weights; gradients in fp32 main-grad buffers
// with plain data parallelism (Megatron DDP) or in a 16-bit buffer with the
// distributed optimizer (Megatron-Core's default, grad_reduce_in_fp32 off);
// master weights + Adam moments, 4 B each in fp32 or 2 B each in bf16.
constexpr double kWeightBytes = 2;
constexpr double kGradBytesDdp = 2, kGradBytesSharded = 2;
double OptimizerBytes(OptimizerState s) { return s == OptimizerState::kBf16 ? 6 : 12; }
// Optimizer step traffic per parameter: read grad (4), read and write master,
// m and v (twice the state), write the 16-bit copy (2).
double OptimizerTraffic(OptimizerState s) { return 4 + 2 * OptimizerBytes(s) + 2; }

// Model quantities that no plan changes, computed once.
struct ModelTotals {
  double layers = 0;
  double shared_params_per_layer = 0;  // mean over layers
  double expert_params_per_layer = 0;
  double head_params = 0;              // max(input embedding, LM head), on an end stage
  double embed_params = 0;
  double lm_head_params = 0;
  double active_flops_params = 0;      // for model FLOPs: active, without the input embedding
  double attention_flops_per_token = 0;  // 12 * L * heads * head_dim * s / s (PaLM), times s later
  bool moe = false;
  int min_heads = 0;
  int min_experts = 0;
};

ModelTotals Totals(const ModelArch& m) {
  ModelTotals t;
  t.layers = m.layers;
  const ParamCount pc = CountParams(m);
  double shared = 0, experts = 0, attn = 0;
  t.min_heads = 1 << 30;
  t.min_experts = 1 << 30;
  for (const LayerGroup& g : m.groups) {
    const LayerParams lp = CountLayerParams(g, m.hidden, m.norm);
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

// One layer (mean over the model's layers) on one micro-batch, per device.
struct LayerCosts {
  double gemm_f = 0, gemm_b = 0;        // linear layers (and MoE experts)
  double attn_f = 0, attn_b = 0;        // attention core, with its softmax kernels when materialised
  double elem_f = 0, elem_b = 0;        // norms, residuals, activation functions
  double tp_f = 0, tp_b = 0;            // tensor-parallel collectives
  double ep_f = 0, ep_b = 0;            // expert-parallel all-to-all
  double cp_f = 0, cp_b = 0;            // context-parallel exchanges left exposed
  double ops_f = 0, ops_b = 0;          // operators launched (host dispatch floor)
  double attn_ops_f = 0;
  double flops_f = 0;                   // executed FLOPs, forward
  double attn_flops_f = 0;
  // Activation bytes kept per layer per micro-batch.
  double act_none = 0, act_selective = 0, act_full = 0;
  // End stages, per micro-batch.
  double head_f = 0, head_b = 0, head_flops_f = 0;
  double logits_bytes = 0;
  double p2p = 0;  // one pipeline transfer of the micro-batch's activations
};

// What a collective of `comm` seconds adds to a stretch of `compute` seconds
// it runs beside. The two share the chip's SMs and memory bandwidth, so the
// compute runs (1 + slowdown) times longer while they overlap (measured; see
// the profile's collective.overlap_slowdown): the collective never hides for
// free, and what outlasts the slowed compute is exposed whole.
double Overlapped(double comm, double compute, double slowdown) {
  return std::max(comm - compute, comm * slowdown / (1 + slowdown));
}

// Activation bytes one layer of `g` keeps for backward, per token (Korthikanti
// et al. 2022, Table 2, generalised to GQA, gated MLPs, MoE and flash attention).
struct LayerActivations {
  double none = 0, selective = 0, full = 0;
};
LayerActivations ActivationsPerToken(const LayerGroup& g, double h, double tp, double s, double cp, bool sp, bool flash) {
  const AttentionShape& a = g.attention;
  const double heads = a.heads / tp;
  const double kv = std::ceil(double(a.kv_heads) / tp);
  double mlp_act_per_token = 0;  // activation bytes of the MLP part per token, before tp
  if (g.is_moe()) {
    const MoeShape& e = g.moe;
    mlp_act_per_token = 2 * h + e.top_k * (2 * 2 * e.expert_ffn + 2 * e.expert_ffn) / tp +
                        e.shared_experts * 6.0 * e.shared_ffn / tp;
  } else {
    mlp_act_per_token = 2 * h + ((g.mlp.gated ? 4.0 : 2.0) + 2.0) * g.mlp.ffn / tp;
  }
  const double shard = sp ? tp : 1;
  const double dropout = flash ? 0 : 2 * h;  // two 1-byte masks
  const double attn_block = 2 * h / shard                                        // norm input
                            + 2 * h / shard                                      // QKV input
                            + 2 * (heads * a.head_dim + kv * (a.head_dim + a.v_head_dim))  // Q, K, V
                            + 2 * heads * a.v_head_dim                           // output-projection input
                            + (flash ? 4 * heads : 5 * heads * s / cp)           // softmax stats or scores
                            + dropout / 2 / shard;
  const double mlp_block = 2 * h / shard + (mlp_act_per_token - 2 * h) + 2 * h / shard + dropout / 2 / shard;
  const double scores = flash ? 0 : 5 * heads * s / cp;
  return LayerActivations{.none = attn_block + mlp_block, .selective = attn_block + mlp_block - scores,
                          .full = 2 * h / shard};
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
  const OpStyle style{.norms = r.stack.fused_residual_norm ? NormFusion::kFusedResidualNorm : NormFusion::kUnfused,
                      .attention = flash ? AttentionImpl::kFlash : AttentionImpl::kMaterialised,
                      .expert_imbalance = r.stack.expert_imbalance};
  const LayerShard shard{.tp = p.tp, .ep = p.ep, .sequence_parallel = sp};
  // Tensor-parallel collectives: an all-reduce, or with SP an all-gather and
  // a reduce-scatter (the same bytes on the wire in two calls), hierarchical
  // when TP spans domains.
  const Group tp_group{.ranks = p.tp, .stride = 1};
  const double gather = AllGather(links, T * h * ab, tp_group);
  const double tp_collective = sp ? 2 * gather : AllReduce(links, T * h * ab, tp_group);
  const Group ep_group{.ranks = p.ep, .stride = p.tp * p.cp};
  const double bw = d.memory_bandwidth.si() * d.memory_efficiency;

  for (const LayerGroup& g : m.groups) {
    const double w = g.count / L;  // this group's share of the mean layer
    // Causal pairs within the layer's window with flash attention (it skips
    // masked blocks); the full square when the scores are materialised.
    const double pairs = (flash ? AttentionPairs(0, s, g.attention.window) : s * s) / cp;
    const LayerTokens tokens{.rows = T,
                             .attention = {.prefill_rows = T, .prefill_pairs = b * pairs, .scores = b * s * s / cp,
                                           .decode_rows = 0, .decode_keys = 0}};
    for (const Op& op : LayerOps(g, m.hidden, shard, bytes, style, tokens)) {
      const double launches_b = r.lora && (op.kind == OpKind::kGemm || op.kind == OpKind::kGroupedGemm)
                                    ? op.launches.forward  // frozen weights: the input gradient only
                                    : op.launches.backward;
      out.ops_f += w * op.launches.forward;
      out.ops_b += w * launches_b;
      switch (op.kind) {
        case OpKind::kGemm:
        case OpKind::kGroupedGemm: {
          const double t = GemmSeconds(d, op.sixteen_bit ? rate16 : rate, op.flops, op.bytes, op.kernels);
          out.gemm_f += w * t;
          out.gemm_b += w * (r.lora ? 1 : 2) * t;  // input and weight gradients; frozen weights need no weight gradient
          out.flops_f += w * op.flops;
          if (fp8 && op.kind == OpKind::kGemm && !op.sixteen_bit) {
            // FP8 GEMMs take 8-bit inputs: the activation is cast (read 2 B, write
            // 1 B) forward, the output gradient backward, with a transposed copy
            // for the weight gradient.
            out.elem_f += w * StreamSeconds(d, op.rows * op.k * 3);
            out.elem_f += w * StreamSeconds(d, op.rows * op.n * 4) / 2;  // half of the backward casts, doubled below
          }
          break;
        }
        case OpKind::kStream:
          out.elem_f += w * StreamSeconds(d, op.bytes, op.kernels);
          break;
        case OpKind::kAttention: {
          const double t = RooflineOp(d, op.flops, attn_rate, op.bytes, bw, op.kernels).seconds;
          out.attn_f += w * t;
          out.attn_b += w * 2.5 * t;  // FlashAttention-2 backward: five matmuls to the forward's two
          out.attn_flops_f += w * op.flops;
          out.flops_f += w * op.flops;
          out.attn_ops_f += w * op.launches.forward;
          break;
        }
        case OpKind::kScores: {
          const double t = GemmSeconds(d, rate16, op.flops, op.bytes, op.kernels);
          out.attn_f += w * t;
          out.attn_b += w * 2 * t;
          out.attn_flops_f += w * op.flops;
          out.flops_f += w * op.flops;
          out.attn_ops_f += w * op.launches.forward;
          break;
        }
        case OpKind::kSoftmax: {
          const double t = StreamSeconds(d, op.bytes, op.kernels);
          out.attn_f += w * t;
          out.attn_b += w * 2 * t;
          out.attn_ops_f += w * op.launches.forward;
          break;
        }
        case OpKind::kTpAllReduce:
          out.tp_f += w * tp_collective;
          // Megatron keeps the sequence-sharded input of each column-parallel
          // GEMM and all-gathers it again for the weight gradient (Korthikanti
          // et al. 2022, section 4.2.2): one more all-gather per collective.
          out.tp_b += w * (tp_collective + (sp ? gather : 0));
          out.ops_b += w * (sp ? 1 : 0);
          break;
        case OpKind::kExpertAllToAll: {
          const double t = 2 * Exchange(links, op.bytes, ep_group);
          out.ep_f += w * t;
          out.ep_b += w * t;
          break;
        }
        case OpKind::kDecodeAttention:
          break;  // serving only
      }
    }
    const LayerActivations act = ActivationsPerToken(g, h, tp, s, cp, sp, flash);
    out.act_none += w * T * act.none;
    out.act_selective += w * T * act.selective;
    out.act_full += w * T * act.full;
  }
  // Context parallelism: ring exchange of K and V blocks, hidden behind the
  // attention of the current block when it is long enough.
  if (p.cp > 1) {
    double kv_values = 0;
    for (const LayerGroup& g : m.groups) {
      const AttentionShape& a = g.attention;
      kv_values += g.count / L * (a.kind == AttentionKind::kLatent ? a.kv_lora_rank + a.rope_dim
                                                                   : std::ceil(double(a.kv_heads) / tp) * (a.head_dim + a.v_head_dim));
    }
    const double step = Exchange(links, T * kv_values * ab, Group{.ranks = p.cp, .stride = p.tp});
    // Ring attention passes K and V around the ring under the attention
    // kernels, which slow while the exchange runs beside them.
    out.cp_f = Overlapped((cp - 1) * step, out.attn_f, d.overlap_slowdown);
    out.cp_b = Overlapped(2 * (cp - 1) * step, out.attn_b, d.overlap_slowdown);
  }
  // LM head and loss (last stage), embedding (first stage).
  {
    const OpList head = HeadOps(m, shard, bytes, T, T);
    const Op& embedding = head.ops[0];
    const Op& lm_head = head.ops[1];
    const double t = GemmSeconds(d, rate16, lm_head.flops, lm_head.bytes, lm_head.kernels);
    const double vocab = double(m.vocab) / tp;
    const double loss = StreamSeconds(d, T * vocab * 4 * 2);  // fp32 logits and their gradient
    out.head_f = t + loss + StreamSeconds(d, embedding.bytes, embedding.kernels);
    out.head_b = 2 * t + loss;
    out.head_flops_f = lm_head.flops;
    out.logits_bytes = T * vocab * 4;
  }
  out.elem_b = 2 * out.elem_f;  // backward reads the saved inputs and writes input gradients
  // Megatron sends 1/tp of the activations and all-gathers them on arrival
  // (the scatter/gather optimisation of Narayanan et al. 2021).
  out.p2p = SendRecv(links, T * h * ab / tp, double(p.tp) * p.cp * p.dp * p.pp);
  return out;
}

struct Context {
  const Cluster* c;
  const ModelArch* m;
  const TrainRequest* r;
  Links links;
  ModelTotals totals;
  ComputeRate rate;
  double peak = 0;  // dense peak at the training precision (for MFU)
  uint32_t warnings = 0;
};

Context MakeContext(const Cluster& c, const ModelArch& m, const TrainRequest& r) {
  Context x{&c, &m, &r, LinksOf(c), Totals(m), {}, 0, 0};
  const Device& d = c.device;
  Dtype want = r.plan.precision == TrainPrecision::kFp8 ? Dtype::kFp8
               : r.plan.precision == TrainPrecision::kFp16 ? Dtype::kFp16
                                                          : Dtype::kBf16;
  if (Peak(d, want) <= 0) {
    if (want == Dtype::kFp8) x.warnings |= kTrainWarnFp8Fallback;
    want = SixteenBit(d);
  }
  x.rate = RateFor(d, want);
  x.peak = Peak(d, want);
  if (c.assumed_system) x.warnings |= kTrainWarnAssumedSystem;
  if (c.topology.scale_out_assumed && r.devices > c.topology.scale_up_domain) x.warnings |= kTrainWarnNoScaleOut;
  return x;
}

// Whether Assemble goes on from memory to time: the search times only the
// plans that fit; a single estimate is timed either way.
enum class Timing { kIfFits, kAlways };

// The plan-dependent part: pipeline, data parallelism, memory, totals.
void Assemble(const Context& x, const TrainPlan& p, const LayerCosts& lc, TrainEstimate& e, Timing timing) {
  const Cluster& c = *x.c;
  const Device& d = c.device;
  const TrainRequest& r = *x.r;
  const ModelTotals& t = x.totals;
  const double dp = p.dp, pp = p.pp, vp = p.vp;
  const double m = double(r.global_batch) / (dp * p.micro_batch);  // micro-batches per pipeline
  const double layers_stage = std::ceil(t.layers / pp);
  // Memory of the fullest stage.
  const double stage_params = layers_stage * (t.shared_params_per_layer / p.tp +
                                              t.expert_params_per_layer / (double(p.tp) * p.ep));
  const double end_params = (pp > 1 ? t.head_params : t.embed_params + t.lm_head_params) / p.tp;
  const double params = stage_params + end_params;
  TrainMemory& mem = e.memory;
  mem.capacity = d.memory_capacity.si();
  const double fp8_copy = x.rate.dtype == Dtype::kFp8 ? 1 : 0;
  mem.weights = params * (kWeightBytes + fp8_copy) / (p.zero >= 3 ? dp : 1);
  // LoRA adapters (rank ~16) hold well under 1% of the parameters: their
  // gradients and optimizer state are left out.
  mem.gradients = r.lora ? 0 : params * (p.zero == 0 ? kGradBytesDdp : kGradBytesSharded) / (p.zero >= 2 ? dp : 1);
  mem.optimizer = r.lora ? 0 : params * OptimizerBytes(p.optimizer_state) / (p.zero >= 1 ? dp : 1);
  const double per_layer = p.recompute == Recompute::kFull        ? lc.act_full
                           : p.recompute == Recompute::kSelective ? lc.act_selective
                                                                  : lc.act_none;
  // 1F1B: the first stage keeps pp micro-batches in flight (interleaving adds
  // (pp - 1) / (pp vp) more); the last keeps one, plus the logits.
  const double in_flight = std::min(m, pp) * (vp > 1 ? 1 + (pp - 1) / (pp * vp) : 1.0);
  const double working = p.recompute == Recompute::kFull ? lc.act_none : 0;  // the layer being recomputed
  const double first = layers_stage * per_layer * in_flight + working;
  const double last = layers_stage * per_layer + working + lc.logits_bytes;
  mem.activations = pp > 1 ? std::max(first, last) : first + lc.logits_bytes;
  mem.other = d.reserved_bytes.si();
  mem.total = mem.weights + mem.gradients + mem.optimizer + mem.activations + mem.other;
  e.fits = mem.total <= mem.capacity;
  e.reason = e.fits ? TrainInfeasible::kNone
             : mem.weights + mem.gradients + mem.optimizer + mem.other > mem.capacity ? TrainInfeasible::kWeightsDoNotFit
                                                                                      : TrainInfeasible::kActivationsDoNotFit;
  e.micro_batches = int(m);
  if (timing == Timing::kIfFits && !e.fits) return;

  const Links& links = x.links;
  // One micro-batch through the stage: its layers forward, backward and recompute.
  // Eager frameworks pay a fixed cost per operator (host dispatch, autograd
  // bookkeeping, the launch gap on the device) that does not overlap the
  // kernels: it adds to every forward, backward and recomputed operator
  // (operators per layer and micro-batch: forward, backward, what recompute repeats).
  const double ops = lc.ops_f + lc.ops_b +
                     (p.recompute == Recompute::kFull        ? lc.ops_f
                      : p.recompute == Recompute::kSelective ? lc.attn_ops_f
                                                             : 0);
  const double framework = ops * d.host_op_overhead.si();
  // With TP overlap (Megatron-Core userbuffers) the collectives run under the
  // layer's GEMMs, which slow while they share the chip.
  const double tp_f = p.overlap_tp ? Overlapped(lc.tp_f, lc.gemm_f, d.overlap_slowdown) : lc.tp_f;
  const double tp_b = p.overlap_tp ? Overlapped(lc.tp_b, lc.gemm_b, d.overlap_slowdown) : lc.tp_b;
  const double compute_f = lc.gemm_f + lc.attn_f + lc.elem_f;
  const double compute_b = lc.gemm_b + lc.attn_b + lc.elem_b;
  const double recompute = p.recompute == Recompute::kFull        ? compute_f + tp_f + lc.ep_f + lc.cp_f
                           : p.recompute == Recompute::kSelective ? lc.attn_f
                                                                  : 0;
  const double head = lc.head_f + lc.head_b;  // the last stage's LM head and loss set the pace
  const double device_mb = layers_stage * (compute_f + compute_b + recompute + tp_f + tp_b + lc.ep_f + lc.ep_b +
                                           lc.cp_f + lc.cp_b + framework) +
                           head;
  // The host issues the same operators asynchronously, ahead of the device;
  // when its dispatch is the slower of the two (small layers, slow host
  // stack), the micro-batch takes the host's time and the kernels hide under it.
  const double host_mb = layers_stage * ops * c.host_dispatch.si();
  const double per_mb = std::max(device_mb, host_mb);
  TrainBreakdown& bd = e.breakdown;
  bd.compute = m * (layers_stage * (compute_f + compute_b) + head);
  // Framework cost: per-operator gaps on the device, and the host's dispatch
  // where it outlasts the device's work.
  bd.framework = m * (layers_stage * framework + std::max(0.0, host_mb - device_mb));
  if (host_mb > device_mb) e.warnings |= kTrainWarnHostBound;
  bd.recompute = m * layers_stage * recompute;
  bd.tp_comm = m * layers_stage * (tp_f + tp_b);
  bd.ep_comm = m * layers_stage * (lc.ep_f + lc.ep_b);
  bd.cp_comm = m * layers_stage * (lc.cp_f + lc.cp_b);
  bd.pp_bubble = pp > 1 ? (pp - 1) / vp * per_mb : 0;
  bd.pp_comm = pp > 1 ? 2 * m * vp * lc.p2p : 0;
  // Data parallelism: gradients (and, with the distributed optimizer, the
  // updated parameters) cross the data-parallel group once per step.
  const double grad_bytes = params * (p.zero == 0 ? kGradBytesDdp : kGradBytesSharded);
  double dp_time = 0;
  double gathers_exposed = 0;
  const Group dp_group{.ranks = p.dp, .stride = p.tp * p.cp};
  if (p.dp > 1 && !r.lora) {
    if (p.zero == 0) {
      dp_time = AllReduce(links, grad_bytes, dp_group);
    } else {
      // Gradients reduce-scattered, the updated parameters all-gathered.
      dp_time = ReduceScatter(links, grad_bytes, dp_group) + AllGather(links, params * 2, dp_group);
      if (p.zero >= 3) {
        // Parameters gathered before each micro-batch's forward and backward, prefetched under compute.
        const double gathers = 2 * m * AllGather(links, params * 2, dp_group);
        gathers_exposed = Overlapped(gathers, bd.compute, d.overlap_slowdown);
      }
    }
  }
  // Overlapped reduction runs under the last micro-batch's backward.
  const double window = p.overlap_dp ? layers_stage * (compute_b + tp_b) : 0;
  bd.dp_comm_exposed = (p.overlap_dp ? Overlapped(dp_time, window, d.overlap_slowdown) : dp_time) + gathers_exposed;
  const double opt_params = r.lora ? 0 : params / (p.zero >= 1 ? dp : 1);
  bd.optimizer = r.lora ? 0 : StreamSeconds(d, opt_params * OptimizerTraffic(p.optimizer_state));
  e.step_time_s = m * per_mb + bd.pp_bubble + bd.pp_comm + bd.dp_comm_exposed + bd.optimizer;

  const double tokens = double(r.global_batch) * double(r.seq_len);
  e.tokens_per_s = tokens / e.step_time_s;
  e.tokens_per_s_per_device = e.tokens_per_s / double(r.devices);
  e.model_flops_per_step =
      tokens * ((r.lora ? 4 : 6) * t.active_flops_params + t.attention_flops_per_token * double(r.seq_len));
  // Executed: per micro-batch per device forward x (3, + 1 with full recompute), over every stage and replica.
  const double fwd = layers_stage * lc.flops_f + lc.head_flops_f;
  const double rec = p.recompute == Recompute::kFull ? layers_stage * lc.flops_f
                     : p.recompute == Recompute::kSelective ? layers_stage * lc.attn_flops_f
                                                            : 0;
  e.hardware_flops_per_step = m * ((r.lora ? 2 : 3) * fwd + rec) * double(r.devices);
  e.model_tflops_per_device = e.model_flops_per_step / e.step_time_s / double(r.devices) / 1e12;
  e.mfu = x.peak > 0 ? e.model_flops_per_step / e.step_time_s / double(r.devices) / x.peak : 0;
  if (r.tokens > 0) {
    e.time_to_train_s = r.tokens / e.tokens_per_s;
    e.device_hours = e.time_to_train_s * double(r.devices) / 3600;
    e.energy_j = e.time_to_train_s * double(r.devices) * d.board_power.si();
  }
}

std::string Str(int64_t v) { return std::to_string(v); }

}  // namespace

std::string_view RecomputeName(Recompute r) {
  switch (r) {
    case Recompute::kNone: return "none";
    case Recompute::kSelective: return "selective";
    case Recompute::kFull: return "full";
  }
  return "?";
}

std::optional<Recompute> ParseRecompute(std::string_view s) {
  if (s == "none") return Recompute::kNone;
  if (s == "selective") return Recompute::kSelective;
  if (s == "full") return Recompute::kFull;
  return std::nullopt;
}

std::string_view OptimizerStateName(OptimizerState s) {
  switch (s) {
    case OptimizerState::kFp32: return "fp32";
    case OptimizerState::kBf16: return "bf16";
  }
  return "?";
}

std::optional<OptimizerState> ParseOptimizerState(std::string_view s) {
  if (s == "fp32") return OptimizerState::kFp32;
  if (s == "bf16") return OptimizerState::kBf16;
  return std::nullopt;
}

std::string_view TrainPrecisionName(TrainPrecision p) {
  switch (p) {
    case TrainPrecision::kBf16: return "bf16";
    case TrainPrecision::kFp16: return "fp16";
    case TrainPrecision::kFp8: return "fp8";
  }
  return "?";
}

std::optional<TrainPrecision> ParseTrainPrecision(std::string_view s) {
  if (s == "bf16") return TrainPrecision::kBf16;
  if (s == "fp16") return TrainPrecision::kFp16;
  if (s == "fp8") return TrainPrecision::kFp8;
  return std::nullopt;
}

TrainBoundShare BoundOf(const TrainBreakdown& b) {
  const TrainBoundShare groups[] = {
      {TrainBound::kCompute, b.compute + b.recompute},
      {TrainBound::kCommunication, b.tp_comm + b.dp_comm_exposed + b.pp_comm + b.ep_comm + b.cp_comm},
      {TrainBound::kPipelineBubble, b.pp_bubble},
      {TrainBound::kFramework, b.framework},
      {TrainBound::kOptimizer, b.optimizer},
  };
  TrainBoundShare best = groups[0];
  double total = 0;
  for (const TrainBoundShare& g : groups) {
    total += g.seconds;
    if (g.seconds > best.seconds) best = g;
  }
  best.share = total > 0 ? best.seconds / total : 0;
  return best;
}

std::string_view TrainBoundName(TrainBound b) {
  switch (b) {
    case TrainBound::kCompute: return "compute";
    case TrainBound::kCommunication: return "communication";
    case TrainBound::kPipelineBubble: return "pipeline_bubble";
    case TrainBound::kFramework: return "framework";
    case TrainBound::kOptimizer: return "optimizer";
  }
  return "?";
}

std::string_view TrainInfeasibleText(TrainInfeasible r) {
  switch (r) {
    case TrainInfeasible::kNone: return "";
    case TrainInfeasible::kWeightsDoNotFit: return "weights, gradients and optimizer state alone exceed device memory";
    case TrainInfeasible::kActivationsDoNotFit: return "activations of the micro-batches in flight exceed what memory is left";
  }
  return "?";
}

namespace {
constexpr WarningText kTrainWarningTexts[] = {
    {kTrainWarnAssumedSystem, "assumed_system", "a bare chip: nodes of 8 chips on its scale-up link are assumed"},
    {kTrainWarnTpCrossesNode, "tp_crosses_nodes", "tensor parallelism spans nodes: its collectives run over the scale-out network"},
    {kTrainWarnUnevenStages, "uneven_stages", "layers do not divide evenly over the pipeline stages: the fullest stage sets the pace"},
    {kTrainWarnFp8Fallback, "fp8_fallback", "the chip has no fp8 matrix units: GEMMs run at its 16-bit rate"},
    {kTrainWarnNoScaleOut, "no_scale_out_bandwidth", "scale-out bandwidth unknown: 50 GB/s per chip assumed"},
    {kTrainWarnHostBound, "host_bound", "host-bound: the CPU dispatches a micro-batch's operators more slowly than the device runs them (larger micro-batches are nearly free)"},
};
}  // namespace

std::vector<std::string> TrainWarningList(uint32_t w) { return WarningSentences(w, kTrainWarningTexts); }
std::string TrainWarningTexts(uint32_t w) { return JoinSentences(TrainWarningList(w)); }

namespace {
constexpr std::string_view kTpOverlapNeedsTp =
    "TP overlap needs tp > 1: with tp 1 there are no tensor-parallel collectives to hide";
}  // namespace

int DerivedDp(const TrainRequest& r) {
  const int64_t others = int64_t(r.plan.tp) * r.plan.pp * r.plan.cp;
  return others > 0 && r.devices > 0 && r.devices % others == 0 ? int(r.devices / others) : 0;
}

Status CheckTrainingPlan(const Cluster& c, const ModelArch& m, const TrainRequest& r) {
  std::vector<Diagnostic> bad;
  auto fail = [&](std::string key, std::string msg) {
    bad.push_back(Diagnostic{.key_path = std::move(key), .message = std::move(msg)});
  };
  const TrainPlan& p = r.plan;
  if (r.devices < 1) fail("devices", "must be at least 1, found " + Str(r.devices));
  if (r.seq_len < 1) fail("seq_len", "must be at least 1, found " + Str(r.seq_len));
  if (r.global_batch < 1) fail("global_batch", "must be at least 1, found " + Str(r.global_batch));
  if (r.devices > (int64_t(1) << 24) || r.seq_len > (int64_t(1) << 24) || r.global_batch > (int64_t(1) << 32)) {
    fail("devices", "devices, sequence length or batch beyond what the model supports");
  }
  if (!(r.tokens >= 0) || !std::isfinite(r.tokens)) fail("tokens", "must be a non-negative number");
  if (!(r.stack.expert_imbalance >= 1)) {
    fail("stack", "no training stack: the request needs one (MakeTrainingStack) with expert_imbalance of at least 1");
  }
  if (p.dp == 0 && p.tp > 0 && p.pp > 0 && p.cp > 0 && r.devices > 0) {
    fail("devices", Str(r.devices) + " devices are not a multiple of tp x pp x cp = " +
                        std::to_string(int64_t(p.tp) * p.pp * p.cp));
    return Error(std::move(bad));
  }
  for (auto [key, v] : {std::pair{"tp", p.tp}, std::pair{"pp", p.pp}, std::pair{"dp", p.dp}, std::pair{"cp", p.cp},
                        std::pair{"ep", p.ep}, std::pair{"vp", p.vp}, std::pair{"micro_batch", p.micro_batch}}) {
    if (v < 1) fail(key, std::string(key) + " must be at least 1, found " + std::to_string(v));
  }
  if (p.zero < 0 || p.zero > 3) fail("zero", "ZeRO stage must be 0, 1, 2 or 3, found " + std::to_string(p.zero));
  if (!bad.empty()) return Error(std::move(bad));
  const ModelTotals t = Totals(m);
  if (int64_t(p.tp) * p.pp * p.dp * p.cp != r.devices) {
    fail("devices", "tp x pp x dp x cp = " + std::to_string(int64_t(p.tp) * p.pp * p.dp * p.cp) + " but devices = " +
                        Str(r.devices));
  }
  if (t.min_heads % p.tp != 0) {
    fail("tp", "tp " + std::to_string(p.tp) + " does not divide the " + std::to_string(t.min_heads) + " attention heads");
  }
  if (p.pp > m.layers) fail("pp", "pp " + std::to_string(p.pp) + " exceeds the " + std::to_string(m.layers) + " layers");
  if (p.vp > 1 && m.layers % (p.pp * p.vp) != 0) {
    fail("vp", "interleaving needs pp x vp = " + std::to_string(p.pp * p.vp) + " to divide the " +
                   std::to_string(m.layers) + " layers");
  }
  if (p.vp > 1 && p.pp == 1) fail("vp", "virtual stages need pp > 1");
  if (p.overlap_tp && p.tp == 1) fail("tp_overlap", std::string(kTpOverlapNeedsTp));
  const int64_t per_replica = r.global_batch % p.dp == 0 ? r.global_batch / p.dp : -1;
  if (per_replica < 0) {
    fail("global_batch", "global batch " + Str(r.global_batch) + " is not divisible by dp " + std::to_string(p.dp));
  } else if (per_replica % p.micro_batch != 0) {
    fail("micro_batch", "micro-batch " + std::to_string(p.micro_batch) + " does not divide the " + Str(per_replica) +
                            " sequences per data-parallel replica");
  }
  if (p.ep > 1 && !t.moe) fail("ep", "ep " + std::to_string(p.ep) + " needs a mixture-of-experts model");
  if (t.moe && t.min_experts % p.ep != 0) {
    fail("ep", "ep " + std::to_string(p.ep) + " does not divide the " + std::to_string(t.min_experts) + " experts");
  }
  if (p.ep > 1 && p.dp % p.ep != 0) {
    fail("ep", "ep " + std::to_string(p.ep) + " must divide dp " + std::to_string(p.dp) + " (experts are spread over data-parallel ranks)");
  }
  if (r.seq_len % p.cp != 0) fail("cp", "cp " + std::to_string(p.cp) + " does not divide the sequence length " + Str(r.seq_len));
  if (p.cp > 1 && !r.flash_attention) fail("cp", "context parallelism needs flash (ring) attention");
  if (!bad.empty()) return Error(std::move(bad));
  (void)c;
  return Ok{};
}

Result<TrainingStack> MakeTrainingStack(const Catalog& catalog, std::string_view id) {
  const Stack* s = id.empty() ? catalog.DefaultStack(StackKind::kTraining) : catalog.FindStack(id);
  if (s == nullptr) {
    if (id.empty()) return Error(Diagnostic{.file = catalog.dir(), .key_path = "stacks", .message = "the catalog has no default training stack"});
    return Error::NotFound(Diagnostic{.key_path = "stack", .message = "no stack '" + std::string(id) + "' in the catalog"});
  }
  if (s->kind != StackKind::kTraining) {
    return Error(Diagnostic{.key_path = "stack", .message = "stack '" + s->id + "' is a serving stack"});
  }
  return TrainingStack{.id = s->id,
                       .expert_imbalance = s->Get("moe.expert_imbalance").value_or(1),
                       .fused_residual_norm = s->fused_residual_norm};
}

Result<TrainEstimate> EstimateTraining(const Cluster& c, const ModelArch& m, const TrainRequest& r) {
  if (auto ok = CheckTrainingPlan(c, m, r); !ok) return std::move(ok).error();
  Context x = MakeContext(c, m, r);
  const LayerCosts lc = ComputeLayerCosts(c, x.links, m, r, r.plan, x.rate);
  TrainEstimate e;
  e.tier = c.device.tier;
  Assemble(x, r.plan, lc, e, Timing::kAlways);
  e.warnings |= x.warnings;
  if (r.plan.tp > c.topology.scale_up_domain) e.warnings |= kTrainWarnTpCrossesNode;
  if (m.layers % r.plan.pp != 0) e.warnings |= kTrainWarnUnevenStages;
  if (!std::isfinite(e.step_time_s) || e.step_time_s <= 0) {
    return Error::Internal("the training estimate is not finite for this plan");
  }
  return e;
}

namespace {

std::vector<int> Divisors(int64_t n, int64_t limit) {
  std::vector<int> out;
  for (int64_t i = 1; i <= n && i <= limit; ++i) {
    if (n % i == 0) out.push_back(int(i));
  }
  return out;
}

// Strict order: faster first, then the plan fields, so ties are deterministic.
bool Better(const RankedPlan& a, const RankedPlan& b) {
  if (a.estimate.step_time_s != b.estimate.step_time_s) return a.estimate.step_time_s < b.estimate.step_time_s;
  const TrainPlan& x = a.plan;
  const TrainPlan& y = b.plan;
  return std::tie(x.tp, x.pp, x.dp, x.cp, x.ep, x.vp, x.micro_batch, x.recompute, x.zero, x.sequence_parallel,
                  x.overlap_dp, x.overlap_tp) < std::tie(y.tp, y.pp, y.dp, y.cp, y.ep, y.vp, y.micro_batch, y.recompute,
                                                         y.zero, y.sequence_parallel, y.overlap_dp, y.overlap_tp);
}

struct Outer {
  int tp, cp, mb;
  bool sp;
};

}  // namespace

Result<SearchResult> SearchTraining(const Cluster& c, const ModelArch& m, const TrainRequest& r, const SearchSpace& space,
                                    const SearchOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const TrainPlan& fixed = r.plan;
  if (r.devices < 1 || r.seq_len < 1 || r.global_batch < 1) {
    // Reuse the plan check's messages for the request fields.
    TrainRequest probe = r;
    probe.plan = TrainPlan{};
    probe.plan.dp = int(std::max<int64_t>(1, r.devices));
    if (auto ok = CheckTrainingPlan(c, m, probe); !ok) return std::move(ok).error();
  }
  // TP overlap asked for with tp fixed at 1: the search would quietly drop it.
  if (!space.tp && fixed.tp == 1 && !space.overlap_tp && fixed.overlap_tp) {
    return Error({Diagnostic{.key_path = "tp_overlap", .message = std::string(kTpOverlapNeedsTp)}});
  }
  const ModelTotals totals = Totals(m);
  const int64_t n = r.devices;
  auto pick = [&](bool free, int value, std::vector<int> all) {
    if (!free) return std::vector<int>{value};
    return all;
  };
  const std::vector<int> tps = pick(space.tp, fixed.tp, Divisors(n, std::min<int64_t>(totals.min_heads, 64)));
  const std::vector<int> cps = pick(space.cp, fixed.cp, r.flash_attention ? Divisors(n, 16) : std::vector<int>{1});
  const std::vector<int> pps = pick(space.pp, fixed.pp, Divisors(n, m.layers));
  const std::vector<int> eps = pick(space.ep, fixed.ep, totals.moe ? Divisors(n, totals.min_experts) : std::vector<int>{1});
  const std::vector<Recompute> recomputes =
      space.recompute ? std::vector<Recompute>{Recompute::kNone, Recompute::kSelective, Recompute::kFull}
                      : std::vector<Recompute>{fixed.recompute};
  const std::vector<int> zeros = space.zero ? std::vector<int>{0, 1, 2, 3} : std::vector<int>{fixed.zero};
  const std::vector<bool> overlaps = space.overlap_dp ? std::vector<bool>{false, true} : std::vector<bool>{fixed.overlap_dp};
  const std::vector<bool> tp_overlaps = space.overlap_tp ? std::vector<bool>{false, true} : std::vector<bool>{fixed.overlap_tp};

  // Outer tuples: everything the layer costs depend on.
  const std::vector<int> mbs = pick(space.micro_batch, fixed.micro_batch, Divisors(r.global_batch, r.global_batch));
  std::vector<Outer> outers;
  for (int tp : tps) {
    for (int cp : cps) {
      if (n % (int64_t(tp) * cp) != 0 || r.seq_len % cp != 0) continue;
      for (int mb : mbs) {
        const std::vector<bool> sps = tp > 1 && space.sequence_parallel ? std::vector<bool>{false, true}
                                                                         : std::vector<bool>{tp > 1 && fixed.sequence_parallel};
        for (bool sp : sps) outers.push_back(Outer{tp, cp, mb, sp});
      }
    }
  }
  std::atomic<int64_t> evaluated{0}, feasible{0};
  std::atomic<std::size_t> next{0};
  std::mutex merge;
  std::vector<RankedPlan> best;
  const int top_k = std::max(1, options.top_k);
  const unsigned threads = options.threads > 0 ? unsigned(options.threads)
                                               : std::max(1u, std::thread::hardware_concurrency());

  auto work = [&](bool reporter) {
    std::vector<RankedPlan> local;
    int64_t my_eval = 0, my_feasible = 0;
    TrainRequest req = r;
    Context x = MakeContext(c, m, req);
    for (std::size_t i = next++; i < outers.size(); i = next++) {
      const Outer& o = outers[i];
      TrainPlan p = fixed;
      p.tp = o.tp;
      p.cp = o.cp;
      p.micro_batch = o.mb;
      p.sequence_parallel = o.sp;
      // DP and TP overlap choices; TP overlap only means something with tp > 1.
      std::vector<std::pair<bool, bool>> overlap_choices;
      for (bool ov : overlaps) {
        for (bool to : o.tp > 1 ? tp_overlaps : std::vector<bool>{false}) overlap_choices.emplace_back(ov, to);
      }
      LayerCosts lc;
      for (int pp : pps) {
        const int64_t rest = n / (int64_t(o.tp) * o.cp);
        if (rest % pp != 0) continue;
        const int dp = int(rest / pp);
        if (!space.dp && dp != fixed.dp) continue;
        if (r.global_batch % dp != 0 || (r.global_batch / dp) % o.mb != 0) continue;
        std::vector<int> vps{fixed.vp};
        if (space.vp) {
          vps = {1};
          if (pp > 1) {
            for (int v : Divisors(m.layers / pp, 64)) {
              if (v > 1 && m.layers % (pp * v) == 0) vps.push_back(v);
            }
          }
        } else if (fixed.vp > 1 && (pp == 1 || m.layers % (pp * fixed.vp) != 0)) {
          continue;
        }
        for (int ep : eps) {
          if (ep > 1 && dp % ep != 0) continue;
          p.pp = pp;
          p.dp = dp;
          p.ep = ep;
          // Layer costs see pp and dp only through the links they pick.
          lc = ComputeLayerCosts(c, x.links, m, req, p, x.rate);
          for (int vp : vps) {
            p.vp = vp;
            for (Recompute rc : recomputes) {
              p.recompute = rc;
              for (int z : zeros) {
                p.zero = z;
                for (auto [overlap_dp, overlap_tp] : overlap_choices) {
                  p.overlap_dp = overlap_dp;
                  p.overlap_tp = overlap_tp;
                  ++my_eval;
                  TrainEstimate e;
                  Assemble(x, p, lc, e, Timing::kIfFits);
                  if (!e.fits) continue;
                  ++my_feasible;
                  RankedPlan cand{p, e};
                  if (int(local.size()) < top_k || Better(cand, local.back())) {
                    local.insert(std::upper_bound(local.begin(), local.end(), cand, Better), cand);
                    if (int(local.size()) > top_k) local.pop_back();
                  }
                }
              }
            }
          }
        }
      }
      if (reporter && options.progress) options.progress(double(std::min(next.load(), outers.size())) / outers.size());
    }
    std::lock_guard<std::mutex> lock(merge);
    evaluated += my_eval;
    feasible += my_feasible;
    for (auto& cand : local) best.push_back(std::move(cand));
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, false);
  work(true);
  for (auto& t : pool) t.join();
  std::sort(best.begin(), best.end(), Better);
  if (int(best.size()) > top_k) best.resize(std::size_t(top_k));
  SearchResult out;
  for (auto& b : best) {
    b.estimate.tier = c.device.tier;
    TrainRequest req = r;
    req.plan = b.plan;
    // Fill warnings and time-to-train as a single estimate would.
    if (auto full = EstimateTraining(c, m, req)) b.estimate = *full;
    out.top.push_back(b);
  }
  out.candidates_evaluated = evaluated;
  out.candidates_feasible = feasible;
  out.search_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace suanli
