// Decoding and running `serve`.
#include "suanli/api/serve.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <numeric>

#include "suanli/core/text.h"

namespace suanli {
namespace {

std::string Text(const Args& args, std::string_view key) {
  const auto v = args.Get(key);
  return v ? std::string(TrimBlanks(*v)) : std::string();
}
double Number(const Args& args, std::string_view key, double fallback) {
  const auto v = args.Get(key);
  return v ? std::strtod(std::string(*v).c_str(), nullptr) : fallback;
}
int64_t Integer(const Args& args, std::string_view key, int64_t fallback) { return int64_t(Number(args, key, double(fallback))); }
bool Flag(const Args& args, std::string_view key) { return args.Get(key) == "true"; }

Diagnostic At(std::string key, std::string message) { return Diagnostic{.key_path = std::move(key), .message = std::move(message)}; }

// "devices=8,tp=8,dp-attention=8,ep=8" (keys with - or _).
std::optional<std::string> ParsePoolPlan(const std::string& text, ServePlanSpec& out) {
  if (text.empty()) return "expected key=value pairs, e.g. devices=8,tp=8";
  for (const std::string& item : SplitCommaItems(text)) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) return "'" + item + "' is not key=value";
    std::string key = item.substr(0, eq);
    for (char& c : key) c = c == '_' ? '-' : c;
    const std::string value = item.substr(eq + 1);
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || v != std::floor(v) || v < 1 || v > 16777216.0) {
      return "'" + item + "': expected a whole number of at least 1";
    }
    if (key == "devices") {
      out.devices = int(v);
    } else if (key == "tp") {
      out.tp = int(v);
    } else if (key == "pp") {
      out.pp = int(v);
    } else if (key == "ep") {
      out.ep = int(v);
    } else if (key == "dp-attention" || key == "dp") {
      out.dp = int(v);
    } else if (key == "max-batch") {
      out.max_batch = int64_t(v);
    } else if (key == "max-batch-tokens") {
      out.max_batch_tokens = int64_t(v);
    } else if (key == "redundant-experts") {
      out.redundant_experts = int(v);
    } else {
      return "unknown key '" + key + "' (devices, tp, pp, ep, dp-attention, max-batch, max-batch-tokens, redundant-experts)";
    }
  }
  return std::nullopt;
}

}  // namespace

Result<ServeQuery> DecodeServe(const Args& args) {
  if (auto ok = CheckArgs(CommandFor("serve"), args); !ok) return std::move(ok).error();
  ServeQuery q;
  std::vector<Diagnostic> bad;
  q.hardware = Text(args, "hardware");
  q.rank = RankOf(args);
  q.model = Text(args, "model");
  q.stack = Text(args, "stack");
  Precision& p = q.precision;
  auto dtype = [&](std::string_view key, Dtype fallback) {
    return args.Has(key) ? ParseDtype(Text(args, key)).value_or(fallback) : fallback;
  };
  p.weights = dtype("weights", Dtype::kBf16);
  // fp8 checkpoints compute in fp8; int8 weights are W8A8 (Ascend's quantised serving); the rest is weight-only.
  p.activations = dtype("activations", p.weights == Dtype::kFp8 ? Dtype::kFp8 : p.weights == Dtype::kInt8 ? Dtype::kInt8 : Dtype::kBf16);
  p.kv_cache = dtype("kv_cache", Dtype::kBf16);
  q.plan = ServePlanSpec{.devices = int(Integer(args, "devices", 0)), .tp = int(Integer(args, "tp", 0)),
                         .pp = int(Integer(args, "pp", 0)), .ep = int(Integer(args, "ep", 0)),
                         .dp = int(Integer(args, "dp_attention", 0)), .max_batch = 0, .max_batch_tokens = 0,
                         .redundant_experts = int(Integer(args, "redundant_experts", 0))};
  q.replicas = int(Integer(args, "replicas", 1));
  q.mtp = int(Integer(args, "mtp", 0));
  if (args.Has("mtp_acceptance")) {
    if (q.mtp == 0) bad.push_back(At("mtp_acceptance", "needs --mtp (the draft tokens per step)"));
    // "0.875" or "0.88,0.70,0.58": each in (0, 1], no more than the draft tokens.
    const std::string text = Text(args, "mtp_acceptance");
    std::vector<double> list;
    for (const std::string& item : SplitCommaItems(text)) {
      char* end = nullptr;
      const double v = item.empty() ? 0 : std::strtod(item.c_str(), &end);
      if (item.empty() || end == nullptr || *end != '\0' || !std::isfinite(v)) {
        bad.push_back(At("mtp_acceptance", "expected numbers in (0, 1], comma-separated, found '" + item + "'"));
        list.clear();
        break;
      }
      if (!(v > 0 && v <= 1)) {
        bad.push_back(At("mtp_acceptance", "each acceptance must be in (0, 1], found '" + item + "'"));
        list.clear();
        break;
      }
      list.push_back(v);
    }
    if (q.mtp > 0 && int(list.size()) > q.mtp) {
      bad.push_back(At("mtp_acceptance", std::to_string(list.size()) + " acceptances for " + std::to_string(q.mtp) +
                                             " draft tokens (--mtp): at most one per draft position"));
    }
    q.mtp_acceptance = std::move(list);
  }
  if (args.Has("max_batch")) q.max_batch = Integer(args, "max_batch", 1);
  if (args.Has("max_batch_tokens")) q.max_batch_tokens = Integer(args, "max_batch_tokens", 1);
  if (args.Has("block_size")) q.block_size = Integer(args, "block_size", 1);
  if (args.Has("chunked_prefill")) {
    const std::string c = Text(args, "chunked_prefill");
    char* end = nullptr;
    const double v = std::strtod(c.c_str(), &end);
    if (c == "off") {
      q.chunk = 0;
    } else if (c.empty() || *end != '\0' || v != std::floor(v) || v < 1 || v > 4294967296.0) {
      bad.push_back(At("chunked_prefill", "expected a chunk size in tokens (at least 1) or 'off', found '" + c + "'"));
    } else {
      q.chunk = int64_t(v);
    }
  }
  if (args.Has("priority")) q.priority = Text(args, "priority") == "prefill_first" ? Priority::kPrefillFirst : Priority::kDecodeFirst;
  q.prefix_hit = Number(args, "prefix_cache_hit", 0);

  // PD disaggregation.
  const bool has_p = args.Has("prefill"), has_d = args.Has("decode");
  q.disaggregated = has_p || has_d;
  if (has_p != has_d) bad.push_back(At(has_p ? "decode" : "prefill", "PD disaggregation needs both --prefill and --decode"));
  if (q.disaggregated) {
    for (auto [key, spec] : {std::pair{"prefill", &q.prefill}, std::pair{"decode", &q.decode}}) {
      if (!args.Has(key)) continue;
      if (auto why = ParsePoolPlan(Text(args, key), *spec)) bad.push_back(At(key, *why));
    }
    for (const char* k : {"devices", "tp", "pp", "ep", "dp_attention", "replicas", "redundant_experts"}) {
      if (args.Has(k)) bad.push_back(At(k, "with --prefill and --decode, give the layout inside each pool's plan"));
    }
  } else {
    for (const char* k : {"prefill_instances", "decode_instances"}) {
      if (args.Has(k)) bad.push_back(At(k, "needs --prefill and --decode"));
    }
  }
  q.prefill_instances = int(Integer(args, "prefill_instances", 1));
  q.decode_instances = int(Integer(args, "decode_instances", 1));

  // SLA.
  if (args.Has("sla_ttft")) q.sla.ttft_s = Number(args, "sla_ttft", 0);
  if (args.Has("sla_tpot")) q.sla.tpot_s = Number(args, "sla_tpot", 0);
  q.sla.attainment = Number(args, "sla_attainment", 0.9);
  q.sla_given = args.Has("sla_ttft") || args.Has("sla_tpot");
  q.max_rate = Flag(args, "max_rate");
  if (q.max_rate && !q.sla_given) bad.push_back(At("max_rate", "needs an SLA to meet: --sla-ttft and/or --sla-tpot"));
  q.pd_search = Flag(args, "pd_search");
  if (q.pd_search && (!q.disaggregated || !q.max_rate || args.Has("prefill_instances"))) {
    bad.push_back(At("pd_search", "searches the prefill:decode instance counts for the best --max-rate per device: needs "
                                  "--prefill, --decode and --max-rate, not --prefill-instances"));
  }
  q.pd_search_decode = q.pd_search && !args.Has("decode_instances");
  q.two_batch_overlap = Flag(args, "two_batch_overlap");
  if (args.Has("preemption")) q.swap = Text(args, "preemption") == "swap";
  if (args.Has("sla_attainment") && !q.sla_given) bad.push_back(At("sla_attainment", "needs --sla-ttft or --sla-tpot"));
  q.timeline = Text(args, "timeline");

  // One phase in steady state.
  if (args.Has("phase")) {
    q.phase = Text(args, "phase") == "decode" ? ServePhase::kDecode : ServePhase::kPrefill;
    if (q.disaggregated) bad.push_back(At("phase", "measures one instance: not with --prefill and --decode"));
    if (q.max_rate) bad.push_back(At("max_rate", "not with --phase (no queue in steady state)"));
    for (const char* k : {"trace", "rate", "arrival", "concurrency", "offline", "requests", "timeline", "replicas"}) {
      if (args.Has(k)) bad.push_back(At(k, "not with --phase (one instance in steady state, no queue)"));
    }
    if (args.Has("sla_ttft")) bad.push_back(At("sla_ttft", "not with --phase (no queue: use --sla-tpot with --phase decode)"));
    if (q.phase == ServePhase::kDecode) {
      if (!args.Has("batch")) bad.push_back(At("batch", "--phase decode needs --batch N or max"));
      if (!args.Has("context_tokens")) bad.push_back(At("context_tokens", "--phase decode needs --context-tokens"));
      for (const char* k : {"input_tokens", "output_tokens", "batch_tokens"}) {
        if (args.Has(k)) bad.push_back(At(k, "not with --phase decode (give --batch and --context-tokens)"));
      }
      q.batch = Text(args, "batch") == "max" ? 0 : Integer(args, "batch", 1);
      q.context_tokens = Integer(args, "context_tokens", 1);
    } else {
      if (!args.Has("input_tokens")) bad.push_back(At("input_tokens", "--phase prefill needs --input-tokens"));
      for (const char* k : {"batch", "context_tokens", "output_tokens", "sla_tpot", "mtp"}) {
        if (args.Has(k)) bad.push_back(At(k, "not with --phase prefill"));
      }
      q.batch_tokens = Integer(args, "batch_tokens", 0);
      if (args.Has("input_tokens")) {
        auto d = ParseLengthDist(Text(args, "input_tokens"));
        if (!d || d->kind != LengthKind::kFixed) {
          bad.push_back(At("input_tokens", "--phase prefill needs a fixed prompt length"));
        } else {
          q.workload.input = *d;
        }
      }
    }
    if (!bad.empty()) return Error(std::move(bad));
    return q;
  }
  for (const char* k : {"batch", "context_tokens", "batch_tokens"}) {
    if (args.Has(k)) bad.push_back(At(k, "needs --phase"));
  }

  // Workload and load.
  GeneratedWorkload& w = q.workload;
  q.trace = Text(args, "trace");
  if (!q.trace.empty()) {
    for (const char* k : {"input_tokens", "output_tokens", "rate", "arrival", "concurrency", "offline", "requests", "seed"}) {
      if (args.Has(k)) bad.push_back(At(k, "not with --trace (the trace gives lengths and arrivals)"));
    }
    if (q.max_rate) bad.push_back(At("max_rate", "not with --trace (the search generates its own arrivals)"));
  } else {
    for (auto [key, into] : {std::pair{"input_tokens", &w.input}, std::pair{"output_tokens", &w.output}}) {
      if (!args.Has(key)) {
        bad.push_back(At(key, "needed (or --trace FILE)"));
        continue;
      }
      auto d = ParseLengthDist(Text(args, key));
      if (!d) {
        bad.push_back(At(key, d.error().diagnostics.front().message));
      } else {
        *into = *d;
      }
    }
    const int loads = int(args.Has("rate")) + int(args.Has("concurrency")) + int(Flag(args, "offline"));
    if (loads > 1) {
      bad.push_back(At(args.Has("rate") ? "rate" : "concurrency", "give one load: --rate, --concurrency or --offline"));
    }
    if (args.Has("arrival") && !args.Has("rate") && !q.max_rate) bad.push_back(At("arrival", "needs --rate"));
    w.load.kind = args.Has("rate") ? ArrivalKind::kPoisson
                  : args.Has("concurrency") ? ArrivalKind::kClosedLoop
                  : q.max_rate ? ArrivalKind::kPoisson
                               : ArrivalKind::kOffline;
    if (q.max_rate && (args.Has("rate") || args.Has("concurrency") || Flag(args, "offline"))) {
      bad.push_back(At("max_rate", "searches the rate: not with --rate, --concurrency or --offline"));
    }
    w.load.rate = Number(args, "rate", 0);
    w.load.concurrency = Integer(args, "concurrency", 0);
    if (args.Has("arrival")) {
      const std::string a = Text(args, "arrival");
      if (a == "poisson") {
        w.load.cv = 1;
      } else if (a.starts_with("gamma:")) {
        char* end = nullptr;
        const std::string cv = a.substr(6);
        const double v = std::strtod(cv.c_str(), &end);
        if (cv.empty() || *end != '\0' || !(v > 0.01 && v <= 100)) {
          bad.push_back(At("arrival", "gamma:CV needs a coefficient of variation between 0.01 and 100, found '" + cv + "'"));
        } else {
          w.load.kind = ArrivalKind::kGamma;
          w.load.cv = v;
        }
      } else {
        bad.push_back(At("arrival", "expected poisson or gamma:CV, found '" + a + "'"));
      }
    }
    w.requests = Integer(args, "requests", 1000);
    w.seed = uint64_t(Integer(args, "seed", 1));
    // Bounded work: the simulation steps through every output token.
    const double tokens = double(w.requests) * std::max(w.output.Mean(), w.output.min);
    if (tokens > 1e11) {
      bad.push_back(At("requests", "the simulation would generate " + std::to_string(int64_t(tokens / 1e9)) +
                                       " billion output tokens; at most 100 billion (fewer --requests or shorter outputs)"));
    }
  }
  if (!bad.empty()) return Error(std::move(bad));
  return q;
}

Result<ServeResult> RunServe(const Catalog& catalog, const ServeQuery& q) {
  auto d = ResolveDeployment(catalog, q.hardware, q.model, q.rank);
  if (!d) return std::move(d).error();
  auto stack_rec = catalog.StackOf(StackKind::kServing, q.stack);
  if (!stack_rec) return std::move(stack_rec).error();
  const Stack& st = **stack_rec;
  ServeResult out{.hardware = std::move(d->hardware), .model = std::move(d->model), .cluster = std::move(d->cluster),
                  .query = q};
  out.stack = st.id;
  out.warnings = out.hardware.warnings;
  const ModelArch& arch = out.model.arch;

  // MTP.
  out.spec.draft = q.mtp;
  if (q.mtp > 0) {
    if (q.mtp_acceptance) {
      out.spec.acceptance = *q.mtp_acceptance;
    } else if (const Figure* f = FindFigure(out.model.published, "mtp_acceptance") != nullptr
                                     ? FindFigure(out.model.published, "mtp_acceptance")
                                     : FindFigure(out.model.published, "published.mtp_acceptance")) {
      // The model's figures by position, as many as the draft tokens (positions past the list take its last).
      out.spec.acceptance = FigureValues(*f);
      if (int(out.spec.acceptance.size()) > q.mtp) out.spec.acceptance.resize(std::size_t(q.mtp));
    } else {
      return Error(At("mtp_acceptance", "the model " + out.model.id + " publishes no MTP acceptance: give --mtp-acceptance"));
    }
  }

  // Pools.
  std::vector<PoolRequest> pools;
  if (q.disaggregated) {
    pools.push_back({PoolRole::kPrefill, q.prefill, q.prefill_instances, "prefill"});
    pools.push_back({PoolRole::kDecode, q.decode, q.decode_instances, "decode"});
  } else {
    pools.push_back({PoolRole::kMixed, q.plan, q.phase == ServePhase::kNone ? q.replicas : 1, ""});
  }
  ServeStackConfig sc = StackConfig(st);
  if (q.max_batch) sc.scheduler.max_seqs = *q.max_batch;
  if (q.max_batch_tokens) sc.scheduler.max_batched_tokens = *q.max_batch_tokens;
  if (q.chunk) sc.scheduler.chunk = *q.chunk;
  if (q.block_size) sc.scheduler.block_size = *q.block_size;
  if (q.priority) sc.scheduler.priority = *q.priority;
  sc.scheduler.prefix_hit = q.prefix_hit;
  if (q.swap) sc.scheduler.swap = *q.swap;
  sc.iteration.two_batch_overlap = q.two_batch_overlap;
  if (q.two_batch_overlap && !IsMoe(arch)) {
    return Error(At("two_batch_overlap", "overlaps the expert-parallel dispatch and combine: needs a mixture-of-experts model"));
  }
  auto built = BuildDeployment(out.cluster, arch, q.precision, pools, sc, q.disaggregated);
  if (!built) return std::move(built).error();
  ServeOptions opt{.spec = out.spec, .sla = q.sla, .timeline = !q.timeline.empty(), .cancel = q.cancel,
                   .phase_device_time = q.phase_device_time};
  if (q.pd_search) {
    // The prefill:decode instance counts with the highest SLA-meeting rate
    // per device: 1 to 8 prefill instances beside the decode instances given,
    // or, without --decode-instances, every ratio P:D in lowest terms with P
    // and D from 1 to 4. A tie keeps the candidate tried first.
    std::vector<std::pair<int, int>> tries;
    if (q.pd_search_decode) {
      for (int p = 1; p <= 4; ++p) {
        for (int dd = 1; dd <= 4; ++dd) {
          if (std::gcd(p, dd) == 1) tries.emplace_back(p, dd);
        }
      }
    } else {
      for (int p = 1; p <= 8; ++p) tries.emplace_back(p, q.decode_instances);
    }
    double best = -1;
    for (auto [p, dd] : tries) {
      pools[0].instances = p;
      pools[1].instances = dd;
      auto b = BuildDeployment(out.cluster, arch, q.precision, pools, sc, true);
      if (!b) return std::move(b).error();
      auto mr = FindMaxRate(b->deployment, q.workload, opt);
      if (!mr) return std::move(mr).error();
      const int devices = b->deployment.devices();
      out.pd_candidates.push_back({.prefill = p, .decode = dd, .devices = devices, .max_rate = mr->rate});
      out.max_rate_probes += mr->probes;
      const double per_device = mr->rate / devices;
      if (per_device > best * (1 + 1e-9)) {
        best = per_device;
        built = std::move(b);
        out.max_rate = mr->rate;
        out.stats = std::move(mr->at_rate);
      }
    }
    out.warnings.push_back("P:D searched: " + std::to_string(built->pools[0].instances) + " prefill : " +
                           std::to_string(built->pools[1].instances) + " decode instances give the most SLA-meeting requests per device");
  }
  for (auto& n : built->notes) out.warnings.push_back(n);
  out.pools = built->pools;
  out.fits = built->fits;
  out.reason = built->reason;
  const ServeDeployment& dep = built->deployment;
  out.devices = dep.devices();
  if (!out.fits) return out;
  const ServePool& pool = dep.pools.front();

  if (q.phase == ServePhase::kDecode) {
    auto ph = DecodePhase(pool, out.spec, q.batch, double(q.context_tokens), q.sla.tpot_s);
    if (!ph) return std::move(ph).error();
    out.fits = ph->fits;
    out.reason = ph->reason;
    out.batch = ph->batch;
    out.step_time_s = ph->step_s;
    out.phase_tpot_s = ph->tpot_s;
    out.phase_output_tokens_per_s = ph->output_tokens_per_s;
    return out;
  }
  if (q.phase == ServePhase::kPrefill) {
    const double budget = double(q.batch_tokens > 0 ? q.batch_tokens : pool.scheduler.max_batched_tokens);
    const PhaseResult ph = PrefillPhase(pool, q.workload.input.a, budget);
    out.batch = ph.batch;
    out.step_time_s = ph.step_s;
    out.phase_input_tokens_per_s = ph.input_tokens_per_s;
    return out;
  }

  if (q.pd_search) {
    // Done above.
  } else if (q.max_rate) {
    auto mr = FindMaxRate(dep, q.workload, opt);
    if (!mr) return std::move(mr).error();
    out.max_rate = mr->rate;
    out.max_rate_probes = mr->probes;
    out.stats = std::move(mr->at_rate);
  } else {
    std::unique_ptr<RequestSource> src;
    if (!q.trace.empty()) {
      auto t = OpenTrace(q.trace);
      if (!t) return std::move(t).error();
      src = std::move(*t);
    } else {
      src = MakeGenerator(q.workload);
    }
    auto s = Simulate(dep, *src, opt);
    if (!s) return std::move(s).error();
    out.stats = std::move(*s);
  }
  if (out.max_rate && *out.max_rate > 0) {
    const double ramp = RampShare(*out.max_rate, out.stats);
    if (ramp > kMaxRampShare) {
      const double in_flight = *out.max_rate * out.stats.e2e.mean;
      out.warnings.push_back(fmt::format(
          "the run is too short for a steady state: its {} requests arrive over {:.3g} s, while the {:.0f} in flight at "
          "{:.3g} requests/s ({:.3g} s end to end) build up over the first {:.3g} s (ramp share {:.2f}, above {:g}): the rate "
          "is a transient's, above the steady state's; --requests {} or more for a steady-state rate",
          out.stats.requests, double(out.stats.requests) / *out.max_rate, in_flight, *out.max_rate, out.stats.e2e.mean,
          out.stats.e2e.mean, ramp, kMaxRampShare, SteadyRequests(*out.max_rate, out.stats)));
    }
  }
  if (out.stats.unservable > 0) {
    out.warnings.push_back(std::to_string(out.stats.unservable) +
                           " requests were dropped: the prompt alone exceeds one attention rank's KV cache");
  }
  if (out.stats.preemptions > 0) {
    out.warnings.push_back(std::to_string(out.stats.preemptions) + " preemptions: the KV cache ran out and requests were " +
                           (built->deployment.pools.front().scheduler.swap ? "swapped to host memory" : "recomputed"));
  }
  return out;
}

}  // namespace suanli
