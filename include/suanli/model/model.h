// A transformer's architecture, as imported from a Hugging Face config.json.
//
// Layers with the same shape are grouped (DeepSeek-V3: 3 dense + 58 MoE
// layers; gpt-oss: sliding-window and full-attention layers), so the
// evaluator loops over a handful of groups, not every layer. All counts are
// per model (not per device). Parameter and KV-cache arithmetic lives in
// model.cc and cites the published figures it is tested against.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "suanli/core/result.h"

namespace suanli {

enum class AttentionKind {
  kMultiHead,   // MHA / GQA / MQA: K and V cached per kv head
  kLatent,      // MLA (DeepSeek-V2/V3): one compressed latent + rope key cached
};

struct AttentionShape {
  AttentionKind kind = AttentionKind::kMultiHead;
  int heads = 0;
  int kv_heads = 0;      // MHA: == heads; MQA: 1
  int head_dim = 0;      // query/key head dim (MLA: nope + rope)
  int v_head_dim = 0;    // value head dim
  int window = 0;        // sliding-window length in tokens; 0 = full attention
  // MLA only.
  int q_lora_rank = 0;   // 0 = queries projected directly
  int kv_lora_rank = 0;
  int rope_dim = 0;      // decoupled rope key dim, shared by all heads
  bool qkv_bias = false;
  bool out_bias = false;
  bool qk_norm = false;  // per-head RMSNorm on q and k (Qwen3)
  bool sinks = false;    // learned per-head attention sinks (gpt-oss)
};

struct MlpShape {
  int ffn = 0;           // intermediate size
  bool gated = true;     // SwiGLU-style: gate, up, down; else up, down
  bool bias = false;
};

struct MoeShape {
  int experts = 0;       // routed experts; 0 = dense layer
  int top_k = 0;
  int expert_ffn = 0;
  int shared_experts = 0;
  int shared_ffn = 0;    // intermediate size of each shared expert
  bool shared_gate = false;  // sigmoid gate on the shared expert (Qwen2-MoE)
  bool router_bias = false;
  bool expert_bias = false;
};

struct LayerGroup {
  int count = 0;
  AttentionShape attention;
  MlpShape mlp;   // used when moe.experts == 0
  MoeShape moe;
  int norms = 2;  // hidden-sized norms per layer (Gemma's sandwich norms: 4)
  [[nodiscard]] bool is_moe() const { return moe.experts > 0; }
};

enum class NormKind { kRmsNorm, kLayerNorm };

struct ModelArch {
  std::string family;         // model_type as read ("llama", "deepseek_v3", ...)
  int hidden = 0;
  int vocab = 0;
  int layers = 0;             // main-model layers (excludes MTP modules)
  int64_t max_positions = 0;  // 0 = not stated
  bool tied_embeddings = false;
  bool learned_positions = false;  // GPT-2 style position embedding table
  NormKind norm = NormKind::kRmsNorm;
  int mtp_layers = 0;         // DeepSeek multi-token-prediction modules
  std::vector<LayerGroup> groups;  // identical layers share a group, wherever they sit
  // What the importer read but does not model, or approximated, in words
  // ("logit soft-capping ignored: ..."), for `suanli catalog show`.
  std::vector<std::string> import_notes;
};

// Bounds on every architecture field, checked by ImportHfConfig. Each lies one
// to two orders of magnitude past the largest published model (in brackets),
// so that a typo is an error, per-layer work stays small and every product the
// estimators form fits a 32-bit int (checked in 64-bit at import).
struct ArchLimits {
  static constexpr int kLayers = 4096;          // [128: Megatron 1T; 126: Llama-3.1-405B]
  static constexpr int kHidden = 1 << 17;       // 131,072 [25,600: Megatron 1T]
  static constexpr int kHeads = 4096;           // query or kv heads [160]
  static constexpr int kHeadDim = 4096;         // [256: Gemma]
  static constexpr int kFfn = 1 << 20;          // 1,048,576, also top_k x expert width [102,400]
  static constexpr int kVocab = 1 << 24;        // 16,777,216 [262,208: Gemma 3]
  static constexpr int kExperts = 1 << 14;      // 16,384 routed experts [512: Qwen3-Next]
  static constexpr int kSharedExperts = 64;     // [2: ERNIE 4.5]
  static constexpr int kLoraRank = 1 << 16;     // MLA q/kv ranks [1,536]
  static constexpr int kWindow = 1 << 30;       // sliding window or attention chunk, tokens
  static constexpr int kMtpLayers = 64;         // [1]
  static constexpr int64_t kPositions = int64_t{1} << 32;  // max_position_embeddings [10,485,760: Llama 4 Scout]
  static constexpr double kParams = 1e15;       // total parameters [1.04e12: Kimi K2]
};

struct ParamCount {
  double total = 0;   // every weight of the main model (MTP modules excluded)
  double active = 0;  // weights touched per token: shared weights + top-k experts
  double embedding = 0;  // input embedding (+ position table); LM head counted apart
  double lm_head = 0;    // 0 when tied
  double mtp = 0;        // MTP module weights (not in total)
};

// Parameters of one layer of a group: weights every token uses (attention,
// norms, router, shared experts, dense MLP) and the routed experts.
struct LayerParams {
  double shared = 0;
  double experts = 0;         // all routed experts
  double active_experts = 0;  // top-k of them
};
LayerParams CountLayerParams(const LayerGroup& g, int hidden, NormKind norm);

// Total and per-token-active parameters.
ParamCount CountParams(const ModelArch& m);
// Only CountParams' embedding and lm_head (no walk over the layers).
ParamCount CountEmbeddingParams(const ModelArch& m);
// The final norm's weights (in CountParams' total and active).
inline double FinalNormParams(const ModelArch& m) { return (m.norm == NormKind::kLayerNorm ? 2.0 : 1.0) * m.hidden; }
// KV heads on each of `tp` tensor-parallel ranks: ceil(kv_heads / tp), in
// integers (equal to the floating-point ceil, a few instructions cheaper);
// replicated when tp exceeds them.
inline int KvHeadsPerRank(const AttentionShape& a, int tp) { return (a.kv_heads + tp - 1) / tp; }
// Values (not bytes) of KV cache one token adds to one layer with attention
// `a` on one of `tp` tensor-parallel devices.
double KvValuesPerTokenPerLayer(const AttentionShape& a, int tp);
// Values (not bytes) of KV cache one token adds, summed over layers, for a
// context of `context_tokens` (sliding-window layers stop growing at their window).
double KvValuesPerToken(const ModelArch& m, int64_t context_tokens);
// Whole-context KV cache values for one sequence of `context_tokens`.
double KvValuesForContext(const ModelArch& m, int64_t context_tokens);
bool IsMoe(const ModelArch& m);

// What a catalog listing or a `catalog show` prints about a model, computed
// once here so no front end restates a formula.
struct ModelSummary {
  ParamCount params;
  int experts = 0;  // routed experts of the (last) MoE group; 0 if dense
  int top_k = 0;
  int widest_window = 0;  // the largest sliding window, 0 if every layer is full attention
  double kv_values_per_token = 0;               // while every window still grows
  double kv_values_per_token_windows_full = 0;  // past widest_window tokens (== above without windows)
  double kv_bytes_per_token_bf16 = 0;              // kv_values_per_token at 2 bytes a value
  double kv_bytes_per_token_bf16_windows_full = 0;  // kv_values_per_token_windows_full at 2 bytes
};
ModelSummary SummarizeModel(const ModelArch& m);
// "mha", "gqa", "mqa" or "mla": what the attention of a layer is.
std::string_view AttentionKindName(const AttentionShape& a);

// The model_type values ImportHfConfig understands, for messages and docs.
const std::vector<std::string>& SupportedModelTypes();

}  // namespace suanli
