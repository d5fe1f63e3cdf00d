// Training plans: names of their choices, and the rules a plan must keep.
#include <cmath>

#include "train/train_internal.h"

namespace suanli {

using train::Assemble;
using train::ComputeLayerCosts;
using train::Context;
using train::LayerCosts;
using train::MakeContext;
using train::ModelTotals;
using train::Timing;
using train::Totals;
using train::kTpOverlapNeedsTp;
namespace {
std::string Str(int64_t v) { return std::to_string(v); }
}  // namespace

std::string_view RecomputeName(Recompute r) {
  switch (r) {
    case Recompute::kNone: return "none";
    case Recompute::kSelective: return "selective";
    case Recompute::kFull: return "full";
  }
  return "?";
}

std::optional<Recompute> ParseRecompute(std::string_view s) {
  if (s == "none") return Recompute::kNone;
  if (s == "selective") return Recompute::kSelective;
  if (s == "full") return Recompute::kFull;
  return std::nullopt;
}

std::string_view OptimizerStateName(OptimizerState s) {
  switch (s) {
    case OptimizerState::kFp32: return "fp32";
    case OptimizerState::kBf16: return "bf16";
  }
  return "?";
}

std::optional<OptimizerState> ParseOptimizerState(std::string_view s) {
  if (s == "fp32") return OptimizerState::kFp32;
  if (s == "bf16") return OptimizerState::kBf16;
  return std::nullopt;
}

std::string_view TrainPrecisionName(TrainPrecision p) {
  switch (p) {
    case TrainPrecision::kBf16: return "bf16";
    case TrainPrecision::kFp16: return "fp16";
    case TrainPrecision::kFp8: return "fp8";
  }
  return "?";
}

std::optional<TrainPrecision> ParseTrainPrecision(std::string_view s) {
  if (s == "bf16") return TrainPrecision::kBf16;
  if (s == "fp16") return TrainPrecision::kFp16;
  if (s == "fp8") return TrainPrecision::kFp8;
  return std::nullopt;
}


int DerivedDp(const TrainRequest& r) {
  const int64_t others = int64_t(r.plan.tp) * r.plan.pp * r.plan.cp;
  return others > 0 && r.devices > 0 && r.devices % others == 0 ? int(r.devices / others) : 0;
}

Status CheckTrainingPlan(const Cluster& c, const ModelArch& m, const TrainRequest& r) {
  std::vector<Diagnostic> bad;
  auto fail = [&](std::string key, std::string msg) {
    bad.push_back(Diagnostic{.key_path = std::move(key), .message = std::move(msg)});
  };
  const TrainPlan& p = r.plan;
  if (r.devices < 1) fail("devices", "must be at least 1, found " + Str(r.devices));
  if (r.seq_len < 1) fail("seq_len", "must be at least 1, found " + Str(r.seq_len));
  if (r.global_batch < 1) fail("global_batch", "must be at least 1, found " + Str(r.global_batch));
  if (r.devices > (int64_t(1) << 24) || r.seq_len > (int64_t(1) << 24) || r.global_batch > (int64_t(1) << 32)) {
    fail("devices", "devices, sequence length or batch beyond what the model supports");
  }
  if (!(r.tokens >= 0) || !std::isfinite(r.tokens)) fail("tokens", "must be a non-negative number");
  if (!(r.stack.expert_imbalance >= 1)) {
    fail("stack", "no training stack: the request needs one (MakeTrainingStack) with expert_imbalance of at least 1");
  }
  if (p.dp == 0 && p.tp > 0 && p.pp > 0 && p.cp > 0 && r.devices > 0) {
    fail("devices", Str(r.devices) + " devices are not a multiple of tp x pp x cp = " +
                        std::to_string(int64_t(p.tp) * p.pp * p.cp));
    return Error(std::move(bad));
  }
  for (auto [key, v] : {std::pair{"tp", p.tp}, std::pair{"pp", p.pp}, std::pair{"dp", p.dp}, std::pair{"cp", p.cp},
                        std::pair{"ep", p.ep}, std::pair{"vp", p.vp}, std::pair{"micro_batch", p.micro_batch}}) {
    if (v < 1) fail(key, std::string(key) + " must be at least 1, found " + std::to_string(v));
  }
  if (p.zero < 0 || p.zero > 3) fail("zero", "ZeRO stage must be 0, 1, 2 or 3, found " + std::to_string(p.zero));
  if (!bad.empty()) return Error(std::move(bad));
  const ModelTotals t = Totals(m);
  if (int64_t(p.tp) * p.pp * p.dp * p.cp != r.devices) {
    fail("devices", "tp x pp x dp x cp = " + std::to_string(int64_t(p.tp) * p.pp * p.dp * p.cp) + " but devices = " +
                        Str(r.devices));
  }
  if (t.min_heads % p.tp != 0) {
    fail("tp", "tp " + std::to_string(p.tp) + " does not divide the " + std::to_string(t.min_heads) + " attention heads");
  }
  if (p.pp > m.layers) fail("pp", "pp " + std::to_string(p.pp) + " exceeds the " + std::to_string(m.layers) + " layers");
  if (p.vp > 1 && m.layers % (p.pp * p.vp) != 0) {
    fail("vp", "interleaving needs pp x vp = " + std::to_string(p.pp * p.vp) + " to divide the " +
                   std::to_string(m.layers) + " layers");
  }
  if (p.vp > 1 && p.pp == 1) fail("vp", "virtual stages need pp > 1");
  if (p.overlap_tp && p.tp == 1) fail("tp_overlap", std::string(kTpOverlapNeedsTp));
  const int64_t per_replica = r.global_batch % p.dp == 0 ? r.global_batch / p.dp : -1;
  if (per_replica < 0) {
    fail("global_batch", "global batch " + Str(r.global_batch) + " is not divisible by dp " + std::to_string(p.dp));
  } else if (per_replica % p.micro_batch != 0) {
    fail("micro_batch", "micro-batch " + std::to_string(p.micro_batch) + " does not divide the " + Str(per_replica) +
                            " sequences per data-parallel replica");
  }
  if (p.ep > 1 && !t.moe) fail("ep", "ep " + std::to_string(p.ep) + " needs a mixture-of-experts model");
  if (t.moe && t.min_experts % p.ep != 0) {
    fail("ep", "ep " + std::to_string(p.ep) + " does not divide the " + std::to_string(t.min_experts) + " experts");
  }
  if (p.ep > 1 && p.dp % p.ep != 0) {
    fail("ep", "ep " + std::to_string(p.ep) + " must divide dp " + std::to_string(p.dp) + " (experts are spread over data-parallel ranks)");
  }
  if (r.seq_len % p.cp != 0) fail("cp", "cp " + std::to_string(p.cp) + " does not divide the sequence length " + Str(r.seq_len));
  if (p.cp > 1 && !r.flash_attention) fail("cp", "context parallelism needs flash (ring) attention");
  if (!bad.empty()) return Error(std::move(bad));
  (void)c;
  return Ok{};
}

Result<TrainingStack> MakeTrainingStack(const Catalog& catalog, std::string_view id) {
  const Stack* s = id.empty() ? catalog.DefaultStack(StackKind::kTraining) : catalog.FindStack(id);
  if (s == nullptr) {
    if (id.empty()) return Error(Diagnostic{.file = catalog.dir(), .key_path = "stacks", .message = "the catalog has no default training stack"});
    return Error::NotFound(Diagnostic{.key_path = "stack", .message = "no stack '" + std::string(id) + "' in the catalog"});
  }
  if (s->kind != StackKind::kTraining) {
    return Error(Diagnostic{.key_path = "stack", .message = "stack '" + s->id + "' is a serving stack"});
  }
  return TrainingStack{.id = s->id,
                       .expert_imbalance = s->Get("moe.expert_imbalance").value_or(1),
                       .fused_residual_norm = s->fused_residual_norm};
}

}  // namespace suanli
