// Lookups over the market records (catalog/prices/, catalog/fx/): the
// purchase price of a chip or system on a date, and the exchange rate of a
// date. Pure functions over a loaded Catalog; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "suanli/catalog/catalog.h"
#include "suanli/core/result.h"

namespace suanli {

// A calendar date YYYY-MM-DD whose month and day exist (29 February only in
// leap years): what prices, rates and --date compare as text.
bool IsIsoDate(std::string_view date);

// A price of kind list, street or analyst_asp (a unit bought, not rented).
bool IsPurchasePrice(const MarketRecord& price);

// The latest purchase price of `subject` (a chip or system id) dated on or
// before `date` (empty: any date), preferring `region` (empty: any); nullptr if none.
const MarketRecord* LatestPurchasePrice(const Catalog& catalog, std::string_view subject, std::string_view region,
                                        std::string_view date);

// Yuan per dollar on `date` (ISO): the latest rate on or before it, else the
// earliest; an error when the catalog has no rate.
struct FxRate {
  double cny_per_usd = 0;
  std::string record;
  std::string date;
};
Result<FxRate> FxRateOn(const Catalog& catalog, std::string_view date);

// A price record's value in US dollars, a yuan figure converted at the rate
// of the price's own date; nullopt when it needs a rate the catalog lacks.
std::optional<double> PriceInUsd(const Catalog& catalog, const MarketRecord& price);

// The latest purchase price of `subject` in any region, in dollars (what catalog listings show).
std::optional<double> LatestPurchasePriceUsd(const Catalog& catalog, std::string_view subject);

}  // namespace suanli
