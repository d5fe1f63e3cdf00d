// Total cost of ownership of one device-hour, and what it makes a token or a
// training run cost (docs/cost-model.md gives every formula and its source).
//
//   capex    = price x A(r, L) / (8,760 h x U)     A = r / (1 - (1 + r)^-L), 1 / L at r = 0
//   power    = P x d x PUE x e                      P rated IT power per device, d its draw while working
//   hosting  = h x P / 730 h / U                    colocation is paid on provisioned kW
//   maint.   = m x price / (8,760 h x U)
//
// all per hour of paid work (U = the fraction of hours the device works).
// Every input is a TcoInput: a base value, a low-high range and where it
// came from (a catalog record and key, a flag, or a default); EvaluateTco is
// pure, so the ranges and the sensitivity table are re-evaluations of it.
// Money is US dollars; a yuan figure is converted with a dated rate
// (FxRateOn) before it gets here. Thread-safe; no allocation in EvaluateTco.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "suanli/catalog/catalog.h"
#include "suanli/catalog/market.h"
#include "suanli/core/result.h"

namespace suanli {

// The inputs of the device-hour cost, in the order of kTcoInputNames.
enum class TcoInputId {
  kPriceUsd,               // capex per device, all-in (its server share and network), USD
  kLifeYears,              // depreciation life, years
  kCostOfCapital,          // annual rate (0.12 = 12 %)
  kUtilization,            // fraction of hours worked
  kPowerW,                 // rated IT power per device (its node's share), W
  kPowerDrawFraction,      // average draw while working / rated
  kPue,                    // facility power / IT power
  kElectricityUsdPerKwh,   // USD/kWh
  kHostingUsdPerKwMonth,   // USD per kW-month of provisioned IT power
  kMaintenanceFraction,    // per year, of capex
};
inline constexpr int kTcoInputs = 10;
inline constexpr std::array<std::string_view, kTcoInputs> kTcoInputNames = {
    "price_usd", "life_years", "cost_of_capital", "utilization", "power_w", "power_draw_fraction",
    "pue", "electricity_usd_per_kwh", "hosting_usd_per_kw_month", "maintenance_fraction"};

struct TcoInput {
  double base = 0;
  double low = 0;   // the range reported by its record (low == high == base when none)
  double high = 0;
  std::string from;  // "price hgx-h20-cn-2024-07: cny", "--pue", "default", with the arithmetic
};

struct TcoInputs {
  std::array<TcoInput, kTcoInputs> items;
  TcoInput& operator[](TcoInputId id) { return items[static_cast<int>(id)]; }
  const TcoInput& operator[](TcoInputId id) const { return items[static_cast<int>(id)]; }
};

// USD per device-hour of work, by term.
struct TcoBreakdown {
  double capex = 0, power = 0, hosting = 0, maintenance = 0;
  [[nodiscard]] double total() const { return capex + power + hosting + maintenance; }
  double power_w_at_wall = 0;  // P x d x PUE: what one working device draws from the grid
};

// The annuity factor A(r, L): the share of a price paid each year to repay it over L years at rate r.
double AnnuityFactor(double rate, double life_years);

// The breakdown at `values` (indexed like TcoInputId).
TcoBreakdown EvaluateTco(const std::array<double, kTcoInputs>& values);
std::array<double, kTcoInputs> BaseValues(const TcoInputs& in);

// The cost at the low and high ends: each input at the end of its range that
// lowers (raises) the total, all together. Sensitivity: each input alone at
// both ends, the others at base. A $/Mtoken is the device-hour total times a
// constant, so the same ranking holds for it (scale the totals).
struct TcoRange {
  TcoBreakdown low, high;
  std::array<double, kTcoInputs> low_values{}, high_values{};
};
TcoRange RangeOf(const TcoInputs& in);

struct Sensitivity {
  TcoInputId input;
  double metric_at_low = 0;   // with the input at its low end
  double metric_at_high = 0;  // at its high end
  [[nodiscard]] double swing() const { return metric_at_high > metric_at_low ? metric_at_high - metric_at_low : metric_at_low - metric_at_high; }
};
// Device-hour totals; sorted by swing, largest first; inputs without a range are left out.
std::vector<Sensitivity> SensitivityOf(const TcoInputs& in);


}  // namespace suanli
