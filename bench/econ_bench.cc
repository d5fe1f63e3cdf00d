// Benchmarks of the economics: one device-hour's cost from the catalog's
// records, and the fleet planner on bench/fleet-large.yaml (30 candidates x 20
// workloads x 12 quarters, stated capacities: the MILP alone) to the
// planner's default tolerance (FleetOptions: within 1e-4 of the best bound).
// Target (issue 13): <= 5 s on 2 cores; `solve_s` is the solver's wall time.
#include <benchmark/benchmark.h>

#include "bench_support.h"
#include "suanli/api/commands.h"
#include "suanli/econ/cost.h"
#include "suanli/econ/fleet.h"

namespace {

using suanli::bench::ShippedCatalog;

void BM_CostDeviceHour(benchmark::State& state) {
  const auto& catalog = ShippedCatalog();
  auto hw = suanli::ResolveHardware(catalog, "hgx-h20");
  auto facility = suanli::ResolveFacility(catalog, "china-2025");
  for (auto _ : state) {
    auto in = suanli::MakeTcoInputs(catalog, hw->chip, hw->system, **facility, "", {});
    benchmark::DoNotOptimize(suanli::RangeOf(*in));
  }
}
BENCHMARK(BM_CostDeviceHour);

void FleetLarge(benchmark::State& state, const suanli::FleetOptions& options) {
  const auto& catalog = ShippedCatalog();
  auto scenario = suanli::LoadScenario(catalog, SUANLI_BENCH_DIR "/fleet-large.yaml");
  if (!scenario) {
    state.SkipWithError(scenario.error().ToString().c_str());
    return;
  }
  auto solver = suanli::MakeCbcSolver();
  for (auto _ : state) {
    auto plan = suanli::PlanFleet(catalog, *scenario, options, *solver);
    if (!plan || !plan->feasible) {
      state.SkipWithError("fleet-large did not solve within the solver's default gap and time limit");
      return;
    }
    state.counters["solve_s"] = plan->solve_seconds;
    state.counters["nodes"] = double(plan->solver_nodes);
    state.counters["simplex_iterations"] = double(plan->solver_iterations);
    state.counters["relative_gap"] = plan->relative_gap;
    state.counters["cost_usd"] = plan->total_cost_usd;
    state.counters["bound_usd"] = plan->solver_bound;
    benchmark::DoNotOptimize(plan->total_cost_usd);
  }
}
// The default: the period decomposition (exact period bounds), then CBC, to within 1e-4 of the bound.
void BM_FleetLarge(benchmark::State& state) { FleetLarge(state, {}); }
BENCHMARK(BM_FleetLarge)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
// Two-period bound blocks (FleetOptions::period_block): a tighter bound, slower.
void BM_FleetLargeBlocks2(benchmark::State& state) { FleetLarge(state, suanli::FleetOptions{.period_block = 2}); }
BENCHMARK(BM_FleetLargeBlocks2)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
// The planner before: every MILP (periods and full) to within 0.1 %.
void BM_FleetLargeCoarse(benchmark::State& state) {
  FleetLarge(state, suanli::FleetOptions{.period_relative_gap = 1e-3, .milp = {.relative_gap = 1e-3}});
}
BENCHMARK(BM_FleetLargeCoarse)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
// CBC alone on the full MILP (the planner before the decomposition).
void BM_FleetLargeCbcAlone(benchmark::State& state) {
  FleetLarge(state, suanli::FleetOptions{.period_decomposition = false, .milp = {.relative_gap = 1e-3}});
}
BENCHMARK(BM_FleetLargeCbcAlone)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace
