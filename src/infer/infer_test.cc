// Inference estimator: properties from first principles on the shipped
// catalog, every error path, and random plans that must stay finite.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <tuple>

#include "support/test_support.h"
#include "suanli/cost/moe_dispatch.h"
#include "suanli/infer/infer.h"
#include "suanli/infer/iteration.h"

namespace suanli {
namespace {

class InferTest : public ::testing::Test {
 protected:
  static const Catalog& catalog() { return testing::ShippedCatalog(); }

  static Cluster ClusterFor(const std::string& id) {
    const System* system = catalog().FindSystem(id);
    const Chip* chip = catalog().FindChip(system != nullptr ? system->chip : id);
    EXPECT_NE(chip, nullptr) << id;
    auto c = MakeCluster(catalog(), *chip, system);
    EXPECT_TRUE(c.has_value()) << c.error().ToString();
    return *c;
  }
  static const ModelArch& Model(const std::string& id) {
    const ModelEntry* m = catalog().FindModel(id);
    EXPECT_NE(m, nullptr) << id;
    return m->arch;
  }
  static InferenceEstimate Run(const Cluster& d, const ModelArch& m, const InferenceRequest& r) {
    auto e = EstimateInference(d, m, r);
    EXPECT_TRUE(e.has_value()) << e.error().ToString();
    return e.has_value() ? *e : InferenceEstimate{};
  }
  static InferenceRequest Request(int64_t in, int64_t out, int64_t batch, int tp = 1) {
    InferenceRequest r;
    r.stack = testing::DefaultServingStack();
    r.workload.input_tokens = in;
    r.workload.output_tokens = out;
    r.workload.batch = batch;
    r.plan.tp = tp;
    return r;
  }
};

TEST_F(InferTest, ProfilesResolveWithTheirTier) {
  EXPECT_EQ(ClusterFor("h100-sxm").device.tier, ProfileTier::kMeasured);
  EXPECT_EQ(ClusterFor("h200-sxm").device.profile_id, "nvidia-h200");
  // The H20 has its own measured GEMM sweep and attention on top of the
  // Hopper profile (same silicon), which it extends for the rest.
  EXPECT_EQ(ClusterFor("h20").device.profile_id, "nvidia-h20");
  EXPECT_EQ(ClusterFor("h20").device.tier, ProfileTier::kMeasured);
  EXPECT_GE(ClusterFor("h20").device.sweep16.size, 2);
  EXPECT_NEAR(ClusterFor("h20").device.collective_latency.si(), ClusterFor("h100-sxm").device.collective_latency.si(), 1e-12);
  // The 910B: GEMM, HBM and HCCL measured. The 910C takes the 910B's die
  // figures over its own peaks and its measured EP dispatch: calibrated.
  EXPECT_EQ(ClusterFor("ascend-910b").device.tier, ProfileTier::kMeasured);
  EXPECT_EQ(ClusterFor("ascend-910b").device.profile_id, "huawei-ascend-910b");
  EXPECT_EQ(ClusterFor("ascend-910c").device.tier, ProfileTier::kCalibrated);
  EXPECT_EQ(ClusterFor("ascend-910c").device.profile_id, "huawei-ascend-910c");
  EXPECT_FALSE(ClusterFor("ascend-910c").device.expert_dispatch.empty());
  EXPECT_GE(ClusterFor("h100-sxm").device.sweep8.size, 2);
}

TEST_F(InferTest, Ascend910cDieRatesMatchThe910bMeasurement) {
  // The 910B profile's fractions are of the 376-TFLOPS bin its measured part
  // is taken to be; a 910C die is that bin (752 per package), so the 910C
  // reproduces the measured 306 TFLOP/s of an 8192^3 fp16 GEMM per die, and
  // the catalog's 320-TFLOPS 910B the same kernels at 320/376 of it.
  const Device b = ClusterFor("ascend-910b").device, c = ClusterFor("ascend-910c").device;
  ASSERT_GE(c.sweep16.size, 2);
  const double flops = 2.0 * 8192 * 8192 * 8192;
  const double die_c = SweepEfficiency(c.sweep16, flops) * Peak(c, Dtype::kFp16) / 2;
  EXPECT_NEAR(die_c / 1e12, 2 * 8192.0 * 8192 * 8192 / 3.589e-3 / 1e12, 3);
  EXPECT_NEAR(SweepEfficiency(b.sweep16, flops) * Peak(b, Dtype::kFp16), die_c * 320 / 376, 1e-6 * die_c);
}

TEST_F(InferTest, NeverBeatsTheRoofline) {
  for (const char* chip : {"h100-sxm", "h20", "a100-sxm-80gb", "ascend-910b", "mi300x", "h200-sxm"}) {
    for (const char* model : {"llama-3.1-8b", "mixtral-8x7b", "qwen3-30b-a3b"}) {
      const Cluster c = ClusterFor(chip);
      const Device& d = c.device;
      for (int64_t batch : {1, 8, 64}) {
        const InferenceEstimate e = Run(c, Model(model), Request(1024, 128, batch));
        const double peak = std::max(Peak(d, Dtype::kBf16), Peak(d, Dtype::kFp16));
        EXPECT_GE(e.prefill.seconds, e.prefill.flops / peak) << chip << " " << model;
        EXPECT_GE(e.prefill.seconds, e.prefill.bytes / d.memory_bandwidth.si()) << chip << " " << model;
        EXPECT_GE(e.decode.seconds, e.decode.bytes / d.memory_bandwidth.si()) << chip << " " << model;
        EXPECT_GE(e.decode.seconds, e.decode.flops / peak) << chip << " " << model;
        // A decode step reads at least the weights it uses.
        EXPECT_GT(e.decode.bytes, 0.0);
      }
    }
  }
}

TEST_F(InferTest, MoreBandwidthOrComputeIsNeverSlower) {
  for (const char* chip : {"h20", "h100-sxm", "a100-sxm-80gb", "gaudi3"}) {
    const Cluster base = ClusterFor(chip);
    Cluster faster_memory = base;
    faster_memory.device.memory_bandwidth *= 1.5;
    Cluster faster_compute = base;
    for (OpsPerSecond& p : faster_compute.device.peak) p *= 1.5;
    Cluster faster_link = base;
    faster_link.topology.scale_up_bandwidth *= 2;
    for (int tp : {1, 2, 8}) {
      const InferenceRequest r = Request(2048, 256, 16, tp);
      const ModelArch& m = Model("llama-3.1-70b");
      const InferenceEstimate e0 = Run(base, m, r);
      for (const Cluster* d : {&faster_memory, &faster_compute, &faster_link}) {
        const InferenceEstimate e1 = Run(*d, m, r);
        EXPECT_LE(e1.ttft_s, e0.ttft_s * (1 + 1e-12)) << chip << " tp " << tp;
        EXPECT_LE(e1.tpot_s, e0.tpot_s * (1 + 1e-12)) << chip << " tp " << tp;
      }
    }
  }
}

TEST_F(InferTest, TpOneOnASystemEqualsTheBareChip) {
  const InferenceRequest r = Request(512, 128, 4);
  const InferenceEstimate chip = Run(ClusterFor("h100-sxm"), Model("llama-3.1-8b"), r);
  const InferenceEstimate system = Run(ClusterFor("hgx-h100"), Model("llama-3.1-8b"), r);
  EXPECT_DOUBLE_EQ(chip.ttft_s, system.ttft_s);
  EXPECT_DOUBLE_EQ(chip.tpot_s, system.tpot_s);
  EXPECT_DOUBLE_EQ(chip.memory.total, system.memory.total);
  EXPECT_EQ(chip.prefill.by_class[static_cast<int>(OpClass::kAllReduce)], 0.0);
}

TEST_F(InferTest, MemoryPartsSumToTheTotal) {
  for (const char* model : {"llama-3.1-70b", "deepseek-v3", "gpt-oss-120b", "mixtral-8x7b"}) {
    for (int tp : {1, 8}) {
      const InferenceEstimate e = Run(ClusterFor("h200-sxm"), Model(model), Request(4096, 1024, 8, tp));
      const MemoryEstimate& m = e.memory;
      EXPECT_NEAR(m.weights + m.kv_cache + m.activations + m.reserved, m.total, m.total * 1e-12) << model;
      EXPECT_EQ(e.fits, m.total <= m.capacity) << model;
      if (!e.fits) {
        EXPECT_NE(e.reason, InfeasibleReason::kNone);
      }
    }
  }
}

TEST_F(InferTest, WeightsMatchTheParameterCount) {
  // Llama-3.1-70B in bf16 over 8 devices: 70.55e9 x 2 bytes / 8, embedding and head included.
  const InferenceEstimate e = Run(ClusterFor("h100-sxm"), Model("llama-3.1-70b"), Request(128, 128, 1, 8));
  EXPECT_NEAR(e.memory.weights, 70.55e9 * 2 / 8, 0.01 * 70.55e9 * 2 / 8);
}

TEST_F(InferTest, DoublingTheBatchAtMostDoublesTheDecodeStep) {
  for (const char* model : {"llama-3.1-8b", "mixtral-8x7b", "deepseek-v3"}) {
    const Cluster d = ClusterFor("h200-sxm");
    InferenceRequest r = Request(1024, 256, 1, 8);
    if (std::string(model) == "deepseek-v3") r.plan.precision = {Dtype::kFp8, Dtype::kFp8, Dtype::kBf16};
    double previous = Run(d, Model(model), r).tpot_s;
    for (int64_t b = 2; b <= 512; b *= 2) {
      r.workload.batch = b;
      const double step = Run(d, Model(model), r).tpot_s;
      EXPECT_LE(step, 2 * previous * (1 + 1e-9)) << model << " batch " << b;
      EXPECT_GE(step, previous * (1 - 1e-9)) << model << " batch " << b;
      previous = step;
    }
  }
}

TEST_F(InferTest, H20DecodesAsFastAsH100ButPrefillsSeveralTimesSlower) {
  // Llama-3.1-70B in fp8 fits one device of each. From first principles: the
  // H20 has 4.0 vs 3.35 TB/s of HBM but 296 vs 1979 dense FP8 TFLOP/s.
  InferenceRequest r = Request(2048, 256, 1);
  r.plan.precision = {Dtype::kFp8, Dtype::kFp8, Dtype::kFp8};
  const InferenceEstimate h20 = Run(ClusterFor("h20"), Model("llama-3.1-70b"), r);
  const InferenceEstimate h100 = Run(ClusterFor("h100-sxm"), Model("llama-3.1-70b"), r);
  ASSERT_TRUE(h20.fits);
  ASSERT_TRUE(h100.fits);
  EXPECT_LE(h20.tpot_s, h100.tpot_s);
  EXPECT_GE(h20.ttft_s, 3 * h100.ttft_s);
  EXPECT_EQ(h20.prefill.bound, Bound::kCompute);
  EXPECT_EQ(h20.decode.bound, Bound::kMemory);
}

TEST_F(InferTest, MoeDecodeReadsOnlyTheExpertsThatGetTokens) {
  // Mixtral at batch 1 reads 2 of 8 experts per layer: far less than all weights.
  const Cluster d = ClusterFor("h100-sxm");
  const InferenceEstimate one = Run(d, Model("mixtral-8x7b"), Request(128, 128, 1));
  EXPECT_LT(one.decode.bytes, 0.45 * one.memory.weights);
  EXPECT_GT(one.decode.bytes, 0.20 * one.memory.weights);
  // A large batch touches every expert.
  const InferenceEstimate many = Run(d, Model("mixtral-8x7b"), Request(128, 128, 256));
  EXPECT_GT(many.decode.bytes, 0.9 * many.memory.weights);
}

TEST_F(InferTest, MlaCachesTheLatent) {
  // DeepSeek-V3: 576 values per token per layer, not sharded by TP.
  InferenceRequest r = Request(1000, 24, 1, 8);
  r.plan.precision = {Dtype::kFp8, Dtype::kFp8, Dtype::kBf16};
  const InferenceEstimate e = Run(ClusterFor("h200-sxm"), Model("deepseek-v3"), r);
  EXPECT_NEAR(e.memory.kv_cache, 1024.0 * 61 * 576 * 2, 1.0);
}

TEST_F(InferTest, BatchMaxPicksAFittingBatch) {
  InferenceRequest r = Request(2048, 512, 0, 8);
  r.workload.mode = BatchMode::kStaticMax;
  const InferenceEstimate e = Run(ClusterFor("h20"), Model("llama-3.1-70b"), r);
  EXPECT_TRUE(e.fits);
  EXPECT_GE(e.batch, 1);
  EXPECT_LE(e.batch, e.max_batch);
  r.workload.mode = BatchMode::kConcurrencyMax;
  const InferenceEstimate c = Run(ClusterFor("h20"), Model("llama-3.1-70b"), r);
  EXPECT_TRUE(c.fits);
  EXPECT_EQ(c.batch, c.max_batch);
  // One more request would not fit.
  r.workload.mode = BatchMode::kConcurrency;
  r.workload.batch = c.max_batch + 1;
  EXPECT_FALSE(Run(ClusterFor("h20"), Model("llama-3.1-70b"), r).fits);
  // The longest context that fits at batch 4: it fits, one token more does not.
  r = Request(1000, 0, 4, 8);
  r.workload.output_tokens = 1;
  const int64_t ctx = Run(ClusterFor("h20"), Model("llama-3.1-70b"), r).max_context_tokens;
  r.workload.input_tokens = ctx - 1;
  EXPECT_TRUE(Run(ClusterFor("h20"), Model("llama-3.1-70b"), r).fits);
  r.workload.input_tokens = ctx;
  EXPECT_FALSE(Run(ClusterFor("h20"), Model("llama-3.1-70b"), r).fits);
}

TEST_F(InferTest, ContinuousBatchingBeatsStaticThroughputForLongOutputs) {
  InferenceRequest r = Request(1000, 1000, 64, 1);
  const InferenceEstimate s = Run(ClusterFor("h100-sxm"), Model("llama-3.1-8b"), r);
  r.workload.mode = BatchMode::kConcurrency;
  const InferenceEstimate c = Run(ClusterFor("h100-sxm"), Model("llama-3.1-8b"), r);
  EXPECT_GT(c.output_tokens_per_s, s.output_tokens_per_s * 0.9);
  EXPECT_LT(c.ttft_s, s.ttft_s);  // no waiting for a whole batch's prefill
}

TEST_F(InferTest, ContinuousBatchingServesWhatTheTokenBudgetSustains) {
  // Each iteration decodes c tokens and prefills c / O new prompts of L tokens
  // within max_num_tokens (8192): c <= 8192 O / (O + L).
  InferenceRequest r = Request(2048, 128, 0);
  r.plan.precision = {Dtype::kFp8, Dtype::kFp8, Dtype::kFp8};
  r.workload.mode = BatchMode::kConcurrencyMax;
  const InferenceEstimate e = Run(ClusterFor("h200-sxm"), Model("llama-3.1-8b"), r);
  EXPECT_EQ(e.batch, 481);
  EXPECT_LT(e.batch, e.max_batch);  // memory would hold more
  // Asking for more in flight only queues them: same rate, longer latency (Little's law).
  r.workload.mode = BatchMode::kConcurrency;
  r.workload.batch = 2000;
  const InferenceEstimate q = Run(ClusterFor("h200-sxm"), Model("llama-3.1-8b"), r);
  EXPECT_NEAR(q.output_tokens_per_s, e.output_tokens_per_s, 1e-9 * e.output_tokens_per_s);
  EXPECT_NEAR(q.request_latency_s, 2000.0 * 128 / q.output_tokens_per_s, 1e-6 * q.request_latency_s);
  EXPECT_GT(q.ttft_s, e.ttft_s);
}

TEST_F(InferTest, ThroughputPerKilowattAndPerDollar) {
  // 400 W; priced at its latest purchase price in catalog/prices/ (the CMBI ASP of Jul 2025, USD 12,500).
  const Cluster d = ClusterFor("h20");
  EXPECT_DOUBLE_EQ(d.price_per_chip.si(), *catalog().FindMarketRecord("h20-asp-2025")->Get("usd"));
  const InferenceEstimate e = Run(d, Model("llama-3.1-8b"), Request(512, 128, 8, 2));
  EXPECT_NEAR(e.output_tokens_per_s_per_kw, e.output_tokens_per_s / (2 * 0.4), 1e-9 * e.output_tokens_per_s);
  EXPECT_NEAR(e.output_tokens_per_s_per_usd, e.output_tokens_per_s / (2 * 12500.0), 1e-12 * e.output_tokens_per_s);
  // A system with a node price prices each chip at its share.
  const Cluster node = ClusterFor("dgx-a100");
  EXPECT_NEAR(node.price_per_chip.si(), 199000.0 / 8, 1e-6);
  // Unknown power or price: zero, not a guess.
  Cluster unknown = d;
  unknown.device.board_power = Watts(0);
  unknown.price_per_chip = Usd(0);
  const InferenceEstimate u = Run(unknown, Model("llama-3.1-8b"), Request(512, 128, 8, 2));
  EXPECT_EQ(u.output_tokens_per_s_per_kw, 0);
  EXPECT_EQ(u.output_tokens_per_s_per_usd, 0);
}

TEST_F(InferTest, TooBigModelDoesNotFitAndSaysWhy) {
  const InferenceEstimate e = Run(ClusterFor("rtx-4090"), Model("llama-3.1-405b"), Request(128, 128, 1));
  EXPECT_FALSE(e.fits);
  EXPECT_EQ(e.reason, InfeasibleReason::kWeightsDoNotFit);
  EXPECT_EQ(e.max_batch, 0);
  EXPECT_FALSE(InfeasibleReasonText(e.reason).empty());
}

TEST_F(InferTest, Fp8WeightsOnAChipWithoutFp8AreDequantised) {
  InferenceRequest r = Request(512, 64, 1);
  r.plan.precision = {Dtype::kFp8, Dtype::kFp8, Dtype::kBf16};
  const InferenceEstimate e = Run(ClusterFor("a100-sxm-80gb"), Model("llama-3.1-8b"), r);
  EXPECT_EQ(e.compute_dtype, Dtype::kBf16);
  EXPECT_NE(e.warnings & (kWarnWeightsDequantized | kWarnActivationsFallback), 0u);
  EXPECT_FALSE(WarningTexts(e.warnings).empty());
  // ... and still read half the bytes of bf16 weights.
  r.plan.precision = {Dtype::kBf16, Dtype::kBf16, Dtype::kBf16};
  const InferenceEstimate bf16 = Run(ClusterFor("a100-sxm-80gb"), Model("llama-3.1-8b"), r);
  EXPECT_LT(e.memory.weights, 0.6 * bf16.memory.weights);
}

TEST_F(InferTest, TwoFourSparsityHalvesWeightsAndUsesSparseUnits) {
  InferenceRequest r = Request(2048, 128, 1);
  const InferenceEstimate dense = Run(ClusterFor("h100-sxm"), Model("llama-3.1-8b"), r);
  r.plan.precision.sparse_24 = true;
  const InferenceEstimate sparse = Run(ClusterFor("h100-sxm"), Model("llama-3.1-8b"), r);
  // Linear weights: 9 bits per original 16-bit value; embedding and LM head stay dense.
  EXPECT_LT(sparse.memory.weights, 0.70 * dense.memory.weights);
  EXPECT_GT(sparse.memory.weights, 0.55 * dense.memory.weights);
  EXPECT_LT(sparse.ttft_s, dense.ttft_s);  // compute-bound prefill runs on the sparse units
  EXPECT_LT(sparse.tpot_s, dense.tpot_s);  // memory-bound decode reads fewer bytes
  EXPECT_EQ(sparse.warnings & kWarnSparsityFallback, 0u);
  // A chip without sparse units: memory saved, dense rate, and a warning.
  const InferenceEstimate fallback = Run(ClusterFor("ascend-910b"), Model("llama-3.1-8b"), r);
  EXPECT_NE(fallback.warnings & kWarnSparsityFallback, 0u);
}

TEST_F(InferTest, ImpossiblePlansAreErrorsNamingTheField) {
  const Cluster d = ClusterFor("h100-sxm");
  auto key_of = [&](const ModelArch& m, const InferenceRequest& r) {
    auto e = EstimateInference(d, m, r);
    EXPECT_FALSE(e.has_value());
    return e.has_value() ? std::string() : e.error().diagnostics.front().key_path;
  };
  EXPECT_EQ(key_of(Model("llama-3.1-8b"), Request(0, 10, 1)), "input_tokens");
  EXPECT_EQ(key_of(Model("llama-3.1-8b"), Request(10, 0, 1)), "output_tokens");
  EXPECT_EQ(key_of(Model("llama-3.1-8b"), Request(10, 10, 0)), "batch");
  EXPECT_EQ(key_of(Model("llama-3.1-8b"), Request(10, 10, 1, 3)), "tp");  // 32 heads
  InferenceRequest r = Request(10, 10, 8);
  r.plan.ep = 2;
  EXPECT_EQ(key_of(Model("llama-3.1-8b"), r), "ep");  // dense model
  r.plan.ep = 3;
  EXPECT_EQ(key_of(Model("mixtral-8x7b"), r), "ep");  // 8 experts
  r = Request(10, 10, 1);
  r.plan.pp = 200;
  EXPECT_EQ(key_of(Model("llama-3.1-8b"), r), "pp");
  r = Request(10, 10, 1);
  r.plan.precision.weights = Dtype::kFp4;
  EXPECT_EQ(key_of(Model("llama-3.1-8b"), r), "weights");  // H100 has no fp4
  r.plan.precision.weights = Dtype::kFp32;
  EXPECT_EQ(key_of(Model("llama-3.1-8b"), r), "weights");
  r = Request(10, 10, 1);
  r.plan.tp = 0;
  EXPECT_EQ(key_of(Model("llama-3.1-8b"), r), "tp");  // errors name a field, never "parallelism"
  r = Request(10, 10, 1);
  r.plan.ep = 5000;
  EXPECT_EQ(key_of(Model("llama-3.1-8b"), r), "ep");
  r = Request(int64_t(1) << 33, 10, 1);
  EXPECT_EQ(key_of(Model("llama-3.1-8b"), r), "input_tokens");
}

TEST_F(InferTest, RandomPlansAreFiniteAndNonNegative) {
  std::mt19937 rng(12345);
  const char* chips[] = {"h100-sxm", "h20", "a100-sxm-80gb", "ascend-910b", "mi300x", "gb200", "mi250x", "l20"};
  const char* models[] = {"llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b", "deepseek-v3", "gpt-oss-120b",
                          "qwen3-30b-a3b", "gpt3-175b"};
  const Dtype dtypes[] = {Dtype::kBf16, Dtype::kFp16, Dtype::kFp8, Dtype::kInt8, Dtype::kInt4, Dtype::kFp4};
  const BatchMode modes[] = {BatchMode::kStatic, BatchMode::kStaticMax, BatchMode::kConcurrency,
                             BatchMode::kConcurrencyMax};
  auto pick = [&](int n) { return int(rng() % unsigned(n)); };
  int estimates = 0;
  for (int i = 0; i < 400; ++i) {
    const Cluster d = ClusterFor(chips[pick(8)]);
    const ModelArch& m = Model(models[pick(7)]);
    InferenceRequest r;
    r.stack = testing::DefaultServingStack();
    r.workload.input_tokens = 1 + pick(20000);
    r.workload.output_tokens = 1 + pick(4000);
    r.workload.batch = 1 + pick(1024);
    r.workload.mode = modes[pick(4)];
    r.plan.tp = 1 << pick(5);
    r.plan.pp = 1 + pick(4);
    r.plan.ep = 1 << pick(4);
    r.plan.precision = {dtypes[pick(6)], dtypes[pick(4)], dtypes[pick(3)]};
    auto e = EstimateInference(d, m, r);
    if (!e) {
      EXPECT_FALSE(e.error().diagnostics.empty());
      continue;
    }
    ++estimates;
    for (double v : {e->ttft_s, e->tpot_s, e->request_latency_s, e->output_tokens_per_s, e->input_tokens_per_s,
                     e->memory.total, e->memory.weights, e->memory.kv_cache, e->prefill.seconds, e->decode.seconds}) {
      EXPECT_TRUE(std::isfinite(v) && v >= 0) << "plan " << i;
    }
    for (double v : e->decode.by_class) EXPECT_TRUE(std::isfinite(v) && v >= 0);
    EXPECT_GE(e->max_batch, 0);
    EXPECT_GE(e->max_context_tokens, 0);
  }
  EXPECT_GT(estimates, 50);
}

TEST_F(InferTest, GemmSweepParsing) {
  std::vector<GemmPoint> pts;
  std::string error;
  ASSERT_TRUE(ParseGemmSweep("2048^3=0.5, 1024x1024x1024=0.1 ,4096x8192x1024=0.6", pts, error)) << error;
  ASSERT_EQ(pts.size(), 3u);
  EXPECT_DOUBLE_EQ(pts[0].flops, 2.0 * 1024 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(pts[0].efficiency, 0.1);
  for (const char* bad : {"2048^3=1.5", "2048^3", "2048x2048=0.5", "abc=0.5", "2048^3=0.5", "2048^3=x, 1^3=0.1"}) {
    EXPECT_FALSE(ParseGemmSweep(bad, pts, error)) << bad;
    EXPECT_FALSE(error.empty());
  }
}

TEST_F(InferTest, BadSweepInAProfileIsALoadErrorWithItsLine) {
  testing::TempDir dir;
  testing::WriteMinimalCatalog(dir);
  dir.Write("profiles/generic.yaml",
            "id: generic\nname: G\ntier: datasheet\n"
            "gemm:\n  efficiency: {value: 0.7, basis: estimated, source: SRC}\n"
            "  sweep: {value: '1024^3=2', basis: measured, source: SRC}\n"
            "attention:\n  efficiency: {value: 1.5, basis: estimated, source: SRC}\n");
  auto c = Catalog::Load(dir.path());
  ASSERT_FALSE(c.has_value());
  const std::string all = c.error().ToString();
  EXPECT_NE(all.find("generic.yaml:6"), std::string::npos) << all;
  EXPECT_NE(all.find("gemm.sweep"), std::string::npos) << all;
  EXPECT_NE(all.find("at most 1"), std::string::npos) << all;            // attention.efficiency 1.5
  EXPECT_NE(all.find("missing required field 'memory.efficiency'"), std::string::npos) << all;
}

TEST_F(InferTest, AChipWithoutPublishedComputeCannotBeEstimated) {
  // The MLU590 has no public compute or bandwidth figures: say so, never guess.
  auto d = MakeDevice(catalog(), *catalog().FindChip("mlu590"));
  ASSERT_FALSE(d.has_value());
  const std::string all = d.error().ToString();
  EXPECT_NE(all.find("memory.bandwidth"), std::string::npos) << all;
  EXPECT_NE(all.find("mlu590.yaml"), std::string::npos) << all;
}

TEST_F(InferTest, GroupedGemmTileOverheadScalesWithComputePerByte) {
  // The tile overhead measured on the H800 (micro-06) is an epilogue at memory
  // speed: chips of the same profile pay it in proportion to FP8 FLOP/s per byte/s.
  auto h100 = MakeDevice(catalog(), *catalog().FindChip("h100-sxm"));
  auto h20 = MakeDevice(catalog(), *catalog().FindChip("h20"));
  ASSERT_TRUE(h100 && h20);
  EXPECT_EQ(h20->profile_id, "nvidia-h20");  // extends nvidia-hopper, whose tile cost it inherits
  EXPECT_NEAR(h100->k_overhead8, 718, 1e-6);
  const double ratio = (Peak(*h20, Dtype::kFp8) / h20->memory_bandwidth.si()) /
                       (Peak(*h100, Dtype::kFp8) / h100->memory_bandwidth.si());
  EXPECT_NEAR(h20->k_overhead8, 718 * ratio, 1e-6);
  EXPECT_LT(h20->k_overhead8, 100);
}

TEST_F(InferTest, MissingFiguresAreReported) {
  testing::TempDir dir;
  testing::WriteMinimalCatalog(dir);
  auto c = Catalog::Load(dir.path());
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  // The minimal catalog has no profiles at all.
  auto d = MakeDevice(*c, *c->FindChip("base"));
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().ToString().find("no efficiency profile"), std::string::npos);
}

}  // namespace
}  // namespace suanli

namespace suanli {
namespace {

// Issue 12: continuous batching's TTFT is the whole prompt prefilled, chunk by
// chunk beside the decodes: never less than the prompt's FLOPs at peak.
TEST_F(InferTest, ConcurrentTtftNeverBeatsThePromptAtPeak) {
  for (const char* hw : {"hgx-h800", "hgx-h100", "hgx-h20"}) {
    const Cluster c = ClusterFor(hw);
    for (int64_t conc : {1, 64, 512}) {
      for (int64_t in : {512, 4096, 32768}) {
        InferenceRequest r = Request(in, 1536, conc, 8);
        r.workload.mode = BatchMode::kConcurrency;
        r.plan.precision = Precision{.weights = Dtype::kFp8, .activations = Dtype::kFp8};
        const InferenceEstimate e = Run(c, Model("llama-3.1-70b"), r);
        const double flops = 2 * CountParams(Model("llama-3.1-70b")).active * double(in);
        EXPECT_GE(e.ttft_s, flops / (8 * Peak(c.device, Dtype::kFp8))) << hw << " c " << conc << " in " << in;
      }
    }
  }
}

}  // namespace
}  // namespace suanli

namespace suanli {
namespace {

// Issue 12: EP dispatch and combine on DeepEP's measured curves (micro-22/23).
class DispatchCurveTest : public InferTest {
 protected:
  static IterationModel Make(const Cluster& c, int ep, bool tbo = false, double imbalance = 1) {
    InferencePlan plan{.tp = 1, .pp = 1, .ep = ep};
    plan.precision = Precision{.weights = Dtype::kFp8, .activations = Dtype::kFp8, .kv_cache = Dtype::kBf16};
    auto it = IterationModel::Make(c, Model("deepseek-v3"), plan,
                                   IterationStack{.expert_imbalance = imbalance, .two_batch_overlap = tbo, .deepep = true});
    EXPECT_TRUE(it.has_value()) << it.error().ToString();
    return std::move(*it);
  }
  static double MoeLayers() {
    double n = 0;
    for (const LayerGroup& g : Model("deepseek-v3").groups) n += g.is_moe() ? g.count : 0;
    return n;
  }
  static double A2a(const PhaseEstimate& e) { return e.by_class[static_cast<int>(OpClass::kAllToAll)]; }
};

TEST_F(DispatchCurveTest, NormalModeReproducesTheMeasuredBandwidthAtItsPoint) {
  // micro-22: EP8 in one H800 node, 4096 tokens per rank, hidden 7168, top-8,
  // FP8 dispatch 153 GB/s, BF16 combine 158 GB/s (bottleneck bandwidth).
  const Cluster c = ClusterFor("hgx-h800");
  const IterationModel it = Make(c, 8);
  EXPECT_EQ(it.warnings() & (kWarnDispatchLinkModel | kWarnDispatchCurveScaled), 0u);
  const PrefillChunk chunk{.sequences = 8, .offset = 0, .tokens = 4096, .completes = true};
  const PhaseEstimate e = it.Cost({.decode = {}, .prefill = {&chunk, 1}}, PipelineFill::kFillAndDrain);
  // Token copies over NVLink as DeepEP's test_intranode.py counts them for the
  // figure: every rank's received tokens, its own included (recv_x.numel()).
  const CountedCopies copies = DeepEpCountedCopies(Group{.ranks = 8, .stride = 1}, 8, 256, 8);
  const double received = 4096 * copies.ranks;
  const double expect = received * (7168 + 7168 / 128 * 4) / 153e9 + received * 7168 * 2 / 158e9;
  EXPECT_NEAR(A2a(e) / MoeLayers(), expect, 1e-9 * expect);
}

TEST_F(DispatchCurveTest, AscendA3CurvesArePerPackage) {
  // DeepEP-Ascend on the A3 SuperPOD: EP 16 dies = 8 packages, 4096 tokens
  // per die, INT8 dispatch 107 GB/s and BF16 combine 103 GB/s per die; per
  // package twice the tokens at twice the bandwidth (the profile's '8=214/206').
  const Cluster c = ClusterFor("cloudmatrix-384");
  const IterationModel it = Make(c, 8);
  const PrefillChunk chunk{.sequences = 8, .offset = 0, .tokens = 2 * 4096, .completes = true};
  const PhaseEstimate e = it.Cost({.decode = {}, .prefill = {&chunk, 1}}, PipelineFill::kFillAndDrain);
  const CountedCopies copies = DeepEpCountedCopies(Group{.ranks = 8, .stride = 1}, 384, 256, 8);
  const double received = 2 * 4096 * copies.ranks;
  const double expect = received * (7168 + 7168 / 128 * 4) / 214e9 + received * 7168 * 2 / 206e9;
  EXPECT_NEAR(A2a(e) / MoeLayers(), expect, 1e-9 * expect);
}

TEST_F(InferTest, ExpertParallelInsideTensorParallelSplitsTheExpertsNotTheirColumns) {
  // SGLang's EP without DP attention (communicator.py, SCATTERED MoE layers):
  // attention tp 4, experts split 4 ways whole. The same expert FLOPs as
  // experts split tensor-parallel, a dispatch and combine where there was
  // none, and one all-reduce's bytes (reduce-scatter + all-gather) per MoE
  // layer instead of two.
  const Cluster c = ClusterFor("gb200-nvl72");
  const ModelArch& m = Model("deepseek-v3");
  InferencePlan tp{.tp = 4, .pp = 1, .ep = 1};
  tp.precision = Precision{.weights = Dtype::kFp8, .activations = Dtype::kFp8, .kv_cache = Dtype::kBf16};
  InferencePlan ep = tp;
  ep.tp_ep = 4;
  const IterationStack a2a{.deepep = true};
  auto a = IterationModel::Make(c, m, tp, a2a);
  auto b = IterationModel::Make(c, m, ep, a2a);
  ASSERT_TRUE(a && b) << (a ? b.error().ToString() : a.error().ToString());
  const PrefillChunk chunk{.sequences = 4, .offset = 0, .tokens = 2000, .completes = true};
  const BatchComposition batch{.decode = {}, .prefill = {&chunk, 1}};
  const PhaseEstimate pa = a->Cost(batch, PipelineFill::kFillAndDrain), pb = b->Cost(batch, PipelineFill::kFillAndDrain);
  EXPECT_NEAR(pb.flops, pa.flops, 1e-6 * pa.flops);
  auto cls = [](const PhaseEstimate& p, OpClass k) { return p.by_class[static_cast<int>(k)]; };
  EXPECT_EQ(cls(pa, OpClass::kAllToAll), 0);
  EXPECT_GT(cls(pb, OpClass::kAllToAll), 0);
  EXPECT_LT(cls(pb, OpClass::kAllReduce), cls(pa, OpClass::kAllReduce));
  double moe = 0, dense = 0;
  for (const LayerGroup& g : m.groups) (g.is_moe() ? moe : dense) += g.count;
  // Per MoE layer the two all-reduces become two half-size ones: the bytes
  // term halves, the latencies stay.
  const double lat = c.device.collective_latency.si();
  const double ar_a = cls(pa, OpClass::kAllReduce), ar_b = cls(pb, OpClass::kAllReduce);
  const double per_layer_a = ar_a / (moe + dense);
  EXPECT_NEAR(ar_b, dense * per_layer_a + moe * (2 * lat + (per_layer_a - 2 * lat) / 2), 1e-9 + 1e-6 * ar_a);
  // Without an all-to-all backend (TensorRT-LLM, vLLM) every rank keeps all
  // the tokens: no dispatch, the all-reduces as before, the same FLOPs.
  auto u = IterationModel::Make(c, m, ep, IterationStack{});
  ASSERT_TRUE(u.has_value());
  const PhaseEstimate pu = u->Cost(batch, PipelineFill::kFillAndDrain);
  EXPECT_EQ(cls(pu, OpClass::kAllToAll), 0);
  EXPECT_NEAR(cls(pu, OpClass::kAllReduce), ar_a, 1e-9 * ar_a);
  EXPECT_NEAR(pu.flops, pa.flops, 1e-6 * pa.flops);
  // Bad plans name the field.
  InferencePlan bad = ep;
  bad.tp_ep = 3;
  auto e = IterationModel::Make(c, m, bad, a2a);
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().ToString().find("tp_ep"), std::string::npos);
  bad = ep;
  bad.ep = 2;
  EXPECT_FALSE(IterationModel::Make(c, m, bad, IterationStack{}).has_value());
  bad = ep;
  EXPECT_FALSE(IterationModel::Make(c, Model("llama-3.1-70b"), bad, IterationStack{}).has_value());
}

TEST_F(DispatchCurveTest, LowLatencyModeReproducesTheMeasuredLatencies) {
  // micro-23: 128 tokens per rank, top-8: dispatch 77 us / combine 114 us at
  // EP8, 155 / 273 at EP32 (one rank per GPU of four H800 nodes).
  const Cluster c = ClusterFor("hgx-h800");
  for (auto [ep, dispatch_us, combine_us] : {std::tuple{8, 77.0, 114.0}, std::tuple{32, 155.0, 273.0}}) {
    const IterationModel it = Make(c, ep);
    const DecodeBucket b{.sequences = 128.0 * ep, .context = 1000, .tokens = 1};
    const PhaseEstimate e = it.Cost({.decode = {&b, 1}, .prefill = {}}, PipelineFill::kSteady);
    EXPECT_NEAR(A2a(e) / MoeLayers() * 1e6, dispatch_us + combine_us, 0.02 * (dispatch_us + combine_us)) << ep;
  }
}

TEST_F(DispatchCurveTest, OtherLinksScaleTheCurveOrFallBackToTheLinkModel) {
  // H20: Hopper on 450 GB/s NVLink: the H800 curve scaled, and said so.
  EXPECT_NE(Make(ClusterFor("hgx-h20"), 8).warnings() & kWarnDispatchCurveScaled, 0u);
  EXPECT_EQ(Make(ClusterFor("hgx-h20"), 8).warnings() & kWarnDispatchLinkModel, 0u);
  // Measured on the A3 SuperPOD itself: neither warning.
  EXPECT_EQ(Make(ClusterFor("cloudmatrix-384"), 8).warnings() & (kWarnDispatchLinkModel | kWarnDispatchCurveScaled), 0u);
  // No measured curve for Blackwell: the link model, and said so.
  for (const char* hw : {"dgx-b200"}) {
    const IterationModel it = Make(ClusterFor(hw), 8);
    EXPECT_NE(it.warnings() & kWarnDispatchLinkModel, 0u) << hw;
    EXPECT_NE(WarningTexts(it.warnings()).find("link model"), std::string::npos);
  }
  // A stack that does not dispatch with DeepEP keeps the generic exchange (no curve, no warning).
  {
    InferencePlan plan{.tp = 1, .pp = 1, .ep = 8};
    plan.precision = Precision{.weights = Dtype::kFp8, .activations = Dtype::kFp8, .kv_cache = Dtype::kBf16};
    const Cluster h800 = ClusterFor("hgx-h800");
    auto own = IterationModel::Make(h800, Model("deepseek-v3"), plan, IterationStack{});
    ASSERT_TRUE(own.has_value());
    EXPECT_EQ(own->warnings() & (kWarnDispatchLinkModel | kWarnDispatchCurveScaled), 0u);
    const PrefillChunk chunk{.sequences = 8, .offset = 0, .tokens = 4096, .completes = true};
    const BatchComposition batch{.decode = {}, .prefill = {&chunk, 1}};
    EXPECT_NE(A2a(own->Cost(batch, PipelineFill::kFillAndDrain)), A2a(Make(h800, 8).Cost(batch, PipelineFill::kFillAndDrain)));
  }
  // Dense models and ep 1 carry no EP warning.
  EXPECT_EQ(Make(ClusterFor("dgx-b200"), 1).warnings() & kWarnDispatchLinkModel, 0u);
}

TEST_F(DispatchCurveTest, MoreTokensAndImbalanceNeverDispatchFaster) {
  const Cluster c = ClusterFor("hgx-h800");
  for (int ep : {8, 16, 64}) {
    double last = 0;
    for (double per_rank : {1.0, 16.0, 128.0, 512.0}) {
      const DecodeBucket b{.sequences = per_rank * ep, .context = 1000, .tokens = 1};
      const double t = A2a(Make(c, ep).Cost({.decode = {&b, 1}, .prefill = {}}, PipelineFill::kSteady));
      EXPECT_GE(t, last) << ep << " " << per_rank;
      EXPECT_GE(t, 2 * MoeLayers() * c.device.collective_latency.si() - 1e-12);  // the latency floor
      EXPECT_GT(A2a(Make(c, ep, false, 1.3).Cost({.decode = {&b, 1}, .prefill = {}}, PipelineFill::kSteady)), t - 1e-12);
      last = t;
    }
  }
}

TEST_F(DispatchCurveTest, TwoBatchOverlapHidesTheExchangeUnderCompute) {
  for (const char* hw : {"hgx-h800", "dgx-b200"}) {
    const Cluster c = ClusterFor(hw);
    for (int ep : {8, 32}) {
      for (double tokens : {64.0, 4096.0}) {
        const PrefillChunk chunk{.sequences = double(ep), .offset = 0, .tokens = tokens, .completes = true};
        const BatchComposition batch{.decode = {}, .prefill = {&chunk, 1}};
        const PhaseEstimate plain = Make(c, ep).Cost(batch, PipelineFill::kFillAndDrain);
        const PhaseEstimate tbo = Make(c, ep, true).Cost(batch, PipelineFill::kFillAndDrain);
        // The halves priced apart: the pair is 2 max(C', A) + fixed.
        const PrefillChunk half_chunk{.sequences = ep / 2.0, .offset = 0, .tokens = tokens, .completes = true};
        const PhaseEstimate half = Make(c, ep).Cost({.decode = {}, .prefill = {&half_chunk, 1}}, PipelineFill::kFillAndDrain);
        const double fixed = c.device.step_overhead.si();
        const double a = A2a(half), comp = half.seconds - a - fixed;
        const double expect = 2 * std::max(comp + c.device.overlap_slowdown * std::min(comp, a), a) + fixed;
        EXPECT_NEAR(tbo.seconds, expect, 1e-9 * expect) << hw << " ep " << ep << " tokens " << tokens;
        EXPECT_LE(tbo.seconds, 2 * (comp + a) + fixed + 1e-12);  // never worse than the halves in series
        EXPECT_GE(tbo.seconds, 2 * a + fixed - 1e-12);           // the exchange is not free
        double sum = 0;
        for (double v : tbo.by_class) sum += v;
        EXPECT_NEAR(sum, tbo.seconds, 1e-9 * tbo.seconds);
        EXPECT_NEAR(tbo.flops, plain.flops, 1e-6 * plain.flops);
      }
    }
  }
  // Without expert parallelism there is nothing to overlap.
  const Cluster c = ClusterFor("hgx-h800");
  const PrefillChunk chunk{.sequences = 1, .offset = 0, .tokens = 4096, .completes = true};
  EXPECT_DOUBLE_EQ(Make(c, 1, true).Cost({.decode = {}, .prefill = {&chunk, 1}}, PipelineFill::kFillAndDrain).seconds,
                   Make(c, 1).Cost({.decode = {}, .prefill = {&chunk, 1}}, PipelineFill::kFillAndDrain).seconds);
}

}  // namespace
}  // namespace suanli
