// Economics: the device-hour cost by hand, the MILP against brute force, the
// export-control filter, a shock that changes the plan, and the catalog's
// market records.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "support/test_support.h"
#include "suanli/catalog/market.h"
#include "suanli/api/serve.h"
#include "suanli/econ/cost.h"
#include "suanli/econ/fleet.h"
#include "suanli/econ/milp.h"
#include "suanli/econ/tco.h"

namespace suanli {
namespace {

std::array<double, kTcoInputs> Values(double price, double life, double rate) {
  std::array<double, kTcoInputs> v{};
  v[int(TcoInputId::kPriceUsd)] = price;
  v[int(TcoInputId::kLifeYears)] = life;
  v[int(TcoInputId::kCostOfCapital)] = rate;
  v[int(TcoInputId::kUtilization)] = 1;
  v[int(TcoInputId::kPue)] = 1;
  v[int(TcoInputId::kPowerDrawFraction)] = 1;
  return v;
}

TEST(Tco, CapexIsPriceOverLifeHoursWithoutInterest) {
  const TcoBreakdown b = EvaluateTco(Values(43800, 5, 0));
  EXPECT_DOUBLE_EQ(b.capex, 43800.0 / (5 * 8760));
  EXPECT_DOUBLE_EQ(b.total(), b.capex);
}

TEST(Tco, AnnuityByHand) {
  // 41.7k at 4 years and 12 %: A = 0.12 / (1 - 1.12^-4) = 0.329234..., 13.7k a year, 1.567 USD/h.
  EXPECT_NEAR(AnnuityFactor(0.12, 4), 0.3292344, 1e-6);
  const TcoBreakdown b = EvaluateTco(Values(41700, 4, 0.12));
  EXPECT_NEAR(b.capex, 41700 * 0.3292344 / 8760, 1e-6);
  EXPECT_NEAR(b.capex, 1.567, 1e-3);
}

TEST(Tco, PowerHostingMaintenanceByHand) {
  auto v = Values(0, 5, 0);
  v[int(TcoInputId::kPowerW)] = 1730;
  v[int(TcoInputId::kPowerDrawFraction)] = 0.75;
  v[int(TcoInputId::kPue)] = 1.2;
  v[int(TcoInputId::kElectricityUsdPerKwh)] = 0.08;
  v[int(TcoInputId::kHostingUsdPerKwMonth)] = 184;
  v[int(TcoInputId::kUtilization)] = 0.5;
  const TcoBreakdown b = EvaluateTco(v);
  EXPECT_NEAR(b.power, 1.730 * 0.75 * 1.2 * 0.08, 1e-12);
  EXPECT_NEAR(b.hosting, 184 * 1.730 / 730 / 0.5, 1e-12);
  v[int(TcoInputId::kPriceUsd)] = 10000;
  v[int(TcoInputId::kMaintenanceFraction)] = 0.05;
  EXPECT_NEAR(EvaluateTco(v).maintenance, 0.05 * 10000 / (8760 * 0.5), 1e-12);
}

TEST(Tco, RangesBracketTheBaseAndSensitivityIsSorted) {
  TcoInputs in;
  const auto base = Values(30000, 5, 0.1);
  for (int i = 0; i < kTcoInputs; ++i) in.items[i] = TcoInput{.base = base[i], .low = base[i], .high = base[i], .from = "test"};
  in[TcoInputId::kPriceUsd] = TcoInput{.base = 30000, .low = 25000, .high = 40000, .from = "test"};
  in[TcoInputId::kLifeYears] = TcoInput{.base = 5, .low = 4, .high = 6, .from = "test"};
  const TcoRange r = RangeOf(in);
  const double b = EvaluateTco(BaseValues(in)).total();
  EXPECT_LT(r.low.total(), b);
  EXPECT_GT(r.high.total(), b);
  EXPECT_DOUBLE_EQ(r.low_values[int(TcoInputId::kLifeYears)], 6);  // a longer life is cheaper
  const auto s = SensitivityOf(in);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].input, TcoInputId::kPriceUsd);
  EXPECT_GE(s[0].swing(), s[1].swing());
}

TEST(Tco, TokenCostSplitsTheRequestByLatency) {
  ServingPoint p{.output_tokens_per_s = 1000, .input_tokens_per_s = 0, .ttft_s = 1, .request_latency_s = 4, .devices = 8,
                 .input_tokens = 1000, .output_tokens = 100};
  const TokenCost t = CostPerToken(p, 2.0, 1000);
  // 10 requests/s on 8 devices: 0.8 device-s a request = 2 x 0.8 / 3600 USD; a quarter to the input.
  const double per_request = 2.0 * 0.8 / 3600;
  EXPECT_NEAR(t.usd_per_million_output_tokens, per_request * 0.75 / 100 * 1e6, 1e-9);
  EXPECT_NEAR(t.usd_per_million_input_tokens, per_request * 0.25 / 1000 * 1e6, 1e-9);
  EXPECT_NEAR(t.joules_per_output_token, 8000.0 / 1000, 1e-12);
  EXPECT_NEAR(t.output_tokens_per_s_per_kw, 1000 / 8.0, 1e-12);
}

// By hand: 10 requests/s on 8 devices (0.8 device-s a request, 2 USD per
// device-hour: 4.444e-4 USD a request); a fifth of the device time to the
// 1,000 input tokens, four fifths to the 100 output tokens.
TEST(Tco, TokenCostSplitsTheRequestByThePrefillShareOfDeviceTime) {
  ServingPoint p{.output_tokens_per_s = 1000, .input_tokens_per_s = 0, .ttft_s = 3, .request_latency_s = 4, .devices = 8,
                 .input_tokens = 1000, .output_tokens = 100, .prefill_device_share = 0.2, .prefill_share_from = "test"};
  const TokenCost t = CostPerToken(p, 2.0, 1000);
  const double per_request = 2.0 * 0.8 / 3600;  // 4.4444e-4 USD
  EXPECT_NEAR(t.usd_per_million_input_tokens, per_request * 0.2 / 1000 * 1e6, 1e-12);   // 0.08889 USD
  EXPECT_NEAR(t.usd_per_million_output_tokens, per_request * 0.8 / 100 * 1e6, 1e-12);   // 3.5556 USD
  EXPECT_NEAR(t.usd_per_million_input_tokens, 0.0888888888888889, 1e-12);
  EXPECT_NEAR(t.usd_per_million_output_tokens, 3.5555555555555556, 1e-12);
}

// Continuous batching: the split is the iteration's prefill pass over both passes, not TTFT / latency.
TEST(Tco, ContinuousBatchingSplitsTheIterationByPhase) {
  InferenceEstimate e;
  e.output_tokens_per_s = 500;
  e.devices = 1;
  e.ttft_s = 0.05;
  e.request_latency_s = 10;  // TTFT / latency = 0.5 %: the old split
  e.prefill.seconds = 0.01;  // the prompts one iteration admits
  e.decode.seconds = 0.03;   // one step of the requests in flight
  const ServingPoint cb = ServingPointOf(e, InferenceWorkload{.input_tokens = 2000, .output_tokens = 200, .mode = BatchMode::kConcurrency, .batch = 64});
  EXPECT_NEAR(cb.prefill_device_share, 0.25, 1e-12);
  const ServingPoint st = ServingPointOf(e, InferenceWorkload{.input_tokens = 2000, .output_tokens = 200, .mode = BatchMode::kStatic, .batch = 64});
  EXPECT_NEAR(st.prefill_device_share, 0.005, 1e-12);
  // 2.5 requests/s on one device (0.4 device-s each) at 3.6 USD/h: 4e-4 USD a request, a quarter to 2,000 input tokens.
  const TokenCost t = CostPerToken(cb, 3.6, 700);
  EXPECT_NEAR(t.usd_per_million_input_tokens, 0.05, 1e-12);   // 4e-4 x 0.25 / 2000 x 1e6
  EXPECT_NEAR(t.usd_per_million_output_tokens, 1.5, 1e-12);   // 4e-4 x 0.75 / 200 x 1e6
}

// A simulated run priced by hand: 8 devices held for 50 s at 3.6 USD per
// device-hour is 0.4 USD; 100 device-s of prefill and 300 of decode give the
// input tokens a quarter: 0.1 USD over 200,000 input tokens (0.5 USD/M) and
// 0.3 USD over 20,000 output tokens (15 USD/M); 1 kW per device at the wall
// for 50 s is 400 kJ over 20,000 output tokens, 20 J each.
TEST(Tco, SimulatedRunIsPricedOverItsWallTimeAndSplitByPhaseDeviceTime) {
  ServeResult run;
  run.devices = 8;
  run.stats.requests = 100;
  run.stats.duration_s = 50;
  run.stats.input_tokens = 200000;
  run.stats.output_tokens = 20000;
  run.stats.prefill_device_s = 100;
  run.stats.decode_device_s = 300;
  const ServingPoint p = ServingPointOf(run);
  EXPECT_NEAR(p.prefill_device_share, 0.25, 1e-15);
  EXPECT_NEAR(p.output_tokens_per_s, 400, 1e-12);
  EXPECT_NEAR(p.output_tokens, 200, 1e-12);  // per request, the mean
  const TokenCost t = CostPerToken(p, 3.6, 1000);
  EXPECT_NEAR(t.usd_per_million_input_tokens, 0.5, 1e-12);
  EXPECT_NEAR(t.usd_per_million_output_tokens, 15, 1e-12);
  EXPECT_NEAR(t.joules_per_output_token, 20, 1e-12);
  EXPECT_NEAR(t.output_tokens_per_s_per_kw, 400.0 / 8, 1e-12);
  // Without a phase split (phase_device_time off) the share is unknown: TTFT / latency stands in.
  run.stats.prefill_device_s = run.stats.decode_device_s = 0;
  EXPECT_LT(ServingPointOf(run).prefill_device_share, 0);
}

Args ServeArgs(std::initializer_list<std::pair<std::string, std::string>> kv) {
  Args a;
  a.Set("hardware", "hgx-h100");
  a.Set("model", "llama-3.1-8b");
  for (const auto& [k, v] : kv) a.Set(k, v);
  return a;
}

// The simulator's per-phase device time: it changes nothing else in the run,
// it adds up to the busy device time (each iteration's time x its instance's
// devices, from the timeline), and a run whose requests generate one token
// (the prompt's last token samples it: no decode step) is all prefill.
TEST(Tco, SimulatorPhaseDeviceTimeAddsUpToTheBusyTime) {
  const Catalog& c = testing::ShippedCatalog();
  for (const char* out : {"200", "1"}) {
    auto q = DecodeServe(ServeArgs({{"tp", "2"}, {"input_tokens", "1000"}, {"output_tokens", out}, {"rate", "20"}, {"requests", "200"}}));
    ASSERT_TRUE(q) << q.error().ToString();
    auto plain = RunServe(c, *q);
    q->phase_device_time = true;
    q->timeline = (std::filesystem::temp_directory_path() / "suanli-econ-timeline.csv").string();
    auto split = RunServe(c, *q);
    ASSERT_TRUE(plain && split) << (plain ? split.error().ToString() : plain.error().ToString());
    EXPECT_EQ(plain->stats.prefill_device_s + plain->stats.decode_device_s, 0);
    EXPECT_EQ(plain->stats.duration_s, split->stats.duration_s);
    EXPECT_EQ(plain->stats.ttft.mean, split->stats.ttft.mean);
    EXPECT_EQ(plain->stats.iterations, split->stats.iterations);
    double busy = 0;
    for (const auto& it : split->stats.timeline) busy += it.seconds * 2;  // tp 2: two devices an instance
    ASSERT_GT(busy, 0);
    EXPECT_NEAR(split->stats.prefill_device_s + split->stats.decode_device_s, busy, 1e-9 * busy) << out;
    EXPECT_LE(busy, split->devices * split->stats.duration_s * (1 + 1e-12));
    if (std::string(out) == "1") {
      EXPECT_EQ(split->stats.decode_device_s, 0);
    } else {
      EXPECT_GT(split->stats.decode_device_s, split->stats.prefill_device_s);  // 200 decode steps a request on an H100
      EXPECT_GT(split->stats.prefill_device_s, 0);
    }
  }
}

// A toy fleet MILP checked against enumeration: choose integer units of three
// systems to cover a demand at least cost under a power cap.
// A MIP start and a row marked as a cut: min x + y, 2x + 2y >= 3, x, y
// integer (optimum 2, LP relaxation 1.5), with the cut x + y >= 2 and the
// start (2, 0). The MILP uses both; the pricing LPs leave the cut out, so the
// relaxation reads 1.5 and the cut's duals 0.
TEST(Milp, AStartAndACutLeaveThePricingLpsAsWritten) {
  MilpProblem p;
  const int x = p.AddColumn("x", 1, 0, 10, true);
  const int y = p.AddColumn("y", 1, 0, 10, true);
  p.AddRow(MilpRow{.name = "cover", .columns = {x, y}, .coefficients = {2, 2}, .lo = 3});
  p.AddRow(MilpRow{.name = "cut", .columns = {x, y}, .coefficients = {1, 1}, .lo = 2, .cut = true});
  p.start = {2, 0};
  auto solver = MakeCbcSolver();
  auto r = solver->Solve(p, MilpOptions{.relative_gap = 0});
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->status, MilpStatus::kOptimal);
  EXPECT_TRUE(r->has_solution);
  EXPECT_NEAR(r->objective, 2, 1e-9);
  EXPECT_NEAR(r->relaxed_objective, 1.5, 1e-9);
  ASSERT_EQ(r->relaxed_duals.size(), 2u);
  EXPECT_NEAR(r->relaxed_duals[0], 0.5, 1e-9);
  EXPECT_EQ(r->relaxed_duals[1], 0);
  ASSERT_EQ(r->duals.size(), 2u);
  EXPECT_EQ(r->duals[1], 0);
  EXPECT_NEAR(r->bound, 2, 1e-6);
}

// A flag set before (or during) a solve stops CBC's search at its next node
// (the web server's time limit reaches into a solve): a strongly correlated
// knapsack of 40 items that takes branching, cuts and heuristics off.
TEST(Milp, ACancelStopsTheSearchAtItsNextNode) {
  MilpProblem p;
  MilpRow capacity{.name = "capacity", .hi = 0};
  for (int i = 0; i < 40; ++i) {
    const double w = 1000 + (i * 7919) % 997, v = w + 100;
    capacity.columns.push_back(p.AddColumn("x" + std::to_string(i), -v, 0, 1, true));
    capacity.coefficients.push_back(w);
    capacity.hi += w / 2;
  }
  capacity.hi = std::floor(capacity.hi) + 0.5;
  p.AddRow(std::move(capacity));
  auto solver = MakeCbcSolver();
  MilpOptions o{.relative_gap = 0, .cut_generators = false, .heuristics = false, .pricing_lps = false};
  auto full = solver->Solve(p, o);
  ASSERT_TRUE(full) << full.error().ToString();
  ASSERT_EQ(full->status, MilpStatus::kOptimal);
  ASSERT_GT(full->nodes, 2);  // it takes branching
  const std::atomic<bool> cancel{true};
  o.cancel = &cancel;
  auto stopped = solver->Solve(p, o);
  ASSERT_TRUE(stopped) << stopped.error().ToString();
  EXPECT_EQ(stopped->status, MilpStatus::kStopped) << stopped->solver_status;
  EXPECT_LE(stopped->nodes, 1);
}

TEST(Milp, ToyMatchesBruteForce) {
  const double cost[3] = {7, 5, 11}, cap[3] = {3, 2, 5}, power[3] = {2, 1.5, 3};
  for (double demand : {4.0, 7.0, 11.0, 13.0}) {
    for (double power_cap : {6.0, 9.0, 12.0}) {
      MilpProblem p;
      for (int j = 0; j < 3; ++j) p.AddColumn("n" + std::to_string(j), cost[j], 0, 10, true);
      p.AddRow(MilpRow{.name = "demand", .columns = {0, 1, 2}, .coefficients = {cap[0], cap[1], cap[2]}, .lo = demand});
      p.AddRow(MilpRow{.name = "power", .columns = {0, 1, 2}, .coefficients = {power[0], power[1], power[2]}, .hi = power_cap});
      double best = kMilpInfinity;
      for (int a = 0; a <= 10; ++a) {
        for (int b = 0; b <= 10; ++b) {
          for (int c = 0; c <= 10; ++c) {
            if (a * cap[0] + b * cap[1] + c * cap[2] >= demand && a * power[0] + b * power[1] + c * power[2] <= power_cap) {
              best = std::min(best, a * cost[0] + b * cost[1] + c * cost[2]);
            }
          }
        }
      }
      auto solver = MakeCbcSolver();
      auto sol = solver->Solve(p, MilpOptions{.time_limit_s = 60, .relative_gap = 0});
      ASSERT_TRUE(sol) << sol.error().ToString();
      if (std::isinf(best)) {
        EXPECT_EQ(sol->status, MilpStatus::kInfeasible) << demand << " " << power_cap;
      } else {
        ASSERT_EQ(sol->status, MilpStatus::kOptimal) << demand << " " << power_cap;
        EXPECT_NEAR(sol->objective, best, 1e-6) << demand << " " << power_cap;
        ASSERT_EQ(sol->duals.size(), 2u);
      }
    }
  }
}


const Catalog& Shipped() { return testing::ShippedCatalog(); }

std::string Example(const std::string& name) { return std::string(SUANLI_TEST_REPO_DIR) + "/examples/fleet/" + name; }

std::string WriteScenario(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() / ("suanli-econ-" + name + ".yaml")).string();
  std::ofstream(path) << text;
  return path;
}

// A scenario error's messages by key, each checked to name its line.
std::map<std::string, std::string> MessagesByKey(const Error& e) {
  std::map<std::string, std::string> by_key;
  for (const auto& d : e.diagnostics) {
    EXPECT_GT(d.line, 0) << d.ToString();
    by_key[d.key_path] = d.message;
  }
  return by_key;
}

TEST(Market, CatalogHasDatedSourcedPricesFacilitiesAndRates) {
  const Catalog& c = Shipped();
  ASSERT_FALSE(c.prices().empty());
  ASSERT_NE(c.FindMarketRecord("us-2025"), nullptr);
  for (const auto& p : c.prices()) {
    EXPECT_EQ(p.date.size(), 10u) << p.id;
    EXPECT_TRUE(c.FindChip(p.subject) != nullptr || c.FindSystem(p.subject) != nullptr) << p.id;
    for (const auto& [k, f] : p.figures) EXPECT_FALSE(f.sources.empty()) << p.id << " " << k;
  }
  // Yuan and dollars stay apart: a CNY price is converted by the rate of its own date.
  auto fx = FxRateOn(c, "2024-07-14");
  ASSERT_TRUE(fx);
  EXPECT_EQ(fx->record, "usd-cny-2024-02");
  auto later = FxRateOn(c, "2025-12-31");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->record, "usd-cny-2025-05");
  EXPECT_DOUBLE_EQ(later->cny_per_usd, 7.22);
}

TEST(Market, SystemPriceInYuanIsConvertedAndSharedOverItsChips) {
  const Catalog& c = Shipped();
  auto hw = ResolveHardware(c, "hgx-h20");
  ASSERT_TRUE(hw);
  auto f = ResolveFacility(c, "china-2025");
  ASSERT_TRUE(f);
  auto in = MakeTcoInputs(c, hw->chip, hw->system, **f, "2024-12-31", {});
  ASSERT_TRUE(in) << in.error().ToString();
  // RMB 1.2 M (Jul 2024) at 7.18 CNY/USD (Feb 2024 rate, the latest before), over 8 chips, / (1 - 0.19).
  EXPECT_NEAR((*in)[TcoInputId::kPriceUsd].base, 1.2e6 / 7.18 / 8 / (1 - 0.19), 1e-6);
  // No node power for HGX H20: 400 W TDP x 1.8.
  EXPECT_NEAR((*in)[TcoInputId::kPowerW].base, 400 * 1.8, 1e-9);
}

TEST(Market, LatestPurchasePriceUsdIsTheLatestRecordConverted) {
  const Catalog& c = Shipped();
  const MarketRecord* p = LatestPurchasePrice(c, "hgx-h20", "", "");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(LatestPurchasePriceUsd(c, "hgx-h20"), PriceInUsd(c, *p));
  // The HGX H20 is priced in yuan (RMB 1.2 M, Jul 2024) and converted at the Feb 2024 rate, 7.18.
  EXPECT_EQ(p->id, "hgx-h20-cn-2024-07");
  ASSERT_TRUE(LatestPurchasePriceUsd(c, "hgx-h20").has_value());
  EXPECT_NEAR(*LatestPurchasePriceUsd(c, "hgx-h20"), 1.2e6 / 7.18, 1e-6);
  EXPECT_FALSE(LatestPurchasePriceUsd(c, "ascend-910b4").has_value());  // no price record
}

TEST(Market, NoPriceIsAnErrorNamingTheFlag) {
  const Catalog& c = Shipped();
  auto hw = ResolveHardware(c, "ascend-910b4");
  ASSERT_TRUE(hw);
  auto f = ResolveFacility(c, "");
  ASSERT_TRUE(f);
  auto in = MakeTcoInputs(c, hw->chip, hw->system, **f, "", {});
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().diagnostics.front().key_path, "price_usd");
}

// The toy scenario against enumeration of every purchase up to 8 nodes of each system in each quarter.
TEST(Fleet, ToyMatchesBruteForce) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, Example("toy.yaml"));
  ASSERT_TRUE(s) << s.error().ToString();
  auto solver = MakeCbcSolver();
  auto plan = PlanFleet(c, *s, FleetOptions{.milp = {.time_limit_s = 60, .relative_gap = 0}}, *solver);
  ASSERT_TRUE(plan) << plan.error().ToString();
  ASSERT_TRUE(plan->feasible);
  EXPECT_EQ(plan->solver_status, "proven optimal");
  const auto& k = plan->candidates;
  ASSERT_EQ(k.size(), 2u);
  const double h1 = s->periods[0].hours, h2 = s->periods[1].hours;
  double best = kMilpInfinity;
  for (int a1 = 0; a1 <= 8; ++a1) {
    for (int b1 = 0; b1 <= 8; ++b1) {
      for (int a2 = 0; a2 <= 8; ++a2) {
        for (int b2 = 0; b2 <= 8; ++b2) {
          const double n1a = a1, n1b = b1, n2a = a1 + a2, n2b = b1 + b2;
          if (n1a * k[0].capacity[0] + n1b * k[1].capacity[0] < s->demands[0].need[0]) continue;
          if (n2a * k[0].capacity[0] + n2b * k[1].capacity[0] < s->demands[0].need[1]) continue;
          const double cap = s->sites[0].power_w[0];
          if (n1a * k[0].facility_power_w_per_node + n1b * k[1].facility_power_w_per_node > cap) continue;
          if (n2a * k[0].facility_power_w_per_node + n2b * k[1].facility_power_w_per_node > cap) continue;
          const double cost = (a1 * k[0].cost_usd_per_node_hour + b1 * k[1].cost_usd_per_node_hour) * (h1 + h2) +
                              (a2 * k[0].cost_usd_per_node_hour + b2 * k[1].cost_usd_per_node_hour) * h2;
          best = std::min(best, cost);
        }
      }
    }
  }
  ASSERT_LT(best, kMilpInfinity);
  EXPECT_NEAR(plan->total_cost_usd, best, 1e-6 * best);
  // The period decomposition's bound is below the optimum, the gap closed;
  // CBC alone on the full MILP finds the same optimum.
  EXPECT_GT(plan->period_lower_bound, 0);
  EXPECT_LE(plan->period_lower_bound, best * (1 + 1e-9));
  EXPECT_LE(plan->relative_gap, 1e-9);
  // One bound block over both quarters is the whole MILP (BuildBlock with
  // the ownership coupling inside): its bound is the optimum itself.
  auto block = PlanFleet(c, *s, FleetOptions{.period_block = 2, .milp = {.time_limit_s = 60, .relative_gap = 0}}, *solver);
  ASSERT_TRUE(block) << block.error().ToString();
  EXPECT_NEAR(block->total_cost_usd, best, 1e-6 * best);
  EXPECT_NEAR(block->period_lower_bound, best, 1e-9 * best);
  EXPECT_GE(block->period_lower_bound, plan->period_lower_bound * (1 - 1e-12));
  auto alone = PlanFleet(c, *s, FleetOptions{.period_decomposition = false, .milp = {.time_limit_s = 60, .relative_gap = 0}}, *solver);
  ASSERT_TRUE(alone) << alone.error().ToString();
  EXPECT_NEAR(alone->total_cost_usd, best, 1e-6 * best);
  EXPECT_EQ(alone->period_lower_bound, 0);
  // The power envelope binds at the optimum or it does not; either way every binding row has a name.
  for (const auto& b : plan->binding) EXPECT_FALSE(b.constraint.empty());
}

const FleetBinding* FindBinding(const FleetResult& r, const std::string& name) {
  for (const auto& b : r.binding) {
    if (b.constraint == name) return &b;
  }
  return nullptr;
}

FleetOptions Exact() { return FleetOptions{.milp = {.time_limit_s = 60, .relative_gap = 0}}; }

// Shadow prices against finite differences: re-solve with the constraint's
// bound moved by a small amount and compare the objectives' change.
TEST(Fleet, RelaxedShadowPriceOfADemandMatchesAFiniteDifference) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, Example("toy.yaml"));
  ASSERT_TRUE(s) << s.error().ToString();
  auto solver = MakeCbcSolver();
  auto base = PlanFleet(c, *s, Exact(), *solver);
  ASSERT_TRUE(base && base->feasible);
  const FleetBinding* b = FindBinding(*base, "demand chat 2025Q2");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->kind, "demand");
  EXPECT_EQ(b->unit, "USD per output token/s of demand");
  // Least cost: every cost is on the integer purchases, so the fix-and-resolve LP's duals are zero.
  EXPECT_EQ(b->shadow_price, 0);
  EXPECT_GT(b->relaxed_shadow_price, 0);
  const double delta = 10;  // output tokens/s
  s->demands[0].need[1] += delta;
  auto more = PlanFleet(c, *s, Exact(), *solver);
  ASSERT_TRUE(more && more->feasible);
  const double fd = (more->relaxed_objective - base->relaxed_objective) / delta;
  EXPECT_NEAR(b->relaxed_shadow_price, fd, 1e-6 * fd);
  // The LP relaxation buys the cheapest capacity per token/s continuously:
  // H100 at its hourly cost per token/s over the quarter's hours.
  const auto& h100 = base->candidates[0];
  EXPECT_NEAR(fd, h100.cost_usd_per_node_hour / h100.capacity[0] * s->periods[1].hours, 1e-6 * fd);
}

TEST(Fleet, RelaxedShadowPriceOfAPowerEnvelopeMatchesAFiniteDifference) {
  const Catalog& c = Shipped();
  // H100 is the cheaper capacity, A100 the less power per token/s; 5 A100 (40,625 W) meet
  // 36,000 tokens/s at exactly the envelope, and the relaxation mixes the two at it.
  auto s = LoadScenario(c, WriteScenario("power-fd", R"(name: power
facility: us-2025
periods: [2025Q1]
sites: [{id: dc, power_mw: 0.040625}]
candidates:
  - {system: hgx-h100, price_usd_per_node: 200000, capacity: {chat: 9000}}
  - {system: dgx-a100, price_usd_per_node: 300000, capacity: {chat: 8000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, output_tokens_per_s: 36000}
)"));
  ASSERT_TRUE(s) << s.error().ToString();
  auto solver = MakeCbcSolver();
  auto base = PlanFleet(c, *s, Exact(), *solver);
  ASSERT_TRUE(base && base->feasible);
  EXPECT_EQ(base->periods[0].units.at("dgx-a100"), 5);
  const FleetBinding* b = FindBinding(*base, "power dc 2025Q1");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->kind, "power");
  EXPECT_EQ(b->unit, "USD per W of facility power");
  EXPECT_LT(b->relaxed_shadow_price, 0);  // more power, less cost
  const double delta = 100;  // W
  s->sites[0].power_w[0] += delta;
  auto more = PlanFleet(c, *s, Exact(), *solver);
  ASSERT_TRUE(more && more->feasible);
  const double fd = (more->relaxed_objective - base->relaxed_objective) / delta;
  EXPECT_NEAR(b->relaxed_shadow_price, fd, 1e-6 * std::fabs(fd));
}

// Most served: the fix-and-resolve LP keeps a continuous choice (the share
// served), so its demand dual is informative; the budget's comes from the relaxation.
TEST(Fleet, MostServedShadowPricesMatchFiniteDifferences) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, WriteScenario("budget-fd", R"(name: budget
facility: us-2025
objective: most_served
periods: [2025Q1]
budget: {capex_usd: 300000}
candidates:
  - {system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 9000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, output_tokens_per_s: 36000}
)"));
  ASSERT_TRUE(s) << s.error().ToString();
  auto solver = MakeCbcSolver();
  auto base = PlanFleet(c, *s, Exact(), *solver);
  ASSERT_TRUE(base && base->feasible);
  EXPECT_EQ(base->objective_unit, "served share");
  const FleetBinding* demand = FindBinding(*base, "demand chat 2025Q1");
  const FleetBinding* budget = FindBinding(*base, "budget capex");
  ASSERT_NE(demand, nullptr);
  ASSERT_NE(budget, nullptr);
  EXPECT_EQ(demand->unit, "served share per output token/s of demand");
  EXPECT_EQ(budget->unit, "served share per USD of capex budget");
  // One node, 9,000 of 36,000 tokens/s served: d(9000 / need)/d need = -9000 / need^2.
  EXPECT_NEAR(demand->shadow_price, -9000.0 / (36000.0 * 36000.0), 1e-9);
  // The share served is 9000 / need, not linear in need: a central difference.
  const double dn = 36;  // tokens/s: the purchases stay one node
  s->demands[0].need[0] += dn;
  auto more_demand = PlanFleet(c, *s, Exact(), *solver);
  s->demands[0].need[0] -= 2 * dn;
  auto less_demand = PlanFleet(c, *s, Exact(), *solver);
  s->demands[0].need[0] += dn;
  ASSERT_TRUE(more_demand && more_demand->feasible && less_demand && less_demand->feasible);
  EXPECT_EQ(more_demand->periods[0].units.at("hgx-h100"), 1);
  EXPECT_EQ(less_demand->periods[0].units.at("hgx-h100"), 1);
  const double fd_demand = (more_demand->objective - less_demand->objective) / (2 * dn);
  EXPECT_NEAR(demand->shadow_price, fd_demand, 1e-5 * std::fabs(fd_demand));
  const double db = 3000;  // USD
  *s->capex_budget_usd += db;
  auto more_budget = PlanFleet(c, *s, Exact(), *solver);
  ASSERT_TRUE(more_budget && more_budget->feasible);
  const double fd_budget = (more_budget->relaxed_objective - base->relaxed_objective) / db;
  EXPECT_GT(budget->relaxed_shadow_price, 0);
  EXPECT_NEAR(budget->relaxed_shadow_price, fd_budget, 1e-6 * fd_budget);
  EXPECT_NEAR(fd_budget, 0.25 / 300000, 1e-3 * fd_budget);  // a node's price buys a quarter of the demand
}

TEST(Fleet, H20BlockedUnderTheApril2025RuleAndLicensedAfter) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, Example("china-2025-deepseek.yaml"));
  ASSERT_TRUE(s) << s.error().ToString();
  // Stated capacities, so that the test checks the filter alone.
  for (auto& cand : s->candidates) cand.capacity["r1-chat"] = 5000;
  auto solver = MakeCbcSolver();
  auto plan = PlanFleet(c, *s, {}, *solver);
  ASSERT_TRUE(plan) << plan.error().ToString();
  const FleetCandidateInfo* h20 = nullptr;
  for (const auto& k : plan->candidates) {
    if (k.chip == "h20") h20 = &k;
  }
  ASSERT_NE(h20, nullptr);
  EXPECT_TRUE(h20->purchasable[0]);   // 2025Q1: us-2023-10 does not control it
  EXPECT_FALSE(h20->purchasable[1]);  // 2025Q2: us-2025-04-h20 does
  EXPECT_NE(h20->why_not[1].find("us-2025-04-h20"), std::string::npos);
  EXPECT_TRUE(h20->purchasable[2]);   // 2025Q3: licensed from 2025-08-08
  EXPECT_TRUE(h20->purchasable[3]);
  // Without the licence it stays blocked.
  s->licences.clear();
  auto unlicensed = PlanFleet(c, *s, {}, *solver);
  ASSERT_TRUE(unlicensed);
  for (const auto& k : unlicensed->candidates) {
    if (k.chip == "h20") {
      EXPECT_FALSE(k.purchasable[3]);
    }
  }
}

constexpr const char* kTwoVendors = R"(name: two vendors
facility: us-2025
periods: [2025Q1, 2025Q2]
candidates:
  - {system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 9000}}
  - {system: atlas-800t-a2, price_usd_per_node: 250000, capacity: {chat: 4000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, output_tokens_per_s: 36000}
)";

TEST(Fleet, ASupplyShockChangesThePlanAndShockReportsResilience) {
  const Catalog& c = Shipped();
  auto solver = MakeCbcSolver();
  auto base = LoadScenario(c, WriteScenario("two", kTwoVendors));
  ASSERT_TRUE(base) << base.error().ToString();
  auto plan = PlanFleet(c, *base, {.shock = true}, *solver);
  ASSERT_TRUE(plan && plan->feasible);
  EXPECT_EQ(plan->periods[0].units.count("atlas-800t-a2"), 0u);  // 4 x H100 covers 36,000 exactly, the cheapest way
  ASSERT_EQ(plan->shocks.size(), 2u);
  for (const auto& sh : plan->shocks) {
    if (sh.shock.find("NVIDIA") != std::string::npos) {
      EXPECT_DOUBLE_EQ(sh.served_fraction, 0);
    }
  }
  // NVIDIA unavailable from the first quarter: the plan moves to Ascend.
  auto shocked = LoadScenario(c, WriteScenario("two-shock", std::string(kTwoVendors) +
                                                                "events:\n  - {vendor: NVIDIA, from: 2025Q1, supply_factor: 0}\n"));
  ASSERT_TRUE(shocked) << shocked.error().ToString();
  auto moved = PlanFleet(c, *shocked, {}, *solver);
  ASSERT_TRUE(moved && moved->feasible);
  EXPECT_EQ(moved->periods[0].units.count("hgx-h100"), 0u);
  EXPECT_EQ(moved->periods[0].units.at("atlas-800t-a2"), 9);  // ceil(36000 / 4000)
  // Robust: the demand is met without either vendor, so both are bought.
  auto robust = PlanFleet(c, *base, {.robust = true}, *solver);
  ASSERT_TRUE(robust && robust->feasible);
  EXPECT_GT(robust->total_cost_usd, plan->total_cost_usd);
  EXPECT_EQ(robust->periods[0].units.size(), 2u);
}

// A vendor share counts accelerators as bought: a CloudMatrix 384 node is 8
// Ascend 910C packages, though it serves as 16 dies. With NVIDIA at most 60 %
// and a demand of four nodes' capacity, the cheaper H100 nodes may be at
// most 1.5 x the CloudMatrix nodes: two and two (counting dies would allow
// three H100 nodes beside one CloudMatrix node).
TEST(Fleet, AVendorShareCountsPackagesNotDies) {
  const Catalog& c = Shipped();
  auto solver = MakeCbcSolver();
  auto s = LoadScenario(c, WriteScenario("share", R"(name: share
facility: us-2025
periods: [2025Q1]
vendor_caps: [{vendor: NVIDIA, max_share: 0.6}]
candidates:
  - {system: hgx-h100, price_usd_per_node: 200000, capacity: {chat: 9000}}
  - {system: cloudmatrix-384, price_usd_per_node: 300000, capacity: {chat: 9000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, output_tokens_per_s: 36000}
)"));
  ASSERT_TRUE(s) << s.error().ToString();
  auto plan = PlanFleet(c, *s, {}, *solver);
  ASSERT_TRUE(plan && plan->feasible);
  for (const FleetCandidateInfo& k : plan->candidates) {
    EXPECT_EQ(k.packages_per_node, 8) << k.system;
    EXPECT_EQ(k.chips_per_node, k.system == "cloudmatrix-384" ? 16 : 8) << k.system;
  }
  EXPECT_EQ(plan->periods[0].units.at("hgx-h100"), 2);
  EXPECT_EQ(plan->periods[0].units.at("cloudmatrix-384"), 2);
}

TEST(Fleet, MostServedUnderABudgetServesWhatTheBudgetBuys) {
  const Catalog& c = Shipped();
  // 300k buys one H100 node (9,000 tokens/s) of the 36,000 asked: a quarter served, the budget binding.
  auto s = LoadScenario(c, WriteScenario("budget", R"(name: budget
facility: us-2025
objective: most_served
periods: [2025Q1]
budget: {capex_usd: 300000}
candidates:
  - {system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 9000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, output_tokens_per_s: 36000}
)"));
  ASSERT_TRUE(s) << s.error().ToString();
  auto solver = MakeCbcSolver();
  auto plan = PlanFleet(c, *s, FleetOptions{.milp = {.time_limit_s = 60, .relative_gap = 0}}, *solver);
  ASSERT_TRUE(plan && plan->feasible);
  EXPECT_NEAR(plan->periods[0].served.at("chat"), 0.25, 1e-9);
  EXPECT_EQ(plan->periods[0].units.at("hgx-h100"), 1);
  bool budget = false;
  for (const auto& b : plan->binding) budget = budget || b.constraint == "budget capex";
  EXPECT_TRUE(budget);
}

// A demand below 1e-5 of the best node serving it is bad input naming the
// demand: the solver's tolerances cannot tell its allocation from none, and
// the two-period plan read as infeasible (1e-3 tokens/s on 9,000 per node).
TEST(Fleet, ADemandTooSmallForTheSolverIsAnErrorNamingIt) {
  const Catalog& c = Shipped();
  auto scenario = [&](const std::string& need) {
    return LoadScenario(c, WriteScenario("tiny", R"(name: tiny
facility: us-2025
periods: [2025Q1, 2025Q2]
candidates:
  - {system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 9000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, output_tokens_per_s: )" + need + "}\n"));
  };
  auto solver = MakeCbcSolver();
  auto tiny = scenario("1.0e-3");
  ASSERT_TRUE(tiny) << tiny.error().ToString();
  auto plan = PlanFleet(c, *tiny, {}, *solver);
  ASSERT_FALSE(plan);
  EXPECT_FALSE(plan.error().internal());
  const Diagnostic& d = plan.error().diagnostics.at(0);
  EXPECT_EQ(d.key_path, "demands[0]");
  EXPECT_EQ(d.line, 7);
  EXPECT_NE(d.message.find("1.1e-07 of one hgx-h100 node"), std::string::npos) << d.message;
  auto small = scenario("0.1");
  ASSERT_TRUE(small);
  auto ok = PlanFleet(c, *small, {}, *solver);
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_TRUE(ok->feasible);
  EXPECT_EQ(ok->periods[0].units.at("hgx-h100"), 1);
}

// A cancelled plan (the web server's time limit) stops its capacities'
// simulations and returns the error "cancelled", not a plan without them.
TEST(Fleet, ACancelledPlanIsAnErrorNamingCancel) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, Example("china-2025-deepseek.yaml"));
  ASSERT_TRUE(s) << s.error().ToString();
  auto solver = MakeCbcSolver();
  std::atomic<bool> cancel{true};
  auto plan = PlanFleet(c, *s, FleetOptions{.cancel = &cancel}, *solver);
  ASSERT_FALSE(plan);
  EXPECT_FALSE(plan.error().internal());
  EXPECT_EQ(plan.error().diagnostics.at(0).key_path, "cancel") << plan.error().ToString();
}

TEST(Fleet, ASolverThatStopsIsAnInternalErrorWithItsStatus) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, std::string(SUANLI_TEST_REPO_DIR) + "/bench/fleet-large.yaml");
  ASSERT_TRUE(s) << s.error().ToString();
  auto solver = MakeCbcSolver();
  auto plan = PlanFleet(c, *s, FleetOptions{.milp = {.time_limit_s = 0.01, .relative_gap = 0}}, *solver);
  ASSERT_FALSE(plan);
  EXPECT_TRUE(plan.error().internal());
  EXPECT_NE(plan.error().ToString().find("did not finish"), std::string::npos) << plan.error().ToString();
}

// The period decomposition on bench/fleet-large.yaml (docs/fleet-model.md,
// "Speed"): the sum of the period bounds is a bound at least as strong as
// the LP relaxation and below the plan; the plan is no dearer than the
// forward pass's start; the reported gap is the plan's over the best bound.
TEST(Fleet, PeriodDecompositionBoundsAndStartsTheLargePlan) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, std::string(SUANLI_TEST_REPO_DIR) + "/bench/fleet-large.yaml");
  ASSERT_TRUE(s) << s.error().ToString();
  auto solver = MakeCbcSolver();
  auto plan = PlanFleet(c, *s, FleetOptions{}, *solver);
  ASSERT_TRUE(plan) << plan.error().ToString();
  ASSERT_TRUE(plan->feasible);
  EXPECT_GE(plan->period_lower_bound, plan->relaxed_objective * (1 - 1e-9));
  EXPECT_LE(plan->period_lower_bound, plan->objective);
  EXPECT_GT(plan->start_cost, 0);
  EXPECT_LE(plan->objective, plan->start_cost * (1 + 1e-9));
  EXPECT_GE(plan->solver_bound, plan->period_lower_bound);
  EXPECT_NEAR(plan->relative_gap, (plan->objective - plan->solver_bound) / plan->objective, 1e-12);
  EXPECT_LE(plan->relative_gap, 1e-4);
  // The solver's words follow the gap: "proven optimal" only when the bound meets the plan.
  if (plan->relative_gap > 1e-9) {
    EXPECT_EQ(plan->solver_status, "stopped within a relative gap of 0.0001");
  } else {
    EXPECT_EQ(plan->solver_status, "proven optimal");
  }
  EXPECT_NEAR(plan->total_cost_usd, plan->objective, 1e-6 * plan->objective);
  for (const auto& b : plan->binding) EXPECT_FALSE(b.constraint.starts_with("period bound")) << b.constraint;
}

// Utilisation is demand served over capacity owned, not nodes allocated over
// owned (the LP may allocate spare nodes at no cost). One system of 9,000
// output tokens/s per node: 20,000 needs 3 nodes, 20/27 used; two workloads
// of 4,500 and 3,000 tokens/s on one system of 9,000 and 3,000 per node need
// 0.5 + 1 node-equivalents, so 2 nodes, 75 % used.
TEST(Fleet, UtilizationIsDemandServedOverCapacityOwned) {
  const Catalog& c = Shipped();
  auto solver = MakeCbcSolver();
  auto one = LoadScenario(c, WriteScenario("spare", R"(name: spare
facility: us-2025
periods: [2025Q1]
candidates:
  - {system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 9000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, output_tokens_per_s: 20000}
)"));
  ASSERT_TRUE(one) << one.error().ToString();
  auto a = PlanFleet(c, *one, Exact(), *solver);
  ASSERT_TRUE(a && a->feasible);
  EXPECT_EQ(a->periods[0].units.at("hgx-h100"), 3);
  EXPECT_NEAR(a->periods[0].utilization, 20000.0 / 27000.0, 1e-9);
  EXPECT_NEAR(a->periods[0].utilization_by_system.at("hgx-h100"), 20000.0 / 27000.0, 1e-9);
  EXPECT_NEAR(a->periods[0].allocation.at("hgx-h100").at("chat"), 20000.0 / 9000.0, 1e-9);
  auto two = LoadScenario(c, WriteScenario("spare2", R"(name: spare two workloads
facility: us-2025
periods: [2025Q1]
candidates:
  - {system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 9000, code: 3000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, output_tokens_per_s: 4500}
  - {id: code, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, output_tokens_per_s: 3000}
)"));
  ASSERT_TRUE(two) << two.error().ToString();
  auto b = PlanFleet(c, *two, Exact(), *solver);
  ASSERT_TRUE(b && b->feasible);
  EXPECT_EQ(b->periods[0].units.at("hgx-h100"), 2);
  EXPECT_NEAR(b->periods[0].utilization, 0.75, 1e-9);
  EXPECT_NEAR(b->periods[0].allocation.at("hgx-h100").at("chat"), 0.5, 1e-9);
  EXPECT_NEAR(b->periods[0].allocation.at("hgx-h100").at("code"), 1.0, 1e-9);
}

// A serving demand in requests/s is that rate x output tokens per request;
// an opex budget (power, hosting and maintenance to the horizon's end) too
// small for the nodes the demand needs is a conflict that names it.
TEST(Fleet, DemandInRequestsPerSecondAndAnOpexBudget) {
  const Catalog& c = Shipped();
  const std::string head = R"(name: requests
facility: us-2025
periods: [2025Q1]
candidates:
  - {system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 9000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, requests_per_s: 100}
)";
  auto s = LoadScenario(c, WriteScenario("requests", head));
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_DOUBLE_EQ(s->demands[0].need[0], 100 * 200);
  auto solver = MakeCbcSolver();
  auto plan = PlanFleet(c, *s, Exact(), *solver);
  ASSERT_TRUE(plan && plan->feasible);
  EXPECT_EQ(plan->periods[0].units.at("hgx-h100"), 3);  // 20,000 tokens/s on 9,000 a node
  // 1,000 USD of opex cannot run three H100 nodes for a quarter: infeasible, the budget named.
  auto tight = LoadScenario(c, WriteScenario("opex", head + "budget: {opex_usd: 1000}\n"));
  ASSERT_TRUE(tight) << tight.error().ToString();
  auto none = PlanFleet(c, *tight, Exact(), *solver);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->feasible);
  bool named = false;
  for (const auto& x : none->conflicts) named = named || x.starts_with("budget opex");
  EXPECT_TRUE(named);
  auto both = LoadScenario(c, WriteScenario("both", R"(name: both
facility: us-2025
periods: [2025Q1]
candidates: [{system: hgx-h100, capacity: {chat: 9000}}]
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1, output_tokens: 1, requests_per_s: 1, output_tokens_per_s: 1}
)"));
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().diagnostics.front().key_path, "demands[0].requests_per_s") << both.error().ToString();
}

TEST(Fleet, InfeasibleIsAResultNamingTheConflict) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, WriteScenario("tight", std::string(kTwoVendors) + "sites: [{id: dc, power_mw: 0.01}]\n"));
  ASSERT_TRUE(s) << s.error().ToString();
  for (auto& k : s->candidates) k.site = "dc";
  auto solver = MakeCbcSolver();
  auto plan = PlanFleet(c, *s, {}, *solver);
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_FALSE(plan->feasible);
  bool named = false;
  for (const auto& x : plan->conflicts) named = named || x.starts_with("power dc") || x.starts_with("demand chat");
  EXPECT_TRUE(named);
}

TEST(Fleet, ScenarioErrorsNameFileLineAndKey) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, WriteScenario("bad", R"(name: bad
facility: us-2025
periods: [2025Q1, 2025Q5]
candidates:
  - {system: hgx-h10, capacity: {chat: 1}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1, output_tokens: 1, output_tokens_per_s: {2025Q2: 1}, colour: red}
)"));
  ASSERT_FALSE(s);
  std::vector<std::string> keys;
  for (const auto& d : s.error().diagnostics) {
    EXPECT_FALSE(d.file.empty());
    EXPECT_GT(d.line, 0) << d.ToString();
    keys.push_back(d.key_path);
  }
  auto has = [&](const std::string& k) { return std::find(keys.begin(), keys.end(), k) != keys.end(); };
  EXPECT_TRUE(has("periods[1]"));
  EXPECT_TRUE(has("candidates[0].system"));
  EXPECT_TRUE(has("demands[0].colour"));
  EXPECT_TRUE(has("demands[0].output_tokens_per_s.2025Q2"));
}

// Three slips that used to pass (hostile-input audit): a system listed twice
// at one site under an alias and its id, a year 0000, and `sites: []`, which
// read as no power limit.
TEST(Fleet, AliasDuplicatesYearZeroAndEmptySitesAreErrors) {
  const Catalog& c = Shipped();
  const System* hgx = c.FindSystem("hgx-h100");
  ASSERT_NE(hgx, nullptr);
  ASSERT_FALSE(hgx->aliases.empty());
  auto s = LoadScenario(c, WriteScenario("slips", R"(name: slips
facility: us-2025
periods: [0000Q1, 2025Q1]
sites: []
candidates:
  - {system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 9000}}
  - {system: )" + hgx->aliases.front() + R"(, price_usd_per_node: 300000, capacity: {chat: 9000}}
  - {system: dgx-a100, price_usd_per_node: 200000, capacity: {chat: 4000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1, output_tokens: 1, output_tokens_per_s: 1}
)"));
  ASSERT_FALSE(s);
  std::map<std::string, std::string> by_key = MessagesByKey(s.error());
  EXPECT_EQ(by_key["periods[0]"], "expected a quarter YYYYQn of a year from 2000 to 2100, found '0000Q1'");
  EXPECT_EQ(by_key["sites"], "an empty list (leave 'sites' out for one site with no power limit)");
  EXPECT_EQ(by_key["candidates[1].system"], "candidate '" + hgx->aliases.front() +
                                                "' at site 'site' is candidates[0] ('hgx-h100') again: both name hgx-h100");
  EXPECT_EQ(by_key.size(), 3u);
  // 2100Q4 is the last quarter, 2000Q1 the first.
  auto edges = LoadScenario(c, WriteScenario("edges", R"(name: edges
facility: us-2025
periods: [2000Q1, 2100Q4]
candidates:
  - {system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 9000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1, output_tokens: 1, output_tokens_per_s: 1}
)"));
  ASSERT_TRUE(edges) << edges.error().ToString();
  EXPECT_EQ(edges->periods.back().end, "2100-12-31");
}

// A date must exist: month 13 or 30 February used to pass the shape check
// and then compare as text (a licence that never applied, an infeasible plan).
TEST(Market, IsoDatesMustExist) {
  EXPECT_TRUE(IsIsoDate("2025-01-31"));
  EXPECT_TRUE(IsIsoDate("2024-02-29"));
  EXPECT_TRUE(IsIsoDate("2000-02-29"));
  for (const char* bad : {"2025-13-40", "2025-02-29", "1900-02-29", "2025-04-31", "2025-00-10", "2025-01-00", "2025-1-01", "2025/01/01"}) {
    EXPECT_FALSE(IsIsoDate(bad)) << bad;
  }
}

// A vendor, system or chip no catalog record has used to be ignored: a
// typo in export_control.vendors left the rules governing nothing, one in
// vendor_caps or events capped or shocked nothing; a second cap for a vendor
// silently replaced the first.
TEST(Fleet, UnknownVendorsSystemsAndChipsAreErrorsWithSuggestions) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, WriteScenario("bad-names", R"(name: names
facility: us-2025
periods: [2025Q1, 2025Q2]
vendor_caps: [{vendor: NVIDIIA, max_share: 0.5}, {vendor: AMD, max_share: 0.5}, {vendor: amd, max_share: 0.9}]
export_control: {rules: [us-2023-10], vendors: [NVIDIAA]}
candidates:
  - {system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 9000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1, output_tokens: 1, output_tokens_per_s: 1}
events:
  - {vendor: NVIDIAX, from: 2025Q2, supply_factor: 0}
  - {system: hgx-h1000, from: 2025Q2, supply_factor: 0}
  - {chip: h100-sxmm, from: 2025Q2, supply_factor: 0}
)"));
  ASSERT_FALSE(s);
  std::map<std::string, std::string> by_key = MessagesByKey(s.error());
  EXPECT_EQ(by_key["vendor_caps[0].vendor"], "no chip in the catalog is made by 'NVIDIIA' (did you mean 'NVIDIA'?)");
  EXPECT_EQ(by_key["vendor_caps[2].vendor"], "duplicate vendor cap for 'amd'");
  EXPECT_EQ(by_key["export_control.vendors[0]"], "no chip in the catalog is made by 'NVIDIAA' (did you mean 'NVIDIA'?)");
  EXPECT_EQ(by_key["events[0].vendor"], "no chip in the catalog is made by 'NVIDIAX' (did you mean 'NVIDIA'?)");
  EXPECT_EQ(by_key["events[1].system"], "no system or chip 'hgx-h1000' in the catalog (did you mean 'hgx-h100'?)");
  EXPECT_NE(by_key["events[2].chip"].find("no chip 'h100-sxmm' in the catalog"), std::string::npos);
  EXPECT_EQ(by_key.size(), 6u);
}

// An event or licence may name a chip or system by an alias: it hits what
// the candidates resolve to (it used to compare the alias with the id and
// hit nothing).
TEST(Fleet, EventsAndLicencesByAliasHitTheCandidates) {
  const Catalog& c = Shipped();
  const Chip* h100 = c.FindChip("h100-sxm");
  ASSERT_NE(h100, nullptr);
  ASSERT_FALSE(h100->aliases.empty());
  auto s = LoadScenario(c, WriteScenario("alias-events", R"(name: aliases
facility: us-2025
periods: [2025Q1, 2025Q2]
export_control: {rules: [us-2023-10], vendors: [NVIDIA], licences: [{chip: )" + h100->aliases.front() + R"(, from: "2025-01-01"}]}
candidates:
  - {system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 9000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1, output_tokens: 1, output_tokens_per_s: 1}
events:
  - {chip: )" + h100->aliases.front() + R"(, from: 2025Q2, price_factor: 2}
  - {system: hgx-a100, from: 2025Q2, price_factor: 2}
)"));
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->licences.at(0).chip, "h100-sxm");
  EXPECT_EQ(s->events.at(0).chip, "h100-sxm");
  EXPECT_EQ(s->events.at(1).system, "dgx-a100");
}

// A demand in requests/s is held to output_tokens_per_s's limit once
// converted (1e12 requests/s x 2,000 tokens passed it); too many periods say
// how many were given.
TEST(Fleet, RequestsPerSecondKeepTheTokenLimitAndPeriodsTheirCount) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, WriteScenario("requests", R"(name: requests
facility: us-2025
periods: [2025Q1]
candidates:
  - {system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 9000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 2000, requests_per_s: 1.0e12}
)"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().diagnostics.at(0).key_path, "demands[0].requests_per_s") << s.error().ToString();
  EXPECT_NE(s.error().diagnostics.at(0).message.find("2e+15 output tokens/s"), std::string::npos) << s.error().ToString();
  std::string periods;
  for (int y = 2025; y < 2056; ++y) {
    for (int q = 1; q <= 4; ++q) periods += (periods.empty() ? "" : ", ") + std::to_string(y) + "Q" + std::to_string(q);
  }
  auto many = LoadScenario(c, WriteScenario("many-periods", "name: many\nfacility: us-2025\nperiods: [" + periods +
                                                                  "]\ncandidates: [{system: hgx-h100}]\ndemands: []\n"));
  ASSERT_FALSE(many);
  EXPECT_NE(many.error().ToString().find("at most 120 periods, found 124"), std::string::npos) << many.error().ToString();
}

// A count with a fraction used to be truncated (input_tokens 1000.5 planned
// as 1000); an empty list was reported at line 1 instead of its own.
TEST(Fleet, CountsAreWholeAndAnEmptyListIsReportedAtItsLine) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, WriteScenario("fractions", R"(name: fractions
facility: us-2025
periods: [2025Q1]
candidates:
  - {system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 9000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000.5, output_tokens: 200.25, output_tokens_per_s: 1}
  - {id: pre, kind: training, model: llama-3.1-8b, tokens: 1.0e9, deadline: 2025Q1, devices: 8.5, seq_len: 4096.5, global_batch: 64.5}
)"));
  ASSERT_FALSE(s);
  std::vector<std::string> keys;
  for (const auto& d : s.error().diagnostics) {
    EXPECT_GT(d.line, 0) << d.ToString();
    EXPECT_NE(d.message.find("expected a whole number"), std::string::npos) << d.ToString();
    keys.push_back(d.key_path);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"demands[0].input_tokens", "demands[0].output_tokens", "demands[1].devices",
                                            "demands[1].seq_len", "demands[1].global_batch"}));
  auto empty = LoadScenario(c, WriteScenario("no-candidates", R"(name: empty
facility: us-2025
periods: [2025Q1]
candidates: []
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1, output_tokens: 1, output_tokens_per_s: 1}
)"));
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().diagnostics.front().line, 4) << empty.error().ToString();
  EXPECT_EQ(empty.error().diagnostics.front().key_path, "candidates");
}

TEST(Fleet, ImpossibleDatesAreErrorsNamingTheKey) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, WriteScenario("bad-dates", R"(name: dates
facility: us-2025
periods: [2025Q1]
price_date: "2025-02-30"
export_control: {rules: [us-2023-10], vendors: [NVIDIA], licences: [{chip: h100-sxm, from: "2025-13-45"}]}
candidates:
  - {system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 9000}}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1, output_tokens: 1, output_tokens_per_s: 1}
)"));
  ASSERT_FALSE(s);
  std::vector<std::string> keys;
  for (const auto& d : s.error().diagnostics) {
    EXPECT_GT(d.line, 0) << d.ToString();
    EXPECT_NE(d.message.find("expected a date YYYY-MM-DD"), std::string::npos) << d.ToString();
    keys.push_back(d.key_path);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"price_date", "export_control.licences[0].from"}));
}

}  // namespace
}  // namespace suanli

namespace suanli {
namespace {

// Serving capacities at an SLA come from the serving simulator (serve
// --max-rate), once per (system, workload): the same system at two sites
// shares the figure.
TEST(Fleet, ServingCapacityAtAnSlaComesFromServeMaxRate) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, WriteScenario("serve-cap", R"(name: serve capacity
facility: us-2025
periods: [2025Q1]
sites: [{id: a}, {id: b}]
candidates:
  - {system: hgx-h100, site: a}
  - {system: hgx-h100, site: b}
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, tpot_ms: 30, output_tokens_per_s: 20000}
)"));
  ASSERT_TRUE(s) << s.error().ToString();
  auto solver = MakeCbcSolver();
  auto plan = PlanFleet(c, *s, {}, *solver);
  ASSERT_TRUE(plan && plan->feasible) << (plan ? "" : plan.error().ToString());
  const auto& k = plan->candidates;
  ASSERT_EQ(k.size(), 2u);
  EXPECT_NE(k[0].capacity_from[0].find("serve --max-rate"), std::string::npos) << k[0].capacity_from[0];
  EXPECT_EQ(k[0].capacity[0], k[1].capacity[0]);
  // The same figure from the serve command itself, on the layout the plan names.
  const std::string& from = k[0].capacity_from[0];
  const auto tp_at = from.find("tp ");
  ASSERT_NE(tp_at, std::string::npos);
  Args a;
  a.Set("hardware", "hgx-h100");
  a.Set("model", "llama-3.1-8b");
  a.Set("tp", std::to_string(std::stoi(from.substr(tp_at + 3))));
  a.Set("input_tokens", "1000");
  a.Set("output_tokens", "200");
  a.Set("sla_tpot", "0.03");
  a.Set("max_rate", "true");
  a.Set("requests", "500");
  auto q = DecodeServe(a);
  ASSERT_TRUE(q) << q.error().ToString();
  auto r = RunServe(c, *q);
  ASSERT_TRUE(r && r->max_rate);
  EXPECT_NEAR(k[0].capacity[0], *r->max_rate * 200 / r->devices * k[0].chips_per_node, 1e-9 * k[0].capacity[0]);
  EXPECT_GT(k[0].capacity[0], 0);
}

// Training capacity: the best plan of the search's feasible stream that
// leaves the demand's memory headroom free.
TEST(Fleet, TrainingCapacityIsTheBestFeasiblePlanWithinTheMemoryHeadroom) {
  const Catalog& c = Shipped();
  auto scenario = [&](const std::string& headroom) {
    return LoadScenario(c, WriteScenario("train-cap" + headroom, R"(name: train capacity
facility: us-2025
periods: [2025Q1]
candidates:
  - {system: dgx-a100}
demands:
  - {id: t, kind: training, model: llama-2-7b, tokens: 1.0e10, start: 2025Q1, deadline: 2025Q1, devices: 8, seq_len: 2048,
     global_batch: 16, memory_headroom: )" + headroom + "}\n"));
  };
  auto solver = MakeCbcSolver();
  auto loose = scenario("0");
  auto tight = scenario("0.6");
  ASSERT_TRUE(loose && tight) << (loose ? tight.error().ToString() : loose.error().ToString());
  auto a = PlanFleet(c, *loose, {}, *solver);
  auto b = PlanFleet(c, *tight, {}, *solver);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->candidates[0].capacity_from[0].find("feasible plans"), std::string::npos) << a->candidates[0].capacity_from[0];
  EXPECT_NE(b->candidates[0].capacity_from[0].find("60 % of memory free"), std::string::npos) << b->candidates[0].capacity_from[0];
  // 60 % free rules out the fastest plan (tp 1, ZeRO 1) on 8 A100s: a slower one is kept.
  EXPECT_GT(b->candidates[0].capacity[0], 0);
  EXPECT_LT(b->candidates[0].capacity[0], a->candidates[0].capacity[0]);
  // With no headroom the stream's best is the search's top plan.
  Args t;
  t.Set("hardware", "dgx-a100");
  t.Set("model", "llama-2-7b");
  t.Set("devices", "8");
  t.Set("seq_len", "2048");
  t.Set("global_batch", "16");
  t.Set("search", "true");
  t.Set("top", "1");
  auto q = DecodeTrain(t);
  ASSERT_TRUE(q);
  auto r = RunTrain(c, *q);
  ASSERT_TRUE(r && !r->search.top.empty());
  EXPECT_NEAR(a->candidates[0].capacity[0], r->search.top.front().estimate.tokens_per_s_per_device * a->candidates[0].chips_per_node,
              1e-9 * a->candidates[0].capacity[0]);
  // Out of bounds: file, line and key.
  auto bad = scenario("0.95");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().diagnostics.front().key_path, "demands[0].memory_headroom") << bad.error().ToString();
}

// A deployment of several nodes is allocated whole: 3,500 tokens/s at 1,000
// per node takes 4 nodes in any fraction, 6 in deployments of 3 (2 of them).
TEST(Fleet, AMultiNodeDeploymentIsBoughtWhole) {
  const Catalog& c = Shipped();
  auto solver = MakeCbcSolver();
  auto scenario = [&](const std::string& deployment) {
    return LoadScenario(c, WriteScenario("whole", R"(name: whole deployments
facility: us-2025
periods: [2025Q1]
candidates: [{system: hgx-h100, price_usd_per_node: 300000, capacity: {chat: 1000})" + deployment + R"(}]
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, output_tokens_per_s: 3500}
)"));
  };
  auto any = scenario("");
  ASSERT_TRUE(any) << any.error().ToString();
  auto plan = PlanFleet(c, *any, Exact(), *solver);
  ASSERT_TRUE(plan && plan->feasible);
  EXPECT_EQ(plan->periods[0].units.at("hgx-h100"), 4);
  EXPECT_EQ(plan->candidates[0].deployment_nodes[0], 1);
  auto whole = scenario(", deployment_nodes: {chat: 3}");
  ASSERT_TRUE(whole) << whole.error().ToString();
  auto three = PlanFleet(c, *whole, Exact(), *solver);
  ASSERT_TRUE(three && three->feasible);
  EXPECT_EQ(three->periods[0].units.at("hgx-h100"), 6);
  EXPECT_EQ(three->candidates[0].deployment_nodes[0], 3);
  // A fraction of a node, or a size without a stated capacity: file, line and key.
  auto half = scenario(", deployment_nodes: {chat: 2.5}");
  ASSERT_FALSE(half);
  EXPECT_EQ(half.error().diagnostics.front().key_path, "candidates[0].deployment_nodes.chat") << half.error().ToString();
  auto unstated = LoadScenario(c, WriteScenario("unstated", R"(name: unstated
facility: us-2025
periods: [2025Q1]
candidates: [{system: hgx-h100, deployment_nodes: {chat: 2}}]
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, output_tokens_per_s: 3500}
)"));
  ASSERT_FALSE(unstated);
  EXPECT_EQ(unstated.error().diagnostics.front().key_path, "candidates[0].deployment_nodes.chat") << unstated.error().ToString();
}

// A training job runs on all its devices or not at all: a 16-GPU job on
// 8-GPU nodes takes 2 nodes, however little of it the demand needs.
TEST(Fleet, ATrainingJobIsBoughtWhole) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, WriteScenario("train-job", R"(name: train job
facility: us-2025
periods: [2025Q1]
candidates:
  - {system: dgx-a100}
demands:
  - {id: t, kind: training, model: llama-2-7b, tokens: 1.0e9, start: 2025Q1, deadline: 2025Q1, devices: 16, seq_len: 2048,
     global_batch: 32}
)"));
  ASSERT_TRUE(s) << s.error().ToString();
  auto solver = MakeCbcSolver();
  auto plan = PlanFleet(c, *s, {}, *solver);
  ASSERT_TRUE(plan && plan->feasible);
  EXPECT_EQ(plan->candidates[0].deployment_nodes[0], 2);
  // 1e9 tokens in a quarter is far under one node's capacity.
  EXPECT_LT(1e9 / (s->periods[0].hours * 3600), 0.1 * plan->candidates[0].capacity[0]);
  EXPECT_EQ(plan->periods[0].units.at("dgx-a100"), 2);
}

// A TTFT SLA needs a TPOT SLA beside it, and is a serving key.
TEST(Fleet, TtftNeedsTpotAndAServingDemand) {
  const Catalog& c = Shipped();
  auto scenario = [&](const std::string& demand) {
    return LoadScenario(c, WriteScenario("ttft", R"(name: ttft
facility: us-2025
periods: [2025Q1]
candidates: [{system: hgx-h100, capacity: {chat: 1000}}]
demands:
  - )" + demand + "\n"));
  };
  auto ok = scenario("{id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, tpot_ms: 50, ttft_ms: 2000, output_tokens_per_s: 1}");
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_DOUBLE_EQ(ok->demands[0].ttft_s, 2.0);
  auto alone = scenario("{id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, ttft_ms: 2000, output_tokens_per_s: 1}");
  ASSERT_FALSE(alone);
  EXPECT_EQ(alone.error().diagnostics.front().key_path, "demands[0].ttft_ms") << alone.error().ToString();
  auto training = scenario("{id: chat, kind: training, model: llama-3.1-8b, tokens: 1e9, deadline: 2025Q1, devices: 8, seq_len: 4096, global_batch: 8, ttft_ms: 2000}");
  ASSERT_FALSE(training);
  EXPECT_EQ(training.error().diagnostics.front().key_path, "demands[0].ttft_ms") << training.error().ToString();
}

// A dense model under a TTFT SLA gets PD candidates too (tensor-parallel
// decode pools), which serve more per device than the aggregated layouts
// here (Llama 3.1 70B on H100 at TPOT 40 ms, TTFT 2 s); MTP is a whole
// number of draft tokens at an SLA.
TEST(Fleet, DensePdAndMtpKeys) {
  const Catalog& c = Shipped();
  auto scenario = [&](const std::string& keys) {
    return LoadScenario(c, WriteScenario("dense-pd", R"(name: dense PD
facility: us-2025
periods: [2025Q1]
candidates: [{system: hgx-h100}]
demands:
  - {id: chat, kind: serving, model: llama-3.1-70b, input_tokens: 2000, output_tokens: 500, output_tokens_per_s: 50000)" + keys + "}\n"));
  };
  auto solver = MakeCbcSolver();
  auto with = scenario(", tpot_ms: 40, ttft_ms: 2000");
  auto without = scenario(", tpot_ms: 40");
  ASSERT_TRUE(with && without);
  auto pd = PlanFleet(c, *with, {}, *solver);
  auto aggregated = PlanFleet(c, *without, {}, *solver);
  ASSERT_TRUE(pd && pd->feasible && aggregated && aggregated->feasible);
  EXPECT_NE(pd->candidates[0].capacity_from[0].find("PD "), std::string::npos) << pd->candidates[0].capacity_from[0];
  EXPECT_NE(pd->candidates[0].capacity_from[0].find("decode tp "), std::string::npos) << pd->candidates[0].capacity_from[0];
  EXPECT_EQ(aggregated->candidates[0].capacity_from[0].find("PD "), std::string::npos);
  EXPECT_GT(pd->candidates[0].capacity[0], aggregated->candidates[0].capacity[0]);
  auto mtp = scenario(", tpot_ms: 40, mtp: 2");
  ASSERT_TRUE(mtp) << mtp.error().ToString();
  EXPECT_EQ(mtp->demands[0].mtp, 2);
  for (const char* bad : {", tpot_ms: 40, mtp: 1.5", ", mtp: 1", ", tpot_ms: 40, mtp: 9"}) {
    auto b = scenario(bad);
    ASSERT_FALSE(b) << bad;
    EXPECT_EQ(b.error().diagnostics.front().key_path, "demands[0].mtp") << bad << ": " << b.error().ToString();
  }
}

// The capacities' simulations run on several threads, each deterministic
// and kept in the deployments' order: the options, their sources and the
// plan do not depend on the thread count.
TEST(Fleet, CapacitiesAndThePlanDoNotDependOnTheThreadCount) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, WriteScenario("threads", R"(name: threads
facility: us-2025
periods: [2025Q1]
candidates: [{system: hgx-h100}, {system: hgx-h200, price_usd_per_node: 300000}]
demands:
  - {id: chat, kind: serving, model: llama-3.1-8b, input_tokens: 1000, output_tokens: 200, tpot_ms: 30, ttft_ms: 1000,
     output_tokens_per_s: 50000}
)"));
  ASSERT_TRUE(s) << s.error().ToString();
  auto solver = MakeCbcSolver();
  FleetOptions one, three;
  one.threads = 1;
  three.threads = 3;
  auto a = PlanFleet(c, *s, one, *solver);
  auto b = PlanFleet(c, *s, three, *solver);
  ASSERT_TRUE(a && a->feasible && b && b->feasible);
  EXPECT_EQ(a->total_cost_usd, b->total_cost_usd);
  ASSERT_EQ(a->candidates.size(), b->candidates.size());
  std::size_t options = 0;
  for (std::size_t i = 0; i < a->candidates.size(); ++i) {
    const auto& x = a->candidates[i].options[0];
    const auto& y = b->candidates[i].options[0];
    ASSERT_EQ(x.size(), y.size()) << a->candidates[i].system;
    options += x.size();
    for (std::size_t o = 0; o < x.size(); ++o) {
      EXPECT_EQ(x[o].per_node, y[o].per_node);
      EXPECT_EQ(x[o].from, y[o].from);
      EXPECT_EQ(x[o].deployment_nodes, y[o].deployment_nodes);
    }
  }
  EXPECT_GE(options, 3u);  // PD deployments of two sizes on one system, one on the other
}

// The capacities' simulations stop at their time limit with an error that
// says how far they got (a scenario of many systems and demand shapes could
// otherwise simulate for hours); the seed scenario's first pair, DeepSeek-R1
// PD deployments on HGX H20, alone takes seconds.
TEST(Fleet, TheCapacitiesStopAtTheirTimeLimit) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, Example("china-2025-deepseek.yaml"));
  ASSERT_TRUE(s) << s.error().ToString();
  auto solver = MakeCbcSolver();
  FleetOptions o;
  o.capacity_time_limit_s = 0.1;
  auto plan = PlanFleet(c, *s, o, *solver);
  ASSERT_FALSE(plan);
  EXPECT_FALSE(plan.error().internal());
  ASSERT_EQ(plan.error().diagnostics.size(), 1u);
  const Diagnostic& d = plan.error().diagnostics[0];
  EXPECT_EQ(d.key_path, "capacity_time_limit");
  EXPECT_NE(d.message.find("took more than 0.1 s (0 (system, workload) pairs done; stopped in hgx-h20 for demand r1-chat)"),
            std::string::npos)
      << d.message;
}

// A cancel reaches into a MILP under way: CBC alone on bench/fleet-large.yaml
// at gap 0 does not prove it (docs/fleet-model.md, "Speed"); the flag set
// 0.2 s into the solve stops it on CBC's user event (secondary status 5), not
// at the 30 s limit (4), and the plan is "cancelled".
TEST(Fleet, ACancelStopsTheMilpUnderWay) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, std::string(SUANLI_TEST_REPO_DIR) + "/bench/fleet-large.yaml");
  ASSERT_TRUE(s) << s.error().ToString();
  std::atomic<bool> cancel{false};
  // CBC, with the flag set from a second thread 0.2 s into each solve.
  class CancelledInFlight : public MilpSolver {
   public:
    explicit CancelledInFlight(std::atomic<bool>& flag) : flag_(flag) {}
    std::string_view name() const override { return cbc_->name(); }
    Result<MilpSolution> Solve(const MilpProblem& p, const MilpOptions& o) override {
      std::thread later([this] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        flag_ = true;
      });
      auto r = cbc_->Solve(p, o);
      later.join();
      if (r) statuses.push_back(r->solver_status);
      return r;
    }
    std::vector<std::string> statuses;

   private:
    std::atomic<bool>& flag_;
    std::unique_ptr<MilpSolver> cbc_ = MakeCbcSolver();
  } solver(cancel);
  FleetOptions o;
  o.milp.relative_gap = 0;
  o.milp.time_limit_s = 30;
  o.period_decomposition = false;  // the full MILP from the start
  o.cancel = &cancel;
  auto plan = PlanFleet(c, *s, o, solver);
  ASSERT_FALSE(plan);
  EXPECT_FALSE(plan.error().internal()) << plan.error().ToString();
  EXPECT_EQ(plan.error().diagnostics.at(0).key_path, "cancel");
  ASSERT_EQ(solver.statuses.size(), 1u);
  EXPECT_NE(solver.statuses[0].find("secondary 5"), std::string::npos) << solver.statuses[0];
}

// A system offers each demand every deployment no other beats on both rate
// per node and size, and the plan picks among them: a small demand on the
// one-node aggregated layout, a large one on whole 6-node PD deployments
// (Llama 3.1 70B on HGX H100 at TPOT 40 ms, TTFT 2 s).
TEST(Fleet, ThePlanPicksTheDeploymentThatFitsTheDemand) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, WriteScenario("options", R"(name: options
facility: us-2025
periods: [2025Q1, 2025Q2]
candidates: [{system: hgx-h100}]
demands:
  - {id: chat, kind: serving, model: llama-3.1-70b, input_tokens: 2000, output_tokens: 500, tpot_ms: 40, ttft_ms: 2000,
     output_tokens_per_s: {2025Q1: 2000, 2025Q2: 200000}}
)"));
  ASSERT_TRUE(s) << s.error().ToString();
  auto solver = MakeCbcSolver();
  auto plan = PlanFleet(c, *s, {}, *solver);
  ASSERT_TRUE(plan && plan->feasible);
  const auto& options = plan->candidates[0].options[0];
  ASSERT_GE(options.size(), 2u);
  for (std::size_t i = 1; i < options.size(); ++i) {
    EXPECT_LT(options[i].per_node, options[i - 1].per_node);                  // the highest rate first ...
    EXPECT_LT(options[i].deployment_nodes, options[i - 1].deployment_nodes);  // ... each slower one smaller
  }
  ASSERT_GT(options.front().deployment_nodes, 1);
  EXPECT_EQ(options.back().deployment_nodes, 1);
  // 2,000 tokens/s: under one node's aggregated capacity, far under a PD deployment's.
  EXPECT_EQ(plan->periods[0].units.at("hgx-h100"), 1);
  ASSERT_EQ(plan->periods[0].deployments.size(), 1u);
  EXPECT_EQ(plan->periods[0].deployments[0].deployment_nodes, 1);
  // 200,000 tokens/s: mostly whole PD deployments.
  double pd_nodes = 0;
  for (const auto& d : plan->periods[1].deployments) {
    if (d.deployment_nodes > 1) pd_nodes += d.count * d.deployment_nodes;
  }
  EXPECT_GT(pd_nodes, 0.8 * double(plan->periods[1].units.at("hgx-h100")));
}

// Seed (a) with its TTFT SLA: prefill-decode disaggregated deployments are
// candidates beside the aggregated ones, each priced per node from the
// simulator's rate on the whole deployment; the plan's deployments of more
// than a node are whole, and take no more nodes than the system owns.
TEST(Fleet, WithATtftSlaPdDeploymentsAreCandidatesBoughtWhole) {
  const Catalog& c = Shipped();
  auto s = LoadScenario(c, Example("china-2025-deepseek.yaml"));
  ASSERT_TRUE(s) << s.error().ToString();
  ASSERT_GT(s->demands[0].ttft_s, 0);
  auto solver = MakeCbcSolver();
  auto plan = PlanFleet(c, *s, {}, *solver);
  ASSERT_TRUE(plan && plan->feasible) << (plan ? "" : plan.error().ToString());
  bool pd = false;
  for (const auto& k : plan->candidates) {
    for (const auto& o : k.options[0]) pd = pd || (o.from.find("PD ") != std::string::npos && o.deployment_nodes > 1);
  }
  EXPECT_TRUE(pd);
  // A ladder of PD deployments: beside the screening's best, smaller ones of
  // at most half its devices for demands the large one would overshoot
  // (H20 servers: 3 prefill + 2 decode EP 16 on 7 nodes, and 1 + 1 on 3).
  for (const auto& k : plan->candidates) {
    if (k.system != "hgx-h20") continue;
    std::vector<double> pd_nodes;
    for (const auto& o : k.options[0]) {
      if (o.from.find("PD ") != std::string::npos) pd_nodes.push_back(o.deployment_nodes);
    }
    ASSERT_GE(pd_nodes.size(), 2u);
    for (std::size_t i = 1; i < pd_nodes.size(); ++i) EXPECT_LE(pd_nodes[i], pd_nodes[i - 1] / 2 + 1) << k.system;
  }
  for (const auto& period : plan->periods) {
    std::map<std::string, double> used;
    for (const auto& d : period.deployments) {
      if (d.deployment_nodes > 1) {
        EXPECT_NEAR(d.count, std::round(d.count), 1e-6) << d.system << " " << period.period;
      }
      used[d.system] += d.deployment_nodes > 1 ? d.count * d.deployment_nodes : d.count;
    }
    for (const auto& [system, nodes] : used) EXPECT_LE(nodes, double(period.units.at(system)) + 1e-6) << system << " " << period.period;
  }
}

}  // namespace
}  // namespace suanli
