// What-if chips: a catalog chip with some figures replaced, built in memory
// (no file text to write, read or parse) and checked by the chip schema's
// bounds exactly as a chip file that `extends` the base would be. What a
// sweep evaluates at each point (python/suanli/sweep.py): the chip is built
// once per distinct set of figures and found by id (api/chip_scope.h).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "suanli/catalog/catalog.h"

namespace suanli {

struct FigureOverride {
  std::string key;    // a chip figure's dotted key: "compute.fp8", "memory.bandwidth"
  std::string value;  // as a chip file writes it: "592 TFLOPS", "4.8 TB/s", "96 GB"
};

// `base` (a catalog chip's id or alias) with `overrides`, as the chip file
//   id: ID, extends: BASE, name: NAME,
//   KEY: {value: VALUE, basis: estimated, source: [WHAT_IF], note: ...}  (each override)
// would read. Errors: an unknown base (key "chip.base"), a key that is not a
// figure of the chip schema or a value out of its bounds ("chip.KEY...", as
// the schema names it), each located at "what-if chip ID".
Result<Chip> ChipWithOverrides(const Catalog& catalog, std::string_view base, std::string id, std::string name,
                               std::span<const FigureOverride> overrides);

}  // namespace suanli
