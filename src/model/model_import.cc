// Reads Hugging Face config.json files for the supported families.
//
// Field names and defaults follow the transformers configuration classes
// (LlamaConfig, MistralConfig, MixtralConfig, Qwen2Config, Qwen2MoeConfig,
// Qwen3Config, Qwen3MoeConfig, DeepseekV2Config/V3, GptOssConfig, GPT2Config,
// GPTNeoXConfig). A missing field is an error that names it.
#include <algorithm>
#include <cmath>

#include "model/model_import.h"

namespace suanli {
namespace {

class Reader {
 public:
  Reader(const RawNode& node, std::string prefix, std::string family)
      : node_(node), prefix_(std::move(prefix)), family_(std::move(family)) {}

  const RawNode* Get(std::string_view key) const {
    const RawNode* n = node_.Find(key);
    return (n == nullptr || n->IsNull()) ? nullptr : n;
  }
  bool Has(std::string_view key) const { return Get(key) != nullptr; }

  // A positive integer; `fallback` < 0 means required.
  int Int(std::string_view key, long long fallback = -1, bool allow_zero = false) {
    const RawNode* n = Get(key);
    if (n == nullptr) {
      if (fallback < 0) {
        diags_.push_back(node_.At(Path(key), "missing field '" + std::string(key) + "', required for model_type '" +
                                                 family_ + "'"));
        return 1;
      }
      return static_cast<int>(fallback);
    }
    auto v = ScalarToInt(*n, Path(key));
    if (!v) {
      diags_.insert(diags_.end(), v.error().diagnostics.begin(), v.error().diagnostics.end());
      return 1;
    }
    if (*v < (allow_zero ? 0 : 1) || *v > 2'000'000'000LL) {
      diags_.push_back(n->At(Path(key), std::string(allow_zero ? "must not be negative" : "must be positive") +
                                            ", found " + n->scalar));
      return 1;
    }
    return static_cast<int>(*v);
  }
  long long Int64(std::string_view key, long long fallback) {
    const RawNode* n = Get(key);
    if (n == nullptr) return fallback;
    auto v = ScalarToInt(*n, Path(key));
    if (!v || *v < 0) {
      diags_.push_back(n->At(Path(key), "expected a non-negative whole number"));
      return fallback;
    }
    return *v;
  }
  bool Bool(std::string_view key, bool fallback) {
    const RawNode* n = Get(key);
    if (n == nullptr) return fallback;
    auto v = ScalarToBool(*n, Path(key));
    if (!v) {
      diags_.insert(diags_.end(), v.error().diagnostics.begin(), v.error().diagnostics.end());
      return fallback;
    }
    return *v;
  }
  std::string Text(std::string_view key, std::string fallback) {
    const RawNode* n = Get(key);
    if (n == nullptr) return fallback;
    if (!n->IsScalar()) {
      diags_.push_back(n->At(Path(key), "expected text"));
      return fallback;
    }
    return n->scalar;
  }
  // A list of whole numbers (mlp_only_layers).
  std::vector<int> IntList(std::string_view key) {
    std::vector<int> out;
    const RawNode* n = Get(key);
    if (n == nullptr) return out;
    if (!n->IsSequence()) {
      diags_.push_back(n->At(Path(key), "expected a list of layer indices"));
      return out;
    }
    for (const auto& item : n->items) {
      auto v = ScalarToInt(item, Path(key));
      if (v) out.push_back(static_cast<int>(*v));
      else diags_.insert(diags_.end(), v.error().diagnostics.begin(), v.error().diagnostics.end());
    }
    return out;
  }
  std::vector<std::string> TextList(std::string_view key) {
    std::vector<std::string> out;
    const RawNode* n = Get(key);
    if (n == nullptr) return out;
    if (!n->IsSequence()) {
      diags_.push_back(n->At(Path(key), "expected a list"));
      return out;
    }
    for (const auto& item : n->items) out.push_back(item.IsScalar() ? item.scalar : std::string());
    return out;
  }
  void Fail(std::string_view key, std::string message) {
    const RawNode* n = Get(key);
    diags_.push_back((n != nullptr ? *n : node_).At(Path(key), std::move(message)));
  }
  std::string Path(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }
  std::vector<Diagnostic>& diags() { return diags_; }

 private:
  const RawNode& node_;
  std::string prefix_;
  std::string family_;
  std::vector<Diagnostic> diags_;
};

// Attention shared by the llama-like families.
AttentionShape ReadMultiHead(Reader& r, int hidden, bool qkv_bias_default) {
  AttentionShape a;
  a.heads = r.Int("num_attention_heads");
  a.kv_heads = r.Int("num_key_value_heads", a.heads);
  if (r.Has("head_dim")) {
    a.head_dim = r.Int("head_dim");
  } else if (hidden % a.heads != 0) {
    r.Fail("num_attention_heads", "hidden_size " + std::to_string(hidden) + " is not a multiple of " +
                                      std::to_string(a.heads) + " heads and head_dim is not given");
    a.head_dim = 1;
  } else {
    a.head_dim = hidden / a.heads;
  }
  a.v_head_dim = a.head_dim;
  if (a.heads % a.kv_heads != 0) {
    r.Fail("num_key_value_heads", std::to_string(a.kv_heads) + " kv heads do not divide " +
                                      std::to_string(a.heads) + " attention heads");
  }
  a.qkv_bias = r.Bool("attention_bias", qkv_bias_default);
  return a;
}

// Which layers use a sliding window, from `layer_types` or `sliding_window`.
std::vector<int> SlidingWindows(Reader& r, int layers, bool windows_enabled_by_default) {
  std::vector<int> window(static_cast<std::size_t>(layers), 0);
  const int w = r.Has("sliding_window") ? r.Int("sliding_window") : 0;
  auto types = r.TextList("layer_types");
  if (!types.empty()) {
    if (static_cast<int>(types.size()) != layers) {
      r.Fail("layer_types", "has " + std::to_string(types.size()) + " entries for " + std::to_string(layers) + " layers");
      return window;
    }
    for (int i = 0; i < layers; ++i) {
      if (types[static_cast<std::size_t>(i)] == "sliding_attention") {
        if (w == 0) r.Fail("sliding_window", "layer_types names sliding_attention layers but sliding_window is not set");
        window[static_cast<std::size_t>(i)] = w;
      } else if (types[static_cast<std::size_t>(i)] != "full_attention") {
        r.Fail("layer_types", "unknown layer type '" + types[static_cast<std::size_t>(i)] + "'");
      }
    }
    return window;
  }
  if (w > 0 && r.Bool("use_sliding_window", windows_enabled_by_default)) {
    // Qwen2: layers below max_window_layers use full attention.
    const int full_below = r.Has("max_window_layers") ? r.Int("max_window_layers", 0, true) : 0;
    for (int i = full_below; i < layers; ++i) window[static_cast<std::size_t>(i)] = w;
  }
  return window;
}

// Groups consecutive layers with equal shapes.
void AppendLayer(ModelArch& m, const LayerGroup& layer) {
  auto same = [](const LayerGroup& a, const LayerGroup& b) {
    const auto& x = a.attention;
    const auto& y = b.attention;
    return x.kind == y.kind && x.heads == y.heads && x.kv_heads == y.kv_heads && x.head_dim == y.head_dim &&
           x.v_head_dim == y.v_head_dim && x.window == y.window && x.q_lora_rank == y.q_lora_rank &&
           x.kv_lora_rank == y.kv_lora_rank && x.rope_dim == y.rope_dim && x.qkv_bias == y.qkv_bias &&
           x.out_bias == y.out_bias && x.qk_norm == y.qk_norm && x.sinks == y.sinks && a.mlp.ffn == b.mlp.ffn &&
           a.mlp.gated == b.mlp.gated && a.mlp.bias == b.mlp.bias && a.moe.experts == b.moe.experts &&
           a.moe.top_k == b.moe.top_k && a.moe.expert_ffn == b.moe.expert_ffn &&
           a.moe.shared_experts == b.moe.shared_experts && a.moe.shared_ffn == b.moe.shared_ffn &&
           a.moe.shared_gate == b.moe.shared_gate && a.moe.router_bias == b.moe.router_bias &&
           a.moe.expert_bias == b.moe.expert_bias;
  };
  if (!m.groups.empty() && same(m.groups.back(), layer)) {
    ++m.groups.back().count;
  } else {
    m.groups.push_back(layer);
    m.groups.back().count = 1;
  }
}

void CheckTopK(Reader& r, const MoeShape& moe, std::string_view experts_key) {
  if (moe.top_k > moe.experts) {
    r.Fail("num_experts_per_tok", "routes each token to " + std::to_string(moe.top_k) + " experts but " +
                                      std::string(experts_key) + " is " + std::to_string(moe.experts));
  }
}

// The fields every Hugging Face decoder config shares.
void ReadTrunk(Reader& r, ModelArch& m) {
  m.hidden = r.Int("hidden_size");
  m.layers = r.Int("num_hidden_layers");
  m.vocab = r.Int("vocab_size");
  m.max_positions = r.Int64("max_position_embeddings", 0);
  m.tied_embeddings = r.Bool("tie_word_embeddings", false);
}

// llama, mistral, mixtral, qwen2, qwen2_moe, qwen3, qwen3_moe, gpt_oss.
void ImportLlamaLike(Reader& r, const std::string& type, ModelArch& m) {
  ReadTrunk(r, m);
  const bool qwen = type.starts_with("qwen");
  // Qwen2/Qwen2-MoE put a bias on q, k and v (not configurable); gpt-oss on all projections.
  const bool qkv_bias = type == "qwen2" || type == "qwen2_moe";
  AttentionShape attn = ReadMultiHead(r, m.hidden, type == "gpt_oss");
  attn.qkv_bias = attn.qkv_bias || qkv_bias;
  attn.out_bias = type == "gpt_oss" && attn.qkv_bias;
  attn.qk_norm = type == "qwen3" || type == "qwen3_moe";
  attn.sinks = type == "gpt_oss";
  // Mistral and Mixtral apply sliding_window to every layer when set; Qwen
  // only with use_sliding_window; gpt-oss through layer_types.
  const auto windows = SlidingWindows(r, m.layers, !qwen);

  MoeShape moe;
  int dense_ffn = 0;
  std::vector<int> mlp_only;
  int sparse_step = 1;
  if (type == "mixtral" || type == "gpt_oss") {
    moe.experts = r.Int("num_local_experts");
    moe.top_k = r.Int("num_experts_per_tok");
    moe.expert_ffn = r.Int("intermediate_size");
    moe.router_bias = moe.expert_bias = type == "gpt_oss";
    CheckTopK(r, moe, "num_local_experts");
  } else if (type == "qwen2_moe" || type == "qwen3_moe") {
    moe.experts = r.Int("num_experts");
    moe.top_k = r.Int("num_experts_per_tok");
    moe.expert_ffn = r.Int("moe_intermediate_size");
    if (type == "qwen2_moe") {
      moe.shared_ffn = r.Int("shared_expert_intermediate_size", 0, true);
      moe.shared_experts = moe.shared_ffn > 0 ? 1 : 0;
      moe.shared_gate = moe.shared_experts > 0;
    }
    sparse_step = r.Int("decoder_sparse_step", 1);
    mlp_only = r.IntList("mlp_only_layers");
    dense_ffn = r.Has("intermediate_size") ? r.Int("intermediate_size") : 0;
    CheckTopK(r, moe, "num_experts");
  } else {
    dense_ffn = r.Int("intermediate_size");
  }
  for (int i = 0; i < m.layers; ++i) {
    LayerGroup layer;
    layer.attention = attn;
    layer.attention.window = windows[static_cast<std::size_t>(i)];
    const bool sparse = moe.experts > 0 &&
                        std::find(mlp_only.begin(), mlp_only.end(), i) == mlp_only.end() &&
                        (i + 1) % sparse_step == 0;
    if (sparse) {
      layer.moe = moe;
    } else {
      if (dense_ffn == 0) r.Fail("intermediate_size", "needed for the dense layers of this MoE model");
      layer.mlp = {.ffn = std::max(dense_ffn, 1), .gated = true, .bias = false};
    }
    AppendLayer(m, layer);
  }
}

void ImportDeepseek(Reader& r, ModelArch& m, bool v3) {
  ReadTrunk(r, m);
  m.mtp_layers = r.Has("num_nextn_predict_layers") ? r.Int("num_nextn_predict_layers", 0, true) : 0;
  AttentionShape a;
  a.kind = AttentionKind::kLatent;
  a.heads = r.Int("num_attention_heads");
  a.kv_heads = a.heads;
  a.q_lora_rank = r.Has("q_lora_rank") ? r.Int("q_lora_rank") : 0;
  a.kv_lora_rank = r.Int("kv_lora_rank");
  a.rope_dim = r.Int("qk_rope_head_dim");
  a.head_dim = r.Int("qk_nope_head_dim") + a.rope_dim;
  a.v_head_dim = r.Int("v_head_dim");
  a.qkv_bias = r.Bool("attention_bias", false);
  MoeShape moe;
  moe.experts = r.Has("n_routed_experts") ? r.Int("n_routed_experts") : 0;
  if (moe.experts > 0) {
    moe.top_k = r.Int("num_experts_per_tok");
    moe.expert_ffn = r.Int("moe_intermediate_size");
    moe.shared_experts = r.Has("n_shared_experts") ? r.Int("n_shared_experts", 0, true) : 0;
    moe.shared_ffn = moe.expert_ffn;
    moe.router_bias = v3;  // e_score_correction_bias
    CheckTopK(r, moe, "n_routed_experts");
  }
  const int first_dense = r.Has("first_k_dense_replace") ? r.Int("first_k_dense_replace", 0, true) : 0;
  const int freq = r.Int("moe_layer_freq", 1);
  const int dense_ffn = r.Int("intermediate_size");
  for (int i = 0; i < m.layers; ++i) {
    LayerGroup layer;
    layer.attention = a;
    if (moe.experts > 0 && i >= first_dense && i % freq == 0) {
      layer.moe = moe;
    } else {
      layer.mlp = {.ffn = dense_ffn, .gated = true, .bias = false};
    }
    AppendLayer(m, layer);
  }
}

void ImportGpt2(Reader& r, ModelArch& m) {
  m.hidden = r.Int("n_embd");
  m.layers = r.Int("n_layer");
  m.vocab = r.Int("vocab_size");
  m.max_positions = r.Int64("n_positions", 1024);
  m.tied_embeddings = r.Bool("tie_word_embeddings", true);
  m.learned_positions = true;
  m.norm = NormKind::kLayerNorm;
  AttentionShape a;
  a.heads = r.Int("n_head");
  a.kv_heads = a.heads;
  if (m.hidden % a.heads != 0) r.Fail("n_head", "n_embd is not a multiple of n_head");
  a.head_dim = a.v_head_dim = std::max(1, m.hidden / a.heads);
  a.qkv_bias = a.out_bias = true;
  LayerGroup layer;
  layer.attention = a;
  layer.mlp = {.ffn = r.Has("n_inner") ? r.Int("n_inner") : 4 * m.hidden, .gated = false, .bias = true};
  layer.count = m.layers;
  m.groups.push_back(layer);
}

void ImportNeox(Reader& r, ModelArch& m) {
  ReadTrunk(r, m);
  m.norm = NormKind::kLayerNorm;
  AttentionShape a = ReadMultiHead(r, m.hidden, true);
  a.qkv_bias = a.out_bias = r.Bool("attention_bias", true);
  LayerGroup layer;
  layer.attention = a;
  layer.mlp = {.ffn = r.Int("intermediate_size"), .gated = false, .bias = true};
  layer.count = m.layers;
  m.groups.push_back(layer);
}

// A plain spec for custom shapes (Megatron-style names).
void ImportTransformer(Reader& r, ModelArch& m) {
  m.hidden = r.Int("hidden_size");
  m.layers = r.Int("num_layers");
  m.vocab = r.Int("vocab_size");
  m.max_positions = r.Int64("max_position_embeddings", 0);
  m.tied_embeddings = r.Bool("tie_word_embeddings", false);
  m.norm = r.Text("normalization", "rmsnorm") == "layernorm" ? NormKind::kLayerNorm : NormKind::kRmsNorm;
  AttentionShape a = ReadMultiHead(r, m.hidden, false);
  const int window = r.Has("sliding_window") ? r.Int("sliding_window") : 0;
  a.window = window;
  LayerGroup layer;
  layer.attention = a;
  const bool gated = r.Bool("gated_mlp", true);
  if (r.Has("num_experts")) {
    layer.moe.experts = r.Int("num_experts");
    layer.moe.top_k = r.Int("num_experts_per_tok");
    layer.moe.expert_ffn = r.Int("moe_ffn_hidden_size");
    layer.moe.shared_experts = r.Has("num_shared_experts") ? r.Int("num_shared_experts", 0, true) : 0;
    layer.moe.shared_ffn = layer.moe.expert_ffn;
    CheckTopK(r, layer.moe, "num_experts");
  } else {
    layer.mlp = {.ffn = r.Int("ffn_hidden_size"), .gated = gated, .bias = false};
  }
  layer.count = m.layers;
  m.groups.push_back(layer);
}

}  // namespace

const std::vector<std::string>& SupportedModelTypes() {
  static const std::vector<std::string> kTypes = {
      "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe",
      "deepseek_v2", "deepseek_v3", "gpt_oss", "gpt2", "gpt_neox", "transformer"};
  return kTypes;
}

Result<ModelArch> ImportHfConfig(const RawNode& config, const std::string& key_prefix) {
  if (!config.IsMap()) {
    return Error(config.At(key_prefix, "a model config is a map of fields, found " + std::string(config.KindName())));
  }
  const RawNode* type_node = config.Find("model_type");
  auto supported = [] {
    std::string s;
    for (const auto& t : SupportedModelTypes()) s += (s.empty() ? "" : ", ") + t;
    return s;
  };
  if (type_node == nullptr || !type_node->IsScalar()) {
    return Error(config.At(key_prefix.empty() ? "model_type" : key_prefix + ".model_type",
                           "missing field 'model_type' (supported: " + supported() + ")"));
  }
  const std::string type = type_node->scalar;
  const auto& types = SupportedModelTypes();
  if (std::find(types.begin(), types.end(), type) == types.end()) {
    return Error(type_node->At(key_prefix.empty() ? "model_type" : key_prefix + ".model_type",
                               "unsupported model_type '" + type + "' (supported: " + supported() + ")"));
  }
  ModelArch m;
  m.family = type;
  Reader r(config, key_prefix, type);
  if (type == "deepseek_v2" || type == "deepseek_v3") {
    ImportDeepseek(r, m, type == "deepseek_v3");
  } else if (type == "gpt2") {
    ImportGpt2(r, m);
  } else if (type == "gpt_neox") {
    ImportNeox(r, m);
  } else if (type == "transformer") {
    ImportTransformer(r, m);
  } else {
    ImportLlamaLike(r, type, m);
  }
  if (!r.diags().empty()) return Error(std::move(r.diags()));
  return m;
}

}  // namespace suanli
