// The shipped catalog, loaded once for every benchmark. $SUANLI_BENCH_CATALOG
// names another catalog directory (the test of the error path uses it).
#pragma once

#include <cstdio>
#include <cstdlib>

#include "suanli/catalog/catalog.h"

namespace suanli::bench {

// A catalog that does not load (a key this binary does not know, a bad
// value) ends the run with the library's message, file:line:key, on stderr:
// exit 2 for bad input as the CLI's, 1 for an internal fault.
inline const Catalog& ShippedCatalog() {
  static const Catalog catalog = [] {
    const char* dir = std::getenv("SUANLI_BENCH_CATALOG");
    auto c = Catalog::Load(dir != nullptr && *dir != '\0' ? dir : SUANLI_BENCH_CATALOG_DIR);
    if (!c) {
      std::fprintf(stderr, "suanli_bench: the catalog does not load:\n%s\n", c.error().ToString().c_str());
      std::fflush(stderr);
      std::exit(c.error().internal() ? 1 : 2);
    }
    return std::move(*c);
  }();
  return catalog;
}

}  // namespace suanli::bench
