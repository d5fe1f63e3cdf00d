// Training performance model and parallel-plan search.
//
// One step (one global batch) of a dense or MoE transformer on a cluster of
// chips: forward and backward of every micro-batch on every pipeline stage
// from the same operator costs as inference (GEMMs on the measured
// efficiency-by-size curve, memory-bound element-wise kernels, flash or
// materialised attention), activation recompute, tensor / sequence / context
// / expert / pipeline / data parallelism and their collectives over the
// scale-up and scale-out links, ZeRO stages, the pipeline bubble, and the
// optimizer step. Memory per device follows Korthikanti et al. 2022,
// generalised to GQA, gated MLPs, MoE and flash attention. The formulas are
// in docs/training-model.md.
//
// Usage:
//   auto cluster = MakeCluster(catalog, chip, system);
//   auto est = EstimateTraining(*cluster, model.arch, request);
//   (the plan search is in suanli/search/search.h)
//
// An evaluation allocates nothing; the search evaluates millions per second
// per core and is deterministic.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "suanli/core/names.h"
#include "suanli/cost/moe_dispatch.h"
#include "suanli/hardware/cluster.h"
#include "suanli/model/model.h"

namespace suanli {

enum class Recompute { kNone, kSelective, kFull };
inline constexpr EnumName<Recompute> kRecomputeNames[] = {
    {Recompute::kNone, "none"}, {Recompute::kSelective, "selective"}, {Recompute::kFull, "full"}};
std::string_view RecomputeName(Recompute r);
std::optional<Recompute> ParseRecompute(std::string_view s);

// Megatron-Core's recompute_modules (TransformerConfig): the submodules a
// selective recompute repeats in backward, as bits of
// TrainPlan::recompute_modules. 0 with Recompute::kSelective: core_attn
// alone (Megatron's default). "moe" includes moe_act and shared_experts.
enum RecomputeModule : uint32_t {
  kRecomputeCoreAttn = 1u << 0,
  kRecomputeLayerNorm = 1u << 1,
  kRecomputeMoeAct = 1u << 2,
  kRecomputeMlp = 1u << 3,
  kRecomputeMoe = 1u << 4,
  kRecomputeSharedExperts = 1u << 5,
  kRecomputeMlaUpProj = 1u << 6,
};
inline constexpr int kRecomputeModuleCount = 7;
inline constexpr std::string_view kRecomputeModuleNames[kRecomputeModuleCount] = {
    "core_attn", "layernorm", "moe_act", "mlp", "moe", "shared_experts", "mla_up_proj"};
// Comma- or space-separated module names (Megatron's); nullopt names the first unknown one in `bad`.
std::optional<uint32_t> ParseRecomputeModules(std::string_view list, std::string* bad = nullptr);
std::string RecomputeModulesText(uint32_t modules);  // "core_attn,layernorm"

enum class TrainPrecision { kBf16, kFp16, kFp8 };
inline constexpr EnumName<TrainPrecision> kTrainPrecisionNames[] = {
    {TrainPrecision::kBf16, "bf16"}, {TrainPrecision::kFp16, "fp16"}, {TrainPrecision::kFp8, "fp8"}};
std::string_view TrainPrecisionName(TrainPrecision p);
std::optional<TrainPrecision> ParseTrainPrecision(std::string_view s);

// Precision of the optimizer's state: fp32 master weights and Adam moments
// (12 B per parameter; Megatron's default) or all three in bf16 (6 B; NeMo's
// SFT recipe, Megatron-Core's precision-aware optimizer).
enum class OptimizerState { kFp32, kBf16 };
inline constexpr EnumName<OptimizerState> kOptimizerStateNames[] = {{OptimizerState::kFp32, "fp32"},
                                                                     {OptimizerState::kBf16, "bf16"}};
std::string_view OptimizerStateName(OptimizerState s);
std::optional<OptimizerState> ParseOptimizerState(std::string_view s);

// Pipeline schedule. 1F1B (PipeDream-Flush; Megatron's default), with vp > 1
// interleaved 1F1B (Narayanan et al. 2021); zero-bubble ZB-H1 (Qi et al.
// 2023, arXiv:2401.10241: backward split into input- and weight-gradient
// passes, the weight passes fill the bubble); DualPipe (DeepSeek-V3, arXiv:
// 2412.19437: two directions, a forward and a backward chunk of two
// micro-batches paired so one's all-to-all and pipeline sends hide under
// the other's compute). Bubble and memory: docs/training-model.md.
enum class PipelineSchedule { k1F1B, kInterleaved, kZeroBubble, kDualPipe };
inline constexpr EnumName<PipelineSchedule> kPipelineScheduleNames[] = {{PipelineSchedule::k1F1B, "1f1b"},
                                                                       {PipelineSchedule::kInterleaved, "interleaved"},
                                                                       {PipelineSchedule::kZeroBubble, "zero-bubble"},
                                                                       {PipelineSchedule::kDualPipe, "dualpipe"}};
std::string_view PipelineScheduleName(PipelineSchedule s);
std::optional<PipelineSchedule> ParsePipelineSchedule(std::string_view s);

// How context parallelism exchanges the sequence: ring attention (K and V
// blocks passed around the cp ranks under the attention kernels; Megatron-
// Core's p2p) or all-to-all (DeepSpeed-Ulysses, Jacobs et al. 2023,
// arXiv:2309.14509: heads scattered, sequence gathered before attention and
// back after; cp must divide the heads of each tp rank).
enum class CpComm { kRing, kAllToAll };
inline constexpr EnumName<CpComm> kCpCommNames[] = {{CpComm::kRing, "ring"}, {CpComm::kAllToAll, "a2a"}};

struct TrainPlan {
  int tp = 1;
  int pp = 1;
  int dp = 1;
  int cp = 1;
  int ep = 1;
  int vp = 1;  // virtual stages per pipeline stage (interleaved 1F1B when > 1)
  // MoE parallel folding (Megatron-Core; Liu et al. 2025, arXiv:2504.14960):
  // the attention runs over tp x cp x dp ranks of a stage and the routed
  // experts over etp x ep x edp of the same ranks, etp innermost, then ep.
  // 0: etp = tp (Megatron-Core's default for expert_tensor_parallel_size).
  // edp = tp x cp x dp / (etp x ep) (ExpertDp).
  int etp = 0;
  // Pipeline layout (Megatron-Core). Default: the layers split evenly, the
  // last stage also holding the LM head and loss. Either the first and last
  // stages' transformer layers (decoder_first/last_pipeline_num_layers; 0:
  // as the middle stages, which share the rest evenly), or the embedding
  // and/or the loss counted as one layer each in an even split
  // (account_for_embedding/loss_in_pipeline_split), not both.
  int first_stage_layers = 0;
  int last_stage_layers = 0;
  bool embedding_in_split = false;
  bool loss_in_split = false;
  // How tokens reach their experts (suanli/cost/moe_dispatch.h), and whether
  // one micro-batch's dispatch and combine run under another's compute
  // (Megatron-Core's 1F1B A2A overlap, DualPipe-style schedules). Not
  // searched: what the framework offers, like the precision.
  ExpertDispatcher dispatcher = ExpertDispatcher::kAllToAll;
  bool overlap_ep = false;
  // With Recompute::kSelective: the modules recomputed (RecomputeModule bits; 0: core_attn).
  uint32_t recompute_modules = 0;
  // CPU activation offload (Megatron-Core / NeMo cpu_offloading_num_layers):
  // the kept activations of this many layers of each stage go to host memory
  // after their forward and come back before their backward, over the
  // chip's host link, double-buffered under the compute.
  int offload_layers = 0;
  // Optimizer CPU offload (Megatron-Core optimizer_cpu_offload with
  // optimizer_offload_fraction 1 and overlap_cpu_optimizer_d2h_h2d; the
  // ZeRO-Offload design, Ren et al. 2021): the master weights and Adam
  // moments live in host memory, the gradients go down the host link, the
  // host's CPU runs the update at its memory bandwidth and the 16-bit
  // parameters come back, bucket by bucket so link and CPU overlap.
  bool offload_optimizer = false;
  // Weight CPU offload (DeepSpeed ZeRO-Infinity's offload_param to CPU,
  // Rajbhandari et al. 2021, arXiv:2104.07857; Megatron Bridge / NeMo CPU
  // offloading of inactive weights): the stage's 16-bit parameters (the
  // share the device would hold) live in host memory and stream over the
  // host link layer by layer, before each micro-batch's forward and again
  // before its backward, the next layer's prefetched under the current
  // one's compute; the device keeps two layers' buffers. The updated
  // parameters go back to the host after the optimizer step (with optimizer
  // offload they are updated there). Gradients stay on the device.
  bool offload_weights = false;
  // With 1f1b and vp > 1 the schedule is interleaved 1F1B (EffectiveSchedule).
  PipelineSchedule schedule = PipelineSchedule::k1F1B;
  CpComm cp_comm = CpComm::kRing;
  // FP8 activation caching (DeepSeek-V3 section 3.3.2, with precision fp8):
  // the inputs of the linear layers kept for backward in FP8 (1 B; the
  // output projection's input after attention in E5M6, 1.5 B) and the MoE
  // SwiGLU's input in FP8 with its output recomputed in backward.
  bool fp8_activations = false;
  // Multi-token-prediction modules trained beside the model (DeepSeek-V3's
  // 1; Megatron-Core mtp_num_layers): each one more layer of the model's
  // last layer kind, an RMSNorm pair, a 2h x h projection and a second pass
  // of the shared LM head and loss, on the last pipeline stage.
  int mtp_layers = 0;
  int micro_batch = 1;
  Recompute recompute = Recompute::kNone;
  int zero = 1;                    // 0: DDP; 1: distributed optimizer; 2: + gradients; 3: + parameters
  // FSDP as its own strategy (Megatron-FSDP; PyTorch FSDP2's fully_shard),
  // with zero 3: parameters, gradients and optimizer state sharded over the
  // data-parallel ranks (the experts' over edp), each layer a unit whose
  // parameters are all-gathered before its forward, the next unit's gather
  // prefetched under the current one's compute, and its gradients
  // reduce-scattered under the following units' backward, every
  // micro-batch. With fsdp_reshard (reshard_after_forward, FSDP2's default)
  // a unit frees its gathered parameters after forward and gathers them
  // again for backward; without, the stage's parameters stay gathered from
  // forward to backward (no second gather, the whole stage unsharded in memory).
  bool fsdp = false;
  bool fsdp_reshard = true;
  bool sequence_parallel = false;  // with tp > 1
  bool overlap_dp = true;          // data-parallel reduction overlapped with backward
  bool overlap_tp = false;         // tensor-parallel collectives overlapped with the GEMMs (userbuffers)
  // Interleaved 1F1B: each chunk's pipeline sends and receives posted before
  // the previous chunk's compute and waited on when needed (Megatron-LM's
  // overlap_p2p_comm); false: each one blocks. Plain 1F1B always blocks.
  bool overlap_pp = true;
  TrainPrecision precision = TrainPrecision::kBf16;
  OptimizerState optimizer_state = OptimizerState::kFp32;  // not searched: a numerics choice, like precision
};

// The training framework as the estimator uses it, from a stack record
// (catalog/stacks/, kind training). A default-constructed one is not a stack:
// requests must carry one (MakeTrainingStack).
struct TrainingStack {
  std::string id;
  double expert_imbalance = 0;  // busiest expert-parallel rank's routed tokens over the mean (>= 1)
  bool fused_residual_norm = false;
};
// The stack `id` of the catalog, or its default training stack when `id` is empty.
Result<TrainingStack> MakeTrainingStack(const Catalog& catalog, std::string_view id);

struct TrainRequest {
  int64_t devices = 0;
  int64_t seq_len = 0;
  int64_t global_batch = 0;  // sequences per step
  double tokens = 0;         // training tokens for time-to-train (0 = not asked)
  bool flash_attention = true;  // false: softmax materialised (Megatron before 2022)
  bool lora = false;  // fine-tune low-rank adapters only: base weights frozen (no weight gradients or optimizer state)
  // MoE expert capacity (Megatron-Core moe_expert_capacity_factor): each
  // expert takes at most this many times its mean share of the routed tokens
  // and drops the rest, so the busiest rank carries at most this over the
  // mean; with pad_to_capacity (moe_pad_expert_input_to_capacity) every
  // expert computes and exchanges exactly that many. 0: dropless.
  double moe_capacity_factor = 0;
  bool moe_pad_to_capacity = false;
  TrainPlan plan;
  TrainingStack stack;
};

struct TrainMemory {  // per device, bytes
  double weights = 0;
  double gradients = 0;
  double optimizer = 0;
  double activations = 0;
  // FSDP's unsharded working copies: the gathered parameters of the unit in
  // use and the one prefetched (without reshard-after-forward, the whole
  // stage's), and two units' unsharded gradients before their reduce-scatter.
  double fsdp_buffers = 0;
  double other = 0;
  double total = 0;
  double capacity = 0;
};

struct TrainBreakdown {  // seconds per step on the critical path
  double compute = 0;
  double recompute = 0;
  double tp_comm = 0;
  double dp_comm_exposed = 0;
  double pp_bubble = 0;
  double pp_comm = 0;
  double ep_comm = 0;
  double cp_comm = 0;
  double optimizer = 0;
  double framework = 0;  // per-operator framework cost (dispatch, launch gaps)
  double offload = 0;    // activation and weight offload over the host link left exposed
};

// What bounds a step: the largest of its parts grouped by what would have to
// change to shorten it (faster kernels, faster links, more micro-batches or
// virtual stages, a leaner framework, a faster optimizer step).
enum class TrainBound { kCompute, kCommunication, kPipelineBubble, kFramework, kOptimizer };
struct TrainBoundShare {
  TrainBound bound = TrainBound::kCompute;
  double seconds = 0;  // of the step, in the bounding group
  double share = 0;    // of the step (the parts sum to it)
};
TrainBoundShare BoundOf(const TrainBreakdown& b);
std::string_view TrainBoundName(TrainBound b);

enum class TrainInfeasible { kNone, kWeightsDoNotFit, kActivationsDoNotFit };
std::string_view TrainInfeasibleText(TrainInfeasible r);

enum TrainWarning : uint32_t {
  kTrainWarnAssumedSystem = 1u << 0,     // a bare chip: 8-chip nodes assumed
  kTrainWarnTpCrossesNode = 1u << 1,     // TP spans nodes
  kTrainWarnUnevenStages = 1u << 2,      // layers do not divide evenly over stages
  kTrainWarnFp8Fallback = 1u << 3,       // fp8 asked, the chip has no fp8: bf16 rate
  kTrainWarnNoScaleOut = 1u << 4,        // scale-out bandwidth unknown: 50 GB/s assumed
  kTrainWarnHostBound = 1u << 5,         // the host's operator dispatch sets the pace
};
std::string TrainWarningTexts(uint32_t warnings);  // "; "-separated
std::vector<std::string> TrainWarningList(uint32_t warnings);
std::string_view TrainWarningCode(uint32_t bit);  // "tp_crosses_nodes"; "?" for no one warning

// How model_flops_per_step is counted (printed with it).
inline constexpr std::string_view kModelFlopsFormula =
    "6 (LoRA: 4) x active parameters (without the input embedding) x tokens + 12 x layers x heads x head_dim x "
    "seq_len x tokens (PaLM, appendix B)";

struct TrainEstimate {
  double step_time_s = 0;
  double tokens_per_s = 0;
  double tokens_per_s_per_device = 0;
  double model_flops_per_step = 0;  // 6 (LoRA: 4) x active parameters x tokens + attention (PaLM, appendix B)
  double hardware_flops_per_step = 0;  // what the devices execute, recompute included
  double model_tflops_per_device = 0;
  double mfu = 0;  // model FLOP/s per device / dense peak at the training precision
  TrainMemory memory;
  bool fits = false;
  TrainInfeasible reason = TrainInfeasible::kNone;
  TrainBreakdown breakdown;
  int micro_batches = 0;  // per pipeline, per step
  ProfileTier tier = ProfileTier::kDatasheet;
  uint32_t warnings = 0;
  // With TrainRequest::tokens.
  double time_to_train_s = 0;
  double device_hours = 0;
  double energy_j = 0;  // at board power
};

// Data parallelism implied by the other degrees: devices / (tp x pp x cp),
// or 0 when they do not divide the devices.
int DerivedDp(const TrainRequest& request);

// The plan's schedule as it runs: 1f1b with vp > 1 is interleaved.
inline PipelineSchedule EffectiveSchedule(const TrainPlan& plan) {
  return plan.schedule == PipelineSchedule::k1F1B && plan.vp > 1 ? PipelineSchedule::kInterleaved : plan.schedule;
}

// The experts' tensor parallelism (etp, or tp when the plan leaves it 0) and
// data parallelism (tp x cp x dp / (etp x ep), 0 when that does not divide).
inline int ExpertTp(const TrainPlan& plan) { return plan.etp > 0 ? plan.etp : plan.tp; }
int ExpertDp(const TrainPlan& plan);

// Transformer layers on the first, each middle and the last pipeline stage
// under the plan's layout (summed over its virtual stages).
struct StageLayers {
  int first = 0, middle = 0, last = 0;
};
StageLayers PipelineStageLayers(int layers, const TrainPlan& plan);

// Megatron-Core's pipeline_model_parallel_layout ("Et|(tt|)*30L": E the
// embedding, t a transformer layer, L the loss, | between virtual stages,
// (...)*n and t*n repeat) as the first and last stages' layers of `plan`
// (pp x vp chunks, chunk i on stage i mod pp). Layouts whose middle stages
// differ, with the embedding or loss off the end stages, or with MTP layers
// (m) are refused as not modelled; text after a space is a remark.
Status ApplyPipelineLayout(std::string_view layout, int layers, TrainPlan& plan);
// The most even such layout of `layers` over pp x vp virtual stages with the
// embedding and the loss counted as one layer each (what Megatron-Core's
// recipes write when neither the layers nor the layers + 2 divide: the first
// (layers + 2) mod chunks chunks take one more; DeepSeek-V3's 61 over 32
// gives "Et|(tt|)*30L", written out). Every chunk holds at least one item
// when layers + 2 >= pp x vp; ApplyPipelineLayout may still refuse it.
std::string MostEvenPipelineLayout(int layers, int pp, int vp);

// Checks that the plan can exist: tp x pp x dp x cp = devices, tp divides the
// heads, pp <= layers, micro-batch divides the per-replica batch, ep divides
// the experts and dp, ... Messages name the constraint.
Status CheckTrainingPlan(const ModelArch& model, const TrainRequest& request);
// The request's own fields alone (devices, sequence, batch, tokens, stack).
Status CheckTrainingRequest(const TrainRequest& request);

Result<TrainEstimate> EstimateTraining(const Cluster& cluster, const ModelArch& model, const TrainRequest& request);

}  // namespace suanli
