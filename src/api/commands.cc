// Decoding requests from their fields, and running them.
#include "suanli/api/commands.h"

#include "suanli/core/text.h"
#include "suanli/econ/cost.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace suanli {
namespace {

// Values CheckArgs has accepted.
int64_t Integer(const Args& args, std::string_view key, int64_t fallback) {
  const auto v = args.Get(key);
  return v ? int64_t(std::strtod(std::string(*v).c_str(), nullptr)) : fallback;
}
int IntegerOr(const Args& args, std::string_view key, int fallback) { return int(Integer(args, key, fallback)); }
double Number(const Args& args, std::string_view key, double fallback) {
  const auto v = args.Get(key);
  return v ? std::strtod(std::string(*v).c_str(), nullptr) : fallback;
}
std::string Text(const Args& args, std::string_view key) {
  const auto v = args.Get(key);
  return v ? std::string(TrimBlanks(*v)) : std::string();
}
bool Flag(const Args& args, std::string_view key) { return args.Get(key) == "true"; }
std::vector<std::string> List(const Args& args, std::string_view key) {
  const std::string all = Text(args, key);
  return all.empty() ? std::vector<std::string>{} : SplitCommaItems(all);
}
Dtype DtypeOr(const Args& args, std::string_view key, Dtype fallback) {
  const auto v = args.Get(key);
  return v ? ParseDtype(Text(args, key)).value_or(fallback) : fallback;
}

// The workload and plan fields infer and compare share.
void DecodeWorkload(const Args& args, InferenceWorkload& w, InferencePlan& p) {
  w.input_tokens = Integer(args, "input_tokens", 0);
  w.output_tokens = Integer(args, "output_tokens", 0);
  if (args.Has("concurrency")) {
    const bool max = Text(args, "concurrency") == "max";
    w.mode = max ? BatchMode::kConcurrencyMax : BatchMode::kConcurrency;
    w.batch = max ? 1 : Integer(args, "concurrency", 1);
  } else if (args.Has("batch")) {
    const bool max = Text(args, "batch") == "max";
    w.mode = max ? BatchMode::kStaticMax : BatchMode::kStatic;
    w.batch = max ? 1 : Integer(args, "batch", 1);
  } else {
    w.mode = BatchMode::kStatic;  // one request on its own
    w.batch = 1;
  }
  p.tp = IntegerOr(args, "tp", 1);
  p.pp = IntegerOr(args, "pp", 1);
  p.ep = IntegerOr(args, "ep", 1);
  p.precision.weights = DtypeOr(args, "weights", Dtype::kBf16);
  // fp8 weights come from fp8 checkpoints (ModelOpt, DeepSeek), whose GEMMs
  // run in fp8 on both operands: the activations follow the weights. Every
  // other weight format is weight-only and computes in 16 bits.
  p.precision.activations =
      DtypeOr(args, "activations", p.precision.weights == Dtype::kFp8 ? Dtype::kFp8 : Dtype::kBf16);
  p.precision.kv_cache = DtypeOr(args, "kv_cache", Dtype::kBf16);
  p.precision.sparse_24 = Flag(args, "sparsity");
}

std::string WorkloadText(const ModelEntry& model, const InferenceRequest& r) {
  const InferenceWorkload& w = r.workload;
  const bool chosen = w.mode == BatchMode::kStaticMax || w.mode == BatchMode::kConcurrencyMax;
  return model.id + " " + std::to_string(w.input_tokens) + " in / " + std::to_string(w.output_tokens) + " out, " +
         std::string(ModeName(w.mode)) + (chosen ? " (batch per row)" : " (batch " + std::to_string(w.batch) + ")") +
         ", tp " + std::to_string(r.plan.tp) + " pp " + std::to_string(r.plan.pp) + " ep " + std::to_string(r.plan.ep) +
         ", weights " + std::string(DtypeName(r.plan.precision.weights));
}

// The latest rule set in force that classifies chips.
const RuleSet* LatestInForce(const Catalog& catalog) {
  const RuleSet* best = nullptr;
  for (const RuleSet& r : catalog.rules()) {
    if (r.status != RuleStatus::kInForce || r.applies_to != RuleScope::kChips) continue;
    if (best == nullptr || r.effective > best->effective) best = &r;
  }
  return best;
}

}  // namespace

std::string_view ModeName(BatchMode m) {
  switch (m) {
    case BatchMode::kStatic: return "static";
    case BatchMode::kStaticMax: return "static, best batch";
    case BatchMode::kConcurrency: return "continuous";
    case BatchMode::kConcurrencyMax: return "continuous, all that fit";
  }
  return "?";
}

std::string TrainPlanText(const TrainPlan& p) {
  std::string s = "tp " + std::to_string(p.tp) + " pp " + std::to_string(p.pp) + " dp " + std::to_string(p.dp);
  if (p.cp > 1) s += " cp " + std::to_string(p.cp);
  if (p.ep > 1) s += " ep " + std::to_string(p.ep);
  if (p.ep > 1 && ExpertTp(p) != p.tp) s += " etp " + std::to_string(ExpertTp(p));
  if (p.ep > 1 && ExpertDp(p) != p.dp) s += " edp " + std::to_string(ExpertDp(p));
  if (p.vp > 1) s += " vp " + std::to_string(p.vp);
  if (p.first_stage_layers > 0) s += ", first stage " + std::to_string(p.first_stage_layers) + " layers";
  if (p.last_stage_layers > 0) s += ", last stage " + std::to_string(p.last_stage_layers) + " layers";
  if (p.embedding_in_split) s += ", embedding counted as a layer";
  if (p.loss_in_split) s += ", loss counted as a layer";
  if (p.pp > 1 && p.schedule == PipelineSchedule::kZeroBubble) s += ", zero-bubble";
  if (p.pp > 1 && p.schedule == PipelineSchedule::kDualPipe) s += ", DualPipe";
  if (p.cp > 1 && p.cp_comm == CpComm::kAllToAll) s += ", CP all-to-all";
  if (p.fp8_activations) s += ", FP8 activations";
  if (p.mtp_layers > 0) s += ", " + std::to_string(p.mtp_layers) + " MTP";
  if (p.recompute_modules != 0) s += ", recompute modules " + RecomputeModulesText(p.recompute_modules);
  s += ", micro-batch " + std::to_string(p.micro_batch) + ", recompute " + std::string(RecomputeName(p.recompute)) +
       ", ZeRO " + std::to_string(p.zero);
  if (p.offload_layers > 0) s += ", " + std::to_string(p.offload_layers) + " layers offloaded";
  if (p.offload_optimizer) s += ", optimizer offloaded";
  if (p.offload_weights) s += ", weights offloaded";
  if (p.fsdp) s += p.fsdp_reshard ? ", FSDP" : ", FSDP without reshard";
  if (p.sequence_parallel && p.tp > 1) s += ", SP";
  if (!p.overlap_dp) s += ", no DP overlap";
  if (p.overlap_tp && p.tp > 1) s += ", TP overlap";
  if (!p.overlap_pp && p.pp > 1 && EffectiveSchedule(p) == PipelineSchedule::kInterleaved) s += ", no PP overlap";
  return s;
}

Result<InferQuery> DecodeInfer(const Args& args) {
  if (auto ok = CheckArgs(CommandFor("infer"), args); !ok) return std::move(ok).error();
  InferQuery q;
  q.hardware = Text(args, "hardware");
  q.rank = RankOf(args);
  q.model = Text(args, "model");
  q.stack = Text(args, "stack");
  DecodeWorkload(args, q.workload, q.plan);
  return q;
}

Result<CompareQuery> DecodeCompare(const Args& args) {
  if (auto ok = CheckArgs(CommandFor("compare"), args); !ok) return std::move(ok).error();
  CompareQuery q;
  q.hardware = List(args, "hardware");
  q.rank = RankOf(args);
  q.model = Text(args, "model");
  q.stack = Text(args, "stack");
  DecodeWorkload(args, q.workload, q.plan);
  q.region = Text(args, "region");
  q.cny = Text(args, "currency") == "cny";
  return q;
}

Result<TrainQuery> DecodeTrain(const Args& args) {
  if (auto ok = CheckArgs(CommandFor("train"), args); !ok) return std::move(ok).error();
  TrainQuery q;
  q.hardware = Text(args, "hardware");
  q.rank = RankOf(args);
  q.model = Text(args, "model");
  q.stack = Text(args, "stack");
  TrainRequest& r = q.request;
  r.devices = Integer(args, "devices", 0);
  r.seq_len = Integer(args, "seq_len", 0);
  r.global_batch = Integer(args, "global_batch", 0);
  r.tokens = Number(args, "tokens", 0);
  r.flash_attention = !Flag(args, "no_flash");
  r.lora = Flag(args, "lora");
  r.moe_capacity_factor = Number(args, "moe_capacity_factor", 0);
  r.moe_pad_to_capacity = Flag(args, "moe_pad_to_capacity");
  TrainPlan& p = r.plan;
  p.recompute = ParseRecompute(Text(args, "recompute")).value_or(Recompute::kNone);
  p.precision = ParseTrainPrecision(Text(args, "precision")).value_or(TrainPrecision::kBf16);
  p.optimizer_state = ParseOptimizerState(Text(args, "optimizer_state")).value_or(OptimizerState::kFp32);
  p.tp = IntegerOr(args, "tp", 1);
  p.pp = IntegerOr(args, "pp", 1);
  p.cp = IntegerOr(args, "cp", 1);
  p.ep = IntegerOr(args, "ep", 1);
  p.vp = IntegerOr(args, "vp", 1);
  p.etp = IntegerOr(args, "etp", 0);
  p.first_stage_layers = IntegerOr(args, "first_stage_layers", 0);
  p.last_stage_layers = IntegerOr(args, "last_stage_layers", 0);
  p.embedding_in_split = Flag(args, "embedding_in_split");
  p.loss_in_split = Flag(args, "loss_in_split");
  q.pp_layout = Text(args, "pp_layout");
  p.dispatcher = ParseName<ExpertDispatcher>(kExpertDispatcherNames, Text(args, "dispatcher")).value_or(ExpertDispatcher::kAllToAll);
  p.overlap_ep = Flag(args, "ep_overlap");
  p.offload_layers = IntegerOr(args, "offload_layers", 0);
  p.offload_optimizer = Flag(args, "offload_optimizer");
  p.offload_weights = Flag(args, "offload_weights");
  p.schedule = ParsePipelineSchedule(Text(args, "pp_schedule")).value_or(PipelineSchedule::k1F1B);
  p.cp_comm = ParseName<CpComm>(kCpCommNames, Text(args, "cp_comm")).value_or(CpComm::kRing);
  p.fp8_activations = Flag(args, "fp8_activations");
  p.mtp_layers = IntegerOr(args, "mtp_layers", 0);
  if (args.Has("recompute_modules")) {
    std::string bad;
    auto modules = ParseRecomputeModules(Text(args, "recompute_modules"), &bad);
    if (!modules) {
      std::string names;
      for (std::string_view n : kRecomputeModuleNames) names += (names.empty() ? "" : ", ") + std::string(n);
      return Error(Diagnostic{.key_path = "recompute_modules",
                              .message = "unknown module '" + bad + "' (Megatron-Core's: " + names + ")"});
    }
    p.recompute_modules = *modules;
    if (!args.Has("recompute") && *modules != 0) p.recompute = Recompute::kSelective;
  }
  p.micro_batch = IntegerOr(args, "micro_batch", 1);
  p.fsdp = Flag(args, "fsdp");
  p.fsdp_reshard = !Flag(args, "fsdp_no_reshard");
  p.zero = IntegerOr(args, "zero", p.fsdp ? 3 : 1);
  p.sequence_parallel = !Flag(args, "no_sequence_parallel");
  p.overlap_dp = !Flag(args, "no_overlap");
  p.overlap_tp = Flag(args, "tp_overlap");
  p.overlap_pp = !Flag(args, "no_pp_overlap");
  p.dp = args.Has("dp") ? IntegerOr(args, "dp", 1) : DerivedDp(r);
  q.search = Flag(args, "search");
  if (q.search) {
    // What the request states stays fixed; every other dimension is searched.
    q.space = PlanSpace::Fixed(p);
    PlanSpace& s = q.space;
    if (!args.Has("tp")) s.tp.clear();
    if (!args.Has("pp")) s.pp.clear();
    if (!args.Has("dp")) s.dp.clear();
    if (!args.Has("cp")) s.cp.clear();
    if (!args.Has("ep")) s.ep.clear();
    if (!args.Has("vp")) s.vp.clear();
    if (!args.Has("micro_batch")) s.micro_batch.clear();
    if (!args.Has("recompute")) s.recompute.clear();
    if (!args.Has("zero")) s.zero.clear();
    if (!Flag(args, "no_sequence_parallel")) s.sequence_parallel.clear();
    if (!Flag(args, "no_overlap")) s.overlap_dp.clear();
    if (!Flag(args, "tp_overlap")) s.overlap_tp.clear();
    if (!args.Has("pp_schedule")) s.schedule.clear();
    if (!args.Has("cp_comm")) s.cp_comm.clear();
    if (!Flag(args, "fsdp")) s.fsdp.clear();
    if (!args.Has("etp")) s.etp.clear();
    if (!args.Has("first_stage_layers") && !args.Has("last_stage_layers") && !args.Has("pp_layout") &&
        !Flag(args, "embedding_in_split") && !Flag(args, "loss_in_split")) {
      s.ends_in_split.clear();
    }
    if (!Flag(args, "offload_optimizer")) s.offload_optimizer.clear();
    if (!Flag(args, "fsdp_no_reshard")) s.fsdp_reshard.clear();
    q.options.top_k = IntegerOr(args, "top", 5);
    q.options.objective = Text(args, "objective") == "memory" ? Objective::kMemory : Objective::kStepTime;
    q.options.pareto = Flag(args, "pareto");
  }
  return q;
}

Result<ReleasedCatalog> ApplyRelease(const Catalog& catalog, const Args& args, std::string_view hardware) {
  ReleasedCatalog out;
  const auto text = args.Get("release");
  if (!text) return out;
  const auto eq = text->find('=');
  ReleaseRef want;
  if (eq != std::string_view::npos) {
    want.framework = std::string(TrimBlanks(text->substr(0, eq)));
    want.version = std::string(TrimBlanks(text->substr(eq + 1)));
  }
  if (want.framework.empty() || want.version.empty() || want.framework.size() > 80 || want.version.size() > 40) {
    return Error(Diagnostic{.key_path = FlagName("release"),
                            .message = "expected FRAMEWORK=VERSION (at most 80 and 40 characters), e.g. flash-attention=3.0.0; found '" +
                                       std::string(text->substr(0, 130)) + "'"});
  }
  std::vector<std::string> notes;
  out.catalog = catalog.ForRelease(want, &notes);
  // What the hardware's own profile took (other profiles' choices do not apply to the run).
  std::string profile;
  if (auto hw = ResolveHardware(catalog, hardware)) {
    if (const Profile* p = catalog.ProfileFor(hw->chip)) profile = p->id;
  }
  for (auto& n : notes) {
    if (profile.empty() || n.starts_with("profile " + profile + ":")) out.notes.push_back(std::move(n));
  }
  const Profile* used = profile.empty() ? nullptr : catalog.FindProfile(profile);
  if (used != nullptr && !used->HasReleasesOf(want.framework)) {
    out.notes.push_back("profile " + profile + " has no figures of " + want.framework + " releases: its own figures");
  }
  return out;
}

Result<ValidateOptions> DecodeValidate(const Args& args) {
  if (auto ok = CheckArgs(CommandFor("validate"), args); !ok) return std::move(ok).error();
  ValidateOptions o;
  o.holdout_by_group = args.Get("holdout_by") == std::optional<std::string_view>("group");
  if (args.Has("holdout_match")) {
    if (!o.holdout_by_group) {
      return Error(Diagnostic{.key_path = FlagName("holdout_match"), .message = "is read only with --holdout-by group"});
    }
    o.match = *args.Get("holdout_match") == "repository" ? HoldoutMatch::kRepository : HoldoutMatch::kDocument;
  }
  return o;
}

Result<ClassifyQuery> DecodeClassify(const Args& args) {
  if (auto ok = CheckArgs(CommandFor("classify"), args); !ok) return std::move(ok).error();
  ClassifyQuery q;
  q.hardware = Text(args, "hardware");
  q.rules = List(args, "rules");
  if (q.rules.size() == 1 && q.rules[0] == "all") q.rules.clear();
  q.headroom_rules = Text(args, "headroom_rules");
  return q;
}

namespace {

// One deployment of a resolved model on `hardware`.
Result<InferResult> InferOn(const Catalog& catalog, std::string_view hardware, std::optional<DeviceRank> rank,
                            const ModelEntry& model, const InferenceRequest& request) {
  auto resolved = ResolveHardware(catalog, hardware);
  if (!resolved) return std::move(resolved).error();
  ResolvedHardware hw = AtRank(std::move(*resolved), rank);
  auto cluster = MakeCluster(catalog, hw.chip, hw.system);
  if (!cluster) return std::move(cluster).error();
  InferResult out{.hardware = std::move(hw), .model = model, .cluster = std::move(*cluster), .request = request,
                  .estimate = {}, .warnings = {}};
  auto est = EstimateInference(out.cluster, out.model.arch, out.request);
  if (!est) return std::move(est).error();
  out.estimate = *est;
  out.warnings = WarningList(est->warnings);
  for (const auto& w : out.hardware.warnings) out.warnings.push_back(w);
  return out;
}

}  // namespace

Result<InferResult> RunInfer(const Catalog& catalog, const InferQuery& q) {
  auto model = ResolveModel(catalog, q.model);
  if (!model) return std::move(model).error();
  auto stack = MakeServingStack(catalog, q.stack);
  if (!stack) return std::move(stack).error();
  return InferOn(catalog, q.hardware, q.rank, *model, InferenceRequest{.workload = q.workload, .plan = q.plan, .stack = *stack});
}

Result<CompareResult> RunCompare(const Catalog& catalog, const CompareQuery& q) {
  if (q.hardware.empty()) {
    return Error(Diagnostic{.key_path = "hardware", .message = "name at least one chip or system"});
  }
  CompareResult out;
  auto model = ResolveModel(catalog, q.model);
  if (!model) return std::move(model).error();
  out.model = std::move(*model);
  auto stack = MakeServingStack(catalog, q.stack);
  if (!stack) return std::move(stack).error();
  out.request = InferenceRequest{.workload = q.workload, .plan = q.plan, .stack = *stack};
  for (const auto& name : q.hardware) {
    auto row = InferOn(catalog, name, q.rank, out.model, out.request);
    if (!row) return std::move(row).error();
    for (const auto& w : row->hardware.warnings) out.warnings.push_back(w);
    if (row->estimate.warnings != 0) out.warnings.push_back(row->hardware.id() + ": " + WarningTexts(row->estimate.warnings));
    out.rows.push_back(std::move(*row));
  }
  out.workload = WorkloadText(out.model, out.request);
  // The cost columns: each row's device-hour in the facility, and per output token.
  auto facility = ResolveFacility(catalog, q.region);
  if (!facility && !q.region.empty()) return std::move(facility).error();
  out.facility = facility ? (*facility)->id : "";
  out.cny = q.cny;
  if (auto fx = FxRateOn(catalog, "9999-12-31")) out.cny_per_usd = fx->cny_per_usd;
  for (const auto& row : out.rows) {
    CompareCost c;
    if (!facility) {
      c.why = "no facility in catalog/facilities/";
    } else if (auto in = MakeTcoInputs(catalog, row.hardware.chip, row.hardware.system, **facility, "", {}); !in) {
      c.why = in.error().diagnostics.empty() ? "no price" : in.error().diagnostics.front().message;
    } else if (row.estimate.fits) {
      const TcoBreakdown b = EvaluateTco(BaseValues(*in));
      const InferenceEstimate& e = row.estimate;
      const TokenCost t = CostPerToken(ServingPointOf(e, out.request.workload), b.total(), b.power_w_at_wall);
      c = CompareCost{.known = true, .why = "", .usd_per_device_hour = b.total(),
                      .usd_per_million_output_tokens = t.usd_per_million_output_tokens,
                      .usd_per_million_input_tokens = t.usd_per_million_input_tokens,
                      .joules_per_output_token = t.joules_per_output_token};
    } else {
      c.why = "does not fit";
    }
    out.costs.push_back(std::move(c));
  }
  return out;
}

Result<TrainResult> RunTrain(const Catalog& catalog, const TrainQuery& q) {
  auto d = ResolveDeployment(catalog, q.hardware, q.model, q.rank);
  if (!d) return std::move(d).error();
  auto stack = MakeTrainingStack(catalog, q.stack);
  if (!stack) return std::move(stack).error();
  TrainResult out{.hardware = std::move(d->hardware), .model = std::move(d->model), .cluster = std::move(d->cluster),
                  .request = q.request, .searched = q.search, .estimate = {}, .search = {}};
  out.request.stack = *stack;
  if (!q.pp_layout.empty()) {
    if (auto ok = ApplyPipelineLayout(q.pp_layout, out.model.arch.layers, out.request.plan); !ok) {
      return std::move(ok).error();
    }
  }
  if (!q.search) {
    auto e = EstimateTraining(out.cluster, out.model.arch, out.request);
    if (!e) return std::move(e).error();
    out.estimate = *e;
    return out;
  }
  auto s = SearchTraining(out.cluster, out.model.arch, out.request, q.space, q.options);
  if (!s) return std::move(s).error();
  out.search = std::move(*s);
  return out;
}

Result<ClassifyResult> RunClassify(const Catalog& catalog, const ClassifyQuery& q) {
  ClassifyResult out;
  if (q.hardware == "all") {
    out.chips = catalog.chips();
  } else {
    auto hw = ResolveHardware(catalog, q.hardware);
    if (!hw) return std::move(hw).error();
    out.warnings = hw->warnings;
    out.chips.push_back(std::move(hw->chip));
  }
  if (q.rules.empty()) {
    for (const auto& r : catalog.rules()) out.rules.push_back(&r);
  } else {
    std::vector<std::string> known;
    for (const auto& x : catalog.rules()) known.push_back(x.id);
    for (const auto& id : q.rules) {
      const RuleSet* r = catalog.FindRuleSet(id);
      if (r == nullptr) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        return Error::NotFound(
            Diagnostic{.key_path = "rules", .message = "no rule set '" + id + "'" + DidYouMean(id, known) + " (known: " + list + ")"});
      }
      out.rules.push_back(r);
    }
  }
  if (out.rules.empty()) return Error(Diagnostic{.file = catalog.dir(), .key_path = "rules", .message = "the catalog holds no rule sets"});
  if (!q.headroom_rules.empty()) {
    out.headroom_rules = catalog.FindRuleSet(q.headroom_rules);
    if (out.headroom_rules == nullptr) {
      return Error::NotFound(Diagnostic{.key_path = "headroom_rules", .message = "no rule set '" + q.headroom_rules + "'"});
    }
  } else {
    out.headroom_rules = LatestInForce(catalog);
  }
  for (const auto& chip : out.chips) {
    auto& row = out.results.emplace_back();
    for (const RuleSet* r : out.rules) row.push_back(Classify(chip, *r));
  }
  return out;
}

}  // namespace suanli
