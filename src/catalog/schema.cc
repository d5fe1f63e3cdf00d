// Field tables for every catalog record type, and the table-driven validator.
#include <algorithm>
#include <cassert>
#include <array>
#include <cmath>
#include <fmt/format.h>

#include "catalog/record.h"
#include "suanli/catalog/catalog.h"
#include "core/quantity_parse.h"

namespace suanli {
namespace {

using namespace dims;
using enum FieldKind;

constexpr std::array<std::string_view, 3> kChipStatus = {"released", "announced", "rumoured"};
constexpr std::array<std::string_view, 2> kDeviceRank = {"package", "die"};
constexpr std::array<std::string_view, 10> kArchClass = {
    "nvidia-ampere", "nvidia-hopper", "nvidia-ada", "nvidia-blackwell", "ascend-davinci",
    "cambricon-mlu", "amd-cdna2",     "amd-cdna3",  "intel-gaudi",      "hygon-dcu"};
constexpr std::array<std::string_view, 4> kRuleStatus = {"in-force", "superseded", "rescinded", "reported"};
constexpr std::array<std::string_view, 2> kRuleScope = {"chips", "hbm"};

// Upper bounds (`at_most`, SI units) are physical ranges, one to three orders
// of magnitude past the largest device published (a wafer-scale engine:
// 46,225 mm2, 4e12 transistors, 21 PB/s of on-chip SRAM bandwidth, 125
// PFLOPS), so that a typo such as '1e30 TFLOPS' is an error and every
// estimate stays finite; docs/input-limits.md lists them.
constexpr FieldSpec kChipFields[] = {
    {.key = "id", .kind = kString, .required = true, .description = "Catalog id (lower-case, part of the CLI contract)"},
    {.key = "name", .kind = kString, .required = true, .description = "Marketing name"},
    {.key = "vendor", .kind = kString, .required = true, .description = "Vendor"},
    {.key = "aliases", .kind = kStringList, .description = "Other names accepted by --hardware"},
    {.key = "extends", .kind = kId, .description = "Base chip this variant overrides; `key: null` removes an inherited figure"},
    {.key = "status", .kind = kEnum, .default_value = "released", .description = "released, announced or rumoured", .choices = kChipStatus},
    {.key = "datacenter", .kind = kBool, .default_value = "true", .description = "Designed or marketed for datacenters (3A090 Note 2)"},
    {.key = "architecture", .kind = kString, .description = "Architecture and die"},
    {.key = "arch_class", .kind = kEnum, .description = "Architecture class; picks the default efficiency profile", .choices = kArchClass},
    {.key = "notes", .kind = kString, .description = "Free text"},
    {.key = "process", .kind = kTextFigure, .description = "Process node"},
    {.key = "launch", .kind = kTextFigure, .description = "Launch or availability date"},
    {.key = "dies", .kind = kFigure, .dim = kNone, .default_value = "1", .description = "Compute dies in the package that frameworks address as NPU ranks of their own (Ascend 910C: 2); a system with rank: die, or --rank die, makes each die one device with 1/dies of the package's compute, memory, links and power (docs/inference-model.md, 'Ranks')", .at_most = 16},
    {.key = "die_area", .kind = kFigure, .dim = kArea, .description = "Applicable logic die area (all logic dies; HBM excluded)", .at_most = 0.1},
    {.key = "transistors", .kind = kFigure, .dim = kNone, .description = "Transistor count", .at_most = 1e14},
    {.key = "host_link", .kind = kFigure, .dim = kBandwidth, .description = "Host (PCIe) link, per direction", .at_most = 1e13},
    {.key = "io_bidirectional", .kind = kFigure, .dim = kBandwidth, .default_value = "2 x (scale_up.bandwidth + host_link)", .description = "Aggregate chip-to-chip I/O, both directions, as export rules count it", .at_most = 1e15},
    {.key = "compute.fp64", .kind = kFigure, .dim = kOpRate, .description = "Dense FP64 (vector) peak", .at_most = 1e19},
    {.key = "compute.fp64_tensor", .kind = kFigure, .dim = kOpRate, .description = "Dense FP64 matrix peak", .at_most = 1e19},
    {.key = "compute.fp32", .kind = kFigure, .dim = kOpRate, .description = "Dense FP32 (vector) peak", .at_most = 1e19},
    {.key = "compute.tf32", .kind = kFigure, .dim = kOpRate, .description = "Dense TF32 matrix peak", .at_most = 1e19},
    {.key = "compute.bf16", .kind = kFigure, .dim = kOpRate, .description = "Dense BF16 matrix peak", .at_most = 1e19},
    {.key = "compute.fp16", .kind = kFigure, .dim = kOpRate, .description = "Dense FP16 matrix peak", .at_most = 1e19},
    {.key = "compute.fp8", .kind = kFigure, .dim = kOpRate, .description = "Dense FP8 matrix peak", .at_most = 1e19},
    {.key = "compute.int8", .kind = kFigure, .dim = kOpRate, .description = "Dense INT8 matrix peak", .at_most = 1e19},
    {.key = "compute.int4", .kind = kFigure, .dim = kOpRate, .description = "Dense INT4 matrix peak", .at_most = 1e19},
    {.key = "compute.fp4", .kind = kFigure, .dim = kOpRate, .description = "Dense FP4 matrix peak", .at_most = 1e19},
    {.key = "compute.sparsity", .kind = kFigure, .dim = kNone, .default_value = "none", .description = "Speed-up of 2:4 structured sparsity over dense (2 when datasheets double)", .at_most = 16},
    {.key = "memory.type", .kind = kTextFigure, .description = "Memory technology (HBM3, GDDR6X, ...)"},
    {.key = "memory.capacity", .kind = kFigure, .dim = kByte, .description = "Device memory capacity", .at_most = 1e15},
    {.key = "memory.bandwidth", .kind = kFigure, .dim = kBandwidth, .description = "Peak device memory bandwidth", .at_most = 1e17},
    {.key = "memory.sram", .kind = kFigure, .dim = kByte, .description = "Last-level on-chip cache or SRAM", .at_most = 1e12},
    {.key = "scale_up.kind", .kind = kTextFigure, .description = "Scale-up link (NVLink 4, HCCS, ...)"},
    {.key = "scale_up.bandwidth", .kind = kFigure, .dim = kBandwidth, .description = "Scale-up bandwidth per chip, per direction", .at_most = 1e15},
    {.key = "scale_up.domain", .kind = kFigure, .dim = kNone, .description = "Chips in one scale-up domain", .at_most = 1e6},
    {.key = "scale_out.bandwidth", .kind = kFigure, .dim = kBandwidth, .description = "Scale-out network bandwidth per chip, per direction", .at_most = 1e15},
    {.key = "power.tdp", .kind = kFigure, .dim = kPower, .description = "Board power (TDP)", .at_most = 1e6},
};

constexpr FieldSpec kNetworkTierFields[] = {
    {.key = "name", .kind = kString, .required = true, .description = "Tier name"},
    {.key = "oversubscription", .kind = kFigure, .dim = kNone, .default_value = "1", .description = "Oversubscription ratio (1 = non-blocking)", .at_most = 1000},
    {.key = "latency", .kind = kFigure, .dim = kSecond, .description = "One-way latency across the tier", .at_most = 1},
    {.key = "span", .kind = kFigure, .dim = kNone, .description = "Nodes the tier spans", .at_most = 1e7},
};

constexpr FieldSpec kSystemFields[] = {
    {.key = "id", .kind = kString, .required = true, .description = "Catalog id"},
    {.key = "name", .kind = kString, .required = true, .description = "Product name"},
    {.key = "vendor", .kind = kString, .required = true, .description = "Vendor"},
    {.key = "aliases", .kind = kStringList, .description = "Other names"},
    {.key = "extends", .kind = kId, .description = "Base system this variant overrides"},
    {.key = "notes", .kind = kString, .description = "Free text"},
    {.key = "chip", .kind = kId, .required = true, .description = "Chip id"},
    {.key = "chips_per_node", .kind = kFigure, .dim = kNone, .required = true, .description = "Accelerators per node", .at_most = 1e6},
    {.key = "scale_up.kind", .kind = kTextFigure, .description = "Scale-up fabric"},
    {.key = "scale_up.domain", .kind = kFigure, .dim = kNone, .default_value = "chips_per_node", .description = "Chips in one scale-up domain", .at_most = 1e6},
    {.key = "scale_up.bandwidth", .kind = kFigure, .dim = kBandwidth, .default_value = "chip's scale_up.bandwidth", .description = "Scale-up bandwidth per chip, per direction", .at_most = 1e15},
    {.key = "scale_up.mesh_links", .kind = kFigure, .dim = kNone, .description = "A switchless full mesh: point-to-point links per chip, one to each peer, that share scale_up.bandwidth; a group of g chips reaches (g - 1) / mesh_links of it (absent: a switch, every group the full bandwidth)", .at_most = 1e6},
    {.key = "scale_out.nics_per_node", .kind = kFigure, .dim = kNone, .description = "Scale-out NICs per node", .at_most = 1e4},
    {.key = "scale_out.bandwidth", .kind = kFigure, .dim = kBandwidth, .default_value = "chip's scale_out.bandwidth", .description = "Scale-out bandwidth per chip, per direction", .at_most = 1e15},
    {.key = "network", .kind = kTable, .description = "Network tiers above the node, innermost first", .table = kNetworkTierFields},
    {.key = "host.op_dispatch", .kind = kFigure, .dim = kSecond, .default_value = "profile's overhead.host_op", .description = "Host time per framework operator of the training stack run on this system; an eager step is never faster than its operators' dispatch", .at_most = 1},
    {.key = "host.link", .kind = kFigure, .dim = kBandwidth, .default_value = "chip's host_link", .description = "Device-to-host-memory bandwidth per chip, per direction, that activation offload moves over (PCIe, NVLink-C2C)", .at_most = 1e13},
    {.key = "host.memory_bandwidth", .kind = kFigure, .dim = kBandwidth, .description = "Host (CPU) memory bandwidth per chip, its share of the node's CPU DRAM bandwidth, that an optimizer step offloaded to the CPU streams its state at", .at_most = 1e13},
    {.key = "node_power", .kind = kFigure, .dim = kPower, .description = "Node power", .at_most = 1e7},
    {.key = "rank", .kind = kEnum, .default_value = "package", .description = "What one device (one rank of a layout) is on this system: the chip package, or one of its dies (chip's dies; chips_per_node, scale_up.domain and the per-chip figures are then per die)", .choices = kDeviceRank},
};

constexpr FieldSpec kModelFields[] = {
    {.key = "id", .kind = kString, .required = true, .description = "Catalog id"},
    {.key = "name", .kind = kString, .required = true, .description = "Model name"},
    {.key = "aliases", .kind = kStringList, .description = "Other names (Hugging Face repo ids)"},
    {.key = "source", .kind = kStringList, .required = true, .description = "Source ids of the config"},
    {.key = "published.total_params", .kind = kFigure, .dim = kNone, .description = "Published total parameter count", .at_most = 1e15},
    {.key = "published.active_params", .kind = kFigure, .dim = kNone, .description = "Published active parameters per token (MoE)", .at_most = 1e15},
    {.key = "published.mtp_acceptance", .kind = kFigure, .dim = kNone, .description = "Serving: the acceptance of each multi-token-prediction (or draft) token given the ones before it, the default of serve --mtp-acceptance: one value for every draft position, or a list by position (a_1, a_2, ...; positions past it take its last value; a range is that of a_1)", .at_most = 1, .max_items = 16},
    {.key = "notes", .kind = kString, .description = "Free text"},
    {.key = "config", .kind = kTree, .required = true, .description = "The Hugging Face config.json, as published"},
};

constexpr FieldSpec kRuleSetFields[] = {
    {.key = "id", .kind = kString, .required = true, .description = "Catalog id"},
    {.key = "name", .kind = kString, .required = true, .description = "Short name"},
    {.key = "citation", .kind = kString, .required = true, .description = "Federal Register citation or document"},
    {.key = "effective", .kind = kString, .required = true, .description = "Effective date (ISO)"},
    {.key = "status", .kind = kEnum, .required = true, .description = "in-force, superseded, rescinded or reported (not published rule text)", .choices = kRuleStatus},
    {.key = "applies_to", .kind = kEnum, .default_value = "chips", .description = "What the rule classifies", .choices = kRuleScope},
    {.key = "sources", .kind = kStringList, .required = true, .description = "Source ids"},
    {.key = "notes", .kind = kString, .description = "Free text"},
    {.key = "categories", .kind = kTree, .required = true, .description = "Ordered categories {id, controlled, when, reason}; the last has no `when`"},
};

constexpr std::array<std::string_view, 3> kProfileTier = {"measured", "calibrated", "datasheet"};

// A release-specific override of a profile (docs/validation.md, "Software
// generations"): the framework or kernel library release its figures were
// measured with, and the figures that differ from the profile's default.
constexpr FieldSpec kProfileReleaseFields[] = {
    {.key = "framework", .kind = kString, .required = true, .description = "Framework or kernel library (flash-attention, sglang, vllm, ...), as --release and cases' software.framework name it"},
    {.key = "version", .kind = kString, .required = true, .description = "The release the figures were measured with (dotted numbers: 2.5.8, 0.4.6)"},
    {.key = "notes", .kind = kString, .description = "Free text"},
    {.key = "gemm.efficiency", .kind = kFigure, .dim = kNone, .description = "As the profile's, in this release", .at_most = 1},
    {.key = "gemm.efficiency_fp8", .kind = kFigure, .dim = kNone, .description = "As the profile's, in this release", .at_most = 1},
    {.key = "attention.efficiency", .kind = kFigure, .dim = kNone, .description = "As the profile's, in this release", .at_most = 1},
    {.key = "attention.decode_memory_efficiency", .kind = kFigure, .dim = kNone, .description = "As the profile's, in this release", .at_most = 1},
    {.key = "attention.decode_compute_efficiency", .kind = kFigure, .dim = kNone, .description = "As the profile's, in this release", .at_most = 1},
    {.key = "memory.efficiency", .kind = kFigure, .dim = kNone, .description = "As the profile's, in this release", .at_most = 1},
    {.key = "collective.allreduce_efficiency", .kind = kFigure, .dim = kNone, .description = "As the profile's, in this release", .at_most = 2},
    {.key = "collective.latency", .kind = kFigure, .dim = kSecond, .description = "As the profile's, in this release", .at_most = 1},
    {.key = "overhead.kernel", .kind = kFigure, .dim = kSecond, .description = "As the profile's, in this release", .at_most = 1},
};

constexpr FieldSpec kProfileFields[] = {
    {.key = "id", .kind = kString, .required = true, .description = "Profile id"},
    {.key = "name", .kind = kString, .required = true, .description = "What the profile describes"},
    {.key = "extends", .kind = kId, .description = "Base profile this one overrides"},
    {.key = "arch_class", .kind = kEnum, .description = "Default profile for every chip of this architecture class", .choices = kArchClass},
    {.key = "chips", .kind = kStringList, .description = "Chip ids this profile was measured on (takes precedence over arch_class)"},
    {.key = "tier", .kind = kEnum, .required = true, .description = "measured (on these chips), calibrated (from a sibling chip) or datasheet (documented default)", .choices = kProfileTier},
    {.key = "notes", .kind = kString, .description = "Free text"},
    {.key = "gemm.efficiency", .kind = kFigure, .dim = kNone, .required = true, .description = "Large 16-bit GEMM: achieved / dense peak", .at_most = 1},
    {.key = "gemm.efficiency_fp8", .kind = kFigure, .dim = kNone, .default_value = "gemm.efficiency", .description = "Large 8-bit GEMM: achieved / dense peak", .at_most = 1},
    {.key = "gemm.sweep", .kind = kTextFigure, .description = "Measured 16-bit GEMMs 'MxNxK=FRACTION, ...' (fraction of dense peak): efficiency by GEMM size, interpolated in log FLOPs"},
    {.key = "gemm.sweep_fp8", .kind = kTextFigure, .description = "Measured 8-bit GEMMs, as gemm.sweep"},
    {.key = "gemm.grouped_tile_m", .kind = kFigure, .dim = kNone, .description = "Grouped (MoE expert) GEMMs: rows of one output tile; each expert's token rows are padded up to whole tiles (the contiguous layout's M alignment)", .at_most = 4096},
    {.key = "gemm.grouped_tile_m_min", .kind = kFigure, .dim = kNone, .description = "Grouped GEMMs: the smallest row tile kernels pick for experts with few tokens (below grouped_tile_m rows an expert pads to the next power of two, at least this)", .at_most = 4096},
    {.key = "gemm.grouped_tile_n", .kind = kFigure, .dim = kNone, .description = "Grouped GEMMs: columns of one output tile; an expert's columns are computed in whole tiles", .at_most = 4096},
    {.key = "gemm.k_overhead", .kind = kFigure, .dim = kNone, .description = "Grouped GEMMs: a tile's fixed cost (prologue, epilogue) in reduction elements of an 8-bit main loop; a GEMM of reduction depth K runs at (K / (K + this)) of the large-K rate (16-bit: scaled by the 16-/8-bit peak ratio)", .positive = false, .at_most = 1e6},
    {.key = "gemm.k_overhead_flops_per_byte", .kind = kFigure, .dim = kNone, .description = "Grouped GEMMs: the dense FP8 FLOP/s per byte/s of memory bandwidth of the chip gemm.k_overhead was measured on; where given, each chip's tile overhead scales by its own ratio over this one (the tile's epilogue writes at memory speed while its main loop runs at the tensor rate)", .positive = true, .at_most = 1e6},
    {.key = "attention.efficiency", .kind = kFigure, .dim = kNone, .required = true, .description = "Prefill (flash) attention: achieved / dense 16-bit peak", .at_most = 1},
    {.key = "memory.efficiency", .kind = kFigure, .dim = kNone, .required = true, .description = "Streaming reads: achieved / datasheet memory bandwidth", .at_most = 1},
    {.key = "attention.decode_memory_efficiency", .kind = kFigure, .dim = kNone, .default_value = "memory.efficiency", .description = "Decode attention reading the paged KV cache: achieved / datasheet bandwidth", .at_most = 1},
    {.key = "attention.decode_compute_efficiency", .kind = kFigure, .dim = kNone, .default_value = "attention.efficiency", .description = "Decode attention when its FLOPs bound it (MLA's absorbed decode, speculative verify): achieved / 16-bit peak", .at_most = 1},
    {.key = "memory.reserved", .kind = kFigure, .dim = kByte, .required = true, .description = "Runtime memory not available to weights and KV cache (context, workspaces, collective buffers)", .at_most = 1e15},
    {.key = "memory.reserved_fraction", .kind = kFigure, .dim = kNone, .required = true, .description = "Fraction of capacity the serving runtime leaves free", .at_most = 1},
    {.key = "collective.allreduce_efficiency", .kind = kFigure, .dim = kNone, .required = true, .description = "All-reduce bus bandwidth (large messages) / scale-up bandwidth per direction; above 1 with in-switch reduction (NVLS)", .at_most = 2},
    {.key = "collective.allreduce_by_ranks", .kind = kTextFigure, .description = "All-reduce bus bandwidth (large messages) by group size inside one scale-up domain: 'RANKS=FRACTION, ...' of the scale-up bandwidth per direction (e.g. '2=0.817, 4=0.817, 8=1.064'), interpolated in log2(ranks), the end points beyond the ends; where given it replaces allreduce_efficiency for every collective inside a domain (NVLS's bus bandwidth grows with the group). A profile that extends one and sets its own allreduce_efficiency without a curve does not inherit its base's curve"},
    {.key = "collective.allgather_efficiency", .kind = kFigure, .dim = kNone, .description = "All-gather and reduce-scatter bus bandwidth (large messages) / scale-up bandwidth per direction, at every group size; default: the all-reduce's (allreduce_by_ranks, else allreduce_efficiency). Give it where in-switch reduction (NVLS) speeds the all-reduce only", .at_most = 2},
    {.key = "collective.alltoall_efficiency", .kind = kFigure, .dim = kNone, .description = "All-to-all bus bandwidth (large messages) / the scale-up bandwidth the group's links carry (all of it through a switch; on a full mesh the links to the group's peers); default: the all-reduce's, at most 1", .at_most = 1},
    {.key = "collective.latency", .kind = kFigure, .dim = kSecond, .required = true, .description = "Fixed cost of one collective (small-message plateau)", .at_most = 1},
    {.key = "collective.scale_out_efficiency", .kind = kFigure, .dim = kNone, .required = true, .description = "Achieved / line rate of the scale-out network", .at_most = 1},
    {.key = "collective.overlap_slowdown", .kind = kFigure, .dim = kNone, .required = true, .description = "How much longer compute takes while a collective runs beside it (SMs and memory bandwidth shared): 0.19 = 19% slower, 0 = none; prices every overlap a training plan takes", .positive = false, .at_most = 1},
    {.key = "expert_dispatch.normal_intranode", .kind = kTextFigure, .description = "Measured EP dispatch/combine, normal (high-throughput) kernels inside one scale-up domain: 'EP=DISPATCH/COMBINE' GB/s per GPU (bottleneck bandwidth), e.g. DeepEP's '8=153/158'"},
    {.key = "expert_dispatch.normal_internode", .kind = kTextFigure, .description = "As normal_intranode with EP across domains: the RDMA bottleneck bandwidth by EP size"},
    {.key = "expert_dispatch.low_latency", .kind = kTextFigure, .description = "Measured low-latency (decode) kernels: 'EP=DISPATCH/COMBINE' GB/s per GPU, every token-expert pair counted"},
    {.key = "expert_dispatch.scale_up", .kind = kFigure, .dim = kBandwidth, .description = "Scale-up bandwidth per GPU per direction of the system the expert_dispatch curves were measured on (other links scale them)", .at_most = 1e13},
    {.key = "expert_dispatch.scale_out", .kind = kFigure, .dim = kBandwidth, .description = "Scale-out line rate per GPU of the system the expert_dispatch curves were measured on", .at_most = 1e13},
    {.key = "expert_dispatch.rank", .kind = kEnum, .default_value = "package", .description = "What the expert_dispatch curves count as one rank: the package, or one die of a multi-die chip (EP in dies, GB/s and links per die); the curves are converted when the device is the other one", .choices = kDeviceRank},
    {.key = "overhead.kernel", .kind = kFigure, .dim = kSecond, .required = true, .description = "Fixed cost per kernel beyond its roofline time (launch, ramp, tail)", .at_most = 1},
    {.key = "overhead.step", .kind = kFigure, .dim = kSecond, .required = true, .description = "Fixed cost per forward pass (scheduling, sampling, host)", .at_most = 10},
    {.key = "overhead.host_op", .kind = kFigure, .dim = kSecond, .required = true, .description = "Per-operator cost of eager training frameworks that does not overlap the kernels (dispatch, autograd bookkeeping, launch gap)", .at_most = 1},
    {.key = "releases", .kind = kTable, .description = "Release-specific figures: each row names a framework or kernel library release and the figures it measured; --release FRAMEWORK=VERSION (or a validation case's software) picks the exact release, else the nearest older one, else the profile's own figures with a warning", .table = kProfileReleaseFields},
};

constexpr std::array<std::string_view, 2> kStackKind = {"serving", "training"};
constexpr std::array<std::string_view, 2> kNormFusion = {"fused_residual", "unfused"};

constexpr FieldSpec kStackFields[] = {
    {.key = "id", .kind = kString, .required = true, .description = "Stack id (--stack)"},
    {.key = "name", .kind = kString, .required = true, .description = "The framework and the release its figures describe"},
    {.key = "kind", .kind = kEnum, .required = true, .description = "serving or training", .choices = kStackKind},
    {.key = "default", .kind = kBool, .default_value = "false", .description = "The stack used when none is named (one per kind)"},
    {.key = "sources", .kind = kStringList, .required = true, .description = "Source ids"},
    {.key = "notes", .kind = kString, .description = "Free text"},
    {.key = "kernels.norms", .kind = kEnum, .required = true, .description = "fused_residual: the residual add fused into the next norm (2 kernels a layer); unfused: norms and residual adds apart (4)", .choices = kNormFusion},
    {.key = "scheduler.max_num_tokens", .kind = kFigure, .dim = kNone, .description = "Serving: tokens per forward pass (longer prefills are chunked to it)", .at_most = 1e7},
    {.key = "scheduler.max_num_seqs", .kind = kFigure, .dim = kNone, .description = "Serving: sequences running at once per engine (attention rank)", .at_most = 1e7},
    {.key = "scheduler.block_size", .kind = kFigure, .dim = kNone, .description = "Serving: tokens per KV-cache block (page)", .at_most = 1e6},
    {.key = "scheduler.chunk_size", .kind = kFigure, .dim = kNone, .description = "Serving: prefill chunk in tokens (absent: prompts are prefilled whole)", .at_most = 1e7},
    {.key = "scheduler.prefill_first", .kind = kFigure, .dim = kNone, .description = "Serving: 1 = waiting prompts are prefilled in iterations of their own before decoding resumes (absent: decodes first, prompts fill the rest of the token budget)", .at_most = 1},
    {.key = "moe.expert_imbalance", .kind = kFigure, .dim = kNone, .required = true, .description = "Routed tokens on the busiest expert-parallel rank over the mean (1 = perfectly balanced); applies when experts are split over ranks", .at_most = 64},
    {.key = "moe.deepep", .kind = kFigure, .dim = kNone, .description = "Serving: 1 = EP dispatch and combine run DeepEP's kernels (priced on the chip profile's expert_dispatch curves), 0 or absent = the framework's own exchange (the link model)", .positive = false, .at_most = 1},
    {.key = "moe.expert_imbalance_eplb", .kind = kFigure, .dim = kNone, .description = "Serving: as moe.expert_imbalance with redundant experts placed by EPLB (serve --redundant-experts); absent: moe.expert_imbalance", .at_most = 64},
};

constexpr FieldSpec kSourceFields[] = {
    {.key = "title", .kind = kString, .required = true, .description = "Title of the document"},
    {.key = "locator", .kind = kString, .required = true, .description = "URL, DOI or citation"},
    {.key = "kind", .kind = kString, .description = "datasheet, paper, press, regulation, ..."},
    {.key = "date", .kind = kString, .description = "Publication date"},
};

// Market facts (docs/cost-model.md): prices, facilities and exchange rates,
// each dated and sourced, apart from the specs they price.
constexpr Dim kUsdPerEnergy = kUsd / kJoule;  // USD/kWh and USD per kW-month are both money per energy
constexpr Dim kCnyPerEnergy = kCny / kJoule;
constexpr std::array<std::string_view, 5> kPriceKind = {"list", "street", "analyst_asp", "rental_hour", "lease_month"};

constexpr FieldSpec kPriceFields[] = {
    {.key = "id", .kind = kString, .required = true, .description = "Price record id"},
    {.key = "subject", .kind = kId, .required = true, .description = "The chip (price per chip) or system (price per node) priced"},
    {.key = "kind", .kind = kEnum, .required = true, .description = "list, street, analyst_asp (per unit bought), rental_hour (per unit-hour), lease_month (per unit-month)", .choices = kPriceKind},
    {.key = "region", .kind = kString, .required = true, .description = "Where the price holds (us, china, global)"},
    {.key = "date", .kind = kString, .required = true, .description = "Date of the quote (ISO, YYYY-MM-DD)"},
    {.key = "usd", .kind = kFigure, .dim = kUsd, .description = "The price in US dollars (give usd or cny)", .at_most = 1e10},
    {.key = "cny", .kind = kFigure, .dim = kCny, .description = "The price in yuan (give usd or cny)", .at_most = 1e11},
    {.key = "notes", .kind = kString, .description = "Free text"},
};

constexpr FieldSpec kFacilityFields[] = {
    {.key = "id", .kind = kString, .required = true, .description = "Facility record id (--region)"},
    {.key = "name", .kind = kString, .required = true, .description = "The region and buyer it describes"},
    {.key = "region", .kind = kString, .required = true, .description = "Region (us, china, a province)"},
    {.key = "date", .kind = kString, .required = true, .description = "Date the figures describe (ISO)"},
    {.key = "electricity.usd", .kind = kFigure, .dim = kUsdPerEnergy, .description = "Electricity price, USD/kWh (give usd or cny)", .at_most = 1e-5},
    {.key = "electricity.cny", .kind = kFigure, .dim = kCnyPerEnergy, .description = "Electricity price, CNY/kWh", .at_most = 1e-4},
    {.key = "hosting.usd", .kind = kFigure, .dim = kUsdPerEnergy, .description = "Colocation per kW of IT load and month, USD/kW-month (money per energy)", .positive = false, .at_most = 1e-4},
    {.key = "hosting.cny", .kind = kFigure, .dim = kCnyPerEnergy, .description = "Colocation, CNY/kW-month", .positive = false, .at_most = 1e-3},
    {.key = "pue", .kind = kFigure, .dim = kNone, .required = true, .description = "Power usage effectiveness: facility power / IT power", .at_most = 5},
    {.key = "cost_of_capital", .kind = kFigure, .dim = kNone, .required = true, .description = "Annual cost of capital (0.12 = 12 %) the capex annuity uses", .positive = false, .at_most = 1},
    {.key = "life", .kind = kFigure, .dim = kSecond, .required = true, .description = "Depreciation (economic) life of the hardware", .at_most = 1e9},
    {.key = "maintenance_fraction", .kind = kFigure, .dim = kNone, .default_value = "0", .description = "Maintenance and support per year as a fraction of capex", .positive = false, .at_most = 1},
    {.key = "utilization", .kind = kFigure, .dim = kNone, .default_value = "1", .description = "Fraction of hours the devices do paid work (capex is spread over these hours)", .at_most = 1},
    {.key = "server_cost_multiplier", .kind = kFigure, .dim = kNone, .default_value = "1", .description = "Server cost over its accelerators' cost, used where only a chip price is known", .at_most = 10},
    {.key = "network_share", .kind = kFigure, .dim = kNone, .default_value = "0", .description = "Cluster interconnect's share of cluster capex (capex / (1 - share))", .positive = false, .at_most = 0.9},
    {.key = "server_power_multiplier", .kind = kFigure, .dim = kNone, .default_value = "1", .description = "Node power over its accelerators' board power, where no node power is known", .at_most = 10},
    {.key = "power_draw_fraction", .kind = kFigure, .dim = kNone, .default_value = "1", .description = "Average draw over the power rating while working", .at_most = 1},
    {.key = "notes", .kind = kString, .description = "Free text"},
};

constexpr FieldSpec kFxFields[] = {
    {.key = "id", .kind = kString, .required = true, .description = "Exchange-rate record id"},
    {.key = "date", .kind = kString, .required = true, .description = "Date of the rate (ISO); a conversion uses the latest rate on or before the price's date"},
    {.key = "cny_per_usd", .kind = kFigure, .dim = kNone, .required = true, .description = "Yuan per US dollar", .at_most = 1000},
    {.key = "notes", .kind = kString, .description = "Free text"},
};

constexpr std::array<std::string_view, 6> kFigureKeys = {"value", "basis", "source", "range", "note", "checked_against"};

std::optional<Basis> ParseBasis(std::string_view s) {
  if (s == "datasheet") return Basis::kDatasheet;
  if (s == "measured") return Basis::kMeasured;
  if (s == "estimated") return Basis::kEstimated;
  if (s == "rumoured") return Basis::kRumoured;
  return std::nullopt;
}

std::string Join(std::span<const std::string_view> items) {
  std::string out;
  for (auto s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}


bool ParseNumberWithUnit(const RawNode& node, Dim want, const std::string& path, double& out,
                         std::vector<Diagnostic>& diags) {
  if (!node.IsScalar()) {
    diags.push_back(node.At(path, "expected a number with a unit like '" + std::string(DimExample(want)) +
                                      "', found " + std::string(node.KindName())));
    return false;
  }
  QuantityParse q = ParseQuantity(node.scalar);
  if (!q.ok) {
    diags.push_back(node.At(path, q.message + "; expected " + DimName(want) + " like '" +
                                      std::string(DimExample(want)) + "'"));
    return false;
  }
  if (!(q.quantity.dim == want)) {
    std::string msg = "'" + node.scalar + "' is " + DimName(q.quantity.dim) + " but this field is " + DimName(want);
    if (want == kNone) {
      msg += " (write a plain number)";
    } else {
      msg += " (e.g. '" + std::string(DimExample(want)) + "')";
    }
    diags.push_back(node.At(path, msg));
    return false;
  }
  out = q.quantity.si;
  return true;
}

// A field's upper bound in the unit the CLI prints it in: "10,000,000 TFLOPS".
std::string FormatBound(const FieldSpec& spec) {
  const DisplayUnit unit = DisplayUnitFor(spec.dim);
  const double v = spec.at_most / unit.divisor;
  std::string text = fmt::format("{:.15g}", v);
  if (v == std::floor(v) && v < 1e15) {
    const std::string digits = fmt::format("{:.0f}", v);
    text.clear();
    for (std::size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
      text += digits[i];
    }
  }
  return unit.name.empty() ? text : text + " " + std::string(unit.name);
}

void CheckString(const RawNode& node, const std::string& path, std::string& out, std::vector<Diagnostic>& diags) {
  if (!node.IsScalar()) {
    diags.push_back(node.At(path, "expected text, found " + std::string(node.KindName())));
    return;
  }
  out = node.scalar;
}

}  // namespace

bool ParseFigure(const RawNode& node, const FieldSpec& spec, const std::string& path, Figure& out,
                 std::vector<Diagnostic>& diags) {
  const std::size_t before = diags.size();
  if (!node.IsMap()) {
    diags.push_back(node.At(path, "a figure is a map {value, basis, source[, range][, note]}, found " +
                                      std::string(node.KindName()) +
                                      (node.IsScalar() ? " '" + node.scalar + "'" : std::string())));
    return false;
  }
  out.file = node.file ? *node.file : "";
  out.line = node.line;
  out.dim = spec.dim;
  out.is_text = spec.kind == FieldKind::kTextFigure;
  for (std::size_t i = 0; i < node.keys.size(); ++i) {
    const std::string& k = node.keys[i];
    if (std::find(kFigureKeys.begin(), kFigureKeys.end(), k) == kFigureKeys.end()) {
      std::vector<std::string> cands(kFigureKeys.begin(), kFigureKeys.end());
      diags.push_back(node.items[i].At(path + "." + k, "unknown key '" + k + "' in a figure" + DidYouMean(k, cands)));
    }
  }
  const RawNode* value = node.Find("value");
  if (value == nullptr || value->IsNull()) {
    diags.push_back(node.At(path, "missing required field 'value'"));
  } else if (out.is_text) {
    CheckString(*value, path + ".value", out.text, diags);
  } else {
    // One number, or (a list figure) a list of them, each checked alike.
    const bool list = value->IsSequence();
    if (list && spec.max_items == 0) {
      diags.push_back(value->At(path + ".value", "expected one number, found a list"));
    } else if (list && (value->items.empty() || int(value->items.size()) > spec.max_items)) {
      diags.push_back(value->At(path + ".value", "expected 1 to " + std::to_string(spec.max_items) + " numbers, found " +
                                                     std::to_string(value->items.size())));
    } else {
      const std::size_t n = list ? value->items.size() : 1;
      for (std::size_t i = 0; i < n; ++i) {
        const RawNode& item = list ? value->items[i] : *value;
        const std::string at = path + ".value" + (list ? "[" + std::to_string(i) + "]" : std::string());
        double v = 0;
        if (!ParseNumberWithUnit(item, spec.dim, at, v, diags)) continue;
        if (spec.positive && !(v > 0)) {
          diags.push_back(item.At(at, "must be positive, found '" + item.scalar + "'"));
        } else if (!spec.positive && !(v >= 0)) {
          diags.push_back(item.At(at, "must not be negative, found '" + item.scalar + "'"));
        } else if (spec.at_most > 0 && v > spec.at_most) {
          diags.push_back(item.At(at, "must be at most " + FormatBound(spec) + ", found '" + item.scalar + "'"));
        }
        if (i == 0) out.value = v;
        if (list) out.values.push_back(v);
      }
    }
  }
  const RawNode* basis = node.Find("basis");
  if (basis == nullptr || basis->IsNull()) {
    diags.push_back(node.At(path, "missing required field 'basis' (datasheet, measured, estimated or rumoured)"));
  } else if (auto b = basis->IsScalar() ? ParseBasis(basis->scalar) : std::nullopt) {
    out.basis = *b;
  } else {
    diags.push_back(basis->At(path + ".basis", "basis must be datasheet, measured, estimated or rumoured, found '" +
                                                   basis->scalar + "'" +
                                                   DidYouMean(basis->scalar, {"datasheet", "measured", "estimated", "rumoured"})));
  }
  const RawNode* source = node.Find("source");
  if (source == nullptr || source->IsNull()) {
    diags.push_back(node.At(path, "missing required field 'source' (ids from catalog/sources/)"));
  } else if (source->IsScalar()) {
    out.sources.push_back(source->scalar);
  } else if (source->IsSequence() && !source->items.empty()) {
    for (std::size_t i = 0; i < source->items.size(); ++i) {
      std::string s;
      CheckString(source->items[i], path + ".source[" + std::to_string(i) + "]", s, diags);
      if (!s.empty()) out.sources.push_back(s);
    }
  } else {
    diags.push_back(source->At(path + ".source", "expected a source id or a non-empty list of them"));
  }
  if (const RawNode* range = node.Find("range"); range != nullptr && !range->IsNull()) {
    if (out.is_text || !range->IsSequence() || range->items.size() != 2) {
      diags.push_back(range->At(path + ".range", "expected [low, high] with units"));
    } else {
      double lo = 0, hi = 0;
      const bool ok_lo = ParseNumberWithUnit(range->items[0], spec.dim, path + ".range[0]", lo, diags);
      const bool ok_hi = ParseNumberWithUnit(range->items[1], spec.dim, path + ".range[1]", hi, diags);
      if (ok_lo && ok_hi) {
        if (lo > hi) {
          diags.push_back(range->At(path + ".range", "low end is above high end"));
        } else if (diags.size() == before && (out.value < lo * (1 - 1e-9) || out.value > hi * (1 + 1e-9))) {
          diags.push_back(range->At(path + ".range", "value lies outside its own range"));
        }
        out.range = std::make_pair(lo, hi);
      }
    }
  }
  if (const RawNode* note = node.Find("note"); note != nullptr && !note->IsNull()) {
    CheckString(*note, path + ".note", out.note, diags);
  }
  // Validation groups the figure was checked against (docs/validation.md): a
  // list of at most 32 group names of at most 80 characters.
  if (const RawNode* checked = node.Find("checked_against"); checked != nullptr && !checked->IsNull()) {
    if (!checked->IsSequence() || checked->items.empty() || checked->items.size() > 32) {
      diags.push_back(checked->At(path + ".checked_against", "expected a list of 1 to 32 validation group names"));
    } else {
      for (std::size_t i = 0; i < checked->items.size(); ++i) {
        std::string g;
        const std::string at = path + ".checked_against[" + std::to_string(i) + "]";
        const std::size_t had = diags.size();
        CheckString(checked->items[i], at, g, diags);
        if (diags.size() != had) continue;
        if (g.empty() || g.size() > 80) {
          diags.push_back(checked->items[i].At(at, "a group name of 1 to 80 characters"));
        } else {
          out.checked_against.push_back(g);
        }
      }
    }
  }
  return diags.size() == before;
}

std::string Record::String(std::string_view key, std::string_view fallback) const {
  auto it = strings.find(key);
  return it == strings.end() ? std::string(fallback) : it->second;
}

void ValidateRecord(const RawNode& node, std::span<const FieldSpec> schema, const std::string& prefix,
                    Record& out, std::vector<Diagnostic>& diags) {
  auto full = [&](std::string_view key) { return prefix.empty() ? std::string(key) : prefix + "." + std::string(key); };
  if (!node.IsMap()) {
    diags.push_back(node.At(prefix, "expected a map of fields, found " + std::string(node.KindName())));
    return;
  }
  // Walk the tree: every key must be a field or a group leading to one.
  struct Walker {
    std::span<const FieldSpec> schema;
    Record& out;
    std::vector<Diagnostic>& diags;
    const std::string& prefix;

    const FieldSpec* FieldAt(std::string_view key) const {
      for (const auto& f : schema) {
        if (f.key == key) return &f;
      }
      return nullptr;
    }
    bool IsGroup(std::string_view key) const {
      for (const auto& f : schema) {
        if (f.key.size() > key.size() && f.key.substr(0, key.size()) == key && f.key[key.size()] == '.') return true;
      }
      return false;
    }
    std::vector<std::string> ChildNames(std::string_view group) const {
      std::vector<std::string> names;
      for (const auto& f : schema) {
        std::string_view k = f.key;
        if (!group.empty()) {
          if (k.size() <= group.size() || k.substr(0, group.size()) != group || k[group.size()] != '.') continue;
          k.remove_prefix(group.size() + 1);
        }
        names.emplace_back(k.substr(0, k.find('.')));
      }
      return names;
    }
    std::string Path(const std::string& key) const { return prefix.empty() ? key : prefix + "." + key; }

    void Walk(const RawNode& map, const std::string& group) {
      for (std::size_t i = 0; i < map.keys.size(); ++i) {
        const std::string key = group.empty() ? map.keys[i] : group + "." + map.keys[i];
        const RawNode& value = map.items[i];
        if (const FieldSpec* f = FieldAt(key)) {
          if (!value.IsNull()) Field(*f, key, value);
        } else if (IsGroup(key)) {
          if (value.IsMap()) {
            Walk(value, key);
          } else if (!value.IsNull()) {
            diags.push_back(value.At(Path(key), "expected a map of fields, found " + std::string(value.KindName())));
          }
        } else {
          diags.push_back(value.At(Path(key), "unknown key '" + map.keys[i] + "'" +
                                                  DidYouMean(map.keys[i], ChildNames(group))));
        }
      }
    }

    void Field(const FieldSpec& f, const std::string& key, const RawNode& value) {
      const std::string path = Path(key);
      out.nodes[key] = &value;
      switch (f.kind) {
        case FieldKind::kString:
        case FieldKind::kId: {
          std::string s;
          CheckString(value, path, s, diags);
          if (f.kind == FieldKind::kId || f.key == "id") {
            if (s.empty() && value.IsScalar()) diags.push_back(value.At(path, "must not be empty"));
          }
          out.strings[key] = s;
          break;
        }
        case FieldKind::kEnum: {
          std::string s;
          CheckString(value, path, s, diags);
          if (value.IsScalar() && std::find(f.choices.begin(), f.choices.end(), s) == f.choices.end()) {
            std::vector<std::string> cands(f.choices.begin(), f.choices.end());
            diags.push_back(value.At(path, "'" + s + "' is not one of: " + Join(f.choices) + DidYouMean(s, cands)));
          }
          out.strings[key] = s;
          break;
        }
        case FieldKind::kBool: {
          auto b = ScalarToBool(value, path);
          if (b) {
            out.bools[key] = *b;
          } else {
            diags.insert(diags.end(), b.error().diagnostics.begin(), b.error().diagnostics.end());
          }
          break;
        }
        case FieldKind::kStringList: {
          std::vector<std::string> items;
          if (value.IsScalar()) {
            items.push_back(value.scalar);
          } else if (value.IsSequence()) {
            for (std::size_t j = 0; j < value.items.size(); ++j) {
              std::string s;
              CheckString(value.items[j], path + "[" + std::to_string(j) + "]", s, diags);
              items.push_back(s);
            }
          } else {
            diags.push_back(value.At(path, "expected a list of text, found " + std::string(value.KindName())));
          }
          out.lists[key] = std::move(items);
          break;
        }
        case FieldKind::kFigure:
        case FieldKind::kTextFigure: {
          Figure fig;
          if (ParseFigure(value, f, path, fig, diags)) out.figures[key] = std::move(fig);
          break;
        }
        case FieldKind::kTable: {
          if (!value.IsSequence()) {
            diags.push_back(value.At(path, "expected a list, found " + std::string(value.KindName())));
            break;
          }
          auto& rows = out.tables[key];
          for (std::size_t j = 0; j < value.items.size(); ++j) {
            Record row;
            ValidateRecord(value.items[j], f.table, path + "[" + std::to_string(j) + "]", row, diags);
            rows.push_back(std::move(row));
          }
          break;
        }
        case FieldKind::kTree:
          out.trees[key] = &value;
          break;
      }
    }
  };
  Walker walker{schema, out, diags, prefix};
  walker.Walk(node, "");
  for (const auto& f : schema) {
    if (!f.required) continue;
    const RawNode* present = nullptr;
    if (auto it = out.nodes.find(f.key); it != out.nodes.end()) present = it->second;
    if (present == nullptr) {
      // A present-but-invalid field has already been reported.
      bool reported = false;
      for (const auto& d : diags) {
        if (d.key_path == full(f.key) || d.key_path.starts_with(full(f.key) + ".")) reported = true;
      }
      if (!reported) diags.push_back(node.At(full(f.key), "missing required field '" + std::string(f.key) + "'"));
    }
  }
}

namespace {
constexpr RecordKindInfo kRecordKinds[] = {
    {.kind = RecordKind::kSource, .name = "source", .folder = "sources", .fields = kSourceFields, .extends = false,
     .id_map = true, .summary = "documents every figure cites"},
    {.kind = RecordKind::kChip, .name = "chip", .folder = "chips", .fields = kChipFields, .extends = true,
     .id_map = false, .summary = "accelerators: datasheet peaks, memory, links, power"},
    {.kind = RecordKind::kSystem, .name = "system", .folder = "systems", .fields = kSystemFields, .extends = true,
     .id_map = false, .summary = "servers and clusters of a chip: nodes, scale-up domain, network tiers"},
    {.kind = RecordKind::kProfile, .name = "profile", .folder = "profiles", .fields = kProfileFields, .extends = true,
     .id_map = false, .summary = "efficiency profiles: what a chip family reaches, from microbenchmarks"},
    {.kind = RecordKind::kStack, .name = "stack", .folder = "stacks", .fields = kStackFields, .extends = false,
     .id_map = false, .summary = "software stacks: serving and training frameworks' budgets and kernel choices"},
    {.kind = RecordKind::kModel, .name = "model", .folder = "models", .fields = kModelFields, .extends = false,
     .id_map = false, .summary = "models: Hugging Face configs with their published sizes"},
    {.kind = RecordKind::kRuleSet, .name = "rules", .folder = "rules", .fields = kRuleSetFields, .extends = false,
     .id_map = false, .summary = "export-control rule sets"},
    {.kind = RecordKind::kPrice, .name = "price", .folder = "prices", .fields = kPriceFields, .extends = false,
     .id_map = false, .summary = "dated, sourced prices of chips and systems: bought, rented or leased"},
    {.kind = RecordKind::kFacility, .name = "facility", .folder = "facilities", .fields = kFacilityFields,
     .extends = false, .id_map = false, .summary = "regions' electricity, PUE, hosting, cost of capital, life"},
    {.kind = RecordKind::kFx, .name = "fx", .folder = "fx", .fields = kFxFields, .extends = false, .id_map = false,
     .summary = "dated exchange rates (yuan per dollar)"},
};
}  // namespace

std::span<const RecordKindInfo> RecordKinds() { return kRecordKinds; }

const RecordKindInfo& InfoFor(RecordKind k) {
  for (const auto& info : kRecordKinds) {
    if (info.kind == k) return info;
  }
  assert(false && "every RecordKind has a registry entry");
  return kRecordKinds[0];
}

const RecordKindInfo* FindRecordKind(std::string_view name) {
  for (const auto& info : kRecordKinds) {
    if (info.name == name || info.folder == name) return &info;
  }
  return nullptr;
}

Result<const RecordKindInfo*> ResolveRecordKind(std::string_view name) {
  if (const RecordKindInfo* info = FindRecordKind(name)) return info;
  std::vector<std::string> names;
  for (const auto& k : kRecordKinds) names.emplace_back(k.folder);
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return Error(Diagnostic{.key_path = "kind", .message = "unknown record kind '" + std::string(name) + "' (one of " + list +
                                                          ")" + DidYouMean(name, names)});
}

std::string_view RecordKindName(RecordKind k) { return InfoFor(k).name; }
std::span<const FieldSpec> SchemaFor(RecordKind k) { return InfoFor(k).fields; }

std::string_view FieldKindName(FieldKind k) {
  switch (k) {
    case kString: return "text";
    case kBool: return "bool";
    case kEnum: return "enum";
    case kId: return "id";
    case kStringList: return "list";
    case kFigure: return "figure";
    case kTextFigure: return "text figure";
    case kTable: return "table";
    case kTree: return "tree";
  }
  return "?";
}

}  // namespace suanli
