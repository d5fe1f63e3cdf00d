// One serving iteration priced from the shared operator list.
//
// A pass carries decode sequences (each reading its own KV cache) and
// prefill chunks (each appending to its own). Per device: tensor parallelism
// (tp) splits heads and FFN columns, expert parallelism (ep) splits the
// routed experts and, with them, the sequences across attention replicas (DP
// attention), pipeline parallelism (pp) splits the layers.
#include "suanli/infer/iteration.h"

#include <algorithm>
#include <cmath>

#include "core/warning_table.h"
#include "suanli/cost/layer_ops_visit.h"
#include "suanli/cost/moe_dispatch.h"

namespace suanli {
namespace {

// The ranks the routed experts are split over and their spacing in chips.
Group ExpertGroup(const InferencePlan& p) {
  if (p.tp_ep > 1) return Group{.ranks = p.tp_ep, .stride = p.tp / p.tp_ep};
  return Group{.ranks = p.ep, .stride = p.tp};
}

ComputeRate GemmRate(const Device& d, const Precision& p, uint32_t& warnings) {
  // Weight-only quantisation (int4, or fp8 weights with 16-bit activations)
  // dequantises in the kernel and computes at the activation precision.
  Dtype want = p.activations;
  if (DtypeBits(p.weights) > DtypeBits(want)) want = p.weights;
  if (Peak(d, want) <= 0) {
    warnings |= (want == p.weights && DtypeBits(p.weights) < 16) ? kWarnWeightsDequantized : kWarnActivationsFallback;
    want = SixteenBit(d);
  }
  return RateFor(d, want);
}

// Accumulates operator times into a PhaseEstimate.
class Pass {
 public:
  Pass(const Device& d, PhaseEstimate& out) : d_(d), out_(out), bw_(d.memory_bandwidth.si() * d.memory_efficiency) {}

  // An operator with `flops` at `rate_eff` (ops/s achieved) and `bytes` at
  // `bw` (B/s achieved), repeated `count` times.
  void OpAt(OpClass c, double flops, double rate_eff, double bytes, double bw, double count, double kernels) {
    Add(c, RooflineOp(d_, flops, rate_eff, bytes, bw, kernels), flops, bytes, count);
  }
  void Op(OpClass c, double flops, double rate_eff, double bytes, double count, double kernels) {
    OpAt(c, flops, rate_eff, bytes, bw_, count, kernels);
  }
  void Gemm(OpClass c, double flops, const ComputeRate& r, double bytes, double count, double kernels,
            double work = 1) {
    Add(c, GemmOp(d_, r, flops, bytes, kernels, work), flops, bytes, count);
  }
  void Comm(OpClass c, double seconds, double count) {
    Add(c, count * seconds);
    out_.communication_seconds += count * seconds;
  }
  void Fixed(double seconds) {
    Add(OpClass::kFixed, seconds);
    out_.overhead_seconds += seconds;
  }
  void Scale(double k) {
    out_.seconds *= k;
    for (double& v : out_.by_class) v *= k;
    out_.compute_seconds *= k;
    out_.memory_seconds *= k;
    out_.communication_seconds *= k;
    out_.overhead_seconds *= k;
  }

 private:
  void Add(OpClass c, double t) {
    out_.by_class[static_cast<int>(c)] += t;
    out_.seconds += t;
  }
  void Add(OpClass c, const OpTime& t, double flops, double bytes, double count) {
    Add(c, count * t.seconds);
    out_.compute_seconds += count * t.compute;
    out_.memory_seconds += count * t.memory;
    out_.overhead_seconds += count * t.overhead;
    out_.flops += count * flops;
    out_.bytes += count * bytes;
  }
  const Device& d_;
  PhaseEstimate& out_;
  double bw_;
};

void SetBound(PhaseEstimate& ph) {
  struct Part {
    Bound bound;
    double seconds;
  };
  const Part parts[] = {{Bound::kCompute, ph.compute_seconds},
                        {Bound::kMemory, ph.memory_seconds},
                        {Bound::kCommunication, ph.communication_seconds},
                        {Bound::kOverhead, ph.overhead_seconds}};
  ph.bound = std::max_element(std::begin(parts), std::end(parts),
                              [](const Part& a, const Part& b) { return a.seconds < b.seconds; })
                 ->bound;
}

constexpr WarningText kWarningTexts[] = {
    {kWarnWeightsDequantized, "weights_dequantized", "the chip has no matrix units for the weight precision: weights are dequantised and computed at 16 bits"},
    {kWarnActivationsFallback, "activations_fallback", "the chip has no matrix units for the activation precision: computed at 16 bits"},
    {kWarnTpCrossesNodes, "tp_crosses_nodes", "tensor parallelism spans more chips than the scale-up domain: its all-reduces run over the scale-out network"},
    {kWarnEpCrossesNodes, "ep_crosses_nodes", "expert parallelism spans more chips than the scale-up domain: all-to-all runs over the scale-out network"},
    {kWarnKvHeadsReplicated, "kv_heads_replicated", "tensor parallelism exceeds the KV heads: K/V projections and cache are replicated"},
    {kWarnContextBeyondModel, "context_beyond_model", "input + output tokens exceed the model's maximum positions"},
    {kWarnNoScaleOutBandwidth, "no_scale_out_bandwidth", "scale-out bandwidth unknown: assumed 50 GB/s per chip"},
    {kWarnSparsityFallback, "sparsity_fallback", "the chip has no 2:4 sparse matrix units: sparse weights save memory but compute at the dense rate"},
    {kWarnAssumedNode, "assumed_node", "a bare chip: nodes of up to 8 chips on its scale-up link are assumed (name a system for its own)"},
    {kWarnDispatchLinkModel, "dispatch_link_model", "no measured EP dispatch/combine curve for this chip's profile: dispatch and combine are priced from the link model"},
    {kWarnDispatchCurveScaled, "dispatch_curve_scaled", "EP dispatch/combine from DeepEP's curves measured on H800 (200 GB/s NVLink, 400 Gb/s IB per GPU), scaled to this cluster's links"},
};

}  // namespace

std::vector<std::string> WarningList(uint32_t w) { return WarningSentences(w, kWarningTexts); }
std::string WarningTexts(uint32_t w) { return JoinSentences(WarningList(w)); }
std::string_view WarningCode(uint32_t bit) {
  for (const auto& t : kWarningTexts) {
    if (t.bit == bit) return t.code;
  }
  return "?";
}

std::string_view BoundName(Bound b) {
  switch (b) {
    case Bound::kCompute: return "compute";
    case Bound::kMemory: return "memory";
    case Bound::kCommunication: return "communication";
    case Bound::kOverhead: return "overhead";
  }
  return "?";
}

Status CheckInferencePlan(const Cluster& cluster, const ModelArch& m, const InferencePlan& r) {
  const Device& device = cluster.device;
  std::vector<Diagnostic> bad;
  auto fail = [&](std::string key, std::string msg) {
    bad.push_back(Diagnostic{.key_path = std::move(key), .message = std::move(msg)});
  };
  for (auto [key, v] : {std::pair{"tp", r.tp}, std::pair{"pp", r.pp}, std::pair{"ep", r.ep}, std::pair{"tp_ep", r.tp_ep}}) {
    if (v < 1) fail(key, std::string(key) + " must be at least 1, found " + std::to_string(v));
    if (v > kMaxInferenceDegree) {
      fail(key, std::string(key) + " must be at most " + std::to_string(kMaxInferenceDegree) + ", found " + std::to_string(v));
    }
  }
  if (!bad.empty()) return Error(std::move(bad));
  if (m.groups.empty() || m.hidden <= 0) fail("model", "the model has no layers");
  for (const LayerGroup& g : m.groups) {
    if (g.attention.heads % r.tp != 0) {
      fail("tp", "tp " + std::to_string(r.tp) + " does not divide the " + std::to_string(g.attention.heads) +
                     " attention heads");
      break;
    }
  }
  const bool moe = IsMoe(m);
  if (r.ep > 1 && !moe) fail("ep", "ep " + std::to_string(r.ep) + " needs a mixture-of-experts model");
  if (r.tp_ep > 1) {
    if (!moe) fail("tp_ep", "expert parallelism over the tp ranks needs a mixture-of-experts model");
    if (r.ep > 1) fail("tp_ep", "expert parallelism over the tp ranks is for plans without DP attention (ep 1), found ep " + std::to_string(r.ep));
    if (r.tp % r.tp_ep != 0) {
      fail("tp_ep", "the experts' " + std::to_string(r.tp_ep) + " ranks must divide tp " + std::to_string(r.tp));
    }
  }
  if (r.redundant_experts < 0 || r.redundant_experts > kMaxInferenceDegree) {
    fail("redundant_experts", "must be between 0 and " + std::to_string(kMaxInferenceDegree));
  } else if (r.redundant_experts > 0 && !moe) {
    fail("redundant_experts", "redundant experts need a mixture-of-experts model");
  }
  for (const LayerGroup& g : m.groups) {
    if (g.is_moe() && (g.moe.experts + r.redundant_experts) % r.expert_ranks() != 0) {
      fail("ep", "ep " + std::to_string(r.expert_ranks()) + " does not divide the " + std::to_string(g.moe.experts) + " experts" +
                     (r.redundant_experts > 0 ? " and " + std::to_string(r.redundant_experts) + " redundant ones" : ""));
      break;
    }
  }
  if (r.pp > m.layers) {
    fail("pp", "pp " + std::to_string(r.pp) + " exceeds the model's " + std::to_string(m.layers) + " layers");
  }
  const Dtype w = r.precision.weights;
  if (w == Dtype::kFp4 && Peak(device, Dtype::kFp4) <= 0) {
    fail("weights", "fp4 weights need fp4 matrix units, which " + device.chip_id + " lacks");
  }
  for (auto [key, t] : {std::pair{"activations", r.precision.activations}, std::pair{"kv_cache", r.precision.kv_cache}}) {
    if (t == Dtype::kFp4 && Peak(device, Dtype::kFp4) <= 0) {
      fail(key, std::string("fp4 ") + key + " need fp4 matrix units, which " + device.chip_id + " lacks");
    }
  }
  for (auto [key, t] : {std::pair{"weights", w}, std::pair{"activations", r.precision.activations},
                        std::pair{"kv_cache", r.precision.kv_cache}}) {
    if (t == Dtype::kFp64 || t == Dtype::kFp32 || t == Dtype::kTf32) {
      fail(key, std::string(key) + " precision must be bf16, fp16, fp8, int8, int4 or fp4");
    }
  }
  if (r.precision.activations == Dtype::kInt4) fail("activations", "int4 activations are not supported");
  if (!bad.empty()) return Error(std::move(bad));
  return Ok{};
}

Result<IterationModel> IterationModel::Make(const Cluster& c, const ModelArch& m, const InferencePlan& plan,
                                            const IterationStack& stack) {
  if (auto ok = CheckInferencePlan(c, m, plan); !ok) return std::move(ok).error();
  const Device& d = c.device;
  IterationModel it;
  it.cluster_ = &c;
  it.model_ = &m;
  it.plan_ = plan;
  uint32_t warnings = 0;
  const Precision& p = plan.precision;
  it.gemm_ = GemmRate(d, p, warnings);
  if (p.sparse_24) {
    if (d.sparsity_speedup > 1) {
      it.gemm_.rate *= d.sparsity_speedup;
    } else {
      warnings |= kWarnSparsityFallback;
    }
  }
  it.gemm16_ = RateFor(d, SixteenBit(d));
  it.rate16_attention_ = Peak(d, SixteenBit(d)) * d.attention_efficiency;
  it.rate16_decode_attention_ = Peak(d, SixteenBit(d)) * d.decode_attention_compute_efficiency;
  OpBytes& b = it.bytes_;
  b.activation = std::max(1.0, DtypeBytes(p.activations));
  // 2:4 sparse weights keep half the values and a 2-bit index for each kept one.
  b.weight = p.sparse_24 ? (0.5 * DtypeBits(p.weights) + 1) / 8 : DtypeBytes(p.weights);
  b.kv = DtypeBytes(p.kv_cache);
  b.head_weight = std::max(2.0, b.weight);  // quantisers keep embedding and LM head at 16 bits
  b.logits = 4;                             // fp32 logits for sampling
  b.comm = 2;
  it.style_.norms = stack.fused_residual_norm ? NormFusion::kFusedResidualNorm : NormFusion::kUnfused;
  it.style_.expert_imbalance = stack.expert_imbalance;
  const Links links = LinksOf(c);
  it.tp_all_reduce_ = AllReduceCost(links, Group{.ranks = plan.tp, .stride = 1});
  // The routed experts' group: the DP-attention replicas (ep, tp apart), or
  // with EP inside the TP group its tp_ep ranks (tp / tp_ep apart).
  const Group experts_group = ExpertGroup(plan);
  const int ep_ranks = experts_group.ranks;
  it.ep_exchange_ = ExchangeCost(links, experts_group);
  const int domain_chips = c.topology.scale_up_domain;
  if (const Group& eg = experts_group; ep_ranks > 1 && !eg.in_domain(domain_chips)) {
    // Across domains each rank sends to the ranks of its own domain over the
    // scale-up link and to the rest over the scale-out network, both at once
    // (DeepEP's NVLink and RDMA paths, DEEPEP_V1): the slower share sets the time.
    // On a switchless full mesh the in-domain part uses the links to its peers only.
    const double local = eg.per_domain(domain_chips), remote = ep_ranks - 1;
    it.ep_exchange_.per_byte = std::max((local - 1) / remote / (links.up_a2a * UpShare(links, local - 1)),
                                        (ep_ranks - local) / remote / OutBandwidth(links, eg));
  }
  it.pp_send_ = SendRecvCost(links, double(plan.devices()));
  it.two_batch_overlap_ = stack.two_batch_overlap;
  it.tp_ep_scattered_ = plan.tp_ep > 1 && stack.deepep;
  it.deepep_ = stack.deepep;
  it.links_ = links;
  if (ep_ranks > 1 && IsMoe(m) && stack.deepep) {  // (with tp_ep, deepep is what scatters)
    // EP dispatch and combine from the measured curves where the profile has
    // them (DeepEP: normal kernels for prefill, low-latency for decode),
    // scaled by this cluster's links over the ones measured on.
    // Decode needs the low-latency kernels' curve as well.
    auto md = MeasuredDispatch(c, experts_group);
    if (!md || d.expert_dispatch.low_latency.empty()) {
      warnings |= kWarnDispatchLinkModel;
    } else {
      if (md->scaled) warnings |= kWarnDispatchCurveScaled;
      it.measured_dispatch_ = *md;
    }
  }
  const int domain = domain_chips;
  if (plan.tp > domain && plan.tp > 1) warnings |= kWarnTpCrossesNodes;
  if (plan.tp * plan.ep > domain && ep_ranks > 1) warnings |= kWarnEpCrossesNodes;
  if (c.topology.scale_out_assumed && plan.devices() > domain) warnings |= kWarnNoScaleOutBandwidth;
  if (c.topology.domain_assumed && c.topology.scale_up_bandwidth.si() > 0 && plan.devices() > 1) {
    warnings |= kWarnAssumedNode;
  }
  for (const LayerGroup& g : m.groups) {
    if (g.attention.kind == AttentionKind::kMultiHead && g.attention.kv_heads < plan.tp) warnings |= kWarnKvHeadsReplicated;
  }
  it.warnings_ = warnings;
  for (const LayerGroup& g : m.groups) {
    if (g.attention.window > 0) {
      it.kv_windowed_ = true;
    } else {
      it.kv_bytes_per_token_ += std::ceil(double(g.count) / plan.pp) * KvValuesPerTokenPerLayer(g.attention, plan.tp);
    }
  }
  it.kv_bytes_per_token_ *= b.kv;
  return it;
}

// One forward pass on one pipeline stage (1/pp of the layers), per device,
// for `share` of the batch's sequences (1 / (micro-batches x ep): one
// attention replica's part of one micro-batch).
void IterationModel::StagePass(const BatchComposition& batch, double share, PhaseEstimate& out) const {
  const Device& d = cluster_->device;
  const ModelArch& m = *model_;
  const InferencePlan& r = plan_;
  Pass pass(d, out);
  const double pp = r.pp;
  double decode_rows = 0, prefill_rows = 0, completing = 0;
  for (const DecodeBucket& b : batch.decode) decode_rows += b.sequences * b.tokens;
  for (const PrefillChunk& c : batch.prefill) {
    prefill_rows += c.sequences * c.tokens;
    if (c.completes) completing += c.sequences;
  }
  decode_rows *= share;
  prefill_rows *= share;
  completing *= share;
  const double rows = decode_rows + prefill_rows;  // GEMM rows
  const LayerShard shard{.tp = r.tp, .ep = r.ep, .sequence_parallel = false, .redundant_experts = r.redundant_experts,
                         .etp = 0, .tp_ep = r.tp_ep, .tp_ep_scattered = tp_ep_scattered_};
  const double decode_bw = d.memory_bandwidth.si() * d.decode_attention_efficiency;

  for (const LayerGroup& g : m.groups) {
    const double n = g.count / pp;  // this stage's share of the group's layers
    if (n <= 0) continue;
    const int window = g.attention.window;
    LayerTokens tokens{.rows = rows, .attention = {}};
    AttentionLoad& load = tokens.attention;
    load.prefill_rows = prefill_rows;
    for (const PrefillChunk& c : batch.prefill) load.prefill_pairs += c.sequences * AttentionPairs(c.offset, c.tokens, window);
    load.prefill_pairs *= share;
    load.decode_rows = decode_rows;
    for (const DecodeBucket& b : batch.decode) {
      const double keys = b.sequences * (window > 0 ? std::min<double>(b.context, window) : b.context);
      load.decode_keys += keys;
      load.decode_query_keys += keys * b.tokens;
    }
    load.decode_keys *= share;
    load.decode_query_keys *= share;
    ForEachLayerOp(g, m.hidden, shard, bytes_, style_, tokens, [&](const Op& op) {
      switch (op.kind) {
        case OpKind::kGemm:
        case OpKind::kScores:
          pass.Gemm(op.cls, op.flops, op.sixteen_bit ? gemm16_ : gemm_, op.bytes, n, op.kernels);
          break;
        case OpKind::kGroupedGemm: {
          // Tokens per expert and the experts' dims set the grouped kernels' work (roofline.h).
          const double work = op.groups > 0 ? ExpertGemmWork(d, gemm_.dtype, GroupedPass::kForward,
                                                             op.rows / op.groups, op.k, op.n)
                                             : 1.0;
          pass.Gemm(op.cls, op.flops, gemm_, op.bytes, n, op.kernels, work);
          break;
        }
        case OpKind::kStream:
        case OpKind::kSoftmax:
          pass.Op(op.cls, 0, 0, op.bytes, n, op.kernels);
          break;
        case OpKind::kAttention:
          pass.Op(op.cls, op.flops, rate16_attention_, op.bytes, n, op.kernels);
          break;
        case OpKind::kDecodeAttention:
          pass.OpAt(op.cls, op.flops, rate16_decode_attention_, op.bytes, decode_bw, n, op.kernels);
          break;
        case OpKind::kTpAllReduce:
          pass.Comm(op.cls, tp_all_reduce_(op.bytes), n);
          break;
        case OpKind::kExpertAllToAll:
          pass.Comm(op.cls,
                    measured_dispatch_ ? DispatchCombineSeconds(g.moe, rows / r.tp_ep, prefill_rows > 0)
                    : deepep_             ? LinkDispatchSeconds(g.moe, rows / r.tp_ep, prefill_rows > 0)
                                          : 2 * ep_exchange_(op.bytes),
                    n);
          break;
      }
    });
  }
  // Embedding lookup (first stage) and LM head (last stage) for the tokens
  // that sample: every decode token and the last token of each prompt.
  ForEachHeadOp(m, shard, bytes_, rows, decode_rows + completing, [&](const Op& op) {
    if (op.kind == OpKind::kGemm) {
      pass.Gemm(op.cls, op.flops, op.sixteen_bit ? gemm16_ : gemm_, op.bytes, 1.0 / pp, op.kernels);
    } else {
      pass.Op(op.cls, 0, 0, op.bytes, 1.0 / pp, op.kernels);
    }
  });
  if (r.pp > 1) {
    const double size = rows * m.hidden * bytes_.comm;
    pass.Comm(OpClass::kPipeline, pp_send_(size), 1);
  }
  pass.Fixed(d.step_overhead.si() / pp);
}

// One dispatch and one combine of `rows` tokens from one EP rank on the
// measured curves. Dispatch sends FP8 (hidden bytes plus a 4-byte scale per
// 128 values, as DeepEP's FP8 dispatch) when the plan's activations are 8-bit,
// else BF16; combine is BF16. Normal kernels (any prefill in the batch) send a
// token once per rank and once per domain that hosts one of its experts, the
// NVLink and RDMA parts at once, counted as DeepEP's benchmarks count them for
// the figures (DeepEpCountedCopies: its own rank and node included); low-latency
// kernels (decode) send every token-expert pair. The busiest rank carries
// `expert_imbalance` times the mean. No call beats the collective latency:
// the curves hold one token count each (4096 normal, 128 low-latency).
double IterationModel::DispatchCombineSeconds(const MoeShape& e, double rows, bool prefill) const {
  if (rows <= 0) return 0;
  const MeasuredDispatchRates& md = *measured_dispatch_;
  const double h = model_->hidden;
  const double token_bytes[2] = {bytes_.activation <= 1 ? h + h / 128 * 4 : 2 * h, 2 * h};
  const double tokens = rows * style_.expert_imbalance;
  double total = 0;
  if (prefill) {
    total = NormalKernelSeconds(md, ExpertGroup(plan_), cluster_->topology.scale_up_domain, tokens, token_bytes, e.experts,
                                e.top_k);
  } else {
    for (int i = 0; i < 2; ++i) total += std::max(md.latency, tokens * e.top_k * token_bytes[i] / md.low_latency[i]);
  }
  return total;
}

// DeepEP's dispatch and combine without a measured curve: what its kernels
// send (cost/moe_dispatch.h: normal kernels, any prefill in the batch, once
// per rank and domain hosting one of a token's experts; low-latency kernels
// every token-expert pair), FP8 dispatch as DispatchCombineSeconds, over the
// link model's all-to-all bandwidth (the full mesh's share where there is one).
double IterationModel::LinkDispatchSeconds(const MoeShape& e, double rows, bool prefill) const {
  if (rows <= 0) return 0;
  const double h = model_->hidden;
  const double token_bytes[2] = {bytes_.activation <= 1 ? h + h / 128 * 4 : 2 * h, 2 * h};
  const ExpertDispatcher d = prefill ? ExpertDispatcher::kDeepEp : ExpertDispatcher::kAllToAll;
  const Group g = ExpertGroup(plan_);
  double total = 0;
  for (double b : token_bytes) {
    total += ExpertDispatchSeconds(links_, g, d, rows, b, e.experts, e.top_k, style_.expert_imbalance);
  }
  return total;
}

PhaseEstimate IterationModel::Cost(const BatchComposition& batch, PipelineFill fill, double micro_batches) const {
  // A single pass fills and drains the pipeline: (micro + pp - 1) stage
  // times. In steady state every stage is busy and each micro-batch's tokens
  // pass all pp stages once per step: pp stage times.
  const double pp = plan_.pp;
  double micro = micro_batches;
  if (micro <= 0) {
    double sequences = 0;
    for (const DecodeBucket& b : batch.decode) sequences += b.sequences;
    for (const PrefillChunk& c : batch.prefill) sequences += c.sequences;
    micro = std::max(1.0, std::min(sequences, pp));
  }
  PhaseEstimate stage;
  double rows = 0;
  if (two_batch_overlap_ && (plan_.ep > 1 || tp_ep_scattered_)) {
    for (const DecodeBucket& b : batch.decode) rows += b.sequences * b.tokens;
    for (const PrefillChunk& c : batch.prefill) rows += c.sequences * c.tokens;
  }
  if (rows / (micro * plan_.ep) >= 2) {
    // Two-batch overlap (SGLang --enable-two-batch-overlap): the pass runs as
    // two micro-batches of half the tokens each, one's dispatch and combine
    // under the other's compute. Per half: compute C (every operator but the
    // EP exchange and the pass's fixed cost) and exchange A; the pair takes
    // 2 max(C', A) with C' = C + overlap_slowdown x min(C, A) (the exchange's
    // kernels share the SMs and memory), plus the fixed cost once. Each half
    // reads the weights and launches its kernels again.
    StagePass(batch, 0.5 / (micro * plan_.ep), stage);
    const double fixed = cluster_->device.step_overhead.si() / pp;
    const double a = stage.by_class[static_cast<int>(OpClass::kAllToAll)];
    const double compute = std::max(0.0, stage.seconds - a - fixed);
    const double slowed = compute + cluster_->device.overlap_slowdown * std::min(compute, a);
    Pass p(cluster_->device, stage);
    p.Scale(2);
    // Undo the doubled fixed cost, and hide what the overlap hides (charged
    // to the exchange: it is the part that no longer adds to the step).
    const double hidden = 2 * (compute + a) - 2 * std::max(slowed, a);
    stage.seconds -= fixed + hidden;
    stage.by_class[static_cast<int>(OpClass::kFixed)] -= fixed;
    stage.overhead_seconds -= fixed;
    stage.by_class[static_cast<int>(OpClass::kAllToAll)] -= hidden;
    stage.communication_seconds -= hidden;
    stage.flops *= 2;
    stage.bytes *= 2;
  } else {
    StagePass(batch, 1.0 / (micro * plan_.ep), stage);
  }
  Pass(cluster_->device, stage).Scale(fill == PipelineFill::kSteady ? pp : micro + pp - 1);
  // StagePass counted 1/pp of the layers for 1/micro of the work; per device
  // the whole pass moves micro such shares through its one stage.
  stage.flops *= micro;
  stage.bytes *= micro;
  SetBound(stage);
  return stage;
}

double IterationModel::KvBytes(double context) const {
  double windowed = 0;
  if (kv_windowed_) {
    for (const LayerGroup& g : model_->groups) {
      const AttentionShape& a = g.attention;
      if (a.window <= 0) continue;
      windowed += std::ceil(double(g.count) / plan_.pp) * KvValuesPerTokenPerLayer(a, plan_.tp) *
                  std::min<double>(context, a.window);
    }
  }
  return kv_bytes_per_token_ * context + windowed * bytes_.kv;
}

}  // namespace suanli
