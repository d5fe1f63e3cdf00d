// The analytical inference estimator: a static batch is one prefill pass then
// decode passes; continuous batching is one mixed pass per iteration at the
// mean context, with what the serving stack's token budget sustains in flight.
// Every pass is an IterationModel::Cost; this file adds memory, the batch
// choice and the latency arithmetic.
#include "suanli/infer/infer.h"
#include "suanli/infer/memory.h"

#include <algorithm>
#include <cmath>

namespace suanli {
namespace {

// Memory per device (the fullest pipeline stage) for `batch` requests of
// `context` tokens each.
struct MemoryModel {
  double weights = 0;          // B
  double kv_per_request = 0;   // B at the planned context
  double act_fixed = 0;        // workspace independent of batch
  double act_per_request = 0;  // logits and per-request buffers
  double act_per_token = 0;    // per token of the largest pass
};

struct Context {
  const Cluster* c;
  const ModelArch* m;
  const InferenceRequest* r;
  const IterationModel* it;
};

MemoryModel BuildMemory(const Context& x, double context) {
  const ModelArch& m = *x.m;
  const InferencePlan& r = x.r->plan;
  const OpBytes& b = x.it->bytes();
  MemoryModel mm;
  const double tp = r.tp, ep = r.ep;
  double widest = m.hidden;
  for (const LayerGroup& g : m.groups) {
    const LayerParams lp = CountLayerParams(g, m.hidden, m.norm);
    const double layers = std::ceil(double(g.count) / r.pp);
    // Redundant experts (EPLB) add replicas of whole experts to the ranks.
    const double replicas = g.is_moe() && g.moe.experts > 0 ? double(g.moe.experts + r.redundant_experts) / g.moe.experts : 1;
    mm.weights += layers * (lp.shared / tp + lp.experts * replicas / (tp * ep)) * b.weight;
    widest = std::max({widest, double(g.mlp.ffn), double(g.moe.expert_ffn) * std::max(1, g.moe.top_k)});
  }
  const ParamCount pc = CountEmbeddingParams(m);
  // Vocab-parallel embedding on the first stage, LM head on the last.
  const double head = r.pp > 1 ? std::max(pc.embedding, pc.lm_head) : pc.embedding + pc.lm_head;
  mm.weights += head / tp * b.head_weight;
  mm.kv_per_request = x.it->KvBytes(context) / ep;  // each replica holds 1/ep of the requests
  // Activations of the largest pass: hidden state, QKV, and the MLP's widest
  // intermediate (gate and up), at activation precision, plus fp32 logits.
  mm.act_per_token = (4.0 * m.hidden + 3.0 * widest / tp) * b.activation;
  mm.act_per_request = double(m.vocab) / tp * 4;
  return mm;
}

MemoryEstimate MemoryFor(const Context& x, const MemoryModel& mm, double batch, double pass_tokens) {
  MemoryEstimate me;
  const Device& d = x.c->device;
  me.capacity = d.memory_capacity.si();
  me.weights = mm.weights;
  me.kv_cache = mm.kv_per_request * batch;
  const double per_device_batch = batch / x.r->plan.ep;
  me.activations = mm.act_per_token * std::min(pass_tokens, x.r->stack.max_num_tokens) + mm.act_per_request * per_device_batch;
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

// How requests are batched: all at once (static) or continuously.
enum class Batching { kStatic, kContinuous };

// Tokens of the largest pass for `batch` requests: a static batch prefills
// every prompt at once, continuous batching one prompt beside the decodes.
double PassTokens(const Context& x, Batching batching, double batch, double context) {
  const double ep = x.r->plan.ep;
  return batching == Batching::kStatic ? batch * context / ep : batch / ep + context;
}

// Largest batch whose memory fits (0 if none).
int64_t MaxBatch(const Context& x, const MemoryModel& mm, double input_len, Batching batching) {
  auto fits = [&](int64_t b) {
    return Fits(MemoryFor(x, mm, double(b), PassTokens(x, batching, double(b), input_len)));
  };
  const MemoryEstimate one = MemoryFor(x, mm, 1, PassTokens(x, batching, 1, input_len));
  const double per_request = mm.kv_per_request + mm.act_per_request / x.r->plan.ep;
  const double guess = per_request > 0 ? 1 + (one.capacity - one.total) / per_request : 1;
  return LargestFitting(fits, guess);
}

// Longest context (input + output) one request may have at `batch` (0 if
// none), counting the whole context as prompt for the workspace.
int64_t MaxContext(const Context& x, const MemoryModel& mm, double batch, Batching batching) {
  const double ep = x.r->plan.ep;
  MemoryModel at = mm;
  auto fits = [&](int64_t ctx) {
    at.kv_per_request = x.it->KvBytes(double(ctx)) / ep;
    return Fits(MemoryFor(x, at, batch, PassTokens(x, batching, batch, double(ctx))));
  };
  at.kv_per_request = 0;
  const MemoryEstimate none = MemoryFor(x, at, batch, x.r->stack.max_num_tokens);
  const double per_token = x.it->KvBytes(1) / ep * batch;
  const double guess = per_token > 0 ? (none.capacity - none.total) / per_token : 1;
  return LargestFitting(fits, guess);
}

struct Timing {
  PhaseEstimate prefill, decode;
  double ttft = 0, tpot = 0, latency = 0, out_rate = 0, in_rate = 0;
};

// `sequences` decoding at `context` and `prompts` prefilling `len` tokens.
PhaseEstimate Pass(const Context& x, double sequences, double context, double prompts, double len, double micro,
                   PipelineFill fill) {
  const DecodeBucket decode{.sequences = sequences, .context = context};
  const PrefillChunk prefill{.sequences = prompts, .offset = 0, .tokens = len, .completes = true};
  const BatchComposition batch{.decode = sequences > 0 ? std::span(&decode, 1) : std::span<const DecodeBucket>{},
                               .prefill = prompts > 0 ? std::span(&prefill, 1) : std::span<const PrefillChunk>{}};
  return x.it->Cost(batch, fill, micro);
}

// A static batch: prefill all `batch` requests, then decode them together.
Timing StaticTiming(const Context& x, double batch) {
  const InferenceWorkload& w = x.r->workload;
  const double L = double(w.input_tokens), O = double(w.output_tokens);
  const double micro = std::min<double>(batch, x.r->plan.pp);
  Timing t;
  t.prefill = Pass(x, 0, 0, batch, L, micro, PipelineFill::kFillAndDrain);
  t.decode = Pass(x, batch, L + O / 2, 0, 0, micro, PipelineFill::kSteady);  // at the mean context over the generation
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
  const double L = double(r.workload.input_tokens), O = double(r.workload.output_tokens);
  return std::max(1.0, std::floor(r.stack.max_num_tokens * O / (O + L))) * r.plan.ep;
}

Timing ConcurrentTiming(const Context& x, double requested) {
  const InferenceRequest& r = *x.r;
  const double L = double(r.workload.input_tokens), O = double(r.workload.output_tokens);
  // Beyond what the token budget sustains, requests wait in the queue.
  const double c = std::min(requested, SustainableConcurrency(r));
  const double new_requests = c / O;
  const double micro = std::min<double>(c, r.plan.pp);
  Timing t;
  const PhaseEstimate mixed = Pass(x, c, L + O / 2, new_requests, L, micro, PipelineFill::kSteady);
  // The iteration's decode and prefill shares, for reporting.
  t.decode = Pass(x, c, L + O / 2, 0, 0, micro, PipelineFill::kSteady);
  t.prefill = Pass(x, 0, 0, new_requests, L, micro, PipelineFill::kSteady);
  const double iteration = mixed.seconds;
  t.tpot = iteration;
  t.out_rate = c / iteration;
  t.in_rate = new_requests * L / iteration;
  // A request's prompt is prefilled in chunks of what the token budget leaves
  // beside the engine's decodes, each chunk one iteration of those decodes and
  // the chunk (every engine prefilling one), after any wait in the queue
  // (Little's law: latency = in flight / rate). The passes hold the whole
  // prompt's FLOPs, so TTFT never beats the prompt at peak.
  const double per_engine = c / r.plan.ep;
  const double chunk = std::min(L, std::max(1.0, r.stack.max_num_tokens - per_engine));
  const double passes = std::ceil(L / chunk);
  const double first = Pass(x, c, L + O / 2, r.plan.ep, chunk, micro, PipelineFill::kSteady).seconds;
  const double served = passes * first + (O - 1) * iteration;
  t.latency = std::max(served, requested * O / t.out_rate);
  t.ttft = t.latency - (O - 1) * t.tpot;
  return t;
}

bool FinitePhase(const PhaseEstimate& ph) { return std::isfinite(ph.seconds) && ph.seconds >= 0; }

}  // namespace

std::string_view InfeasibleReasonText(InfeasibleReason r) {
  switch (r) {
    case InfeasibleReason::kNone: return "";
    case InfeasibleReason::kWeightsDoNotFit: return "the weights alone exceed device memory";
    case InfeasibleReason::kKvDoesNotFit: return "weights + KV cache + workspace exceed device memory at this batch";
    case InfeasibleReason::kContextTooLong: return "one request's KV cache does not fit at this context length";
  }
  return "?";
}

ServingMemory ServingMemoryFor(const IterationModel& it, double pass_tokens, double sequences) {
  InferenceRequest r;
  r.plan = it.plan();
  r.stack.max_num_tokens = pass_tokens;
  const Context x{&it.cluster(), &it.model(), &r, &it};
  const MemoryModel mm = BuildMemory(x, 0);
  // MemoryFor counts per-request buffers for batch / ep requests per device.
  const MemoryEstimate me = MemoryFor(x, mm, sequences * r.plan.ep, pass_tokens);
  ServingMemory out{.capacity = me.capacity, .weights = me.weights, .activations = me.activations,
                    .reserved = me.reserved, .kv_cache = 0};
  out.kv_cache = std::max(0.0, me.capacity - me.weights - me.activations - me.reserved);
  return out;
}

Result<ServingStack> MakeServingStack(const Catalog& catalog, std::string_view id) {
  auto found = catalog.StackOf(StackKind::kServing, id);
  if (!found) return std::move(found).error();
  const Stack* s = *found;
  return ServingStack{.id = s->id,
                      .max_num_tokens = s->Get("scheduler.max_num_tokens").value_or(0),
                      .expert_imbalance = s->Get("moe.expert_imbalance").value_or(1),
                      .fused_residual_norm = s->fused_residual_norm,
                      .deepep = s->Get("moe.deepep").value_or(0) > 0.5};
}

namespace {

// The workload and stack checks, with the plan's (CheckInferencePlan's
// result, `plan_ok`) joined after them: one error lists every problem.
Status CheckRequest(const InferenceRequest& request, const Status& plan_ok) {
  const InferenceWorkload& r = request.workload;
  std::vector<Diagnostic> bad;
  auto fail = [&](std::string key, std::string msg) {
    bad.push_back(Diagnostic{.key_path = std::move(key), .message = std::move(msg)});
  };
  if (r.input_tokens < 1) fail("input_tokens", "must be at least 1, found " + std::to_string(r.input_tokens));
  if (r.output_tokens < 1) fail("output_tokens", "must be at least 1, found " + std::to_string(r.output_tokens));
  const bool max_mode = r.mode == BatchMode::kStaticMax || r.mode == BatchMode::kConcurrencyMax;
  if (!max_mode && r.batch < 1) fail("batch", "must be at least 1, found " + std::to_string(r.batch));
  constexpr int64_t kMax = int64_t(1) << 32;
  for (auto [key, v] : {std::pair{"input_tokens", r.input_tokens}, std::pair{"output_tokens", r.output_tokens},
                        std::pair{"batch", r.batch}}) {
    if (v > kMax) fail(key, "must be at most " + std::to_string(kMax) + " (2^32), found " + std::to_string(v));
  }
  if (!(request.stack.max_num_tokens >= 1)) {
    fail("stack", "no serving stack: the request needs one (MakeServingStack) with max_num_tokens of at least 1");
  }
  if (!(request.stack.expert_imbalance >= 1)) fail("stack", "the serving stack's expert_imbalance must be at least 1");
  if (!plan_ok) {
    const auto& ds = plan_ok.error().diagnostics;
    bad.insert(bad.end(), ds.begin(), ds.end());
  }
  if (!bad.empty()) return Error(std::move(bad));
  if (request.plan.ep > 1 && (r.mode == BatchMode::kStatic || r.mode == BatchMode::kConcurrency) &&
      r.batch < request.plan.ep) {
    return Error(Diagnostic{.key_path = "batch",
                            .message = "batch " + std::to_string(r.batch) + " is smaller than ep " +
                                       std::to_string(request.plan.ep) + " (each attention replica needs a request)"});
  }
  return Ok{};
}

}  // namespace

Status CheckInferenceRequest(const Cluster& cluster, const ModelArch& m, const InferenceRequest& request) {
  return CheckRequest(request, CheckInferencePlan(cluster, m, request.plan));
}

Result<InferenceEstimate> EstimateInference(const Cluster& c, const ModelArch& m, const InferenceRequest& request) {
  // Make checks the plan; the request's own checks come first in the error.
  auto model = IterationModel::Make(c, m, request.plan,
                                    IterationStack{.expert_imbalance = request.stack.expert_imbalance,
                                                   .fused_residual_norm = request.stack.fused_residual_norm,
                                                   .deepep = request.stack.deepep});
  const Status plan_ok = model ? Status(Ok{}) : Status(model.error());
  if (auto ok = CheckRequest(request, plan_ok); !ok) return std::move(ok).error();
  const Device& d = c.device;
  const IterationModel& it = *model;
  InferenceRequest r = request;
  InferenceWorkload& w = r.workload;
  const Context x{&c, &m, &r, &it};
  InferenceEstimate e;
  uint32_t warnings = it.warnings();
  e.devices = r.plan.devices();
  e.tier = d.tier;
  e.compute_dtype = it.compute_dtype();
  const double L = double(w.input_tokens), O = double(w.output_tokens);
  if (m.max_positions > 0 && w.input_tokens + w.output_tokens > m.max_positions) warnings |= kWarnContextBeyondModel;
  const Batching batching =
      w.mode == BatchMode::kStatic || w.mode == BatchMode::kStaticMax ? Batching::kStatic : Batching::kContinuous;
  const MemoryModel mm = BuildMemory(x, L + O);
  e.max_batch = MaxBatch(x, mm, L, batching);

  if (w.mode == BatchMode::kStaticMax || w.mode == BatchMode::kConcurrencyMax) {
    const int64_t cap = std::max<int64_t>(e.max_batch, r.plan.ep);
    if (w.mode == BatchMode::kConcurrencyMax) {
      // All that fit in memory, but no more than the token budget keeps served.
      w.batch = std::min<int64_t>(cap, int64_t(SustainableConcurrency(r)));
    } else {
      // Throughput usually rises with the batch, but a compute-bound prefill of
      // a huge batch can make it flat: take the best of powers of two and the cap.
      double best = -1;
      int64_t best_b = cap;
      for (int64_t b = std::max(1, r.plan.ep); b <= cap; b = (b * 2 > cap && b < cap) ? cap : b * 2) {
        const double rate = StaticTiming(x, double(b)).out_rate;
        if (rate > best * (1 + 1e-9)) {
          best = rate;
          best_b = b;
        }
        if (b == cap) break;
      }
      w.batch = best_b;
    }
  }
  const double B = double(w.batch);
  e.batch = w.batch;
  const Timing t = batching == Batching::kStatic ? StaticTiming(x, B) : ConcurrentTiming(x, B);
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
  const double held = batching == Batching::kStatic ? B : std::min(B, SustainableConcurrency(r));
  e.memory = MemoryFor(x, mm, held, PassTokens(x, batching, held, L));
  e.fits = Fits(e.memory);
  if (!e.fits) {
    const double first = std::min<double>(B, r.plan.ep);
    const MemoryEstimate one = MemoryFor(x, mm, first, PassTokens(x, batching, first, L));
    e.reason = e.memory.weights + d.reserved_bytes.si() > e.memory.capacity ? InfeasibleReason::kWeightsDoNotFit
               : !Fits(one)                                                  ? InfeasibleReason::kContextTooLong
                                                                             : InfeasibleReason::kKvDoesNotFit;
  }
  e.max_context_tokens = MaxContext(x, mm, B, batching);
  e.warnings = warnings;
  if (!FinitePhase(e.prefill) || !FinitePhase(e.decode) || !std::isfinite(e.output_tokens_per_s)) {
    return Error::Internal("the estimate is not finite for this plan");
  }
  return e;
}

}  // namespace suanli
