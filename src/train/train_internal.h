// Training's internals, shared by the estimator (estimate.cc) and the search
// (search/): the model totals, one mean layer's costs from the shared operator
// list (layer_costs.cc) and the plan-dependent assembly of a step (assemble.cc).
//
// Costs split in two levels so the search is fast: LayerCosts depends only
// on (tp, cp, ep, micro-batch, sequence parallelism, and the links pp and dp
// pick) and prices one layer's forward, backward and recompute on one
// micro-batch; Assemble adds the plan's pipeline, data-parallel, ZeRO and
// optimizer terms with a few dozen arithmetic operations.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "suanli/cost/moe_dispatch.h"
#include "suanli/cost/roofline.h"
#include "suanli/hardware/collectives.h"
#include "suanli/train/train.h"

namespace suanli::train {

// Bytes per parameter: 16-bit weights; gradients in fp32 main-grad buffers
// with plain data parallelism (Megatron DDP) or in a 16-bit buffer with the
// distributed optimizer (Megatron-Core's default, grad_reduce_in_fp32 off);
// master weights + Adam moments, 4 B each in fp32 or 2 B each in bf16.
constexpr double kWeightBytes = 2;
constexpr double kGradBytesDdp = 2, kGradBytesSharded = 2;
inline double OptimizerBytes(OptimizerState s) { return s == OptimizerState::kBf16 ? 6 : 12; }
// Optimizer step traffic per parameter: read grad (4), read and write master,
// m and v (twice the state), write the 16-bit copy (2).
inline double OptimizerTraffic(OptimizerState s) { return 4 + 2 * OptimizerBytes(s) + 2; }

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

ModelTotals Totals(const ModelArch& m);

// One MTP module (DeepSeek-V3), as CountParams counts it: enorm + hnorm,
// eh_proj (2h x h), the shared parameters of a layer like the last and its
// final norm; that layer's routed experts apart.
struct MtpParams {
  double shared = 0, experts = 0;
};
MtpParams MtpModuleParams(const ModelArch& m);

// One layer (mean over the model's layers) on one micro-batch, per device.
struct LayerCosts {
  double gemm_f = 0, gemm_b = 0;        // linear layers (and MoE experts)
  double attn_f = 0, attn_b = 0;        // attention core, with its softmax kernels when materialised
  double elem_f = 0, elem_b = 0;        // norms, residuals, activation functions
  double cast_f = 0, cast_b = 0;        // FP8 quantisation of the grouped GEMMs' operands (in elem_f / elem_b)
  double tp_f = 0, tp_b = 0;            // tensor-parallel collectives
  double ep_f = 0, ep_b = 0;            // expert-parallel all-to-all
  double cp_f = 0, cp_b = 0;            // context-parallel exchanges left exposed
  double ops_f = 0, ops_b = 0;          // operators launched (host dispatch floor)
  double attn_ops_f = 0;
  double flops_f = 0;                   // executed FLOPs, forward
  double attn_flops_f = 0;
  // Activation bytes kept per layer per micro-batch.
  double act_none = 0, act_selective = 0, act_full = 0;
  // Per recompute module (RecomputeModule bit order): activation bytes it
  // frees per layer per micro-batch, and its forward time when repeated.
  double module_act[kRecomputeModuleCount] = {};
  double module_f[kRecomputeModuleCount] = {};
  // End stages, per micro-batch.
  double head_f = 0, head_b = 0, head_flops_f = 0;
  double logits_bytes = 0;
  double head_w = 0;  // the LM head's weight-gradient GEMM (a zero-bubble schedule's W)
  // FP8 activation caching: the MoE SwiGLU output recomputed in backward, per layer.
  double swiglu_f = 0;
  // One MTP module per micro-batch (with TrainPlan::mtp_layers; the last
  // stage): forward, backward (its weight-gradient part apart), its
  // activations kept, executed forward FLOPs. Its LM head and loss pass is in it.
  double mtp_f = 0, mtp_b = 0, mtp_w = 0, mtp_act = 0, mtp_flops_f = 0;
  double p2p = 0;  // one pipeline transfer of the micro-batch's activations
};

// What a collective of `comm` seconds adds to a stretch of `compute` seconds
// it runs beside. The two share the chip's SMs and memory bandwidth, so the
// compute runs (1 + slowdown) times longer while they overlap (measured; see
// the profile's collective.overlap_slowdown): the collective never hides for
// free, and what outlasts the slowed compute is exposed whole.
inline double Overlapped(double comm, double compute, double slowdown) {
  return std::max(comm - compute, comm * slowdown / (1 + slowdown));
}

// Megatron-Core's combined 1F1B (--overlap-moe-expert-parallel-comm) runs one
// micro-batch's forward chunk beside another's backward chunk, so that each
// one's EP dispatch and combine hide under the other's compute
// (megatron/core/pipeline_parallel/combined_1f1b.py,
// megatron/core/models/common/model_chunk_schedule_plan.py). Only the
// warm-up forwards and the cool-down backwards run alone: on the first
// pipeline rank, which warms up longest, W = 2 (pp - 1) + (vp - 1) pp + 1
// forward chunks (get_pp_rank_microbatches in schedules.py: the interleaved
// warm-up (pp - rank - 1) 2 + (vp - 1) N, N = microbatch_group_size_per_vp_stage,
// pp by default, plus one extra forward so that every paired forward and
// backward are independent; with pp 1, combined_1f1b_schedule_for_no_pipelining:
// the first forward and the last backward alone, W = 1), and as many
// backwards. Megatron-Core needs vp with pp > 1 (transformer_config.py); vp 1
// runs the interleaved schedule with one chunk, the same W. Returns W over the
// m vp chunks each way, at most 1.
inline double UnpairedChunkShare(double pp, double vp, double m) {
  const double unpaired = 2 * (pp - 1) + (vp - 1) * pp + 1;
  return std::min(1.0, unpaired / (m * vp));
}

// Prices one mean layer and the end stages for the plan's (tp, cp, ep,
// micro-batch, sp) on the links its pp and dp pick.
LayerCosts ComputeLayerCosts(const Cluster& c, const Links& links, const ModelArch& m, const TrainRequest& r,
                             const TrainPlan& p, const ComputeRate& rate);

// A MoE layer's dispatch and combine from this device, per the plan's
// dispatcher (megatron/core/transformer/moe/token_dispatcher.py), for
// `tokens` tokens per device of `token_bytes` each. Sequence-parallel (the
// tokens sharded over tp, Megatron-Core's layout):
// - alltoall (MoEAlltoAllTokenDispatcher): the device's own tokens / tp, one
//   copy per (token, expert), all-to-all'd over the EP group, then the copies
//   its experts received all-gathered over the etp ranks (combine: the
//   reduce-scatter over etp, then the all-to-all back);
// - DeepEP (MoEFlexTokenDispatcher): one fused dispatch over the etp x ep
//   ranks with the routing map repeated over each expert-TP group, so every
//   token reaches each of the etp ranks of a rank that hosts one of its
//   experts: etp copies of the EP dispatch (an all-gather over etp at ep 1).
//   With `rates` (the measured normal kernels), the copies DeepEP's
//   benchmarks count (DeepEpCountedCopies) over their figures; Megatron-Core
//   hands DeepEP the BF16 hidden states both ways (fused_a2a.py; HybridEP
//   refuses FP8 dispatch), so `token_bytes` is the same for both.
// Replicated over tp (no SP; Megatron-Core asserts SP for MoE with tp > 1 in
// arguments.py): the tokens of the device's expert-TP group, tokens x etp / tp.
double ExpertExchangeSeconds(const Links& links, const TrainPlan& p, bool sp, double tokens, double token_bytes,
                             const MoeShape& e, double imbalance, const MeasuredDispatchRates* rates);

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

Context MakeContext(const Cluster& c, const ModelArch& m, const TrainRequest& r);
Context MakeContext(const Cluster& c, const ModelArch& m, const TrainRequest& r, const ModelTotals& totals);

class PlanRules;
// CheckTrainingPlan with the model's totals already counted (plan.cc).
Status CheckPlan(const ModelArch& m, const TrainRequest& r, const PlanRules& rules);

// Whether Assemble goes on from memory to time: the search times only the
// plans that fit; a single estimate is timed either way. kMemoryOnly stops
// after the memory (e.fits), leaving the times as they were: the search's,
// for a plan its step-time bound already rules out of the top k.
enum class Timing { kIfFits, kAlways, kMemoryOnly };

// Selective recompute by module: the activations a layer keeps, and the
// forward time repeated (ep_f: the MoE block's exposed dispatch and combine).
double ModuleActivations(const LayerCosts& lc, uint32_t modules);
double ModuleRecompute(const LayerCosts& lc, uint32_t modules, double ep_f);

// What a step's stages hold, fixed by (tp, pp, dp, ep, etp, the layout):
// the search computes it once per (pp, ep) for every candidate after.
// Data parallelism's collectives per step: the gradient reduction (with the
// distributed optimizer, the parameter all-gather too) and ZeRO-3's
// per-micro-batch parameter gathers, before any overlap.
struct DpTerms {
  double reduce = 0, gathers = 0;
};
struct StageTerms {
  double layers_stage = 0;  // the fullest stage of an even split
  double first_layers = 0, middle_layers = 0, last_layers = 0;
  double dense_params = 0, expert_params = 0, params = 0;  // per device, the fullest stage
  double params_sharded = 0;  // dense over dp, experts over edp
  // DualPipe: rank i holds stage i and stage pp - 1 - i; the fullest such
  // pair (the first with the last stage, or two middle stages), per device.
  double pair_dense = 0, pair_expert = 0;
  double edp = 1;
  bool default_layout = true;
  uint32_t warnings = 0;
  // FSDP, one unit (a layer's share of the fullest stage's parameters): its
  // all-gather and its gradients' reduce-scatter, over dp (experts over
  // edp), and its unsharded bytes; the stage's unsharded parameter bytes.
  bool fsdp_ready = false;
  double fsdp_gather = 0, fsdp_reduce = 0, fsdp_unit_bytes = 0, fsdp_stage_bytes = 0;
  // With CacheDataParallel: DpTerms by ZeRO stage and parameter copies (1, or DualPipe's 2).
  bool dp_cached = false;
  DpTerms dp[4][2] = {};
};
// all_schedules: also the DualPipe pair whatever p.schedule says (the search's).
StageTerms MakeStageTerms(const Context& x, const TrainPlan& p, bool all_schedules = false);
DpTerms DataParallelTerms(const Context& x, const TrainPlan& p, const StageTerms& st, double copies);
// Fills st's FSDP unit terms (MakeStageTerms does with p.fsdp; CacheDataParallel always).
void FsdpUnitTerms(const Context& x, const TrainPlan& p, StageTerms& st);
// Fills st.dp for every ZeRO stage: the search's, once per (pp, ep) for the candidates after.
void CacheDataParallel(const Context& x, TrainPlan p, StageTerms& st);

// The plan-dependent part: pipeline, data parallelism, memory, totals, warnings.
void Assemble(const Context& x, const TrainPlan& p, const LayerCosts& lc, TrainEstimate& e, Timing timing);
// One micro-batch on the pacing stage (F + B, or DualPipe's F&B) and its
// weight-gradient part W, as Assemble timed them.
struct PipelineTerms {
  double per_mb = 0, w_mb = 0;
  // The DP reduction, the backward it may hide under, ZeRO-3's gathers left exposed.
  double dp_reduce = 0, dp_window = 0, gathers_exposed = 0;
  // What FsdpFrom needs: the micro-batch on the device without FSDP's
  // collectives, the host's dispatch of it, one layer's forward and backward
  // compute (the backward's with its recompute), the pacing stage's layers
  // and their per-operator framework cost.
  double device_plain = 0, host_mb = 0, compute_f = 0, compute_b = 0, pace_layers = 0, framework_layers = 0;
};
void Assemble(const Context& x, const TrainPlan& p, const LayerCosts& lc, const StageTerms& st, TrainEstimate& e,
              Timing timing, PipelineTerms* pipe = nullptr);
// Throughputs, MFU and time-to-train from e.step_time_s.
void FinishRates(const Context& x, TrainEstimate& e);
// The zero-bubble (ZB-H1) estimate of `p` from its 1F1B one (vp 1, pp > 1):
// the same memory and work, only the bubble differs. The search's shortcut;
// EstimateTraining assembles it whole, and a test holds the two equal.
void ZeroBubbleFrom1F1B(const Context& x, const TrainPlan& p, const PipelineTerms& pipe, TrainEstimate& e);
// The FSDP estimate of `p` (p.fsdp, not DualPipe) from the assembled estimate
// of the same plan without FSDP (`plain`, its pipeline terms; any DP overlap
// and schedule): its memory plus the gathered buffers, its micro-batch plus
// FSDP's exposed collectives in place of the ZeRO-3 reduction and gathers.
// The search's shortcut; a test holds it equal to EstimateTraining. Rates
// are left to FinishRates, as for the two shortcuts below.
void FsdpFrom(const Context& x, const TrainPlan& p, const StageTerms& st, const PipelineTerms& plain, TrainEstimate& e);
// FsdpFrom's memory part alone: e's memory with p's FSDP buffers, and whether it fits.
void FsdpMemory(const TrainPlan& p, const StageTerms& st, TrainEstimate& e);
// A lower bound on the step time of every plan that differs from `p` only in
// its ZeRO stage, optimizer offload, TP and DP overlaps, pipeline schedule
// (DualPipe among them when `dualpipe` is true) and FSDP: the micro-batches
// times the least the pacing stage can take per micro-batch (its layers'
// compute, recompute, framework cost and the collectives no overlap can
// hide; or the host's dispatch). The search skips timing the plans whose
// bound exceeds the k-th best time it holds; a test holds every estimate at
// or above its bound.
double StepLowerBound(const Context& x, const TrainPlan& p, const LayerCosts& lc, const StageTerms& st, bool dualpipe);
// The estimate of `p` from one that differs only in p.overlap_dp (the search's shortcut, as above).
void SetDpOverlap(const Context& x, const TrainPlan& p, const PipelineTerms& pipe, TrainEstimate& e);

// The rules a plan must keep, as cheap tests: CheckTrainingPlan states them
// with messages, the search prunes its candidates by the same tests.
class PlanRules {
 public:
  PlanRules(const ModelArch& m, const TrainRequest& r) : m_(&m), r_(&r), t_(Totals(m)) {}
  PlanRules(const ModelArch& m, const TrainRequest& r, const ModelTotals& t) : m_(&m), r_(&r), t_(t) {}
  [[nodiscard]] const ModelTotals& totals() const { return t_; }
  [[nodiscard]] bool Tp(int tp) const { return tp >= 1 && t_.min_heads % tp == 0; }
  [[nodiscard]] bool Pp(int pp) const { return pp >= 1 && pp <= m_->layers; }
  [[nodiscard]] bool Cp(int cp) const {
    return cp >= 1 && r_->seq_len % cp == 0 && (cp == 1 || r_->flash_attention);
  }
  // Ulysses scatters each tp rank's heads over the cp ranks.
  [[nodiscard]] bool CpComm(int tp, int cp, suanli::CpComm comm) const {
    return comm != suanli::CpComm::kAllToAll || cp == 1 || (tp >= 1 && (t_.min_heads / tp) % cp == 0);
  }
  // The schedule can run on pp stages of vp virtual stages with `mbs`
  // micro-batches: interleaving needs vp > 1; zero-bubble (ZB-H1) and
  // DualPipe need pp > 1 and no virtual stages; DualPipe an even pp and an
  // even number of micro-batches, at least 2 pp (its step() asserts both).
  [[nodiscard]] static bool Schedule(int pp, int vp, int64_t mbs, PipelineSchedule s) {
    switch (s) {
      case PipelineSchedule::k1F1B: return true;
      case PipelineSchedule::kInterleaved: return vp > 1;
      case PipelineSchedule::kZeroBubble: return pp > 1 && vp == 1;
      case PipelineSchedule::kDualPipe: return pp > 1 && vp == 1 && pp % 2 == 0 && mbs % 2 == 0 && mbs >= 2 * int64_t(pp);
    }
    return false;
  }
  [[nodiscard]] bool Vp(int pp, int vp) const {
    return vp == 1 || (vp > 1 && pp > 1 && m_->layers % (int64_t(pp) * vp) == 0);
  }
  // The plan's pipeline layout (train.h) can exist for pp stages of vp
  // virtual stages: Megatron-Core's rules. Given first/last stages leave the
  // middle stages an equal, positive share; counting the embedding and loss
  // as layers makes layers + 1 (+ 1) divide into pp x vp chunks.
  [[nodiscard]] bool Layout(int pp, int vp, const TrainPlan& p) const {
    const int64_t layers = m_->layers;
    const bool given = p.first_stage_layers != 0 || p.last_stage_layers != 0;
    const bool counted = p.embedding_in_split || p.loss_in_split;
    if (vp < 1 || (vp > 1 && pp <= 1) || (given && counted)) return false;
    if (given) {
      const int64_t f = p.first_stage_layers, l = p.last_stage_layers;
      if (pp < 2 || f < 0 || l < 0 || f > layers || l > layers) return false;
      const int64_t middle = pp - (f > 0 ? 1 : 0) - (l > 0 ? 1 : 0), rest = layers - f - l;
      if (rest < 0) return false;
      return middle == 0 ? rest == 0 : rest % middle == 0 && rest / middle >= 1;
    }
    if (counted && pp > 1) {
      const int64_t units = layers + (p.embedding_in_split ? 1 : 0) + (p.loss_in_split ? 1 : 0);
      return units % (int64_t(pp) * vp) == 0 && units / pp >= 2;
    }
    return Vp(pp, vp);
  }
  // Degrees are at most kMaxDegree (CheckTrainingPlan), so the product fits in 64 bits.
  [[nodiscard]] bool Devices(int tp, int pp, int dp, int cp) const {
    return int64_t(tp) * pp * dp * cp == r_->devices;
  }
  [[nodiscard]] bool Batch(int dp) const { return dp >= 1 && r_->global_batch % dp == 0; }
  [[nodiscard]] bool MicroBatch(int dp, int mb) const { return mb >= 1 && Batch(dp) && (r_->global_batch / dp) % mb == 0; }
  [[nodiscard]] bool EpWithModel(int ep) const { return ep == 1 || (t_.moe && ep > 1 && t_.min_experts % ep == 0); }
  // Folding: the experts' etp x ep ranks tile the attention's tp x cp x dp
  // ranks of a stage (edp = their quotient).
  [[nodiscard]] static bool EpFolds(int tp, int cp, int dp, int ep, int etp) {
    const int64_t e = int64_t(etp > 0 ? etp : tp) * ep;
    return e >= 1 && (int64_t(tp) * cp * dp) % e == 0;
  }
  [[nodiscard]] bool TpOverlap(int tp, bool overlap) const { return !overlap || tp > 1; }
  [[nodiscard]] static bool Zero(int zero) { return zero >= 0 && zero <= 3; }

 private:
  const ModelArch* m_;
  const TrainRequest* r_;
  ModelTotals t_;
};

// Activation and weight offload need the host link's bandwidth (the chip's
// host_link or the system's host.link).
// Optimizer offload needs the link and the host's memory bandwidth (system host.memory_bandwidth).
inline Status CheckOffload(const Cluster& c, const TrainPlan& p) {
  if (p.offload_layers > 0 && !(c.host_link.si() > 0)) {
    return Error(Diagnostic{.key_path = "offload_layers",
                            .message = "activation offload needs the host link's bandwidth, which the catalog does not "
                                       "give for this chip or system (chip host_link, system host.link)"});
  }
  if (p.offload_weights && !(c.host_link.si() > 0)) {
    return Error(Diagnostic{.key_path = "offload_weights",
                            .message = "weight offload needs the host link's bandwidth, which the catalog does not give "
                                       "for this chip or system (chip host_link, system host.link)"});
  }
  if (p.offload_optimizer && !(c.host_link.si() > 0 && c.host_memory.si() > 0)) {
    return Error(Diagnostic{.key_path = "offload_optimizer",
                            .message = "optimizer offload needs the host link's bandwidth and the host's memory bandwidth, "
                                       "which the catalog does not give for this chip or system (chip host_link or system "
                                       "host.link, and system host.memory_bandwidth)"});
  }
  return Ok{};
}

// The largest degree of any parallel dimension (and of the micro-batch) a plan may have.
inline constexpr int kMaxDegree = 1 << 24;

inline constexpr std::string_view kTpOverlapNeedsTp =
    "TP overlap needs tp > 1: with tp 1 there are no tensor-parallel collectives to hide";

}  // namespace suanli::train
