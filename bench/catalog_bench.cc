// Benchmarks of the catalog path: load + validate the shipped catalog,
// classify every chip under every rule set, count a model's parameters.
// Run: build/release/bench/suanli_bench (record the machine with the figures).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>

#include "bench_support.h"
#include "suanli/api/chip_scope.h"
#include "suanli/api/commands.h"
#include "suanli/catalog/what_if.h"
#include "suanli/policy/classify.h"

namespace {

using suanli::bench::ShippedCatalog;

void BM_CatalogLoad(benchmark::State& state) {
  for (auto _ : state) {
    auto c = suanli::Catalog::Load(SUANLI_BENCH_CATALOG_DIR);
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_CatalogLoad)->Unit(benchmark::kMillisecond);

void BM_ClassifyOne(benchmark::State& state) {
  const auto& catalog = ShippedCatalog();
  const suanli::Chip& chip = *catalog.FindChip("h20");
  const suanli::RuleSet& rules = *catalog.FindRuleSet("us-2023-10");
  for (auto _ : state) benchmark::DoNotOptimize(suanli::Classify(chip, rules));
}
BENCHMARK(BM_ClassifyOne);

void BM_CountParamsDeepSeekV3(benchmark::State& state) {
  const auto& arch = ShippedCatalog().FindModel("deepseek-v3")->arch;
  for (auto _ : state) benchmark::DoNotOptimize(suanli::CountParams(arch));
}
BENCHMARK(BM_CountParamsDeepSeekV3);

// A sweep point's what-if chip (h20 with 2x its FP8 rate), two ways: the
// chip file sweeps used to write and resolve at every point, and the chip
// built in memory once and found by id (ChipWithOverrides + ScopedChips).
void BM_WhatIfChipFromFile(benchmark::State& state) {
  const auto path = std::filesystem::temp_directory_path() / "suanli-bench-h20-what-if.yaml";
  std::ofstream(path) << "id: h20-w\nextends: h20\nname: \"h20 what-if: compute.fp8 592 TFLOPS\"\ncompute:\n"
                         "  fp8: {value: \"592 TFLOPS\", basis: estimated, source: [WHAT_IF], note: \"n\"}\n";
  for (auto _ : state) benchmark::DoNotOptimize(suanli::ResolveHardware(ShippedCatalog(), path.string()));
  std::filesystem::remove(path);
}
BENCHMARK(BM_WhatIfChipFromFile);

void BM_WhatIfChipBuilt(benchmark::State& state) {
  const suanli::FigureOverride o[] = {{"compute.fp8", "592 TFLOPS"}};
  for (auto _ : state) benchmark::DoNotOptimize(suanli::ChipWithOverrides(ShippedCatalog(), "h20", "h20-w", "", o));
}
BENCHMARK(BM_WhatIfChipBuilt);

void BM_WhatIfChipInScope(benchmark::State& state) {
  const suanli::FigureOverride o[] = {{"compute.fp8", "592 TFLOPS"}};
  const std::vector<suanli::Chip> chips = {*suanli::ChipWithOverrides(ShippedCatalog(), "h20", "h20-w", "", o)};
  const suanli::ScopedChips scope(chips);
  for (auto _ : state) benchmark::DoNotOptimize(suanli::ResolveHardware(ShippedCatalog(), "h20-w"));
}
BENCHMARK(BM_WhatIfChipInScope);

}  // namespace

