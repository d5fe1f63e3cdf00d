// `suanli cost`: what one device-hour costs on a chip or system, bought at a
// dated price and run in a facility (catalog/prices/, catalog/facilities/,
// catalog/fx/), and with a workload what a token or a training run costs.
//
//   auto q = DecodeCost(args);       // the cost command's fields (api/fields.h)
//   auto r = RunCost(catalog, *q);   // every term, with the record it came from
//
// The serving throughput comes from the analytical estimator (`infer`) behind
// ServingPoint, so that the serving simulator can replace it; the training
// throughput from the plan search (`train --search`). Formulas: tco.h and
// docs/cost-model.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "suanli/api/commands.h"
#include "suanli/api/serve.h"
#include "suanli/econ/tco.h"

namespace suanli {

enum class Currency { kUsd, kCny };

// Values a request fixes instead of the catalog's (nullopt: from the records).
struct TcoOverrides {
  std::optional<double> price_usd, price_cny;  // all-in capex per device
  std::optional<double> life_years, cost_of_capital, utilization, power_w, pue, electricity_usd_per_kwh,
      hosting_usd_per_kw_month, maintenance_fraction;
};

struct CostQuery {
  std::string hardware;
  std::optional<DeviceRank> rank;  // --rank; none: the system's (the workload's query takes the same)
  std::string region;  // a facility id; empty: the default (us-2025, else the first)
  std::string date;    // ISO; empty: the latest records
  Currency currency = Currency::kUsd;
  TcoOverrides overrides;
  std::optional<InferQuery> serving;  // with --model and no --devices
  std::optional<ServeQuery> simulation;  // with --serve: a simulated serving run
  std::optional<TrainQuery> training;  // with --model and --devices (the best plan is searched)
};
Result<CostQuery> DecodeCost(const Args& args);

// The facility a request names (empty: the default), or an error listing them.
Result<const MarketRecord*> ResolveFacility(const Catalog& catalog, std::string_view id);

// The inputs of one device-hour on `chip` (in `system`, when given) in
// `facility`, with prices dated on or before `date` (empty: any).
Result<TcoInputs> MakeTcoInputs(const Catalog& catalog, const Chip& chip, const System* system,
                                const MarketRecord& facility, std::string_view date, const TcoOverrides& overrides);

// What the serving estimator says of one deployment, as costing needs it.
struct ServingPoint {
  double output_tokens_per_s = 0;  // whole deployment
  double input_tokens_per_s = 0;
  double ttft_s = 0;
  double request_latency_s = 0;
  int devices = 0;
  double input_tokens = 0, output_tokens = 0;  // per request (a simulated run: the means)
  // The share of the deployment's device time spent on prefill (the input
  // tokens' share of the cost); < 0: unknown, then ttft / request latency.
  double prefill_device_share = -1;
  std::string prefill_share_from;  // how it was found, in words
};

// The costing view of one `infer` estimate. The device time is split by
// phase (docs/cost-model.md): a static batch spends its prefill pass (TTFT)
// then its decode steps, so prefill's share is TTFT / request latency; under
// continuous batching every iteration mixes both, and the iteration is split
// by the prefill and decode passes' own times (the estimate's `prefill`, the
// prompts one iteration admits, and `decode`, one step of the requests in flight).
ServingPoint ServingPointOf(const InferenceEstimate& e, const InferenceWorkload& w);

// The costing view of a simulated serving run (`serve`): the deployment held
// for the run's wall time (first arrival to last completion, idle time
// included), its tokens the requests served, and the device time split by the
// simulator's per-phase device time (ServeStats::prefill_device_s and
// decode_device_s; the idle time shared in the same proportion).
// Needs stats with ServeOptions::phase_device_time on.
ServingPoint ServingPointOf(const ServeResult& run);

// Per token, from a device-hour cost (USD per worked hour) and the wall power per device.
struct TokenCost {
  double usd_per_million_output_tokens = 0;
  double usd_per_million_input_tokens = 0;
  double joules_per_output_token = 0;
  double output_tokens_per_s_per_kw = 0;  // per kW drawn at the wall
};
TokenCost CostPerToken(const ServingPoint& p, double usd_per_device_hour, double wall_w_per_device);

struct TrainingCost {
  double run_cost_usd = 0;
  double energy_j = 0;  // at the wall
  double device_hours = 0;
};

struct CostResult {
  ResolvedHardware hardware;
  const MarketRecord* facility = nullptr;
  Currency currency = Currency::kUsd;
  FxRate fx;  // for --currency cny
  TcoInputs inputs;
  TcoBreakdown base;
  TcoRange range;
  std::vector<Sensitivity> sensitivity;
  std::optional<InferResult> serving;
  std::optional<ServeResult> simulation;  // --serve: the simulated run priced
  ServingPoint serving_point;             // of `serving` or `simulation`
  TokenCost tokens, tokens_low, tokens_high;
  std::optional<TrainResult> training;
  TrainingCost run, run_low, run_high;
  std::string training_plan;  // the plan priced, in words
  std::vector<std::string> warnings;
  // $/M output tokens per $/device-hour of this serving point (0 without one):
  // a token's price is the device-hour cost times this constant, so the
  // sensitivity table converts with it.
  [[nodiscard]] double usd_per_million_output_tokens_per_usd_per_device_hour() const {
    return (serving || simulation) && base.total() > 0 ? tokens.usd_per_million_output_tokens / base.total() : 0;
  }
};
Result<CostResult> RunCostQuery(const Catalog& catalog, const CostQuery& query);

}  // namespace suanli
