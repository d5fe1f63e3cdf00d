// Training estimator and search: properties from first principles, the
// Korthikanti et al. memory formula, every plan constraint, determinism.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <random>

#include "support/test_support.h"
#include "suanli/search/search.h"
#include "suanli/train/train.h"
#include "train/train_internal.h"

namespace suanli {
namespace {

// The key a refused request names ("" when it was accepted), so an error-path
// test is one line: EXPECT_EQ(RefusedKey(EstimateTraining(...)), "fsdp").
template <typename R>
std::string RefusedKey(const R& result) {
  return result.has_value() ? std::string() : result.error().diagnostics.front().key_path;
}

class TrainTest : public ::testing::Test {
 protected:
  static const Catalog& catalog() { return testing::ShippedCatalog(); }

  static Cluster ClusterFor(const std::string& system_id) {
    const System* system = catalog().FindSystem(system_id);
    const Chip* chip = catalog().FindChip(system != nullptr ? system->chip : system_id);
    EXPECT_NE(chip, nullptr) << system_id;
    auto c = MakeCluster(catalog(), *chip, system);
    EXPECT_TRUE(c.has_value()) << c.error().ToString();
    return *c;
  }
  static const ModelArch& Model(const std::string& id) { return catalog().FindModel(id)->arch; }
  static TrainRequest Gpt3(int tp, int pp, int dp, Recompute rc) {
    TrainRequest r;
    r.stack = testing::DefaultTrainingStack();
    r.devices = int64_t(tp) * pp * dp;
    r.seq_len = 2048;
    r.global_batch = 512;
    r.plan.tp = tp;
    r.plan.pp = pp;
    r.plan.dp = dp;
    r.plan.micro_batch = 1;
    r.plan.recompute = rc;
    r.plan.sequence_parallel = true;
    return r;
  }
  static TrainEstimate Run(const Cluster& c, const ModelArch& m, const TrainRequest& r) {
    auto e = EstimateTraining(c, m, r);
    EXPECT_TRUE(e.has_value()) << e.error().ToString();
    return e.has_value() ? *e : TrainEstimate{};
  }
};

TEST_F(TrainTest, FlopsAreSixTimesParametersTimesTokensPlusAttention) {
  const ModelArch& m = Model("gpt3-175b");
  const TrainEstimate e = Run(ClusterFor("dgx-a100"), m, Gpt3(8, 8, 16, Recompute::kNone));
  const double tokens = 512.0 * 2048;
  const ParamCount pc = CountParams(m);
  const double six_n = 6 * (pc.active - pc.embedding + double(m.vocab) * m.hidden) * tokens;
  const double attention = 12.0 * m.layers * m.hidden * 2048 * tokens;
  EXPECT_NEAR(e.model_flops_per_step, six_n + attention, 1e-6 * e.model_flops_per_step);
  // What the devices execute: forward + backward = 3 forwards, and a fourth
  // with full recompute (8 N per token instead of 6 N), within what the
  // formula leaves out (biases, norms, causal masking).
  EXPECT_NEAR(e.hardware_flops_per_step / e.model_flops_per_step, 1.0, 0.05);
  const TrainEstimate full = Run(ClusterFor("dgx-a100"), m, Gpt3(8, 8, 16, Recompute::kFull));
  EXPECT_NEAR(full.hardware_flops_per_step / e.hardware_flops_per_step, 4.0 / 3.0, 0.02);
}

// Totals sums the active parameters on its own walk over the groups; it
// must equal CountParams' exactly (MFU and model FLOPs are read from it).
TEST_F(TrainTest, TotalsCountTheParametersAsCountParams) {
  for (const auto& entry : catalog().models()) {
    const ModelArch& m = entry.arch;
    const ParamCount pc = CountParams(m);
    const train::ModelTotals t = train::Totals(m);
    EXPECT_EQ(t.embed_params, pc.embedding) << entry.id;
    EXPECT_EQ(t.active_flops_params, pc.active - pc.embedding + (pc.lm_head > 0 ? 0 : double(m.vocab) * m.hidden))
        << entry.id;
  }
}

TEST_F(TrainTest, StepTimeRespectsItsLowerBounds) {
  const Cluster c = ClusterFor("dgx-a100");
  for (Recompute rc : {Recompute::kNone, Recompute::kSelective, Recompute::kFull}) {
    for (auto [tp, pp, dp] : {std::tuple{8, 8, 4}, std::tuple{4, 16, 4}, std::tuple{8, 4, 8}}) {
      TrainRequest r = Gpt3(tp, pp, dp, rc);
      const TrainEstimate e = Run(c, Model("gpt3-175b"), r);
      const double peak = Peak(c.device, Dtype::kBf16);
      // Compute: the executed FLOPs at the dense peak.
      EXPECT_GE(e.step_time_s, e.hardware_flops_per_step / r.devices / peak);
      // Memory: the optimizer reads and writes its state at least once.
      EXPECT_GE(e.step_time_s, e.memory.optimizer / c.device.memory_bandwidth.si());
      // Communication: the gradients cross the data-parallel group at least
      // once per step, at best over the faster of the two links.
      const double grads = e.memory.weights;  // 2 B per local parameter, as the gradients reduced
      const double link = std::max(c.topology.scale_up_bandwidth, c.topology.scale_out_bandwidth).si() * 2;  // both directions
      EXPECT_GE(e.step_time_s, double(dp - 1) / dp * grads / link);
      // Every part is non-negative and the parts never exceed the whole.
      const TrainBreakdown& b = e.breakdown;
      double sum = 0;
      for (double v : {b.compute, b.recompute, b.tp_comm, b.dp_comm_exposed, b.pp_bubble, b.pp_comm, b.ep_comm,
                       b.cp_comm, b.optimizer, b.framework}) {
        EXPECT_GE(v, 0);
        sum += v;
      }
      EXPECT_NEAR(sum, e.step_time_s, 1e-9 * e.step_time_s);
      EXPECT_GT(e.mfu, 0);
      EXPECT_LT(e.mfu, 1);
    }
  }
}

// A host that dispatches operators more slowly than the device runs them sets
// the pace: a micro-batch then takes its operators' dispatch time, whatever
// their size, so a larger micro-batch is nearly free.
TEST_F(TrainTest, HostBoundFloorCountsEveryOperator) {
  ModelArch m;
  m.family = "gpt2";
  m.hidden = 1024;
  m.vocab = 51200;
  m.layers = 24;
  m.max_positions = 1024;
  m.tied_embeddings = true;
  m.learned_positions = true;
  m.norm = NormKind::kLayerNorm;
  LayerGroup g;
  g.count = 24;
  g.attention.heads = g.attention.kv_heads = 16;
  g.attention.head_dim = g.attention.v_head_dim = 64;
  g.mlp.ffn = 4096;
  m.groups.push_back(g);
  Cluster c = ClusterFor("vtrain-a100");
  EXPECT_NEAR(c.host_dispatch.si(), 48e-6, 1e-12);  // the system's measured figure, not the profile's
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.devices = 1;
  r.seq_len = 1024;
  r.global_batch = 4;
  r.flash_attention = false;
  r.plan.micro_batch = 1;
  r.plan.recompute = Recompute::kFull;
  r.plan.precision = TrainPrecision::kFp16;
  c.host_dispatch = Seconds(1e-3);
  const TrainEstimate e = Run(c, m, r);
  // 65 operators per layer: 15 forward, 15 recomputed, 35 backward (what
  // scripts/host-dispatch divides the measured per-layer time by).
  EXPECT_NEAR(e.step_time_s - e.breakdown.optimizer, 4 * 24 * 65 * 1e-3, 1e-9);
  EXPECT_TRUE(e.warnings & kTrainWarnHostBound);
  EXPECT_EQ(BoundOf(e.breakdown).bound, TrainBound::kFramework);
  r.plan.micro_batch = 2;
  const TrainEstimate twice = Run(c, m, r);
  EXPECT_NEAR(twice.step_time_s - twice.breakdown.optimizer, 2 * 24 * 65 * 1e-3, 1e-9);
  // A fast host changes nothing: the device's time, with its per-operator gaps.
  c.host_dispatch = c.device.host_op_overhead;
  const TrainEstimate fast = Run(c, m, r);
  EXPECT_FALSE(fast.warnings & kTrainWarnHostBound);
  EXPECT_LT(fast.step_time_s, twice.step_time_s);
}

TEST_F(TrainTest, BoundIsTheLargestGroupOfParts) {
  TrainBreakdown b;
  b.compute = 3;
  b.recompute = 1;
  b.tp_comm = 2;
  b.dp_comm_exposed = 1.5;
  b.pp_bubble = 3.9;
  EXPECT_EQ(BoundOf(b).bound, TrainBound::kCompute);  // 4 s of compute and recompute
  EXPECT_DOUBLE_EQ(BoundOf(b).seconds, 4);
  EXPECT_DOUBLE_EQ(BoundOf(b).share, 4 / 11.4);  // of 3 + 1 + 2 + 1.5 + 3.9 s
  b.pp_comm = 0.6;  // communication now 4.1 s
  EXPECT_EQ(BoundOf(b).bound, TrainBound::kCommunication);
  EXPECT_EQ(TrainBoundName(TrainBound::kPipelineBubble), "pipeline_bubble");
  // A large model on a healthy plan is compute-bound; the same plan with
  // tensor parallelism over a slow scale-out network is not.
  Cluster c = ClusterFor("dgx-a100");
  const TrainEstimate healthy = Run(c, Model("gpt3-175b"), Gpt3(8, 8, 16, Recompute::kSelective));
  EXPECT_EQ(BoundOf(healthy.breakdown).bound, TrainBound::kCompute);
  c.topology.scale_out_bandwidth = BytesPerSecond(1e9);
  const TrainEstimate starved = Run(c, Model("gpt3-175b"), Gpt3(16, 8, 8, Recompute::kSelective));
  EXPECT_EQ(BoundOf(starved.breakdown).bound, TrainBound::kCommunication);
}

TEST_F(TrainTest, MoreDataParallelDevicesAreNeverSlowerPerStep) {
  const Cluster c = ClusterFor("dgx-a100");
  double previous = 1e30;
  for (int dp : {1, 2, 4, 8, 16, 32}) {
    const TrainEstimate e = Run(c, Model("gpt3-175b"), Gpt3(8, 8, dp, Recompute::kSelective));
    EXPECT_LE(e.step_time_s, previous) << "dp " << dp;
    previous = e.step_time_s;
  }
}

TEST_F(TrainTest, OversubscribedTiersSlowCollectivesThatCrossThem) {
  Cluster c = ClusterFor("dgx-a100");
  TrainRequest r = Gpt3(8, 1, 32, Recompute::kFull);  // dp 32 over 32 nodes
  r.plan.overlap_dp = false;
  Topology& t = c.topology;  // 8-chip domains
  t.tiers = {Topology::Tier{.span_chips = 64 * 8, .oversubscription = 1}};
  const TrainEstimate flat = Run(c, Model("gpt3-175b"), r);
  t.tiers = {Topology::Tier{.span_chips = 4 * 8, .oversubscription = 1}, Topology::Tier{.span_chips = 0, .oversubscription = 4}};
  const TrainEstimate tapered = Run(c, Model("gpt3-175b"), r);
  EXPECT_GT(tapered.breakdown.dp_comm_exposed, 3 * flat.breakdown.dp_comm_exposed);
  EXPECT_DOUBLE_EQ(t.ScaleOutShare(4 * 8), 1.0);
  EXPECT_DOUBLE_EQ(t.ScaleOutShare(5 * 8), 0.25);
  EXPECT_DOUBLE_EQ(t.ScaleOutShare(8), 1.0);
}

// Pipeline transfers between nodes cross the same tiers as the job's other
// traffic (they used to be priced at the full NIC rate whatever the taper).
TEST_F(TrainTest, OversubscribedTiersSlowPipelineTransfers) {
  Cluster c = ClusterFor("dgx-a100");
  TrainRequest r = Gpt3(8, 16, 8, Recompute::kSelective);  // 1,024 GPUs over 128 nodes
  Topology& t = c.topology;
  t.tiers = {Topology::Tier{.span_chips = 0, .oversubscription = 1}};
  const TrainEstimate flat = Run(c, Model("gpt3-175b"), r);
  t.tiers = {Topology::Tier{.span_chips = 4 * 8, .oversubscription = 1}, Topology::Tier{.span_chips = 0, .oversubscription = 4}};
  const TrainEstimate tapered = Run(c, Model("gpt3-175b"), r);
  EXPECT_GT(tapered.breakdown.pp_comm, 1.5 * flat.breakdown.pp_comm);
  // Inside one node nothing crosses a tier.
  TrainRequest small = Gpt3(2, 4, 1, Recompute::kSelective);
  small.devices = 8;
  small.global_batch = 8;
  EXPECT_DOUBLE_EQ(Run(c, Model("gpt3-175b"), small).breakdown.pp_comm,
                   [&] { t.tiers.clear(); return Run(c, Model("gpt3-175b"), small).breakdown.pp_comm; }());
}

// Interleaved 1F1B posts its pipeline exchanges ahead and waits late
// (Megatron-LM's overlap_p2p_comm): never slower than blocking on each, the
// warm-up and flush exchanges still exposed, and nothing changes for plain
// 1F1B, which always blocks.
TEST_F(TrainTest, InterleavedPipelineSendsRunUnderCompute) {
  Cluster c = ClusterFor("dgx-a100");
  TrainRequest r = Gpt3(8, 8, 16, Recompute::kSelective);  // 1,024 GPUs, m = 32 micro-batches
  r.plan.vp = 3;
  r.plan.overlap_pp = false;
  const TrainEstimate blocking = Run(c, Model("gpt3-175b"), r);
  r.plan.overlap_pp = true;
  const TrainEstimate overlapped = Run(c, Model("gpt3-175b"), r);
  ASSERT_GT(blocking.breakdown.pp_comm, 0);
  EXPECT_LT(overlapped.breakdown.pp_comm, blocking.breakdown.pp_comm);
  EXPECT_NEAR(overlapped.step_time_s - blocking.step_time_s,
              overlapped.breakdown.pp_comm - blocking.breakdown.pp_comm, 1e-12 * blocking.step_time_s);
  // Warm-up: (pp - 1) + (vp - 1) pp = 23 of the m vp = 96 chunks per direction.
  const double warmup = 23.0 / 96.0;
  EXPECT_GE(overlapped.breakdown.pp_comm, warmup * blocking.breakdown.pp_comm * (1 - 1e-12));
  const double k = c.device.overlap_slowdown / (1 + c.device.overlap_slowdown);
  EXPECT_NEAR(overlapped.breakdown.pp_comm, (warmup + (1 - warmup) * k) * blocking.breakdown.pp_comm,
              1e-9 * blocking.breakdown.pp_comm);  // the steady phase's exchanges are far shorter than its compute
  // With as many chunks as the warm-up needs, nothing is left to hide.
  r.global_batch = 16 * 2;  // m = 2: every chunk in warm-up
  const TrainEstimate all_warmup = Run(c, Model("gpt3-175b"), r);
  r.plan.overlap_pp = false;
  EXPECT_DOUBLE_EQ(all_warmup.breakdown.pp_comm, Run(c, Model("gpt3-175b"), r).breakdown.pp_comm);
  // Plain 1F1B blocks whatever the flag.
  r.global_batch = 512;
  r.plan.vp = 1;
  const TrainEstimate plain_blocking = Run(c, Model("gpt3-175b"), r);
  r.plan.overlap_pp = true;
  EXPECT_EQ(Run(c, Model("gpt3-175b"), r).step_time_s, plain_blocking.step_time_s);
}

// An overlapped collective shares the chip with the compute it hides under:
// it is never free, it costs at least slowdown / (1 + slowdown) of its own
// time, and a chip that slows more under overlap is never faster.
TEST_F(TrainTest, OverlapIsNeverFree) {
  Cluster c = ClusterFor("dgx-a100");
  EXPECT_NEAR(c.device.overlap_slowdown, 0.19, 1e-12);  // the Ampere profile's measured figure
  TrainRequest r = Gpt3(8, 1, 32, Recompute::kSelective);
  r.plan.zero = 1;
  r.plan.overlap_dp = false;
  r.plan.overlap_tp = false;
  const TrainEstimate serial = Run(c, Model("gpt3-175b"), r);
  r.plan.overlap_dp = true;
  r.plan.overlap_tp = true;
  const double k = c.device.overlap_slowdown / (1 + c.device.overlap_slowdown);
  const TrainEstimate overlapped = Run(c, Model("gpt3-175b"), r);
  EXPECT_LT(overlapped.step_time_s, serial.step_time_s);
  EXPECT_GE(overlapped.breakdown.tp_comm, k * serial.breakdown.tp_comm * (1 - 1e-12));
  EXPECT_GE(overlapped.breakdown.dp_comm_exposed, k * serial.breakdown.dp_comm_exposed * (1 - 1e-12));
  EXPECT_GT(overlapped.breakdown.tp_comm, 0);
  // Without contention the collectives would hide whole under the GEMMs.
  c.device.overlap_slowdown = 0;
  const TrainEstimate ideal = Run(c, Model("gpt3-175b"), r);
  EXPECT_LT(ideal.step_time_s, overlapped.step_time_s);
  EXPECT_EQ(ideal.breakdown.tp_comm, 0);
  double previous = 0;
  for (double slowdown : {0.0, 0.1, 0.19, 0.4, 1.0}) {
    c.device.overlap_slowdown = slowdown;
    const double t = Run(c, Model("gpt3-175b"), r).step_time_s;
    EXPECT_GE(t, previous) << "slowdown " << slowdown;
    previous = t;
  }
  // ZeRO-3's parameter gathers, prefetched under compute, pay the same toll.
  c.device.overlap_slowdown = 0.19;
  r.plan.zero = 3;
  r.plan.overlap_dp = false;
  const TrainEstimate zero3 = Run(c, Model("gpt3-175b"), r);
  r.plan.zero = 2;
  const TrainEstimate zero2 = Run(c, Model("gpt3-175b"), r);
  EXPECT_GT(zero3.breakdown.dp_comm_exposed, zero2.breakdown.dp_comm_exposed);
}

TEST_F(TrainTest, ZeroStagesStrictlyReduceMemory) {
  const Cluster c = ClusterFor("dgx-a100");
  double previous = 1e30;
  for (int zero : {0, 1, 2, 3}) {
    TrainRequest r = Gpt3(8, 8, 16, Recompute::kSelective);
    r.plan.zero = zero;
    const TrainEstimate e = Run(c, Model("gpt3-175b"), r);
    EXPECT_LT(e.memory.total, previous) << "ZeRO " << zero;
    previous = e.memory.total;
  }
}

TEST_F(TrainTest, Bf16OptimizerStateHalvesItsBytes) {
  const Cluster c = ClusterFor("dgx-a100");
  TrainRequest r = Gpt3(8, 8, 16, Recompute::kSelective);
  const TrainEstimate fp32 = Run(c, Model("gpt3-175b"), r);
  r.plan.optimizer_state = OptimizerState::kBf16;
  const TrainEstimate bf16 = Run(c, Model("gpt3-175b"), r);
  EXPECT_NEAR(bf16.memory.optimizer, fp32.memory.optimizer / 2, 1e-6 * fp32.memory.optimizer);
  EXPECT_DOUBLE_EQ(bf16.memory.weights, fp32.memory.weights);
  EXPECT_DOUBLE_EQ(bf16.memory.gradients, fp32.memory.gradients);
  EXPECT_NEAR(fp32.memory.total - bf16.memory.total, fp32.memory.optimizer / 2, 1e-6 * fp32.memory.total);
  // The step streams grad (4) + state read and written + the 16-bit copy (2): 18 B against 30.
  const double launch = c.device.kernel_overhead.si();
  EXPECT_NEAR((bf16.breakdown.optimizer - launch) / (fp32.breakdown.optimizer - launch), 18.0 / 30.0, 1e-9);
  EXPECT_LE(bf16.step_time_s, fp32.step_time_s);
  EXPECT_EQ(ParseOptimizerState("bf16"), OptimizerState::kBf16);
  EXPECT_EQ(ParseOptimizerState("fp16"), std::nullopt);
  EXPECT_EQ(OptimizerStateName(OptimizerState::kFp32), "fp32");
}

TEST_F(TrainTest, KorthikantiActivationMemory) {
  // Korthikanti et al. 2022, Table 2: per layer, per micro-batch, s b h (34 / t)
  // with sequence parallelism and selective recompute; 2 s b h with full
  // recompute without SP; s b h (10 + 24 / t + 5 a s / (h t)) with neither.
  // One stage holding every layer (pp 1) and one micro-batch in flight.
  const ModelArch& m = Model("gpt3-175b");
  const double s = 2048, b = 1, h = m.hidden, a = 96, t = 8, L = m.layers;
  const Cluster c = ClusterFor("dgx-a100");
  auto activations = [&](Recompute rc, bool sp) {
    TrainRequest r = Gpt3(8, 1, 1, rc);
    r.global_batch = 1;
    r.flash_attention = false;
    r.plan.sequence_parallel = sp;
    const TrainEstimate e = Run(c, m, r);
    const double logits = s * b * m.vocab / t * 4;
    const double working = rc == Recompute::kFull ? L : 0;  // the recomputed layer, measured below
    (void)working;
    return e.memory.activations - logits;
  };
  const double none = s * b * h * (10 + 24 / t + 5 * a * s / (h * t));
  // The generalised formula adds the two 1-byte dropout masks as h each and
  // keeps Q, K, V, so it matches Korthikanti's 34 exactly for GPT shapes.
  EXPECT_NEAR(activations(Recompute::kSelective, true), L * s * b * h * 34 / t, 0.01 * L * s * b * h * 34 / t);
  EXPECT_NEAR(activations(Recompute::kNone, false), L * none, 0.01 * L * none);
  // Full recompute keeps each layer's input, plus one layer's full set while it is recomputed.
  EXPECT_NEAR(activations(Recompute::kFull, false), L * 2 * s * b * h + none, 0.01 * L * 2 * s * b * h);
}

TEST_F(TrainTest, ImpossiblePlansNameTheirConstraint) {
  const Cluster c = ClusterFor("dgx-a100");
  const ModelArch& m = Model("gpt3-175b");
  auto key_of = [&](const TrainRequest& r) {
    auto e = EstimateTraining(c, m, r);
    EXPECT_FALSE(e.has_value());
    return e.has_value() ? std::string() : e.error().diagnostics.front().key_path;
  };
  TrainRequest r = Gpt3(8, 8, 16, Recompute::kNone);
  r.devices = 1000;
  EXPECT_EQ(key_of(r), "devices");
  r = Gpt3(8, 8, 16, Recompute::kNone);
  r.plan.micro_batch = 3;  // 512 / 16 = 32 per replica
  EXPECT_EQ(key_of(r), "micro_batch");
  r = Gpt3(1, 128, 1, Recompute::kNone);
  EXPECT_EQ(key_of(r), "pp");  // 96 layers
  r = Gpt3(7, 1, 1, Recompute::kNone);
  EXPECT_EQ(key_of(r), "tp");  // 96 heads
  r = Gpt3(8, 8, 16, Recompute::kNone);
  r.plan.vp = 5;  // 8 x 5 does not divide 96
  EXPECT_EQ(key_of(r), "vp");
  r = Gpt3(1, 8, 16, Recompute::kNone);
  r.plan.overlap_tp = true;  // nothing to overlap without tensor parallelism
  EXPECT_EQ(key_of(r), "tp_overlap");
  PlanSpace tp_fixed;  // and the search says so rather than dropping the overlap
  tp_fixed.tp = {1};
  tp_fixed.overlap_tp = {true};
  EXPECT_EQ(RefusedKey(SearchTraining(c, m, r, tp_fixed, SearchOptions{})), "tp_overlap");
  r = Gpt3(8, 8, 16, Recompute::kNone);
  r.plan.ep = 2;
  EXPECT_EQ(key_of(r), "ep");  // dense model
  r = Gpt3(8, 8, 16, Recompute::kNone);
  r.global_batch = 100;
  EXPECT_EQ(key_of(r), "global_batch");
  r = Gpt3(8, 8, 16, Recompute::kNone);
  r.plan.zero = 4;
  EXPECT_EQ(key_of(r), "zero");
  // dp 0 asks for the derived degree; devices that do not divide say so.
  r = Gpt3(8, 8, 16, Recompute::kNone);
  EXPECT_EQ(DerivedDp(r), 16);
  r.devices = 1000;
  EXPECT_EQ(DerivedDp(r), 0);
  r.plan.dp = 0;
  EXPECT_EQ(key_of(r), "devices");
  // MoE: ep must divide the experts.
  TrainRequest moe;
  moe.stack = testing::DefaultTrainingStack();
  moe.devices = 24;
  moe.seq_len = 4096;
  moe.global_batch = 48;
  moe.plan.dp = 24;
  moe.plan.ep = 3;
  EXPECT_EQ(RefusedKey(EstimateTraining(c, Model("mixtral-8x7b"), moe)), "ep");
}

// Expert capacity (Megatron-Core moe_expert_capacity_factor): dropping caps
// the busiest rank's share at the factor, so a factor under the stack's
// imbalance is faster than dropless and one above it changes nothing; padding
// to capacity makes every expert compute the full factor, slower than
// dropless when the factor exceeds the imbalance.
TEST_F(TrainTest, ExpertCapacityDropsOrPadsTheBusiestRanksTokens) {
  const Cluster c = ClusterFor("hgx-h100");
  const ModelArch& m = Model("mixtral-8x7b");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  ASSERT_GT(r.stack.expert_imbalance, 1.0);
  r.devices = 16;
  r.seq_len = 4096;
  r.global_batch = 64;
  r.plan.tp = 2;
  r.plan.dp = 8;
  r.plan.ep = 8;
  r.plan.etp = 1;
  r.plan.recompute = Recompute::kFull;
  const TrainEstimate dropless = Run(c, m, r);
  r.moe_capacity_factor = 1.0;
  const TrainEstimate capped = Run(c, m, r);
  EXPECT_LT(capped.step_time_s, dropless.step_time_s);
  EXPECT_LT(capped.breakdown.ep_comm, dropless.breakdown.ep_comm);
  r.moe_capacity_factor = 2 * r.stack.expert_imbalance;
  EXPECT_DOUBLE_EQ(Run(c, m, r).step_time_s, dropless.step_time_s);
  r.moe_pad_to_capacity = true;
  EXPECT_GT(Run(c, m, r).step_time_s, dropless.step_time_s);
  r.moe_capacity_factor = r.stack.expert_imbalance;
  EXPECT_NEAR(Run(c, m, r).step_time_s, dropless.step_time_s, 1e-12 * dropless.step_time_s);
  // Padding without a capacity, or a capacity out of bounds, is an input error.
  r.moe_capacity_factor = 0;
  auto e = EstimateTraining(c, m, r);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().diagnostics.front().key_path, "moe_pad_to_capacity");
  r.moe_pad_to_capacity = false;
  r.moe_capacity_factor = 100;
  e = EstimateTraining(c, m, r);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().diagnostics.front().key_path, "moe_capacity_factor");
}

// MoE parallel folding (Liu et al. 2025, arXiv:2504.14960): the experts
// tile the attention's tp x cp x dp ranks as etp x ep x edp, so EP 32 with
// TP 2 x DP 16 exists; with etp 1 an EP 8 group is 8 consecutive chips (one
// node) where etp 2 spreads it over 16 (two nodes). The FLOPs do not change.
TEST_F(TrainTest, MoeFoldingLaysTheExpertsOverTheStageRanks) {
  const Cluster c = ClusterFor("hgx-h100");
  const ModelArch& m = Model("qwen3-235b-a22b");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.devices = 256;
  r.seq_len = 4096;
  r.global_batch = 2048;
  r.plan.tp = 2;
  r.plan.pp = 8;
  r.plan.dp = 16;
  r.plan.ep = 32;
  r.plan.etp = 1;
  r.plan.recompute = Recompute::kFull;
  r.plan.sequence_parallel = true;
  auto folded = EstimateTraining(c, m, r);
  ASSERT_TRUE(folded.has_value()) << folded.error().ToString();
  EXPECT_EQ(ExpertDp(r.plan), 1);
  r.plan.etp = 0;  // etp = tp = 2: 64 expert ranks over 32
  EXPECT_EQ(RefusedKey(EstimateTraining(c, m, r)), "ep");
  r.plan.etp = -1;
  auto negative = EstimateTraining(c, m, r);
  ASSERT_FALSE(negative.has_value());
  EXPECT_EQ(negative.error().diagnostics.front().key_path, "etp");

  r.plan.pp = 1;
  r.plan.dp = 128;
  r.plan.ep = 8;
  r.plan.zero = 3;
  r.plan.etp = 1;
  const TrainEstimate in_node = Run(c, m, r);
  EXPECT_EQ(ExpertDp(r.plan), 32);
  r.plan.etp = 2;
  const TrainEstimate two_nodes = Run(c, m, r);
  EXPECT_EQ(ExpertDp(r.plan), 16);
  EXPECT_LT(in_node.breakdown.ep_comm, two_nodes.breakdown.ep_comm);
  EXPECT_NEAR(in_node.hardware_flops_per_step, two_nodes.hardware_flops_per_step, 1e-9 * in_node.hardware_flops_per_step);
  // ZeRO-3 shards the experts over edp: etp 1 keeps twice the expert weights
  // per device, shards them over twice the ranks, and ends with the same.
  EXPECT_NEAR(in_node.memory.weights, two_nodes.memory.weights, 1e-9 * in_node.memory.weights);
  r.plan.zero = 1;
  r.plan.etp = 1;
  const TrainEstimate z1_etp1 = Run(c, m, r);
  r.plan.etp = 2;
  const TrainEstimate z1_etp2 = Run(c, m, r);
  EXPECT_GT(z1_etp1.memory.weights, z1_etp2.memory.weights);
}

// Megatron-Core's MoE block with sequence parallelism (token_dispatcher.py:
// the dispatcher's tp group is the expert-TP group): no collective over the
// attention's tp ranks around the routed experts, the dispatched copies
// all-gathered over etp ranks only; shared experts keep their AG/RS over tp.
TEST_F(TrainTest, MoeBlockGathersOverTheExpertTpRanksOnly) {
  const Cluster c = ClusterFor("hgx-h100");
  auto costs = [&](const ModelArch& m, const TrainRequest& q) {
    const train::Context x = train::MakeContext(c, m, q);
    return std::pair{train::ComputeLayerCosts(c, x.links, m, q, q.plan, x.rate), x.links};
  };
  const ModelArch& qwen = Model("qwen3-30b-a3b");  // every layer MoE, no shared experts
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.seq_len = 4096;
  r.devices = 8;
  r.global_batch = 8;
  r.plan.tp = 2;
  r.plan.dp = 4;
  r.plan.ep = 4;
  r.plan.etp = 1;
  r.plan.sequence_parallel = true;
  const auto [lc, links] = costs(qwen, r);
  const double h = qwen.hidden, T = 4096;
  const Group tp_group{.ranks = 2, .stride = 1};
  const double one = 2 * AllGather(links, T * h * 2, tp_group);  // the attention block's AG + RS
  EXPECT_NEAR(lc.tp_f, one, 1e-12 * one);
  // Each device dispatches its own T / tp tokens (not its tp group's).
  const MoeShape& e = qwen.groups[0].moe;
  const double imb = r.stack.expert_imbalance;
  const double a2a = ExpertDispatchSeconds(links, Group{.ranks = 4, .stride = 1}, ExpertDispatcher::kAllToAll, T / 2,
                                           h * 2, e.experts, e.top_k, imb);
  EXPECT_NEAR(lc.ep_f, 2 * a2a, 1e-12 * a2a);
  // etp 2 with no EP: no all-to-all, the copies all-gathered over the two
  // etp ranks (and reduce-scattered back), top_k per token.
  r.plan.ep = 1;
  r.plan.etp = 2;
  const auto [folded, l2] = costs(qwen, r);
  const double gathered = AllGather(l2, 2 * (T / 2) * e.top_k * imb * h * 2, tp_group);
  EXPECT_NEAR(folded.ep_f, 2 * gathered, 1e-12 * gathered);
  EXPECT_NEAR(folded.tp_f, one, 1e-12 * one);
  // Without sequence parallelism (not a Megatron-Core MoE layout) the block
  // keeps its all-reduce: two per layer.
  r.plan.sequence_parallel = false;
  const auto [replicated, l3] = costs(qwen, r);
  const double ar = AllReduce(l3, T * h * 2, tp_group);
  EXPECT_NEAR(replicated.tp_f, 2 * ar, 1e-12 * ar);
  // Shared experts (every DeepSeek-V3 layer has them or is dense) keep the
  // block's collective over tp.
  const ModelArch& dsv3 = Model("deepseek-v3");
  TrainRequest d = r;
  d.seq_len = 4096;
  d.plan.sequence_parallel = true;
  d.plan.etp = 1;
  d.plan.ep = 4;
  const auto [shared, l4] = costs(dsv3, d);
  const double one_v3 = 2 * AllGather(l4, T * dsv3.hidden * 2, tp_group);
  EXPECT_NEAR(shared.tp_f, 2 * one_v3, 1e-12 * one_v3);
}

// --dispatcher deepep in training: DeepEP's normal kernels on the profile's
// measured curves (nvidia-hopper expert_dispatch), the copies DeepEP's
// benchmarks count, BF16 both ways (Megatron-Core's fused_a2a.py): more bytes
// never take less time, and no dispatch beats its bytes over the link.
TEST_F(TrainTest, DeepEpTrainsOnTheMeasuredNormalKernels) {
  const Cluster c = ClusterFor("hgx-h100");
  ASSERT_FALSE(c.device.expert_dispatch.normal_intranode.empty());
  const ModelArch& m = Model("qwen3-30b-a3b");
  const MoeShape& e = m.groups[0].moe;
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.devices = 8;
  r.global_batch = 8;
  r.plan.dp = 8;
  r.plan.ep = 8;
  r.plan.dispatcher = ExpertDispatcher::kDeepEp;
  double last = 0;
  for (int seq : {1024, 4096, 16384}) {
    r.seq_len = seq;
    const train::Context x = train::MakeContext(c, m, r);
    const train::LayerCosts lc = train::ComputeLayerCosts(c, x.links, m, r, r.plan, x.rate);
    const double bytes = seq * r.stack.expert_imbalance * m.hidden * 2;  // BF16, every token of the device
    const CountedCopies n = DeepEpCountedCopies(Group{.ranks = 8, .stride = 1}, 8, e.experts, e.top_k);
    const DispatchCurve& curve = c.device.expert_dispatch.normal_intranode;
    const double ku = c.topology.scale_up_bandwidth.si() / c.device.expert_dispatch.scale_up;
    double want = 0;
    for (bool combine : {false, true}) {
      want += std::max(c.device.collective_latency.si(), bytes * n.ranks / (curve.At(8, combine) * ku));
    }
    EXPECT_NEAR(lc.ep_f, want, 1e-12 * want) << seq;
    EXPECT_EQ(lc.ep_b, lc.ep_f);  // the backward's combine and dispatch
    EXPECT_GE(lc.ep_f, 2 * bytes * n.ranks / c.topology.scale_up_bandwidth.si()) << seq;
    EXPECT_GT(lc.ep_f, last) << seq;
    last = lc.ep_f;
  }
}

// Megatron-Core's combined 1F1B (--overlap-moe-expert-parallel-comm): the
// unpaired warm-up and cool-down chunks follow get_pp_rank_microbatches, the
// paired ones hide the exchange under the partner's compute; pairing is never
// slower than no overlap, and with every chunk unpaired it is no overlap.
TEST_F(TrainTest, EpOverlapPairsForwardAndBackwardChunks) {
  EXPECT_DOUBLE_EQ(train::UnpairedChunkShare(1, 1, 8), 1.0 / 8);                 // the first F, the last B
  EXPECT_DOUBLE_EQ(train::UnpairedChunkShare(4, 2, 16), (6.0 + 4 + 1) / 32);    // 2 (pp - 1) + (vp - 1) pp + 1
  EXPECT_DOUBLE_EQ(train::UnpairedChunkShare(8, 1, 8), 1.0);                      // 15 > 8: all warm-up
  const Cluster c = ClusterFor("hgx-h100");
  const ModelArch& m = Model("qwen3-30b-a3b");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.seq_len = 4096;
  r.devices = 16;
  r.plan.dp = 16;
  r.plan.ep = 16;  // across two nodes
  r.plan.zero = 1;
  auto ep_comm = [&](int global_batch, bool overlap) {
    r.global_batch = global_batch;
    r.plan.overlap_ep = overlap;
    return Run(c, m, r).breakdown.ep_comm;
  };
  // One micro-batch: its forward and backward each run alone.
  EXPECT_DOUBLE_EQ(ep_comm(16, true), ep_comm(16, false));
  double last_share = 1e300;
  for (int mb : {2, 4, 16}) {
    const double plain = ep_comm(16 * mb, false), paired = ep_comm(16 * mb, true);
    EXPECT_LT(paired, plain) << mb;
    // Per micro-batch the exposed share falls as fewer chunks go unpaired.
    EXPECT_LT(paired / mb, last_share) << mb;
    last_share = paired / mb;
    const train::Context x = train::MakeContext(c, m, r);
    const train::LayerCosts lc = train::ComputeLayerCosts(c, x.links, m, r, r.plan, x.rate);
    const double cf = lc.gemm_f + lc.attn_f + lc.elem_f, cb = lc.gemm_b + lc.attn_b + lc.elem_b;
    const double pair = train::Overlapped(lc.ep_f + lc.ep_b, cf + cb, c.device.overlap_slowdown);
    const double u = 1.0 / mb;
    EXPECT_NEAR(paired, mb * m.layers * ((1 - u) * pair + u * (lc.ep_f + lc.ep_b)), 1e-9 * paired) << mb;
  }
}

// Pipeline schedules from first principles: the bubble is never negative,
// ZB-H1's never exceeds 1F1B's and keeps 1F1B's memory, DualPipe holds two
// copies of the parameters and pp + 1 micro-batches of activations and hides
// the expert all-to-all under the paired chunk's compute; memory parts sum.
TEST_F(TrainTest, PipelineSchedulesBubbleAndMemory) {
  const Cluster c = ClusterFor("hgx-h100");
  for (const char* id : {"gpt3-175b", "deepseek-v3"}) {
    const ModelArch& m = Model(id);
    const bool moe = std::string(id) == "deepseek-v3";
    TrainRequest r;
    r.stack = testing::DefaultTrainingStack();
    r.seq_len = 4096;
    r.plan.tp = moe ? 1 : 8;
    r.plan.pp = 8;
    r.plan.dp = moe ? 64 : 8;
    r.plan.ep = moe ? 64 : 1;
    r.plan.zero = 1;
    r.plan.recompute = Recompute::kFull;
    r.plan.sequence_parallel = true;
    r.devices = int64_t(r.plan.tp) * r.plan.pp * r.plan.dp;
    for (int mbs : {16, 64}) {
      r.global_batch = int64_t(r.plan.dp) * mbs;
      auto with = [&](PipelineSchedule s) {
        TrainRequest q = r;
        q.plan.schedule = s;
        return Run(c, m, q);
      };
      const TrainEstimate one = with(PipelineSchedule::k1F1B);
      const TrainEstimate zb = with(PipelineSchedule::kZeroBubble);
      const TrainEstimate dual = with(PipelineSchedule::kDualPipe);
      for (const TrainEstimate* e : {&one, &zb, &dual}) {
        EXPECT_GE(e->breakdown.pp_bubble, 0) << id;
        const TrainMemory& mem = e->memory;
        EXPECT_NEAR(mem.weights + mem.gradients + mem.optimizer + mem.activations + mem.other, mem.total,
                    1e-9 * mem.total);
      }
      EXPECT_GT(one.breakdown.pp_bubble, 0);
      EXPECT_LE(zb.breakdown.pp_bubble, one.breakdown.pp_bubble) << id;
      EXPECT_LT(zb.step_time_s, one.step_time_s) << id;
      // ZB-H1 moves no memory; the same work and the same FLOPs.
      EXPECT_DOUBLE_EQ(zb.memory.total, one.memory.total);
      EXPECT_DOUBLE_EQ(zb.hardware_flops_per_step, one.hardware_flops_per_step);
      EXPECT_DOUBLE_EQ(zb.breakdown.compute, one.breakdown.compute);
      // DualPipe: the rank holds stage i and stage pp - 1 - i, so what ZeRO
      // does not shard (the weights at ZeRO-1) is at most twice the fullest
      // stage (the first rank pairs the embedding with the LM head, not the
      // larger of the two twice); pp + 1 micro-batches in flight where 1F1B keeps pp.
      EXPECT_LE(dual.memory.weights, 2 * one.memory.weights * (1 + 1e-12));
      EXPECT_GT(dual.memory.weights, 1.5 * one.memory.weights);
      EXPECT_NEAR(dual.memory.optimizer, one.memory.optimizer, 0.05 * one.memory.optimizer);
      EXPECT_GT(dual.memory.activations, one.memory.activations);
      if (moe) {
        EXPECT_LT(dual.breakdown.ep_comm, 0.5 * one.breakdown.ep_comm);
        EXPECT_LT(dual.step_time_s, one.step_time_s);
      }
    }
  }
  // DualPipe's rank memory as the chunks are placed (deepseek-ai/DualPipe:
  // rank i runs stage i and stage pp - 1 - i). GPT-3's 96 layers at pp 8:
  // with end stages of 6 layers the middle ones hold 14, the fullest rank
  // holds two middle stages, exactly twice 1F1B's fullest stage; with a
  // first stage of 8 and a last of 16 (middle 12), 1F1B's fullest is the
  // last stage (16 layers and the head) while the fullest DualPipe rank
  // holds the first and last (24 layers, the embedding and the head), well
  // under twice 32 layers' worth.
  {
    TrainRequest q = Gpt3(8, 8, 8, Recompute::kFull);
    q.global_batch = 8 * 16;
    auto weights = [&](int first, int last, PipelineSchedule s) {
      TrainRequest t = q;
      t.plan.first_stage_layers = first;
      t.plan.last_stage_layers = last;
      t.plan.schedule = s;
      return Run(c, Model("gpt3-175b"), t).memory.weights;
    };
    const double middle_one = weights(6, 6, PipelineSchedule::k1F1B);
    EXPECT_NEAR(weights(6, 6, PipelineSchedule::kDualPipe), 2 * middle_one, 1e-9 * middle_one);
    const double ends_one = weights(8, 16, PipelineSchedule::k1F1B);
    const double ends_dual = weights(8, 16, PipelineSchedule::kDualPipe);
    EXPECT_LT(ends_dual, 2 * ends_one * 0.85);
    EXPECT_GT(ends_dual, ends_one * 1.4);  // 24 layers over 16, with both ends
  }
  // The rules: zero-bubble and DualPipe need a pipeline and no virtual
  // stages; DualPipe an even pp and at least 2 pp micro-batches, even.
  TrainRequest r = Gpt3(8, 8, 8, Recompute::kFull);
  r.global_batch = 8 * 10;  // 10 micro-batches per pipeline
  r.plan.schedule = PipelineSchedule::kDualPipe;
  EXPECT_EQ(RefusedKey(EstimateTraining(c, Model("gpt3-175b"), r)), "pp_schedule");
  r.global_batch = 8 * 16;
  EXPECT_TRUE(EstimateTraining(c, Model("gpt3-175b"), r).has_value());
  r.plan.vp = 2;
  EXPECT_FALSE(EstimateTraining(c, Model("gpt3-175b"), r).has_value());
  r.plan.schedule = PipelineSchedule::kInterleaved;
  EXPECT_TRUE(EstimateTraining(c, Model("gpt3-175b"), r).has_value());
  r.plan.vp = 1;
  EXPECT_FALSE(EstimateTraining(c, Model("gpt3-175b"), r).has_value());
  r.plan.schedule = PipelineSchedule::kZeroBubble;
  EXPECT_TRUE(EstimateTraining(c, Model("gpt3-175b"), r).has_value());
  r = Gpt3(8, 1, 64, Recompute::kFull);
  r.plan.schedule = PipelineSchedule::kZeroBubble;
  EXPECT_FALSE(EstimateTraining(c, Model("gpt3-175b"), r).has_value());
}

// The search prices zero-bubble from its 1F1B twin (only the bubble
// differs); every plan it ranks is what EstimateTraining says of it.
TEST_F(TrainTest, SearchedSchedulesAreWhatTheEstimateSays) {
  const Cluster c = ClusterFor("hgx-h800");
  const ModelArch& m = Model("deepseek-v3");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.devices = 256;
  r.seq_len = 4096;
  r.global_batch = 1024;
  r.plan.precision = TrainPrecision::kFp8;
  PlanSpace space;
  space.tp = {1};
  space.cp = {1};
  space.micro_batch = {1};
  SearchOptions o;
  o.top_k = 200;
  auto res = SearchTraining(c, m, r, space, o);
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  int seen[4] = {};
  for (const RankedPlan& rp : res->top) {
    ++seen[int(rp.plan.schedule)];
    TrainRequest q = r;
    q.plan = rp.plan;
    const TrainEstimate e = Run(c, m, q);
    EXPECT_NEAR(e.step_time_s, rp.estimate.step_time_s, 1e-9 * e.step_time_s) << int(rp.plan.schedule) << " pp " << rp.plan.pp;
    EXPECT_NEAR(e.breakdown.pp_bubble, rp.estimate.breakdown.pp_bubble, 1e-9 * e.step_time_s);
    EXPECT_DOUBLE_EQ(e.memory.total, rp.estimate.memory.total);
    EXPECT_NEAR(e.mfu, rp.estimate.mfu, 1e-9);
  }
  EXPECT_GT(seen[int(PipelineSchedule::kZeroBubble)], 0);
  EXPECT_GT(seen[int(PipelineSchedule::kDualPipe)], 0);
}

// FP8 activation caching keeps the linear layers' inputs in one byte and the
// MoE SwiGLU's input only: less memory, the SwiGLU output computed again.
TEST_F(TrainTest, Fp8ActivationCachingTradesBytesForARecompute) {
  const Cluster c = ClusterFor("hgx-h100");
  const ModelArch& m = Model("deepseek-v3");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.seq_len = 4096;
  r.plan.pp = 16;
  r.plan.dp = 64;
  r.plan.ep = 64;
  r.plan.precision = TrainPrecision::kFp8;
  r.devices = 1024;
  r.global_batch = 64 * 32;
  const TrainEstimate bf16 = Run(c, m, r);
  r.plan.fp8_activations = true;
  const TrainEstimate fp8 = Run(c, m, r);
  EXPECT_LT(fp8.memory.activations, 0.75 * bf16.memory.activations);
  EXPECT_GT(fp8.breakdown.recompute, bf16.breakdown.recompute);
  EXPECT_DOUBLE_EQ(fp8.breakdown.compute, bf16.breakdown.compute);
  // moe_act already repeats the SwiGLU: caching adds no second repeat.
  r.plan.recompute = Recompute::kSelective;
  r.plan.recompute_modules = kRecomputeMoeAct;
  const TrainEstimate act = Run(c, m, r);
  r.plan.fp8_activations = false;
  const TrainEstimate act16 = Run(c, m, r);
  EXPECT_NEAR(act.breakdown.recompute, act16.breakdown.recompute, 0.02 * act16.breakdown.recompute);
  EXPECT_LT(act.memory.activations, act16.memory.activations);
  // Only with FP8 training.
  r.plan.fp8_activations = true;
  r.plan.precision = TrainPrecision::kBf16;
  EXPECT_EQ(RefusedKey(EstimateTraining(c, m, r)), "fp8_activations");
}

// FP8 grouped GEMMs quantise their operands: the dispatched tokens and the
// SwiGLU output forward, the two output gradients backward, each read in 16
// bits and written row- and column-wise in 8 (4 B a value), at the chip's
// stream rate. Only FP8 MoE layers pay it; the compute grows by exactly it.
TEST_F(TrainTest, Fp8GroupedGemmsPayTheirQuantisation) {
  const Cluster c = ClusterFor("hgx-h100");
  const ModelArch& m = Model("qwen3-30b-a3b");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.seq_len = 4096;
  r.plan.dp = 8;
  r.plan.ep = 8;
  r.plan.precision = TrainPrecision::kFp8;
  r.devices = 8;
  r.global_batch = 8;
  auto costs = [&](const TrainRequest& q) {
    const train::Context x = train::MakeContext(c, m, q);
    return train::ComputeLayerCosts(c, x.links, m, q, q.plan, x.rate);
  };
  const train::LayerCosts fp8 = costs(r);
  ASSERT_EQ(m.groups.size(), 1u);
  const MoeShape& e = m.groups[0].moe;
  const double rows = 4096.0 * e.top_k * r.stack.expert_imbalance, h = m.hidden, n = e.expert_ffn;
  const Device& d = c.device;
  EXPECT_NEAR(fp8.cast_f, StreamSeconds(d, rows * (h + n) * 4, 2), 1e-12);
  EXPECT_NEAR(fp8.cast_b, StreamSeconds(d, rows * (h + 2 * n) * 4, 2), 1e-12);
  EXPECT_GT(fp8.cast_b, fp8.cast_f);
  // Forward it is element-wise work; backward pays it once, not the doubling
  // the other element-wise kernels get.
  EXPECT_NEAR(fp8.elem_b, 2 * (fp8.elem_f - fp8.cast_f) + fp8.cast_b, 1e-12);
  r.plan.precision = TrainPrecision::kBf16;
  const train::LayerCosts bf16 = costs(r);
  EXPECT_EQ(bf16.cast_f, 0);
  EXPECT_EQ(bf16.cast_b, 0);
  EXPECT_LT(bf16.elem_f, fp8.elem_f - fp8.cast_f + 1e-12);
  // Dense FP8 layers keep their own cast pricing and none of this.
  TrainRequest dense = Gpt3(8, 1, 1, Recompute::kNone);
  dense.plan.precision = TrainPrecision::kFp8;
  const train::Context x = train::MakeContext(c, Model("llama-3-8b"), dense);
  const train::LayerCosts lc = train::ComputeLayerCosts(c, x.links, Model("llama-3-8b"), dense, dense.plan, x.rate);
  EXPECT_EQ(lc.cast_f, 0);
  EXPECT_EQ(lc.cast_b, 0);
}

// An MTP module is one more layer like the last, its projection and a second
// LM head pass, on the last stage: more time, memory and FLOPs there.
TEST_F(TrainTest, MtpModulesAddALayerAndAHeadPassToTheLastStage) {
  const Cluster c = ClusterFor("hgx-h100");
  const ModelArch& m = Model("deepseek-v3");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.seq_len = 4096;
  r.plan.pp = 1;
  r.plan.dp = 64;
  r.plan.zero = 0;  // every weight on every device (it does not fit; the estimate says so)
  r.plan.recompute = Recompute::kFull;
  r.devices = 64;
  r.global_batch = 64;
  const TrainEstimate base = Run(c, m, r);
  r.plan.mtp_layers = 1;
  const TrainEstimate mtp = Run(c, m, r);
  const double layer_share = 1.0 / m.layers;
  EXPECT_GT(mtp.step_time_s, base.step_time_s * (1 + 0.5 * layer_share));
  EXPECT_LT(mtp.step_time_s, base.step_time_s * (1 + 5 * layer_share));  // the layer and a second head pass
  EXPECT_GT(mtp.hardware_flops_per_step, base.hardware_flops_per_step);
  EXPECT_GT(mtp.memory.activations, base.memory.activations);
  // Its parameters are those CountParams gives the module (11.5 B for DeepSeek-V3), 2 B each.
  EXPECT_NEAR((mtp.memory.weights - base.memory.weights) / 2 / CountParams(m).mtp, 1.0, 1e-6);
  r.plan.mtp_layers = 65;
  EXPECT_FALSE(EstimateTraining(c, m, r).has_value());
}

// Ulysses all-to-all CP: the heads of each tp rank must split over cp, and
// its four all-to-alls sit on the critical path where ring attention hides
// its exchange under the attention kernels.
TEST_F(TrainTest, UlyssesContextParallelism) {
  const Cluster c = ClusterFor("hgx-h100");
  const ModelArch& m = Model("llama-3.1-70b");  // 64 heads
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.seq_len = 32768;
  r.plan.tp = 8;
  r.plan.cp = 8;
  r.plan.pp = 1;
  r.plan.dp = 1;
  r.plan.zero = 3;
  r.plan.recompute = Recompute::kFull;
  r.plan.sequence_parallel = true;
  r.devices = 64;
  r.global_batch = 8;
  const TrainEstimate ring = Run(c, m, r);
  r.plan.cp_comm = CpComm::kAllToAll;
  const TrainEstimate a2a = Run(c, m, r);
  EXPECT_GT(a2a.breakdown.cp_comm, 0);
  EXPECT_DOUBLE_EQ(a2a.breakdown.compute, ring.breakdown.compute);
  EXPECT_DOUBLE_EQ(a2a.memory.total, ring.memory.total);
  r.plan.tp = 4;
  r.plan.cp = 16;  // 16 heads per tp rank over 16: fine
  r.devices = 64;
  EXPECT_TRUE(EstimateTraining(c, m, r).has_value());
  r.plan.tp = 8;
  r.plan.cp = 16;  // 8 heads per tp rank over 16
  r.devices = 128;
  EXPECT_EQ(RefusedKey(EstimateTraining(c, m, r)), "cp_comm");
}

// Megatron-Core's pipeline layouts: Llama-3.1-405B's 126 layers at PP 8 x VP 8
// with the embedding and loss counted as layers (128 = 64 chunks of 2), a
// given first/last stage, and the layout string of DeepSeek-V3's GB200 run.
TEST_F(TrainTest, PipelineLayoutsAsMegatronCoreStatesThem) {
  TrainPlan p;
  p.pp = 8;
  p.vp = 8;
  p.embedding_in_split = p.loss_in_split = true;
  StageLayers s = PipelineStageLayers(126, p);
  EXPECT_EQ(s.first, 15);
  EXPECT_EQ(s.middle, 16);
  EXPECT_EQ(s.last, 15);
  const Cluster c = ClusterFor("hgx-h100");
  const ModelArch& m = Model("llama-3.1-405b");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.devices = 1024;
  r.seq_len = 8192;
  r.global_batch = 512;
  r.plan.tp = 8;
  r.plan.pp = 8;
  r.plan.dp = 16;
  r.plan.vp = 8;
  r.plan.recompute = Recompute::kSelective;
  r.plan.sequence_parallel = true;
  EXPECT_EQ(RefusedKey(EstimateTraining(c, m, r)), "vp");  // 64 chunks do not divide 126 layers
  r.plan.embedding_in_split = r.plan.loss_in_split = true;
  const TrainEstimate counted = Run(c, m, r);
  r.plan.embedding_in_split = r.plan.loss_in_split = false;
  r.plan.vp = 1;
  const TrainEstimate even = Run(c, m, r);  // ceil(126 / 8) = 16 on the last stage, plus the head
  EXPECT_TRUE(even.warnings & kTrainWarnUnevenStages);
  EXPECT_FALSE(counted.warnings & kTrainWarnUnevenStages);
  // The last stage gives a layer to the head: less per micro-batch than 16 layers + head.
  EXPECT_LT(counted.breakdown.compute, even.breakdown.compute);

  // First and last stages given: the middle ones share the rest evenly.
  r.plan.first_stage_layers = 14;
  r.plan.last_stage_layers = 14;
  s = PipelineStageLayers(126, r.plan);
  EXPECT_EQ(s.middle, 98 / 6);  // 98 does not divide by 6
  EXPECT_EQ(RefusedKey(EstimateTraining(c, m, r)), "first_stage_layers");
  r.plan.first_stage_layers = 15;
  r.plan.last_stage_layers = 15;
  EXPECT_EQ(PipelineStageLayers(126, r.plan).middle, 16);
  EXPECT_TRUE(EstimateTraining(c, m, r).has_value());
  r.plan.loss_in_split = true;  // not both ways at once
  EXPECT_EQ(RefusedKey(EstimateTraining(c, m, r)), "first_stage_layers");

  // The layout string: E and t on the first chunk, 30 chunks of two layers, the loss alone.
  TrainPlan d;
  d.pp = 8;
  d.vp = 4;
  ASSERT_TRUE(ApplyPipelineLayout("Et|(tt|)*30L (32 virtual stages)", 61, d).has_value());
  EXPECT_EQ(d.first_stage_layers, 7);
  EXPECT_EQ(d.last_stage_layers, 6);
  EXPECT_EQ(PipelineStageLayers(61, d).middle, 8);
  // The most even layout of 61 layers over 8 x 4 is that string written out;
  // 126 layers over 8 x 8 (64 chunks, 128 items) is two items on every chunk.
  std::string written = "Et|";
  for (int k = 0; k < 30; ++k) written += "tt|";
  EXPECT_EQ(MostEvenPipelineLayout(61, 8, 4), written + "L");
  const std::string l405 = MostEvenPipelineLayout(126, 8, 8);
  EXPECT_EQ(l405.substr(0, 6), "Et|tt|");
  EXPECT_EQ(l405.substr(l405.size() - 5), "tt|tL");
  EXPECT_EQ(std::count(l405.begin(), l405.end(), 't'), 126);
  EXPECT_EQ(std::count(l405.begin(), l405.end(), '|'), 63);
  TrainPlan e;
  e.pp = 8;
  e.vp = 8;
  ASSERT_TRUE(ApplyPipelineLayout(l405, 126, e).has_value());
  EXPECT_EQ(e.first_stage_layers, 15);
  EXPECT_EQ(e.last_stage_layers, 15);
  for (auto [layout, why] : {std::pair{"Et|(tt|)*30L", "61 layers"}, std::pair{"Et|(tt|)*29L", "virtual stages"},
                             std::pair{"Et|(tt|*30L", "unbalanced"}, std::pair{"Et|(tm|)*30L", "MTP"},
                             std::pair{"Et|(tt|)*0L", "repeat count"}, std::pair{"Ex|(tt|)*30L", "unknown item"},
                             std::pair{"(tt|)*30|tEL", "embedding"}, std::pair{"t*999999999", "expands beyond"}}) {
    TrainPlan q;
    q.pp = 8;
    q.vp = 4;
    auto ok = ApplyPipelineLayout(layout, std::string(why) == "61 layers" ? 60 : 61, q);
    ASSERT_FALSE(ok.has_value()) << layout;
    EXPECT_EQ(ok.error().diagnostics.front().key_path, "pp_layout");
    EXPECT_NE(ok.error().ToString().find(why), std::string::npos) << ok.error().ToString();
  }
}

// Megatron-Core's recompute_modules: each module frees activations and
// repeats forward time; more modules never keep more or recompute less, and
// "moe" covers moe_act and shared_experts.
TEST_F(TrainTest, RecomputeByModuleTradesMemoryForTime) {
  const Cluster c = ClusterFor("hgx-h800");
  const ModelArch& m = Model("deepseek-v3");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.devices = 256;
  r.seq_len = 4096;
  r.global_batch = 512;
  r.plan.pp = 16;
  r.plan.dp = 16;
  r.plan.ep = 16;
  r.plan.etp = 1;
  r.plan.recompute = Recompute::kSelective;
  const TrainEstimate core = Run(c, m, r);
  r.plan.recompute_modules = kRecomputeCoreAttn;
  const TrainEstimate core_named = Run(c, m, r);
  EXPECT_DOUBLE_EQ(core.step_time_s, core_named.step_time_s);
  EXPECT_DOUBLE_EQ(core.memory.activations, core_named.memory.activations);
  double last_act = core.memory.activations, last_rec = core.breakdown.recompute;
  for (uint32_t add : {kRecomputeLayerNorm, kRecomputeMlaUpProj, kRecomputeMoeAct, kRecomputeMoe}) {
    r.plan.recompute_modules |= add;
    const TrainEstimate e = Run(c, m, r);
    EXPECT_LT(e.memory.activations, last_act) << RecomputeModulesText(r.plan.recompute_modules);
    EXPECT_GT(e.breakdown.recompute, last_rec) << RecomputeModulesText(r.plan.recompute_modules);
    last_act = e.memory.activations;
    last_rec = e.breakdown.recompute;
  }
  r.plan.recompute_modules = kRecomputeMoe;
  const TrainEstimate moe = Run(c, m, r);
  r.plan.recompute_modules = kRecomputeMoe | kRecomputeMoeAct | kRecomputeSharedExperts;
  EXPECT_DOUBLE_EQ(Run(c, m, r).memory.activations, moe.memory.activations);
  // Never below what full recompute keeps.
  r.plan.recompute_modules = (1u << kRecomputeModuleCount) - 1;
  const TrainEstimate all = Run(c, m, r);
  r.plan.recompute = Recompute::kFull;
  r.plan.recompute_modules = 0;
  EXPECT_GE(all.memory.activations, Run(c, m, r).memory.activations);
  r.plan.recompute_modules = kRecomputeMoe;  // modules belong to a selective recompute
  EXPECT_EQ(RefusedKey(EstimateTraining(c, m, r)), "recompute_modules");
  std::string unknown;
  EXPECT_EQ(ParseRecomputeModules("layernorm, moe_act", &unknown), kRecomputeLayerNorm | kRecomputeMoeAct);
  EXPECT_FALSE(ParseRecomputeModules("layernorm,attention", &unknown).has_value());
  EXPECT_EQ(unknown, "attention");
  EXPECT_EQ(RecomputeModulesText(kRecomputeMoe | kRecomputeCoreAttn), "core_attn,moe");
}

// FSDP from first principles (Megatron-FSDP, FSDP2): per-layer gathers
// prefetched under compute and reduce-scatters under backward never beat
// the same collectives run between the units; the memory parts sum, with
// the gathered buffers; with nothing to shard (dp 1) FSDP is the plain
// plan; keeping the parameters gathered (no reshard) costs memory and saves
// the backward's second gather; the rules name their flags.
TEST_F(TrainTest, FsdpOverlapsPrefetchAndShardsEverything) {
  const Cluster c = ClusterFor("dgx-a100");
  const ModelArch& m = Model("gpt3-175b");
  for (int dp : {8, 64}) {
    TrainRequest r = Gpt3(8, 2, dp, Recompute::kFull);
    r.plan.zero = 3;
    const TrainEstimate zero3 = Run(c, m, r);
    r.plan.fsdp = true;
    for (bool reshard : {true, false}) {
      r.plan.fsdp_reshard = reshard;
      r.plan.overlap_dp = true;
      const TrainEstimate on = Run(c, m, r);
      r.plan.overlap_dp = false;
      const TrainEstimate off = Run(c, m, r);
      EXPECT_GE(off.step_time_s, on.step_time_s) << dp << reshard;
      EXPECT_GE(off.breakdown.dp_comm_exposed, on.breakdown.dp_comm_exposed);
      EXPECT_GT(on.breakdown.dp_comm_exposed, 0);
      for (const TrainEstimate* e : {&on, &off}) {
        const TrainMemory& mem = e->memory;
        EXPECT_NEAR(mem.weights + mem.gradients + mem.optimizer + mem.activations + mem.fsdp_buffers + mem.other,
                    mem.total, 1e-9 * mem.total);
        const TrainBreakdown& b = e->breakdown;
        EXPECT_NEAR(b.compute + b.recompute + b.tp_comm + b.dp_comm_exposed + b.pp_bubble + b.pp_comm + b.ep_comm +
                        b.cp_comm + b.optimizer + b.framework + b.offload,
                    e->step_time_s, 1e-9 * e->step_time_s);
      }
      // The same sharded state as ZeRO 3, plus the gathered units.
      EXPECT_DOUBLE_EQ(on.memory.weights, zero3.memory.weights);
      EXPECT_DOUBLE_EQ(on.memory.optimizer, zero3.memory.optimizer);
      EXPECT_GT(on.memory.fsdp_buffers, 0);
    }
    r.plan.overlap_dp = true;
    r.plan.fsdp_reshard = true;
    const TrainEstimate resharded = Run(c, m, r);
    r.plan.fsdp_reshard = false;
    const TrainEstimate kept = Run(c, m, r);
    EXPECT_GT(kept.memory.fsdp_buffers, resharded.memory.fsdp_buffers);
    EXPECT_LE(kept.step_time_s, resharded.step_time_s);
  }
  // dp 1: nothing to shard, FSDP is the plain plan.
  TrainRequest one = Gpt3(8, 8, 1, Recompute::kFull);
  const TrainEstimate plain = Run(c, m, one);
  one.plan.fsdp = true;
  one.plan.zero = 3;
  const TrainEstimate fsdp1 = Run(c, m, one);
  EXPECT_DOUBLE_EQ(fsdp1.step_time_s, plain.step_time_s);
  EXPECT_DOUBLE_EQ(fsdp1.memory.total, plain.memory.total);
  EXPECT_EQ(fsdp1.memory.fsdp_buffers, 0);
  // The rules.
  TrainRequest bad = Gpt3(8, 8, 8, Recompute::kFull);
  bad.plan.fsdp = true;  // zero 1
  EXPECT_EQ(RefusedKey(EstimateTraining(c, m, bad)), "fsdp");
  bad.plan.zero = 3;
  bad.global_batch = 8 * 16;
  bad.plan.schedule = PipelineSchedule::kDualPipe;
  EXPECT_EQ(RefusedKey(EstimateTraining(c, m, bad)), "fsdp");
  bad.plan.schedule = PipelineSchedule::k1F1B;
  bad.plan.fsdp = false;
  bad.plan.fsdp_reshard = false;
  EXPECT_EQ(RefusedKey(EstimateTraining(c, m, bad)), "fsdp_no_reshard");
}

// The search takes FSDP as a dimension (with ZeRO 3) and every plan it ranks
// is what EstimateTraining says of it.
TEST_F(TrainTest, SearchRanksFsdpPlansAsEstimated) {
  const Cluster c = ClusterFor("gb200-nvl72");
  const ModelArch& m = Model("llama-3.1-70b");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.devices = 64;
  r.seq_len = 8192;
  r.global_batch = 256;
  PlanSpace s;
  s.tp = {1, 2};
  s.pp = {1};
  s.cp = {1};
  s.zero = {3};
  s.micro_batch = {1};
  SearchOptions o;
  o.top_k = 50;
  o.threads = 1;
  auto res = SearchTraining(c, m, r, s, o);
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  bool fsdp_seen = false, kept_seen = false;
  for (const RankedPlan& rp : res->top) {
    fsdp_seen = fsdp_seen || rp.plan.fsdp;
    kept_seen = kept_seen || (rp.plan.fsdp && !rp.plan.fsdp_reshard);
    TrainRequest q = r;
    q.plan = rp.plan;
    const TrainEstimate e = Run(c, m, q);
    EXPECT_NEAR(e.step_time_s, rp.estimate.step_time_s, 1e-9 * e.step_time_s);
    EXPECT_DOUBLE_EQ(e.memory.total, rp.estimate.memory.total);
  }
  EXPECT_TRUE(fsdp_seen);
  EXPECT_TRUE(kept_seen);
}

// Optimizer CPU offload: no optimizer state on the device; the step pays
// the gradients down and the parameters up the host link, or the host's
// memory streaming the state, whichever is slower; refused where the
// catalog knows neither figure.
TEST_F(TrainTest, OptimizerOffloadMovesTheStateToTheHost) {
  Cluster c = ClusterFor("gb200-nvl72");
  ASSERT_GT(c.host_memory.si(), 0);
  const ModelArch& m = Model("llama-3.1-70b");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.devices = 64;
  r.seq_len = 8192;
  r.global_batch = 256;
  r.plan.dp = 64;
  r.plan.zero = 3;
  r.plan.fsdp = true;
  r.plan.recompute = Recompute::kFull;
  const TrainEstimate on_device = Run(c, m, r);
  r.plan.offload_optimizer = true;
  const TrainEstimate off = Run(c, m, r);
  EXPECT_EQ(off.memory.optimizer, 0);
  EXPECT_GT(on_device.memory.optimizer, 0);
  EXPECT_NEAR(on_device.memory.total - off.memory.total, on_device.memory.optimizer, 1e-9 * on_device.memory.total);
  const double local = on_device.memory.optimizer / 12;  // fp32 master + moments: 12 B per local parameter
  const double link = local * 4 / c.host_link.si(), cpu = local * 30 / c.host_memory.si();
  EXPECT_NEAR(off.breakdown.optimizer, std::max(link, cpu), 1e-9 * off.breakdown.optimizer);
  c.host_memory = BytesPerSecond(c.host_memory.si() / 10);
  EXPECT_GT(Run(c, m, r).breakdown.optimizer, off.breakdown.optimizer);
  c.host_memory = BytesPerSecond(0);
  EXPECT_EQ(RefusedKey(EstimateTraining(c, m, r)), "offload_optimizer");
}

// CPU activation offload: offloaded layers keep only the one in transit on
// the device, and their activations cross the host link each way, under the
// compute; a slower link never costs less. Without a known link it is refused.
TEST_F(TrainTest, ActivationOffloadMovesActivationsOverTheHostLink) {
  Cluster c = ClusterFor("gb200-nvl72");
  ASSERT_GT(c.host_link.si(), 0);
  const ModelArch& m = Model("llama-3.1-70b");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.devices = 256;
  r.seq_len = 16384;
  r.global_batch = 256;
  r.plan.dp = 256;
  r.plan.zero = 3;
  r.plan.recompute = Recompute::kSelective;
  const TrainEstimate none = Run(c, m, r);
  EXPECT_FALSE(none.fits);
  r.plan.offload_layers = 79;
  const TrainEstimate off = Run(c, m, r);
  EXPECT_TRUE(off.fits) << off.memory.activations;
  r.plan.offload_layers = 40;  // 80 layers keep 80, 41 (40 kept + 1 in transit) and 2 layers' activations
  const TrainEstimate half = Run(c, m, r);
  r.plan.offload_layers = 79;
  EXPECT_NEAR((none.memory.activations - half.memory.activations) / (none.memory.activations - off.memory.activations),
              39.0 / 78, 1e-9);
  EXPECT_GT(off.breakdown.offload, 0);
  EXPECT_GT(off.step_time_s, none.step_time_s);
  c.host_link = BytesPerSecond(c.host_link.si() / 10);
  const TrainEstimate slow = Run(c, m, r);
  EXPECT_GE(slow.breakdown.offload, off.breakdown.offload);
  r.plan.offload_layers = 81;
  EXPECT_EQ(RefusedKey(EstimateTraining(c, m, r)), "offload_layers");
  r.plan.offload_layers = 1;
  c.host_link = BytesPerSecond(0);
  EXPECT_EQ(RefusedKey(EstimateTraining(c, m, r)), "offload_layers");
  EXPECT_EQ(RefusedKey(SearchTraining(c, m, r, PlanSpace::Fixed(r.plan), SearchOptions{})), "offload_layers");
}

// Weight CPU offload: the device keeps two layers' share of the weights it
// would hold and nothing else changes in memory; the parameters stream up
// the host link twice per micro-batch and the updated ones go back, so the
// step is never faster than without (the optimizer on the device), a faster
// link is never slower, and a link that is not known is refused.
TEST_F(TrainTest, WeightOffloadStreamsTheParametersOverTheHostLink) {
  const ModelArch& m = Model("llama-3.1-70b");
  int compared = 0;
  for (const char* system : {"gb200-nvl72", "hgx-h100", "dgx-a100"}) {
    Cluster c = ClusterFor(system);
    if (!(c.host_link.si() > 0)) continue;
    for (auto [tp, pp, zero, fsdp] : {std::tuple{8, 1, 1, false}, std::tuple{4, 2, 2, false}, std::tuple{2, 4, 3, false},
                                      std::tuple{1, 1, 3, true}}) {
      TrainRequest r;
      r.stack = testing::DefaultTrainingStack();
      r.devices = 64;
      r.seq_len = 4096;
      r.global_batch = 128;
      r.plan.tp = tp;
      r.plan.pp = pp;
      r.plan.dp = 64 / (tp * pp);
      r.plan.zero = zero;
      r.plan.fsdp = fsdp;
      r.plan.recompute = Recompute::kFull;
      r.plan.sequence_parallel = tp > 1;
      const TrainEstimate on = Run(c, m, r);
      r.plan.offload_weights = true;
      const TrainEstimate off = Run(c, m, r);
      const StageLayers stages = PipelineStageLayers(m.layers, r.plan);
      const double units = std::max({stages.first, stages.middle, stages.last});
      EXPECT_NEAR(off.memory.weights, 2 * on.memory.weights / units, 1e-9 * on.memory.weights) << system << tp << pp;
      EXPECT_NEAR(on.memory.total - off.memory.total, on.memory.weights - off.memory.weights, 1e-6 * on.memory.total);
      EXPECT_EQ(off.memory.gradients, on.memory.gradients);
      EXPECT_EQ(off.memory.optimizer, on.memory.optimizer);
      EXPECT_EQ(off.memory.activations, on.memory.activations);
      EXPECT_GE(off.step_time_s, on.step_time_s) << system << tp << pp;
      EXPECT_GT(off.breakdown.offload, 0);
      // The link's traffic: each layer up twice per micro-batch; at most all
      // of it exposed, at least the share contention leaves exposed.
      double last = off.step_time_s;
      for (double scale : {2.0, 4.0, 16.0}) {
        Cluster faster = c;
        faster.host_link = BytesPerSecond(c.host_link.si() * scale);
        const TrainEstimate f = Run(faster, m, r);
        EXPECT_LE(f.step_time_s, last) << system << scale;
        EXPECT_GE(f.step_time_s, on.step_time_s);
        last = f.step_time_s;
      }
      Cluster slower = c;
      slower.host_link = BytesPerSecond(c.host_link.si() / 8);
      EXPECT_GE(Run(slower, m, r).step_time_s, off.step_time_s);
      ++compared;
    }
  }
  EXPECT_GE(compared, 8);
  // With the optimizer offloaded too, the parameters are updated on the host: the
  // link carries the gradients alone.
  Cluster c = ClusterFor("gb200-nvl72");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.devices = 8;
  r.seq_len = 8192;
  r.global_batch = 16;
  r.plan.tp = 8;
  r.plan.dp = 1;
  r.plan.recompute = Recompute::kFull;
  r.plan.sequence_parallel = true;
  r.plan.offload_optimizer = true;
  const ModelArch& big = Model("llama-3.1-405b");
  const TrainEstimate opt_only = Run(c, big, r);
  EXPECT_FALSE(opt_only.fits);
  r.plan.offload_weights = true;
  const TrainEstimate both = Run(c, big, r);
  EXPECT_TRUE(both.fits);
  const double local = opt_only.memory.gradients / 2;  // 2 B of gradient per local parameter
  EXPECT_NEAR(both.breakdown.optimizer,
              std::max(local * 2 / c.host_link.si(), local * 30 / c.host_memory.si()), 1e-9 * both.breakdown.optimizer);
  // Refused without a known host link, by the estimate and by the search.
  c.host_link = BytesPerSecond(0);
  r.plan.offload_optimizer = false;
  EXPECT_EQ(RefusedKey(EstimateTraining(c, big, r)), "offload_weights");
  EXPECT_EQ(RefusedKey(SearchTraining(c, big, r, PlanSpace{}, SearchOptions{})), "offload_weights");
}

// The search keeps the request's weight offload (not a dimension) and ranks
// what EstimateTraining says of each plan.
TEST_F(TrainTest, SearchKeepsWeightOffloadAsGiven) {
  const Cluster c = ClusterFor("gb200-nvl72");
  const ModelArch& m = Model("llama-3.1-70b");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.devices = 16;
  r.seq_len = 4096;
  r.global_batch = 32;
  r.plan.offload_weights = true;
  SearchOptions o;
  o.top_k = 10;
  o.threads = 2;
  auto res = SearchTraining(c, m, r, PlanSpace{}, o);
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  ASSERT_FALSE(res->top.empty());
  for (const RankedPlan& rp : res->top) {
    EXPECT_TRUE(rp.plan.offload_weights);
    TrainRequest q = r;
    q.plan = rp.plan;
    const TrainEstimate e = Run(c, m, q);
    EXPECT_NEAR(e.step_time_s, rp.estimate.step_time_s, 1e-9 * e.step_time_s);
    EXPECT_DOUBLE_EQ(e.memory.total, rp.estimate.memory.total);
  }
}

TEST_F(TrainTest, SearchRanksOnlyFeasiblePlansDeterministically) {
  const Cluster c = ClusterFor("dgx-a100");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.devices = 64;
  r.seq_len = 2048;
  r.global_batch = 256;
  SearchOptions one;
  one.threads = 1;
  one.top_k = 10;
  SearchOptions two = one;
  two.threads = 2;
  auto a = SearchTraining(c, Model("llama-3.1-70b"), r, PlanSpace{}, one);
  auto b = SearchTraining(c, Model("llama-3.1-70b"), r, PlanSpace{}, two);
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  ASSERT_EQ(a->top.size(), 10u);
  EXPECT_GT(a->candidates_evaluated, a->candidates_feasible);
  EXPECT_EQ(a->candidates_evaluated, b->candidates_evaluated);
  for (std::size_t i = 0; i < a->top.size(); ++i) {
    EXPECT_TRUE(a->top[i].estimate.fits);
    EXPECT_EQ(a->top[i].plan.tp, b->top[i].plan.tp);
    EXPECT_EQ(a->top[i].plan.pp, b->top[i].plan.pp);
    EXPECT_EQ(a->top[i].plan.vp, b->top[i].plan.vp);
    EXPECT_EQ(a->top[i].plan.micro_batch, b->top[i].plan.micro_batch);
    EXPECT_DOUBLE_EQ(a->top[i].estimate.step_time_s, b->top[i].estimate.step_time_s);
    if (i > 0) {
      EXPECT_GE(a->top[i].estimate.step_time_s, a->top[i - 1].estimate.step_time_s);
    }
    // The search's estimate is the single estimate of the same plan.
    TrainRequest same = r;
    same.plan = a->top[i].plan;
    EXPECT_DOUBLE_EQ(Run(c, Model("llama-3.1-70b"), same).step_time_s, a->top[i].estimate.step_time_s);
  }
  // Fixed fields stay fixed.
  TrainRequest fixed = r;
  fixed.plan.tp = 4;
  PlanSpace space;
  space.tp = {4};
  auto f = SearchTraining(c, Model("llama-3.1-70b"), fixed, space, one);
  ASSERT_TRUE(f.has_value());
  for (const auto& p : f->top) EXPECT_EQ(p.plan.tp, 4);
}

// The sinks: the stream sees every feasible plan once, the front is the set
// of plans nothing beats on both step time and memory, and the memory
// objective ranks by memory. Every answer is the same on one and two threads.
TEST_F(TrainTest, SearchSinksAreCompleteAndAgree) {
  const Cluster c = ClusterFor("dgx-a100");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.devices = 32;
  r.seq_len = 2048;
  r.global_batch = 64;
  const ModelArch& m = Model("llama-3.1-8b");
  for (int threads : {1, 2}) {
    SearchOptions o;
    o.threads = threads;
    o.top_k = 3;
    o.pareto = true;
    std::vector<RankedPlan> all;
    o.on_feasible = [&](std::span<const RankedPlan> batch) { all.insert(all.end(), batch.begin(), batch.end()); };
    auto res = SearchTraining(c, m, r, PlanSpace{}, o);
    ASSERT_TRUE(res.has_value()) << res.error().ToString();
    EXPECT_EQ(int64_t(all.size()), res->candidates_feasible) << threads;
    ASSERT_FALSE(res->pareto.empty());
    // No streamed plan dominates a front plan, and the front is ordered.
    for (std::size_t i = 0; i < res->pareto.size(); ++i) {
      const TrainEstimate& f = res->pareto[i].estimate;
      if (i > 0) {
        EXPECT_GT(f.step_time_s, res->pareto[i - 1].estimate.step_time_s);
        EXPECT_LT(f.memory.total, res->pareto[i - 1].estimate.memory.total);
      }
      for (const RankedPlan& p : all) {
        const bool dominates = p.estimate.step_time_s <= f.step_time_s && p.estimate.memory.total <= f.memory.total &&
                               (p.estimate.step_time_s < f.step_time_s || p.estimate.memory.total < f.memory.total);
        EXPECT_FALSE(dominates);
      }
    }
    // The front's fastest plan is the top plan; its leanest is the memory objective's best.
    EXPECT_DOUBLE_EQ(res->pareto.front().estimate.step_time_s, res->top.front().estimate.step_time_s);
    SearchOptions lean = o;
    lean.objective = Objective::kMemory;
    lean.on_feasible = nullptr;
    auto least = SearchTraining(c, m, r, PlanSpace{}, lean);
    ASSERT_TRUE(least.has_value());
    double min_memory = 1e300;
    for (const RankedPlan& p : all) min_memory = std::min(min_memory, p.estimate.memory.total);
    EXPECT_DOUBLE_EQ(least->top.front().estimate.memory.total, min_memory);
    EXPECT_DOUBLE_EQ(res->pareto.back().estimate.memory.total, min_memory);
  }
}

// The search times only the plans its step-time bound cannot rule out of the
// top k (train::StepLowerBound). The bound holds for every feasible plan, as
// estimated; and the search with it (top k alone) finds the same top k and
// counts the same candidates as without it (a Pareto front keeps every plan,
// so that search prices them all), on dense and MoE models, with FSDP,
// optimizer offload and DualPipe in the space.
TEST_F(TrainTest, SearchBoundRulesOutOnlyPlansThatCannotRank) {
  struct Case {
    const char* system;
    const char* model;
    int64_t devices, seq, batch;
  };
  const Case cases[] = {{"dgx-a100", "llama-3.1-8b", 32, 2048, 64},
                        {"hgx-h100", "mixtral-8x7b", 64, 4096, 128},
                        {"gb200-nvl72", "qwen3-30b-a3b", 32, 4096, 64}};
  for (const Case& k : cases) {
    const Cluster c = ClusterFor(k.system);
    const ModelArch& m = Model(k.model);
    TrainRequest r;
    r.stack = testing::DefaultTrainingStack();
    r.devices = k.devices;
    r.seq_len = k.seq;
    r.global_batch = k.batch;
    const train::Context x = train::MakeContext(c, m, r);
    SearchOptions all;
    all.threads = 2;
    all.top_k = 5;
    all.pareto = true;
    int64_t checked = 0;
    std::map<std::tuple<int, int, int, bool, int, int, int, int, CpComm>, train::LayerCosts> costs;
    all.on_feasible = [&](std::span<const RankedPlan> batch) {
      for (const RankedPlan& rp : batch) {
        const TrainPlan& q = rp.plan;
        // Layer costs depend on these alone (the search's outer loops).
        const auto key = std::tuple{q.tp, q.cp, q.micro_batch, q.sequence_parallel, q.pp, q.dp, q.ep, q.etp, q.cp_comm};
        auto it = costs.find(key);
        if (it == costs.end()) it = costs.emplace(key, train::ComputeLayerCosts(c, x.links, m, r, q, x.rate)).first;
        const train::LayerCosts& lc = it->second;
        const train::StageTerms st = train::MakeStageTerms(x, rp.plan, true);
        const bool dualpipe = rp.plan.pp > 1 && rp.plan.schedule == PipelineSchedule::kDualPipe;
        const double bound = train::StepLowerBound(x, rp.plan, lc, st, dualpipe);
        EXPECT_LE(bound, rp.estimate.step_time_s * (1 + 1e-12)) << k.model;
        EXPECT_GT(bound, 0) << k.model;  // a bound that can rule something out
        ++checked;
      }
    };
    auto full = SearchTraining(c, m, r, PlanSpace{}, all);
    ASSERT_TRUE(full.has_value()) << full.error().ToString();
    EXPECT_EQ(checked, full->candidates_feasible) << k.model;
    SearchOptions top = all;
    top.pareto = false;
    top.on_feasible = nullptr;
    auto pruned = SearchTraining(c, m, r, PlanSpace{}, top);
    ASSERT_TRUE(pruned.has_value());
    EXPECT_EQ(pruned->candidates_evaluated, full->candidates_evaluated) << k.model;
    EXPECT_EQ(pruned->candidates_feasible, full->candidates_feasible) << k.model;
    ASSERT_EQ(pruned->top.size(), full->top.size()) << k.model;
    ASSERT_FALSE(pruned->top.empty()) << k.model;
    for (std::size_t i = 0; i < pruned->top.size(); ++i) {
      EXPECT_EQ(pruned->top[i].estimate.step_time_s, full->top[i].estimate.step_time_s) << k.model << " " << i;
      EXPECT_EQ(pruned->top[i].plan.tp, full->top[i].plan.tp);
      EXPECT_EQ(pruned->top[i].plan.pp, full->top[i].plan.pp);
      EXPECT_EQ(pruned->top[i].plan.zero, full->top[i].plan.zero);
      EXPECT_EQ(pruned->top[i].plan.fsdp, full->top[i].plan.fsdp);
      EXPECT_EQ(pruned->top[i].plan.schedule, full->top[i].plan.schedule);
      EXPECT_EQ(pruned->top[i].plan.offload_optimizer, full->top[i].plan.offload_optimizer);
    }
  }
}

TEST_F(TrainTest, SearchErrorsAndCancellation) {
  const Cluster c = ClusterFor("dgx-a100");
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.devices = 7;  // no tp x pp x cp of the model divides 7 devices with the batch
  r.seq_len = 2048;
  r.global_batch = 8;
  PlanSpace space;
  space.tp = {8};
  EXPECT_EQ(RefusedKey(SearchTraining(c, Model("llama-3.1-8b"), r, space, SearchOptions{})), "devices");
  r.devices = 8;
  SearchOptions big;
  big.top_k = kMaxTopK + 1;
  EXPECT_EQ(RefusedKey(SearchTraining(c, Model("llama-3.1-8b"), r, PlanSpace{}, big)), "top");
  std::atomic<bool> stop{true};
  SearchOptions cancelled;
  cancelled.cancel = &stop;
  auto stopped = SearchTraining(c, Model("llama-3.1-8b"), r, PlanSpace{}, cancelled);
  ASSERT_TRUE(stopped.has_value());
  EXPECT_TRUE(stopped->cancelled);
  EXPECT_EQ(stopped->candidates_evaluated, 0);
}

TEST_F(TrainTest, H20TrainsSlowerThanH100ByItsComputeDeficit) {
  // "Useless for training": the same plan on HGX H20 vs HGX H100.
  TrainRequest r;
  r.stack = testing::DefaultTrainingStack();
  r.devices = 64;
  r.seq_len = 4096;
  r.global_batch = 128;
  r.plan = TrainPlan{.tp = 8, .pp = 2, .dp = 4, .micro_batch = 1, .recompute = Recompute::kSelective,
                     .sequence_parallel = true};
  r.tokens = 1e12;
  const TrainEstimate h20 = Run(ClusterFor("hgx-h20"), Model("llama-3.1-70b"), r);
  const TrainEstimate h100 = Run(ClusterFor("hgx-h100"), Model("llama-3.1-70b"), r);
  EXPECT_GT(h20.step_time_s, 3 * h100.step_time_s);
  EXPECT_NEAR(h20.time_to_train_s, 1e12 / h20.tokens_per_s, 1e-6 * h20.time_to_train_s);
  EXPECT_NEAR(h20.device_hours, h20.time_to_train_s * 64 / 3600, 1e-6 * h20.device_hours);
  EXPECT_GT(h20.energy_j, 0);
}

TEST_F(TrainTest, RandomPlansAreFiniteOrRejected) {
  std::mt19937 rng(2024);
  auto pick = [&](int n) { return int(rng() % unsigned(n)); };
  const char* systems[] = {"dgx-a100", "hgx-h20", "hgx-h100", "atlas-800t-a2", "gb200-nvl72", "mi300x-8"};
  const char* models[] = {"llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b", "deepseek-v3", "gpt3-175b", "qwen3-30b-a3b"};
  int estimates = 0;
  for (int i = 0; i < 300; ++i) {
    const Cluster c = ClusterFor(systems[pick(6)]);
    const ModelArch& m = Model(models[pick(6)]);
    TrainRequest r;
    r.stack = testing::DefaultTrainingStack();
    r.plan.tp = 1 << pick(4);
    r.plan.pp = 1 << pick(4);
    r.plan.cp = 1 << pick(2);
    r.plan.dp = 1 << pick(6);
    r.plan.ep = 1 << pick(3);
    r.plan.vp = 1 + pick(3);
    r.plan.micro_batch = 1 << pick(3);
    r.plan.recompute = static_cast<Recompute>(pick(3));
    r.plan.zero = pick(4);
    r.plan.precision = static_cast<TrainPrecision>(pick(3));
    r.plan.sequence_parallel = pick(2) == 1;
    r.plan.schedule = static_cast<PipelineSchedule>(pick(4));
    r.plan.cp_comm = static_cast<CpComm>(pick(2));
    r.plan.fp8_activations = r.plan.precision == TrainPrecision::kFp8 && pick(2) == 1;
    r.plan.mtp_layers = pick(3) == 0 ? 1 : 0;
    r.devices = int64_t(r.plan.tp) * r.plan.pp * r.plan.cp * r.plan.dp;
    r.seq_len = 1024 << pick(4);
    r.global_batch = int64_t(r.plan.dp) * r.plan.micro_batch * (1 + pick(16));
    r.tokens = pick(2) == 1 ? 1e12 : 0;
    auto e = EstimateTraining(c, m, r);
    if (!e) {
      EXPECT_FALSE(e.error().diagnostics.front().message.empty());
      continue;
    }
    ++estimates;
    for (double v : {e->step_time_s, e->tokens_per_s, e->mfu, e->memory.total, e->memory.activations,
                     e->breakdown.pp_bubble, e->breakdown.dp_comm_exposed, e->time_to_train_s}) {
      EXPECT_TRUE(std::isfinite(v) && v >= 0) << "plan " << i;
    }
    EXPECT_GT(e->step_time_s, 0);
  }
  EXPECT_GT(estimates, 30);
}

// Degrees a library caller sets past any plan are refused before any product
// of them is formed (the products stay in 64 bits; UBSan checks it).
TEST_F(TrainTest, HugeDegreesAreRefusedWithoutOverflow) {
  const Cluster c = ClusterFor("dgx-a100");
  TrainRequest r = Gpt3(8, 8, 16, Recompute::kNone);
  r.plan.vp = 2000000000;
  EXPECT_EQ(RefusedKey(EstimateTraining(c, Model("gpt3-175b"), r)), "vp");
  r = Gpt3(8, 8, 16, Recompute::kNone);
  r.plan.tp = r.plan.pp = r.plan.cp = 2000000000;
  EXPECT_EQ(DerivedDp(r), 0);
  EXPECT_FALSE(EstimateTraining(c, Model("gpt3-175b"), r).has_value());
}

TEST_F(TrainTest, LoraFreezesTheBase) {
  const Cluster c = ClusterFor("hgx-h100");
  TrainRequest r = Gpt3(1, 1, 8, Recompute::kNone);
  r.global_batch = 32;
  r.seq_len = 4096;
  const TrainEstimate full = Run(c, Model("llama-2-7b"), r);
  r.lora = true;
  const TrainEstimate lora = Run(c, Model("llama-2-7b"), r);
  EXPECT_EQ(lora.memory.gradients, 0);
  EXPECT_EQ(lora.memory.optimizer, 0);
  EXPECT_EQ(lora.breakdown.dp_comm_exposed, 0);
  EXPECT_LT(lora.step_time_s, full.step_time_s);
  EXPECT_GT(lora.step_time_s, 0.5 * full.step_time_s);  // forward and input gradients remain
  EXPECT_NEAR(lora.hardware_flops_per_step / full.hardware_flops_per_step, 2.0 / 3.0, 0.05);
}

TEST_F(TrainTest, BareChipAssumesEightChipNodesAndSaysSo) {
  const Chip& chip = *catalog().FindChip("h100-sxm");
  auto c = MakeCluster(catalog(), chip, nullptr);
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->assumed_system);
  EXPECT_EQ(c->chips_per_node, 8);
  const TrainEstimate e = Run(*c, Model("llama-3.1-8b"), Gpt3(1, 1, 8, Recompute::kNone));
  EXPECT_NE(e.warnings & kTrainWarnAssumedSystem, 0u);
  EXPECT_FALSE(TrainWarningTexts(e.warnings).empty());
}

}  // namespace
}  // namespace suanli
