// The plan-dependent part of a training step: memory of the fullest stage,
// the pipeline, data-parallel, ZeRO and optimizer terms, totals and what
// bounds the step.
#include <cmath>
#include <tuple>

#include "core/warning_table.h"
#include "train/train_internal.h"

namespace suanli {
namespace train {

Context MakeContext(const Cluster& c, const ModelArch& m, const TrainRequest& r) {
  return MakeContext(c, m, r, Totals(m));
}

Context MakeContext(const Cluster& c, const ModelArch& m, const TrainRequest& r, const ModelTotals& totals) {
  Context x{&c, &m, &r, LinksOf(c), totals, {}, 0, 0};
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

namespace {
// "moe" repeats the whole MoE block, moe_act and shared_experts included.
uint32_t Effective(uint32_t modules) {
  return (modules & kRecomputeMoe) != 0 ? modules & ~(kRecomputeMoeAct | kRecomputeSharedExperts) : modules;
}
}  // namespace

double ModuleActivations(const LayerCosts& lc, uint32_t modules) {
  const uint32_t on = Effective(modules);
  double freed = 0;
  for (int k = 0; k < kRecomputeModuleCount; ++k) {
    if ((on & (1u << k)) != 0) freed += lc.module_act[k];
  }
  return std::max(lc.act_full, lc.act_none - freed);
}

double ModuleRecompute(const LayerCosts& lc, uint32_t modules, double ep_f) {
  const uint32_t on = Effective(modules);
  double t = (on & kRecomputeMoe) != 0 ? ep_f : 0;  // the MoE block's dispatch and combine again
  for (int k = 0; k < kRecomputeModuleCount; ++k) {
    if ((on & (1u << k)) != 0) t += lc.module_f[k];
  }
  return t;
}

namespace {
// Operators per layer and micro-batch that recompute repeats.
[[gnu::always_inline]] inline double OpsRecomputed(const TrainPlan& p, const LayerCosts& lc) {
  return p.recompute == Recompute::kFull ? lc.ops_f : p.recompute == Recompute::kSelective ? lc.attn_ops_f : 0;
}

// The forward time a layer's backward repeats: FP8 caching's MoE SwiGLU
// output (unless a recompute module already repeats it), then full
// recompute's whole forward with its exposed TP and EP collectives (tp_f,
// ep_f), selective's attention core, or the modules'. StepLowerBound passes
// tp_f = ep_f = 0, the least they can be.
[[gnu::always_inline]] inline double RecomputeSeconds(const TrainPlan& p, const LayerCosts& lc, double compute_f, double tp_f,
                                                      double ep_f) {
  const bool act_repeated = p.recompute == Recompute::kFull ||
                            (p.recompute == Recompute::kSelective &&
                             (p.recompute_modules & (kRecomputeMoeAct | kRecomputeMoe)) != 0);
  const double swiglu = act_repeated ? 0 : lc.swiglu_f;
  return swiglu + (p.recompute == Recompute::kFull        ? compute_f + tp_f + ep_f + lc.cp_f
                   : p.recompute != Recompute::kSelective ? 0
                   : p.recompute_modules == 0             ? lc.attn_f
                                                          : ModuleRecompute(lc, p.recompute_modules, ep_f));
}
}  // namespace

// The plan-dependent part: pipeline, data parallelism, memory, totals.
StageTerms MakeStageTerms(const Context& x, const TrainPlan& p, bool all_schedules) {
  const Cluster& c = *x.c;
  const ModelTotals& t = x.totals;
  const double dp = p.dp, pp = p.pp;
  StageTerms st;
  const double layers_stage = (x.m->layers + p.pp - 1) / p.pp;  // ceil(layers / pp), in integers
  st.layers_stage = layers_stage;
  if (p.tp > c.topology.scale_up_domain) st.warnings |= kTrainWarnTpCrossesNode;
  st.default_layout = p.first_stage_layers == 0 && p.last_stage_layers == 0 && !p.embedding_in_split &&
                      !p.loss_in_split;
  st.first_layers = st.middle_layers = st.last_layers = layers_stage;
  if (st.default_layout) {
    if (x.m->layers % p.pp != 0) st.warnings |= kTrainWarnUnevenStages;
  } else {
    const StageLayers stages = PipelineStageLayers(x.m->layers, p);
    st.first_layers = stages.first;
    st.middle_layers = stages.middle;
    st.last_layers = stages.last;
  }
  // Memory of the fullest stage. The dense part (attention, shared experts,
  // embedding and head) is replicated over dp and sharded by ZeRO over it;
  // the routed experts over edp (MoE parallel folding). The first stage
  // holds the embedding, the last the LM head; one stage holds both without
  // a pipeline.
  st.edp = t.moe ? std::max(1, ExpertDp(p)) : 1;
  const double inv_tp = 1.0 / p.tp;
  const double expert_per_layer = t.moe ? t.expert_params_per_layer / (double(ExpertTp(p)) * p.ep) : 0;
  auto dense_of = [&](double layers, double end) { return (layers * t.shared_params_per_layer + end) * inv_tp; };
  auto experts_of = [&](double layers) { return layers * expert_per_layer; };
  const double mtp = p.mtp_layers;
  const MtpParams mp = mtp > 0 ? MtpModuleParams(*x.m) : MtpParams{};
  const double mtp_dense = mtp * mp.shared * inv_tp;
  const double mtp_experts = t.moe ? mtp * mp.experts / (double(ExpertTp(p)) * p.ep) : 0;
  if (pp > 1 && (all_schedules || p.schedule == PipelineSchedule::kDualPipe)) {
    // DualPipe's ranks: the first stage with the last (the embedding, the LM
    // head and the MTP modules), or two middle stages.
    const double ends_dense = dense_of(st.first_layers + st.last_layers, t.embed_params + t.lm_head_params) + mtp_dense;
    const double ends_experts = experts_of(st.first_layers + st.last_layers) + mtp_experts;
    st.pair_dense = ends_dense;
    st.pair_expert = ends_experts;
    if (pp > 2 && 2 * (dense_of(st.middle_layers, 0) + experts_of(st.middle_layers)) > ends_dense + ends_experts) {
      st.pair_dense = 2 * dense_of(st.middle_layers, 0);
      st.pair_expert = 2 * experts_of(st.middle_layers);
    }
  }
  if (pp > 1 && st.default_layout && mtp == 0) {
    // Equal stages: the end stage with the larger of the embedding and the head.
    st.dense_params = dense_of(layers_stage, t.head_params);
    st.expert_params = experts_of(layers_stage);
  } else if (pp > 1) {
    // The last stage also holds the MTP modules.
    const std::tuple<double, double, double, double> candidates[] = {{st.first_layers, t.embed_params, 0, 0},
                                                                     {st.middle_layers, 0, 0, 0},
                                                                     {st.last_layers, t.lm_head_params, mtp_dense, mtp_experts}};
    double most = -1;
    for (auto [layers, end, extra_dense, extra_experts] : candidates) {
      const double dense = dense_of(layers, end) + extra_dense, experts = experts_of(layers) + extra_experts;
      if (dense + experts > most) {
        most = dense + experts;
        st.dense_params = dense;
        st.expert_params = experts;
      }
    }
  } else {
    st.dense_params = dense_of(t.layers, t.embed_params + t.lm_head_params) + mtp_dense;
    st.expert_params = experts_of(t.layers) + mtp_experts;
  }
  st.params = st.dense_params + st.expert_params;
  // Parameters per device after sharding over the replicas.
  st.params_sharded = st.dense_params / dp + (st.expert_params > 0 ? st.expert_params / st.edp : 0);
  if (p.fsdp) FsdpUnitTerms(x, p, st);
  return st;
}

// FSDP's unit is a transformer layer (Megatron-FSDP and FSDP2 recipes wrap
// each layer; the end stage's embedding or head rides with its layers'
// share). Only what is sharded is gathered and needs an unsharded copy.
void FsdpUnitTerms(const Context& x, const TrainPlan& p, StageTerms& st) {
  const double units = std::max({1.0, st.first_layers, st.middle_layers, st.last_layers});
  const bool dense_sharded = p.dp > 1, experts_sharded = st.expert_params > 0 && st.edp > 1;
  const double dense = dense_sharded ? st.dense_params / units : 0;
  const double experts = experts_sharded ? st.expert_params / units : 0;
  const Group dp_group{.ranks = p.dp, .stride = p.tp * p.cp};
  const Group edp_group{.ranks = int(st.edp), .stride = x.totals.moe ? ExpertTp(p) * p.ep : 1};
  st.fsdp_gather = AllGather(x.links, dense * kWeightBytes, dp_group) + AllGather(x.links, experts * kWeightBytes, edp_group);
  st.fsdp_reduce = ReduceScatter(x.links, dense * kGradBytesSharded, dp_group) +
                   ReduceScatter(x.links, experts * kGradBytesSharded, edp_group);
  st.fsdp_unit_bytes = (dense + experts) * kWeightBytes;
  st.fsdp_stage_bytes = ((dense_sharded ? st.dense_params : 0) + (experts_sharded ? st.expert_params : 0)) * kWeightBytes;
  st.fsdp_ready = true;
}

namespace {
// FSDP's unsharded working copies (TrainMemory::fsdp_buffers).
[[gnu::always_inline]] inline double FsdpBuffers(const TrainPlan& p, const StageTerms& st) {
  if (!p.fsdp || !st.fsdp_ready || !(st.fsdp_unit_bytes > 0)) return 0;
  const double gathered = p.fsdp_reshard ? 2 * st.fsdp_unit_bytes : std::max(st.fsdp_stage_bytes, 2 * st.fsdp_unit_bytes);
  return gathered + 2 * st.fsdp_unit_bytes * kGradBytesSharded / kWeightBytes;
}

// FSDP, per micro-batch on the pacing stage: each unit's gather under the
// previous unit's forward, its reduce-scatter (and, resharded, its second
// gather) under the next units' backward, priced as every overlap; what
// the step's first gather and last reduce-scatter find nothing to hide
// under is exposed once per step (tail). Without DP overlap the
// collectives run between the units.
struct FsdpExposed {
  double per_mb = 0, tail = 0;
};
[[gnu::always_inline]] inline FsdpExposed FsdpComm(const TrainPlan& p, const StageTerms& st, double compute_f,
                                                   double compute_b, double pace_layers, double slowdown) {
  FsdpExposed out;
  if (!p.fsdp || !st.fsdp_ready) return out;
  const double g = st.fsdp_gather, rs = st.fsdp_reduce, back = rs + (p.fsdp_reshard ? g : 0);
  if (p.overlap_dp) {
    const double g_f = Overlapped(g, compute_f, slowdown);
    out.per_mb = pace_layers * (g_f + Overlapped(back, compute_b, slowdown));
    out.tail = (g - g_f) + (rs - Overlapped(rs, compute_b, slowdown));
  } else {
    out.per_mb = pace_layers * (g + back);
  }
  return out;
}

[[gnu::always_inline]] inline void SetFits(TrainEstimate& e) {
  TrainMemory& mem = e.memory;
  mem.total = mem.weights + mem.gradients + mem.optimizer + mem.activations + mem.fsdp_buffers + mem.other;
  e.fits = mem.total <= mem.capacity;
  e.reason = e.fits ? TrainInfeasible::kNone
             : mem.weights + mem.gradients + mem.optimizer + mem.fsdp_buffers + mem.other > mem.capacity
                 ? TrainInfeasible::kWeightsDoNotFit
                 : TrainInfeasible::kActivationsDoNotFit;
}

// The bubble of every schedule but DualPipe's (Assemble prices that one).
[[gnu::always_inline]] inline double Bubble(PipelineSchedule schedule, double pp, double vp, double per_mb, double w_mb) {
  switch (schedule) {
    case PipelineSchedule::k1F1B:
    case PipelineSchedule::kInterleaved: return pp > 1 ? (pp - 1) / vp * per_mb : 0;
    case PipelineSchedule::kZeroBubble: return (pp - 1) * std::max(0.0, per_mb - 2 * w_mb);
    case PipelineSchedule::kDualPipe: break;
  }
  return 0;
}
}  // namespace

DpTerms DataParallelTerms(const Context& x, const TrainPlan& p, const StageTerms& st, double copies) {
  const TrainRequest& r = *x.r;
  DpTerms out;
  if (r.lora) return out;
  const double m = double(r.global_batch) / (double(p.dp) * p.micro_batch);
  const double grad_bytes = p.zero == 0 ? kGradBytesDdp : kGradBytesSharded;
  // DualPipe: both copies of each stage take part in its reduction.
  const Group dp_group{.ranks = p.dp * int(copies), .stride = p.tp * p.cp};
  const Group edp_group{.ranks = int(st.edp * copies), .stride = x.totals.moe ? ExpertTp(p) * p.ep : 1};
  auto reduce = [&](const Group& group, double part) {
    if (group.ranks <= 1 || part <= 0) return;
    if (p.zero == 0) {
      out.reduce += AllReduce(x.links, part * grad_bytes, group);
    } else {
      // Gradients reduce-scattered, the updated parameters all-gathered
      // (one pass each over the same group: one cost, priced twice).
      const CollectiveCost pass = HierarchicalCost(x.links, group, 1);
      out.reduce += pass(part * grad_bytes) + pass(part * 2);
      // ZeRO-3: parameters gathered before each micro-batch's forward and backward, prefetched under compute.
      if (p.zero >= 3) out.gathers += 2 * m * pass(part * 2);
    }
  };
  // A DualPipe rank reduces the gradients of the two stages it holds.
  const bool pair = copies > 1;
  reduce(dp_group, pair ? st.pair_dense : st.dense_params);
  if (st.expert_params > 0) reduce(edp_group, pair ? st.pair_expert : st.expert_params);
  return out;
}

void CacheDataParallel(const Context& x, TrainPlan p, StageTerms& st) {
  for (int z = 0; z <= 3; ++z) {
    p.zero = z;
    for (int copies = 1; copies <= 2; ++copies) st.dp[z][copies - 1] = DataParallelTerms(x, p, st, copies);
  }
  FsdpUnitTerms(x, p, st);
  st.dp_cached = true;
}

void Assemble(const Context& x, const TrainPlan& p, const LayerCosts& lc, TrainEstimate& e, Timing timing) {
  Assemble(x, p, lc, MakeStageTerms(x, p), e, timing);
}

void Assemble(const Context& x, const TrainPlan& p, const LayerCosts& lc, const StageTerms& st, TrainEstimate& e,
              Timing timing, PipelineTerms* pipe) {
  const Cluster& c = *x.c;
  const Device& d = c.device;
  const TrainRequest& r = *x.r;
  const ModelTotals& t = x.totals;
  const double dp = p.dp, pp = p.pp, vp = p.vp;
  const double m = double(r.global_batch) / (dp * p.micro_batch);  // micro-batches per pipeline
  const double layers_stage = st.layers_stage;
  e.tier = d.tier;
  e.warnings = x.warnings | st.warnings;
  const bool default_layout = st.default_layout;
  const double first_layers = st.first_layers, middle_layers = st.middle_layers, last_layers = st.last_layers;
  const double params = st.params;
  auto sharded = [&](bool shard) { return shard ? st.params_sharded : params; };
  TrainMemory& mem = e.memory;
  mem.capacity = d.memory_capacity.si();
  const double fp8_copy = x.rate.dtype == Dtype::kFp8 ? 1 : 0;
  const PipelineSchedule schedule = pp > 1 ? EffectiveSchedule(p) : PipelineSchedule::k1F1B;
  const bool dualpipe = schedule == PipelineSchedule::kDualPipe;
  // DualPipe: each rank holds stage i and stage pp - 1 - i, two copies of
  // every stage in the pipeline (DeepSeek-V3, Table 2: parameters 2x); the
  // rank's memory is that pair's (the fullest pair, StageTerms), not twice
  // the fullest stage. Each stage's gradients are summed over its two holders
  // and the data-parallel replicas, so what ZeRO shards spreads over 2 dp
  // ranks; what it does not shard is the whole pair.
  const double copies = dualpipe ? 2 : 1;
  const double pair_sharded = dualpipe ? (st.pair_dense / dp + (st.pair_expert > 0 ? st.pair_expert / st.edp : 0)) / 2 : 0;
  auto held = [&](bool shard) {
    if (dualpipe) return shard ? pair_sharded : st.pair_dense + st.pair_expert;
    return sharded(shard);
  };
  mem.weights = held(p.zero >= 3) * (kWeightBytes + fp8_copy);
  // Weight offload: what the device would hold lives on the host; the device
  // keeps two layers' share of it (the layer in use and the one prefetched).
  double streamed_layer = 0;
  if (p.offload_weights) [[unlikely]] {
    const double weight_units = std::max({1.0, first_layers, middle_layers, last_layers});
    streamed_layer = held(p.zero >= 3) * kWeightBytes / weight_units;
    mem.weights = std::min(mem.weights, 2 * mem.weights / weight_units);
  }
  // FSDP (Megatron-FSDP; FSDP2): the unit in use and the one prefetched
  // gathered (or, without reshard-after-forward, the whole stage from its
  // forward to its backward), and at most two units' unsharded gradients
  // waiting for their reduce-scatter (Megatron-FSDP's two gradient buffers).
  mem.fsdp_buffers = FsdpBuffers(p, st);
  // LoRA adapters (rank ~16) hold well under 1% of the parameters: their
  // gradients and optimizer state are left out.
  mem.gradients = r.lora ? 0 : held(p.zero >= 2) * (p.zero == 0 ? kGradBytesDdp : kGradBytesSharded);
  mem.optimizer = r.lora || p.offload_optimizer ? 0 : held(p.zero >= 1) * OptimizerBytes(p.optimizer_state);
  double per_layer = p.recompute == Recompute::kFull        ? lc.act_full
                     : p.recompute == Recompute::kSelective ? lc.act_selective
                                                            : lc.act_none;
  if (p.recompute == Recompute::kSelective && p.recompute_modules != 0) per_layer = ModuleActivations(lc, p.recompute_modules);
  // 1F1B and zero-bubble (ZB-H1 keeps 1F1B's peak: Qi et al. 2023, section
  // 3.1): the first stage keeps pp micro-batches in flight (interleaving adds
  // (pp - 1) / (pp vp) more); the last keeps one, plus the logits. DualPipe:
  // pp + 1 (DeepSeek-V3, Table 2), on every rank, each holding the first
  // stage of one direction.
  const double interleave = vp > 1 ? 1 + (pp - 1) / (pp * vp) : 1.0;
  const double in_flight = dualpipe ? std::min(m, pp + 1) : std::min(m, pp) * interleave;
  const double working = p.recompute == Recompute::kFull ? lc.act_none : 0;  // the layer being recomputed
  // Offloaded layers keep nothing on the device but the one in transit.
  double kept_first = first_layers, kept_middle = middle_layers, kept_last = last_layers, in_transit = 0;
  if (p.offload_layers > 0) {
    kept_first -= std::min<double>(p.offload_layers, first_layers);
    kept_middle -= std::min<double>(p.offload_layers, middle_layers);
    kept_last -= std::min<double>(p.offload_layers, last_layers);
    in_transit = per_layer;
  }
  const double first = kept_first * per_layer * in_flight + in_transit + working;
  // The MTP modules sit with the LM head: their activations and second logits.
  const double mtp_act = p.mtp_layers * lc.mtp_act;
  const double last = kept_last * per_layer + in_transit + working + lc.logits_bytes + mtp_act;
  // The second stage holds one micro-batch fewer than the first (with even
  // stages it never holds more than the first).
  const double middle = pp > 2 && !default_layout && !dualpipe
                            ? kept_middle * per_layer * std::min(m, pp - 1) * interleave + in_transit + working
                            : 0;
  // DualPipe's first rank also runs the last stage (its other direction).
  mem.activations = dualpipe  ? first + lc.logits_bytes + mtp_act
                    : pp > 1 ? std::max(std::max(first, middle), last)
                             : first + lc.logits_bytes + mtp_act;
  mem.other = d.reserved_bytes.si();
  SetFits(e);
  e.micro_batches = int(m);
  if (timing != Timing::kAlways && (timing == Timing::kMemoryOnly || !e.fits)) return;

  // One micro-batch through the stage: its layers forward, backward and recompute.
  // Eager frameworks pay a fixed cost per operator (host dispatch, autograd
  // bookkeeping, the launch gap on the device) that does not overlap the
  // kernels: it adds to every forward, backward and recomputed operator
  // (operators per layer and micro-batch: forward, backward, what recompute repeats).
  const double ops_rec = OpsRecomputed(p, lc);
  const double ops = lc.ops_f + lc.ops_b + ops_rec;
  const double framework = ops * d.host_op_overhead.si();
  // With TP overlap (Megatron-Core userbuffers) the collectives run under the
  // layer's GEMMs, which slow while they share the chip.
  const double tp_f = p.overlap_tp ? Overlapped(lc.tp_f, lc.gemm_f, d.overlap_slowdown) : lc.tp_f;
  const double tp_b = p.overlap_tp ? Overlapped(lc.tp_b, lc.gemm_b, d.overlap_slowdown) : lc.tp_b;
  const double compute_f = lc.gemm_f + lc.attn_f + lc.elem_f;
  const double compute_b = lc.gemm_b + lc.attn_b + lc.elem_b;
  // EP overlap pairs one micro-batch's forward chunk with another's backward
  // chunk, each one's dispatch and combine under the pair's compute (which
  // slows while they share the chip): DualPipe, and Megatron-Core's combined
  // 1F1B (--overlap-moe-expert-parallel-comm; UnpairedChunkShare).
  double ep_f = lc.ep_f, ep_b = lc.ep_b;
  if ((dualpipe || p.overlap_ep) && lc.ep_f + lc.ep_b > 0) [[unlikely]] {
    const double pair = Overlapped(lc.ep_f + lc.ep_b, compute_f + compute_b, d.overlap_slowdown);
    const double u = dualpipe ? 0 : UnpairedChunkShare(pp, vp, m);
    const double exposed = (1 - u) * pair + u * (lc.ep_f + lc.ep_b);
    ep_f = exposed * lc.ep_f / (lc.ep_f + lc.ep_b);
    ep_b = exposed - ep_f;
  }
  // FP8 caching keeps the MoE SwiGLU's input only: its output is computed
  // again in backward, beside what recompute repeats.
  const double recompute = RecomputeSeconds(p, lc, compute_f, tp_f, ep_f);
  const double layer_time = compute_f + compute_b + recompute + tp_f + tp_b + ep_f + ep_b + lc.cp_f + lc.cp_b +
                            framework;
  // The slowest stage sets the pace: the last with the LM head and loss (and
  // the MTP modules), or a fuller first or middle stage (the embedding lookup
  // is left in the head).
  const double head_time = lc.head_f + lc.head_b + p.mtp_layers * (lc.mtp_f + lc.mtp_b);
  double pace_layers = last_layers, head_share = 1;
  if (dualpipe) {
    // Each rank runs stage i and stage pp - 1 - i, half the micro-batches
    // through each: the first rank pairs the embedding's stage with the head's.
    pace_layers = (first_layers + last_layers) / 2;
    head_share = 0.5;
    if (pp > 2 && middle_layers * layer_time > pace_layers * layer_time + head_time / 2) {
      pace_layers = middle_layers;
      head_share = 0;
    }
  } else if (std::max(first_layers, middle_layers) * layer_time > last_layers * layer_time + head_time) {
    pace_layers = std::max(first_layers, middle_layers);
    head_share = 0;
  }
  const double head = head_share * head_time;
  // Offload: each offloaded layer's activations leave in forward and return
  // in backward over the host link, under the stage's compute.
  double offload = 0;
  if (p.offload_layers > 0 && c.host_link.si() > 0) {
    const double bytes = std::min<double>(p.offload_layers, pace_layers) * per_layer;
    const double each_way = bytes / c.host_link.si();
    offload = Overlapped(each_way, pace_layers * compute_f, d.overlap_slowdown) +
              Overlapped(each_way, pace_layers * compute_b, d.overlap_slowdown);
  }
  // Weight offload: every layer's parameters come up the host link for the
  // forward and again for the backward of each micro-batch, each prefetched
  // under the previous layer's compute (sharing the link with activation
  // offload's traffic, priced apart).
  if (p.offload_weights && c.host_link.si() > 0) [[unlikely]] {
    const double up = pace_layers * streamed_layer / c.host_link.si();
    offload += Overlapped(up, pace_layers * compute_f, d.overlap_slowdown) +
               Overlapped(up, pace_layers * compute_b, d.overlap_slowdown);
  }
  // FSDP's gathers and reduce-scatters (FsdpComm); a unit's backward window
  // holds what the backward pass computes for it, its recompute included.
  const FsdpExposed fsdp = FsdpComm(p, st, compute_f, compute_b + recompute, pace_layers, d.overlap_slowdown);
  const double fsdp_mb = fsdp.per_mb, fsdp_tail = fsdp.tail;
  const double device_plain = pace_layers * layer_time + head + offload;
  const double device_mb = device_plain + fsdp_mb;
  // The host issues the same operators asynchronously, ahead of the device;
  // when its dispatch is the slower of the two (small layers, slow host
  // stack), the micro-batch takes the host's time and the kernels hide under it.
  const double host_mb = pace_layers * ops * c.host_dispatch.si();
  const double per_mb = std::max(device_mb, host_mb);
  TrainBreakdown& bd = e.breakdown;
  bd.compute = m * (pace_layers * (compute_f + compute_b) + head);
  // Framework cost: per-operator gaps on the device, and the host's dispatch
  // where it outlasts the device's work.
  bd.framework = m * (pace_layers * framework + std::max(0.0, host_mb - device_mb));
  if (host_mb > device_mb) e.warnings |= kTrainWarnHostBound;
  bd.recompute = m * pace_layers * recompute;
  bd.tp_comm = m * pace_layers * (tp_f + tp_b);
  bd.ep_comm = m * pace_layers * (ep_f + ep_b);
  bd.cp_comm = m * pace_layers * (lc.cp_f + lc.cp_b);
  bd.offload = m * offload;
  // The bubble from one micro-batch's forward F, full backward B and
  // weight-gradient part W on the pacing stage (W: the weight-gradient GEMMs,
  // as many FLOPs as the forward's; Qi et al. 2023 split the backward there).
  // 1F1B (pp - 1)(F + B), interleaved / vp; ZB-H1 (pp - 1)(F + B - 2W)
  // (Qi et al. 2023, section 3.1; DeepSeek-V3's ZB1P); DualPipe
  // (pp/2 - 1)(F&B + B - 3W), F&B the overlapped pair (DeepSeek-V3, Table 2).
  const double w_mb = pace_layers * (lc.gemm_b - lc.gemm_f) + head_share * (lc.head_w + p.mtp_layers * lc.mtp_w);
  switch (schedule) {
    case PipelineSchedule::k1F1B:
    case PipelineSchedule::kInterleaved:
    case PipelineSchedule::kZeroBubble: bd.pp_bubble = Bubble(schedule, pp, vp, per_mb, w_mb); break;
    case PipelineSchedule::kDualPipe: {
      // A backward chunk alone: its exchanges exposed as without pairing.
      const double b_alone = pace_layers * (compute_b + recompute + tp_b + lc.ep_b + lc.cp_b +
                                            (lc.ops_b + ops_rec) * d.host_op_overhead.si()) +
                             head_share * (lc.head_b + p.mtp_layers * lc.mtp_b);
      bd.pp_bubble = (pp / 2 - 1) * std::max(0.0, per_mb + b_alone - 3 * w_mb);
      break;
    }
  }
  // Each micro-batch sends its activations forward and its gradients back
  // once per virtual stage. DualPipe sends and receives both directions'
  // under the pair's compute. Interleaved 1F1B with overlap_p2p_comm
  // (Megatron-LM's default for it; arguments.py turns it off for plain
  // 1F1B) posts each chunk's send and the next one's receive and waits only
  // before that chunk runs: in the steady phase a forward's exchange runs
  // under a backward chunk and the reverse. The warm-up forwards and the
  // flush's backwards have nothing between post and wait (hence the
  // opt-in --overlap-p2p-communication-warmup-flush): their exchanges stay
  // exposed. A rank warms up with 2 (pp - 1 - rank) + (vp - 1) pp chunks
  // (schedules.py, microbatch_group_size_per_vp_stage = pp), (pp - 1) +
  // (vp - 1) pp on average. Plain 1F1B blocks on every exchange.
  const double sends = 2 * m * vp * lc.p2p;
  if (pp <= 1) {
    bd.pp_comm = 0;
  } else if (dualpipe) {
    bd.pp_comm = m * Overlapped(2 * lc.p2p, per_mb, d.overlap_slowdown);
  } else if (schedule == PipelineSchedule::kInterleaved && p.overlap_pp) {
    const double chunks = m * vp;
    const double steady = (chunks - std::min(chunks, (pp - 1) + (vp - 1) * pp)) / chunks;
    bd.pp_comm = sends * (1 - steady) + Overlapped(sends * steady, bd.compute * steady, d.overlap_slowdown);
  } else {
    bd.pp_comm = sends;
  }
  // Data parallelism: gradients (and, with the distributed optimizer, the
  // updated parameters) cross the data-parallel group once per step.
  // FSDP reduce-scatters every unit's gradients as its backward ends and
  // leaves the parameters sharded after the update: no step-end reduction.
  const DpTerms dpt = p.fsdp ? DpTerms{}
                      : st.dp_cached && p.zero >= 0 && p.zero <= 3 ? st.dp[p.zero][dualpipe ? 1 : 0]
                                                                   : DataParallelTerms(x, p, st, copies);
  const double dp_time = dpt.reduce;
  const double gathers_exposed = dpt.gathers > 0 ? Overlapped(dpt.gathers, bd.compute, d.overlap_slowdown) : 0;
  // Overlapped reduction runs under the last micro-batch's backward.
  const double window = pace_layers * (compute_b + tp_b);
  bd.dp_comm_exposed = (p.overlap_dp ? Overlapped(dp_time, window, d.overlap_slowdown) : dp_time) + gathers_exposed +
                       fsdp_tail;
  const double opt_params = r.lora ? 0 : held(p.zero >= 1);
  if (r.lora) {
    bd.optimizer = 0;
  } else if (p.offload_optimizer && c.host_link.si() > 0 && c.host_memory.si() > 0) {
    // Offloaded: gradients down and 16-bit parameters up the host link, the
    // update at the host's memory bandwidth, pipelined bucket by bucket.
    // With the weights offloaded too, the parameters stay on the host.
    const double up = p.offload_weights ? 0 : kWeightBytes;
    const double link = opt_params * (kGradBytesSharded + up) / c.host_link.si();
    const double cpu = opt_params * OptimizerTraffic(p.optimizer_state) / c.host_memory.si();
    bd.optimizer = std::max(link, cpu);
  } else {
    bd.optimizer = StreamSeconds(d, opt_params * OptimizerTraffic(p.optimizer_state));
    // Weight offload: the updated 16-bit parameters go back down to the host.
    if (p.offload_weights && c.host_link.si() > 0) bd.optimizer += opt_params * kWeightBytes / c.host_link.si();
  }
  e.step_time_s = m * per_mb + bd.pp_bubble + bd.pp_comm + bd.dp_comm_exposed + bd.optimizer;
  bd.dp_comm_exposed += m * fsdp_mb;  // in per_mb: counted once in the step

  if (pipe != nullptr) {
    *pipe = PipelineTerms{.per_mb = per_mb, .w_mb = w_mb, .dp_reduce = dp_time, .dp_window = window,
                          .gathers_exposed = gathers_exposed, .device_plain = device_plain, .host_mb = host_mb,
                          .compute_f = compute_f, .compute_b = compute_b + recompute, .pace_layers = pace_layers,
                          .framework_layers = pace_layers * framework};
  }
  const double tokens = double(r.global_batch) * double(r.seq_len);
  e.model_flops_per_step =
      tokens * ((r.lora ? 4 : 6) * t.active_flops_params + t.attention_flops_per_token * double(r.seq_len));
  // Executed: per micro-batch per device forward x (3, + 1 with full recompute), over every stage and replica.
  const double fwd = layers_stage * lc.flops_f + lc.head_flops_f + p.mtp_layers * lc.mtp_flops_f / pp;
  const double rec = p.recompute == Recompute::kFull ? layers_stage * lc.flops_f
                     : p.recompute == Recompute::kSelective ? layers_stage * lc.attn_flops_f
                                                            : 0;
  e.hardware_flops_per_step = m * ((r.lora ? 2 : 3) * fwd + rec) * double(r.devices);
  // The search ranks by step time and memory and finishes the rates of the plans it keeps.
  if (timing == Timing::kAlways) FinishRates(x, e);
}

void FsdpMemory(const TrainPlan& p, const StageTerms& st, TrainEstimate& e) {
  e.memory.fsdp_buffers = FsdpBuffers(p, st);
  SetFits(e);
}

void FsdpFrom(const Context& x, const TrainPlan& p, const StageTerms& st, const PipelineTerms& plain, TrainEstimate& e) {
  FsdpMemory(p, st, e);
  if (!e.fits) return;
  const double m = double(x.r->global_batch) / (double(p.dp) * p.micro_batch);
  const FsdpExposed fsdp =
      FsdpComm(p, st, plain.compute_f, plain.compute_b, plain.pace_layers, x.c->device.overlap_slowdown);
  const double device_mb = plain.device_plain + fsdp.per_mb;
  const double per_mb = std::max(device_mb, plain.host_mb);
  TrainBreakdown& bd = e.breakdown;
  bd.framework = m * (plain.framework_layers + std::max(0.0, plain.host_mb - device_mb));
  e.warnings = (e.warnings & ~uint32_t(kTrainWarnHostBound)) | (plain.host_mb > device_mb ? uint32_t(kTrainWarnHostBound) : 0u);
  const PipelineSchedule schedule = p.pp > 1 ? EffectiveSchedule(p) : PipelineSchedule::k1F1B;
  bd.pp_bubble = Bubble(schedule, p.pp, p.vp, per_mb, plain.w_mb);
  e.step_time_s = m * per_mb + bd.pp_bubble + bd.pp_comm + fsdp.tail + bd.optimizer;
  bd.dp_comm_exposed = fsdp.tail + m * fsdp.per_mb;
}

double StepLowerBound(const Context& x, const TrainPlan& p, const LayerCosts& lc, const StageTerms& st, bool dualpipe) {
  // Assemble's terms at their least over what the bound leaves open. Every
  // overlap hides at most what Overlapped leaves; offload, FSDP's
  // collectives, the bubble, pipeline sends, the DP reduction and the
  // optimizer step only add.
  const Device& d = x.c->device;
  const double s = d.overlap_slowdown;
  const double m = double(x.r->global_batch) / (double(p.dp) * p.micro_batch);
  const double ops = lc.ops_f + lc.ops_b + OpsRecomputed(p, lc);
  const double compute_f = lc.gemm_f + lc.attn_f + lc.elem_f;
  const double compute_b = lc.gemm_b + lc.attn_b + lc.elem_b;
  const double tp = Overlapped(lc.tp_f, lc.gemm_f, s) + Overlapped(lc.tp_b, lc.gemm_b, s);
  // Paired EP overlap exposes at least the pair's share (Assemble adds the unpaired chunks').
  double ep = lc.ep_f + lc.ep_b;
  if ((dualpipe || p.overlap_ep) && ep > 0) ep = Overlapped(ep, compute_f + compute_b, s);
  const double recompute = RecomputeSeconds(p, lc, compute_f, 0, 0);
  const double layer = compute_f + compute_b + recompute + tp + ep + lc.cp_f + lc.cp_b + ops * d.host_op_overhead.si();
  const double head_time = lc.head_f + lc.head_b + p.mtp_layers * (lc.mtp_f + lc.mtp_b);
  // The pacing stage: the last with the head, or a fuller one; DualPipe's
  // ranks half of the first and the last stage with half the head, or a fuller pair.
  double device = st.last_layers * layer + head_time;
  double pace = st.last_layers;
  if (dualpipe && p.pp > 1) {
    const double pair = (st.first_layers + st.last_layers) / 2;
    device = std::min(device, pair * layer + head_time / 2);
    pace = std::min(pace, pair);
  }
  return m * std::max(device, pace * ops * x.c->host_dispatch.si());
}

void FinishRates(const Context& x, TrainEstimate& e) {
  const TrainRequest& r = *x.r;
  const double tokens = double(r.global_batch) * double(r.seq_len);
  e.tokens_per_s = tokens / e.step_time_s;
  e.tokens_per_s_per_device = e.tokens_per_s / double(r.devices);
  e.model_tflops_per_device = e.model_flops_per_step / e.step_time_s / double(r.devices) / 1e12;
  e.mfu = x.peak > 0 ? e.model_flops_per_step / e.step_time_s / double(r.devices) / x.peak : 0;
  if (r.tokens > 0) {
    e.time_to_train_s = r.tokens / e.tokens_per_s;
    e.device_hours = e.time_to_train_s * double(r.devices) / 3600;
    e.energy_j = e.time_to_train_s * double(r.devices) * x.c->device.board_power.si();
  }
}

void SetDpOverlap(const Context& x, const TrainPlan& p, const PipelineTerms& pipe, TrainEstimate& e) {
  const double exposed =
      (p.overlap_dp ? Overlapped(pipe.dp_reduce, pipe.dp_window, x.c->device.overlap_slowdown) : pipe.dp_reduce) +
      pipe.gathers_exposed;
  e.step_time_s += exposed - e.breakdown.dp_comm_exposed;
  e.breakdown.dp_comm_exposed = exposed;
}

void ZeroBubbleFrom1F1B(const Context& /*x*/, const TrainPlan& p, const PipelineTerms& pipe, TrainEstimate& e) {
  const double bubble = (double(p.pp) - 1) * std::max(0.0, pipe.per_mb - 2 * pipe.w_mb);
  e.step_time_s += bubble - e.breakdown.pp_bubble;
  e.breakdown.pp_bubble = bubble;
}

}  // namespace train

TrainBoundShare BoundOf(const TrainBreakdown& b) {
  const TrainBoundShare groups[] = {
      {TrainBound::kCompute, b.compute + b.recompute},
      {TrainBound::kCommunication, b.tp_comm + b.dp_comm_exposed + b.pp_comm + b.ep_comm + b.cp_comm + b.offload},
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
std::string_view TrainWarningCode(uint32_t bit) {
  for (const auto& t : kTrainWarningTexts) {
    if (t.bit == bit) return t.code;
  }
  return "?";
}

}  // namespace suanli
