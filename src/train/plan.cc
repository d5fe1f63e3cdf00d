// Training plans: names of their choices, and the rules a plan must keep.
#include <algorithm>
#include <cctype>
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
std::string_view PipelineScheduleName(PipelineSchedule s) {
  return NameOf<PipelineSchedule>(kPipelineScheduleNames, s);
}
std::optional<PipelineSchedule> ParsePipelineSchedule(std::string_view s) {
  return ParseName<PipelineSchedule>(kPipelineScheduleNames, s);
}

std::string_view OptimizerStateName(OptimizerState s) { return NameOf<OptimizerState>(kOptimizerStateNames, s); }
std::optional<OptimizerState> ParseOptimizerState(std::string_view s) {
  return ParseName<OptimizerState>(kOptimizerStateNames, s);
}
std::string_view TrainPrecisionName(TrainPrecision p) { return NameOf<TrainPrecision>(kTrainPrecisionNames, p); }
std::optional<TrainPrecision> ParseTrainPrecision(std::string_view s) {
  return ParseName<TrainPrecision>(kTrainPrecisionNames, s);
}

std::optional<uint32_t> ParseRecomputeModules(std::string_view list, std::string* bad) {
  uint32_t out = 0;
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && (list[i] == ',' || list[i] == ' ')) ++i;
    std::size_t j = i;
    while (j < list.size() && list[j] != ',' && list[j] != ' ') ++j;
    if (j == i) break;
    const std::string_view name = list.substr(i, j - i);
    bool found = false;
    for (int k = 0; k < kRecomputeModuleCount; ++k) {
      if (name == kRecomputeModuleNames[k]) {
        out |= 1u << k;
        found = true;
      }
    }
    if (!found) {
      if (bad != nullptr) *bad = std::string(name);
      return std::nullopt;
    }
    i = j;
  }
  return out;
}

std::string RecomputeModulesText(uint32_t modules) {
  std::string s;
  for (int k = 0; k < kRecomputeModuleCount; ++k) {
    if ((modules & (1u << k)) != 0) s += (s.empty() ? "" : ",") + std::string(kRecomputeModuleNames[k]);
  }
  return s;
}

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
  if (!(r.moe_capacity_factor >= 0) || !(r.moe_capacity_factor <= 64)) {
    fail("moe_capacity_factor", "must be a number from 0.01 to 64 (0: dropless)");
  }
  if (r.moe_pad_to_capacity && !(r.moe_capacity_factor > 0)) {
    fail("moe_pad_to_capacity", "pads the experts to a capacity: it needs --moe-capacity-factor");
  }
  if (!(r.stack.expert_imbalance >= 1)) {
    fail("stack", "no training stack: the request needs one (MakeTrainingStack) with expert_imbalance of at least 1");
  }
  if (!bad.empty()) return Error(std::move(bad));
  return Ok{};
}

Status CheckTrainingPlan(const ModelArch& m, const TrainRequest& r) {
  return train::CheckPlan(m, r, train::PlanRules(m, r));
}

namespace train {
Status CheckPlan(const ModelArch& m, const TrainRequest& r, const PlanRules& rules) {
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
  // 1 <= v <= kMaxDegree on one unsigned comparison each: every degree in range (the usual case) skips the loop.
  auto out = [](int v) { return unsigned(v) - 1u >= unsigned(train::kMaxDegree); };
  if (out(p.tp) || out(p.pp) || out(p.dp) || out(p.cp) || out(p.ep) || out(p.vp) || out(p.micro_batch)) [[unlikely]] {
    for (auto [key, v] : {std::pair{"tp", p.tp}, std::pair{"pp", p.pp}, std::pair{"dp", p.dp}, std::pair{"cp", p.cp},
                          std::pair{"ep", p.ep}, std::pair{"vp", p.vp}, std::pair{"micro_batch", p.micro_batch}}) {
      if (v < 1) fail(key, std::string(key) + " must be at least 1, found " + std::to_string(v));
      if (v > train::kMaxDegree) {
        fail(key, std::string(key) + " must be at most " + std::to_string(train::kMaxDegree) + ", found " +
                      std::to_string(v));
      }
    }
  }
  if (p.etp < 0 || p.etp > train::kMaxDegree) {
    fail("etp", "etp must be 0 (the same as tp) or between 1 and " + std::to_string(train::kMaxDegree) + ", found " +
                    std::to_string(p.etp));
  }
  if (p.recompute_modules >= (1u << kRecomputeModuleCount)) fail("recompute_modules", "unknown recompute module bits");
  if (p.recompute_modules != 0 && p.recompute != Recompute::kSelective) {
    fail("recompute_modules", "recompute modules are a selective recompute: --recompute selective (or leave it out)");
  }
  if (p.offload_layers < 0 || p.offload_layers > m.layers) {
    fail("offload_layers", "offload layers must be between 0 and the " + std::to_string(m.layers) + " layers, found " +
                               std::to_string(p.offload_layers));
  }
  if (p.mtp_layers < 0 || p.mtp_layers > ArchLimits::kMtpLayers) {
    fail("mtp_layers", "MTP layers must be between 0 and " + std::to_string(ArchLimits::kMtpLayers) + ", found " +
                           std::to_string(p.mtp_layers));
  }
  if (p.fp8_activations && p.precision != TrainPrecision::kFp8) {
    fail("fp8_activations", "FP8 activation caching needs FP8 training (--precision fp8)");
  }
  if (!train::PlanRules::Zero(p.zero)) fail("zero", "ZeRO stage must be 0, 1, 2 or 3, found " + std::to_string(p.zero));
  if (p.fsdp && p.zero != 3) {
    fail("fsdp", "FSDP shards parameters, gradients and optimizer state: it is ZeRO stage 3 (--zero 3 or leave --zero out), found " +
                     std::to_string(p.zero));
  }
  if (!p.fsdp && !p.fsdp_reshard) fail("fsdp_no_reshard", "keeping parameters gathered after forward is an FSDP option: it needs --fsdp");
  if (p.fsdp && p.schedule == PipelineSchedule::kDualPipe) {
    fail("fsdp", "FSDP with DualPipe is not modelled (DeepSeek-V3 runs ZeRO-1 under DualPipe)");
  }
  if (!bad.empty()) return Error(std::move(bad));
  const ModelTotals& t = rules.totals();
  if (!rules.Devices(p.tp, p.pp, p.dp, p.cp)) {
    fail("devices", "tp x pp x dp x cp = " + std::to_string(int64_t(p.tp) * p.pp * p.dp * p.cp) + " but devices = " +
                        Str(r.devices));
  }
  if (!rules.Tp(p.tp)) {
    fail("tp", "tp " + std::to_string(p.tp) + " does not divide the " + std::to_string(t.min_heads) + " attention heads");
  }
  if (!rules.Pp(p.pp)) fail("pp", "pp " + std::to_string(p.pp) + " exceeds the " + std::to_string(m.layers) + " layers");
  const bool given = p.first_stage_layers != 0 || p.last_stage_layers != 0;
  const bool counted = p.embedding_in_split || p.loss_in_split;
  // Neither given nor counted (the usual case), the layout rule is the even split's (Vp).
  if (!(given || counted ? rules.Layout(p.pp, p.vp, p) : rules.Vp(p.pp, p.vp))) {
    if (p.vp > 1 && p.pp == 1) {
      fail("vp", "virtual stages need pp > 1");
    } else if (given && counted) {
      fail("first_stage_layers", "give the first and last stages' layers or count the embedding and loss as "
                                 "layers, not both (Megatron-Core refuses the combination)");
    } else if (given && p.pp < 2) {
      fail("first_stage_layers", "first and last stage layers need pp > 1");
    } else if (given) {
      const int64_t middle = p.pp - (p.first_stage_layers > 0 ? 1 : 0) - (p.last_stage_layers > 0 ? 1 : 0);
      fail("first_stage_layers", "first stage " + std::to_string(p.first_stage_layers) + " and last stage " +
                                     std::to_string(p.last_stage_layers) + " layers leave " +
                                     std::to_string(m.layers - int64_t(p.first_stage_layers) - p.last_stage_layers) +
                                     " of the " + std::to_string(m.layers) + " layers for " + std::to_string(middle) +
                                     " middle stages: they must share them evenly, at least one each");
    } else if (counted) {
      const int64_t units = m.layers + (p.embedding_in_split ? 1 : 0) + (p.loss_in_split ? 1 : 0);
      fail("vp", "with the embedding and loss counted as layers, pp x vp = " + std::to_string(int64_t(p.pp) * p.vp) +
                     " must divide the " + std::to_string(units) + " layers");
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
  } else if (p.schedule != PipelineSchedule::k1F1B &&
             !train::PlanRules::Schedule(p.pp, p.vp, r.global_batch / p.dp / p.micro_batch, p.schedule)) {
    const int64_t mbs = r.global_batch / p.dp / p.micro_batch;
    std::string why;
    switch (p.schedule) {
      case PipelineSchedule::kInterleaved: why = "the interleaved schedule needs virtual stages (--vp > 1)"; break;
      case PipelineSchedule::kZeroBubble:
        why = "the zero-bubble schedule (ZB-H1) needs pp > 1 and no virtual stages (vp 1)";
        break;
      default:
        why = "DualPipe needs an even pp (found " + std::to_string(p.pp) + "), vp 1 (found " + std::to_string(p.vp) +
              ") and an even number of micro-batches of at least 2 x pp (found " + std::to_string(mbs) + ")";
        break;
    }
    fail("pp_schedule", why);
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
  if (p.cp_comm != CpComm::kRing && !rules.CpComm(p.tp, p.cp, p.cp_comm)) {
    fail("cp_comm", "all-to-all (Ulysses) context parallelism needs cp " + std::to_string(p.cp) + " to divide the " +
                        std::to_string(t.min_heads / std::max(1, p.tp)) + " attention heads of each tp rank");
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

}  // namespace train

StageLayers PipelineStageLayers(int layers, const TrainPlan& p) {
  if (p.pp <= 1) return StageLayers{layers, layers, layers};
  if (p.first_stage_layers > 0 || p.last_stage_layers > 0) {
    const int given = (p.first_stage_layers > 0 ? 1 : 0) + (p.last_stage_layers > 0 ? 1 : 0);
    const int middle_stages = p.pp - given;
    const int rest = layers - p.first_stage_layers - p.last_stage_layers;
    const int middle = middle_stages > 0 ? rest / middle_stages : 0;
    return StageLayers{p.first_stage_layers > 0 ? p.first_stage_layers : middle, middle,
                       p.last_stage_layers > 0 ? p.last_stage_layers : middle};
  }
  if (p.embedding_in_split || p.loss_in_split) {
    const int e = p.embedding_in_split ? 1 : 0, l = p.loss_in_split ? 1 : 0;
    const int per_stage = (layers + e + l) / p.pp;
    return StageLayers{per_stage - e, per_stage, per_stage - l};
  }
  // Even split; when the layers do not divide, the fullest stage (ceil) sets the pace.
  const int fullest = int((int64_t(layers) + p.pp - 1) / p.pp);
  return StageLayers{fullest, fullest, fullest};
}

std::string MostEvenPipelineLayout(int layers, int pp, int vp) {
  const int64_t chunks = int64_t(pp) * vp, items = int64_t(layers) + 2;
  std::string layout;
  for (int64_t k = 0; k < chunks; ++k) {
    int64_t n = items / chunks + (k < items % chunks ? 1 : 0);
    if (k > 0) layout += '|';
    if (k == 0) layout += 'E', --n;
    const bool last = k == chunks - 1;
    layout.append(std::size_t(std::max<int64_t>(0, n - (last ? 1 : 0))), 't');
    if (last) layout += 'L';
  }
  return layout;
}

Status ApplyPipelineLayout(std::string_view layout, int layers, TrainPlan& plan) {
  auto bad = [&](std::string msg) {
    return Error(Diagnostic{.key_path = "pp_layout", .message = "'" + std::string(layout) + "': " + std::move(msg)});
  };
  if (const auto space = layout.find(' '); space != std::string_view::npos) layout = layout.substr(0, space);
  // Expand (...)*n and x*n into a flat string of E, t, L, m and |.
  constexpr std::size_t kMaxExpanded = 1 << 20;
  std::string flat;
  std::vector<std::size_t> opens;  // where each open group starts in `flat`
  for (std::size_t i = 0; i < layout.size(); ++i) {
    const char ch = layout[i];
    if (ch == '(') {
      opens.push_back(flat.size());
    } else if (ch == ')' || ch == '*') {
      std::size_t from = flat.size();
      if (ch == ')') {
        if (opens.empty()) return bad("unbalanced ')'");
        from = opens.back();
        opens.pop_back();
        if (i + 1 >= layout.size() || layout[i + 1] != '*') continue;  // a group without repetition
        ++i;
      } else {
        if (flat.empty()) return bad("'*' repeats nothing");
        from = flat.size() - 1;
      }
      std::size_t j = i + 1;
      int64_t n = 0;
      while (j < layout.size() && std::isdigit(static_cast<unsigned char>(layout[j])) != 0 && n <= int64_t(kMaxExpanded)) {
        n = n * 10 + (layout[j] - '0');
        ++j;
      }
      if (j == i + 1 || n < 1) return bad("'*' needs a repeat count of at least 1");
      i = j - 1;
      const std::string unit = flat.substr(from);
      if (unit.empty() || double(unit.size()) * double(n) > double(kMaxExpanded)) return bad("expands beyond 1,048,576 items");
      for (int64_t k = 1; k < n; ++k) flat += unit;
    } else if (ch == 'E' || ch == 't' || ch == 'L' || ch == 'm' || ch == '|') {
      flat += ch;
      if (flat.size() > kMaxExpanded) return bad("expands beyond 1,048,576 items");
    } else {
      return bad(std::string("unknown item '") + ch + "' (E embedding, t layer, L loss, m MTP, | stage boundary)");
    }
  }
  if (!opens.empty()) return bad("unbalanced '('");
  std::vector<std::string_view> chunks;
  for (std::size_t start = 0;;) {
    const std::size_t bar = flat.find('|', start);
    chunks.push_back(std::string_view(flat).substr(start, bar == std::string::npos ? std::string::npos : bar - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  if (plan.pp < 2) return bad("a pipeline layout needs pp > 1");
  const int64_t stages = int64_t(plan.pp) * plan.vp;
  if (int64_t(chunks.size()) != stages) {
    return bad(std::to_string(chunks.size()) + " virtual stages, but pp x vp = " + std::to_string(stages));
  }
  std::vector<int> per_stage(std::size_t(plan.pp), 0);
  int total = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const std::size_t stage = i % std::size_t(plan.pp);
    for (char ch : chunks[i]) {
      if (ch == 't') {
        ++per_stage[stage];
        ++total;
      } else if (ch == 'm') {
        return bad("MTP layers (m) in the pipeline are not modelled");
      } else if (ch == 'E' && stage != 0) {
        return bad("the embedding (E) off the first stage is not modelled");
      } else if (ch == 'L' && stage + 1 != std::size_t(plan.pp)) {
        return bad("the loss (L) off the last stage is not modelled");
      }
    }
  }
  for (int n : per_stage) {
    if (n == 0) return bad("a stage without transformer layers is not modelled");
  }
  if (total != layers) return bad(std::to_string(total) + " layers, but the model has " + std::to_string(layers));
  for (int s = 1; s + 1 < plan.pp; ++s) {
    if (per_stage[std::size_t(s)] != per_stage[1]) {
      return bad("middle stages hold different layer counts (" + std::to_string(per_stage[1]) + ", " +
                 std::to_string(per_stage[std::size_t(s)]) + "): not modelled");
    }
  }
  plan.first_stage_layers = per_stage.front();
  plan.last_stage_layers = per_stage.back();
  plan.embedding_in_split = plan.loss_in_split = false;
  if (plan.pp > 2 && per_stage.front() == per_stage[1] && per_stage.back() == per_stage[1]) {
    plan.first_stage_layers = plan.last_stage_layers = 0;  // even
  }
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
