// `suanli web` under load: 32 concurrent clients, each with its own
// connection, POST /api/infer (the README's H20 request) to an in-process
// server with its default 4 workers, a new connection per request. Reports the p50 and p99 latency of one
// request and the requests per second; one iteration = 32 x 25 requests.
#include <benchmark/benchmark.h>
#include <httplib.h>

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <future>
#include <sstream>
#include <thread>

#include "bench_support.h"
#include "server.h"
#include "suanli/catalog/catalog.h"

namespace {

constexpr int kClients = 32;
constexpr int kRequestsPerClient = 25;
constexpr const char* kBody =
    R"({"hardware": "h20", "model": "llama-3.1-70b", "input_tokens": 2048, "output_tokens": 512, "tp": 8, "batch": 16})";

void BM_WebInfer32Clients(benchmark::State& state) {
  const suanli::Catalog* catalog = &suanli::bench::ShippedCatalog();  // its load error and exit 2 if it does not load
  std::promise<std::pair<int, std::function<void()>>> ready;
  suanli::web::ServerOptions options;
  options.port = 0;
  options.on_listen = [&ready](int port, std::function<void()> stop) { ready.set_value({port, std::move(stop)}); };
  std::ostringstream log;
  std::thread server([&] { suanli::web::Serve(*catalog, options, log); });
  auto [port, stop] = ready.get_future().get();
  std::vector<double> latencies;
  int failures = 0;
  double seconds = 0;
  for (auto _ : state) {
    std::vector<std::vector<double>> per(kClients);
    std::vector<int> failed(kClients, 0);
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c, port = port] {
        httplib::Client client("127.0.0.1", port);
        client.set_keep_alive(false);  // a connection per request: the 4 workers serve all 32 clients in turn
        for (int i = 0; i < kRequestsPerClient; ++i) {
          const auto t0 = std::chrono::steady_clock::now();
          auto r = client.Post("/api/infer", kBody, "application/json");
          const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
          if (!r || r->status != 200) {
            if (failed[c]++ == 0) {
              std::fprintf(stderr, "request failed: %s\n", r ? std::to_string(r->status).c_str() : httplib::to_string(r.error()).c_str());
            }
          }
          per[c].push_back(dt.count());
        }
      });
    }
    for (auto& t : clients) t.join();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (int c = 0; c < kClients; ++c) {
      latencies.insert(latencies.end(), per[c].begin(), per[c].end());
      failures += failed[c];
    }
  }
  stop();
  server.join();
  std::sort(latencies.begin(), latencies.end());
  auto quantile = [&](double q) { return latencies[std::size_t(q * double(latencies.size() - 1))]; };
  state.counters["p50_ms"] = quantile(0.50) * 1e3;
  state.counters["p99_ms"] = quantile(0.99) * 1e3;
  state.counters["requests_per_s"] = double(latencies.size()) / seconds;
  state.counters["failures"] = failures;
  if (failures > 0) state.SkipWithError("some requests failed");
}
BENCHMARK(BM_WebInfer32Clients)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(4);

}  // namespace
