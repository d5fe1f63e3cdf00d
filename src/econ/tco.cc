// The device-hour cost and its ranges (tco.h; formulas in docs/cost-model.md).
#include "suanli/econ/tco.h"

#include <algorithm>
#include <cmath>

namespace suanli {
namespace {
constexpr double kHoursPerYear = 8760;
constexpr double kHoursPerMonth = 730;  // 8,760 / 12: colocation's month
double At(const std::array<double, kTcoInputs>& v, TcoInputId id) { return v[static_cast<int>(id)]; }
}  // namespace

double AnnuityFactor(double rate, double life_years) {
  if (!(life_years > 0)) return 0;
  if (rate <= 0) return 1 / life_years;
  return rate / (1 - std::pow(1 + rate, -life_years));
}

TcoBreakdown EvaluateTco(const std::array<double, kTcoInputs>& v) {
  using enum TcoInputId;
  TcoBreakdown b;
  const double u = At(v, kUtilization);
  const double worked_hours = kHoursPerYear * (u > 0 ? u : 1);
  const double price = At(v, kPriceUsd);
  b.capex = price * AnnuityFactor(At(v, kCostOfCapital), At(v, kLifeYears)) / worked_hours;
  b.power_w_at_wall = At(v, kPowerW) * At(v, kPowerDrawFraction) * At(v, kPue);
  b.power = b.power_w_at_wall / 1e3 * At(v, kElectricityUsdPerKwh);
  b.hosting = At(v, kHostingUsdPerKwMonth) * At(v, kPowerW) / 1e3 / kHoursPerMonth / (u > 0 ? u : 1);
  b.maintenance = At(v, kMaintenanceFraction) * price / worked_hours;
  return b;
}

std::array<double, kTcoInputs> BaseValues(const TcoInputs& in) {
  std::array<double, kTcoInputs> v{};
  for (int i = 0; i < kTcoInputs; ++i) v[i] = in.items[i].base;
  return v;
}

TcoRange RangeOf(const TcoInputs& in) {
  TcoRange r;
  const auto base = BaseValues(in);
  r.low_values = base;
  r.high_values = base;
  // The total is monotone in each input, so the end that lowers it alone lowers it together.
  for (int i = 0; i < kTcoInputs; ++i) {
    auto lo = base, hi = base;
    lo[i] = in.items[i].low;
    hi[i] = in.items[i].high;
    const bool low_is_cheaper = EvaluateTco(lo).total() <= EvaluateTco(hi).total();
    r.low_values[i] = low_is_cheaper ? in.items[i].low : in.items[i].high;
    r.high_values[i] = low_is_cheaper ? in.items[i].high : in.items[i].low;
  }
  r.low = EvaluateTco(r.low_values);
  r.high = EvaluateTco(r.high_values);
  return r;
}

std::vector<Sensitivity> SensitivityOf(const TcoInputs& in) {
  std::vector<Sensitivity> out;
  const auto base = BaseValues(in);
  for (int i = 0; i < kTcoInputs; ++i) {
    if (in.items[i].low == in.items[i].high) continue;
    auto lo = base, hi = base;
    lo[i] = in.items[i].low;
    hi[i] = in.items[i].high;
    out.push_back(Sensitivity{.input = static_cast<TcoInputId>(i), .metric_at_low = EvaluateTco(lo).total(),
                              .metric_at_high = EvaluateTco(hi).total()});
  }
  std::stable_sort(out.begin(), out.end(), [](const Sensitivity& a, const Sensitivity& b) { return a.swing() > b.swing(); });
  return out;
}

}  // namespace suanli
