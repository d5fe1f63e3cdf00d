// Validation: error statistics, chip-name matching, case mapping and the
// development set's inference cases.
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/test_support.h"
#include "suanli/validation/validate.h"

namespace suanli {
namespace {

TEST(Summarize, MedianMeanP90AndBias) {
  const ErrorStats s = Summarize({0.10, -0.20, 0.05, 0.40, -0.01});
  EXPECT_EQ(s.count, 5);
  EXPECT_DOUBLE_EQ(s.median_ape, 0.10);
  EXPECT_NEAR(s.mean_ape, (0.10 + 0.20 + 0.05 + 0.40 + 0.01) / 5, 1e-12);
  EXPECT_DOUBLE_EQ(s.p90_ape, 0.40);  // nearest rank: ceil(0.9 * 5) = 5th
  EXPECT_DOUBLE_EQ(s.max_ape, 0.40);
  EXPECT_NEAR(s.bias, (0.10 - 0.20 + 0.05 + 0.40 - 0.01) / 5, 1e-12);
  EXPECT_DOUBLE_EQ(Summarize({0.1, 0.3}).median_ape, 0.2);
  EXPECT_EQ(Summarize({}).count, 0);
}

class ValidateTest : public ::testing::Test {
 protected:
  static const Catalog& catalog() { return testing::ShippedCatalog(); }
};

TEST_F(ValidateTest, ChipNamesAsReportsWriteThem) {
  auto id = [&](const char* name) {
    const Chip* c = MatchChipName(catalog(), name);
    return c ? c->id : std::string("none");
  };
  EXPECT_EQ(id("NVIDIA H100 SXM 80GB (DGX H100)"), "h100-sxm");
  EXPECT_EQ(id("NVIDIA H100-SXM-80GB"), "h100-sxm");
  EXPECT_EQ(id("NVIDIA H200 SXM 141GB (DGX H200)"), "h200-sxm");
  EXPECT_EQ(id("NVIDIA A100-SXM4-80GB"), "a100-sxm-80gb");
  EXPECT_EQ(id("h20"), "h20");
  EXPECT_EQ(id("Imaginary X9000"), "none");
  EXPECT_EQ(id("NVIDIA H100 80GB HBM3"), "h100-sxm");  // the longest name that starts it
  EXPECT_EQ(id("AMD Instinct MI300X"), "mi300x");
  EXPECT_EQ(id("NVIDIA H100 PCIe 80GB"), "h100-pcie");
  EXPECT_EQ(id("Huawei Ascend 910B (Atlas A2 series)"), "ascend-910b");
}

constexpr const char* kCases = R"(cases:
- id: static-8b
  group: g1
  kind: inference
  hardware: {chip: NVIDIA H100 SXM 80GB, count: 1}
  model: {name: Llama 3.1 8B, layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
  workload: {scenario: static batch, batch_or_concurrency: 8, input_len: 512, output_len: 64, precision: bf16, tp: 1}
  result: {tokens_per_s: 1000}
- id: offline-custom
  group: g2
  kind: inference
  hardware: {chip: NVIDIA H200 SXM 141GB, count: 2}
  model: {name: custom, layers: 4, hidden: 1024, heads: 8, kv_heads: 8, ffn: 4096, vocab: 32000}
  workload: {scenario: offline max-throughput, batch_or_concurrency: max, input_len: 128, output_len: 128, precision: FP8, tp: 1}
  result: {total_output_tokens_per_s: 50000}
- id: ttft
  group: g2
  kind: inference
  hardware: {chip: NVIDIA H100 SXM 80GB, count: 1}
  model: {name: Llama-3.1-8B}
  workload: {scenario: static batch, batch_or_concurrency: 1, input_len: 2048, output_len: 1, precision: bf16, tp: 1}
  result: {ttft_ms: 150}
- id: variable
  group: g1
  kind: inference
  hardware: {chip: NVIDIA H100 SXM 80GB}
  model: {name: x, layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
  workload: {scenario: offline, input_len: variable, output_len: variable}
  result: {tokens_per_s: 5}
- id: unknown-chip
  group: g1
  kind: inference
  hardware: {chip: Imaginary X9000}
  result: {tokens_per_s: 5}
- id: train
  group: g3
  kind: training
  result: {step_time_s: 1}
)";

TEST_F(ValidateTest, MapsWhatItCanAndListsTheRestWithReasons) {
  testing::TempDir dir;
  auto report = ValidateCases(catalog(), dir.Write("cases.yaml", kCases));
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  ASSERT_EQ(report->cases.size(), 3u);
  EXPECT_EQ(report->cases[2].metric, "ttft_ms");
  EXPECT_EQ(report->cases[2].model, "llama-3.1-8b");  // by name
  EXPECT_GT(report->cases[2].predicted, 10);           // milliseconds
  EXPECT_LT(report->cases[2].predicted, 1000);
  EXPECT_EQ(report->cases[0].model, "llama-3-8b");  // same shape as Llama 3 / 3.1 8B
  EXPECT_EQ(report->cases[0].hardware, "h100-sxm");
  EXPECT_EQ(report->cases[1].model, "case fields");
  EXPECT_GT(report->cases[0].predicted, 0);
  // Two replicas of a one-device plan count twice.
  EXPECT_NE(report->cases[1].setup.find("x 2 replicas"), std::string::npos) << report->cases[1].setup;
  ASSERT_EQ(report->unmapped.size(), 3u);
  EXPECT_NE(report->unmapped[0].reason.find("not fixed numbers"), std::string::npos);
  EXPECT_NE(report->unmapped[1].reason.find("Imaginary X9000"), std::string::npos);
  EXPECT_NE(report->unmapped[2].reason.find("no catalog chip"), std::string::npos);  // a training case without hardware
  EXPECT_EQ(report->overall.count, 3);
  EXPECT_EQ(report->groups.size(), 2u);
}

TEST_F(ValidateTest, StructuralErrorsNameFileLineAndKey) {
  testing::TempDir dir;
  auto bad = ValidateCases(catalog(), dir.Write("bad.yaml", "cases:\n- id: a\n- 3\n"));
  ASSERT_FALSE(bad.has_value());
  const std::string all = bad.error().ToString();
  EXPECT_NE(all.find("bad.yaml:2"), std::string::npos) << all;
  EXPECT_NE(all.find("cases[0].kind"), std::string::npos) << all;
  EXPECT_NE(all.find("cases[1]"), std::string::npos) << all;
  EXPECT_FALSE(ValidateCases(catalog(), dir.Write("x.yaml", "title: no cases\n")).has_value());
  EXPECT_FALSE(ValidateCases(catalog(), dir.path() + "/missing.yaml").has_value());
}

// The development set (../shared/validation): its absence fails the tier,
// naming the path, unless SUANLI_SKIP_VALIDATION=1 says to skip it on purpose.
#define SUANLI_REQUIRE_VALIDATION_DATA(path)                                                                    \
  do {                                                                                                          \
    if (!std::filesystem::exists(path)) {                                                                       \
      const char* skip = std::getenv("SUANLI_SKIP_VALIDATION");                                                 \
      if (skip != nullptr && std::string(skip) == "1") GTEST_SKIP() << "SUANLI_SKIP_VALIDATION=1: no " << path; \
      FAIL() << "the development set is missing: " << path                                                      \
             << " (check out ../shared beside the repository, or set SUANLI_SKIP_VALIDATION=1)";               \
    }                                                                                                           \
  } while (false)

std::string ValidationRoot() { return std::string(SUANLI_VALIDATION_DIR) + "/"; }

TEST_F(ValidateTest, DevelopmentSetInferenceAccuracy) {
  // The quality bar of the inference issue, on the shipped development set.
  const std::string dev = ValidationRoot() + "dev-cases.yaml";
  SUANLI_REQUIRE_VALIDATION_DATA(dev);
  auto report = ValidateCases(catalog(), dev);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  std::vector<double> errors;
  for (const CaseResult& c : report->cases) {
    if (c.kind == "inference") errors.push_back(c.signed_error);
  }
  const ErrorStats s = Summarize(errors);
  EXPECT_GE(s.count, 14);
  EXPECT_LE(s.median_ape, 0.10);
  EXPECT_LE(s.max_ape, 0.35);
}

TEST_F(ValidateTest, DevelopmentSetTrainingAccuracy) {
  const std::string root = ValidationRoot();
  SUANLI_REQUIRE_VALIDATION_DATA(root + "dev-cases.yaml");
  auto report = ValidateCases(catalog(), root + "dev-cases.yaml");
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  for (const char* group : {"korthikanti", "megatron-a100-weak", "nemo2407"}) {
    ASSERT_TRUE(report->groups.contains(group)) << group;
    EXPECT_LE(report->groups.at(group).median_ape, 0.10) << group;
  }
  EXPECT_LE(report->groups.at("korthikanti").max_ape, 0.35);
  EXPECT_LE(report->groups.at("megatron-a100-weak").max_ape, 0.35);
  EXPECT_LE(report->groups.at("nemo2407").max_ape, 0.35);
  EXPECT_LE(report->groups.at("korthikanti").mean_ape, 0.0365);  // what Calculon reaches hand-tuned
  // vTrain multi-node: error, ranking and plan choice.
  auto multi = ValidateCases(catalog(), root + "vtrain/ground_truth_multi.csv");
  ASSERT_TRUE(multi.has_value()) << multi.error().ToString();
  EXPECT_EQ(multi->cases.size(), 109u);
  EXPECT_LE(multi->groups.at("vtrain-multi").median_ape, 0.10);
  EXPECT_GE(multi->spearman.at("vtrain-multi"), 0.9);
  // Plan choice is reported, not held to 4 of 4: today 3 of the 4 settings
  // pick a plan within 5% of the measured best. The 18.4B one misses by 14%:
  // TP 1-4 runs with 16 or more data-parallel ranks on 64-256 GPUs measure
  // 5-20% slower than predicted (docs/training-model.md, "What misses").
  int good = 0;
  for (const PlanChoice& c : multi->plan_choices) good += c.right() ? 1 : 0;
  EXPECT_GE(good, 3);
  // The single node: the issue's bar on error and rank correlation. The
  // system's host dispatch figure comes from 48 of these 1,440 rows
  // (scripts/host-dispatch); the bar holds on the other 1,392 alone.
  auto single = ValidateCases(catalog(), root + "vtrain/ground_truth_single.csv");
  ASSERT_TRUE(single.has_value()) << single.error().ToString();
  EXPECT_LE(single->groups.at("vtrain-single").median_ape, 0.10);
  EXPECT_LE(single->groups.at("vtrain-single").max_ape, 0.35);
  EXPECT_GE(single->spearman.at("vtrain-single"), 0.9);
  std::vector<double> held_out;
  for (const CaseResult& c : single->cases) {
    const bool calibration = c.setup.starts_with("tp 1 pp 1 ") && c.setup.find(", mb 1,") != std::string::npos &&
                             c.model.starts_with("gpt h1024 ");
    if (!calibration) held_out.push_back(c.signed_error);
  }
  const ErrorStats rest = Summarize(held_out);
  EXPECT_EQ(rest.count, 1392);
  EXPECT_LE(rest.median_ape, 0.10);
  EXPECT_LE(rest.max_ape, 0.35);
}

TEST_F(ValidateTest, VtrainCsvErrorsNameLineAndColumn) {
  testing::TempDir dir;
  const std::string header =
      "# GPUs,global batch,micro batch,hidden size,attention heads,# layers,sequence length,tensor parallelism,"
      "data parallelism,pipeline parallelism,iteration time (ms)\n";
  auto bad = ValidateCases(catalog(), dir.Write("v.csv", header + "8,16,2,1024,16,24,1024,2,2,two,100\n"));
  ASSERT_FALSE(bad.has_value());
  const Diagnostic& d = bad.error().diagnostics.front();
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 10);
  EXPECT_EQ(d.key_path, "pipeline parallelism");
  auto missing = ValidateCases(catalog(), dir.Write("w.csv", "# GPUs,global batch\n8,16\n"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().ToString().find("micro batch"), std::string::npos);
  auto ok = ValidateCases(catalog(), dir.Write("x.csv", header + "8,16,2,1024,16,24,1024,2,2,2,100\n8,16,2,1024,16,24,1024,2,4,1,90\n"));
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_EQ(ok->cases.size(), 2u);
  EXPECT_EQ(ok->plan_choices.size(), 1u);
}

// A training case whose pp x vp divides neither its layers nor its layers
// with embedding and loss (DeepSeek-V3's 61 over 32 virtual stages), and that
// states no layout, runs on the most even Megatron-Core layout instead of
// being refused; the assumption says so.
TEST_F(ValidateTest, AnUnstatedUnevenPipelineTakesTheMostEvenLayout) {
  testing::TempDir dir;
  const char* kCase = R"(cases:
- id: dsv3-pp8-vp4
  group: g
  kind: training
  hardware: {chip: NVIDIA GB200, count: 256, nodes: 64, system: GB200 NVL72}
  model: {name: DeepSeek-V3}
  workload: {seq_len: 4096, global_batch: 2048, micro_batch: 1, tp: 1, pp: 8, vp: 4, ep: 32, etp: 1, cp: 1, precision: MXFP8}
  result: {tflops_per_gpu: 900}
)";
  auto report = ValidateCases(catalog(), dir.Write("cases.yaml", kCase));
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  ASSERT_EQ(report->cases.size(), 1u) << (report->unmapped.empty() ? "" : report->unmapped[0].reason);
  EXPECT_NE(report->cases[0].assumption.find("the most even Megatron-Core layout, 31 of 32 virtual stages"), std::string::npos)
      << report->cases[0].assumption;
  EXPECT_GT(report->cases[0].predicted, 0);
  // Where that layout's longer virtual stages fall unevenly on the middle
  // pipeline stages (28 layers + 2 over pp 4 x vp 2: six of eight chunks
  // longer, two on stage 1 and one on stage 2), the model has no such plan
  // and the case is refused with the layout's reason (a file that predicts
  // nothing is an error listing each case's reason).
  const char* kUneven = R"(cases:
- id: qwen-pp4-vp2
  group: g
  kind: training
  hardware: {chip: NVIDIA H100 SXM 80GB, count: 8, nodes: 1}
  model: {name: Qwen2.5-7B}
  workload: {seq_len: 4096, global_batch: 16, micro_batch: 1, tp: 1, pp: 4, vp: 2, dp: 2, cp: 1, precision: BF16}
  result: {tflops_per_gpu: 300}
)";
  auto uneven = ValidateCases(catalog(), dir.Write("uneven.yaml", kUneven));
  ASSERT_FALSE(uneven.has_value());
  const std::string why = uneven.error().ToString();
  EXPECT_NE(why.find("qwen-pp4-vp2: the plan cannot run: pp_layout"), std::string::npos) << why;
  EXPECT_NE(why.find("middle stages hold different layer counts"), std::string::npos) << why;
}

// A case without a device count runs on one 8-chip node, or on the fewest
// nodes (doubling) on which a plan fits, and says which; a stated count is
// never changed (a model too large for it is unmapped, with the reason).
TEST_F(ValidateTest, AnUnstatedDeviceCountGrowsByNodesUntilAPlanFits) {
  testing::TempDir dir;
  const char* kUnstated = R"(cases:
- id: small
  group: g
  kind: training
  hardware: {chip: NVIDIA H100 SXM 80GB}
  model: {name: Llama-2-7B}
  workload: {seq_len: 4096, precision: BF16}
  result: {tokens_per_s_per_gpu: 3000}
- id: large
  group: g
  kind: training
  hardware: {chip: NVIDIA H100 SXM 80GB}
  model: {name: Llama-3.1-405B}
  workload: {seq_len: 4096, precision: BF16}
  result: {tokens_per_s_per_gpu: 300}
- id: large-stated
  group: g
  kind: training
  hardware: {chip: NVIDIA H100 SXM 80GB, count: 8}
  model: {name: Llama-3.1-405B}
  workload: {seq_len: 4096, precision: BF16}
  result: {tokens_per_s_per_gpu: 300}
)";
  auto report = ValidateCases(catalog(), dir.Write("cases.yaml", kUnstated));
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  ASSERT_EQ(report->cases.size(), 2u);
  auto find = [&](std::string_view id) {
    for (const CaseResult& k : report->cases) {
      if (k.id == id) return &k;
    }
    return static_cast<const CaseResult*>(nullptr);
  };
  ASSERT_NE(find("small"), nullptr);
  EXPECT_NE(find("small")->assumption.find("device count not stated: one 8-chip node"), std::string::npos);
  ASSERT_NE(find("large"), nullptr);
  const std::string& a = find("large")->assumption;
  EXPECT_EQ(a.find("one 8-chip node"), std::string::npos) << a;
  EXPECT_NE(a.find("nodes of 8 chips, the fewest (doubling from one) on which a plan fits"), std::string::npos) << a;
  EXPECT_GT(find("large")->predicted, 0);
  ASSERT_EQ(report->unmapped.size(), 1u);
  EXPECT_EQ(report->unmapped[0].id, "large-stated");
  EXPECT_NE(report->unmapped[0].reason.find("no plan fits in memory on 8 devices"), std::string::npos)
      << report->unmapped[0].reason;
}

}  // namespace
}  // namespace suanli
