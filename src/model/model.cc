// Parameter and KV-cache arithmetic for ModelArch.
//
// Counts every weight matrix, bias and norm vector the transformers
// implementation allocates, so totals match the published safetensors sizes:
// Llama-3.1-70B 70.55e9, Mixtral-8x7B 46.7e9 total / 12.9e9 active,
// DeepSeek-V3 671e9 / 37e9 (MTP module apart), GPT-3 175e9 (model_test.cc).
// "Active" counts the weights one token touches, embedding and LM head included.
#include "suanli/model/model.h"

#include <algorithm>
#include <cmath>

#include "suanli/core/dtype.h"

namespace suanli {
namespace {

double AttentionParams(const AttentionShape& a, double h) {
  const double H = a.heads;
  double p = 0;
  if (a.kind == AttentionKind::kLatent) {
    const double nope = a.head_dim - a.rope_dim;
    p += a.q_lora_rank > 0 ? h * a.q_lora_rank + a.q_lora_rank + double(a.q_lora_rank) * H * a.head_dim
                           : h * H * a.head_dim;
    p += h * (a.kv_lora_rank + a.rope_dim) + a.kv_lora_rank;  // kv_a_proj_with_mqa + kv_a_layernorm
    p += double(a.kv_lora_rank) * H * (nope + a.v_head_dim);  // kv_b_proj
  } else {
    p += h * H * a.head_dim + 2.0 * h * a.kv_heads * a.head_dim;
    if (a.qkv_bias) p += H * a.head_dim + 2.0 * a.kv_heads * a.head_dim;
  }
  p += H * a.v_head_dim * h;  // output projection
  if (a.out_bias) p += h;
  if (a.qk_norm) p += 2.0 * a.head_dim;
  if (a.sinks) p += H;
  return p;
}

double MlpParams(double h, double ffn, bool gated, bool bias) {
  double p = (gated ? 3.0 : 2.0) * h * ffn;
  if (bias) p += (gated ? 2.0 * ffn : ffn) + h;
  return p;
}

}  // namespace

LayerParams CountLayerParams(const LayerGroup& g, int hidden, NormKind norm) {
  const double h = hidden;
  LayerParams out;
  out.shared = AttentionParams(g.attention, h) + (norm == NormKind::kLayerNorm ? 2.0 : 1.0) * g.norms * h;
  if (g.is_moe()) {
    const auto& e = g.moe;
    out.shared += h * e.experts + (e.router_bias ? e.experts : 0);
    out.shared += e.shared_experts * MlpParams(h, e.shared_ffn, true, false) + (e.shared_gate ? h : 0);
    const double one = MlpParams(h, e.expert_ffn, true, e.expert_bias);
    out.experts = e.experts * one;
    out.active_experts = e.top_k * one;
  } else {
    out.shared += MlpParams(h, g.mlp.ffn, g.mlp.gated, g.mlp.bias);
  }
  return out;
}

ParamCount CountEmbeddingParams(const ModelArch& m) {
  ParamCount c;
  const double h = m.hidden;
  c.embedding = double(m.vocab) * h + (m.learned_positions ? double(m.max_positions) * h : 0.0);
  c.lm_head = m.tied_embeddings ? 0.0 : double(m.vocab) * h;
  return c;
}

ParamCount CountParams(const ModelArch& m) {
  ParamCount c = CountEmbeddingParams(m);
  const double h = m.hidden;
  c.total = c.active = c.embedding + c.lm_head + FinalNormParams(m);
  for (const auto& g : m.groups) {
    const LayerParams p = CountLayerParams(g, m.hidden, m.norm);
    c.total += g.count * (p.shared + p.experts);
    c.active += g.count * (p.shared + p.active_experts);
  }
  if (m.mtp_layers > 0 && !m.groups.empty()) {
    // DeepSeek-V3 MTP module: enorm + hnorm, eh_proj (2h -> h), one decoder
    // layer shaped like the last layer, and a final norm; embedding and head shared.
    const LayerParams p = CountLayerParams(m.groups.back(), m.hidden, m.norm);
    c.mtp = m.mtp_layers * (2.0 * h + 2.0 * h * h + p.shared + p.experts + h);
  }
  return c;
}

double KvValuesPerTokenPerLayer(const AttentionShape& a, int tp) {
  // MLA caches one compressed latent and the shared rope key; MHA/GQA the K
  // and V of each kv head (replicated when tp exceeds the kv heads).
  return a.kind == AttentionKind::kLatent ? double(a.kv_lora_rank + a.rope_dim)
                                          : double(KvHeadsPerRank(a, tp)) * (a.head_dim + a.v_head_dim);
}

double KvValuesPerToken(const ModelArch& m, int64_t context_tokens) {
  double v = 0;
  for (const auto& g : m.groups) {
    const auto& a = g.attention;
    if (a.window > 0 && context_tokens > a.window) continue;  // window full: no growth
    v += g.count * KvValuesPerTokenPerLayer(a, 1);
  }
  return v;
}

ModelSummary SummarizeModel(const ModelArch& m) {
  ModelSummary s;
  s.params = CountParams(m);
  for (const auto& g : m.groups) {
    if (g.is_moe()) {
      s.experts = g.moe.experts;
      s.top_k = g.moe.top_k;
    }
    s.widest_window = std::max(s.widest_window, g.attention.window);
  }
  s.kv_values_per_token = KvValuesPerToken(m, 1);
  s.kv_values_per_token_windows_full =
      s.widest_window > 0 ? KvValuesPerToken(m, int64_t{s.widest_window} + 1) : s.kv_values_per_token;
  s.kv_bytes_per_token_bf16 = DtypeBytes(Dtype::kBf16) * s.kv_values_per_token;
  s.kv_bytes_per_token_bf16_windows_full = DtypeBytes(Dtype::kBf16) * s.kv_values_per_token_windows_full;
  return s;
}

double KvValuesForContext(const ModelArch& m, int64_t context_tokens) {
  double v = 0;
  for (const auto& g : m.groups) {
    const auto& a = g.attention;
    const double tokens = a.window > 0 ? double(std::min<int64_t>(context_tokens, a.window)) : double(context_tokens);
    v += g.count * KvValuesPerTokenPerLayer(a, 1) * tokens;
  }
  return v;
}

std::string_view AttentionKindName(const AttentionShape& a) {
  if (a.kind == AttentionKind::kLatent) return "mla";
  if (a.kv_heads == a.heads) return "mha";
  return a.kv_heads == 1 ? "mqa" : "gqa";
}

bool IsMoe(const ModelArch& m) {
  return std::any_of(m.groups.begin(), m.groups.end(), [](const LayerGroup& g) { return g.is_moe(); });
}

}  // namespace suanli
