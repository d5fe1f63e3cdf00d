// Parsing quantities written with units ("4.0 TB/s", "96 GiB", "700 W").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "suanli/core/result.h"
#include "suanli/core/units.h"

namespace suanli {

// Parses "<number> <unit>" (the space is optional; a bare number is
// dimensionless). On failure returns a message saying what is wrong.
struct QuantityParse {
  bool ok = false;
  ParsedQuantity quantity;
  std::string message;
};
QuantityParse ParseQuantity(std::string_view text);

// Every unit the parser knows for a dimension, e.g. {"B/s", "KB/s", ...}.
std::vector<std::string_view> UnitsFor(Dim d);

}  // namespace suanli
