// `suanli fleet`: the fleet that meets a demand over periods at least cost
// (or serves the most under a budget), under power envelopes per site,
// vendor-share caps, supply caps per system and period, and the export-control
// rule sets in force in each period. docs/fleet-model.md gives the scenario
// file, the formulation and its sources.
//
//   auto scenario = LoadScenario(catalog, "examples/fleet/toy.yaml");  // every problem with file:line:key
//   auto plan = PlanFleet(catalog, *scenario, {.shock = true}, *MakeCbcSolver());
//
// Each (system, demand) capacity comes from the performance model, once per
// (system, workload): for a serving demand at a TPOT SLA, the serving
// simulator's highest SLA-meeting rate (serve --max-rate) on the layouts
// infer ranks best (infer's figure without an SLA); for a training demand,
// the best plan of the training search's feasible stream for the job's size
// within its memory headroom. A scenario may state a capacity instead (a
// measurement it trusts more), and the output says which.
#pragma once

#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "suanli/catalog/catalog.h"
#include "suanli/core/result.h"
#include "suanli/api/fields.h"
#include "suanli/econ/milp.h"

namespace suanli {

struct FleetPeriod {
  std::string label;  // "2025Q1"
  std::string start, end;  // ISO dates, inclusive
  double hours = 0;
};

enum class DemandKind { kServing, kTraining };
enum class FleetObjective { kLeastCost, kMostServed };

struct FleetDemand {
  std::string id;
  DemandKind kind = DemandKind::kServing;
  std::string model;
  // Serving: output tokens/s to serve in each period (given, or requests/s x
  // output tokens), at a TPOT SLA and optionally a TTFT SLA (with it,
  // prefill-decode disaggregated deployments are candidates too).
  long long input_tokens = 0, output_tokens = 0;
  double tpot_s = 0;  // 0: no SLA
  double ttft_s = 0;  // 0: no TTFT SLA
  int mtp = 0;        // draft tokens per decode step (multi-token prediction) in the simulated deployments
  std::string weights = "bf16", kv_cache = "bf16";
  // Training: tokens between `start` and `deadline` (period indices), on jobs of `devices`.
  double tokens = 0;
  int start = 0, deadline = 0;
  int devices = 0, seq_len = 0, global_batch = 0;
  double memory_headroom = 0;  // training: the fraction of device memory a plan must leave free (0 to 0.9)
  std::vector<double> need;  // per period: output tokens/s (serving) or tokens/s (training)
  int line = 0;
};

struct FleetCandidate {
  std::string system;  // a system id (or a chip id: a node of the assumed size)
  std::string site;
  std::optional<double> price_usd_per_node;      // overrides the catalog's price
  std::vector<double> supply;                    // nodes that can be bought per period; < 0: no cap
  std::map<std::string, double> capacity;        // demand id -> stated capacity per node (overrides the model)
  std::map<std::string, double> deployment_nodes;  // demand id -> nodes one deployment of the stated capacity takes (default 1)
  int line = 0;
};

struct FleetSite {
  std::string id;
  std::vector<double> power_w;  // per period, facility power (IT x PUE); < 0: no cap
};

struct FleetEvent {  // a supply or price change from a period on
  std::string vendor, system, chip;  // what it hits (one of them)
  int from = 0;
  double supply_factor = 1;  // 0: unavailable
  double price_factor = 1;
  std::string note;
};

struct FleetLicence {
  std::string chip;
  std::string from;  // ISO date: purchasable from then despite the rules
  std::string note;
};

struct FleetScenario {
  std::string file;
  std::string name;
  std::string facility;  // catalog/facilities id
  FleetObjective objective = FleetObjective::kLeastCost;
  std::vector<FleetPeriod> periods;
  std::optional<double> capex_budget_usd;
  std::optional<double> opex_budget_usd;  // power, hosting and maintenance of the nodes owned, over the horizon
  std::vector<FleetSite> sites;
  std::map<std::string, double> vendor_caps;  // vendor -> max share of devices
  std::vector<std::string> rules;             // rule set ids
  std::vector<std::string> controlled_vendors;  // the vendors whose chips the rules govern
  std::vector<FleetLicence> licences;
  std::vector<FleetCandidate> candidates;
  std::vector<FleetDemand> demands;
  std::vector<FleetEvent> events;
  std::string date;  // prices dated on or before the first period's start
};

// Reads and checks a scenario: every problem with file:line:key (exit 2).
Result<FleetScenario> LoadScenario(const Catalog& catalog, const std::string& path);

struct FleetOptions {
  bool shock = false;   // report each single-vendor shock's served fraction
  bool robust = false;  // every single-vendor shock's demand met (least cost) or its worst case maximised
  // Least cost, not robust: bound and start the MILP from the period
  // decomposition (docs/fleet-model.md, "Speed"). Off: CBC alone.
  bool period_decomposition = true;
  // The period bound MILPs' relative gap (0: proven optimal, so that their
  // sum is the tightest bound the decomposition gives).
  double period_relative_gap = 0;
  // Periods per bound block: 1, the period bounds; k > 1, blocks of k
  // consecutive periods solved jointly with the ownership coupling inside
  // them, a bound at least as tight and slower (docs/fleet-model.md, "Measured").
  int period_block = 1;
  // The full MILP stops when its plan is proven within 1e-4 of the bound
  // (the default optimality tolerance of Gurobi and CPLEX); time_limit_s
  // bounds the plan's MILPs together (the forward and period problems, the
  // full MILP). Its cancel is not read: the planner sets it to `cancel`.
  MilpOptions milp{.relative_gap = 1e-4};
  // Set when the plan's time is up (the web server's time limit): the
  // capacities' serving simulations and training searches stop, a MILP
  // stops at its next node (the planner passes it on as milp.cancel), and
  // the planner returns the error "cancelled" (key "cancel").
  const std::atomic<bool>* cancel = nullptr;
  // Threads for the capacities' serving simulations (0: every core); the
  // capacities and the plan do not depend on it.
  int threads = 0;
  // Seconds the capacities' simulations and searches may take together: a
  // scenario of many systems and demand shapes that needs more is an error
  // (key "capacity_time_limit") saying how many of its (system, workload)
  // pairs were done. The MILPs' own limit is milp.time_limit_s.
  double capacity_time_limit_s = 600;
};

// One deployment a candidate offers a demand: its rate per node, its size in
// whole nodes (1: allocated in any fraction of a node) and the plan.
struct FleetOption {
  double per_node = 0;
  double deployment_nodes = 1;
  std::string from;
};

// One candidate as the planner sees it, with where each figure came from.
struct FleetCandidateInfo {
  std::string system, chip, vendor, site;
  int chips_per_node = 1;     // devices per node, in the system's ranks (dies on CloudMatrix 384)
  int packages_per_node = 1;  // accelerators per node as bought (packages): what a vendor share counts
  double price_usd_per_node = 0;     // cash capex
  double cost_usd_per_node_hour = 0;  // amortised capex + power + hosting + maintenance (TCO at full use)
  double facility_power_w_per_node = 0;  // rated IT power x PUE
  std::vector<double> capacity;       // per demand, per node (0: cannot serve it)
  std::vector<std::string> capacity_from;  // per demand: the plan, or "stated in the scenario"
  // Per demand: the nodes one deployment of that plan takes, allocated in
  // whole deployments where it is more than 1 (1: in any fraction of a node).
  std::vector<double> deployment_nodes;
  // Per demand: every deployment the planner may buy for it (the first is
  // capacity, capacity_from and deployment_nodes above): the simulated
  // deployments that no other beats on both rate per node and size.
  std::vector<std::vector<FleetOption>> options;
  std::vector<bool> purchasable;      // per period, under the rules and events
  std::vector<std::string> why_not;   // per period: the rule set or event that blocks it
  std::string price_from;
};

// A constraint at its bound in the plan, with two shadow prices: the change of
// the objective per unit increase of the constraint's bound as written (the
// budget, a site's power envelope, a supply cap, a vendor's chip allowance,
// a demand), in `unit`.
//   shadow_price: fix-and-resolve, the dual of the LP with every integer
//     purchase fixed at its optimal value. Rows over purchases alone
//     (budget, power, supply, vendor cap) get zero there by construction, and
//     under least cost, where every cost sits on the purchases, so does every
//     row; under most served the demand rows' is the share gained.
//   relaxed_shadow_price: the dual of the LP relaxation (purchases
//     continuous), the marginal value when the decisions may move.
struct FleetBinding {
  std::string constraint;
  std::string kind;  // budget, power, supply, vendor cap, demand
  std::string unit;  // "USD per W", "served share per output token/s", ...
  double shadow_price = 0;
  double relaxed_shadow_price = 0;
  double slack = 0;
};

struct FleetPeriodResult {
  std::string period;
  std::map<std::string, long long> units;   // system -> nodes owned
  std::map<std::string, long long> bought;  // system -> nodes bought this period
  double cost_usd = 0;
  double capex_usd = 0;  // cash spent this period
  double power_w = 0;
  std::map<std::string, double> served;       // demand -> fraction
  // Utilisation, demand served over capacity owned (docs/fleet-model.md):
  // the least fraction of every system's owned nodes that could serve the
  // demand served in the period (1: no spare capacity anywhere).
  double utilization = 0;
  // Per system: node-equivalents of served work over nodes owned, and by
  // workload, in the allocation that attains `utilization`.
  std::map<std::string, double> utilization_by_system;
  std::map<std::string, std::map<std::string, double>> allocation;  // system -> workload -> node-equivalents
  // The plan's own allocation (nominal): each deployment bought for a
  // demand, with its count (whole deployments, or nodes where a deployment
  // is one node or less, allocated in any fraction).
  struct Deployment {
    std::string system, demand, from;
    double deployment_nodes = 1;
    double count = 0;
  };
  std::vector<Deployment> deployments;
};

struct FleetShock {
  std::string shock;  // "vendor NVIDIA unavailable"
  double served_fraction = 0;
};

struct FleetResult {
  std::string scenario, file;
  std::vector<std::string> demands;  // the demands' ids, in the scenario's order (candidates' capacity[] follow it)
  std::string solver;
  std::string solver_status;
  bool feasible = false;
  double total_cost_usd = 0;
  double capex_usd = 0;
  double solve_seconds = 0;
  long long solver_nodes = 0;       // branch-and-bound nodes
  long long solver_iterations = 0;  // simplex iterations of the search
  double solver_bound = 0;          // the best bound the search proved (objective_unit)
  double relative_gap = 0;          // (objective - solver_bound) / |objective|: 0 is proven optimal
  double period_lower_bound = 0;    // least cost: the period decomposition's bound, sum of LB_q (0: not used)
  double start_cost = 0;            // least cost: the forward pass's plan handed to the solver (0: none)
  std::string objective_unit;  // "USD" (least cost) or "served share" (most served)
  double objective = 0;          // the MILP's objective (= the fix-and-resolve LP's), in objective_unit
  double relaxed_objective = 0;  // the LP relaxation's
  std::vector<FleetCandidateInfo> candidates;
  std::vector<FleetPeriodResult> periods;
  std::vector<FleetBinding> binding;
  std::vector<std::string> conflicts;  // infeasible: the constraints that cannot all hold
  std::vector<FleetShock> shocks;
  std::vector<std::string> warnings;
  bool robust = false;
};

// Builds the capacities and the MILP, solves it, reads the plan back. An
// infeasible scenario is a result (feasible == false, with its conflicts);
// a solver that fails or stops is an internal error naming its status.
Result<FleetResult> PlanFleet(const Catalog& catalog, const FleetScenario& scenario, const FleetOptions& options,
                              MilpSolver& solver);

// The runner the command registry uses: `scenario` is a path.
struct FleetQuery {
  std::string scenario;
  FleetOptions options;
};
Result<FleetQuery> DecodeFleet(const Args& args);
Result<FleetResult> RunFleet(const Catalog& catalog, const FleetQuery& query);

}  // namespace suanli
