// Deployments from layouts and stacks, and one instance in steady state.
#include "suanli/serve/deployment.h"

#include <algorithm>
#include <cmath>

#include "suanli/infer/memory.h"

namespace suanli {
namespace {

Diagnostic At(std::string key, std::string message) { return Diagnostic{.key_path = std::move(key), .message = std::move(message)}; }

struct Built {
  InferencePlan plan;
  int dp = 1;
  std::vector<std::string> notes;
};

// One instance's plan: devices = tp x pp x dp. With DP attention the
// IterationModel's ep is the attention ranks and the experts span tp x dp.
Result<Built> BuildPlan(const ServePlanSpec& s, const Precision& precision, bool moe, const std::string& where) {
  Built b;
  const std::string pre = where.empty() ? "" : where + ": ";
  auto k = [&](const char* field) { return where.empty() ? std::string(field) : where; };
  const int pp = s.pp > 0 ? s.pp : 1;
  const int dp = s.dp > 0 ? s.dp : 1;
  int tp = s.tp;
  if (tp == 0) tp = s.devices > 0 ? s.devices / (pp * dp) : 1;
  if (tp < 1 || (s.devices > 0 && int64_t(tp) * pp * dp != s.devices)) {
    return Error(At(k("devices"), pre + "devices " + std::to_string(s.devices) + " is not tp x pp x dp-attention (" +
                                      std::to_string(s.tp > 0 ? s.tp : tp) + " x " + std::to_string(pp) + " x " +
                                      std::to_string(dp) + ")"));
  }
  if (dp > 1 && !moe) return Error(At(k("dp_attention"), pre + "data-parallel attention needs a mixture-of-experts model"));
  if (s.ep > 1 && !moe) return Error(At(k("ep"), pre + "ep " + std::to_string(s.ep) + " needs a mixture-of-experts model"));
  if (dp > 1 && s.ep > 0 && s.ep != tp * dp) {
    return Error(At(k("ep"), pre + "with DP attention the experts span every device of a stage: ep must be tp x dp-attention = " +
                                 std::to_string(tp * dp) + ", found " + std::to_string(s.ep)));
  }
  if (dp == 1 && s.ep > 1) {
    if (tp % s.ep != 0) {
      return Error(At(k("ep"), pre + "without DP attention ep must divide tp (" + std::to_string(tp) + "), found " + std::to_string(s.ep)));
    }
    b.notes.push_back(pre + "ep " + std::to_string(s.ep) +
                      " without DP attention: attention tensor-parallel over the tp ranks, the routed experts split over " +
                      std::to_string(s.ep) + " of them as expert parallelism (with DeepEP the tokens are "
                      "reduce-scattered, dispatched, combined and all-gathered, as SGLang runs it; else every rank keeps "
                      "all the tokens and the all-reduces stay)");
  }
  b.plan = InferencePlan{.tp = tp, .pp = pp, .ep = dp, .precision = precision, .redundant_experts = s.redundant_experts,
                         .tp_ep = dp == 1 && s.ep > 1 ? s.ep : 1};
  if (s.redundant_experts > 0 && dp == 1) {
    return Error(At(k("redundant_experts"), pre + "redundant experts spread over DP-attention ranks: give --dp-attention"));
  }
  b.dp = dp;
  return b;
}

}  // namespace

ServeStackConfig StackConfig(const Stack& st) {
  ServeStackConfig c;
  c.id = st.id;
  SchedulerConfig& s = c.scheduler;
  s.max_seqs = int64_t(st.Get("scheduler.max_num_seqs").value_or(256));
  s.max_batched_tokens = int64_t(st.Get("scheduler.max_num_tokens").value_or(8192));
  s.chunk = int64_t(st.Get("scheduler.chunk_size").value_or(0));
  s.block_size = int64_t(st.Get("scheduler.block_size").value_or(16));
  s.priority = st.Get("scheduler.prefill_first").value_or(0) > 0.5 ? Priority::kPrefillFirst : Priority::kDecodeFirst;
  c.iteration = IterationStack{.expert_imbalance = st.Get("moe.expert_imbalance").value_or(1),
                               .fused_residual_norm = st.fused_residual_norm};
  c.expert_imbalance_eplb = st.Get("moe.expert_imbalance_eplb").value_or(0);
  c.iteration.deepep = st.Get("moe.deepep").value_or(0) > 0.5;
  return c;
}

Result<BuiltDeployment> BuildDeployment(const Cluster& cluster, const ModelArch& arch, const Precision& precision,
                                        const std::vector<PoolRequest>& pools, const ServeStackConfig& stack,
                                        bool strict) {
  BuiltDeployment out;
  const bool moe = IsMoe(arch);
  for (const PoolRequest& ps : pools) {
    auto b = BuildPlan(ps.plan, precision, moe, ps.where);
    if (!b) return std::move(b).error();
    IterationStack iteration = stack.iteration;
    if (b->plan.redundant_experts > 0 && stack.expert_imbalance_eplb > 0) {
      // EPLB places the redundant experts by measured load: its imbalance.
      iteration.expert_imbalance = stack.expert_imbalance_eplb;
    }
    auto m = IterationModel::Make(cluster, arch, b->plan, iteration);
    if (!m) {
      if (ps.where.empty()) return std::move(m).error();
      Error e = std::move(m).error();
      for (Diagnostic& d : e.diagnostics) {
        d.message = ps.where + ": " + (d.key_path.empty() ? "" : d.key_path + ": ") + d.message;
        d.key_path = ps.where;
      }
      return e;
    }
    out.models.push_back(std::make_unique<IterationModel>(std::move(*m)));
    const IterationModel& it = *out.models.back();
    for (auto& n : b->notes) out.notes.push_back(n);
    for (auto& w : WarningList(it.warnings())) out.notes.push_back((ps.where.empty() ? "" : ps.where + ": ") + w);
    SchedulerConfig sc = stack.scheduler;
    if (ps.plan.max_batch > 0) sc.max_seqs = ps.plan.max_batch;
    if (ps.plan.max_batch_tokens > 0) sc.max_batched_tokens = ps.plan.max_batch_tokens;
    if (sc.chunk > sc.max_batched_tokens) sc.chunk = sc.max_batched_tokens;
    const ServingMemory mem =
        ServingMemoryFor(it, double(sc.max_batched_tokens), double(std::min<int64_t>(sc.max_seqs, 1 << 20)));
    const double per_token = it.KvBytes(1);
    ServePoolResult pr{.role = ps.role, .plan = b->plan, .instances = ps.instances, .dp = b->dp,
                       .kv_tokens_per_rank = per_token > 0 ? int64_t(std::min(1e15, mem.kv_cache / per_token)) : 0,
                       .scheduler = sc, .kv_cache_bytes_per_device = mem.kv_cache, .weights_bytes_per_device = mem.weights};
    if (pr.kv_tokens_per_rank < sc.block_size) {
      const std::string why = mem.weights + mem.reserved > mem.capacity
                                  ? "the weights alone exceed device memory"
                                  : "weights + workspace + reserve leave less than one KV block per rank";
      if (strict) {
        const std::string name = ps.where.empty() ? "the deployment" : "the " + ps.where + " pool";
        return Error(At(ps.where.empty() ? "devices" : ps.where,
                        name + " does not fit: " + why + " (" + std::to_string(int(mem.weights / 1e9)) +
                            " GB of weights per device, " + std::to_string(int(mem.capacity / 1e9)) + " GB of memory)"));
      }
      out.fits = false;
      out.reason = why;
    }
    out.pools.push_back(pr);
    out.deployment.pools.push_back(ServePool{.role = ps.role, .model = &it, .instances = ps.instances, .dp = b->dp,
                                             .kv_tokens_per_rank = pr.kv_tokens_per_rank, .scheduler = sc,
                                             .host_bytes_per_s = cluster.host_link.si()});
    if (sc.swap && !(cluster.host_link.si() > 0)) {
      return Error(At("preemption", "swap needs the host link's bandwidth, which the hardware record does not give"));
    }
  }
  if (pools.size() == 2) {
    const Links links = LinksOf(cluster);
    if (!(links.out > 0)) return Error(At("prefill", "the hardware has no scale-out bandwidth to move the KV cache"));
    out.deployment.transfer_latency_s = links.latency;
    out.deployment.transfer_per_byte_s = 1 / links.out;
  }
  return out;
}

Result<PhaseResult> DecodePhase(const ServePool& pool, const SpecDecode& spec, int64_t batch, double ctx, double sla_tpot) {
  const IterationModel& it = *pool.model;
  PhaseResult out;
  const double tps = spec.TokensPerStep();
  const double dp = pool.dp;
  // Sequences per rank the KV cache holds at this context (with the draft tokens' slots).
  const double per_rank_fit = std::floor(double(pool.kv_tokens_per_rank) / (ctx + 1 + spec.draft));
  const int64_t fit = int64_t(per_rank_fit * dp);
  auto step = [&](int64_t n) {
    const DecodeBucket b{.sequences = double(n), .context = ctx, .tokens = double(1 + spec.draft)};
    return IterationSeconds(it, BatchComposition{.decode = std::span(&b, 1), .prefill = {}}, spec.draft);
  };
  int64_t n = batch;
  if (n == 0) {
    n = fit;
    if (n >= int64_t(dp) && std::isfinite(sla_tpot)) {
      // TPOT rises with the batch: the largest that meets the SLA.
      if (step(int64_t(dp)) / tps > sla_tpot) {
        n = 0;
      } else {
        int64_t lo = int64_t(dp), hi = n;
        if (step(hi) / tps <= sla_tpot) lo = hi;
        while (hi - lo > 1) {
          const int64_t mid = lo + (hi - lo) / 2;
          (step(mid) / tps <= sla_tpot ? lo : hi) = mid;
        }
        n = lo;
      }
    }
    if (n < int64_t(dp)) {
      out.fits = false;
      out.reason = fit < int64_t(dp) ? "not one sequence per attention rank fits at this context" : "no batch meets the TPOT SLA";
      return out;
    }
  } else if (n > fit) {
    out.fits = false;
    out.reason = "the KV cache holds " + std::to_string(fit) + " sequences of this context, not " + std::to_string(n);
  }
  if (n < int64_t(dp)) {
    return Error(At("batch", "at least one sequence per attention rank: the batch must be at least " + std::to_string(int64_t(dp))));
  }
  out.batch = n;
  out.step_s = step(n);
  out.tpot_s = out.step_s / tps;
  out.output_tokens_per_s = double(n) * tps / out.step_s;
  return out;
}

PhaseResult PrefillPhase(const ServePool& pool, double L, double budget) {
  const IterationModel& it = *pool.model;
  PhaseResult out;
  const double dp = pool.dp;
  double seconds = 0, tokens = 0, passes = 0;
  if (L <= budget) {
    // Whole prompts per pass per rank.
    const double prompts = std::floor(budget / L);
    const PrefillChunk c{.sequences = prompts * dp, .offset = 0, .tokens = L, .completes = true};
    seconds = IterationSeconds(it, BatchComposition{.decode = {}, .prefill = std::span(&c, 1)}, 0);
    tokens = prompts * dp * L;
    passes = 1;
    out.batch = int64_t(prompts * dp);
  } else {
    // One prompt per rank in chunks of the budget (past 1,024 chunks, 1,024
    // evenly spaced ones stand for them: bounded time for any prompt).
    const double chunks = std::ceil(L / budget);
    const double step = std::max(1.0, std::floor(chunks / 1024));
    for (double i = 0; i < chunks; i += step) {
      const double off = i * budget;
      const double len = std::min(budget, L - off);
      const PrefillChunk c{.sequences = dp, .offset = off, .tokens = len, .completes = off + len >= L};
      seconds += step * IterationSeconds(it, BatchComposition{.decode = {}, .prefill = std::span(&c, 1)}, 0);
      passes += step;
    }
    tokens = dp * L;
    out.batch = int64_t(dp);
  }
  out.step_s = seconds / passes;
  out.input_tokens_per_s = tokens / seconds;
  return out;
}

}  // namespace suanli
