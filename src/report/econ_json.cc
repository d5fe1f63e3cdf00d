// JSON of the economics results (econ_json.h).
#include "suanli/report/econ_json.h"

#include <nlohmann/json.hpp>

namespace suanli {
namespace {

using nlohmann::json;

json DeviceHour(const TcoBreakdown& b) {
  return json{{"usd_per_device_hour", b.total()},       {"capex_usd_per_device_hour", b.capex},
              {"power_usd_per_device_hour", b.power},   {"hosting_usd_per_device_hour", b.hosting},
              {"maintenance_usd_per_device_hour", b.maintenance}, {"wall_power_w_per_device", b.power_w_at_wall}};
}

void AddTokens(json& j, const TokenCost& t) {
  j["usd_per_million_output_tokens"] = t.usd_per_million_output_tokens;
  j["usd_per_million_input_tokens"] = t.usd_per_million_input_tokens;
  j["joules_per_output_token"] = t.joules_per_output_token;
  j["output_tokens_per_s_per_kw"] = t.output_tokens_per_s_per_kw;
}

void AddRun(json& j, const TrainingCost& c) {
  j["run_cost_usd"] = c.run_cost_usd;
  j["energy_j"] = c.energy_j;
  j["device_hours"] = c.device_hours;
}

}  // namespace

std::string ToJson(const CostResult& r) {
  json j = DeviceHour(r.base);
  json low = DeviceHour(r.range.low), high = DeviceHour(r.range.high);
  j["hardware"] = r.hardware.id();
  j["chip"] = r.hardware.chip.id;
  j["rank"] = DeviceRankName(r.hardware.rank);
  j["facility"] = r.facility != nullptr ? r.facility->id : "";
  j["currency"] = r.currency == Currency::kCny ? "cny" : "usd";
  json inputs = json::object();
  for (int i = 0; i < kTcoInputs; ++i) {
    const TcoInput& in = r.inputs.items[i];
    inputs[std::string(kTcoInputNames[i])] = json{{"value", in.base}, {"low", in.low}, {"high", in.high}, {"from", in.from}};
  }
  j["inputs"] = inputs;
  const bool serving = r.serving.has_value() || r.simulation.has_value();
  // $/Mtoken is the device-hour cost times a constant, so the sensitivity is shown in both.
  const double per_mtok = r.usd_per_million_output_tokens_per_usd_per_device_hour();
  json sens = json::array();
  for (const auto& s : r.sensitivity) {
    json row{{"input", kTcoInputNames[static_cast<int>(s.input)]},
             {"usd_per_device_hour_at_low", s.metric_at_low},
             {"usd_per_device_hour_at_high", s.metric_at_high}};
    if (serving) {
      row["usd_per_million_output_tokens_at_low"] = s.metric_at_low * per_mtok;
      row["usd_per_million_output_tokens_at_high"] = s.metric_at_high * per_mtok;
    }
    sens.push_back(row);
  }
  j["sensitivity"] = sens;
  if (serving) {
    AddTokens(j, r.tokens);
    AddTokens(low, r.tokens_low);
    AddTokens(high, r.tokens_high);
  }
  if (r.simulation) {
    const ServeResult& s = *r.simulation;
    const ServeStats& st = s.stats;
    json sim{{"model", s.model.id},
             {"devices", s.devices},
             {"requests", st.requests},
             {"duration_s", st.duration_s},
             {"input_tokens", st.input_tokens},
             {"output_tokens", st.output_tokens},
             {"output_tokens_per_s", r.serving_point.output_tokens_per_s},
             {"input_tokens_per_s", r.serving_point.input_tokens_per_s},
             {"requests_per_s", st.requests_per_s()},
             {"ttft_mean_s", st.ttft.mean},
             {"tpot_mean_s", st.tpot.mean},
             {"sla_attainment", st.attainment()},
             {"prefill_device_s", st.prefill_device_s},
             {"decode_device_s", st.decode_device_s},
             {"device_s", double(s.devices) * st.duration_s},
             {"prefill_device_share", r.serving_point.prefill_device_share},
             {"prefill_share_from", r.serving_point.prefill_share_from},
             {"from", s.max_rate ? "serve --max-rate (the deployment held at the rate found)"
                                 : "serve (the simulated run, priced over its wall time)"}};
    if (s.max_rate) sim["max_rate_requests_per_s"] = *s.max_rate;
    j["simulation"] = sim;
  }
  if (r.serving) {
    const InferenceEstimate& e = r.serving->estimate;
    j["serving"] = json{{"model", r.serving->model.id},
                        {"output_tokens_per_s", e.output_tokens_per_s},
                        {"input_tokens_per_s", e.input_tokens_per_s},
                        {"devices", e.devices},
                        {"batch", e.batch},
                        {"ttft_s", e.ttft_s},
                        {"tpot_s", e.tpot_s},
                        {"request_latency_s", e.request_latency_s},
                        {"prefill_pass_s", e.prefill.seconds},
                        {"decode_pass_s", e.decode.seconds},
                        {"prefill_device_share", r.serving_point.prefill_device_share},
                        {"prefill_share_from", r.serving_point.prefill_share_from},
                        {"from", "infer (analytical estimator)"}};
  }
  if (r.training) {
    AddRun(j, r.run);
    AddRun(low, r.run_low);
    AddRun(high, r.run_high);
    const RankedPlan& best = r.training->search.top.front();
    j["training"] = json{{"model", r.training->model.id},
                         {"devices", r.training->request.devices},
                         {"plan", r.training_plan},
                         {"tokens_per_s", best.estimate.tokens_per_s},
                         {"mfu", best.estimate.mfu},
                         {"tokens", r.training->request.tokens},
                         {"from", "train --search (best step time)"}};
  }
  j["low"] = low;
  j["high"] = high;
  if (r.currency == Currency::kCny) {
    const double k = r.fx.cny_per_usd;
    j["fx"] = json{{"cny_per_usd", k}, {"record", r.fx.record}, {"date", r.fx.date}};
    j["cny_per_device_hour"] = r.base.total() * k;
    if (serving) {
      j["cny_per_million_output_tokens"] = r.tokens.usd_per_million_output_tokens * k;
      j["cny_per_million_input_tokens"] = r.tokens.usd_per_million_input_tokens * k;
    }
    if (r.training) j["run_cost_cny"] = r.run.run_cost_usd * k;
  }
  j["warnings"] = r.warnings;
  return j.dump(2);
}

std::string ToJson(const FleetResult& r) {
  json periods = json::array();
  for (const auto& p : r.periods) {
    json deployments = json::array();
    for (const auto& d : p.deployments) {
      deployments.push_back(json{{"system", d.system}, {"demand", d.demand}, {"from", d.from}, {"deployment_nodes", d.deployment_nodes},
                                 {"count", d.count}});
    }
    periods.push_back(json{{"period", p.period}, {"units", p.units}, {"bought", p.bought}, {"cost_usd", p.cost_usd},
                           {"capex_usd", p.capex_usd}, {"power_w", p.power_w}, {"served", p.served},
                           {"utilization", p.utilization},
                           {"utilization_by_system", p.utilization_by_system},
                           {"allocation", p.allocation}, {"deployments", deployments}});
  }
  json binding = json::array();
  for (const auto& b : r.binding) {
    binding.push_back(json{{"constraint", b.constraint}, {"kind", b.kind}, {"unit", b.unit}, {"shadow_price", b.shadow_price},
                           {"relaxed_shadow_price", b.relaxed_shadow_price}, {"slack", b.slack}});
  }
  json candidates = json::array();
  for (const auto& c : r.candidates) {
    json caps = json::array();
    for (std::size_t d = 0; d < c.capacity.size(); ++d) {
      json options = json::array();
      for (const auto& o : c.options[d]) options.push_back(json{{"per_node", o.per_node}, {"deployment_nodes", o.deployment_nodes}, {"from", o.from}});
      caps.push_back(json{{"demand", d < r.demands.size() ? r.demands[d] : std::string()}, {"per_node", c.capacity[d]},
                          {"from", c.capacity_from[d]}, {"deployment_nodes", c.deployment_nodes[d]}, {"options", options}});
    }
    json blocked = json::array();
    for (std::size_t p = 0; p < c.purchasable.size(); ++p) {
      if (!c.purchasable[p]) blocked.push_back(json{{"period", p < r.periods.size() ? r.periods[p].period : std::to_string(p)}, {"why", c.why_not[p]}});
    }
    candidates.push_back(json{{"system", c.system}, {"chip", c.chip}, {"vendor", c.vendor}, {"site", c.site},
                              {"chips_per_node", c.chips_per_node}, {"packages_per_node", c.packages_per_node},
                              {"price_usd_per_node", c.price_usd_per_node},
                              {"price_from", c.price_from}, {"cost_usd_per_node_hour", c.cost_usd_per_node_hour},
                              {"facility_power_w_per_node", c.facility_power_w_per_node}, {"capacity", caps},
                              {"not_purchasable", blocked}});
  }
  json j{{"scenario", r.scenario},
         {"file", r.file},
         {"feasible", r.feasible},
         {"total_cost_usd", r.feasible ? json(r.total_cost_usd) : json(nullptr)},
         {"capex_usd", r.feasible ? json(r.capex_usd) : json(nullptr)},
         {"solver", r.solver},
         {"solver_status", r.solver_status},
         {"robust", r.robust},
         {"candidates", candidates},
         {"periods", periods},
         {"binding", binding},
         {"shadow_prices",
          json{{"shadow_price", "fix-and-resolve: the dual of the LP with every integer purchase fixed at its optimal value"},
               {"relaxed_shadow_price", "the dual of the LP relaxation (purchases continuous)"},
               {"sign", "change of the objective per unit increase of the constraint's bound"}}},
         {"objective_unit", r.objective_unit},
         {"objective", r.feasible ? json(r.objective) : json(nullptr)},
         {"relaxed_objective", r.feasible ? json(r.relaxed_objective) : json(nullptr)},
         {"solver_nodes", r.solver_nodes},
         {"solver_iterations", r.solver_iterations},
         {"solver_bound", r.feasible ? json(r.solver_bound) : json(nullptr)},
         {"solver_relative_gap", r.feasible ? json(r.relative_gap) : json(nullptr)},
         {"period_lower_bound", r.feasible && r.period_lower_bound != 0 ? json(r.period_lower_bound) : json(nullptr)},
         {"start_cost_usd", r.feasible && r.start_cost != 0 ? json(r.start_cost) : json(nullptr)},
         {"utilization_means",
          "per period: demand served / capacity owned, the least fraction of every system's owned nodes that could serve the "
          "demand served (utilization_by_system and allocation: node-equivalents of served work in that allocation)"},
         {"conflicts", r.conflicts},
         {"warnings", r.warnings}};
  if (!r.shocks.empty()) {
    json shocks = json::array();
    for (const auto& s : r.shocks) shocks.push_back(json{{"shock", s.shock}, {"served_fraction", s.served_fraction}});
    j["shocks"] = shocks;
  }
  return j.dump(2);
}

}  // namespace suanli
