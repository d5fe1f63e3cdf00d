// Benchmarks of the training estimator and search. Targets (issue 4):
// >= 3 M plan evaluations per second per core; the full GPT-3 175B search on
// 1024 A100-80GB (global batch 1536, sequence 2048) <= 5 s on 2 cores.
// Issue 15: the full DeepSeek-V3 search on 2,048 H800 (FP8, sequence 4,096,
// batch 15,360) <= 1 s on 2 cores.
#include <benchmark/benchmark.h>

#include "bench_support.h"
#include "suanli/search/search.h"
#include "suanli/train/train.h"

namespace {

using suanli::bench::ShippedCatalog;

suanli::Cluster A100Cluster() {
  const auto& catalog = ShippedCatalog();
  auto c = suanli::MakeCluster(catalog, *catalog.FindChip("a100-sxm-80gb"), catalog.FindSystem("dgx-a100"));
  if (!c) std::abort();
  return *c;
}

suanli::TrainRequest Gpt3Request() {
  suanli::TrainRequest r;
  r.stack = *suanli::MakeTrainingStack(ShippedCatalog(), "");
  r.devices = 1024;
  r.seq_len = 2048;
  r.global_batch = 1536;
  r.plan.tp = 8;
  r.plan.pp = 8;
  r.plan.dp = 16;
  r.plan.vp = 3;
  r.plan.micro_batch = 1;
  r.plan.recompute = suanli::Recompute::kSelective;
  r.plan.sequence_parallel = true;
  r.plan.precision = suanli::TrainPrecision::kFp16;
  return r;
}

void BM_TrainEstimateGpt3(benchmark::State& state) {
  const auto cluster = A100Cluster();
  const auto& arch = ShippedCatalog().FindModel("gpt3-175b")->arch;
  const auto r = Gpt3Request();
  for (auto _ : state) benchmark::DoNotOptimize(suanli::EstimateTraining(cluster, arch, r));
}
BENCHMARK(BM_TrainEstimateGpt3);

// The whole search on `threads` threads; counters report plans per second per core.
void BM_TrainSearchGpt3(benchmark::State& state) {
  const auto cluster = A100Cluster();
  const auto& arch = ShippedCatalog().FindModel("gpt3-175b")->arch;
  const auto r = Gpt3Request();
  suanli::SearchOptions options;
  options.threads = int(state.range(0));
  int64_t plans = 0;
  for (auto _ : state) {
    auto result = suanli::SearchTraining(cluster, arch, r, suanli::PlanSpace{}, options);
    if (!result) std::abort();
    plans += result->candidates_evaluated;
    benchmark::DoNotOptimize(result);
  }
  state.counters["plans"] = benchmark::Counter(double(plans) / double(state.iterations()));
  state.counters["plans_per_s_per_core"] =
      benchmark::Counter(double(plans) / double(state.range(0)), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TrainSearchGpt3)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The whole DeepSeek-V3 search (every dimension, DualPipe, FSDP, etp and the layouts among them).
void BM_TrainSearchDeepSeekV3(benchmark::State& state) {
  const auto& catalog = ShippedCatalog();
  const suanli::System* system = catalog.FindSystem("hgx-h800");
  if (system == nullptr) std::abort();
  auto cluster = suanli::MakeCluster(catalog, *catalog.FindChip(system->chip), system);
  if (!cluster) std::abort();
  const auto& arch = catalog.FindModel("deepseek-v3")->arch;
  suanli::TrainRequest r;
  r.stack = *suanli::MakeTrainingStack(catalog, "");
  r.devices = 2048;
  r.seq_len = 4096;
  r.global_batch = 15360;
  r.plan.precision = suanli::TrainPrecision::kFp8;
  suanli::SearchOptions options;
  options.threads = int(state.range(0));
  options.top_k = 3;
  int64_t plans = 0;
  for (auto _ : state) {
    auto result = suanli::SearchTraining(*cluster, arch, r, suanli::PlanSpace{}, options);
    if (!result) std::abort();
    plans += result->candidates_evaluated;
    benchmark::DoNotOptimize(result);
  }
  state.counters["plans"] = benchmark::Counter(double(plans) / double(state.iterations()));
}
BENCHMARK(BM_TrainSearchDeepSeekV3)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
