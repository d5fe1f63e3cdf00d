// The serving simulator: properties from first principles (physical limits,
// Little's law, goodput within throughput, agreement with the analytical
// estimator in steady state, determinism), the scheduler's mechanisms, and
// every error path of workloads, traces and requests.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <filesystem>
#include <fstream>
#include <thread>

#include "suanli/api/fields.h"
#include "suanli/api/serve.h"
#include "suanli/infer/infer.h"
#include "suanli/infer/memory.h"
#include "suanli/report/serve_json.h"
#include "suanli/serve/simulator.h"
#include "support/test_support.h"

namespace suanli {
namespace {

class ServeTest : public ::testing::Test {
 protected:
  static const Catalog& catalog() { return testing::ShippedCatalog(); }
  static Cluster ClusterFor(const std::string& id) {
    const System* system = catalog().FindSystem(id);
    const Chip* chip = catalog().FindChip(system != nullptr ? system->chip : id);
    auto c = MakeCluster(catalog(), *chip, system);
    EXPECT_TRUE(c.has_value());
    return *c;
  }
  static const ModelArch& Model(const std::string& id) { return catalog().FindModel(id)->arch; }

  // One aggregated pool on `cluster`, capacity from the memory model.
  static ServeDeployment Deploy(const IterationModel& m, int dp = 1, int instances = 1, SchedulerConfig s = {}) {
    const ServingMemory mem = ServingMemoryFor(m, double(s.max_batched_tokens), double(s.max_seqs));
    ServePool p{.role = PoolRole::kMixed, .model = &m, .instances = instances, .dp = dp,
                .kv_tokens_per_rank = int64_t(mem.kv_cache / m.KvBytes(1)), .scheduler = s};
    return ServeDeployment{.pools = {p}};
  }
  // One prefill and one decode pool of `m`'s layout, KV moved at 40 GB/s.
  static ServeDeployment DeployPd(const IterationModel& m) {
    ServeDeployment d = Deploy(m);
    d.pools[0].role = PoolRole::kPrefill;
    ServePool dec = d.pools[0];
    dec.role = PoolRole::kDecode;
    d.pools.push_back(dec);
    d.transfer_latency_s = 50e-6;
    d.transfer_per_byte_s = 1 / 40e9;
    return d;
  }
  static ServeStats Run(const ServeDeployment& d, const GeneratedWorkload& w, const ServeOptions& o = {}) {
    auto src = MakeGenerator(w);
    auto s = Simulate(d, *src, o);
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().ToString());
    return s ? std::move(*s) : ServeStats{};
  }
  static GeneratedWorkload Chat(double rate, int64_t n = 2000) {
    GeneratedWorkload w;
    w.input = *ParseLengthDist("lognormal:1000,600,max=8000");
    w.output = *ParseLengthDist("lognormal:250,150,max=2000");
    w.load = LoadSpec{.kind = ArrivalKind::kPoisson, .rate = rate};
    w.requests = n;
    return w;
  }
  // TTFT 1 s and TPOT 50 ms for 90 % of the requests.
  static ServeOptions ChatSla() {
    ServeOptions o;
    o.sla = Sla{.ttft_s = 1.0, .tpot_s = 0.05, .attainment = 0.9};
    return o;
  }
  static IterationModel Llama70bTp8(const Cluster& c) {
    auto m = IterationModel::Make(c, Model("llama-3.1-70b"), InferencePlan{.tp = 8}, IterationStack{});
    EXPECT_TRUE(m.has_value());
    return *m;
  }
};

TEST_F(ServeTest, TtftNeverBeatsThePromptsFlopsAtPeak) {
  for (const char* hw : {"hgx-h100", "hgx-h20", "atlas-800t-a2"}) {
    const Cluster c = ClusterFor(hw);
    const IterationModel m = Llama70bTp8(c);
    for (int64_t input : {128, 2048, 16000}) {
      GeneratedWorkload w;
      w.input = LengthDist{.a = double(input)};
      w.output = LengthDist{.a = 16};
      w.requests = 4;
      const ServeStats s = Run(Deploy(m), w);
      const double flops = 2 * CountParams(Model("llama-3.1-70b")).active * double(input);
      const double peak = Peak(c.device, m.compute_dtype()) * 8;
      EXPECT_GE(s.ttft.p50 * (1 + 1e-9), flops / peak) << hw << " " << input;
    }
  }
}

TEST_F(ServeTest, GoodputWithinThroughputAndLittlesLaw) {
  const Cluster c = ClusterFor("hgx-h100");
  const IterationModel m = Llama70bTp8(c);
  for (double rate : {1.0, 5.0, 20.0}) {
    ServeOptions o;
    o.sla = Sla{.ttft_s = 0.5, .tpot_s = 0.03};
    const ServeStats s = Run(Deploy(m), Chat(rate), o);
    ASSERT_EQ(s.requests, 2000);
    EXPECT_LE(double(s.sla_met) / s.duration_s, s.requests_per_s() * (1 + 1e-12));
    EXPECT_LE(s.attainment(), 1.0);
    // L = lambda W: the time-averaged requests in the system equals throughput x mean latency.
    EXPECT_NEAR(s.in_system_mean, s.requests_per_s() * s.e2e.mean, 1e-3 * s.in_system_mean) << rate;
    EXPECT_GE(s.e2e.mean, s.ttft.mean);
    EXPECT_GE(s.ttft.mean, s.queue.mean);
  }
}

TEST_F(ServeTest, SameSeedSameResultOnAnyThread) {
  const Cluster c = ClusterFor("hgx-h100");
  const IterationModel m = Llama70bTp8(c);
  const ServeDeployment d = Deploy(m, 1, 2);
  const ServeStats a = Run(d, Chat(8));
  std::vector<ServeStats> others(4);
  std::vector<std::thread> threads;
  for (auto& o : others) threads.emplace_back([&] { o = Run(d, Chat(8)); });
  for (auto& t : threads) t.join();
  for (const ServeStats& b : others) {
    EXPECT_EQ(a.duration_s, b.duration_s);
    EXPECT_EQ(a.ttft.p99, b.ttft.p99);
    EXPECT_EQ(a.tpot.mean, b.tpot.mean);
    EXPECT_EQ(a.iterations, b.iterations);
  }
  GeneratedWorkload other = Chat(8);
  other.seed = 2;
  EXPECT_NE(Run(d, other).duration_s, a.duration_s);
}

TEST_F(ServeTest, SteadyStateAgreesWithTheAnalyticalEstimator) {
  // Closed loop at concurrency C with fixed lengths: the simulator's output
  // rate against EstimateInference's continuous batching at the same C.
  // Stated tolerance: 15 % (the analytical step prices one mixed iteration at
  // the mean context; the simulator runs the real schedule, chunk by chunk).
  const Cluster c = ClusterFor("hgx-h100");
  const IterationModel m = Llama70bTp8(c);
  for (int64_t conc : {16, 64, 128}) {
    GeneratedWorkload w;
    w.input = LengthDist{.a = 1024};
    w.output = LengthDist{.a = 512};
    w.load = LoadSpec{.kind = ArrivalKind::kClosedLoop, .concurrency = conc};
    w.requests = 20 * conc;
    const ServeStats s = Run(Deploy(m), w);
    InferenceRequest r;
    r.stack = testing::DefaultServingStack();
    r.plan.tp = 8;
    r.workload = InferenceWorkload{.input_tokens = 1024, .output_tokens = 512, .mode = BatchMode::kConcurrency, .batch = conc};
    auto e = EstimateInference(c, Model("llama-3.1-70b"), r);
    ASSERT_TRUE(e.has_value());
    const double sim = s.output_tokens / s.duration_s;
    EXPECT_NEAR(sim / e->output_tokens_per_s, 1.0, 0.15) << conc << ": sim " << sim << " analytical " << e->output_tokens_per_s;
  }
}

TEST_F(ServeTest, MoreReplicasAtTheSameLoadPerDeviceAreNeverSlower) {
  const Cluster c = ClusterFor("hgx-h100");
  const IterationModel m = Llama70bTp8(c);
  const ServeStats one = Run(Deploy(m, 1, 1), Chat(6, 3000));
  const ServeStats two = Run(Deploy(m, 1, 2), Chat(12, 3000));
  EXPECT_LE(two.e2e.mean, one.e2e.mean * 1.05);
  EXPECT_LE(two.ttft.p90, one.ttft.p90 * 1.05);
}

TEST_F(ServeTest, ASmallKvCachePreemptsAndStillServesEveryRequest) {
  const Cluster c = ClusterFor("hgx-h100");
  const IterationModel m = Llama70bTp8(c);
  ServeDeployment d = Deploy(m);
  d.pools[0].kv_tokens_per_rank = 20000;
  GeneratedWorkload w;
  w.input = LengthDist{.a = 1000};
  w.output = LengthDist{.a = 1000};
  w.requests = 200;  // offline: all at once, 400k tokens of KV wanted
  const ServeStats s = Run(d, w);
  EXPECT_EQ(s.requests, 200);
  EXPECT_GT(s.preemptions, 0);
  EXPECT_LE(s.kv_utilization_mean, 1.0);
  // A prompt longer than the whole cache is dropped, not served.
  w.input = LengthDist{.a = 30000};
  w.requests = 3;
  const ServeStats big = Run(d, w);
  EXPECT_EQ(big.requests, 0);
  EXPECT_EQ(big.unservable, 3);
}

TEST_F(ServeTest, ChunkedPrefillBoundsTheDecodeStall) {
  // Long prompts beside decoding requests: without chunking one 16k prompt
  // takes a whole iteration and every decode waits for it.
  const Cluster c = ClusterFor("hgx-h100");
  const IterationModel m = Llama70bTp8(c);
  GeneratedWorkload w;
  w.input = LengthDist{.a = 16000};
  w.output = LengthDist{.a = 200};
  w.load = LoadSpec{.kind = ArrivalKind::kPoisson, .rate = 0.5};
  w.requests = 200;
  SchedulerConfig chunked;
  chunked.chunk = 2048;
  chunked.max_batched_tokens = 2048;
  SchedulerConfig whole;
  whole.chunk = 0;
  whole.max_batched_tokens = 16384;
  const ServeStats a = Run(Deploy(m, 1, 1, chunked), w);
  const ServeStats b = Run(Deploy(m, 1, 1, whole), w);
  EXPECT_LT(a.tpot.p99, b.tpot.p99);
}

TEST_F(ServeTest, SpeculativeDecodingEmitsMoreTokensPerStep) {
  EXPECT_DOUBLE_EQ((SpecDecode{.draft = 1, .acceptance = {0.875}}).TokensPerStep(), 1.875);
  EXPECT_DOUBLE_EQ((SpecDecode{.draft = 2, .acceptance = {0.5}}).TokensPerStep(), 1.75);
  EXPECT_DOUBLE_EQ((SpecDecode{.draft = 3, .acceptance = {0}}).TokensPerStep(), 1);
  // By position: 1 + 0.8 + 0.8 * 0.5 + 0.8 * 0.5 * 0.5 (the third position takes the list's last value).
  EXPECT_DOUBLE_EQ((SpecDecode{.draft = 3, .acceptance = {0.8, 0.5}}).TokensPerStep(), 1 + 0.8 + 0.4 + 0.2);
  EXPECT_DOUBLE_EQ((SpecDecode{.draft = 3, .acceptance = {0.8, 0.5}}).AcceptanceAt(3), 0.5);
  // At batch 1 decode is memory-bound: a verify step costs little more, so TPOT falls.
  const Cluster c = ClusterFor("hgx-h200");
  auto m = IterationModel::Make(c, Model("deepseek-v3"), InferencePlan{.tp = 8, .precision = {.weights = Dtype::kFp8, .activations = Dtype::kFp8}}, IterationStack{});
  ASSERT_TRUE(m.has_value());
  GeneratedWorkload w;
  w.input = LengthDist{.a = 1000};
  w.output = LengthDist{.a = 500};
  w.load = LoadSpec{.kind = ArrivalKind::kClosedLoop, .concurrency = 1};
  w.requests = 3;
  const ServeStats plain = Run(Deploy(*m), w);
  ServeOptions o;
  o.spec = SpecDecode{.draft = 1, .acceptance = {0.875}};
  const ServeStats mtp = Run(Deploy(*m), w, o);
  EXPECT_LT(mtp.tpot.mean, plain.tpot.mean / 1.4);
  EXPECT_GT(mtp.tpot.mean, plain.tpot.mean / 1.875);  // the verify and draft passes are not free
}

TEST_F(ServeTest, DisaggregatedPrefillAndDecode) {
  const Cluster c = ClusterFor("hgx-h100");
  const IterationModel m = Llama70bTp8(c);
  ServeDeployment d = DeployPd(m);
  const ServeStats s = Run(d, Chat(4));
  EXPECT_EQ(s.requests, 2000);
  EXPECT_EQ(d.devices(), 16);
  // Decode never waits behind a prompt: TPOT is flat.
  const ServeStats agg = Run(Deploy(m), Chat(4));
  EXPECT_LT(s.tpot.p99, agg.tpot.p99);
  // A prefill-first scheduler on the decode pool still admits hand-overs (they need no prefill).
  for (ServePool& p : d.pools) p.scheduler.priority = Priority::kPrefillFirst;
  EXPECT_EQ(Run(d, Chat(4)).requests, 2000);
  // ... and when a preempted request's recompute does not fit a full cache, decoding goes on and frees it.
  d.pools[1].kv_tokens_per_rank = 30000;
  GeneratedWorkload burst;
  burst.input = LengthDist{.a = 1000};
  burst.output = LengthDist{.a = 1000};
  burst.requests = 300;
  const ServeStats b = Run(d, burst);
  EXPECT_EQ(b.requests, 300);
  EXPECT_GT(b.preemptions, 0);
}

TEST_F(ServeTest, MaxRateMeetsTheSlaJustBelowWhereItBreaks) {
  const Cluster c = ClusterFor("hgx-h100");
  const IterationModel m = Llama70bTp8(c);
  const ServeOptions o = ChatSla();
  auto r = FindMaxRate(Deploy(m), Chat(1, 1000), o);
  ASSERT_TRUE(r.has_value());
  EXPECT_GT(r->rate, 0);
  EXPECT_GE(r->at_rate.attainment(), 0.9);
  const ServeStats above = Run(Deploy(m), Chat(r->rate * 1.1, 1000), o);
  EXPECT_LT(above.attainment(), 0.9 + 0.05);
}

// A PD deployment under a TPOT SLA alone: the prefill queue keeps the decode
// batch, and so the TPOT, bounded at any rate, so only the run's own backlog
// says where the rate is no longer sustained. The highest rate keeps the
// queue at the last arrival within 5 % of the requests; well above it the
// queue holds far more, and a light load at most the last request.
TEST_F(ServeTest, MaxRateStopsWhereTheQueueKeepsGrowing) {
  const Cluster c = ClusterFor("hgx-h100");
  const IterationModel m = Llama70bTp8(c);
  ServeDeployment d = DeployPd(m);
  ServeOptions o;
  o.sla.tpot_s = 0.2;  // TPOT only
  auto r = FindMaxRate(d, Chat(1, 500), o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_GT(r->rate, 0);
  EXPECT_LE(double(r->at_rate.backlog_at_last_arrival), 0.05 * double(r->at_rate.requests));
  EXPECT_GE(r->at_rate.attainment(), 0.9);
  const ServeStats over = Run(d, Chat(r->rate * 2, 500), o);
  EXPECT_GT(double(over.backlog_at_last_arrival), 0.2 * double(over.requests));
  const ServeStats light = Run(d, Chat(r->rate / 10, 500), o);
  EXPECT_LE(light.backlog_at_last_arrival, 1);  // at most the last request itself, until the next iteration
}

// A run whose requests mostly arrive while the in-flight load builds up
// finds a rate above the steady state's: its ramp share (rate x mean time in
// the system / requests) says so, and a run of steady_requests() finds a rate
// no higher, with a ramp share near kMaxRampShare.
TEST_F(ServeTest, MaxRateOfAShortRunIsATransientsAndSaysSo) {
  const Cluster c = ClusterFor("hgx-h100");
  const IterationModel m = Llama70bTp8(c);
  const ServeOptions o = ChatSla();
  auto short_run = FindMaxRate(Deploy(m), Chat(1, 60), o);
  ASSERT_TRUE(short_run.has_value()) << short_run.error().ToString();
  ASSERT_GT(short_run->rate, 0);
  EXPECT_NEAR(short_run->ramp_share(), short_run->rate * short_run->at_rate.e2e.mean / 60, 1e-12);
  ASSERT_GT(short_run->ramp_share(), kMaxRampShare);
  const int64_t n = short_run->steady_requests();
  EXPECT_GT(n, 60);
  auto steady = FindMaxRate(Deploy(m), Chat(1, n), o);
  ASSERT_TRUE(steady.has_value()) << steady.error().ToString();
  EXPECT_LT(steady->rate, short_run->rate);
  EXPECT_LT(steady->ramp_share(), 1.5 * kMaxRampShare);
}

TEST_F(ServeTest, LengthDistributions) {
  auto n = ParseLengthDist("normal:500,100,min=10,max=900");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->kind, LengthKind::kNormal);
  EXPECT_EQ(n->min, 10);
  EXPECT_EQ(n->max, 900);
  GeneratedWorkload w;
  w.input = *ParseLengthDist("lognormal:800,400");
  w.output = *ParseLengthDist("exp:100,max=300");
  w.requests = 20000;
  auto g = MakeGenerator(w);
  double sum = 0, omax = 0;
  for (;;) {
    auto r = g->Next();
    ASSERT_TRUE(r.has_value());
    if (!*r) break;
    sum += double((*r)->input);
    omax = std::max(omax, double((*r)->output));
  }
  EXPECT_NEAR(sum / 20000, 800, 20);
  EXPECT_LE(omax, 300);
  for (const char* bad : {"0", "-5", "normal:500", "lognormal:a,b", "zipf:1,2", "uniform:10,5", "exp:100,min=50,max=10",
                          "normal:500,-1", "12.5"}) {
    EXPECT_FALSE(ParseLengthDist(bad).has_value()) << bad;
  }
}

class TraceTest : public ServeTest {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() / ("suanli_serve_" + name);
    std::ofstream(path) << text;
    paths_.push_back(path);
    return path.string();
  }
  void TearDown() override {
    for (const auto& p : paths_) std::filesystem::remove(p);
  }
  static std::string Problem(const std::string& path) {
    auto t = OpenTrace(path);
    if (!t) return t.error().ToString();
    for (;;) {
      auto r = (*t)->Next();
      if (!r) return r.error().ToString();
      if (!*r) return "";
    }
  }
  std::vector<std::filesystem::path> paths_;
};

TEST_F(TraceTest, ReadsCsvAndJsonl) {
  const std::string csv = Write("ok.csv", "arrival_s,input_tokens,output_tokens,prefix_id,prefix_tokens\n0,100,10,1,50\n0.5,200,20,-1,0\n\n1.0,300,30,1,50\n");
  auto t = OpenTrace(csv);
  ASSERT_TRUE(t.has_value());
  int n = 0;
  for (;; ++n) {
    auto r = (*t)->Next();
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    if (!*r) break;
  }
  EXPECT_EQ(n, 3);
  const std::string jl = Write("ok.jsonl", "{\"arrival_s\": 0, \"input_tokens\": 100, \"output_tokens\": 10}\n{\"output_tokens\": 5, \"input_tokens\": 9, \"arrival_s\": 2.5}\n");
  EXPECT_EQ(Problem(jl), "");
  // A simulation of the trace serves every row.
  const Cluster c = ClusterFor("hgx-h100");
  const IterationModel m = Llama70bTp8(c);
  auto src = OpenTrace(csv);
  auto s = Simulate(Deploy(m), **src, {});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->requests, 3);
}

TEST_F(TraceTest, ASharedPrefixIsComputedOnce) {
  // Two requests with the same 3,000-token prefix, far apart: the second prefills only its 100-token rest.
  const std::string csv = Write("prefix.csv", "arrival_s,input_tokens,output_tokens,prefix_id,prefix_tokens\n0,3100,2,7,3000\n100,3100,2,7,3000\n200,3100,2,-1,0\n");
  const Cluster c = ClusterFor("hgx-h100");
  const IterationModel m = Llama70bTp8(c);
  auto src = OpenTrace(csv);
  ServeOptions o;
  o.timeline = true;
  auto s = Simulate(Deploy(m), **src, o);
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->requests, 3);
  std::vector<int64_t> prefills;
  for (const IterationRecord& it : s->timeline) {
    if (it.prefill_tokens > 0) prefills.push_back(it.prefill_tokens);
  }
  EXPECT_EQ(prefills, (std::vector<int64_t>{3100, 100, 3100}));
}

TEST_F(TraceTest, BadRowsNameTheFileLineColumnAndField) {
  EXPECT_EQ(Problem(Write("a.csv", "arrival_s,input_tokens,output_tokens\n0,100,10\n0.1,abc,10\n")),
            std::filesystem::temp_directory_path().string() + "/suanli_serve_a.csv:3:5: input_tokens: expected a number, found 'abc'");
  EXPECT_NE(Problem(Write("b.csv", "arrival_s,input_tokens,output_tokens\n1,100,10\n0.5,100,10\n")).find(":3:1: arrival_s: arrivals must not decrease"), std::string::npos);
  EXPECT_NE(Problem(Write("c.csv", "arrival_s,input,output_tokens\n")).find(":1:11: input: unknown column 'input'"), std::string::npos);
  EXPECT_NE(Problem(Write("d.csv", "arrival_s,output_tokens\n")).find("no column input_tokens"), std::string::npos);
  EXPECT_NE(Problem(Write("e.csv", "arrival_s,input_tokens,output_tokens\n0,100\n")).find(":2:6: expected 3 columns, found 2"), std::string::npos);
  EXPECT_NE(Problem(Write("f.csv", "arrival_s,input_tokens,output_tokens\n0,100,0\n")).find(":2:7: output_tokens: must be between 1"), std::string::npos);
  EXPECT_NE(Problem(Write("g.csv", "arrival_s,input_tokens,output_tokens\n-1,100,5\n")).find(":2:1: arrival_s: must be at least 0"), std::string::npos);
  EXPECT_NE(Problem(Write("h.csv", "arrival_s,input_tokens,output_tokens,prefix_tokens\n0,100,5,200\n")).find("prefix_tokens: the prefix (200 tokens) is longer"), std::string::npos);
  EXPECT_NE(Problem(Write("i.csv", "")).find("the trace is empty"), std::string::npos);
  EXPECT_NE(Problem(Write("j.jsonl", "{\"arrival_s\": 0, \"input_tokens\": 1.5, \"output_tokens\": 3}\n")).find(":1:34: input_tokens: expected a whole number"), std::string::npos);
  EXPECT_NE(Problem(Write("k.jsonl", "{\"arrival_s\": 0, \"inputs\": 1}\n")).find("unknown key 'inputs'"), std::string::npos);
  EXPECT_NE(Problem(Write("l.jsonl", "{\"arrival_s\": 0, \"input_tokens\": 1}\n")).find("the row has no output_tokens"), std::string::npos);
  EXPECT_NE(Problem(Write("m.jsonl", "[1,2]\n")).find("expected a JSON object"), std::string::npos);
  EXPECT_NE(Problem("/nonexistent/trace.csv").find("cannot open the trace file"), std::string::npos);
}

// --- The request: decoding and running `serve` ---

Args Make(std::initializer_list<std::pair<const char*, const char*>> kv) {
  Args a;
  for (auto [k, v] : kv) a.Set(k, v);
  return a;
}

TEST_F(ServeTest, BadRequestsNameTheirField) {
  struct Case {
    Args args;
    std::string key;
  };
  const Case cases[] = {
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "100"}}), "output_tokens"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "normal:5"}, {"output_tokens", "1"}}), "input_tokens"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "1"}, {"output_tokens", "1"}, {"rate", "0"}}), "rate"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "1"}, {"output_tokens", "1"}, {"rate", "1"}, {"concurrency", "3"}}), "rate"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "1"}, {"output_tokens", "1"}, {"max_rate", "true"}}), "max_rate"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "1"}, {"output_tokens", "1"}, {"sla_attainment", "0.5"}}), "sla_attainment"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "1"}, {"output_tokens", "1"}, {"arrival", "gamma:x"}, {"rate", "1"}}), "arrival"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"phase", "decode"}, {"context_tokens", "100"}}), "batch"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"phase", "decode"}, {"batch", "8"}}), "context_tokens"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"phase", "prefill"}}), "input_tokens"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"phase", "decode"}, {"batch", "8"}, {"context_tokens", "9"}, {"rate", "2"}}), "rate"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "1"}, {"output_tokens", "1"}, {"prefill", "devices=8"}}), "decode"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "1"}, {"output_tokens", "1"}, {"prefill", "devices=8,tpp=2"}, {"decode", "devices=8"}}), "prefill"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "1"}, {"output_tokens", "1"}, {"chunked_prefill", "big"}}), "chunked_prefill"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "1"}, {"output_tokens", "1"}, {"mtp_acceptance", "0.5"}}), "mtp_acceptance"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "1"}, {"output_tokens", "1"}, {"mtp", "2"}, {"mtp_acceptance", "0.9,0.7,0.5"}}), "mtp_acceptance"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "1"}, {"output_tokens", "1"}, {"mtp", "2"}, {"mtp_acceptance", "0.9,1.2"}}), "mtp_acceptance"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "1"}, {"output_tokens", "1"}, {"mtp", "2"}, {"mtp_acceptance", "0"}}), "mtp_acceptance"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "1"}, {"output_tokens", "1"}, {"mtp", "2"}, {"mtp_acceptance", "0.9,x"}}), "mtp_acceptance"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"trace", "t.csv"}, {"rate", "3"}}), "rate"},
      {Make({{"hardware", "h100"}, {"model", "m"}, {"input_tokens", "1"}, {"output_tokens", "1"}, {"pd_search", "true"}}), "pd_search"},
  };
  for (const Case& c : cases) {
    auto q = DecodeServe(c.args);
    ASSERT_FALSE(q.has_value()) << c.key;
    bool named = false;
    for (const Diagnostic& d : q.error().diagnostics) named |= d.key_path == c.key;
    EXPECT_TRUE(named) << c.key << ": " << q.error().ToString();
  }
}

TEST_F(ServeTest, MtpAcceptanceByPosition) {
  auto run = [&](const char* accept) {
    Args a = Make({{"hardware", "hgx-h200"}, {"model", "deepseek-v3"}, {"weights", "fp8"}, {"tp", "8"},
                   {"input_tokens", "1000"}, {"output_tokens", "200"}, {"concurrency", "1"}, {"requests", "2"},
                   {"mtp", "3"}});
    if (accept != nullptr) a.Set("mtp_acceptance", accept);
    auto q = DecodeServe(a);
    EXPECT_TRUE(q.has_value()) << q.error().ToString();
    auto r = RunServe(catalog(), *q);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r->spec;
  };
  // One value: every position.
  const SpecDecode one = run("0.8");
  EXPECT_DOUBLE_EQ(one.TokensPerStep(), 1 + 0.8 + 0.64 + 0.512);
  const SpecDecode list = run("0.9, 0.7,0.5");
  EXPECT_DOUBLE_EQ(list.AcceptanceAt(2), 0.7);
  EXPECT_DOUBLE_EQ(list.TokensPerStep(), 1 + 0.9 + 0.63 + 0.315);
  // A JSON request gives a number (every position) or a list by position.
  for (const char* json : {R"({"mtp": 2, "mtp_acceptance": 0.8})", R"({"mtp": 2, "mtp_acceptance": [0.9, 0.7]})"}) {
    auto a = ArgsFromJson(CommandFor("serve"), json);
    ASSERT_TRUE(a.has_value()) << json;
    a->Set("hardware", "h100");
    a->Set("model", "m");
    a->Set("input_tokens", "1");
    a->Set("output_tokens", "1");
    auto q = DecodeServe(*a);
    ASSERT_TRUE(q.has_value()) << json << ": " << q.error().ToString();
    EXPECT_EQ(q->mtp_acceptance->size(), std::string(json).find('[') == std::string::npos ? 1u : 2u) << json;
  }
  // The catalog's figures by position, as many as the drafts: later positions accept less.
  const SpecDecode model = run(nullptr);
  ASSERT_EQ(model.acceptance.size(), 3u);
  EXPECT_GT(model.AcceptanceAt(1), model.AcceptanceAt(2));
  EXPECT_GT(model.AcceptanceAt(2), model.AcceptanceAt(3));
}

TEST_F(ServeTest, RunsAndReportsTheContractKeys) {
  auto q = DecodeServe(Make({{"hardware", "hgx-h100"}, {"model", "llama-3.1-70b"}, {"tp", "8"},
                             {"input_tokens", "lognormal:800,300"}, {"output_tokens", "200"}, {"rate", "4"},
                             {"requests", "300"}, {"sla_ttft", "1"}, {"sla_tpot", "0.05"}}));
  ASSERT_TRUE(q.has_value()) << q.error().ToString();
  auto r = RunServe(catalog(), *q);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  const std::string json = ToJson(*r);
  for (const char* key : {"\"devices\"", "\"requests\"", "\"duration_s\"", "\"output_tokens_per_s\"",
                          "\"output_tokens_per_s_per_device\"", "\"input_tokens_per_s\"", "\"input_tokens_per_s_per_device\"",
                          "\"requests_per_s\"", "\"ttft_s\"", "\"tpot_s\"", "\"e2e_latency_s\"", "\"queue_s\"",
                          "\"goodput_requests_per_s\"", "\"sla_attainment\"", "\"batch_mean\"", "\"kv_utilization_mean\"",
                          "\"preemptions\"", "\"fits\"", "\"warnings\"", "\"p99\""}) {
    EXPECT_NE(json.find(key), std::string::npos) << key;
  }
  // PD pools that do not fit are bad input, not a result.
  auto pd = DecodeServe(Make({{"hardware", "hgx-h100"}, {"model", "llama-3.1-405b"}, {"input_tokens", "100"},
                              {"output_tokens", "10"}, {"prefill", "devices=1"}, {"decode", "devices=8,tp=8"}}));
  ASSERT_TRUE(pd.has_value());
  auto bad = RunServe(catalog(), *pd);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().ToString().find("the prefill pool does not fit"), std::string::npos);
}

}  // namespace
}  // namespace suanli

namespace suanli {
namespace {

// Expert dispatch and combine across two 8-GPU servers: the same-server
// share goes over NVLink beside the rest over RDMA, so the exchange costs
// less than sending everything over the scale-out network and more than a
// single domain of 16 would.
TEST_F(ServeTest, ExpertExchangeAcrossDomainsSplitsItsBytesOverBothLinks) {
  Cluster two = ClusterFor("hgx-h800");
  two.device.expert_dispatch = {};  // the link model (the measured curves: infer_test's DispatchCurveTest)
  Cluster out = two, one = two;
  out.topology.scale_up_domain = 1;
  one.topology.scale_up_domain = 16;
  const InferencePlan plan{.tp = 1, .pp = 1, .ep = 16, .precision = {.weights = Dtype::kFp8, .activations = Dtype::kFp8}};
  auto a2a = [&](const Cluster& c) {
    auto m = IterationModel::Make(c, Model("deepseek-v3"), plan, IterationStack{});
    EXPECT_TRUE(m.has_value());
    const DecodeBucket b{.sequences = 16 * 64, .context = 2000, .tokens = 1};
    return m->Cost(BatchComposition{.decode = std::span(&b, 1), .prefill = {}}, PipelineFill::kSteady)
        .by_class[static_cast<int>(OpClass::kAllToAll)];
  };
  const double mixed = a2a(two), all_out = a2a(out), all_up = a2a(one);
  EXPECT_LT(mixed, all_out);
  EXPECT_GT(mixed, all_up);
}

}  // namespace
}  // namespace suanli

namespace suanli {
namespace {

// EPLB's redundant experts let 48 ranks hold DeepSeek's 256 experts (288 =
// 6 per rank): each rank holds more expert weights than 256 / 48 would.
TEST_F(ServeTest, RedundantExpertsLetEpDivideAndCostTheirWeights) {
  const Cluster c = ClusterFor("gb200-nvl72");
  InferencePlan plan{.tp = 1, .pp = 1, .ep = 48, .precision = {.weights = Dtype::kFp8, .activations = Dtype::kFp8}};
  auto bad = IterationModel::Make(c, Model("deepseek-v3"), plan, IterationStack{});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().ToString().find("ep 48 does not divide the 256 experts"), std::string::npos);
  plan.redundant_experts = 32;
  auto m = IterationModel::Make(c, Model("deepseek-v3"), plan, IterationStack{});
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  plan.redundant_experts = 0;
  plan.ep = 64;
  auto even = IterationModel::Make(c, Model("deepseek-v3"), plan, IterationStack{});
  ASSERT_TRUE(even.has_value());
  // 6 experts per rank against 4: more weights per device, less room for the KV cache.
  EXPECT_LT(ServingMemoryFor(*m, 8192, 256).kv_cache, ServingMemoryFor(*even, 8192, 256).kv_cache);
  plan.redundant_experts = 5;
  plan.ep = 48;
  EXPECT_FALSE(IterationModel::Make(c, Model("deepseek-v3"), plan, IterationStack{}).has_value());
}

}  // namespace
}  // namespace suanli

namespace suanli {
namespace {

// Swap preemption moves the victim's KV cache to host memory and back over
// the host link instead of recomputing it: no prompt token is prefilled
// twice, and a slower host link never makes the run faster.
TEST_F(ServeTest, SwapPreemptionRecomputesNothingAndPaysTheHostLink) {
  const Cluster c = ClusterFor("hgx-h100");
  ASSERT_GT(c.host_link.si(), 0);
  const IterationModel m = Llama70bTp8(c);
  GeneratedWorkload w;
  w.input = LengthDist{.a = 1000};
  w.output = LengthDist{.a = 1000};
  w.requests = 200;
  const ServeOptions timeline{.timeline = true};
  auto prefilled = [](const ServeStats& s) {
    double n = 0;
    for (const IterationRecord& r : s.timeline) n += double(r.prefill_tokens);
    return n;
  };
  ServeDeployment d = Deploy(m);
  d.pools[0].kv_tokens_per_rank = 20000;
  const ServeStats recompute = Run(d, w, timeline);
  d.pools[0].scheduler.swap = true;
  d.pools[0].host_bytes_per_s = c.host_link.si();
  const ServeStats swap = Run(d, w, timeline);
  EXPECT_EQ(swap.requests, 200);
  EXPECT_GT(swap.preemptions, 0);
  EXPECT_GT(recompute.preemptions, 0);
  EXPECT_DOUBLE_EQ(prefilled(swap), 200.0 * 1000);  // every prompt token once
  EXPECT_GT(prefilled(recompute), 200.0 * 1000);    // the victims' prompts and outputs again
  d.pools[0].host_bytes_per_s = c.host_link.si() / 100;
  const ServeStats slow = Run(d, w, timeline);
  EXPECT_GT(slow.duration_s, swap.duration_s);
  EXPECT_DOUBLE_EQ(prefilled(slow), 200.0 * 1000);
}

// With redundant experts the stack's EPLB imbalance (measured, TensorRT-LLM's
// Table 1) replaces the one without.
TEST_F(ServeTest, RedundantExpertsTakeTheStacksEplbImbalance) {
  auto st = catalog().StackOf(StackKind::kServing, "sglang");
  ASSERT_TRUE(st.has_value());
  const ServeStackConfig sc = StackConfig(**st);
  EXPECT_DOUBLE_EQ(sc.expert_imbalance_eplb, 1.109);
  EXPECT_GT(sc.iteration.expert_imbalance, sc.expert_imbalance_eplb);
  const Cluster c = ClusterFor("gb200-nvl72");
  const Precision fp8{.weights = Dtype::kFp8, .activations = Dtype::kFp8};
  const DecodeBucket b{.sequences = 32 * 64, .context = 2000, .tokens = 1};
  const BatchComposition batch{.decode = std::span(&b, 1), .prefill = {}};
  for (int redundant : {0, 32}) {
    const PoolRequest pool{.role = PoolRole::kMixed,
                           .plan = ServePlanSpec{.devices = 32, .dp = 32, .redundant_experts = redundant},
                           .instances = 1, .where = ""};
    auto built = BuildDeployment(c, Model("deepseek-v3"), fp8, {pool}, sc, false);
    ASSERT_TRUE(built.has_value()) << built.error().ToString();
    IterationStack want = sc.iteration;
    if (redundant > 0) want.expert_imbalance = 1.109;
    auto ref = IterationModel::Make(c, Model("deepseek-v3"), built->pools[0].plan, want);
    ASSERT_TRUE(ref.has_value());
    EXPECT_DOUBLE_EQ(built->models[0]->Cost(batch, PipelineFill::kSteady).seconds,
                     ref->Cost(batch, PipelineFill::kSteady).seconds)
        << redundant;
  }
}

// --pd-search without --decode-instances tries every P:D ratio of 1 to 4 in
// lowest terms, reports them all, and keeps the best rate per device.
TEST_F(ServeTest, PdSearchReportsEveryRatioAndKeepsTheBestPerDevice) {
  auto q = DecodeServe(Make({{"hardware", "hgx-h100"}, {"model", "llama-3.1-8b"}, {"prefill", "devices=1"},
                             {"decode", "devices=1"}, {"input_tokens", "2000"}, {"output_tokens", "100"},
                             {"requests", "200"}, {"sla_ttft", "2"}, {"sla_tpot", "0.05"}, {"max_rate", "true"},
                             {"pd_search", "true"}}));
  ASSERT_TRUE(q.has_value()) << q.error().ToString();
  auto r = RunServe(catalog(), *q);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_EQ(r->pd_candidates.size(), 11u);
  double best = 0;
  for (const auto& cand : r->pd_candidates) {
    EXPECT_EQ(std::gcd(cand.prefill, cand.decode), 1);
    EXPECT_EQ(cand.devices, cand.prefill + cand.decode);
    best = std::max(best, cand.per_device());
  }
  ASSERT_EQ(r->pools.size(), 2u);
  ASSERT_TRUE(r->max_rate.has_value());
  EXPECT_DOUBLE_EQ(*r->max_rate / (r->pools[0].instances + r->pools[1].instances), best);
  const std::string json = ToJson(*r);
  EXPECT_NE(json.find("\"pd_search\""), std::string::npos);
  EXPECT_NE(json.find("\"candidates\""), std::string::npos);
  // With --decode-instances given only the prefill count varies, 1 to 8.
  auto fixed = DecodeServe(Make({{"hardware", "hgx-h100"}, {"model", "llama-3.1-8b"}, {"prefill", "devices=1"},
                                 {"decode", "devices=1"}, {"decode_instances", "2"}, {"input_tokens", "2000"},
                                 {"output_tokens", "100"}, {"requests", "400"}, {"sla_ttft", "0.5"},
                                 {"sla_tpot", "0.05"}, {"max_rate", "true"}, {"pd_search", "true"}}));
  ASSERT_TRUE(fixed.has_value());
  auto rf = RunServe(catalog(), *fixed);
  ASSERT_TRUE(rf.has_value()) << rf.error().ToString();
  ASSERT_EQ(rf->pd_candidates.size(), 8u);
  for (const auto& cand : rf->pd_candidates) EXPECT_EQ(cand.decode, 2);
}

// Two-batch overlap needs an MoE model; with one it is reported per pool.
TEST_F(ServeTest, TwoBatchOverlapIsAnMoeOption) {
  auto dense = DecodeServe(Make({{"hardware", "hgx-h100"}, {"model", "llama-3.1-8b"}, {"input_tokens", "100"},
                                 {"output_tokens", "10"}, {"two_batch_overlap", "true"}}));
  ASSERT_TRUE(dense.has_value());
  auto bad = RunServe(catalog(), *dense);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().diagnostics.front().key_path, "two_batch_overlap");
}

}  // namespace
}  // namespace suanli
