// `suanli cost` and `suanli fleet`: the economics results as text (the
// formulas and the JSON live in the library: econ/, report/econ_json.cc).
#include <iostream>

#include <fmt/format.h>

#include "common.h"
#include "suanli/econ/cost.h"
#include "suanli/econ/fleet.h"
#include "suanli/report/econ_json.h"
#include "table.h"

namespace suanli::cli {
namespace {

std::string Money(double usd, double k, std::string_view unit) { return fmt::format("{:.4g} {}", usd * k, unit); }

}  // namespace

int RunCostCommand(const GlobalOptions& global, const Args& args, Output output) {
  const CommandSpec& spec = CommandFor("cost");
  if (output == Output::kCsv) return Fail(Error(Diagnostic{.message = "cost has no CSV form; use --json"}), &spec);
  auto query = DecodeCost(args);
  if (!query) return Fail(query.error(), &spec);
  auto catalog = LoadWholeCatalog(global);
  if (!catalog) return Fail(catalog.error(), &spec);
  auto result = RunCostQuery(**catalog, *query);
  if (!result) return Fail(result.error(), &spec);
  const CostResult& r = *result;
  if (output == Output::kJson) {
    PrintJson(ToJson(r));
    return 0;
  }
  for (const auto& w : r.warnings) std::cerr << "warning: " << w << '\n';
  const bool cny = r.currency == Currency::kCny;
  const double k = cny ? r.fx.cny_per_usd : 1;
  const std::string unit = cny ? "CNY" : "USD";
  const std::string device = r.hardware.rank == DeviceRank::kDie ? " (a device: one " + r.hardware.chip.id + " die)" : "";
  std::cout << fmt::format("{}{} in facility {}: {} per device-hour of work (range {} .. {})\n", r.hardware.id(), device, r.facility->id,
                           Money(r.base.total(), k, unit), Money(r.range.low.total(), k, unit),
                           Money(r.range.high.total(), k, unit));
  if (cny) std::cout << fmt::format("at {:.4g} CNY/USD (fx {}, {})\n", r.fx.cny_per_usd, r.fx.record, r.fx.date);
  std::cout << '\n';
  Table terms;
  terms.Column("term");
  terms.Column(unit + "/device-hour", Table::Align::kRight);
  terms.Column("low", Table::Align::kRight);
  terms.Column("high", Table::Align::kRight);
  auto term = [&](const char* name, double b, double lo, double hi) {
    terms.Row({name, fmt::format("{:.4f}", b * k), fmt::format("{:.4f}", lo * k), fmt::format("{:.4f}", hi * k)});
  };
  term("capex (annuity)", r.base.capex, r.range.low.capex, r.range.high.capex);
  term("power", r.base.power, r.range.low.power, r.range.high.power);
  term("hosting", r.base.hosting, r.range.low.hosting, r.range.high.hosting);
  term("maintenance", r.base.maintenance, r.range.low.maintenance, r.range.high.maintenance);
  term("total", r.base.total(), r.range.low.total(), r.range.high.total());
  terms.Print(std::cout);
  std::cout << "\nInputs\n";
  Table in;
  in.Column("input");
  in.Column("value", Table::Align::kRight);
  in.Column("range", Table::Align::kRight);
  in.Column("from");
  for (int i = 0; i < kTcoInputs; ++i) {
    const TcoInput& x = r.inputs.items[i];
    in.Row({std::string(kTcoInputNames[i]), fmt::format("{:.6g}", x.base),
            x.low == x.high ? "" : fmt::format("{:.4g} .. {:.4g}", x.low, x.high), x.from});
  }
  in.Print(std::cout);
  if (r.serving) {
    const auto& e = r.serving->estimate;
    std::cout << fmt::format("\nServing {} (infer: {} devices, {} in flight, TTFT {}, TPOT {}, {} output tokens/s)\n",
                             r.serving->model.id, e.devices, e.batch, FormatSeconds(e.ttft_s), FormatSeconds(e.tpot_s),
                             Thousands(e.output_tokens_per_s));
  }
  if (r.simulation) {
    const ServeResult& sim = *r.simulation;
    const ServeStats& st = sim.stats;
    std::cout << fmt::format("\nServing {} (serve, simulated: {} devices, {} requests{} in {:.4g} s, {} output tokens/s, "
                             "mean TTFT {}, mean TPOT {}{})\n",
                             sim.model.id, sim.devices, st.requests,
                             sim.max_rate ? fmt::format(" at the SLA's max rate {:.4g}/s", *sim.max_rate) : std::string(),
                             st.duration_s, Thousands(r.serving_point.output_tokens_per_s), FormatSeconds(st.ttft.mean),
                             FormatSeconds(st.tpot.mean),
                             sim.query.sla_given ? fmt::format(", {:.0f} % within the SLA", st.attainment() * 100) : std::string());
  }
  if (r.serving || r.simulation) {
    std::cout << fmt::format("  {} per million output tokens ({} .. {})\n", Money(r.tokens.usd_per_million_output_tokens, k, unit),
                             Money(r.tokens_low.usd_per_million_output_tokens, k, unit),
                             Money(r.tokens_high.usd_per_million_output_tokens, k, unit));
    std::cout << fmt::format("  {} per million input tokens ({} .. {})\n", Money(r.tokens.usd_per_million_input_tokens, k, unit),
                             Money(r.tokens_low.usd_per_million_input_tokens, k, unit),
                             Money(r.tokens_high.usd_per_million_input_tokens, k, unit));
    if (r.serving_point.prefill_device_share >= 0) {
      std::cout << fmt::format("  {:.1f} % of the device time to the input tokens ({})\n", r.serving_point.prefill_device_share * 100,
                               r.serving_point.prefill_share_from);
    }
    std::cout << fmt::format("  {:.4g} J per output token at the wall; {} output tokens/s per kW\n",
                             r.tokens.joules_per_output_token, Thousands(r.tokens.output_tokens_per_s_per_kw));
  }
  if (r.training) {
    std::cout << fmt::format("\nTraining {} on {} devices ({})\n", r.training->model.id, r.training->request.devices,
                             r.training_plan);
    std::cout << fmt::format("  run {} ({} .. {}), {} device-hours, {:.4g} MWh at the wall\n", Money(r.run.run_cost_usd, k, unit),
                             Money(r.run_low.run_cost_usd, k, unit), Money(r.run_high.run_cost_usd, k, unit),
                             Thousands(r.run.device_hours), r.run.energy_j / 3.6e9);
  }
  if (!r.sensitivity.empty()) {
    const double per_mtok = r.usd_per_million_output_tokens_per_usd_per_device_hour();
    std::cout << "\nSensitivity (each input alone at the ends of its range)\n";
    Table s;
    s.Column("input");
    s.Column(r.serving || r.simulation ? unit + "/M output tokens" : unit + "/device-hour", Table::Align::kRight);
    for (const auto& x : r.sensitivity) {
      const double f = (per_mtok > 0 ? per_mtok : 1) * k;
      s.Row({std::string(kTcoInputNames[static_cast<int>(x.input)]),
             fmt::format("{:.4g} .. {:.4g}", x.metric_at_low * f, x.metric_at_high * f)});
    }
    s.Print(std::cout);
  }
  return 0;
}

int RunFleetCommand(const GlobalOptions& global, const Args& args, Output output) {
  const CommandSpec& spec = CommandFor("fleet");
  if (output == Output::kCsv) return Fail(Error(Diagnostic{.message = "fleet has no CSV form; use --json"}), &spec);
  auto query = DecodeFleet(args);
  if (!query) return Fail(query.error(), &spec);
  auto catalog = LoadWholeCatalog(global);
  if (!catalog) return Fail(catalog.error(), &spec);
  auto result = RunFleet(**catalog, *query);
  if (!result) return Fail(result.error(), &spec);
  const FleetResult& r = *result;
  if (output == Output::kJson) {
    PrintJson(ToJson(r));
    return 0;
  }
  for (const auto& w : r.warnings) std::cerr << "warning: " << w << '\n';
  std::cout << fmt::format("{} ({}): {}\n", r.scenario, r.file, r.feasible ? "feasible" : "INFEASIBLE");
  std::cout << fmt::format("solver {}: {} in {:.2f} s, {} branch-and-bound nodes, {} simplex iterations", r.solver,
                           r.solver_status, r.solve_seconds, r.solver_nodes, r.solver_iterations);
  if (r.feasible) std::cout << fmt::format(", gap to the bound {:.2g}", r.relative_gap);
  std::cout << "\n\n";
  std::cout << "Candidates\n";
  Table c;
  c.Column("system");
  c.Column("vendor");
  c.Column("USD/node", Table::Align::kRight);
  c.Column("USD/node-h", Table::Align::kRight);
  c.Column("kW/node", Table::Align::kRight);
  c.Column("capacity per node (demand: how)");
  c.Column("not purchasable");
  for (const auto& x : r.candidates) {
    std::string caps, blocked;
    for (std::size_t d = 0; d < x.capacity.size(); ++d) {
      // Every deployment offered, the highest rate per node first.
      std::string offered;
      for (const auto& o : x.options[d]) {
        offered += (offered.empty() ? "" : " | ") +
                   fmt::format("{:.4g} ({}{})", o.per_node, o.from,
                               o.deployment_nodes > 1 ? fmt::format("; in whole deployments of {:g} nodes", o.deployment_nodes) : std::string());
      }
      caps += (caps.empty() ? "" : "; ") + offered;
    }
    for (std::size_t p = 0; p < x.purchasable.size(); ++p) {
      if (!x.purchasable[p]) {
        blocked += (blocked.empty() ? "" : "; ") + (p < r.periods.size() ? r.periods[p].period : std::to_string(p + 1)) + ": " + x.why_not[p];
      }
    }
    c.Row({x.system, x.vendor, Thousands(x.price_usd_per_node), fmt::format("{:.2f}", x.cost_usd_per_node_hour),
           fmt::format("{:.2f}", x.facility_power_w_per_node / 1e3), caps, blocked});
  }
  c.Print(std::cout);
  if (!r.feasible) {
    std::cout << "\nConstraints in conflict\n";
    for (const auto& x : r.conflicts) std::cout << "  " << x << '\n';
    return 0;
  }
  std::cout << fmt::format("\nTotal cost {} USD (capex spent {} USD)\n\n", Thousands(r.total_cost_usd), Thousands(r.capex_usd));
  Table p;
  p.Column("period");
  p.Column("nodes owned (bought)");
  p.Column("cost USD", Table::Align::kRight);
  p.Column("MW", Table::Align::kRight);
  p.Column("used", Table::Align::kRight);
  p.Column("served");
  for (const auto& x : r.periods) {
    std::string units, served;
    for (const auto& [id, n] : x.units) {
      const auto b = x.bought.find(id);
      units += (units.empty() ? "" : ", ") + fmt::format("{} {}", id, n) + (b != x.bought.end() ? fmt::format(" (+{})", b->second) : "");
    }
    for (const auto& [id, f] : x.served) served += (served.empty() ? "" : ", ") + fmt::format("{} {:.0f} %", id, f * 100);
    p.Row({x.period, units.empty() ? "-" : units, Thousands(x.cost_usd), fmt::format("{:.3f}", x.power_w / 1e6),
           fmt::format("{:.0f} %", x.utilization * 100), served});
  }
  p.Print(std::cout);
  std::cout << "used: demand served / capacity owned (the least share of every system's nodes that could serve it)\n";
  std::cout << "\nDeployments (the plan's allocation)\n";
  for (const auto& x : r.periods) {
    for (const auto& d : x.deployments) {
      std::cout << fmt::format("  {}  {} for {}: ", x.period, d.system, d.demand)
                << (d.deployment_nodes > 1 ? fmt::format("{:g} x {:g} nodes", d.count, d.deployment_nodes) : fmt::format("{:.4g} nodes", d.count))
                << " (" << d.from << ")\n";
    }
  }
  if (!r.binding.empty()) {
    std::cout << "\nBinding constraints: shadow price by fix-and-resolve (the LP with the integer purchases fixed at their\n"
                 "optimal values) / in the LP relaxation, per unit increase of the bound\n";
    for (const auto& b : r.binding) {
      std::cout << fmt::format("  {}: {:.6g} / {:.6g} {}\n", b.constraint, b.shadow_price, b.relaxed_shadow_price, b.unit);
    }
  }
  if (!r.shocks.empty()) {
    std::cout << "\nResilience: the plan as bought, against each single-vendor shock\n";
    for (const auto& s : r.shocks) std::cout << fmt::format("  {}: {:.1f} % of the demand still served\n", s.shock, s.served_fraction * 100);
  }
  return 0;
}

}  // namespace suanli::cli
