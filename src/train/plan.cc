// Training plans: names of their choices, and the rules a plan must keep.
#include <cmath>

#include "train/train_internal.h"

namespace suanli {

using train::ModelTotals;
using train::kTpOverlapNeedsTp;

namespace {
std::string Str(int64_t v) { return std::to_string(v); }
}  // namespace

std::string_view RecomputeName(Recompute r) { return NameOf<Recompute>(kRecomputeNames, r); }
std::optional<Recompute> ParseRecompute(std::string_view s) { return ParseName<Recompute>(kRecomputeNames, s); }
std::string_view OptimizerStateName(OptimizerState s) { return NameOf<OptimizerState>(kOptimizerStateNames, s); }
std::optional<OptimizerState> ParseOptimizerState(std::string_view s) {
  return ParseName<OptimizerState>(kOptimizerStateNames, s);
}
std::string_view TrainPrecisionName(TrainPrecision p) { return NameOf<TrainPrecision>(kTrainPrecisionNames, p); }
std::optional<TrainPrecision> ParseTrainPrecision(std::string_view s) {
  return ParseName<TrainPrecision>(kTrainPrecisionNames, s);
}

int ExpertTp(const TrainPlan& p) { return p.etp > 0 ? p.etp : p.tp; }
int ExpertDp(const TrainPlan& p) {
  const int64_t e = int64_t(ExpertTp(p)) * p.ep;
  const int64_t attn = int64_t(p.tp) * p.cp * p.dp;
  return e > 0 && attn % e == 0 ? int(attn / e) : 0;
}

int DerivedDp(const TrainRequest& r) {
  const TrainPlan& p = r.plan;
  if (p.tp > train::kMaxDegree || p.pp > train::kMaxDegree || p.cp > train::kMaxDegree) return 0;
  const int64_t others = int64_t(p.tp) * p.pp * p.cp;
  return others > 0 && r.devices > 0 && r.devices % others == 0 ? int(r.devices / others) : 0;
}

Status CheckTrainingRequest(const TrainRequest& r) {
  std::vector<Diagnostic> bad;
  auto fail = [&](std::string key, std::string msg) {
    bad.push_back(Diagnostic{.key_path = std::move(key), .message = std::move(msg)});
  };
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
  if (!bad.empty()) return Error(std::move(bad));
  return Ok{};
}

Status CheckTrainingPlan(const ModelArch& m, const TrainRequest& r) {
  if (auto ok = CheckTrainingRequest(r); !ok) return ok;
  std::vector<Diagnostic> bad;
  auto fail = [&](std::string key, std::string msg) {
    bad.push_back(Diagnostic{.key_path = std::move(key), .message = std::move(msg)});
  };
  const TrainPlan& p = r.plan;
  if (p.dp == 0 && p.tp > 0 && p.pp > 0 && p.cp > 0 && r.devices > 0 && p.tp <= train::kMaxDegree &&
      p.pp <= train::kMaxDegree && p.cp <= train::kMaxDegree) {
    fail("devices", Str(r.devices) + " devices are not a multiple of tp x pp x cp = " +
                        std::to_string(int64_t(p.tp) * p.pp * p.cp));
    return Error(std::move(bad));
  }
  for (auto [key, v] : {std::pair{"tp", p.tp}, std::pair{"pp", p.pp}, std::pair{"dp", p.dp}, std::pair{"cp", p.cp},
                        std::pair{"ep", p.ep}, std::pair{"vp", p.vp}, std::pair{"micro_batch", p.micro_batch}}) {
    if (v < 1) fail(key, std::string(key) + " must be at least 1, found " + std::to_string(v));
    if (v > train::kMaxDegree) {
      fail(key, std::string(key) + " must be at most " + std::to_string(train::kMaxDegree) + ", found " + std::to_string(v));
    }
  }
  if (p.etp < 0 || p.etp > train::kMaxDegree) {
    fail("etp", "etp must be 0 (the same as tp) or between 1 and " + std::to_string(train::kMaxDegree) + ", found " +
                    std::to_string(p.etp));
  }
  if (!train::PlanRules::Zero(p.zero)) fail("zero", "ZeRO stage must be 0, 1, 2 or 3, found " + std::to_string(p.zero));
  if (!bad.empty()) return Error(std::move(bad));
  const train::PlanRules rules(m, r);
  const ModelTotals& t = rules.totals();
  if (!rules.Devices(p.tp, p.pp, p.dp, p.cp)) {
    fail("devices", "tp x pp x dp x cp = " + std::to_string(int64_t(p.tp) * p.pp * p.dp * p.cp) + " but devices = " +
                        Str(r.devices));
  }
  if (!rules.Tp(p.tp)) {
    fail("tp", "tp " + std::to_string(p.tp) + " does not divide the " + std::to_string(t.min_heads) + " attention heads");
  }
  if (!rules.Pp(p.pp)) fail("pp", "pp " + std::to_string(p.pp) + " exceeds the " + std::to_string(m.layers) + " layers");
  if (!rules.Vp(p.pp, p.vp)) {
    if (p.pp == 1) {
      fail("vp", "virtual stages need pp > 1");
    } else {
      fail("vp", "interleaving needs pp x vp = " + std::to_string(int64_t(p.pp) * p.vp) + " to divide the " +
                     std::to_string(m.layers) + " layers");
    }
  }
  if (!rules.TpOverlap(p.tp, p.overlap_tp)) fail("tp_overlap", std::string(kTpOverlapNeedsTp));
  if (!rules.Batch(p.dp)) {
    fail("global_batch", "global batch " + Str(r.global_batch) + " is not divisible by dp " + std::to_string(p.dp));
  } else if (!rules.MicroBatch(p.dp, p.micro_batch)) {
    fail("micro_batch", "micro-batch " + std::to_string(p.micro_batch) + " does not divide the " +
                            Str(r.global_batch / p.dp) + " sequences per data-parallel replica");
  }
  if (!rules.EpWithModel(p.ep)) {
    if (!t.moe) {
      fail("ep", "ep " + std::to_string(p.ep) + " needs a mixture-of-experts model");
    } else {
      fail("ep", "ep " + std::to_string(p.ep) + " does not divide the " + std::to_string(t.min_experts) + " experts");
    }
  }
  if (!train::PlanRules::EpFolds(p.tp, p.cp, p.dp, p.ep, p.etp)) {
    fail("ep", "etp x ep = " + std::to_string(int64_t(ExpertTp(p)) * p.ep) + " must divide tp x cp x dp = " +
                   std::to_string(int64_t(p.tp) * p.cp * p.dp) +
                   " (the experts fold over the ranks of a pipeline stage: etp x ep x edp = tp x cp x dp)");
  }
  if (!rules.Cp(p.cp)) {
    if (r.seq_len % p.cp != 0) {
      fail("cp", "cp " + std::to_string(p.cp) + " does not divide the sequence length " + Str(r.seq_len));
    } else {
      fail("cp", "context parallelism needs flash (ring) attention");
    }
  }
  if (!bad.empty()) return Error(std::move(bad));
  return Ok{};
}

Result<TrainingStack> MakeTrainingStack(const Catalog& catalog, std::string_view id) {
  auto found = catalog.StackOf(StackKind::kTraining, id);
  if (!found) return std::move(found).error();
  const Stack* s = *found;
  return TrainingStack{.id = s->id,
                       .expert_imbalance = s->Get("moe.expert_imbalance").value_or(1),
                       .fused_residual_norm = s->fused_residual_norm};
}

}  // namespace suanli
