// Benchmarks of the catalog path: load + validate the shipped catalog,
// classify every chip under every rule set, count a model's parameters.
// Run: build/release/bench/suanli_bench (record the machine with the figures).
#include <benchmark/benchmark.h>

#include "bench_support.h"
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

}  // namespace

