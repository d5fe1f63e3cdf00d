// The request field tables, and checking text values against them.
#include "suanli/api/fields.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "catalog/raw_node.h"
#include "suanli/core/text.h"

namespace suanli {
namespace {

using enum FieldType;

constexpr std::array<std::string_view, 6> kPrecisions = {"bf16", "fp16", "fp8", "int8", "int4", "fp4"};
constexpr std::array<std::string_view, 3> kRecompute = {"none", "selective", "full"};
constexpr std::array<std::string_view, 3> kTrainPrecision = {"bf16", "fp16", "fp8"};
constexpr std::array<std::string_view, 2> kDispatchers = {"alltoall", "deepep"};
constexpr std::array<std::string_view, 2> kOptimizerState = {"fp32", "bf16"};
constexpr std::array<std::string_view, 4> kPpSchedules = {"1f1b", "interleaved", "zero-bubble", "dualpipe"};
constexpr std::array<std::string_view, 2> kCpComms = {"ring", "a2a"};
constexpr std::array<std::string_view, 2> kObjective = {"step_time", "memory"};
constexpr std::array<std::string_view, 2> kRanks = {"die", "package"};

constexpr double kTokensMax = 4294967296.0;  // 2^32
constexpr double kDevicesMax = 16777216.0;   // 2^24
constexpr double kDegreeMax = 4096;

// Fields infer and compare share, after --hardware.
#define SUANLI_WORKLOAD_FIELDS                                                                                          \
  {.key = "model", .type = kText, .help = "Model id or alias, catalog model file or Hugging Face config.json",            \
   .required = true},                                                                                                   \
      {.key = "input_tokens", .type = kInteger, .help = "Prompt tokens per request", .required = true, .min = 1,       \
       .max = kTokensMax, .unit = "tokens"},                                                                            \
      {.key = "output_tokens", .type = kInteger, .help = "Generated tokens per request", .required = true, .min = 1,   \
       .max = kTokensMax, .unit = "tokens"},                                                                            \
      {.key = "batch", .type = kCountOrMax,                                                                             \
       .help = "N requests start together, or 'max': the static batch with the most output tokens/s that fits",        \
       .default_text = "1 (when neither --batch nor --concurrency is given)", .min = 1, .max = kTokensMax,              \
       .unit = "requests", .excludes = "concurrency"},                                                                  \
      {.key = "concurrency", .type = kCountOrMax,                                                                       \
       .help = "N requests always in flight (continuous batching), or 'max': all the KV cache holds", .min = 1,        \
       .max = kTokensMax, .unit = "requests", .excludes = "batch"},                                                     \
      {.key = "tp", .type = kInteger, .help = "Tensor parallelism", .default_text = "1", .min = 1, .max = kDegreeMax},  \
      {.key = "pp", .type = kInteger, .help = "Pipeline parallelism", .default_text = "1", .min = 1, .max = kDegreeMax}, \
      {.key = "ep", .type = kInteger, .help = "Expert parallelism, MoE only (attention replicated ep ways)",            \
       .default_text = "1", .min = 1, .max = kDegreeMax},                                                               \
      {.key = "weights", .type = kChoice, .help = "Weight precision", .default_text = "bf16", .choices = kPrecisions},   \
      {.key = "activations", .type = kChoice, .help = "Activation precision (GEMMs compute in it)",                     \
       .default_text = "fp8 with fp8 weights, else bf16", .choices = kPrecisions},                                      \
      {.key = "kv_cache", .type = kChoice, .help = "KV-cache precision", .default_text = "bf16", .choices = kPrecisions}, \
      {.key = "sparsity", .type = kFlag, .help = "2:4 structured-sparse weights (sparse matrix units where the chip has them)"}, \
  {                                                                                                                     \
    .key = "stack", .type = kText, .help = "Serving stack id (catalog/stacks/)",                                        \
    .default_text = "the catalog's default serving stack"                                                              \
  }

constexpr RequestField kInferFields[] = {
    {.key = "hardware", .type = kText, .help = "Chip or system id or alias, or a chip file", .required = true},
    {.key = "rank", .type = kChoice,
     .help = "What one device is: a package, or one die of a multi-die chip (the Ascend 910C's two NPUs), with its share of the package's compute, memory, links, power and price",
     .default_text = "the system's rank (a bare chip: package)", .choices = kRanks},
    SUANLI_WORKLOAD_FIELDS,
    {.key = "release", .type = kText,
     .help = "FRAMEWORK=VERSION: the profile figures measured with that framework or kernel library release "
             "(e.g. flash-attention=3.0.0); no exact release: the nearest older one, else the profile's own, with a note",
     .default_text = "the profile's own figures"},
};

constexpr std::array<std::string_view, 2> kCompareCurrencies = {"usd", "cny"};

constexpr RequestField kCompareFields[] = {
    {.key = "hardware", .type = kList, .help = "Chip or system ids, aliases or chip files, comma-separated",
     .required = true},
    {.key = "rank", .type = kChoice,
     .help = "What one device is in every row: a package, or one die of a multi-die chip (the Ascend 910C's two NPUs); a one-die chip is the same either way",
     .default_text = "each system's rank (a bare chip: package)", .choices = kRanks},
    SUANLI_WORKLOAD_FIELDS,
    {.key = "region", .type = kText, .help = "Facility id (catalog/facilities/) for the cost columns", .default_text = "us-2025"},
    {.key = "currency", .type = kChoice, .help = "Currency of the cost columns in the text output (JSON and CSV add cny_* columns)", .default_text = "usd",
     .choices = kCompareCurrencies},
};
#undef SUANLI_WORKLOAD_FIELDS

constexpr RequestField kTrainFields[] = {
    {.key = "hardware", .type = kText, .help = "Chip or system id or alias, or a chip file (a bare chip gets 8-chip nodes)",
     .required = true},
    {.key = "rank", .type = kChoice,
     .help = "What one device is: a package, or one die of a multi-die chip (the Ascend 910C's two NPUs), with its share of the package's compute, memory, links, power and price",
     .default_text = "the system's rank (a bare chip: package)", .choices = kRanks},
    {.key = "model", .type = kText, .help = "Model id or alias, catalog model file or Hugging Face config.json",
     .required = true},
    {.key = "devices", .type = kInteger, .help = "Number of devices", .required = true, .min = 1, .max = kDevicesMax,
     .unit = "devices"},
    {.key = "tp", .type = kInteger, .help = "Tensor parallelism", .default_text = "1 (searched with --search)", .min = 1,
     .max = kDegreeMax},
    {.key = "pp", .type = kInteger, .help = "Pipeline parallelism", .default_text = "1 (searched with --search)",
     .min = 1, .max = kDegreeMax},
    {.key = "dp", .type = kInteger, .help = "Data parallelism", .default_text = "devices / (tp x pp x cp)", .min = 1,
     .max = kDevicesMax},
    {.key = "cp", .type = kInteger, .help = "Context parallelism", .default_text = "1 (searched with --search)",
     .min = 1, .max = kDegreeMax},
    {.key = "ep", .type = kInteger,
     .help = "Expert parallelism (MoE; folded over the stage's tp x cp x dp ranks: etp x ep must divide them)",
     .default_text = "1 (searched with --search)", .min = 1, .max = kDegreeMax},
    {.key = "etp", .type = kInteger,
     .help = "Expert tensor parallelism (MoE parallel folding: experts split etp ways, attention tp ways)",
     .default_text = "tp", .min = 1, .max = kDegreeMax},
    {.key = "vp", .type = kInteger, .help = "Virtual pipeline stages per stage (interleaved 1F1B)",
     .default_text = "1 (searched with --search)", .min = 1, .max = kDegreeMax},
    {.key = "first_stage_layers", .type = kInteger,
     .help = "Transformer layers on the first pipeline stage (Megatron-Core decoder_first_pipeline_num_layers)",
     .default_text = "an even split", .min = 1, .max = kDegreeMax},
    {.key = "last_stage_layers", .type = kInteger,
     .help = "Transformer layers on the last pipeline stage (Megatron-Core decoder_last_pipeline_num_layers)",
     .default_text = "an even split", .min = 1, .max = kDegreeMax},
    {.key = "embedding_in_split", .type = kFlag,
     .help = "Count the embedding as a layer in the pipeline split (account_for_embedding_in_pipeline_split)"},
    {.key = "loss_in_split", .type = kFlag,
     .help = "Count the LM head and loss as a layer in the pipeline split (account_for_loss_in_pipeline_split)"},
    {.key = "recompute_modules", .type = kText,
     .help = "Selective recompute by module, comma-separated: core_attn, layernorm, moe_act, mlp, moe, shared_experts, "
             "mla_up_proj (Megatron-Core recompute_modules)",
     .default_text = "core_attn with --recompute selective"},
    {.key = "offload_layers", .type = kInteger,
     .help = "Layers per stage whose activations go to host memory over the chip's host link (cpu_offloading_num_layers)",
     .default_text = "0", .min = 0, .max = kDegreeMax},
    {.key = "offload_optimizer", .type = kFlag,
     .help = "Keep the optimizer state in host memory and run the update on the CPU (Megatron-Core optimizer_cpu_offload)"},
    {.key = "offload_weights", .type = kFlag,
     .help = "Keep the parameters in host memory and stream each layer over the host link for its forward and backward, "
             "prefetched under compute (ZeRO-Infinity offload_param)"},
    {.key = "dispatcher", .type = kChoice,
     .help = "MoE token dispatcher: NCCL all-to-all of every (token, expert) copy, or DeepEP/HybridEP (one copy per rank and per node)",
     .default_text = "alltoall", .choices = kDispatchers},
    {.key = "ep_overlap", .type = kFlag,
     .help = "Overlap one micro-batch's expert dispatch and combine with another's compute (1F1B A2A overlap, DualPipe)"},
    {.key = "pp_schedule", .type = kChoice,
     .help = "Pipeline schedule: 1F1B, interleaved 1F1B (with --vp), zero-bubble ZB-H1 (input and weight gradients "
             "apart), DualPipe (two directions, paired chunks hide all-to-all and sends; even pp, 2 pp micro-batches)",
     .default_text = "1f1b, interleaved with --vp > 1 (searched with --search)", .choices = kPpSchedules},
    {.key = "cp_comm", .type = kChoice,
     .help = "Context-parallel exchange: ring attention (K/V passed around) or all-to-all (Ulysses; cp divides heads per tp rank)",
     .default_text = "ring (searched with --search)", .choices = kCpComms},
    {.key = "fp8_activations", .type = kFlag,
     .help = "Cache the linear layers' inputs for backward in FP8 and the MoE SwiGLU input only (DeepSeek-V3; needs --precision fp8)"},
    {.key = "mtp_layers", .type = kInteger,
     .help = "Multi-token-prediction modules trained on the last stage (DeepSeek-V3: 1; shares embedding and LM head)",
     .default_text = "0", .min = 0, .max = 64},
    {.key = "pp_layout", .type = kText,
     .help = "Megatron-Core pipeline layout: E embedding, t layer, L loss, | between virtual stages, (...)*n repeats",
     .default_text = "none"},
    {.key = "seq_len", .type = kInteger, .help = "Sequence length", .required = true, .min = 1, .max = kDevicesMax,
     .unit = "tokens"},
    {.key = "global_batch", .type = kInteger, .help = "Sequences per step", .required = true, .min = 1,
     .max = kTokensMax, .unit = "sequences"},
    {.key = "micro_batch", .type = kInteger, .help = "Sequences per micro-batch", .default_text = "1 (searched with --search)",
     .min = 1, .max = kTokensMax, .unit = "sequences"},
    {.key = "recompute", .type = kChoice, .help = "Activation recompute", .default_text = "none (searched with --search)",
     .choices = kRecompute},
    {.key = "precision", .type = kChoice, .help = "Training precision", .default_text = "bf16", .choices = kTrainPrecision},
    {.key = "optimizer_state", .type = kChoice, .help = "Master weights and Adam moments",
     .default_text = "fp32", .choices = kOptimizerState},
    {.key = "zero", .type = kInteger, .help = "ZeRO stage: 0 DDP, 1 distributed optimizer, 2 + gradients, 3 + parameters",
     .default_text = "1 (searched with --search)", .min = 0, .max = 3},
    {.key = "fsdp", .type = kFlag,
     .help = "FSDP (Megatron-FSDP, PyTorch FSDP2): ZeRO-3 sharding with each layer's parameters gathered ahead of use "
             "and its gradients reduce-scattered under the backward (implies --zero 3)"},
    {.key = "fsdp_no_reshard", .type = kFlag,
     .help = "With --fsdp: keep the gathered parameters from forward to backward (reshard_after_forward off): no second gather, more memory"},
    {.key = "no_sequence_parallel", .type = kFlag, .help = "Do not shard norms and dropout over tp"},
    {.key = "no_overlap", .type = kFlag, .help = "Do not overlap the data-parallel reduction with backward"},
    {.key = "tp_overlap", .type = kFlag, .help = "Overlap tensor-parallel collectives with GEMMs (Megatron-Core userbuffers)"},
    {.key = "no_pp_overlap", .type = kFlag,
     .help = "With --vp > 1: block on each pipeline send and receive (Megatron-LM's --no-overlap-p2p-communication; "
             "by default they run under the compute)"},
    {.key = "no_flash", .type = kFlag, .help = "Materialise attention scores (Megatron before 2022)"},
    {.key = "lora", .type = kFlag, .help = "Fine-tune low-rank adapters: base weights frozen"},
    {.key = "moe_capacity_factor", .type = kNumber,
     .help = "MoE expert capacity over the mean share of routed tokens; tokens beyond it are dropped (Megatron-Core moe_expert_capacity_factor)",
     .default_text = "dropless", .min = 0.01, .max = 64},
    {.key = "moe_pad_to_capacity", .type = kFlag,
     .help = "With --moe-capacity-factor: every expert computes and exchanges its full capacity (moe_pad_expert_input_to_capacity)"},
    {.key = "tokens", .type = kNumber, .help = "Training tokens: adds time-to-train, device-hours and energy",
     .default_text = "none", .min = 0, .max = 1e20, .unit = "tokens"},
    {.key = "stack", .type = kText, .help = "Training stack id (catalog/stacks/)",
     .default_text = "the catalog's default training stack"},
    {.key = "release", .type = kText,
     .help = "FRAMEWORK=VERSION: the profile figures measured with that framework or kernel library release "
             "(e.g. flash-attention=3.0.0); no exact release: the nearest older one, else the profile's own, with a note",
     .default_text = "the profile's own figures"},
    {.key = "search", .type = kFlag, .help = "Search every plan dimension not given; rank the plans that fit"},
    {.key = "top", .type = kInteger, .help = "Plans to keep with --search", .default_text = "5", .min = 1, .max = 10000},
    {.key = "objective", .type = kChoice, .help = "What --search ranks by: step time (tokens/s) or memory per device",
     .default_text = "step_time", .choices = kObjective},
    {.key = "pareto", .type = kFlag, .help = "With --search: also the plans no other beats on both step time and memory"},
};

constexpr RequestField kClassifyFields[] = {
    {.key = "hardware", .type = kText, .help = "Chip or system id or alias, a chip file, or 'all'", .required = true},
    {.key = "rules", .type = kList, .help = "Rule set ids, comma-separated", .default_text = "every rule set"},
    {.key = "headroom_rules", .type = kText, .help = "The rule set whose TPP headroom the table shows",
     .default_text = "the latest in-force rule set"},
};

constexpr std::array<std::string_view, 1> kHoldoutBy = {"group"};
constexpr std::array<std::string_view, 2> kHoldoutMatch = {"document", "repository"};

constexpr RequestField kValidateFields[] = {
    {.key = "file", .type = kText, .help = "Cases file: dev-cases.yaml format, or a vTrain ground-truth CSV",
     .required = true, .positional = true},
    {.key = "holdout_by", .type = kChoice,
     .help = "Also predict each group without the profile and stack figures its own cases informed (same source "
             "document, or checked_against), beside the in-sample error; the JSON lists the figures removed and why "
             "(docs/validation.md)",
     .default_text = "no held-out run", .choices = kHoldoutBy},
    {.key = "holdout_match", .type = kChoice,
     .help = "With --holdout-by: a figure is informed by a group when its source is the same document as a case's, "
             "or (repository) also the same repository, site or paper",
     .default_text = "document", .choices = kHoldoutMatch},
};

constexpr std::array<std::string_view, 2> kPhases = {"prefill", "decode"};
constexpr std::array<std::string_view, 2> kPriorities = {"decode_first", "prefill_first"};
constexpr std::array<std::string_view, 2> kPreemptions = {"recompute", "swap"};

constexpr RequestField kServeFields[] = {
    {.key = "hardware", .type = kText, .help = "Chip or system id or alias, or a chip file", .required = true},
    {.key = "rank", .type = kChoice,
     .help = "What one device is: a package, or one die of a multi-die chip (the Ascend 910C's two NPUs), with its share of the package's compute, memory, links, power and price",
     .default_text = "the system's rank (a bare chip: package)", .choices = kRanks},
    {.key = "model", .type = kText, .help = "Model id or alias, catalog model file or Hugging Face config.json",
     .required = true},
    {.key = "devices", .type = kInteger, .help = "Devices of one instance", .default_text = "tp x pp x dp-attention",
     .min = 1, .max = kDevicesMax, .unit = "devices"},
    {.key = "tp", .type = kInteger, .help = "Tensor parallelism of attention (and of the experts without DP attention)",
     .default_text = "devices / (pp x dp-attention)", .min = 1, .max = kDegreeMax},
    {.key = "pp", .type = kInteger, .help = "Pipeline parallelism", .default_text = "1", .min = 1, .max = kDegreeMax},
    {.key = "ep", .type = kInteger,
     .help = "Expert parallelism, MoE only: with DP attention the experts span every device of a stage (tp x dp-attention)",
     .default_text = "tp x dp-attention", .min = 1, .max = kDegreeMax},
    {.key = "dp_attention", .type = kInteger, .help = "Attention ranks per instance, each with its own batch and KV cache (MoE)",
     .default_text = "1", .min = 1, .max = kDegreeMax},
    {.key = "redundant_experts", .type = kInteger,
     .help = "EPLB: extra expert replicas spread over the DP-attention ranks (ep must divide experts + these)",
     .default_text = "0", .min = 0, .max = kDegreeMax},
    {.key = "replicas", .type = kInteger, .help = "Identical instances behind one load balancer", .default_text = "1",
     .min = 1, .max = 65536},
    {.key = "weights", .type = kChoice, .help = "Weight precision", .default_text = "bf16", .choices = kPrecisions},
    {.key = "activations", .type = kChoice, .help = "Activation precision (GEMMs compute in it; int8 with int8 weights is W8A8)",
     .default_text = "fp8 with fp8 weights, int8 with int8 weights, else bf16", .choices = kPrecisions},
    {.key = "kv_cache", .type = kChoice, .help = "KV-cache precision", .default_text = "bf16", .choices = kPrecisions},
    {.key = "mtp", .type = kInteger, .help = "Draft tokens per decode step (multi-token prediction / speculative decoding)",
     .default_text = "0", .min = 0, .max = 16, .unit = "tokens"},
    {.key = "mtp_acceptance", .type = kList,
     .help = "Acceptance of each draft token given the ones before it: one value for every position, or one per "
             "position, comma-separated (0.88,0.70,0.58); positions past the list take its last value",
     .default_text = "the model's published figure (DeepSeek-V3/R1: 0.875, 0.726, 0.603, ... by position)"},
    {.key = "stack", .type = kText, .help = "Serving stack id (catalog/stacks/: trtllm, vllm, sglang)",
     .default_text = "the catalog's default serving stack"},
    {.key = "release", .type = kText,
     .help = "FRAMEWORK=VERSION: the profile figures measured with that framework or kernel library release "
             "(e.g. flash-attention=3.0.0); no exact release: the nearest older one, else the profile's own, with a note",
     .default_text = "the profile's own figures"},
    {.key = "max_batch", .type = kInteger, .help = "Sequences running at once per attention rank",
     .default_text = "the stack's", .min = 1, .max = kTokensMax, .unit = "sequences"},
    {.key = "max_batch_tokens", .type = kInteger, .help = "Tokens per forward pass per attention rank",
     .default_text = "the stack's", .min = 1, .max = kTokensMax, .unit = "tokens"},
    {.key = "chunked_prefill", .type = kText, .help = "Prefill chunk in tokens, or 'off' (prompts prefilled whole)",
     .default_text = "the stack's"},
    {.key = "priority", .type = kChoice, .help = "Decodes first (prompts fill the rest of the budget) or prefill first",
     .default_text = "the stack's", .choices = kPriorities},
    {.key = "block_size", .type = kInteger, .help = "KV-cache tokens per block", .default_text = "the stack's", .min = 1,
     .max = 1048576, .unit = "tokens"},
    {.key = "prefix_cache_hit", .type = kNumber, .help = "Fraction of each prompt found in the prefix cache",
     .default_text = "0", .min = 0, .max = 0.999},
    {.key = "input_tokens", .type = kText,
     .help = "Prompt tokens: N, or normal:MEAN,SD | lognormal:MEAN,SD | uniform:MIN,MAX | exp:MEAN (optional ,min=A,max=B)"},
    {.key = "output_tokens", .type = kText, .help = "Generated tokens: N or a distribution, as --input-tokens"},
    {.key = "trace", .type = kText, .help = "Trace file (CSV or JSONL: arrival_s, input_tokens, output_tokens[, prefix_id, prefix_tokens])"},
    {.key = "rate", .type = kNumber, .help = "Requests per second (open loop)", .min = 1e-9, .max = 1e9, .unit = "requests/s"},
    {.key = "arrival", .type = kText, .help = "Arrivals at --rate: poisson, or gamma:CV (bursty)", .default_text = "poisson"},
    {.key = "concurrency", .type = kInteger, .help = "Requests kept in flight (closed loop)", .min = 1, .max = kTokensMax,
     .unit = "requests"},
    {.key = "offline", .type = kFlag, .help = "Every request arrives at t = 0"},
    {.key = "requests", .type = kInteger, .help = "Requests to simulate", .default_text = "1000", .min = 1, .max = 1e9},
    {.key = "seed", .type = kInteger, .help = "Random seed of the workload", .default_text = "1", .min = 0, .max = 4294967295.0},
    {.key = "sla_ttft", .type = kNumber, .help = "SLA: time to first token", .default_text = "none", .min = 1e-9, .max = 1e6, .unit = "s"},
    {.key = "sla_tpot", .type = kNumber, .help = "SLA: time per output token", .default_text = "none", .min = 1e-9, .max = 1e6, .unit = "s"},
    {.key = "sla_attainment", .type = kNumber, .help = "Fraction of requests that must meet the SLA (--max-rate)",
     .default_text = "0.9", .min = 1e-6, .max = 1},
    {.key = "max_rate", .type = kFlag, .help = "Find the highest request rate that meets the SLA (bisection)"},
    {.key = "prefill", .type = kText, .help = "PD disaggregation: the prefill pool's plan, e.g. \"devices=8,tp=8\""},
    {.key = "decode", .type = kText, .help = "PD disaggregation: the decode pool's plan, e.g. \"devices=16,dp-attention=16,ep=16\""},
    {.key = "prefill_instances", .type = kInteger, .help = "PD: prefill instances", .default_text = "1", .min = 1, .max = 65536},
    {.key = "decode_instances", .type = kInteger, .help = "PD: decode instances", .default_text = "1", .min = 1, .max = 65536},
    {.key = "pd_search", .type = kFlag,
     .help = "PD with --max-rate: search the prefill:decode instance counts (1 to 8 prefill beside --decode-instances, or without it every ratio of 1 to 4 each) for the most SLA-meeting requests per device"},
    {.key = "two_batch_overlap", .type = kFlag,
     .help = "MoE with EP: run each pass as two micro-batches, one's dispatch/combine under the other's compute (SGLang --enable-two-batch-overlap)"},
    {.key = "preemption", .type = kChoice, .help = "When the KV cache runs out: recompute the preempted sequence, or swap its KV cache to host memory over the host link",
     .default_text = "recompute", .choices = kPreemptions},
    {.key = "phase", .type = kChoice, .help = "One phase in steady state on one instance (no queue)", .choices = kPhases},
    {.key = "batch", .type = kCountOrMax,
     .help = "--phase decode: sequences in the instance, or 'max' (the most that fit, or with --sla-tpot the most that meet it)",
     .min = 1, .max = kTokensMax, .unit = "sequences"},
    {.key = "context_tokens", .type = kInteger, .help = "--phase decode: tokens in each sequence's KV cache", .min = 1,
     .max = kTokensMax, .unit = "tokens"},
    {.key = "batch_tokens", .type = kInteger, .help = "--phase prefill: prompt tokens per forward pass per attention rank",
     .default_text = "the stack's", .min = 1, .max = kTokensMax, .unit = "tokens"},
    {.key = "timeline", .type = kText, .help = "Write one CSV row per iteration to this file"},
};

constexpr std::array<std::string_view, 2> kCurrencies = {"usd", "cny"};

// `cost`: a device-hour's price terms, then (optionally) a serving workload as
// for infer, with --serve a simulated serving run as for serve (its fields
// are serve's own, appended below), or with --devices a training run as for
// train --search.
constexpr RequestField kCostOwnFields[] = {
    {.key = "hardware", .type = kText, .help = "Chip or system id or alias, or a chip file", .required = true},
    {.key = "rank", .type = kChoice,
     .help = "What one device is: a package, or one die of a multi-die chip (the Ascend 910C's two NPUs), priced and run with its share of the package's compute, memory, links, power and price",
     .default_text = "the system's rank (a bare chip: package)", .choices = kRanks},
    {.key = "price_usd", .type = kNumber, .help = "Capex per device, all-in (its server share and network), USD",
     .default_text = "the latest purchase price in catalog/prices/ with the facility's multipliers", .min = 0, .max = 1e10,
     .unit = "USD", .excludes = "price_cny"},
    {.key = "price_cny", .type = kNumber, .help = "Capex per device, all-in, yuan (converted at the dated rate)",
     .min = 0, .max = 1e11, .unit = "CNY", .excludes = "price_usd"},
    {.key = "life_years", .type = kNumber, .help = "Depreciation life", .default_text = "the facility's", .min = 0.01,
     .max = 100, .unit = "years"},
    {.key = "cost_of_capital", .type = kNumber, .help = "Annual cost of capital (0.12 = 12 %)",
     .default_text = "the facility's", .min = 0, .max = 1},
    {.key = "pue", .type = kNumber, .help = "Power usage effectiveness", .default_text = "the facility's", .min = 1,
     .max = 5},
    {.key = "electricity_usd_per_kwh", .type = kNumber, .help = "Electricity price", .default_text = "the facility's",
     .min = 0, .max = 100, .unit = "USD/kWh"},
    {.key = "utilization", .type = kNumber, .help = "Fraction of hours the devices do paid work",
     .default_text = "the facility's (1)", .min = 0.001, .max = 1},
    {.key = "hosting_usd_per_kw_month", .type = kNumber, .help = "Colocation per kW of IT power and month",
     .default_text = "the facility's (0 when not published)", .min = 0, .max = 1e5, .unit = "USD/kW-month"},
    {.key = "maintenance_fraction", .type = kNumber, .help = "Maintenance per year as a fraction of capex",
     .default_text = "the facility's (0)", .min = 0, .max = 1},
    {.key = "power_w", .type = kNumber, .help = "Rated IT power per device (its node's share)",
     .default_text = "node power / chips per node, else TDP x the facility's server power multiplier", .min = 0,
     .max = 1e6, .unit = "W"},
    {.key = "region", .type = kText, .help = "Facility id (catalog/facilities/)", .default_text = "us-2025"},
    {.key = "date", .type = kText, .help = "Use prices and rates dated on or before YYYY-MM-DD", .default_text = "the latest"},
    {.key = "currency", .type = kChoice, .help = "Currency of the text output (JSON adds cny_* keys)",
     .default_text = "usd", .choices = kCurrencies},
    {.key = "model", .type = kText, .help = "With a workload: model id or alias, catalog model file or config.json"},
    {.key = "serve", .type = kFlag,
     .help = "The serving workload is a simulated run (serve's fields: --rate, --concurrency, --offline or --max-rate with an SLA, ...), priced over its wall time"},
    {.key = "input_tokens", .type = kText,
     .help = "Serving: prompt tokens per request (with --serve: N or a distribution, as serve takes it)", .unit = "tokens"},
    {.key = "output_tokens", .type = kText,
     .help = "Serving: generated tokens per request (with --serve: N or a distribution)", .unit = "tokens"},
    {.key = "batch", .type = kCountOrMax, .help = "Serving (infer): static batch, or 'max'", .min = 1, .max = kTokensMax,
     .unit = "requests", .excludes = "concurrency"},
    {.key = "concurrency", .type = kCountOrMax,
     .help = "Serving: requests in flight, or 'max' (with --serve: a closed loop of N requests)",
     .default_text = "max (when neither is given)", .min = 1, .max = kTokensMax, .unit = "requests",
     .excludes = "batch"},
    {.key = "tp", .type = kInteger, .help = "Serving: tensor parallelism", .default_text = "1", .min = 1, .max = kDegreeMax},
    {.key = "pp", .type = kInteger, .help = "Serving: pipeline parallelism", .default_text = "1", .min = 1, .max = kDegreeMax},
    {.key = "ep", .type = kInteger, .help = "Serving: expert parallelism", .default_text = "1", .min = 1, .max = kDegreeMax},
    {.key = "weights", .type = kChoice, .help = "Serving: weight precision", .default_text = "bf16", .choices = kPrecisions},
    {.key = "kv_cache", .type = kChoice, .help = "Serving: KV-cache precision", .default_text = "bf16", .choices = kPrecisions},
    {.key = "stack", .type = kText, .help = "Serving or training stack id", .default_text = "the catalog's default"},
    {.key = "devices", .type = kInteger,
     .help = "Training: devices (the best plan is searched); with --serve: devices of one serving instance", .min = 1,
     .max = kDevicesMax, .unit = "devices"},
    {.key = "seq_len", .type = kInteger, .help = "Training: sequence length", .min = 1, .max = kDevicesMax, .unit = "tokens"},
    {.key = "global_batch", .type = kInteger, .help = "Training: sequences per step", .min = 1, .max = kTokensMax,
     .unit = "sequences"},
    {.key = "tokens", .type = kNumber, .help = "Training: tokens to train on (the run's cost)", .min = 1, .max = 1e20,
     .unit = "tokens"},
};

// serve's fields that cost takes with --serve, beside its own: all but those
// that describe something other than a simulated run.
constexpr bool CostTakesServeField(std::string_view key) {
  for (const RequestField& f : kCostOwnFields) {
    if (f.key == key) return false;  // cost's own (the same meaning, or its infer/training one without --serve)
  }
  return key != "phase" && key != "batch_tokens" && key != "context_tokens" && key != "timeline";
}

constexpr std::size_t CountCostFields() {
  std::size_t n = std::size(kCostOwnFields);
  for (const RequestField& f : kServeFields) n += CostTakesServeField(f.key) ? 1 : 0;
  return n;
}

constexpr std::array<RequestField, CountCostFields()> MakeCostFields() {
  std::array<RequestField, CountCostFields()> out{};
  std::size_t i = 0;
  for (const RequestField& f : kCostOwnFields) out[i++] = f;
  for (const RequestField& f : kServeFields) {
    if (CostTakesServeField(f.key)) out[i++] = f;
  }
  return out;
}

constexpr std::array<RequestField, CountCostFields()> kCostFields = MakeCostFields();

// `fleet`: a scenario file (docs/fleet-model.md).
constexpr RequestField kFleetFields[] = {
    {.key = "scenario_file", .type = kText, .help = "Scenario YAML file (docs/fleet-model.md)", .required = true,
     .positional = true},
    {.key = "shock", .type = kFlag, .help = "Also run the plan against each single-vendor shock: the demand still served"},
    {.key = "robust", .type = kFlag, .help = "Plan for the worst single-vendor shock (every shock's demand met)"},
    {.key = "gap", .type = kNumber,
     .help = "Relative gap at which the full MILP stops: the plan proven within this fraction of the best bound (0: proven optimal)",
     .default_text = "0.0001", .min = 0, .max = 0.5},
    {.key = "time_limit", .type = kNumber,
     .help = "Seconds the plan's MILPs may take together (the forward and period problems, the full MILP; not the capacities' simulations); a plan that stops there is an internal error with the solver's incumbent and bound",
     .default_text = "60", .min = 0.1, .max = 86400, .unit = "s"},
    {.key = "capacity_time_limit", .type = kNumber,
     .help = "Seconds the capacities' serving simulations and training searches may take together; a scenario that needs more is an error saying how many (system, workload) pairs were done",
     .default_text = "600", .min = 0.1, .max = 86400, .unit = "s"},
    {.key = "threads", .type = kInteger,
     .help = "Threads for the capacities' serving simulations (default and most: one per core); the plan does not depend on it",
     .min = 1, .max = 256},
};

constexpr CommandSpec kCommands[] = {
    {.name = "infer", .summary = "Inference: TTFT, TPOT, throughput and memory of one deployment", .fields = kInferFields},
    {.name = "compare", .summary = "One inference workload on several chips or systems, side by side", .fields = kCompareFields},
    {.name = "train", .summary = "Training: step time, MFU, memory per device, time-to-train; --search for the best plans",
     .fields = kTrainFields},
    {.name = "classify", .summary = "Export-control classification: TPP, PD, category, headroom", .fields = kClassifyFields},
    {.name = "validate", .summary = "Predict measured cases and report the error per case, group and overall",
     .fields = kValidateFields},
    {.name = "serve", .summary = "Serving simulation: queues, continuous batching, KV cache, SLA goodput, PD disaggregation",
     .fields = kServeFields},
    {.name = "cost", .summary = "Cost of a device-hour (TCO, every term sourced); with a workload, $/M tokens, J/token or a run's cost",
     .fields = kCostFields},
    {.name = "fleet", .summary = "Plan the fleet that meets demand over periods under budget, power, supply and export rules (MILP)",
     .fields = kFleetFields},
};

std::vector<std::string> KeysOf(const CommandSpec& spec) {
  std::vector<std::string> out;
  for (const auto& f : spec.fields) out.emplace_back(f.key);
  return out;
}

std::string Trim(std::string_view s) { return std::string(TrimBlanks(s)); }

std::string Shown(std::string_view v) {
  std::string s(v.substr(0, 60));
  if (v.size() > 60) s += "...";
  return "'" + s + "'";
}

// The number in `text` (the whole of it), or why not.
std::optional<std::string> CheckNumber(const RequestField& f, std::string_view text) {
  const std::string t = Trim(text);
  if (t.empty()) return "expected a number, found nothing";
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(t.c_str(), &end);
  if (end == t.c_str() || *end != '\0') return "expected a number, found " + Shown(text);
  // strtod reads hexadecimal too ("0x10" is 16); the catalog and scenario
  // files do not, and a flag should not either.
  if (t.find_first_of("xX") != std::string::npos) return "expected a decimal number, found " + Shown(text);
  if (errno == ERANGE || !std::isfinite(v)) return "the number " + Shown(text) + " is out of range";
  if (f.type != kNumber && v != std::floor(v)) return "expected a whole number, found " + Shown(text);
  auto number = [](double x) {
    if (x == std::floor(x) && std::fabs(x) < 1e15) return std::to_string(int64_t(x));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", x);
    return std::string(buf);
  };
  if (v < f.min) return "must be at least " + number(f.min) + ", found " + Shown(text);
  if (f.max > 0 && v > f.max) return "must be at most " + number(f.max) + ", found " + Shown(text);
  return std::nullopt;
}

std::optional<std::string> CheckValue(const RequestField& f, std::string_view value) {
  switch (f.type) {
    case kInteger:
    case kNumber:
      return CheckNumber(f, value);
    case kCountOrMax:
      if (Trim(value) == "max") return std::nullopt;
      if (auto why = CheckNumber(f, value)) return *why + " (or 'max')";
      return std::nullopt;
    case kChoice: {
      const std::string v = Trim(value);
      for (auto c : f.choices) {
        if (c == v) return std::nullopt;
      }
      std::vector<std::string> names(f.choices.begin(), f.choices.end());
      std::string list;
      for (std::size_t i = 0; i < names.size(); ++i) list += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
      return "expected " + list + ", found " + Shown(value) + DidYouMean(v, names);
    }
    case kFlag:
      if (value == "true" || value == "false") return std::nullopt;
      return "expected true or false, found " + Shown(value);
    case kText:
      if (Trim(value).empty()) return "expected a name, found nothing";
      return std::nullopt;
    case kList: {
      std::size_t start = 0;
      if (Trim(value).empty()) return "expected a comma-separated list, found nothing";
      while (start <= value.size()) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        if (Trim(value.substr(start, comma - start)).empty()) return "an empty item in the list " + Shown(value);
        start = comma + 1;
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view FieldTypeName(FieldType t) {
  switch (t) {
    case kInteger: return "integer";
    case kCountOrMax: return "integer or max";
    case kNumber: return "number";
    case kText: return "text";
    case kChoice: return "choice";
    case kFlag: return "flag";
    case kList: return "list";
  }
  return "?";
}

namespace {
// "an integer", "a number", "a list".
std::string WithArticle(std::string_view noun) {
  const bool vowel = !noun.empty() && std::string_view("aeiou").find(noun.front()) != std::string_view::npos;
  return (vowel ? "an " : "a ") + std::string(noun);
}
}  // namespace

const RequestField* CommandSpec::Find(std::string_view key) const {
  for (const auto& f : fields) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

std::span<const CommandSpec> Commands() { return kCommands; }

const CommandSpec* FindCommand(std::string_view name) {
  for (const auto& c : kCommands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const CommandSpec& CommandFor(std::string_view name) {
  const CommandSpec* c = FindCommand(name);
  assert(c != nullptr && "a command the library declares");
  return *c;
}

std::string FlagName(std::string_view key) {
  std::string out = "--";
  for (char c : key) out += c == '_' ? '-' : c;
  return out;
}

void Args::Set(std::string key, std::string value) {
  for (auto& [k, v] : items_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  items_.emplace_back(std::move(key), std::move(value));
}

bool Args::Has(std::string_view key) const { return Get(key).has_value(); }

std::optional<std::string_view> Args::Get(std::string_view key) const {
  for (const auto& [k, v] : items_) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

Status CheckArgs(const CommandSpec& spec, const Args& args) {
  std::vector<Diagnostic> bad;
  for (const auto& [key, value] : args.items()) {
    const RequestField* f = spec.Find(key);
    if (f == nullptr) {
      bad.push_back(Diagnostic{.key_path = key, .message = "not a field of " + std::string(spec.name) + DidYouMean(key, KeysOf(spec))});
      continue;
    }
    if (auto why = CheckValue(*f, value)) bad.push_back(Diagnostic{.key_path = key, .message = *why});
    if (!f->excludes.empty() && args.Has(f->excludes) && key < std::string(f->excludes)) {
      bad.push_back(Diagnostic{.key_path = key, .message = "give " + std::string(key) + " or " +
                                                          std::string(f->excludes) + ", not both"});
    }
  }
  for (const auto& f : spec.fields) {
    if (f.required && !args.Has(f.key)) bad.push_back(Diagnostic{.key_path = std::string(f.key), .message = "is required"});
  }
  if (!bad.empty()) return Error(std::move(bad));
  return Ok{};
}

Result<Args> ArgsFromJson(const CommandSpec& spec, std::string_view json) {
  auto parsed = ParseJson(json, "request");
  if (!parsed) return std::move(parsed).error();
  const RawNode& root = *parsed;
  if (!root.IsMap()) return Error(root.At("", "a request is a JSON object of fields, found " + std::string(root.KindName())));
  Args args;
  std::vector<Diagnostic> bad;
  for (std::size_t i = 0; i < root.keys.size(); ++i) {
    const std::string& key = root.keys[i];
    const RawNode& v = root.items[i];
    const RequestField* f = spec.Find(key);
    if (f == nullptr) {
      bad.push_back(v.At(key, "not a field of " + std::string(spec.name) + DidYouMean(key, KeysOf(spec))));
      continue;
    }
    if (f->type == kList && v.IsSequence()) {
      std::string joined;
      bool ok = true;
      for (const RawNode& item : v.items) {
        if (!item.IsScalar() || item.scalar.find(',') != std::string::npos) {
          bad.push_back(item.At(key, "expected a list of names"));
          ok = false;
          break;
        }
        joined += (joined.empty() ? "" : ",") + item.scalar;
      }
      if (ok) args.Set(key, joined);
      continue;
    }
    if (!v.IsScalar()) {
      bad.push_back(v.At(key, "expected " + WithArticle(FieldTypeName(f->type)) + ", found " + std::string(v.KindName())));
      continue;
    }
    if (f->type == kFlag && v.quoted) {
      bad.push_back(v.At(key, "expected true or false, found the string '" + v.scalar + "'"));
      continue;
    }
    args.Set(key, v.scalar);
  }
  if (!bad.empty()) return Error(std::move(bad));
  return args;
}

std::string FormatError(const Error& error, const CommandSpec& spec, FieldNaming naming) {
  std::string out;
  for (const Diagnostic& d : error.diagnostics) {
    if (!out.empty()) out += '\n';
    if (d.file.empty() && !d.key_path.empty() && spec.Find(d.key_path) != nullptr) {
      out += (naming == FieldNaming::kFlag ? FlagName(d.key_path) : d.key_path) + ": " + d.message;
    } else {
      out += d.ToString();
    }
  }
  return out;
}

}  // namespace suanli
