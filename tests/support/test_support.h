// Helpers shared by the unit tests: temporary catalog directories.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "suanli/catalog/catalog.h"
#include "suanli/infer/infer.h"
#include "suanli/train/train.h"

namespace suanli::testing {

// The catalog shipped with the sources.
inline std::string CatalogDir() { return SUANLI_TEST_CATALOG_DIR; }
inline std::string TestDataDir() { return SUANLI_TEST_DATA_DIR; }

// The shipped catalog, loaded once per test binary and shared read-only by
// the fixtures that need it; a catalog that does not load stops the tests.
inline const Catalog& ShippedCatalog() {
  static const Catalog catalog = [] {
    auto loaded = Catalog::Load(CatalogDir());
    if (!loaded) {
      std::fprintf(stderr, "the shipped catalog does not load:\n%s\n", loaded.error().ToString().c_str());
      std::abort();
    }
    return std::move(*loaded);
  }();
  return catalog;
}

// The shipped catalog's default serving and training stacks.
inline ServingStack DefaultServingStack() {
  auto s = MakeServingStack(ShippedCatalog(), "");
  if (!s) std::abort();
  return *s;
}
inline TrainingStack DefaultTrainingStack() {
  auto s = MakeTrainingStack(ShippedCatalog(), "");
  if (!s) std::abort();
  return *s;
}

// A scratch directory removed when the object goes away.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("suanli-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `text` to `relative` (creating folders) and returns the full path.
  std::string Write(const std::string& relative, const std::string& text) const {
    const auto full = path_ / relative;
    std::filesystem::create_directories(full.parent_path());
    std::ofstream(full) << text;
    return full.string();
  }
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// A minimal valid catalog: one source, one chip, one system, one rule set.
inline void WriteMinimalCatalog(const TempDir& dir) {
  dir.Write("sources/s.yaml", "SRC:\n  title: A datasheet\n  locator: https://example.com\n");
  dir.Write("chips/base.yaml",
            "id: base\nname: Base chip\nvendor: V\n"
            "compute:\n  fp16: {value: 100 TFLOPS, basis: datasheet, source: [SRC]}\n"
            "memory:\n  capacity: {value: 64 GiB, basis: datasheet, source: [SRC]}\n"
            "  bandwidth: {value: 2 TB/s, basis: datasheet, source: SRC}\n"
            "die_area: {value: 500 mm2, basis: estimated, source: [SRC]}\n");
  dir.Write("systems/node.yaml",
            "id: node\nname: Node\nvendor: V\nchip: base\n"
            "chips_per_node: {value: 8, basis: datasheet, source: [SRC]}\n");
  dir.Write("rules/r.yaml",
            "id: r\nname: R\ncitation: C\neffective: '2023-11-17'\nstatus: in-force\nsources: [SRC]\n"
            "categories:\n"
            "  - {id: big, controlled: true, when: {metric: tpp, ge: 4800}, reason: big}\n"
            "  - {id: small, controlled: false, reason: small}\n");
}

}  // namespace suanli::testing
