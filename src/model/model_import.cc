// Reads Hugging Face config.json files for the supported families.
//
// Field names and defaults follow the transformers configuration classes
// (LlamaConfig, MistralConfig, MixtralConfig, Qwen2Config, Qwen2MoeConfig,
// Qwen3Config, Qwen3MoeConfig, DeepseekV2Config/V3, GptOssConfig, GPT2Config,
// GPTNeoXConfig, Phi3Config, Gemma2Config, Gemma3TextConfig, Llama4TextConfig,
// Glm4MoeConfig, Ernie4_5_MoeConfig, HunYuanMoEV1Config) and the modules their
// modeling files allocate. A missing field is an error that names it, unless
// the configuration class has a default (Gemma 3's published configs rely on
// them). Every integer is bounded by ArchLimits (model.h) and the widths the
// estimators multiply are checked in 64-bit, so no input can make the import
// or an estimate slow, large or overflow.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>

#include "model/model_import.h"

namespace suanli {
namespace {

using L = ArchLimits;

// The bound of an integer field, by its Hugging Face name.
long long LimitOf(std::string_view key) {
  struct Bound {
    std::string_view key;
    long long limit;
  };
  static constexpr Bound kBounds[] = {
      {"num_hidden_layers", L::kLayers}, {"n_layer", L::kLayers}, {"num_layers", L::kLayers},
      {"first_k_dense_replace", L::kLayers}, {"moe_layer_freq", L::kLayers}, {"decoder_sparse_step", L::kLayers},
      {"max_window_layers", L::kLayers}, {"interleave_moe_layer_step", L::kLayers},
      {"sliding_window_pattern", L::kLayers}, {"moe_layer_start_index", L::kLayers},
      {"moe_layer_end_index", L::kLayers}, {"moe_layer_interval", L::kLayers},
      {"hidden_size", L::kHidden}, {"n_embd", L::kHidden},
      {"num_attention_heads", L::kHeads}, {"num_key_value_heads", L::kHeads}, {"n_head", L::kHeads},
      {"head_dim", L::kHeadDim}, {"qk_nope_head_dim", L::kHeadDim}, {"qk_rope_head_dim", L::kHeadDim},
      {"v_head_dim", L::kHeadDim},
      {"intermediate_size", L::kFfn}, {"intermediate_size_mlp", L::kFfn}, {"moe_intermediate_size", L::kFfn},
      {"shared_expert_intermediate_size", L::kFfn}, {"ffn_hidden_size", L::kFfn},
      {"moe_ffn_hidden_size", L::kFfn}, {"n_inner", L::kFfn},
      {"vocab_size", L::kVocab},
      {"num_local_experts", L::kExperts}, {"num_experts", L::kExperts}, {"n_routed_experts", L::kExperts},
      {"moe_num_experts", L::kExperts}, {"num_experts_per_tok", L::kExperts}, {"moe_k", L::kExperts},
      {"moe_topk", L::kExperts},
      {"n_shared_experts", L::kSharedExperts}, {"num_shared_experts", L::kSharedExperts},
      {"moe_num_shared_experts", L::kSharedExperts}, {"num_shared_expert", L::kSharedExperts},
      {"q_lora_rank", L::kLoraRank}, {"kv_lora_rank", L::kLoraRank},
      {"sliding_window", L::kWindow}, {"attention_chunk_size", L::kWindow},
      {"num_nextn_predict_layers", L::kMtpLayers},
      {"max_position_embeddings", L::kPositions}, {"n_positions", L::kPositions},
  };
  for (const auto& b : kBounds) {
    if (b.key == key) return b.limit;
  }
  return L::kFfn;  // a field not listed above: the loosest 32-bit-safe bound
}

// "4,096" for messages.
std::string Grouped(long long v) {
  const std::string digits = std::to_string(v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

class Reader {
 public:
  Reader(const RawNode& node, std::string prefix, std::string family)
      : node_(node), prefix_(std::move(prefix)), family_(std::move(family)) {}

  const RawNode* Get(std::string_view key) const {
    const RawNode* n = node_.Find(key);
    return (n == nullptr || n->IsNull()) ? nullptr : n;
  }
  bool Has(std::string_view key) const { return Get(key) != nullptr; }

  // A positive integer within the field's bound; `fallback` < 0 means required.
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
    return static_cast<int>(Checked(*n, key, allow_zero).value_or(1));
  }
  // A non-negative integer that may exceed 32 bits (max_position_embeddings).
  int64_t Int64(std::string_view key, int64_t fallback) {
    const RawNode* n = Get(key);
    if (n == nullptr) return fallback;
    return Checked(*n, key, true).value_or(fallback);
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
  // Layer indices (mlp_only_layers) as a per-layer mark; each must be a layer.
  std::vector<char> LayerSet(std::string_view key, int layers) {
    std::vector<char> marked(static_cast<std::size_t>(layers), 0);
    const RawNode* n = Get(key);
    if (n == nullptr) return marked;
    if (!n->IsSequence()) {
      diags_.push_back(n->At(Path(key), "expected a list of layer indices"));
      return marked;
    }
    for (const auto& item : n->items) {
      auto v = ScalarToInt(item, Path(key));
      if (!v) {
        diags_.insert(diags_.end(), v.error().diagnostics.begin(), v.error().diagnostics.end());
      } else if (*v < 0 || *v >= layers) {
        diags_.push_back(item.At(Path(key), "layer " + item.scalar + " is not one of the " + std::to_string(layers) +
                                                " layers (0 to " + std::to_string(layers - 1) + ")"));
      } else {
        marked[static_cast<std::size_t>(*v)] = 1;
      }
    }
    return marked;
  }
  // A field written either as one number or as one number per layer
  // (Hunyuan's moe_topk, Llama 4's no_rope_layers); `fallback` < 0: required.
  std::vector<int> PerLayer(std::string_view key, int layers, long long fallback, bool allow_zero = false) {
    const RawNode* n = Get(key);
    if (n == nullptr || !n->IsSequence()) {
      return std::vector<int>(static_cast<std::size_t>(layers), Int(key, fallback, allow_zero));
    }
    std::vector<int> out;
    if (static_cast<int>(n->items.size()) != layers) {
      diags_.push_back(n->At(Path(key), "has " + std::to_string(n->items.size()) + " entries for " +
                                            std::to_string(layers) + " layers"));
      return std::vector<int>(static_cast<std::size_t>(layers), 1);
    }
    for (const auto& item : n->items) out.push_back(static_cast<int>(Checked(item, key, allow_zero).value_or(1)));
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
  const std::string& family() const { return family_; }
  std::vector<Diagnostic>& diags() { return diags_; }

 private:
  std::optional<long long> Checked(const RawNode& n, std::string_view key, bool allow_zero) {
    auto v = ScalarToInt(n, Path(key));
    if (!v) {
      diags_.insert(diags_.end(), v.error().diagnostics.begin(), v.error().diagnostics.end());
      return std::nullopt;
    }
    if (*v < (allow_zero ? 0 : 1)) {
      diags_.push_back(n.At(Path(key), std::string(allow_zero ? "must not be negative" : "must be positive") +
                                           ", found " + n.scalar));
      return std::nullopt;
    }
    if (const long long limit = LimitOf(key); *v > limit) {
      diags_.push_back(n.At(Path(key), "must be at most " + Grouped(limit) + ", found " + n.scalar +
                                           " (suanli's bound for this field, far past any published model; "
                                           "docs/input-limits.md)"));
      return std::nullopt;
    }
    return *v;
  }

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

// Which layers use a sliding window, and how the family says so.
enum class WindowRule {
  kNone,        // llama: LlamaConfig has no sliding window, so `sliding_window` is ignored
  kEveryLayer,  // mistral, mixtral, phi3: sliding_window, when set, applies to every layer
  kQwen,        // qwen2/3: only with use_sliding_window, from layer max_window_layers on
  kLayerTypes,  // gpt_oss: layer_types only
  kAlternate,   // gemma2: layers 0, 2, 4, ... slide, the others are global
  kEveryNth,    // gemma3: every sliding_window_pattern-th layer (1-based) is global, the rest slide
};

// The window of every layer (0: full attention). `layers` is already bounded.
std::vector<int> SlidingWindows(Reader& r, int layers, WindowRule rule, int default_window = 0) {
  std::vector<int> window(static_cast<std::size_t>(layers), 0);
  if (rule == WindowRule::kNone) return window;
  const int w = r.Has("sliding_window") ? r.Int("sliding_window") : default_window;
  auto types = r.TextList("layer_types");
  if (!types.empty()) {
    if (static_cast<int>(types.size()) != layers) {
      r.Fail("layer_types", "has " + std::to_string(types.size()) + " entries for " + std::to_string(layers) + " layers");
      return window;
    }
    for (int i = 0; i < layers; ++i) {
      const std::string& t = types[static_cast<std::size_t>(i)];
      if (t == "sliding_attention") {
        if (w == 0) r.Fail("sliding_window", "layer_types names sliding_attention layers but sliding_window is not set");
        window[static_cast<std::size_t>(i)] = w;
      } else if (t != "full_attention") {
        r.Fail("layer_types", "unknown layer type '" + t + "'");
      }
    }
    return window;
  }
  if (w == 0) return window;
  switch (rule) {
    case WindowRule::kEveryLayer:
      std::fill(window.begin(), window.end(), w);
      break;
    case WindowRule::kQwen:
      if (r.Bool("use_sliding_window", false)) {
        const int full_below = r.Has("max_window_layers") ? r.Int("max_window_layers", 0, true) : 0;
        for (int i = full_below; i < layers; ++i) window[static_cast<std::size_t>(i)] = w;
      }
      break;
    case WindowRule::kAlternate:
      for (int i = 0; i < layers; i += 2) window[static_cast<std::size_t>(i)] = w;
      break;
    case WindowRule::kEveryNth: {
      const int every = r.Int("sliding_window_pattern", 6);
      for (int i = 0; i < layers; ++i) window[static_cast<std::size_t>(i)] = (i + 1) % every == 0 ? 0 : w;
      break;
    }
    case WindowRule::kNone:
    case WindowRule::kLayerTypes:
      break;
  }
  return window;
}

bool SameShape(const LayerGroup& a, const LayerGroup& b) {
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
         a.moe.expert_bias == b.moe.expert_bias && a.norms == b.norms;
}

// Adds one layer to the group of identical layers, wherever they sit
// (Gemma's alternating windows make two groups, not one per layer).
void AppendLayer(ModelArch& m, const LayerGroup& layer) {
  for (auto& g : m.groups) {
    if (SameShape(g, layer)) {
      ++g.count;
      return;
    }
  }
  m.groups.push_back(layer);
  m.groups.back().count = 1;
}

void CheckTopK(Reader& r, const MoeShape& moe, std::string_view experts_key, std::string_view top_k_key) {
  if (moe.top_k > moe.experts) {
    r.Fail(top_k_key, "routes each token to " + std::to_string(moe.top_k) + " experts but " +
                          std::string(experts_key) + " is " + std::to_string(moe.experts));
  }
}

// The layers of a model whose layers differ only in window and in routed
// experts versus a dense MLP.
struct LayerPlan {
  AttentionShape attention;
  std::vector<int> windows;  // per layer
  MoeShape moe;              // the routed experts of sparse layers
  std::vector<char> sparse;  // per layer: routed experts (else a dense MLP)
  std::vector<int> top_k;    // per layer, when the family allows it to vary (else moe.top_k)
  int dense_ffn = 0;
  bool dense_bias = false;
  int norms = 2;
};

void BuildLayers(Reader& r, ModelArch& m, const LayerPlan& p) {
  bool dense_needed = false;
  for (int i = 0; i < m.layers; ++i) {
    const auto at = static_cast<std::size_t>(i);
    LayerGroup layer;
    layer.attention = p.attention;
    layer.attention.window = p.windows.empty() ? 0 : p.windows[at];
    layer.norms = p.norms;
    if (p.moe.experts > 0 && p.sparse[at] != 0) {
      layer.moe = p.moe;
      if (!p.top_k.empty()) layer.moe.top_k = p.top_k[at];
    } else {
      dense_needed = dense_needed || p.dense_ffn == 0;
      layer.mlp = {.ffn = std::max(p.dense_ffn, 1), .gated = true, .bias = p.dense_bias};
    }
    AppendLayer(m, layer);
  }
  if (dense_needed) r.Fail("intermediate_size", "needed for the dense layers of this MoE model");
}

// The fields every Hugging Face decoder config shares; a default < 0 is required.
struct TrunkDefaults {
  long long hidden = -1, layers = -1, vocab = -1;
  int64_t max_positions = 0;
  bool tied = false;
};
void ReadTrunk(Reader& r, ModelArch& m, const TrunkDefaults& d = {}) {
  m.hidden = r.Int("hidden_size", d.hidden);
  m.layers = r.Int("num_hidden_layers", d.layers);
  m.vocab = r.Int("vocab_size", d.vocab);
  m.max_positions = r.Int64("max_position_embeddings", d.max_positions);
  m.tied_embeddings = r.Bool("tie_word_embeddings", d.tied);
}

std::vector<char> AllLayers(int layers) { return std::vector<char>(static_cast<std::size_t>(layers), 1); }

// llama, mistral, mixtral, qwen2, qwen2_moe, qwen3, qwen3_moe, gpt_oss, phi3.
void ImportLlamaLike(Reader& r, const std::string& type, ModelArch& m) {
  ReadTrunk(r, m);
  // Qwen2/Qwen2-MoE put a bias on q, k and v (not configurable); gpt-oss on all projections.
  const bool qkv_bias = type == "qwen2" || type == "qwen2_moe";
  LayerPlan p;
  p.attention = ReadMultiHead(r, m.hidden, type == "gpt_oss");
  p.attention.qkv_bias = p.attention.qkv_bias || qkv_bias;
  p.attention.out_bias = type == "gpt_oss" && p.attention.qkv_bias;
  p.attention.qk_norm = type == "qwen3" || type == "qwen3_moe";
  p.attention.sinks = type == "gpt_oss";
  const WindowRule rule = type == "llama"                                      ? WindowRule::kNone
                          : type.starts_with("qwen")                           ? WindowRule::kQwen
                          : type == "gpt_oss"                                  ? WindowRule::kLayerTypes
                                                                               : WindowRule::kEveryLayer;
  if (type == "llama" && r.Has("sliding_window")) {
    m.import_notes.push_back("sliding_window ignored: Hugging Face LlamaConfig has no sliding window");
  }
  p.windows = SlidingWindows(r, m.layers, rule);
  p.sparse = AllLayers(m.layers);
  if (type == "mixtral" || type == "gpt_oss") {
    p.moe.experts = r.Int("num_local_experts");
    p.moe.top_k = r.Int("num_experts_per_tok");
    p.moe.expert_ffn = r.Int("intermediate_size");
    p.moe.router_bias = p.moe.expert_bias = type == "gpt_oss";
    CheckTopK(r, p.moe, "num_local_experts", "num_experts_per_tok");
  } else if (type == "qwen2_moe" || type == "qwen3_moe") {
    p.moe.experts = r.Int("num_experts");
    p.moe.top_k = r.Int("num_experts_per_tok");
    p.moe.expert_ffn = r.Int("moe_intermediate_size");
    if (type == "qwen2_moe") {
      p.moe.shared_ffn = r.Int("shared_expert_intermediate_size", 0, true);
      p.moe.shared_experts = p.moe.shared_ffn > 0 ? 1 : 0;
      p.moe.shared_gate = p.moe.shared_experts > 0;
    }
    const int sparse_step = r.Int("decoder_sparse_step", 1);
    const auto mlp_only = r.LayerSet("mlp_only_layers", m.layers);
    for (int i = 0; i < m.layers; ++i) {
      const auto at = static_cast<std::size_t>(i);
      p.sparse[at] = mlp_only[at] == 0 && (i + 1) % sparse_step == 0;
    }
    p.dense_ffn = r.Has("intermediate_size") ? r.Int("intermediate_size") : 0;
    CheckTopK(r, p.moe, "num_experts", "num_experts_per_tok");
  } else {
    p.dense_ffn = r.Int("intermediate_size");
  }
  BuildLayers(r, m, p);
}

// Gemma 2 and Gemma 3 (text): GQA with head_dim apart from hidden / heads,
// sliding and global layers alternating, four norms per layer (pre and post
// attention and MLP), tied embeddings. Logit soft-capping (Gemma 2) squashes
// scores with tanh: no weights and no effect on time or memory, so it is
// accepted and ignored. Gemma 3's published configs leave most fields to the
// Gemma3TextConfig defaults, which are used here.
void ImportGemma(Reader& r, const std::string& type, ModelArch& m) {
  const bool v3 = type != "gemma2";
  if (v3) {
    ReadTrunk(r, m, {.hidden = 2304, .layers = 26, .vocab = 262208, .max_positions = 131072, .tied = true});
  } else {
    ReadTrunk(r, m, {.tied = true});
  }
  LayerPlan p;
  p.attention.heads = r.Int("num_attention_heads", v3 ? 8 : -1);
  p.attention.kv_heads = r.Int("num_key_value_heads", v3 ? 4 : p.attention.heads);
  p.attention.head_dim = p.attention.v_head_dim = r.Int("head_dim", v3 ? 256 : -1);
  if (p.attention.heads % p.attention.kv_heads != 0) {
    r.Fail("num_key_value_heads", std::to_string(p.attention.kv_heads) + " kv heads do not divide " +
                                      std::to_string(p.attention.heads) + " attention heads");
  }
  p.attention.qkv_bias = r.Bool("attention_bias", false);
  p.attention.qk_norm = v3;  // Gemma 3: q_norm and k_norm per head
  p.windows = SlidingWindows(r, m.layers, v3 ? WindowRule::kEveryNth : WindowRule::kAlternate, 4096);
  p.dense_ffn = r.Int("intermediate_size", v3 ? 9216 : -1);
  p.norms = 4;
  BuildLayers(r, m, p);
  if (r.Has("attn_logit_softcapping") || r.Has("final_logit_softcapping")) {
    m.import_notes.push_back("logit soft-capping ignored: a tanh on the scores, with no weights and no effect on "
                             "time or memory");
  }
}

// Llama 4 (text): MoE layers every interleave_moe_layer_step layers, each with
// routed experts and one shared expert (both of intermediate_size), dense
// layers of intermediate_size_mlp; chunked attention (attention_chunk_size) on
// the RoPE layers, global attention on the NoPE ones (every fourth).
void ImportLlama4(Reader& r, ModelArch& m) {
  ReadTrunk(r, m);
  LayerPlan p;
  p.attention = ReadMultiHead(r, m.hidden, false);
  p.moe.experts = r.Int("num_local_experts");
  p.moe.top_k = r.Int("num_experts_per_tok");
  p.moe.expert_ffn = r.Int("intermediate_size");
  p.moe.shared_experts = 1;
  p.moe.shared_ffn = p.moe.expert_ffn;
  CheckTopK(r, p.moe, "num_local_experts", "num_experts_per_tok");
  p.dense_ffn = r.Int("intermediate_size_mlp", p.moe.expert_ffn);
  if (r.Has("moe_layers")) {
    p.sparse = r.LayerSet("moe_layers", m.layers);
  } else {
    const int step = r.Int("interleave_moe_layer_step", 1);
    p.sparse.assign(static_cast<std::size_t>(m.layers), 0);
    for (int i = step - 1; i < m.layers; i += step) p.sparse[static_cast<std::size_t>(i)] = 1;
  }
  // no_rope_layers: 1 = RoPE with chunked attention, 0 = NoPE, global.
  const int chunk = r.Has("attention_chunk_size") ? r.Int("attention_chunk_size") : 0;
  std::vector<int> rope(static_cast<std::size_t>(m.layers));
  for (int i = 0; i < m.layers; ++i) rope[static_cast<std::size_t>(i)] = (i + 1) % 4 != 0;
  if (r.Has("no_rope_layers")) rope = r.PerLayer("no_rope_layers", m.layers, 1, true);
  p.windows.assign(static_cast<std::size_t>(m.layers), 0);
  for (int i = 0; i < m.layers; ++i) {
    if (rope[static_cast<std::size_t>(i)] != 0) p.windows[static_cast<std::size_t>(i)] = chunk;
  }
  BuildLayers(r, m, p);
  if (chunk > 0) {
    m.import_notes.push_back("chunked attention (" + Grouped(chunk) +
                             "-token chunks) modelled as a sliding window of that length: the KV cache is exact, "
                             "attention FLOPs an upper bound (a token sees on average half a chunk)");
  }
}

// The routed experts of DeepSeek-style configs (n_routed_experts,
// first_k_dense_replace, moe_layer_freq), shared by GLM-4.5.
void ReadDeepseekMoe(Reader& r, const ModelArch& m, LayerPlan& p, bool router_bias) {
  p.moe.experts = r.Has("n_routed_experts") ? r.Int("n_routed_experts") : 0;
  if (p.moe.experts > 0) {
    p.moe.top_k = r.Int("num_experts_per_tok");
    p.moe.expert_ffn = r.Int("moe_intermediate_size");
    p.moe.shared_experts = r.Has("n_shared_experts") ? r.Int("n_shared_experts", 0, true) : 0;
    p.moe.shared_ffn = p.moe.expert_ffn;
    p.moe.router_bias = router_bias;  // e_score_correction_bias
    CheckTopK(r, p.moe, "n_routed_experts", "num_experts_per_tok");
  }
  const int first_dense = r.Has("first_k_dense_replace") ? r.Int("first_k_dense_replace", 0, true) : 0;
  const int freq = r.Int("moe_layer_freq", 1);
  p.sparse.assign(static_cast<std::size_t>(m.layers), 0);
  for (int i = 0; i < m.layers; ++i) p.sparse[static_cast<std::size_t>(i)] = i >= first_dense && i % freq == 0;
  p.dense_ffn = r.Int("intermediate_size");
}

// deepseek_v2, deepseek_v3 and kimi_k2 (a DeepSeek-V3 architecture).
void ImportDeepseek(Reader& r, ModelArch& m, bool v3) {
  ReadTrunk(r, m);
  m.mtp_layers = r.Has("num_nextn_predict_layers") ? r.Int("num_nextn_predict_layers", 0, true) : 0;
  LayerPlan p;
  AttentionShape& a = p.attention;
  a.kind = AttentionKind::kLatent;
  a.heads = r.Int("num_attention_heads");
  a.kv_heads = a.heads;
  a.q_lora_rank = r.Has("q_lora_rank") ? r.Int("q_lora_rank") : 0;
  a.kv_lora_rank = r.Int("kv_lora_rank");
  a.rope_dim = r.Int("qk_rope_head_dim");
  a.head_dim = r.Int("qk_nope_head_dim") + a.rope_dim;
  a.v_head_dim = r.Int("v_head_dim");
  a.qkv_bias = r.Bool("attention_bias", false);
  ReadDeepseekMoe(r, m, p, v3);
  BuildLayers(r, m, p);
}

// GLM-4.5 (glm4_moe): GQA with biased q/k/v and optional q/k norms, DeepSeek-V3
// style experts (sigmoid router with correction bias, shared experts, dense
// first layers) and an MTP layer.
void ImportGlm4Moe(Reader& r, ModelArch& m) {
  ReadTrunk(r, m);
  m.mtp_layers = r.Has("num_nextn_predict_layers") ? r.Int("num_nextn_predict_layers", 0, true) : 0;
  LayerPlan p;
  p.attention = ReadMultiHead(r, m.hidden, false);
  p.attention.qk_norm = r.Bool("use_qk_norm", false);
  ReadDeepseekMoe(r, m, p, true);
  BuildLayers(r, m, p);
}

// ERNIE 4.5 MoE: routed experts on layers (i + 1) % moe_layer_interval == 0
// between moe_layer_start_index and moe_layer_end_index, shared experts, a
// correction bias on the router; use_bias puts biases on every projection.
void ImportErnieMoe(Reader& r, ModelArch& m) {
  ReadTrunk(r, m, {.tied = true});
  const bool bias = r.Bool("use_bias", false);
  LayerPlan p;
  p.attention = ReadMultiHead(r, m.hidden, false);
  p.attention.qkv_bias = p.attention.out_bias = bias;
  p.moe.experts = r.Int("moe_num_experts");
  p.moe.top_k = r.Int("moe_k");
  p.moe.expert_ffn = r.Int("moe_intermediate_size");
  p.moe.shared_experts = r.Int("moe_num_shared_experts", 0, true);
  p.moe.shared_ffn = p.moe.expert_ffn;
  p.moe.router_bias = true;  // moe_statics.e_score_correction_bias
  p.moe.expert_bias = bias;
  CheckTopK(r, p.moe, "moe_num_experts", "moe_k");
  const int start = r.Int("moe_layer_start_index", 0, true);
  // moe_layer_end_index -1 (the default) means the last layer.
  const RawNode* end_node = r.Get("moe_layer_end_index");
  const bool to_last = end_node == nullptr || (end_node->IsScalar() && end_node->scalar == "-1");
  const int end = to_last ? m.layers - 1 : r.Int("moe_layer_end_index", 0, true);
  const int interval = r.Int("moe_layer_interval", 1);
  p.sparse.assign(static_cast<std::size_t>(m.layers), 0);
  for (int i = start; i <= std::min(end, m.layers - 1); ++i) p.sparse[static_cast<std::size_t>(i)] = (i + 1) % interval == 0;
  p.dense_ffn = r.Int("intermediate_size");
  p.dense_bias = bias;
  BuildLayers(r, m, p);
  if (r.Int("num_nextn_predict_layers", 0, true) > 0) {
    m.import_notes.push_back("num_nextn_predict_layers ignored: transformers does not build ERNIE's MTP module");
  }
}

// Hunyuan MoE (hunyuan_v1_moe): every layer has routed experts and one shared
// expert, all of intermediate_size (as transformers builds them), per-head q/k
// norms; moe_topk and num_experts may be given per layer.
void ImportHunyuanMoe(Reader& r, ModelArch& m) {
  ReadTrunk(r, m, {.tied = true});
  if (r.Bool("use_cla", false)) {
    r.Fail("use_cla", "cross-layer attention (use_cla: layers sharing one KV cache) is not modelled; the nearest "
                      "supported family is qwen3_moe, which would overstate the KV cache by cla_share_factor");
    return;
  }
  LayerPlan p;
  p.attention = ReadMultiHead(r, m.hidden, false);
  p.attention.qk_norm = r.Bool("use_qk_norm", true);
  const auto experts = r.PerLayer("num_experts", m.layers, -1);
  p.moe.experts = *std::max_element(experts.begin(), experts.end());
  if (*std::min_element(experts.begin(), experts.end()) != p.moe.experts) {
    r.Fail("num_experts", "a different expert count per layer is not supported");
  }
  p.top_k = r.PerLayer("moe_topk", m.layers, 1);
  p.moe.top_k = p.top_k.front();
  p.moe.expert_ffn = r.Int("intermediate_size");
  p.moe.shared_experts = 1;
  p.moe.shared_ffn = p.moe.expert_ffn;
  for (int k : p.top_k) {
    if (k > p.moe.experts) {
      r.Fail("moe_topk", "routes each token to " + std::to_string(k) + " experts but num_experts is " +
                             std::to_string(p.moe.experts));
      break;
    }
  }
  p.sparse = AllLayers(m.layers);
  p.dense_ffn = p.moe.expert_ffn;
  BuildLayers(r, m, p);
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
  layer.mlp = {.ffn = r.Has("n_inner") ? r.Int("n_inner") : std::min(4 * m.hidden, L::kFfn), .gated = false, .bias = true};
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
    CheckTopK(r, layer.moe, "num_experts", "num_experts_per_tok");
  } else {
    layer.mlp = {.ffn = r.Int("ffn_hidden_size"), .gated = gated, .bias = false};
  }
  layer.count = m.layers;
  m.groups.push_back(layer);
}

// The widths the estimators multiply as 32-bit ints, and the total, checked
// in 64-bit once the shape is read (each field alone is already bounded).
void CheckProducts(Reader& r, const ModelArch& m) {
  for (const auto& g : m.groups) {
    const auto& a = g.attention;
    if (int64_t{a.heads} * std::max(a.head_dim, a.v_head_dim) > L::kFfn) {
      r.Fail("num_attention_heads", "heads x head_dim = " + Grouped(int64_t{a.heads} * a.head_dim) +
                                        " is past the bound of " + Grouped(L::kFfn));
      return;
    }
    if (g.is_moe() && (int64_t{g.moe.top_k} * g.moe.expert_ffn > L::kFfn ||
                       int64_t{g.moe.shared_experts} * g.moe.shared_ffn > L::kFfn)) {
      r.Fail("num_experts_per_tok", "the experts one token passes through are " +
                                        Grouped(int64_t{g.moe.top_k} * g.moe.expert_ffn +
                                                int64_t{g.moe.shared_experts} * g.moe.shared_ffn) +
                                        " wide, past the bound of " + Grouped(L::kFfn));
      return;
    }
  }
  if (const double total = CountParams(m).total; !(total <= L::kParams)) {
    r.Fail("num_hidden_layers", "the shape has " + Grouped(static_cast<long long>(std::min(total, 9e18))) +
                                    " parameters, past the bound of 10^15");
  }
}

// Families the model cannot express, with what is missing and what is nearest.
struct Unsupported {
  std::string_view type;
  std::string_view why;
};
constexpr Unsupported kUnsupported[] = {
    {"minimax", "MiniMax-Text-01 / MiniMax-M1 interleave lightning attention layers (a linear attention), which keep a "
                "fixed-size state instead of a KV cache, with softmax attention layers; suanli models softmax "
                "attention only. The nearest supported family is mixtral (MoE with softmax attention in every "
                "layer), which would overstate the KV cache and the attention time"},
    {"minimax_text_01", ""},
    {"minimax_m1", ""},
    {"qwen3_next", "Qwen3-Next mixes Gated DeltaNet (linear attention, a fixed-size state per layer) with gated "
                   "softmax attention on every fourth layer; suanli models softmax attention only. The nearest "
                   "supported family is qwen3_moe, which would overstate the KV cache and the attention time"},
};

std::string Supported() {
  std::string s;
  for (const auto& t : SupportedModelTypes()) s += (s.empty() ? "" : ", ") + t;
  return s;
}

}  // namespace

const std::vector<std::string>& SupportedModelTypes() {
  static const std::vector<std::string> kTypes = {
      "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "deepseek_v2", "deepseek_v3",
      "kimi_k2", "gpt_oss", "gpt2", "gpt_neox", "phi3", "gemma2", "gemma3", "gemma3_text", "llama4", "llama4_text",
      "glm4_moe", "ernie4_5_moe", "hunyuan_v1_moe", "transformer"};
  return kTypes;
}

Result<ModelArch> ImportHfConfig(const RawNode& config, const std::string& key_prefix) {
  if (!config.IsMap()) {
    return Error(config.At(key_prefix, "a model config is a map of fields, found " + std::string(config.KindName())));
  }
  auto path = [](const std::string& prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
  };
  const RawNode* type_node = config.Find("model_type");
  if (type_node == nullptr || !type_node->IsScalar()) {
    return Error(config.At(path(key_prefix, "model_type"), "missing field 'model_type' (supported: " + Supported() + ")"));
  }
  const std::string type = type_node->scalar;
  for (std::size_t i = 0; i < std::size(kUnsupported); ++i) {
    if (kUnsupported[i].type != type) continue;
    std::size_t j = i;
    while (kUnsupported[j].why.empty()) --j;  // aliases share the entry above
    return Error(type_node->At(path(key_prefix, "model_type"),
                               "model_type '" + type + "' is not supported: " + std::string(kUnsupported[j].why)));
  }
  const auto& types = SupportedModelTypes();
  if (std::find(types.begin(), types.end(), type) == types.end()) {
    return Error(type_node->At(path(key_prefix, "model_type"),
                               "unsupported model_type '" + type + "' (supported: " + Supported() + ")"));
  }
  // Multimodal configs (Gemma 3, Llama 4) keep the language model under text_config.
  const RawNode* node = &config;
  std::string prefix = key_prefix;
  if (type == "gemma3" || type == "llama4") {
    const RawNode* text = config.Find("text_config");
    if (text == nullptr || !text->IsMap()) {
      return Error((text != nullptr ? *text : config).At(path(key_prefix, "text_config"),
                                                         "model_type '" + type +
                                                             "' keeps the language model under text_config, a map"));
    }
    node = text;
    prefix = path(key_prefix, "text_config");
  }
  ModelArch m;
  m.family = type;
  Reader r(*node, prefix, type);
  if (type == "deepseek_v2" || type == "deepseek_v3" || type == "kimi_k2") {
    ImportDeepseek(r, m, type != "deepseek_v2");
  } else if (type == "gpt2") {
    ImportGpt2(r, m);
  } else if (type == "gpt_neox") {
    ImportNeox(r, m);
  } else if (type == "transformer") {
    ImportTransformer(r, m);
  } else if (type.starts_with("gemma")) {
    ImportGemma(r, type, m);
  } else if (type.starts_with("llama4")) {
    ImportLlama4(r, m);
  } else if (type == "glm4_moe") {
    ImportGlm4Moe(r, m);
  } else if (type == "ernie4_5_moe") {
    ImportErnieMoe(r, m);
  } else if (type == "hunyuan_v1_moe") {
    ImportHunyuanMoe(r, m);
  } else {
    ImportLlamaLike(r, type, m);
  }
  if (r.diags().empty()) CheckProducts(r, m);
  if (!r.diags().empty()) return Error(std::move(r.diags()));
  if (node != &config) m.import_notes.push_back("text_config imported; the vision encoder is not counted");
  return m;
}

}  // namespace suanli
