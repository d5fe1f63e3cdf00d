// LayerOps() and HeadOps(): the operators of layer_ops_visit.h collected
// into a list.
#include "suanli/cost/layer_ops.h"

#include <algorithm>

#include "suanli/cost/layer_ops_visit.h"

namespace suanli {

double AttentionPairs(double past, double len, int window) {
  // Query i (0-based among the new ones) sees min(past + i + 1, window) keys.
  const double total = past + len;
  if (window <= 0 || total <= window) return len * past + len * (len + 1) / 2;
  const double w = window;
  // Queries whose full history is under the window see it all, the rest see w.
  const double under = std::clamp(w - past, 0.0, len);  // queries with past + i + 1 <= w
  return under * past + under * (under + 1) / 2 + (len - under) * w;
}

OpList LayerOps(const LayerGroup& g, int hidden, const LayerShard& shard, const OpBytes& b, const OpStyle& style,
                const LayerTokens& t) {
  OpList out;
  ForEachLayerOp(g, hidden, shard, b, style, t, [&](const Op& op) { out.Add(op); });
  return out;
}

std::string_view OpClassName(OpClass c) {
  switch (c) {
    case OpClass::kProjection: return "projection";
    case OpClass::kAttention: return "attention";
    case OpClass::kMlp: return "mlp";
    case OpClass::kExperts: return "experts";
    case OpClass::kLmHead: return "lm_head";
    case OpClass::kElementwise: return "elementwise";
    case OpClass::kAllReduce: return "allreduce";
    case OpClass::kAllToAll: return "alltoall";
    case OpClass::kPipeline: return "pipeline";
    case OpClass::kFixed: return "fixed";
  }
  return "?";
}

OpList HeadOps(const ModelArch& m, const LayerShard& shard, const OpBytes& b, double rows, double sample_rows) {
  OpList out;
  ForEachHeadOp(m, shard, b, rows, sample_rows, [&](const Op& op) { out.Add(op); });
  return out;
}

}  // namespace suanli
