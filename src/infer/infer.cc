// The inference estimator: one forward pass as a list of operators per layer
// group, each timed on the roofline of the device's achievable rates.
//
// A pass carries `decode_tokens` tokens of running requests (each reading its
// KV cache of `decode_context` tokens) and `prefill_requests` new requests of
// `prefill_len` tokens. A static batch is one prefill pass then decode passes;
// continuous batching is one mixed pass per iteration. Per-device quantities:
// tensor parallelism (tp) splits heads and FFN columns, expert parallelism (ep)
// splits the routed experts and, with them, the requests across attention
// replicas (DP attention), pipeline parallelism (pp) splits the layers.
#include "suanli/infer/infer.h"

#include <algorithm>
#include <cmath>

#include "core/warning_table.h"
#include "cost/roofline.h"
#include "suanli/hardware/collectives.h"

namespace suanli {
namespace {

// TensorRT-LLM's default max_num_tokens: prefill is chunked to this many
// tokens per pass, which bounds the activation workspace.
constexpr double kMaxTokensPerPass = 8192;

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

  // An operator with `flops` at `rate_eff` and `bytes` of memory traffic,
  // repeated `count` times, each a kernel of its own.
  void Op(OpClass c, double flops, double rate_eff, double bytes, double count, double kernels = 1) {
    OpAt(c, flops, rate_eff, bytes, bw_, count, kernels);
  }

  // As Op, at memory bandwidth `bw` (B/s achieved).
  void OpAt(OpClass c, double flops, double rate_eff, double bytes, double bw, double count, double kernels = 1) {
    Add(c, RooflineOp(d_, flops, rate_eff, bytes, bw, kernels), flops, bytes, count);
  }

  // A GEMM (or grouped GEMM) in `kernels` launches.
  void Gemm(OpClass c, double flops, const ComputeRate& r, double bytes, double count, double kernels = 1) {
    Add(c, GemmOp(d_, r, flops, bytes, kernels), flops, bytes, count);
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

// Causal (query, key) pairs of one request of `len` new tokens after `past`
// cached tokens, with a sliding window (0 = none).
double AttentionPairs(double past, double len, int window) {
  // Query i (0-based among the new ones) sees min(past + i + 1, window) keys.
  const double total = past + len;
  if (window <= 0 || total <= window) return len * past + len * (len + 1) / 2;
  const double w = window;
  // Queries whose full history is under the window see it all, the rest see w.
  const double under = std::clamp(w - past, 0.0, len);  // queries with past + i + 1 <= w
  return under * past + under * (under + 1) / 2 + (len - under) * w;
}

// Everything one pass needs, derived once from the request.
struct Plan {
  const Device* d;
  const Cluster* c;
  const ModelArch* m;
  const InferenceRequest* r;
  ComputeRate gemm;
  double rate16_attention;  // 16-bit rate x attention efficiency
  double act_bytes;         // activations in memory
  double w_bytes;           // weights
  double kv_bytes;          // KV cache
  double head_w_bytes;      // embedding and LM head (kept at 16 bits when quantised)
  double comm_bytes;        // collective payload per value (16-bit)
  Links links;              // the cluster's links, for collectives and transfers
};

// One forward pass on one pipeline stage (1/pp of the layers), per device.
// `decode_tokens` and `prefill_requests` count requests of the whole
// deployment; ep attention replicas each take 1/ep of them.
void StagePass(const Plan& p, double decode_tokens, double decode_context, double prefill_requests,
               double prefill_len, PhaseEstimate& out) {
  const Device& d = *p.d;
  const ModelArch& m = *p.m;
  const InferenceRequest& r = *p.r;
  Pass pass(d, out);
  const double tp = r.tp, ep = r.ep, pp = r.pp;
  const double h = m.hidden;
  // Tokens this device's attention replica processes.
  const double dec = decode_tokens / ep;
  const double pre_req = prefill_requests / ep;
  const double tokens = dec + pre_req * prefill_len;  // GEMM rows
  const double all_tokens = tokens * ep;               // across replicas (MoE routing)
  const double ab = p.act_bytes, wb = p.w_bytes;

  // A GEMM of `rows` x k x n with n split by `split`.
  auto gemm = [&](OpClass c, double rows, double k, double n, double count) {
    const double flops = 2 * rows * k * n;
    const double bytes = k * n * wb + rows * (k + n) * ab;
    pass.Gemm(c, flops, p.gemm, bytes, count);
  };
  auto allreduce = [&](double rows, double count) {
    if (r.tp <= 1 || rows <= 0) return;
    const double size = rows * h * p.comm_bytes;
    pass.Comm(OpClass::kAllReduce, AllReduce(p.links, size, Group{.ranks = r.tp, .stride = 1}), count);
  };

  for (const LayerGroup& g : m.groups) {
    const double n = g.count / pp;  // this stage's share of the group's layers
    if (n <= 0) continue;
    const AttentionShape& a = g.attention;
    const double heads = a.heads / tp;
    // Norms before attention and before the MLP: read and write the hidden state.
    pass.Op(OpClass::kElementwise, 0, 0, 2 * tokens * h * ab * 2, n, 2);
    // Projections.
    if (a.kind == AttentionKind::kLatent) {
      const double q_in = a.q_lora_rank > 0 ? a.q_lora_rank : h;
      if (a.q_lora_rank > 0) gemm(OpClass::kProjection, tokens, h, a.q_lora_rank, n);
      gemm(OpClass::kProjection, tokens, q_in, heads * a.head_dim, n);
      gemm(OpClass::kProjection, tokens, h, a.kv_lora_rank + a.rope_dim, n);
      // kv_b: up-projects the latent for prefill keys/values, or is absorbed
      // into the query and output for decode; the same weights and FLOPs per row.
      const double nope = a.head_dim - a.rope_dim;
      const double rows = tokens;
      gemm(OpClass::kProjection, rows, a.kv_lora_rank, heads * (nope + a.v_head_dim), n);
    } else {
      const double kv = std::ceil(double(a.kv_heads) / tp);
      gemm(OpClass::kProjection, tokens, h, heads * a.head_dim + kv * (a.head_dim + a.v_head_dim), n);
    }
    gemm(OpClass::kProjection, tokens, heads * a.v_head_dim, h, n);

    // Attention core.
    const double kv_values = a.kind == AttentionKind::kLatent
                                 ? double(a.kv_lora_rank + a.rope_dim)
                                 : std::ceil(double(a.kv_heads) / tp) * (a.head_dim + a.v_head_dim);
    if (pre_req > 0) {
      const double pairs = pre_req * AttentionPairs(0, prefill_len, a.window);
      const double flops = 2 * heads * (a.head_dim + a.v_head_dim) * pairs;
      const double rows = pre_req * prefill_len;
      const double bytes = rows * (2 * heads * (a.head_dim + a.v_head_dim) + kv_values) * ab +
                           rows * kv_values * p.kv_bytes;  // read Q,K,V, write O, append the cache
      pass.Op(OpClass::kAttention, flops, p.rate16_attention, bytes, n);
    }
    if (dec > 0) {
      const double ctx = a.window > 0 ? std::min<double>(decode_context, a.window) : decode_context;
      // MLA decode attends in the latent space (absorbed): q.k over kv_lora + rope, v of kv_lora.
      const double qk = a.kind == AttentionKind::kLatent ? a.kv_lora_rank + a.rope_dim : a.head_dim;
      const double v = a.kind == AttentionKind::kLatent ? a.kv_lora_rank : a.v_head_dim;
      const double flops = 2 * dec * heads * ctx * (qk + v);
      const double bytes = dec * ctx * kv_values * p.kv_bytes + dec * kv_values * p.kv_bytes;
      pass.OpAt(OpClass::kAttention, flops, p.rate16_attention, bytes,
                d.memory_bandwidth.si() * d.decode_attention_efficiency, n);
    }
    allreduce(tokens, n);

    // MLP or MoE.
    if (g.is_moe()) {
      const MoeShape& e = g.moe;
      gemm(OpClass::kExperts, tokens, h, e.experts, n);  // router (replicated)
      if (e.shared_experts > 0) {
        const double ffn = e.shared_experts * double(e.shared_ffn) / tp;
        gemm(OpClass::kMlp, tokens, h, 2 * ffn, n);
        gemm(OpClass::kMlp, tokens, ffn, h, n);
      }
      // Routed experts on this device: E/ep of them, each with ffn/tp columns.
      const double local_experts = e.experts / ep;
      const double assignments = all_tokens * e.top_k / ep;  // balanced routing
      const double p_miss = std::pow(1.0 - double(e.top_k) / e.experts, all_tokens);
      const double touched = local_experts * (1.0 - p_miss);  // experts that receive a token
      const double ffn = e.expert_ffn / tp;
      const double flops = 2 * assignments * h * 3 * ffn;
      const double bytes = touched * 3 * h * ffn * wb + assignments * (2 * h + 3 * ffn) * ab;
      pass.Gemm(OpClass::kExperts, flops, p.gemm, bytes, n, 2);  // grouped gate_up and down
      pass.Op(OpClass::kElementwise, 0, 0, assignments * 3 * ffn * ab + 2 * tokens * e.top_k * h * ab, n, 2);
      if (r.ep > 1) {
        // Dispatch and combine: each token's hidden state goes to top_k experts,
        // (ep - 1) / ep of them on other devices.
        const double bytes_out = tokens * e.top_k * h * p.comm_bytes * (ep - 1) / ep;
        pass.Comm(OpClass::kAllToAll, 2 * Exchange(p.links, bytes_out, Group{.ranks = r.ep, .stride = r.tp}), n);
      }
    } else {
      const double ffn = g.mlp.ffn / tp;
      gemm(OpClass::kMlp, tokens, h, (g.mlp.gated ? 2 : 1) * ffn, n);
      pass.Op(OpClass::kElementwise, 0, 0, tokens * 3 * ffn * ab, n);
      gemm(OpClass::kMlp, tokens, ffn, h, n);
    }
    allreduce(tokens, n);
  }

  // Embedding lookup (first stage) and LM head (last stage) for the tokens
  // that sample: every decode token and the last token of each prefill.
  const double sample_rows = dec + pre_req;
  const double vocab = m.vocab / tp;
  pass.Op(OpClass::kLmHead, 0, 0, tokens * h * ab * 2, 1.0 / pp);
  {
    const double flops = 2 * sample_rows * h * vocab;
    const double bytes = h * vocab * p.head_w_bytes + sample_rows * (h * ab + vocab * 4);
    pass.Gemm(OpClass::kLmHead, flops, p.gemm, bytes, 1.0 / pp);
  }
  if (r.pp > 1) {
    const double size = tokens * h * p.comm_bytes;
    pass.Comm(OpClass::kPipeline, SendRecv(p.links, size, double(r.tp) * r.ep * r.pp), 1);
  }
  pass.Fixed(d.step_overhead.si() / pp);
}

void SetBound(PhaseEstimate& ph) {
  const double parts[] = {ph.compute_seconds, ph.memory_seconds, ph.communication_seconds, ph.overhead_seconds};
  ph.bound = static_cast<Bound>(std::max_element(std::begin(parts), std::end(parts)) - std::begin(parts));
}

// A whole pass through all pp stages. `micro` micro-batches split the work.
// A single pass fills and drains the pipeline: (micro + pp - 1) stage times.
// In steady state (decode, continuous batching) every stage is busy and each
// micro-batch's tokens pass all pp stages once per step: pp stage times.
PhaseEstimate FullPass(const Plan& p, double decode_tokens, double decode_context, double prefill_requests,
                       double prefill_len, double micro, bool steady) {
  PhaseEstimate stage;
  StagePass(p, decode_tokens / micro, decode_context, prefill_requests / micro, prefill_len, stage);
  const double pp = p.r->pp;
  Pass(*p.d, stage).Scale(steady ? pp : micro + pp - 1);
  // StagePass counted 1/pp of the layers for 1/micro of the work; per device
  // the whole pass moves micro such shares through its one stage.
  stage.flops *= micro;
  stage.bytes *= micro;
  SetBound(stage);
  return stage;
}

// Memory per device (the fullest pipeline stage) for `batch` requests of
// `context` tokens each.
struct MemoryModel {
  double weights = 0;          // B
  double kv_per_request = 0;   // B at the planned context
  double act_fixed = 0;        // workspace independent of batch
  double act_per_request = 0;  // logits and per-request buffers
  double act_per_token = 0;    // per token of the largest pass
};

double KvBytesPerRequest(const Plan& p, double context) {
  const ModelArch& m = *p.m;
  double v = 0;
  for (const LayerGroup& g : m.groups) {
    const AttentionShape& a = g.attention;
    const double per_token = a.kind == AttentionKind::kLatent
                                 ? double(a.kv_lora_rank + a.rope_dim)
                                 : std::ceil(double(a.kv_heads) / p.r->tp) * (a.head_dim + a.v_head_dim);
    const double tokens = a.window > 0 ? std::min<double>(context, a.window) : context;
    v += std::ceil(double(g.count) / p.r->pp) * per_token * tokens;
  }
  return v * p.kv_bytes;
}

MemoryModel BuildMemory(const Plan& p, double context) {
  const ModelArch& m = *p.m;
  const InferenceRequest& r = *p.r;
  MemoryModel mm;
  const double tp = r.tp, ep = r.ep;
  int widest = m.hidden;
  for (const LayerGroup& g : m.groups) {
    const LayerParams lp = CountLayerParams(g, m.hidden, m.norm);
    const double layers = std::ceil(double(g.count) / r.pp);
    mm.weights += layers * (lp.shared / tp + lp.experts / (tp * ep)) * p.w_bytes;
    widest = std::max({widest, g.mlp.ffn, g.moe.expert_ffn * std::max(1, g.moe.top_k)});
  }
  const ParamCount pc = CountParams(m);
  // Vocab-parallel embedding on the first stage, LM head on the last.
  const double head = r.pp > 1 ? std::max(pc.embedding, pc.lm_head) : pc.embedding + pc.lm_head;
  mm.weights += head / tp * p.head_w_bytes;
  mm.kv_per_request = KvBytesPerRequest(p, context) / ep;  // each replica holds 1/ep of the requests
  // Activations of the largest pass: hidden state, QKV, and the MLP's widest
  // intermediate (gate and up), at activation precision, plus fp32 logits.
  mm.act_per_token = (4.0 * m.hidden + 3.0 * widest / tp) * p.act_bytes;
  mm.act_per_request = double(m.vocab) / tp * 4;
  return mm;
}

MemoryEstimate MemoryFor(const Plan& p, const MemoryModel& mm, double batch, double pass_tokens) {
  MemoryEstimate me;
  const Device& d = *p.d;
  me.capacity = d.memory_capacity.si();
  me.weights = mm.weights;
  me.kv_cache = mm.kv_per_request * batch;
  const double per_device_batch = batch / p.r->ep;
  me.activations = mm.act_per_token * std::min(pass_tokens, kMaxTokensPerPass) + mm.act_per_request * per_device_batch;
  // The runtime keeps a fixed reserve and leaves a fraction of what remains free.
  const double free_after = std::max(0.0, me.capacity - me.weights - d.reserved_bytes.si() - me.activations);
  me.reserved = d.reserved_bytes.si() + d.reserved_fraction * free_after;
  me.total = me.weights + me.kv_cache + me.activations + me.reserved;
  return me;
}

bool Fits(const MemoryEstimate& me) { return me.total <= me.capacity * (1 + 1e-12); }

// Largest n >= 1 with fits(n), given that fits is monotone (0 if none).
// `guess` (from a linear extrapolation) is usually within a step or two.
template <typename Fits>
int64_t LargestFitting(Fits&& fits, double guess) {
  constexpr int64_t kLimit = int64_t(1) << 40;
  if (!fits(1)) return 0;
  int64_t lo = 1, hi = 0;  // fits(lo); hi == 0: no known failure yet
  const int64_t g = std::isfinite(guess) ? std::clamp<int64_t>(int64_t(guess), 1, kLimit) : 1;
  if (fits(g)) {
    lo = g;
  } else {
    hi = g;
  }
  // Gallop away from the guess to bracket the boundary, then bisect.
  for (int64_t step = 1; hi == 0; step *= 2) {
    const int64_t next = std::min(kLimit, lo + step);
    if (next == lo) return lo;
    (fits(next) ? lo : hi) = next;
  }
  for (int64_t step = 1; hi - lo > 1; step *= 2) {
    const int64_t next = hi - step;
    if (next <= lo) break;
    if (fits(next)) {
      lo = next;
      break;
    }
    hi = next;
  }
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

// Largest batch whose memory fits (0 if none).
int64_t MaxBatch(const Plan& p, const MemoryModel& mm, double input_len, bool static_mode) {
  auto pass_tokens = [&](double b) { return static_mode ? b * input_len / p.r->ep : b / p.r->ep + input_len; };
  auto fits = [&](int64_t b) { return Fits(MemoryFor(p, mm, double(b), pass_tokens(double(b)))); };
  const MemoryEstimate one = MemoryFor(p, mm, 1, pass_tokens(1));
  const double per_request = mm.kv_per_request + mm.act_per_request / p.r->ep;
  const double guess = per_request > 0 ? 1 + (one.capacity - one.total) / per_request : 1;
  return LargestFitting(fits, guess);
}

// Longest context (input + output) one request may have at `batch` (0 if
// none), counting the whole context as prompt for the workspace.
int64_t MaxContext(const Plan& p, const MemoryModel& mm, double batch, bool static_mode) {
  auto pass_tokens = [&](double ctx) { return static_mode ? batch * ctx / p.r->ep : batch / p.r->ep + ctx; };
  MemoryModel at = mm;
  auto fits = [&](int64_t ctx) {
    at.kv_per_request = KvBytesPerRequest(p, double(ctx)) / p.r->ep;
    return Fits(MemoryFor(p, at, batch, pass_tokens(double(ctx))));
  };
  at.kv_per_request = 0;
  const MemoryEstimate none = MemoryFor(p, at, batch, kMaxTokensPerPass);
  const double per_token = KvBytesPerRequest(p, 1) / p.r->ep * batch;
  const double guess = per_token > 0 ? (none.capacity - none.total) / per_token : 1;
  return LargestFitting(fits, guess);
}

Plan MakePlan(const Cluster& c, const ModelArch& m, const InferenceRequest& r, uint32_t& warnings) {
  const Device& d = c.device;
  Plan p{};
  p.d = &d;
  p.c = &c;
  p.m = &m;
  p.r = &r;
  p.gemm = GemmRate(d, r.precision, warnings);
  if (r.precision.sparse_24) {
    // 2:4 sparsity: the kept half of the values plus a 2-bit index each.
    if (d.sparsity_speedup > 1) {
      p.gemm.rate *= d.sparsity_speedup;
    } else {
      warnings |= kWarnSparsityFallback;
    }
  }
  p.rate16_attention = Peak(d, SixteenBit(d)) * d.attention_efficiency;
  p.act_bytes = std::max(1.0, DtypeBytes(r.precision.activations));
  // 2:4 sparse weights keep half the values and a 2-bit index for each kept one.
  p.w_bytes = r.precision.sparse_24 ? (0.5 * DtypeBits(r.precision.weights) + 1) / 8 : DtypeBytes(r.precision.weights);
  p.kv_bytes = DtypeBytes(r.precision.kv_cache);
  p.head_w_bytes = std::max(2.0, p.w_bytes);  // quantisers keep embedding and LM head at 16 bits
  p.comm_bytes = 2;
  p.links = LinksOf(c);
  const int domain = c.topology.scale_up_domain;
  const bool tp_in_domain = r.tp <= domain;
  const bool ep_in_domain = r.tp * r.ep <= domain;
  if (!tp_in_domain && r.tp > 1) warnings |= kWarnTpCrossesNodes;
  if (!ep_in_domain && r.ep > 1) warnings |= kWarnEpCrossesNodes;
  if (c.topology.scale_out_assumed && r.tp * r.ep * r.pp > domain) warnings |= kWarnNoScaleOutBandwidth;
  if (c.topology.domain_assumed && c.topology.scale_up_bandwidth.si() > 0 && r.tp * r.ep * r.pp > 1) {
    warnings |= kWarnAssumedNode;
  }
  for (const LayerGroup& g : m.groups) {
    if (g.attention.kind == AttentionKind::kMultiHead && g.attention.kv_heads < r.tp) warnings |= kWarnKvHeadsReplicated;
  }
  return p;
}

struct Timing {
  PhaseEstimate prefill, decode;
  double ttft = 0, tpot = 0, latency = 0, out_rate = 0, in_rate = 0;
};

// A static batch: prefill all `batch` requests, then decode them together.
Timing StaticTiming(const Plan& p, double batch) {
  const InferenceRequest& r = *p.r;
  const double L = r.input_tokens, O = r.output_tokens;
  const double micro = std::min<double>(batch, r.pp);
  Timing t;
  t.prefill = FullPass(p, 0, 0, batch, L, micro, false);
  t.decode = FullPass(p, batch, L + O / 2, 0, 0, micro, true);  // at the mean context over the generation
  t.ttft = t.prefill.seconds;
  t.tpot = t.decode.seconds;
  t.latency = t.ttft + (O - 1) * t.tpot;
  t.out_rate = batch * O / t.latency;
  t.in_rate = batch * L / t.latency;
  return t;
}

// Continuous batching with `c` requests in flight: each iteration decodes one
// token for every running request and prefills the requests that replace the
// ones finishing (c / O per iteration on average).
// Requests each engine (attention replica) can keep decoding while it also
// prefills their replacements within max_num_tokens per iteration:
// c + (c / O) L <= budget.
double SustainableConcurrency(const InferenceRequest& r) {
  const double L = r.input_tokens, O = r.output_tokens;
  return std::max(1.0, std::floor(kMaxTokensPerPass * O / (O + L))) * r.ep;
}

Timing ConcurrentTiming(const Plan& p, double requested) {
  const InferenceRequest& r = *p.r;
  const double L = r.input_tokens, O = r.output_tokens;
  // Beyond what the token budget sustains, requests wait in the queue.
  const double c = std::min(requested, SustainableConcurrency(r));
  const double new_requests = c / O;
  const double micro = std::min<double>(c, r.pp);
  Timing t;
  const PhaseEstimate mixed = FullPass(p, c, L + O / 2, new_requests, L, micro, true);
  // The iteration's decode and prefill shares, for reporting.
  t.decode = FullPass(p, c, L + O / 2, 0, 0, micro, true);
  t.prefill = FullPass(p, 0, 0, new_requests, L, micro, true);
  const double iteration = mixed.seconds;
  t.tpot = iteration;
  t.out_rate = c / iteration;
  t.in_rate = new_requests * L / iteration;
  // A request's prompt is prefilled within one iteration per max_num_tokens
  // chunk, after any wait in the queue (Little's law: latency = in flight / rate).
  const double served = iteration * std::max(1.0, std::ceil(L / kMaxTokensPerPass)) + (O - 1) * iteration;
  t.latency = std::max(served, requested * O / t.out_rate);
  t.ttft = t.latency - (O - 1) * t.tpot;
  return t;
}

bool FinitePhase(const PhaseEstimate& ph) { return std::isfinite(ph.seconds) && ph.seconds >= 0; }

}  // namespace

std::string_view BoundName(Bound b) {
  switch (b) {
    case Bound::kCompute: return "compute";
    case Bound::kMemory: return "memory";
    case Bound::kCommunication: return "communication";
    case Bound::kOverhead: return "overhead";
  }
  return "?";
}

std::string_view OpClassName(OpClass c) {
  switch (c) {
    case OpClass::kProjection: return "projection";
    case OpClass::kAttention: return "attention";
    case OpClass::kMlp: return "mlp";
    case OpClass::kExperts: return "experts";
    case OpClass::kLmHead: return "lm_head";
    case OpClass::kElementwise: return "elementwise";
    case OpClass::kAllReduce: return "allreduce";
    case OpClass::kAllToAll: return "alltoall";
    case OpClass::kPipeline: return "pipeline";
    case OpClass::kFixed: return "fixed";
  }
  return "?";
}

std::string_view InfeasibleReasonText(InfeasibleReason r) {
  switch (r) {
    case InfeasibleReason::kNone: return "";
    case InfeasibleReason::kWeightsDoNotFit: return "the weights alone exceed device memory";
    case InfeasibleReason::kKvDoesNotFit: return "weights + KV cache + workspace exceed device memory at this batch";
    case InfeasibleReason::kContextTooLong: return "one request's KV cache does not fit at this context length";
  }
  return "?";
}

namespace {
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
};
}  // namespace

std::vector<std::string> WarningList(uint32_t w) { return WarningSentences(w, kWarningTexts); }
std::string WarningTexts(uint32_t w) { return JoinSentences(WarningList(w)); }

Status CheckInferencePlan(const Cluster& cluster, const ModelArch& m, const InferenceRequest& r) {
  const Device& device = cluster.device;
  std::vector<Diagnostic> bad;
  auto fail = [&](std::string key, std::string msg) {
    bad.push_back(Diagnostic{.key_path = std::move(key), .message = std::move(msg)});
  };
  if (r.input_tokens < 1) fail("input_tokens", "must be at least 1, found " + std::to_string(r.input_tokens));
  if (r.output_tokens < 1) fail("output_tokens", "must be at least 1, found " + std::to_string(r.output_tokens));
  const bool max_mode = r.mode == BatchMode::kStaticMax || r.mode == BatchMode::kConcurrencyMax;
  if (!max_mode && r.batch < 1) fail("batch", "must be at least 1, found " + std::to_string(r.batch));
  if (r.input_tokens > (int64_t(1) << 32) || r.output_tokens > (int64_t(1) << 32) || r.batch > (int64_t(1) << 32)) {
    fail("tokens", "token and batch counts above 2^32 are not supported");
  }
  if (r.tp < 1 || r.pp < 1 || r.ep < 1) {
    fail("parallelism", "tp, pp and ep must be at least 1");
    return Error(std::move(bad));
  }
  if (r.tp > 4096 || r.pp > 4096 || r.ep > 4096) fail("parallelism", "tp, pp and ep above 4096 are not supported");
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
  for (const LayerGroup& g : m.groups) {
    if (g.is_moe() && g.moe.experts % r.ep != 0) {
      fail("ep", "ep " + std::to_string(r.ep) + " does not divide the " + std::to_string(g.moe.experts) + " experts");
      break;
    }
  }
  if (r.pp > m.layers) {
    fail("pp", "pp " + std::to_string(r.pp) + " exceeds the model's " + std::to_string(m.layers) + " layers");
  }
  if (r.mode == BatchMode::kStatic || r.mode == BatchMode::kConcurrency) {
    if (r.ep > 1 && r.batch < r.ep) {
      fail("batch", "batch " + std::to_string(r.batch) + " is smaller than ep " + std::to_string(r.ep) +
                        " (each attention replica needs a request)");
    }
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

Result<InferenceEstimate> EstimateInference(const Cluster& c, const ModelArch& m, const InferenceRequest& request) {
  if (auto ok = CheckInferencePlan(c, m, request); !ok) return std::move(ok).error();
  const Device& d = c.device;
  InferenceRequest r = request;
  InferenceEstimate e;
  uint32_t warnings = 0;
  const Plan p = MakePlan(c, m, r, warnings);
  e.devices = r.tp * r.pp * r.ep;
  e.tier = d.tier;
  e.compute_dtype = p.gemm.dtype;
  const double L = r.input_tokens, O = r.output_tokens;
  if (m.max_positions > 0 && r.input_tokens + r.output_tokens > m.max_positions) warnings |= kWarnContextBeyondModel;
  const bool static_mode = r.mode == BatchMode::kStatic || r.mode == BatchMode::kStaticMax;
  const MemoryModel mm = BuildMemory(p, L + O);
  e.max_batch = MaxBatch(p, mm, L, static_mode);
  auto pass_tokens = [&](double b) { return static_mode ? b * L / r.ep : b / r.ep + L; };

  if (r.mode == BatchMode::kStaticMax || r.mode == BatchMode::kConcurrencyMax) {
    const int64_t cap = std::max<int64_t>(e.max_batch, r.ep);
    if (r.mode == BatchMode::kConcurrencyMax) {
      // All that fit in memory, but no more than the token budget keeps served.
      r.batch = std::min<int64_t>(cap, int64_t(SustainableConcurrency(r)));
    } else {
      // Throughput usually rises with the batch, but a compute-bound prefill of
      // a huge batch can make it flat: take the best of powers of two and the cap.
      double best = -1;
      int64_t best_b = cap;
      for (int64_t b = std::max(1, r.ep); b <= cap; b = (b * 2 > cap && b < cap) ? cap : b * 2) {
        const double rate = StaticTiming(p, double(b)).out_rate;
        if (rate > best * (1 + 1e-9)) {
          best = rate;
          best_b = b;
        }
        if (b == cap) break;
      }
      r.batch = best_b;
    }
  }
  const double B = double(r.batch);
  e.batch = r.batch;
  const Timing t = static_mode ? StaticTiming(p, B) : ConcurrentTiming(p, B);
  e.prefill = t.prefill;
  e.decode = t.decode;
  e.ttft_s = t.ttft;
  e.tpot_s = t.tpot;
  e.request_latency_s = t.latency;
  e.output_tokens_per_s = t.out_rate;
  e.output_tokens_per_s_per_device = t.out_rate / e.devices;
  e.input_tokens_per_s = t.in_rate;
  if (d.board_power.si() > 0) e.output_tokens_per_s_per_kw = t.out_rate / (e.devices * d.board_power.si() / 1e3);
  if (c.price_per_chip.si() > 0) e.output_tokens_per_s_per_usd = t.out_rate / (e.devices * c.price_per_chip.si());
  // Queued requests (beyond what continuous batching serves) hold no KV cache.
  const double held = static_mode ? B : std::min(B, SustainableConcurrency(r));
  e.memory = MemoryFor(p, mm, held, pass_tokens(held));
  e.fits = Fits(e.memory);
  if (!e.fits) {
    const MemoryEstimate one = MemoryFor(p, mm, std::min<double>(B, r.ep), pass_tokens(std::min<double>(B, r.ep)));
    e.reason = e.memory.weights + d.reserved_bytes.si() > e.memory.capacity ? InfeasibleReason::kWeightsDoNotFit
               : !Fits(one)                                             ? InfeasibleReason::kContextTooLong
                                                                        : InfeasibleReason::kKvDoesNotFit;
  }
  e.max_context_tokens = MaxContext(p, mm, B, static_mode);
  e.warnings = warnings;
  if (!FinitePhase(e.prefill) || !FinitePhase(e.decode) || !std::isfinite(e.output_tokens_per_s)) {
    return Error::Internal("the estimate is not finite for this plan");
  }
  return e;
}

}  // namespace suanli
