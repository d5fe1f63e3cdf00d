// Benchmarks of the serving simulator. Targets (issue 12): >= 5 M simulated
// requests per minute on one core (100,000 requests of a lognormal chat
// workload on Llama-3.1-70B, TP 8, continuous batching), and a --max-rate
// search over 5,000 requests in <= 1 s. Read requests/s from the counters.
#include <benchmark/benchmark.h>

#include "bench_support.h"
#include "suanli/infer/memory.h"
#include "suanli/serve/deployment.h"

namespace {

using suanli::bench::ShippedCatalog;

struct Setup {
  suanli::Cluster cluster;
  suanli::BuiltDeployment built;
};

Setup Llama70bTp8() {
  const auto& catalog = ShippedCatalog();
  const suanli::System* sys = catalog.FindSystem("hgx-h100");
  auto cluster = suanli::MakeCluster(catalog, *catalog.FindChip(sys->chip), sys);
  if (!cluster) std::abort();
  Setup s{.cluster = std::move(*cluster), .built = {}};
  const suanli::ServeStackConfig stack = suanli::StackConfig(*catalog.DefaultStack(suanli::StackKind::kServing));
  auto built = suanli::BuildDeployment(
      s.cluster, catalog.FindModel("llama-3.1-70b")->arch, suanli::Precision{},
      {suanli::PoolRequest{.role = suanli::PoolRole::kMixed, .plan = {.devices = 8, .tp = 8}, .instances = 1, .where = ""}},
      stack, false);
  if (!built) std::abort();
  s.built = std::move(*built);
  return s;
}

suanli::GeneratedWorkload Chat(int64_t requests, double rate) {
  suanli::GeneratedWorkload w;
  w.input = *suanli::ParseLengthDist("lognormal:1000,600,max=8000");
  w.output = *suanli::ParseLengthDist("lognormal:250,150,max=2000");
  w.load = suanli::LoadSpec{.kind = suanli::ArrivalKind::kPoisson, .rate = rate};
  w.requests = requests;
  return w;
}

void BM_Simulate100kChatRequests(benchmark::State& state) {
  const Setup s = Llama70bTp8();
  int64_t served = 0;
  for (auto _ : state) {
    auto src = suanli::MakeGenerator(Chat(100000, 20));
    auto stats = suanli::Simulate(s.built.deployment, *src, {});
    if (!stats) std::abort();
    served += stats->requests;
    benchmark::DoNotOptimize(stats->ttft.p99);
  }
  state.counters["requests_per_s"] = benchmark::Counter(double(served), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Simulate100kChatRequests)->Unit(benchmark::kMillisecond);

void BM_MaxRate5000Requests(benchmark::State& state) {
  const Setup s = Llama70bTp8();
  suanli::ServeOptions o;
  o.sla = suanli::Sla{.ttft_s = 1.0, .tpot_s = 0.05, .attainment = 0.9};
  int probes = 0;
  for (auto _ : state) {
    auto r = suanli::FindMaxRate(s.built.deployment, Chat(5000, 1), o);
    if (!r) std::abort();
    probes = r->probes;
    benchmark::DoNotOptimize(r->rate);
  }
  state.counters["probes"] = probes;
}
BENCHMARK(BM_MaxRate5000Requests)->Unit(benchmark::kMillisecond);

}  // namespace
