// Lookups over the market records (market.h).
#include "suanli/catalog/market.h"

#include "suanli/core/text.h"

namespace suanli {

bool IsIsoDate(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  const int year = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
  const int month = (d[5] - '0') * 10 + (d[6] - '0'), day = (d[8] - '0') * 10 + (d[9] - '0');
  if (month < 1 || month > 12) return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day >= 1 && day <= (month == 2 && !leap ? 28 : kDays[month - 1]);
}

bool IsPurchasePrice(const MarketRecord& r) {
  return r.kind == RecordKind::kPrice && (r.price_kind == "list" || r.price_kind == "street" || r.price_kind == "analyst_asp");
}

const MarketRecord* LatestPurchasePrice(const Catalog& catalog, std::string_view subject, std::string_view region,
                                        std::string_view date) {
  const MarketRecord* best = nullptr;
  auto better = [&](const MarketRecord& a, const MarketRecord& b) {
    const bool ra = a.region == region, rb = b.region == region;
    if (ra != rb) return ra;
    return a.date > b.date || (a.date == b.date && a.id < b.id);
  };
  for (const auto& p : catalog.prices()) {
    if (!IsPurchasePrice(p) || !EqualsIgnoreCase(p.subject, subject)) continue;
    if (!date.empty() && p.date > date) continue;
    if (best == nullptr || better(p, *best)) best = &p;
  }
  return best;
}

Result<FxRate> FxRateOn(const Catalog& catalog, std::string_view date) {
  const MarketRecord* best = nullptr;
  const MarketRecord* earliest = nullptr;
  for (const auto& r : catalog.fx()) {
    if (!r.Get("cny_per_usd")) continue;
    if (earliest == nullptr || r.date < earliest->date) earliest = &r;
    if (r.date <= date && (best == nullptr || r.date > best->date)) best = &r;
  }
  if (best == nullptr) best = earliest;
  if (best == nullptr) {
    return Error(Diagnostic{.file = catalog.dir(), .key_path = "fx",
                            .message = "the catalog has no exchange rate (catalog/fx/) to convert yuan and dollars"});
  }
  return FxRate{.cny_per_usd = *best->Get("cny_per_usd"), .record = best->id, .date = best->date};
}

std::optional<double> PriceInUsd(const Catalog& catalog, const MarketRecord& price) {
  if (auto usd = price.Get("usd")) return *usd;
  auto cny = price.Get("cny");
  if (!cny) return std::nullopt;
  auto fx = FxRateOn(catalog, price.date);
  if (!fx) return std::nullopt;
  return *cny / fx->cny_per_usd;
}

std::optional<double> LatestPurchasePriceUsd(const Catalog& catalog, std::string_view subject) {
  const MarketRecord* p = LatestPurchasePrice(catalog, subject, "", "");
  return p != nullptr ? PriceInUsd(catalog, *p) : std::nullopt;
}

}  // namespace suanli
