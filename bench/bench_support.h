// The shipped catalog, loaded once for every benchmark.
#pragma once

#include <cstdlib>

#include "suanli/catalog/catalog.h"

namespace suanli::bench {

inline const Catalog& ShippedCatalog() {
  static const Catalog catalog = [] {
    auto c = Catalog::Load(SUANLI_BENCH_CATALOG_DIR);
    if (!c) std::abort();
    return std::move(*c);
  }();
  return catalog;
}

}  // namespace suanli::bench
