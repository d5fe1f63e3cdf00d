// `suanli cost`: decode, choose the records, evaluate (cost.h, tco.h).
#include "suanli/econ/cost.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>

#include "suanli/core/text.h"

namespace suanli {
namespace {

std::optional<double> OptNumber(const Args& args, std::string_view key) {
  auto v = args.Get(key);
  if (!v) return std::nullopt;
  return std::strtod(std::string(*v).c_str(), nullptr);
}

// The input from a facility figure, else `fallback` (its schema default).
TcoInput FromFacility(const MarketRecord& f, std::string_view key, double fallback, double scale = 1) {
  const Figure* fig = f.Find(key);
  if (fig == nullptr) return TcoInput{.base = fallback, .low = fallback, .high = fallback, .from = "default (" + f.id + " gives no " + std::string(key) + ")"};
  TcoInput in{.base = fig->value * scale, .low = fig->value * scale, .high = fig->value * scale,
              .from = "facility " + f.id + ": " + std::string(key)};
  if (fig->range) {
    in.low = fig->range->first * scale;
    in.high = fig->range->second * scale;
  }
  return in;
}

TcoInput Fixed(double v, std::string from) { return TcoInput{.base = v, .low = v, .high = v, .from = std::move(from)}; }

// A price record's value in USD (low, base, high), converted at the rate of its date.
Result<TcoInput> PriceInput(const Catalog& catalog, const MarketRecord& p, double divisor, std::string_view per) {
  const Figure* usd = p.Find("usd");
  const Figure* fig = usd != nullptr ? usd : p.Find("cny");
  double rate = 1;
  std::string how = "price " + p.id + " (" + p.date + "): " + (usd != nullptr ? "usd " : "cny ") + FormatFigureValue(*fig);
  if (usd == nullptr) {
    auto fx = FxRateOn(catalog, p.date);
    if (!fx) return std::move(fx).error();
    rate = 1 / fx->cny_per_usd;
    how += fmt::format(" at {:.4g} CNY/USD (fx {})", fx->cny_per_usd, fx->record);
  }
  if (divisor != 1) how += fmt::format(" / {:g} {}", divisor, per);
  TcoInput in{.base = fig->value * rate / divisor, .low = 0, .high = 0, .from = how};
  in.low = (fig->range ? fig->range->first : fig->value) * rate / divisor;
  in.high = (fig->range ? fig->range->second : fig->value) * rate / divisor;
  return in;
}

// The keys cost reads without --serve: its own price terms and the infer and
// training workload fields.
bool IsCostInferOrTrainingKey(std::string_view key) {
  static constexpr std::string_view kKeys[] = {"hardware", "rank", "model", "input_tokens", "output_tokens", "batch", "concurrency", "tp", "pp",
                                               "ep", "weights", "kv_cache", "stack", "devices", "seq_len", "global_batch", "tokens"};
  return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys);
}

// The keys of the cost itself, not of its workload.
bool IsPriceKey(std::string_view key) {
  static constexpr std::string_view kKeys[] = {"hardware", "price_usd", "price_cny", "life_years", "cost_of_capital", "pue",
                                               "electricity_usd_per_kwh", "utilization", "hosting_usd_per_kw_month",
                                               "maintenance_fraction", "power_w", "region", "date", "currency", "serve"};
  return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys);
}

// --serve: the workload is serve's request, decoded by serve itself.
Result<CostQuery> DecodeSimulatedCost(const Args& args, CostQuery q) {
  std::vector<Diagnostic> bad;
  if (!args.Has("model")) bad.push_back(Diagnostic{.key_path = "serve", .message = "a simulated serving run needs --model"});
  for (const char* k : {"seq_len", "global_batch", "tokens"}) {
    if (args.Has(k)) bad.push_back(Diagnostic{.key_path = k, .message = "is a training field: not with --serve"});
  }
  if (args.Has("batch")) {
    bad.push_back(Diagnostic{.key_path = "batch",
                             .message = "is infer's static batch: with --serve the load is --rate, --concurrency, --offline or --max-rate"});
  }
  if (!bad.empty()) return Error(std::move(bad));
  Args sub;
  sub.Set("hardware", q.hardware);
  for (const auto& [key, value] : args.items()) {
    if (!IsPriceKey(key)) sub.Set(key, value);
  }
  auto s = DecodeServe(sub);
  if (!s) return std::move(s).error();
  s->phase_device_time = true;  // the input tokens' share of the cost
  q.simulation = std::move(*s);
  return q;
}

}  // namespace

Result<CostQuery> DecodeCost(const Args& args) {
  const CommandSpec& spec = CommandFor("cost");
  if (auto ok = CheckArgs(spec, args); !ok) return std::move(ok).error();
  CostQuery q;
  q.hardware = std::string(*args.Get("hardware"));
  q.rank = RankOf(args);
  if (auto v = args.Get("region")) q.region = std::string(*v);
  if (auto v = args.Get("date")) {
    q.date = std::string(*v);
    if (!IsIsoDate(q.date)) return Error(Diagnostic{.key_path = "date", .message = "expected a date YYYY-MM-DD, found '" + q.date + "'"});
  }
  if (auto v = args.Get("currency"); v && *v == "cny") q.currency = Currency::kCny;
  TcoOverrides& o = q.overrides;
  o.price_usd = OptNumber(args, "price_usd");
  o.price_cny = OptNumber(args, "price_cny");
  o.life_years = OptNumber(args, "life_years");
  o.cost_of_capital = OptNumber(args, "cost_of_capital");
  o.utilization = OptNumber(args, "utilization");
  o.power_w = OptNumber(args, "power_w");
  o.pue = OptNumber(args, "pue");
  o.electricity_usd_per_kwh = OptNumber(args, "electricity_usd_per_kwh");
  o.hosting_usd_per_kw_month = OptNumber(args, "hosting_usd_per_kw_month");
  o.maintenance_fraction = OptNumber(args, "maintenance_fraction");
  // The workload, decoded by its own command so that its defaults and checks are the same.
  static constexpr std::string_view kServing[] = {"input_tokens", "output_tokens", "batch", "concurrency", "tp",
                                                  "pp", "ep", "weights", "kv_cache"};
  static constexpr std::string_view kTraining[] = {"devices", "seq_len", "global_batch", "tokens"};
  if (args.Get("serve") == "true") return DecodeSimulatedCost(args, std::move(q));
  const bool training = args.Has("devices");
  std::vector<Diagnostic> bad;
  // serve's own fields (cost takes them with --serve).
  const CommandSpec& own = CommandFor("serve");
  for (const auto& [key, value] : args.items()) {
    if (own.Find(key) != nullptr && !IsCostInferOrTrainingKey(key)) {
      bad.push_back(Diagnostic{.key_path = key, .message = "is a field of a simulated serving run: give --serve too"});
    }
  }
  for (auto key : training ? std::span<const std::string_view>(kServing) : std::span<const std::string_view>(kTraining)) {
    if (args.Has(key)) {
      bad.push_back(Diagnostic{.key_path = std::string(key),
                               .message = training ? "is a serving field; a training cost (--devices) takes --seq-len, --global-batch and --tokens"
                                                   : "is a training field: give --devices for a training run"});
    }
  }
  if (!args.Has("model")) {
    for (const auto& [key, value] : args.items()) {
      bool workload = key == "stack";
      for (auto k : kServing) workload = workload || k == key;
      for (auto k : kTraining) workload = workload || k == key;
      if (workload) bad.push_back(Diagnostic{.key_path = key, .message = "describes a workload: give --model too"});
    }
  }
  if (!bad.empty()) return Error(std::move(bad));
  if (!args.Has("model")) return q;
  Args sub;
  sub.Set("hardware", q.hardware);
  for (const auto& [key, value] : args.items()) {
    if (key == "model" || key == "stack" || key == "rank") sub.Set(key, value);
    for (auto k : training ? std::span<const std::string_view>(kTraining) : std::span<const std::string_view>(kServing)) {
      if (k == key) sub.Set(key, value);
    }
  }
  if (training) {
    sub.Set("search", "true");
    sub.Set("top", "1");
    auto t = DecodeTrain(sub);
    if (!t) return std::move(t).error();
    if (t->request.tokens <= 0) return Error(Diagnostic{.key_path = "tokens", .message = "a training cost needs --tokens"});
    q.training = std::move(*t);
  } else {
    if (!sub.Has("batch") && !sub.Has("concurrency")) sub.Set("concurrency", "max");
    auto s = DecodeInfer(sub);
    if (!s) return std::move(s).error();
    q.serving = std::move(*s);
  }
  return q;
}

Result<const MarketRecord*> ResolveFacility(const Catalog& catalog, std::string_view id) {
  const std::string_view want = id.empty() ? std::string_view("us-2025") : id;
  for (const auto& f : catalog.facilities()) {
    if (EqualsIgnoreCase(f.id, want)) return &f;
  }
  if (id.empty() && !catalog.facilities().empty()) return &catalog.facilities().front();
  std::vector<std::string> ids;
  for (const auto& f : catalog.facilities()) ids.push_back(f.id);
  std::string list;
  for (const auto& i : ids) list += (list.empty() ? "" : ", ") + i;
  return Error::NotFound(Diagnostic{.key_path = "region", .message = "no facility '" + std::string(want) + "' in catalog/facilities/ (" +
                                                                        (list.empty() ? "none" : list) + ")" + DidYouMean(want, ids)});
}

Result<TcoInputs> MakeTcoInputs(const Catalog& catalog, const Chip& chip, const System* system,
                                const MarketRecord& facility, std::string_view date, const TcoOverrides& o) {
  using enum TcoInputId;
  TcoInputs in;
  const double per_node = system != nullptr ? system->Get("chips_per_node").value_or(1) : 1;
  // Capex per device.
  if (o.price_usd) {
    in[kPriceUsd] = Fixed(*o.price_usd, "--price-usd (all-in per device)");
  } else if (o.price_cny) {
    auto fx = FxRateOn(catalog, date.empty() ? "9999-12-31" : date);
    if (!fx) return std::move(fx).error();
    in[kPriceUsd] = Fixed(*o.price_cny / fx->cny_per_usd,
                          fmt::format("--price-cny {:g} at {:.4g} CNY/USD (fx {})", *o.price_cny, fx->cny_per_usd, fx->record));
  } else {
    const MarketRecord* p = system != nullptr ? LatestPurchasePrice(catalog, system->id, facility.region, date) : nullptr;
    const bool whole_system = p != nullptr;
    if (p == nullptr) p = LatestPurchasePrice(catalog, chip.id, facility.region, date);
    if (p == nullptr) {
      return Error(Diagnostic{.key_path = "price_usd",
                              .message = "no purchase price for " + (system != nullptr ? system->id + " or its chip " : "") + chip.id +
                                         " in catalog/prices/" + (date.empty() ? "" : " dated on or before " + std::string(date)) +
                                         ": give --price-usd or --price-cny"});
    }
    // A system's price is over its devices (dies, on a die-ranked system); a chip's is per package.
    const bool die = chip.rank == DeviceRank::kDie;
    auto price = whole_system ? PriceInput(catalog, *p, per_node, die ? "dies per node" : "chips per node")
                              : PriceInput(catalog, *p, die ? chip.Dies() : 1, "dies per package");
    if (!price) return std::move(price).error();
    TcoInput capex = *price;
    if (!whole_system) {
      const TcoInput mult = FromFacility(facility, "server_cost_multiplier", 1);
      capex.base *= mult.base;
      capex.low *= mult.low;
      capex.high *= mult.high;
      capex.from += fmt::format(" x server cost multiplier {:g} ({})", mult.base, mult.from);
    }
    const TcoInput share = FromFacility(facility, "network_share", 0);
    capex.base /= 1 - share.base;
    capex.low /= 1 - share.low;
    capex.high /= 1 - share.high;
    if (share.base > 0) capex.from += fmt::format(" / (1 - network share {:g}, {})", share.base, share.from);
    in[kPriceUsd] = capex;
  }
  constexpr double kYear = 8760 * 3600.0;
  in[kLifeYears] = o.life_years ? Fixed(*o.life_years, "--life-years") : FromFacility(facility, "life", 5 * kYear, 1 / kYear);
  in[kCostOfCapital] = o.cost_of_capital ? Fixed(*o.cost_of_capital, "--cost-of-capital") : FromFacility(facility, "cost_of_capital", 0);
  in[kUtilization] = o.utilization ? Fixed(*o.utilization, "--utilization") : FromFacility(facility, "utilization", 1);
  in[kPue] = o.pue ? Fixed(*o.pue, "--pue") : FromFacility(facility, "pue", 1);
  in[kPowerDrawFraction] = FromFacility(facility, "power_draw_fraction", 1);
  in[kMaintenanceFraction] = o.maintenance_fraction ? Fixed(*o.maintenance_fraction, "--maintenance-fraction")
                                                    : FromFacility(facility, "maintenance_fraction", 0);
  constexpr double kKwh = 3.6e6, kKwMonth = 1e3 * 730 * 3600.0;
  if (o.electricity_usd_per_kwh) {
    in[kElectricityUsdPerKwh] = Fixed(*o.electricity_usd_per_kwh, "--electricity-usd-per-kwh");
  } else if (facility.Find("electricity.usd") != nullptr) {
    in[kElectricityUsdPerKwh] = FromFacility(facility, "electricity.usd", 0, kKwh);
  } else {
    auto fx = FxRateOn(catalog, facility.date);
    if (!fx) return std::move(fx).error();
    in[kElectricityUsdPerKwh] = FromFacility(facility, "electricity.cny", 0, kKwh / fx->cny_per_usd);
    in[kElectricityUsdPerKwh].from += fmt::format(" at {:.4g} CNY/USD (fx {})", fx->cny_per_usd, fx->record);
  }
  if (o.hosting_usd_per_kw_month) {
    in[kHostingUsdPerKwMonth] = Fixed(*o.hosting_usd_per_kw_month, "--hosting-usd-per-kw-month");
  } else if (facility.Find("hosting.cny") != nullptr) {
    auto fx = FxRateOn(catalog, facility.date);
    if (!fx) return std::move(fx).error();
    in[kHostingUsdPerKwMonth] = FromFacility(facility, "hosting.cny", 0, kKwMonth / fx->cny_per_usd);
  } else {
    in[kHostingUsdPerKwMonth] = FromFacility(facility, "hosting.usd", 0, kKwMonth);
  }
  // Rated IT power per device: the node's share, else the board power times the server multiplier.
  if (o.power_w) {
    in[kPowerW] = Fixed(*o.power_w, "--power-w");
  } else if (const Figure* node = system != nullptr ? system->Find("node_power") : nullptr; node != nullptr) {
    in[kPowerW] = TcoInput{.base = node->value / per_node,
                           .low = (node->range ? node->range->first : node->value) / per_node,
                           .high = (node->range ? node->range->second : node->value) / per_node,
                           .from = fmt::format("system {}: node_power {} / {:g} {} per node", system->id,
                                               FormatFigureValue(*node), per_node,
                                               system->rank == DeviceRank::kDie ? "dies" : "chips")};
  } else if (const Figure* tdp = chip.Find("power.tdp"); tdp != nullptr) {
    const TcoInput mult = FromFacility(facility, "server_power_multiplier", 1);
    in[kPowerW] = TcoInput{.base = tdp->value * mult.base, .low = tdp->value * mult.low, .high = tdp->value * mult.high,
                           .from = fmt::format("chip {}: power.tdp {} x server power multiplier {:g} ({})", chip.id,
                                               FormatFigureValue(*tdp), mult.base, mult.from)};
  } else {
    return Error(Diagnostic{.key_path = "power_w",
                            .message = "no node power or TDP for " + chip.id + ": give --power-w"});
  }
  return in;
}

ServingPoint ServingPointOf(const InferenceEstimate& e, const InferenceWorkload& w) {
  ServingPoint p{.output_tokens_per_s = e.output_tokens_per_s, .input_tokens_per_s = e.input_tokens_per_s, .ttft_s = e.ttft_s,
                 .request_latency_s = e.request_latency_s, .devices = e.devices, .input_tokens = double(w.input_tokens),
                 .output_tokens = double(w.output_tokens)};
  const bool continuous = w.mode == BatchMode::kConcurrency || w.mode == BatchMode::kConcurrencyMax;
  if (continuous) {
    const double both = e.prefill.seconds + e.decode.seconds;
    if (both > 0) {
      p.prefill_device_share = e.prefill.seconds / both;
      p.prefill_share_from = "continuous batching: the iteration split by its prefill pass over prefill + decode passes";
    }
  } else if (e.request_latency_s > 0) {
    p.prefill_device_share = e.ttft_s / e.request_latency_s;
    p.prefill_share_from = "static batch: the prefill pass (TTFT) over the request's latency";
  }
  return p;
}

ServingPoint ServingPointOf(const ServeResult& run) {
  const ServeStats& st = run.stats;
  ServingPoint p;
  if (!(st.duration_s > 0) || st.requests <= 0) return p;
  // At --max-rate the deployment is held at that rate: requests/s = the
  // rate, not requests / wall time, whose drain after the last arrival is
  // the finite run's, not the deployment's (docs/cost-model.md).
  const double requests_per_s = run.max_rate && *run.max_rate > 0 ? *run.max_rate : double(st.requests) / st.duration_s;
  p.output_tokens_per_s = requests_per_s * st.output_tokens / double(st.requests);
  p.input_tokens_per_s = requests_per_s * st.input_tokens / double(st.requests);
  p.ttft_s = st.ttft.mean;
  p.request_latency_s = st.e2e.mean;
  p.devices = run.devices;
  p.input_tokens = st.input_tokens / double(st.requests);
  p.output_tokens = st.output_tokens / double(st.requests);
  const double busy = st.prefill_device_s + st.decode_device_s;
  if (busy > 0) {
    p.prefill_device_share = st.prefill_device_s / busy;
    p.prefill_share_from = "serve: the run's prefill device time over its busy device time (mixed iterations split by each part's time alone; idle time shared alike)";
  }
  return p;
}

TokenCost CostPerToken(const ServingPoint& p, double usd_per_device_hour, double wall_w_per_device) {
  TokenCost t;
  if (!(p.output_tokens_per_s > 0) || !(p.output_tokens > 0)) return t;
  const double requests_per_s = p.output_tokens_per_s / p.output_tokens;
  const double device_s_per_request = p.devices / requests_per_s;
  const double usd_per_request = usd_per_device_hour * device_s_per_request / 3600;
  // The request's device time is split between its tokens by the share spent in prefill.
  const double in_share = p.prefill_device_share >= 0 ? std::clamp(p.prefill_device_share, 0.0, 1.0)
                          : p.request_latency_s > 0   ? std::clamp(p.ttft_s / p.request_latency_s, 0.0, 1.0)
                                                      : 0;
  t.usd_per_million_output_tokens = usd_per_request * (1 - in_share) / p.output_tokens * 1e6;
  t.usd_per_million_input_tokens = p.input_tokens > 0 ? usd_per_request * in_share / p.input_tokens * 1e6 : 0;
  const double wall_w = wall_w_per_device * p.devices;
  t.joules_per_output_token = wall_w / p.output_tokens_per_s;
  t.output_tokens_per_s_per_kw = wall_w > 0 ? p.output_tokens_per_s / (wall_w / 1e3) : 0;
  return t;
}

Result<CostResult> RunCostQuery(const Catalog& catalog, const CostQuery& q) {
  CostResult r;
  auto hw = ResolveHardware(catalog, q.hardware);
  if (!hw) return std::move(hw).error();
  r.hardware = AtRank(std::move(*hw), q.rank);  // a device-hour of one rank, as the workload's devices are
  auto facility = ResolveFacility(catalog, q.region);
  if (!facility) return std::move(facility).error();
  r.facility = *facility;
  r.currency = q.currency;
  auto fx = FxRateOn(catalog, q.date.empty() ? "9999-12-31" : q.date);
  if (!fx && q.currency == Currency::kCny) return std::move(fx).error();
  if (fx) r.fx = *fx;
  auto inputs = MakeTcoInputs(catalog, r.hardware.chip, r.hardware.system, **facility, q.date, q.overrides);
  if (!inputs) return std::move(inputs).error();
  r.inputs = std::move(*inputs);
  r.base = EvaluateTco(BaseValues(r.inputs));
  r.range = RangeOf(r.inputs);
  r.sensitivity = SensitivityOf(r.inputs);
  if (q.serving) {
    auto s = RunInfer(catalog, *q.serving);
    if (!s) return std::move(s).error();
    const InferenceEstimate& e = s->estimate;
    if (!e.fits) {
      return Error(Diagnostic{.key_path = "model", .message = "the deployment does not fit on " + s->hardware.id() + ": " +
                                                              std::string(InfeasibleReasonText(e.reason))});
    }
    r.serving_point = ServingPointOf(e, s->request.workload);
    r.tokens = CostPerToken(r.serving_point, r.base.total(), r.base.power_w_at_wall);
    r.tokens_low = CostPerToken(r.serving_point, r.range.low.total(), r.range.low.power_w_at_wall);
    r.tokens_high = CostPerToken(r.serving_point, r.range.high.total(), r.range.high.power_w_at_wall);
    r.warnings = s->warnings;
    r.serving = std::move(*s);
  }
  if (q.simulation) {
    auto s = RunServe(catalog, *q.simulation);
    if (!s) return std::move(s).error();
    if (!s->fits) {
      return Error(Diagnostic{.key_path = "model", .message = "the deployment does not fit on " + s->hardware.id() + ": " + s->reason});
    }
    if (s->max_rate && !(*s->max_rate > 0)) {
      return Error(Diagnostic{.key_path = "max_rate", .message = "no request rate meets the SLA on this deployment: nothing to price"});
    }
    if (s->stats.requests <= 0 || !(s->stats.output_tokens > 0) || !(s->stats.duration_s > 0)) {
      return Error(Diagnostic{.key_path = "serve", .message = "the simulated run served no output tokens: nothing to price"});
    }
    r.serving_point = ServingPointOf(*s);
    r.tokens = CostPerToken(r.serving_point, r.base.total(), r.base.power_w_at_wall);
    r.tokens_low = CostPerToken(r.serving_point, r.range.low.total(), r.range.low.power_w_at_wall);
    r.tokens_high = CostPerToken(r.serving_point, r.range.high.total(), r.range.high.power_w_at_wall);
    r.warnings = s->warnings;
    r.simulation = std::move(*s);
  }
  if (q.training) {
    auto t = RunTrain(catalog, *q.training);
    if (!t) return std::move(t).error();
    if (t->search.top.empty()) {
      return Error(Diagnostic{.key_path = "devices", .message = "no training plan fits on " + std::to_string(q.training->request.devices) +
                                                                " devices of " + t->hardware.id()});
    }
    const RankedPlan& best = t->search.top.front();
    r.training_plan = TrainPlanText(best.plan);
    const double seconds = q.training->request.tokens / best.estimate.tokens_per_s;
    auto price = [&](const TcoBreakdown& b) {
      TrainingCost c;
      c.device_hours = seconds * q.training->request.devices / 3600;
      c.run_cost_usd = c.device_hours * b.total();
      c.energy_j = c.device_hours * 3600 * b.power_w_at_wall;
      return c;
    };
    r.run = price(r.base);
    r.run_low = price(r.range.low);
    r.run_high = price(r.range.high);
    r.training = std::move(*t);
  }
  return r;
}

}  // namespace suanli
