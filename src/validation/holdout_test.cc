// Held out by group: which figures a group's cases informed, and the
// prediction without them (docs/validation.md).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_support.h"
#include "suanli/api/commands.h"
#include "suanli/validation/validate.h"
#include "validation/holdout.h"

namespace suanli {
namespace {

bool Names(const std::vector<DocumentRef>& docs, const std::string& document) {
  for (const auto& d : docs) {
    if (d.document == document) return true;
  }
  return false;
}

TEST(DocumentsIn, ReadsTheFormsCasesAndSourcesWrite) {
  // A case's source and a catalog locator naming the same file, written differently.
  auto a = DocumentsIn("Azure/AI-benchmarking-guide:Azure_Results/ND_A100_v4_results.md @ 8fd0c6e (TensorRT-LLM environment)");
  auto b = DocumentsIn("Azure/AI-benchmarking-guide, Azure_Results/ND_A100_v4_results.md (dev case micro-08)");
  ASSERT_EQ(a.size(), 1U);
  ASSERT_EQ(b.size(), 1U);
  EXPECT_EQ(a[0].document, "github:azure/ai-benchmarking-guide/azure_results/nd_a100_v4_results.md");
  std::string why;
  EXPECT_TRUE(SameSource(a[0], b[0], HoldoutMatch::kDocument, why));
  EXPECT_NE(why.find("same document"), std::string::npos);
  // A locator that abbreviates the file's folders names the same file.
  auto short_form = DocumentsIn("Azure/AI-benchmarking-guide, ND_A100_v4_results.md (dev case micro-08)");
  ASSERT_EQ(short_form.size(), 1U);
  EXPECT_TRUE(SameSource(a[0], short_form[0], HoldoutMatch::kDocument, why));
  EXPECT_FALSE(SameSource(a[0], DocumentsIn("Azure/AI-benchmarking-guide, ND_H100_v5_results.md")[0], HoldoutMatch::kDocument, why));
  // A GitHub URL with a commit, and the repo:path form.
  auto url = DocumentsIn("https://github.com/NVIDIA/TensorRT-LLM/blob/1d263f15/docs/source/blogs/tech_blog/blog4_Scaling.md");
  ASSERT_EQ(url.size(), 1U);
  EXPECT_EQ(url[0].venue, "github:nvidia/tensorrt-llm");
  EXPECT_EQ(url[0].document, "github:nvidia/tensorrt-llm/docs/source/blogs/tech_blog/blog4_scaling.md");
  auto blog1 = DocumentsIn("NVIDIA/TensorRT-LLM:docs/source/blogs/tech_blog/blog1_Pushing.md @ 01c4ece");
  ASSERT_EQ(blog1.size(), 1U);
  // Two blogs of one repository: different documents, the same repository.
  EXPECT_FALSE(SameSource(url[0], blog1[0], HoldoutMatch::kDocument, why));
  EXPECT_TRUE(SameSource(url[0], blog1[0], HoldoutMatch::kRepository, why));
  // arXiv ids in their three spellings are one paper.
  auto p1 = DocumentsIn("Liu et al. 2025 (arXiv 2504.14960v2) abstract, arxiv.org/html/2504.14960v2");
  auto p2 = DocumentsIn("arXiv:2504.14960");
  ASSERT_EQ(p1.size(), 1U);
  ASSERT_EQ(p2.size(), 1U);
  EXPECT_EQ(p1[0].document, "arxiv:2504.14960");
  EXPECT_TRUE(SameSource(p1[0], p2[0], HoldoutMatch::kDocument, why));
  // Other URLs: the page is the document, the host the site.
  auto page = DocumentsIn("https://docs.sglang.ai/advanced_features/server_arguments.html");
  ASSERT_EQ(page.size(), 1U);
  EXPECT_EQ(page[0].document, "url:docs.sglang.ai/advanced_features/server_arguments.html");
  EXPECT_EQ(page[0].venue, "url:docs.sglang.ai");
  // A bare path matches the repository path that ends in it; a bare README does not.
  auto bare = DocumentsIn("SGLang docs 'Best Practice on Ascend NPU' (docs/platforms/ascend_npu_best_practice.md)");
  EXPECT_TRUE(Names(bare, "docs/platforms/ascend_npu_best_practice.md"));
  auto full = DocumentsIn("sgl-project/sglang:docs/platforms/ascend_npu_best_practice.md");
  ASSERT_EQ(full.size(), 1U);
  EXPECT_TRUE(SameSource(bare.back(), full[0], HoldoutMatch::kDocument, why));
  // "owner/repo @ SHA: path", as MLPerf results are cited.
  auto mlperf = DocumentsIn("mlcommons/inference_results_v4.1 @ a2f5d66d17e8f75c02fd74dfe810ecca6a046696: closed/NVIDIA/results/x/mlperf_log_summary.txt");
  ASSERT_EQ(mlperf.size(), 1U);
  EXPECT_EQ(mlperf[0].document, "github:mlcommons/inference_results_v4.1/closed/nvidia/results/x/mlperf_log_summary.txt");
  // A source line of a megabyte is read only so far, without trouble.
  const std::string huge = "org/repo:" + std::string(1 << 20, 'a') + ".md";
  EXPECT_TRUE(DocumentsIn(huge).size() <= 1U);
  EXPECT_FALSE(DocumentsIn(std::string(1 << 20, '/')).size() > 0U);
  // Text that names no publication.
  EXPECT_TRUE(DocumentsIn("same docs page ('DeepSeek R1 High Performance 50ms 2')").empty());
  EXPECT_TRUE(DocumentsIn("TP8/DP8 attention, 1.92/2.58 acceptance").empty());
}

TEST(WithoutFigures, FallsBackToTheParentThenGenericThenTheDefaultStack) {
  const Catalog& shipped = testing::ShippedCatalog();
  // Drop every figure measured in the H200's own Azure runs and the H100's.
  auto drop = [](const Figure& f) {
    for (const auto& s : f.sources) {
      if (s == "micro-17" || s == "micro-16" || s == "TRTLLM_WIDE_EP_BLOG") return true;
    }
    return false;
  };
  std::vector<Catalog::FigureReplacement> replaced;
  const Catalog held = shipped.WithoutFigures(drop, &replaced);
  const Profile* h200 = held.FindProfile("nvidia-h200");
  const Profile* hopper = held.FindProfile("nvidia-hopper");
  const Profile* generic = held.FindProfile("generic");
  ASSERT_TRUE(h200 && hopper && generic);
  // The H200's attention figure (micro-17) falls to the Hopper profile's, which
  // is dropped too (micro-16), so to generic's.
  EXPECT_EQ(h200->Get("attention.efficiency"), generic->Get("attention.efficiency"));
  EXPECT_EQ(hopper->Get("attention.efficiency"), generic->Get("attention.efficiency"));
  EXPECT_NE(shipped.FindProfile("nvidia-h200")->Get("attention.efficiency"), h200->Get("attention.efficiency"));
  // A figure no source dropped is unchanged.
  EXPECT_EQ(h200->Get("memory.efficiency"), shipped.FindProfile("nvidia-h200")->Get("memory.efficiency"));
  // Stacks: sglang's EPLB figure falls to the default serving stack's, which
  // is dropped too, so it is removed (the model's built-in default applies).
  EXPECT_FALSE(held.FindStack("sglang")->Get("moe.expert_imbalance_eplb").has_value());
  EXPECT_FALSE(held.FindStack("trtllm")->Get("moe.expert_imbalance_eplb").has_value());
  EXPECT_TRUE(shipped.FindStack("trtllm")->Get("moe.expert_imbalance_eplb").has_value());
  bool listed = false;
  for (const auto& r : replaced) {
    if (r.record == "profile nvidia-h200" && r.key == "attention.efficiency") {
      listed = true;
      EXPECT_EQ(r.from, "profile generic");
      ASSERT_TRUE(r.now.has_value());
    }
    if (r.record == "stack sglang" && r.key == "moe.expert_imbalance_eplb") {
      EXPECT_EQ(r.from, "none");
      EXPECT_FALSE(r.now.has_value());
    }
  }
  EXPECT_TRUE(listed);
  // Nothing dropped: nothing replaced, the same figures.
  std::vector<Catalog::FigureReplacement> none;
  const Catalog same = shipped.WithoutFigures([](const Figure&) { return false; }, &none);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(same.FindProfile("nvidia-h200")->Get("attention.efficiency"),
            shipped.FindProfile("nvidia-h200")->Get("attention.efficiency"));
}

// Two groups of one case each on an H100: g-azure cites the Azure H100 page
// the Hopper profile's GEMM, HBM, attention and NCCL figures come from;
// g-other cites a document no figure comes from.
constexpr const char* kHoldoutCases = R"(cases:
- id: azure-h100-static
  group: g-azure
  kind: inference
  hardware: {chip: NVIDIA H100 SXM 80GB, count: 1}
  model: {name: Llama 3.1 8B, layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
  workload: {scenario: static batch, batch_or_concurrency: 8, input_len: 2048, output_len: 256, precision: bf16, tp: 1}
  result: {tokens_per_s: 1000}
  source: Azure/AI-benchmarking-guide:Azure_Results/ND_H100_v5_results.md @ 8fd0c6e1bd0f853ef8f0500a3640a7d80a2a92ef
- id: other-h100-static
  group: g-other
  kind: inference
  hardware: {chip: NVIDIA H100 SXM 80GB, count: 1}
  model: {name: Llama 3.1 8B, layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
  workload: {scenario: static batch, batch_or_concurrency: 8, input_len: 2048, output_len: 256, precision: bf16, tp: 1}
  result: {tokens_per_s: 1000}
  source: example-org/benchmarks:results/h100.md
)";

const GroupHoldout* Find(const ValidationReport& r, const std::string& g) {
  for (const auto& h : r.holdout) {
    if (h.group == g) return &h;
  }
  return nullptr;
}

TEST(Holdout, AGroupSharingASourceIsPredictedWithoutItsFigures) {
  testing::TempDir dir;
  auto report = ValidateCases(testing::ShippedCatalog(), dir.Write("cases.yaml", kHoldoutCases),
                              ValidateOptions{.holdout_by_group = true, .match = HoldoutMatch::kDocument});
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  ASSERT_TRUE(report->holdout_run);
  const GroupHoldout* azure = Find(*report, "g-azure");
  const GroupHoldout* other = Find(*report, "g-other");
  ASSERT_TRUE(azure && other);
  // Informed: the Hopper figures from micro-01/09/16/19 (that page) are removed and listed with why.
  ASSERT_FALSE(azure->removed.empty());
  bool memory = false;
  for (const auto& f : azure->removed) {
    EXPECT_NE(f.why.find("same document"), std::string::npos) << f.why;
    if (f.record == "profile nvidia-hopper" && f.key == "memory.efficiency") {
      memory = true;
      EXPECT_EQ(f.fallback, "profile generic");
    }
  }
  EXPECT_TRUE(memory);
  EXPECT_EQ(azure->held_out.count, 1);
  EXPECT_NE(azure->held_out.median_ape, azure->in_sample.median_ape);
  // Not informed: held out equals in sample, nothing removed.
  EXPECT_TRUE(other->removed.empty());
  EXPECT_EQ(other->held_out.count, 1);
  EXPECT_DOUBLE_EQ(other->held_out.median_ape, other->in_sample.median_ape);
  // The in-sample run itself is unchanged by the option.
  auto plain = ValidateCases(testing::ShippedCatalog(), dir.path() + "/cases.yaml");
  ASSERT_TRUE(plain.has_value());
  EXPECT_DOUBLE_EQ(plain->groups.at("g-azure").median_ape, report->groups.at("g-azure").median_ape);
  EXPECT_FALSE(plain->holdout_run);
}

TEST(Holdout, NoSharedSourceMeansHeldOutEqualsInSample) {
  testing::TempDir dir;
  std::string text = kHoldoutCases;
  text.replace(text.find("Azure/AI-benchmarking-guide:Azure_Results/ND_H100_v5_results.md"),
               std::string("Azure/AI-benchmarking-guide:Azure_Results/ND_H100_v5_results.md").size(),
               "example-org/elsewhere:notes.md");
  auto report = ValidateCases(testing::ShippedCatalog(), dir.Write("cases.yaml", text),
                              ValidateOptions{.holdout_by_group = true, .match = HoldoutMatch::kRepository});
  ASSERT_TRUE(report.has_value());
  for (const auto& h : report->holdout) {
    EXPECT_TRUE(h.removed.empty()) << h.group;
    EXPECT_DOUBLE_EQ(h.held_out.median_ape, h.in_sample.median_ape);
  }
}

// A synthetic catalog: the shipped one with one figure saying it was checked
// against a group, and one source that names a case of another group.
TEST(Holdout, CheckedAgainstAndCaseIdsInASourceInformTheirGroups) {
  testing::TempDir dir;
  namespace fs = std::filesystem;
  fs::copy(testing::CatalogDir(), dir.path() + "/catalog", fs::copy_options::recursive);
  auto edit = [&](const std::string& file, const std::string& from, const std::string& to) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    const auto at = s.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    std::ofstream(file) << s;
  };
  edit(dir.path() + "/catalog/profiles/nvidia-hopper.yaml", "source: [micro-09],",
       "source: [micro-09], checked_against: [g-other],");
  auto catalog = Catalog::Load(dir.path() + "/catalog");
  ASSERT_TRUE(catalog.has_value()) << catalog.error().ToString();
  std::string text = kHoldoutCases;
  text.replace(text.find("Azure/AI-benchmarking-guide:Azure_Results/ND_H100_v5_results.md"),
               std::string("Azure/AI-benchmarking-guide:Azure_Results/ND_H100_v5_results.md").size(), "unrelated.org");
  auto report = ValidateCases(*catalog, dir.Write("cases.yaml", text), ValidateOptions{.holdout_by_group = true});
  ASSERT_TRUE(report.has_value());
  const GroupHoldout* other = Find(*report, "g-other");
  ASSERT_TRUE(other != nullptr);
  // The Hopper figure, and the same figure as every profile extending Hopper
  // (the H20's) inherits it.
  ASSERT_FALSE(other->removed.empty());
  bool hopper = false;
  for (const auto& r : other->removed) {
    EXPECT_EQ(r.key, "memory.efficiency") << r.record;
    EXPECT_NE(r.why.find("checked_against"), std::string::npos) << r.record;
    hopper = hopper || r.record == "profile nvidia-hopper";
  }
  EXPECT_TRUE(hopper);
  EXPECT_NE(other->held_out.median_ape, other->in_sample.median_ape);
  EXPECT_TRUE(Find(*report, "g-azure")->removed.empty());
  // A group holding a case whose id a source record names (micro-01's locator
  // says "dev case micro-01-nvidia-h100-80gb-hbm3-cublaslt-gemm") informed that source's figures.
  std::string named = text;
  named.replace(named.find("id: other-h100-static\n  group: g-other"), std::string("id: other-h100-static\n  group: g-other").size(),
                "id: micro-01-nvidia-h100-80gb-hbm3-cublaslt-gemm\n  group: g-named");
  auto by_id = ValidateCases(*catalog, dir.Write("named.yaml", named), ValidateOptions{.holdout_by_group = true});
  ASSERT_TRUE(by_id.has_value()) << by_id.error().ToString();
  const GroupHoldout* g = Find(*by_id, "g-named");
  ASSERT_TRUE(g != nullptr);
  bool gemm = false;
  for (const auto& f : g->removed) {
    if (f.record == "profile nvidia-hopper" && f.key == "gemm.efficiency_fp8") {
      gemm = true;
      EXPECT_NE(f.why.find("names case micro-01-nvidia-h100-80gb-hbm3-cublaslt-gemm"), std::string::npos) << f.why;
    }
  }
  EXPECT_TRUE(gemm);
  // A bad checked_against is an error naming file, line and key.
  edit(dir.path() + "/catalog/profiles/nvidia-hopper.yaml", "checked_against: [g-other]", "checked_against: g-other");
  auto bad = Catalog::Load(dir.path() + "/catalog");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().ToString().find("memory.efficiency.checked_against"), std::string::npos) << bad.error().ToString();
}

TEST(Holdout, TheMatchOptionNeedsHoldoutBy) {
  Args a;
  a.Set("file", "x.yaml");
  a.Set("holdout_match", "repository");
  auto o = DecodeValidate(a);
  ASSERT_FALSE(o.has_value());
  EXPECT_NE(o.error().ToString().find("--holdout-match"), std::string::npos);
  a.Set("holdout_by", "group");
  o = DecodeValidate(a);
  ASSERT_TRUE(o.has_value());
  EXPECT_TRUE(o->holdout_by_group);
  EXPECT_EQ(o->match, HoldoutMatch::kRepository);
  Args b;
  b.Set("file", "x.yaml");
  b.Set("holdout_by", "case");
  EXPECT_FALSE(DecodeValidate(b).has_value());
}

}  // namespace
}  // namespace suanli
