// The serving result as JSON, and its timeline as CSV.
#include "suanli/report/serve_json.h"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace suanli {
namespace {

using nlohmann::json;

json Stats(const Percentiles& p) { return json{{"mean", p.mean}, {"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}}; }

std::string_view RoleName(PoolRole r) {
  switch (r) {
    case PoolRole::kMixed: return "mixed";
    case PoolRole::kPrefill: return "prefill";
    case PoolRole::kDecode: return "decode";
  }
  return "?";
}

json Finite(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

}  // namespace

std::string ToJson(const ServeResult& r) {
  json pools = json::array();
  for (const ServePoolResult& p : r.pools) {
    pools.push_back(json{{"role", RoleName(p.role)},
                         {"instances", p.instances},
                         {"devices_per_instance", p.plan.devices()},
                         {"tp", p.plan.tp},
                         {"pp", p.plan.pp},
                         {"dp_attention", p.dp},
                         {"ep", p.plan.ep > 1 ? p.plan.tp * p.plan.ep : 1},
                         {"max_batch", p.scheduler.max_seqs},
                         {"max_batch_tokens", p.scheduler.max_batched_tokens},
                         {"chunked_prefill_tokens", p.scheduler.chunk},
                         {"prefill_first", p.scheduler.priority == Priority::kPrefillFirst},
                         {"block_size_tokens", p.scheduler.block_size},
                         {"kv_cache_tokens_per_rank", p.kv_tokens_per_rank},
                         {"kv_cache_bytes_per_device", p.kv_cache_bytes_per_device},
                         {"weights_bytes_per_device", p.weights_bytes_per_device},
                         {"preemption", p.scheduler.swap ? "swap" : "recompute"},
                         {"two_batch_overlap", r.query.two_batch_overlap && p.plan.ep > 1}});
  }
  const double devices = std::max(1, r.devices);
  json by_position = json::array();
  for (int i = 1; i <= r.spec.draft; ++i) by_position.push_back(r.spec.AcceptanceAt(i));
  json j{{"hardware", r.hardware.id()},
         {"rank", DeviceRankName(r.hardware.rank)},
         {"model", r.model.id},
         {"stack", r.stack},
         {"devices", r.devices},
         {"pools", pools},
         {"mtp", {{"draft_tokens", r.spec.draft}, {"acceptance", r.spec.AcceptanceAt(1)},
                  {"acceptance_by_position", by_position}, {"tokens_per_step", r.spec.TokensPerStep()}}},
         {"fits", r.fits},
         {"reason", r.fits ? json(nullptr) : json(r.reason)},
         {"warnings", r.warnings}};
  if (r.query.phase != ServePhase::kNone) {
    const bool decode = r.query.phase == ServePhase::kDecode;
    j["phase"] = decode ? "decode" : "prefill";
    j["batch"] = r.batch;
    j["step_time_s"] = r.step_time_s;
    j["tpot_s"] = decode ? json(r.phase_tpot_s) : json(nullptr);
    j["output_tokens_per_s"] = r.phase_output_tokens_per_s;
    j["output_tokens_per_s_per_device"] = r.phase_output_tokens_per_s / devices;
    j["input_tokens_per_s"] = r.phase_input_tokens_per_s;
    j["input_tokens_per_s_per_device"] = r.phase_input_tokens_per_s / devices;
    return j.dump(2);
  }
  const ServeStats& s = r.stats;
  const double d = s.duration_s;
  j["requests"] = s.requests;
  j["duration_s"] = d;
  j["output_tokens_per_s"] = d > 0 ? s.output_tokens / d : 0;
  j["output_tokens_per_s_per_device"] = d > 0 ? s.output_tokens / d / devices : 0;
  j["input_tokens_per_s"] = d > 0 ? s.input_tokens / d : 0;
  j["input_tokens_per_s_per_device"] = d > 0 ? s.input_tokens / d / devices : 0;
  j["requests_per_s"] = s.requests_per_s();
  j["ttft_s"] = Stats(s.ttft);
  j["tpot_s"] = Stats(s.tpot);
  j["e2e_latency_s"] = Stats(s.e2e);
  j["queue_s"] = Stats(s.queue);
  j["goodput_requests_per_s"] = d > 0 ? double(s.sla_met) / d : 0;
  j["sla_attainment"] = s.attainment();
  j["sla"] = {{"ttft_s", Finite(r.query.sla.ttft_s)}, {"tpot_s", Finite(r.query.sla.tpot_s)},
              {"attainment", r.query.sla.attainment}};
  if (r.max_rate) {
    j["max_rate_requests_per_s"] = *r.max_rate;
    j["max_rate_probes"] = r.max_rate_probes;
  }
  if (!r.pd_candidates.empty()) {
    // --pd-search: the ratio chosen (the pools above) and every one tried.
    json cands = json::array();
    for (const ServeResult::PdCandidate& c : r.pd_candidates) {
      cands.push_back(json{{"prefill_instances", c.prefill}, {"decode_instances", c.decode}, {"devices", c.devices},
                           {"max_rate_requests_per_s", c.max_rate},
                           {"max_rate_requests_per_s_per_device", c.per_device()}});
    }
    j["pd_search"] = {{"prefill_instances", r.pools.size() == 2 ? r.pools[0].instances : 0},
                      {"decode_instances", r.pools.size() == 2 ? r.pools[1].instances : 0},
                      {"candidates", cands}};
  }
  j["batch_mean"] = s.batch_mean;
  j["kv_utilization_mean"] = s.kv_utilization_mean;
  j["requests_in_system_mean"] = s.in_system_mean;
  j["preemptions"] = s.preemptions;
  j["backlog_at_last_arrival"] = s.backlog_at_last_arrival;  // requests still waiting for admission when the last arrived
  j["iterations"] = s.iterations;
  j["dropped_requests"] = s.unservable;
  return j.dump(2);
}

std::string TimelineCsv(const ServeResult& r) {
  std::string out = "start_s,seconds,pool,instance,decode_sequences,prefill_tokens,waiting,kv_utilization\n";
  char buf[256];
  for (const IterationRecord& it : r.stats.timeline) {
    std::snprintf(buf, sizeof buf, "%.9g,%.9g,%s,%d,%lld,%lld,%lld,%.6g\n", it.start_s, it.seconds,
                  std::string(RoleName(r.pools[std::size_t(it.pool)].role)).c_str(), it.instance,
                  static_cast<long long>(it.decode_sequences), static_cast<long long>(it.prefill_tokens),
                  static_cast<long long>(it.waiting), it.kv_utilization);
    out += buf;
  }
  return out;
}

}  // namespace suanli
