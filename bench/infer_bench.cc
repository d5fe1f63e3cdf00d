// Benchmarks of the inference estimator. Targets (issue 3): one estimate
// <= 1 us median on one core; --batch max <= 50 us.
#include <benchmark/benchmark.h>

#include "bench_support.h"
#include "suanli/api/run.h"
#include "suanli/infer/infer.h"

namespace {

using suanli::bench::ShippedCatalog;

suanli::Cluster DeviceFor(const char* id) {
  const auto& catalog = ShippedCatalog();
  auto d = suanli::MakeCluster(catalog, *catalog.FindChip(id), nullptr);
  if (!d) std::abort();
  return *d;
}

suanli::InferenceRequest Llama70bOnH20(suanli::BatchMode mode) {
  suanli::InferenceRequest r;
  r.stack = *suanli::MakeServingStack(ShippedCatalog(), "");
  r.workload.input_tokens = 2048;
  r.workload.output_tokens = 512;
  r.workload.batch = 16;
  r.plan.tp = 8;
  r.workload.mode = mode;
  return r;
}

void BM_InferOne(benchmark::State& state) {
  const suanli::Cluster d = DeviceFor("h20");
  const auto& arch = ShippedCatalog().FindModel("llama-3.1-70b")->arch;
  const auto r = Llama70bOnH20(suanli::BatchMode::kStatic);
  for (auto _ : state) benchmark::DoNotOptimize(suanli::EstimateInference(d, arch, r));
}
BENCHMARK(BM_InferOne);

void BM_InferOneDeepSeekV3(benchmark::State& state) {
  const suanli::Cluster d = DeviceFor("h200-sxm");
  const auto& arch = ShippedCatalog().FindModel("deepseek-v3")->arch;
  auto r = Llama70bOnH20(suanli::BatchMode::kConcurrency);
  r.plan.ep = 2;
  r.plan.precision.weights = suanli::Dtype::kFp8;
  for (auto _ : state) benchmark::DoNotOptimize(suanli::EstimateInference(d, arch, r));
}
BENCHMARK(BM_InferOneDeepSeekV3);

void BM_InferBatchMax(benchmark::State& state) {
  const suanli::Cluster d = DeviceFor("h20");
  const auto& arch = ShippedCatalog().FindModel("llama-3.1-70b")->arch;
  const auto r = Llama70bOnH20(suanli::BatchMode::kStaticMax);
  for (auto _ : state) benchmark::DoNotOptimize(suanli::EstimateInference(d, arch, r));
}
BENCHMARK(BM_InferBatchMax)->Unit(benchmark::kMicrosecond);

// One serving iteration of a mixed batch: 64 decode sequences over four
// context buckets and two prefill chunks (the serving simulator's inner call).
void BM_IterationCost(benchmark::State& state) {
  const suanli::Cluster d = DeviceFor("h20");
  const auto& arch = ShippedCatalog().FindModel("llama-3.1-70b")->arch;
  suanli::InferencePlan plan;
  plan.tp = 8;
  auto model = suanli::IterationModel::Make(d, arch, plan, suanli::IterationStack{});
  if (!model) std::abort();
  const suanli::DecodeBucket decode[] = {{16, 600}, {16, 1200}, {16, 2400}, {16, 3600}};
  const suanli::PrefillChunk prefill[] = {{1, 0, 2048, false}, {1, 2048, 1024, true}};
  const suanli::BatchComposition batch{.decode = decode, .prefill = prefill};
  for (auto _ : state) benchmark::DoNotOptimize(model->Cost(batch, suanli::PipelineFill::kSteady));
}
BENCHMARK(BM_IterationCost);

// The call the Python module and the web API make for one estimate: the
// request's fields as text, decoded, resolved, estimated and printed as the
// --json text (bench/python_overhead.py compares suanli.infer against it).
void BM_RunCommandInferJson(benchmark::State& state) {
  suanli::Args args;
  for (auto [k, v] : {std::pair{"hardware", "h20"}, {"model", "llama-3.1-70b"}, {"input_tokens", "2048"},
                      {"output_tokens", "512"}, {"tp", "8"}, {"batch", "16"}}) {
    args.Set(k, v);
  }
  for (auto _ : state) benchmark::DoNotOptimize(suanli::RunCommand(ShippedCatalog(), "infer", args));
}
BENCHMARK(BM_RunCommandInferJson);

void BM_MakeCluster(benchmark::State& state) {
  const auto& catalog = ShippedCatalog();
  const auto& chip = *catalog.FindChip("h20");
  for (auto _ : state) benchmark::DoNotOptimize(suanli::MakeCluster(catalog, chip, nullptr));
}
BENCHMARK(BM_MakeCluster);

}  // namespace
