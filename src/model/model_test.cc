// Parameter counts and KV-cache sizes against published figures.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "model/model_import.h"
#include "support/test_support.h"
#include "suanli/catalog/catalog.h"

namespace suanli {
namespace {

ModelArch FromFixture(const std::string& name) {
  auto node = ParseFile(testing::TestDataDir() + "/hf/" + name + ".json");
  EXPECT_TRUE(node.has_value()) << node.error().ToString();
  auto arch = ImportHfConfig(*node, "");
  EXPECT_TRUE(arch.has_value()) << arch.error().ToString();
  return arch.has_value() ? *arch : ModelArch{};
}

Result<ModelArch> FromText(const std::string& json) {
  auto node = ParseJson(json, "config.json");
  if (!node) return std::move(node).error();
  return ImportHfConfig(*node, "");
}

TEST(ModelImport, Llama31_70B) {
  // Hugging Face safetensors total: 70,553,706,496 parameters.
  const ModelArch m = FromFixture("llama-3.1-70b");
  const ParamCount p = CountParams(m);
  EXPECT_NEAR(p.total, 70'553'706'496.0, 1e6);
  EXPECT_DOUBLE_EQ(p.active, p.total);
  // GQA: 80 layers x 2 (K, V) x 8 kv heads x 128 = 163,840 values per token.
  EXPECT_DOUBLE_EQ(KvValuesPerToken(m, 1), 163'840.0);
  EXPECT_DOUBLE_EQ(KvValuesForContext(m, 1000), 163'840.0 * 1000);
}

TEST(ModelImport, Mixtral8x7B) {
  // Mistral AI: 46.7B total, 12.9B active per token.
  const ParamCount p = CountParams(FromFixture("mixtral-8x7b"));
  EXPECT_NEAR(p.total / 1e9, 46.7, 0.05);
  EXPECT_NEAR(p.active / 1e9, 12.9, 0.05);
}

TEST(ModelImport, DeepSeekV3Mla) {
  // DeepSeek-V3 report: 671B total, 37B activated; MTP module (14B) apart.
  const ModelArch m = FromFixture("deepseek-v3");
  const ParamCount p = CountParams(m);
  EXPECT_NEAR(p.total / 1e9, 671.0, 0.5);
  EXPECT_NEAR(p.active / 1e9, 37.0, 0.6);
  EXPECT_NEAR(p.mtp / 1e9, 11.5, 3.0);
  EXPECT_EQ(m.mtp_layers, 1);
  // MLA caches kv_lora_rank (512) + rope key (64) = 576 values per token per layer.
  ASSERT_EQ(m.groups.size(), 2u);  // 3 dense + 58 MoE layers
  EXPECT_EQ(m.groups[0].count, 3);
  EXPECT_EQ(m.groups[1].count, 58);
  EXPECT_EQ(m.groups[1].moe.shared_experts, 1);
  EXPECT_DOUBLE_EQ(KvValuesPerToken(m, 1), 576.0 * 61);
}

TEST(ModelImport, Gpt3_175BFromCatalog) {
  auto catalog = Catalog::Load(testing::CatalogDir());
  ASSERT_TRUE(catalog.has_value()) << catalog.error().ToString();
  const ModelEntry* m = catalog->FindModel("gpt3-175b");
  ASSERT_NE(m, nullptr);
  EXPECT_NEAR(CountParams(m->arch).total / 1e9, 175.0, 1.0);  // Brown et al. 2020, Table 2.1
  EXPECT_EQ(m->arch.norm, NormKind::kLayerNorm);
  EXPECT_DOUBLE_EQ(KvValuesPerToken(m->arch, 1), 2.0 * 96 * 12288);
}

TEST(ModelImport, CatalogModelsMatchTheirPublishedCounts) {
  auto catalog = Catalog::Load(testing::CatalogDir());
  ASSERT_TRUE(catalog.has_value());
  // Sizes published only as the name's round number ("8B", "22B"); their
  // entries say so and give the computed count in the note.
  const std::set<std::string> nominal = {"nemotron-3-8b", "nemotron-3-22b"};
  int totals = 0;
  int actives = 0;
  for (const auto& m : catalog->models()) {
    const ParamCount p = CountParams(m.arch);
    if (auto v = FigureValue(m.published, "published.total_params"); v && !nominal.contains(m.id)) {
      EXPECT_NEAR(p.total / *v, 1.0, 0.03) << m.id;
      ++totals;
    }
    if (auto v = FigureValue(m.published, "published.active_params")) {
      // Model cards count active parameters with the embedding and head, without
      // the input embedding (a lookup), or without both; one of them must match.
      const double conventions[] = {p.active, p.active - p.embedding, p.active - p.embedding - p.lm_head};
      double nearest = 1e300;
      for (double c : conventions) nearest = std::min(nearest, std::abs(c / *v - 1.0));
      EXPECT_LT(nearest, 0.03) << m.id << ": " << p.active << " active";
      ++actives;
    }
  }
  // Most entries state their published counts; a lookup that finds none checks nothing.
  EXPECT_GE(totals, 30);
  EXPECT_GE(actives, 8);
}

TEST(ModelImport, SlidingWindowsAndHeadDim) {
  const ModelArch mistral = FromFixture("mistral-7b-v0.1");
  ASSERT_EQ(mistral.groups.size(), 1u);
  EXPECT_EQ(mistral.groups[0].attention.window, 4096);
  EXPECT_DOUBLE_EQ(KvValuesForContext(mistral, 10000), KvValuesForContext(mistral, 4096));
  const ModelArch oss = FromFixture("gpt-oss-120b");
  int sliding = 0;
  for (const auto& g : oss.groups) sliding += g.attention.window > 0 ? g.count : 0;
  EXPECT_EQ(sliding, 18);  // alternating sliding / full layers
  EXPECT_EQ(oss.groups[0].attention.head_dim, 64);  // head_dim given, != 2880 / 64
  EXPECT_NEAR(CountParams(oss).total / 1e9, 116.8, 0.3);
}

TEST(ModelSummary, CountsExpertsWindowsAndKvBytes) {
  const ModelArch oss = FromFixture("gpt-oss-120b");
  const ModelSummary s = SummarizeModel(oss);
  EXPECT_EQ(s.experts, 128);
  EXPECT_EQ(s.top_k, 4);
  EXPECT_EQ(s.widest_window, 128);
  EXPECT_DOUBLE_EQ(s.params.total, CountParams(oss).total);
  // 36 layers of 8 kv heads x (64 + 64) values; half of them stop growing past the window.
  EXPECT_DOUBLE_EQ(s.kv_values_per_token, 36 * 8 * 128);
  EXPECT_DOUBLE_EQ(s.kv_values_per_token_windows_full, 18 * 8 * 128);
  EXPECT_DOUBLE_EQ(s.kv_bytes_per_token_bf16, 2 * s.kv_values_per_token);
  const ModelSummary dense = SummarizeModel(FromFixture("mistral-7b-v0.1"));
  EXPECT_EQ(dense.experts, 0);
  EXPECT_EQ(dense.widest_window, 4096);
}

TEST(ModelImport, OtherFamilies) {
  EXPECT_NEAR(CountParams(FromFixture("qwen3-30b-a3b")).total / 1e9, 30.5, 0.2);
  EXPECT_NEAR(CountParams(FromFixture("qwen2-57b-a14b")).total / 1e9, 57.4, 0.3);
  EXPECT_NEAR(CountParams(FromFixture("gpt-neox-20b")).total / 1e9, 20.55, 0.1);
  EXPECT_NEAR(CountParams(FromFixture("gpt2")).total / 1e6, 124.4, 0.2);  // GPT-2 small: 124M
  const ModelArch custom = FromFixture("transformer-custom");
  EXPECT_FALSE(custom.groups[0].mlp.gated);
  EXPECT_EQ(custom.layers, 24);
}

// The families users bring (issue 11). Totals are pinned to the published
// counts (model cards and technical reports, as the catalog entries cite).
TEST(ModelImport, Gemma2AlternatesSlidingAndGlobalLayers) {
  // Gemma 2 report (arXiv 2408.00118) Table 2, 2B: 590,118,912 embedding (vocab 256,128; HF ships 256,000)
  // + 2,024,517,888 non-embedding. Four norms per layer, tied embeddings, head_dim 256 != 2304 / 8.
  const ModelArch m = FromFixture("gemma-2-2b-it");
  const ParamCount p = CountParams(m);
  EXPECT_NEAR(p.total / (590'118'912.0 + 2'024'517'888.0), 1.0, 0.03);
  EXPECT_NEAR(p.total - p.embedding, 2'024'517'888.0, 1.0);  // non-embedding: exact
  EXPECT_TRUE(m.tied_embeddings);
  ASSERT_EQ(m.groups.size(), 2u);  // 13 sliding (layers 0, 2, ...) + 13 global
  EXPECT_EQ(m.groups[0].attention.window, 4096);
  EXPECT_EQ(m.groups[0].count, 13);
  EXPECT_EQ(m.groups[1].attention.window, 0);
  EXPECT_EQ(m.groups[0].attention.head_dim, 256);
  // Soft-capping is accepted and said to be ignored.
  ASSERT_FALSE(m.import_notes.empty());
  EXPECT_NE(m.import_notes[0].find("soft-capping ignored"), std::string::npos);
}

TEST(ModelImport, Gemma3ReadsTextConfigWithItsDefaults) {
  // Gemma 3 report Table 1, 27B: 1,416M embedding + 25,600M non-embedding (417M vision encoder not counted).
  // The published text_config leaves vocab, the 5:1 pattern and tied embeddings to Gemma3TextConfig.
  const ModelArch m = FromFixture("gemma-3-27b-it");
  EXPECT_EQ(m.family, "gemma3");
  EXPECT_EQ(m.vocab, 262208);
  EXPECT_NEAR(CountParams(m).total / 27.016e9, 1.0, 0.03);
  int global = 0;
  for (const auto& g : m.groups) global += g.attention.window == 0 ? g.count : 0;
  EXPECT_EQ(global, 10);  // layers 5, 11, ..., 59 of 62
  EXPECT_EQ(m.groups.size(), 2u);
  EXPECT_TRUE(m.groups[0].attention.qk_norm);
  // KV per token at long context: only the 10 global layers grow (16 kv heads x 2 x 128).
  EXPECT_DOUBLE_EQ(KvValuesPerToken(m, 100000), 10 * 16 * 2 * 128.0);
}

TEST(ModelImport, Phi3MiniMatchesItsCard) {
  // microsoft/Phi-3-mini-4k-instruct model card: 3.8B parameters. sliding_window 2047 applies to every
  // layer, as transformers' Phi3Attention passes it.
  const ModelArch m = FromFixture("phi-3-mini-4k-instruct");
  EXPECT_NEAR(CountParams(m).total / 3.8e9, 1.0, 0.03);
  ASSERT_EQ(m.groups.size(), 1u);
  EXPECT_EQ(m.groups[0].attention.window, 2047);
}

TEST(ModelImport, Llama4ScoutSharedExpertAndChunkedAttention) {
  // Llama 4 Scout model card: 17B active, 109B total (the vision encoder is not counted here).
  const ModelArch m = FromFixture("llama-4-scout-17b-16e");
  const ParamCount p = CountParams(m);
  EXPECT_NEAR(p.total / 109e9, 1.0, 0.03);
  EXPECT_NEAR(p.active / 17e9, 1.0, 0.03);
  ASSERT_EQ(m.groups.size(), 2u);  // 36 chunked (RoPE) + 12 global (NoPE) layers, all MoE
  EXPECT_EQ(m.groups[0].attention.window, 8192);
  EXPECT_EQ(m.groups[0].count, 36);
  EXPECT_EQ(m.groups[1].count, 12);
  EXPECT_EQ(m.groups[0].moe.shared_experts, 1);
  EXPECT_EQ(m.groups[0].moe.top_k, 1);
  // Interleaved MoE (Maverick-style step 2): dense layers of intermediate_size_mlp between MoE layers.
  auto step2 = FromText(R"({"model_type": "llama4_text", "hidden_size": 64, "num_hidden_layers": 4,
      "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 100,
      "num_local_experts": 4, "num_experts_per_tok": 1, "intermediate_size": 32, "intermediate_size_mlp": 128,
      "interleave_moe_layer_step": 2})");
  ASSERT_TRUE(step2.has_value()) << step2.error().ToString();
  int moe = 0, dense_ffn = 0;
  for (const auto& g : step2->groups) {
    if (g.is_moe()) moe += g.count; else dense_ffn = g.mlp.ffn;
  }
  EXPECT_EQ(moe, 2);
  EXPECT_EQ(dense_ffn, 128);
}

TEST(ModelImport, KimiK2IsADeepSeekV3Architecture) {
  // Kimi K2 technical report: 1.04T total, 32B activated (model card: 1 trillion / 32 billion).
  const ModelArch m = FromFixture("kimi-k2-instruct");
  const ParamCount p = CountParams(m);
  EXPECT_EQ(m.family, "kimi_k2");
  EXPECT_NEAR(p.total / 1.04e12, 1.0, 0.03);
  EXPECT_NEAR(p.active / 32e9, 1.0, 0.03);
  EXPECT_EQ(m.groups[0].attention.kind, AttentionKind::kLatent);
  EXPECT_EQ(m.groups.back().moe.experts, 384);
}

TEST(ModelImport, Glm45MatchesItsCard) {
  // zai-org/GLM-4.5 model card: 355B total, 32B active; the MTP layer apart. The card's active count
  // leaves out the input embedding and the output head (2 x 151,552 x 5,120 = 1.55B): with them, 33.6B.
  const ModelArch m = FromFixture("glm-4.5");
  const ParamCount p = CountParams(m);
  EXPECT_NEAR(p.total / 355e9, 1.0, 0.03);
  EXPECT_NEAR((p.active - p.embedding - p.lm_head) / 32e9, 1.0, 0.03);
  EXPECT_EQ(m.mtp_layers, 1);
  ASSERT_EQ(m.groups.size(), 2u);  // 3 dense + 89 MoE
  EXPECT_EQ(m.groups[0].count, 3);
  EXPECT_TRUE(m.groups[1].attention.qkv_bias);
  EXPECT_TRUE(m.groups[1].attention.qk_norm);
}

TEST(ModelImport, Ernie45MoeLayersAndSharedExperts) {
  // baidu/ERNIE-4.5-21B-A3B model card: "21B total, 3B activated". The published config's shapes
  // give 21.83B (27 MoE layers of 64 experts x 3 x 2560 x 1536 alone are 20.4B): the card's 21B is the
  // name rounded down, so this pin allows 4 %, not the 3 % of the others.
  const ModelArch m = FromFixture("ernie-4.5-21b-a3b");
  const ParamCount p = CountParams(m);
  EXPECT_NEAR(p.total / 21e9, 1.0, 0.04);
  ASSERT_EQ(m.groups.size(), 2u);  // layer 0 dense, layers 1-27 MoE
  EXPECT_EQ(m.groups[0].count, 1);
  EXPECT_FALSE(m.groups[0].is_moe());
  EXPECT_EQ(m.groups[1].moe.shared_experts, 2);
  EXPECT_TRUE(m.tied_embeddings);
}

TEST(ModelImport, HunyuanA13BMatchesItsCard) {
  // tencent/Hunyuan-A13B-Instruct model card: 80B total, 13B active.
  const ModelArch m = FromFixture("hunyuan-a13b-instruct");
  const ParamCount p = CountParams(m);
  EXPECT_NEAR(p.total / 80e9, 1.0, 0.03);
  EXPECT_NEAR(p.active / 13e9, 1.0, 0.03);
  ASSERT_EQ(m.groups.size(), 1u);
  EXPECT_EQ(m.groups[0].moe.top_k, 8);
  EXPECT_EQ(m.groups[0].moe.shared_experts, 1);
  // Cross-layer KV sharing is refused, not silently overstated.
  auto cla = FromText(R"({"model_type": "hunyuan_v1_moe", "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "vocab_size": 10, "intermediate_size": 32, "num_experts": 4, "use_cla": true})");
  ASSERT_FALSE(cla.has_value());
  EXPECT_NE(cla.error().ToString().find("cross-layer attention"), std::string::npos);
}

TEST(ModelImport, HybridLinearAttentionFamiliesSayWhatIsMissing) {
  for (const char* type : {"minimax", "minimax_m1", "qwen3_next"}) {
    auto m = FromText(std::string(R"({"model_type": ")") + type + R"(", "hidden_size": 10})");
    ASSERT_FALSE(m.has_value()) << type;
    const std::string e = m.error().ToString();
    EXPECT_NE(e.find(std::string("model_type '") + type + "' is not supported"), std::string::npos) << e;
    EXPECT_NE(e.find("linear attention"), std::string::npos) << e;
    EXPECT_NE(e.find("nearest supported family"), std::string::npos) << e;
  }
}

TEST(ModelImport, UnsupportedTypeNamesTheSupportedOnes) {
  auto m = FromText(R"({"model_type": "mamba", "hidden_size": 10})");
  ASSERT_FALSE(m.has_value());
  const std::string e = m.error().ToString();
  EXPECT_NE(e.find("unsupported model_type 'mamba'"), std::string::npos) << e;
  EXPECT_NE(e.find("deepseek_v3"), std::string::npos) << e;
}

TEST(ModelImport, MissingFieldIsNamed) {
  auto m = FromText(R"({"model_type": "llama", "hidden_size": 4096, "num_attention_heads": 32,
                        "num_hidden_layers": 32, "vocab_size": 32000})");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().ToString().find("missing field 'intermediate_size', required for model_type 'llama'"),
            std::string::npos)
      << m.error().ToString();
  EXPECT_FALSE(FromText(R"({"hidden_size": 1})").has_value());  // no model_type
}

TEST(ModelImport, InconsistentShapesAreErrors) {
  auto m = FromText(R"({"model_type": "llama", "hidden_size": 4096, "num_attention_heads": 32,
                        "num_key_value_heads": 5, "num_hidden_layers": 2, "vocab_size": 10,
                        "intermediate_size": 100})");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().ToString().find("5 kv heads do not divide 32"), std::string::npos);
  auto neg = FromText(R"({"model_type": "llama", "hidden_size": -1, "num_attention_heads": 32,
                          "num_hidden_layers": 2, "vocab_size": 10, "intermediate_size": 100})");
  ASSERT_FALSE(neg.has_value());
  EXPECT_NE(neg.error().ToString().find("must be positive"), std::string::npos);
  auto topk = FromText(R"({"model_type": "mixtral", "hidden_size": 64, "num_attention_heads": 8,
                           "num_hidden_layers": 2, "vocab_size": 10, "intermediate_size": 100,
                           "num_local_experts": 2, "num_experts_per_tok": 4})");
  ASSERT_FALSE(topk.has_value());
  EXPECT_NE(topk.error().ToString().find("num_local_experts is 2"), std::string::npos);
}

// A Llama-3.1-70B config with one field replaced.
std::string Llama70BWith(const std::string& key, const std::string& value) {
  auto node = ParseFile(testing::TestDataDir() + "/hf/llama-3.1-70b.json");
  EXPECT_TRUE(node.has_value());
  std::string json = "{";
  for (std::size_t i = 0; i < node->keys.size(); ++i) {
    const RawNode& v = node->items[i];
    if (node->keys[i] == key || !v.IsScalar()) continue;
    json += "\"" + node->keys[i] + "\": " + (v.quoted ? "\"" + v.scalar + "\"" : v.scalar) + ", ";
  }
  return json + "\"" + key + "\": " + value + "}";
}

TEST(ModelImport, ArchitectureFieldsAreBounded) {
  // Issue 11: 10^9 layers ran 18 s and took 3.9 GB; now an error, at once.
  auto layers = FromText(Llama70BWith("num_hidden_layers", "1e9"));
  ASSERT_FALSE(layers.has_value());
  EXPECT_NE(layers.error().ToString().find("num_hidden_layers: must be at most 4,096, found 1e9"), std::string::npos)
      << layers.error().ToString();
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"hidden_size", "1000000"}, {"num_attention_heads", "100000"}, {"intermediate_size", "2e9"},
           {"vocab_size", "1e8"}, {"max_position_embeddings", "1e12"}, {"head_dim", "65536"}}) {
    auto m = FromText(Llama70BWith(key, value));
    ASSERT_FALSE(m.has_value()) << key;
    EXPECT_NE(m.error().ToString().find(key + ": must be at most"), std::string::npos) << m.error().ToString();
  }
  // Each field within its bound, but a product past what the estimators multiply in 32 bits.
  auto wide = FromText(R"({"model_type": "mixtral", "hidden_size": 4096, "num_attention_heads": 32,
                           "num_hidden_layers": 2, "vocab_size": 10, "intermediate_size": 1000000,
                           "num_local_experts": 8, "num_experts_per_tok": 8})");
  ASSERT_FALSE(wide.has_value());
  EXPECT_NE(wide.error().ToString().find("past the bound of 1,048,576"), std::string::npos) << wide.error().ToString();
  // mlp_only_layers must name layers (it was searched once per layer).
  auto only = FromText(R"({"model_type": "qwen3_moe", "hidden_size": 64, "num_attention_heads": 8,
                           "num_hidden_layers": 2, "vocab_size": 10, "moe_intermediate_size": 16, "num_experts": 4,
                           "num_experts_per_tok": 2, "intermediate_size": 32, "mlp_only_layers": [0, 7]})");
  ASSERT_FALSE(only.has_value());
  EXPECT_NE(only.error().ToString().find("layer 7 is not one of the 2 layers"), std::string::npos);
}

TEST(ModelImport, LlamaIgnoresSlidingWindowAsHuggingFaceDoes) {
  // LlamaConfig has no sliding window; a relabelled Gemma-2 used to get a 4096 window on every layer.
  auto m = FromText(Llama70BWith("sliding_window", "4096"));
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  ASSERT_EQ(m->groups.size(), 1u);
  EXPECT_EQ(m->groups[0].attention.window, 0);
  EXPECT_DOUBLE_EQ(KvValuesPerToken(*m, 100000), 163'840.0);
  ASSERT_FALSE(m->import_notes.empty());
  EXPECT_NE(m->import_notes[0].find("sliding_window ignored"), std::string::npos);
}

TEST(ModelImport, IdenticalLayersShareAGroupWhereverTheySit) {
  // gpt-oss alternates sliding and full layers: two groups, not 36.
  const ModelArch oss = FromFixture("gpt-oss-120b");
  EXPECT_EQ(oss.groups.size(), 2u);
}

}  // namespace
}  // namespace suanli
