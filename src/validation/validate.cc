// Mapping measured cases to predictions, and error statistics.
#include "suanli/validation/validate.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>
#include <variant>

#include "catalog/raw_node.h"
#include "validation/case_fields.h"
#include "validation/holdout.h"
#include "validation/serving_cases.h"
#include "suanli/search/search.h"
#include "suanli/train/train.h"

namespace suanli {
namespace {

// The case's architecture fields, null where the case is silent.
struct CaseModel {
  std::optional<long long> layers, hidden, heads, kv_heads, ffn, vocab, experts, active;
};

CaseModel ReadCaseModel(const RawNode& c) {
  CaseModel m;
  m.layers = IntAt(c, {"model", "layers"});
  m.hidden = IntAt(c, {"model", "hidden"});
  m.heads = IntAt(c, {"model", "heads"});
  m.kv_heads = IntAt(c, {"model", "kv_heads"});
  m.ffn = IntAt(c, {"model", "ffn"});
  m.vocab = IntAt(c, {"model", "vocab"});
  m.experts = IntAt(c, {"model", "moe_experts"});
  m.active = IntAt(c, {"model", "moe_active"});
  return m;
}

bool Matches(const ModelArch& a, const CaseModel& m) {
  if (a.groups.empty()) return false;
  const LayerGroup& g = a.groups.back();
  auto same = [](const std::optional<long long>& want, long long have) { return !want || *want == have; };
  const long long ffn = g.is_moe() ? g.moe.expert_ffn : g.mlp.ffn;
  return same(m.layers, a.layers) && same(m.hidden, a.hidden) && same(m.heads, g.attention.heads) &&
         same(m.kv_heads, g.attention.kv_heads) && same(m.ffn, ffn) && same(m.vocab, a.vocab) &&
         same(m.experts, g.moe.experts) && same(m.active, g.moe.top_k);
}

// A llama-style model from the case's fields, when no catalog model matches.
std::optional<ModelArch> ArchFromFields(const CaseModel& m) {
  if (!m.layers || !m.hidden || !m.heads || !m.ffn || !m.vocab) return std::nullopt;
  if (*m.layers <= 0 || *m.hidden <= 0 || *m.heads <= 0 || *m.ffn <= 0 || *m.vocab <= 0 || *m.hidden % *m.heads != 0) {
    return std::nullopt;
  }
  // The importer's bounds hold for a model written as case fields too.
  if (*m.layers > ArchLimits::kLayers || *m.hidden > ArchLimits::kHidden || *m.heads > ArchLimits::kHeads ||
      *m.ffn > ArchLimits::kFfn || *m.vocab > ArchLimits::kVocab || m.kv_heads.value_or(1) > ArchLimits::kHeads ||
      m.kv_heads.value_or(1) < 1 || m.experts.value_or(0) > ArchLimits::kExperts || m.active.value_or(1) < 0 ||
      m.active.value_or(1) > m.experts.value_or(1 << 20)) {
    return std::nullopt;
  }
  ModelArch a;
  a.family = "transformer";
  a.hidden = int(*m.hidden);
  a.vocab = int(*m.vocab);
  a.layers = int(*m.layers);
  LayerGroup g;
  g.count = a.layers;
  g.attention.heads = int(*m.heads);
  g.attention.kv_heads = int(m.kv_heads.value_or(*m.heads));
  g.attention.head_dim = g.attention.v_head_dim = int(*m.hidden / *m.heads);
  if (m.experts && *m.experts > 0) {
    g.moe.experts = int(*m.experts);
    g.moe.top_k = int(m.active.value_or(2));
    g.moe.expert_ffn = int(*m.ffn);
  } else {
    g.mlp.ffn = int(*m.ffn);
  }
  a.groups.push_back(g);
  return a;
}

struct Mapping {
  InferenceRequest request;
  int replicas = 1;
  std::string metric;
  double measured = 0;
  bool generated_over_latency = false;  // static batch: output tokens / end-to-end latency
  std::vector<std::string> assumptions;
};

// Maps an inference case's workload and result, or says why it cannot.
std::optional<std::string> MapInference(const RawNode& c, Mapping& out) {
  const auto in = IntAt(c, {"workload", "input_len"});
  const auto outl = IntAt(c, {"workload", "output_len"});
  if (!in || !outl) {
    return "input/output lengths are not fixed numbers ('" + TextAt(c, {"workload", "input_len"}) + "' / '" +
           TextAt(c, {"workload", "output_len"}) + "'); the model predicts fixed-length requests";
  }
  InferenceWorkload& r = out.request.workload;
  InferencePlan& plan = out.request.plan;
  r.input_tokens = *in;
  r.output_tokens = *outl;
  const std::string scenario = Lower(TextAt(c, {"workload", "scenario"}));
  const std::string batch_text = Lower(TextAt(c, {"workload", "batch_or_concurrency"}));
  const auto batch = IntAt(c, {"workload", "batch_or_concurrency"});
  if (scenario.find("static") != std::string::npos) {
    if (!batch) return "a static-batch case without a batch size";
    r.mode = BatchMode::kStatic;
    r.batch = *batch;
  } else if (scenario.find("offline") != std::string::npos || scenario.find("max-throughput") != std::string::npos) {
    if (batch) {
      r.mode = BatchMode::kConcurrency;
      r.batch = *batch;
    } else {
      r.mode = BatchMode::kConcurrencyMax;
      out.assumptions.push_back("offline: every request queued, so as many in flight as the KV cache holds");
    }
  } else if (batch) {
    r.mode = BatchMode::kConcurrency;
    r.batch = *batch;
  } else {
    return "scenario '" + scenario + "' with batch '" + batch_text + "' is not a static batch or an offline run";
  }
  const auto tp = IntAt(c, {"workload", "tp"});
  const auto pp = IntAt(c, {"workload", "pp"});
  const auto ep = IntAt(c, {"workload", "ep"});
  const auto count = IntAt(c, {"hardware", "count"});
  plan.tp = int(tp.value_or(1));
  plan.pp = int(pp.value_or(1));
  plan.ep = int(ep.value_or(1));
  if (!tp) out.assumptions.push_back("tp not stated: 1");
  if (plan.tp < 1 || plan.pp < 1 || plan.ep < 1) return "parallelism must be positive";
  const long long per_replica = static_cast<long long>(plan.tp) * plan.pp * plan.ep;
  if (count && *count > per_replica && *count % per_replica == 0) out.replicas = int(*count / per_replica);
  if (!count && tp) out.assumptions.push_back("device count not stated: tp x pp x ep");
  // Precision.
  const std::string prec = Lower(TextAt(c, {"workload", "precision"}));
  const std::string kv = Lower(TextAt(c, {"workload", "kv_cache_precision"}));
  Precision& p = plan.precision;
  if (prec.find("fp8") != std::string::npos) {
    p = {Dtype::kFp8, Dtype::kFp8, Dtype::kFp8};
    if (kv.empty()) out.assumptions.push_back("FP8 checkpoint: KV cache in fp8 too (ModelOpt FP8 checkpoints quantise it)");
  } else if (prec.find("fp16") != std::string::npos || prec.find("float16") != std::string::npos) {
    p = {Dtype::kFp16, Dtype::kFp16, Dtype::kFp16};
  } else if (prec.find("bf16") != std::string::npos || prec.find("bfloat16") != std::string::npos) {
    p = {Dtype::kBf16, Dtype::kBf16, Dtype::kBf16};
  } else if (prec.find("int4") != std::string::npos || prec.find("w4") != std::string::npos) {
    p = {Dtype::kInt4, Dtype::kBf16, Dtype::kBf16};
  } else {
    p = {Dtype::kBf16, Dtype::kBf16, Dtype::kBf16};
    out.assumptions.push_back("precision not stated: bf16");
  }
  if (kv.find("fp8") != std::string::npos) p.kv_cache = Dtype::kFp8;
  // Metric.
  // Throughput first, then per-device throughput, then latencies.
  for (std::string_view key : {"total_output_tokens_per_s", "output_tokens_per_s", "tokens_per_s",
                               "output_tokens_per_s_per_gpu", "tokens_per_s_per_gpu", "ttft_ms", "ttft_s", "tpot_ms",
                               "tpot_s", "request_latency_s", "latency_s", "latency_ms"}) {
    if (auto v = NumberAt(c, {"result", key})) {
      out.metric = std::string(key);
      out.measured = *v;
      break;
    }
  }
  if (out.metric.empty()) {
    return std::string("no result suanli predicts (output tokens/s, per GPU, TTFT, TPOT or request latency)");
  }
  if (!(out.measured > 0)) return "the measured value is not positive";
  if (out.metric == "tokens_per_s" && r.mode == BatchMode::kStatic) {
    out.generated_over_latency = true;
    out.assumptions.push_back(
        "tokens_per_s read as batch x output tokens / end-to-end latency, as TensorRT-LLM's static-batch "
        "benchmark reports it; counting input tokens too would imply a latency far beyond the compute needed");
  }
  return std::nullopt;
}

std::string Setup(const InferenceRequest& request, int replicas, const InferenceEstimate& e) {
  const InferenceWorkload& r = request.workload;
  const InferencePlan& plan = request.plan;
  std::string s = std::to_string(r.input_tokens) + " in / " + std::to_string(r.output_tokens) + " out, ";
  s += (r.mode == BatchMode::kStatic ? "static batch " : "in flight ") + std::to_string(e.batch);
  s += ", tp " + std::to_string(plan.tp);
  if (plan.pp > 1) s += " pp " + std::to_string(plan.pp);
  if (plan.ep > 1) s += " ep " + std::to_string(plan.ep);
  if (replicas > 1) s += " x " + std::to_string(replicas) + " replicas";
  s += ", " + std::string(DtypeName(plan.precision.weights));
  return s;
}

using CaseOutcome = std::variant<CaseResult, std::string>;  // a prediction, or why there is none

CaseResult MakeResult(std::string metric, std::string hardware, std::string model, std::string setup,
                      const std::vector<std::string>& assumptions, double measured, double predicted) {
  CaseResult r{.id = {}, .group = {}, .kind = {}, .metric = std::move(metric), .hardware = std::move(hardware),
               .model = std::move(model), .setup = std::move(setup), .assumption = {}, .measured = measured,
               .predicted = predicted, .signed_error = (predicted - measured) / measured};
  for (const auto& a : assumptions) r.assumption += (r.assumption.empty() ? "" : "; ") + a;
  return r;
}

// The catalog model with the case's shape, or one named like it, or a
// llama-style model from its fields.
struct ResolvedCaseModel {
  const ModelEntry* entry = nullptr;
  std::optional<ModelArch> fields;
  [[nodiscard]] const ModelArch& arch() const { return entry != nullptr ? entry->arch : *fields; }
  [[nodiscard]] std::string id() const { return entry != nullptr ? entry->id : "case fields"; }
};

std::optional<ResolvedCaseModel> ResolveCaseModel(const Catalog& catalog, const RawNode& c) {
  ResolvedCaseModel out;
  const CaseModel cm = ReadCaseModel(c);
  const bool has_shape = cm.layers || cm.hidden || cm.heads;
  if (has_shape) {
    for (const ModelEntry& m : catalog.models()) {
      if (Matches(m.arch, cm)) {
        out.entry = &m;
        return out;
      }
    }
  }
  std::string name = TextAt(c, {"model", "name"});
  if (!name.empty()) {
    // A model named like a catalog model is that model when its core
    // dimensions agree (cases describe MLA and MoE layers loosely).
    if (const ModelEntry* m = catalog.FindModel(name)) {
      const bool core = (!cm.layers || *cm.layers == m->arch.layers) && (!cm.hidden || *cm.hidden == m->arch.hidden);
      if (core) {
        out.entry = m;
        return out;
      }
    }
  }
  out.fields = ArchFromFields(cm);
  if (!out.fields) return std::nullopt;
  return out;
}

// The catalog chip and model a case names, or why there are none.
struct CaseSubjects {
  const Chip* chip = nullptr;
  ResolvedCaseModel model;
};
std::variant<CaseSubjects, std::string> ResolveCaseSubjects(const Catalog& catalog, const RawNode& c) {
  const std::string chip_name = TextAt(c, {"hardware", "chip"});
  const Chip* chip = MatchChipName(catalog, chip_name);
  if (chip == nullptr) return "no catalog chip matches '" + chip_name + "'";
  auto model = ResolveCaseModel(catalog, c);
  if (!model) return std::string("no catalog model has the case's shape or name, and its fields are incomplete");
  return CaseSubjects{chip, std::move(*model)};
}

// A field the mapping reads as a number that holds something else, with
// where it is ("cases.yaml:12:9: workload.tp: expected a whole number,
// found 'one'"), or "" when every such field is a number or absent.
std::string TypeProblem(const RawNode& c) {
  constexpr std::pair<std::string_view, std::string_view> kNumbers[] = {
      {"workload", "tp"},          {"workload", "pp"},          {"workload", "dp"},     {"workload", "cp"},
      {"workload", "ep"},          {"workload", "vp"},          {"workload", "micro_batch"},
      {"workload", "etp"},         {"workload", "edp"},
      {"workload", "global_batch"}, {"workload", "seq_len"},    {"hardware", "count"},  {"model", "layers"},
      {"model", "hidden"},         {"model", "heads"},          {"model", "kv_heads"},  {"model", "ffn"},
      {"model", "vocab"},          {"model", "moe_experts"},    {"model", "moe_active"}};
  for (auto [section, key] : kNumbers) {
    const RawNode* v = Path(c, {section, key});
    if (v == nullptr) continue;
    const std::string path = std::string(section) + "." + std::string(key);
    if (!CaseInt(*v)) {
      return v->At(path, "expected a whole number, found " +
                             (v->IsScalar() ? "'" + v->scalar + "'" : std::string(v->KindName())))
          .ToString();
    }
  }
  return {};
}

CaseOutcome PredictInferenceCase(const Catalog& catalog, const RawNode& c) {
  auto subjects = ResolveCaseSubjects(catalog, c);
  if (auto* why = std::get_if<std::string>(&subjects)) return *why;
  const Chip* chip = std::get<CaseSubjects>(subjects).chip;
  const ResolvedCaseModel* model = &std::get<CaseSubjects>(subjects).model;
  Mapping map;
  if (auto why = MapInference(c, map)) return *why;
  auto stack = MakeServingStack(catalog, "");
  if (!stack) return stack.error().ToString();
  map.request.stack = *stack;
  auto device = MakeCluster(catalog, *chip, nullptr);
  if (!device) return device.error().ToString();
  auto est = EstimateInference(*device, model->arch(), map.request);
  if (!est) return "the plan cannot run: " + est.error().ToString();
  if (!est->fits) return "predicted not to fit: " + std::string(InfeasibleReasonText(est->reason));
  const std::string& k = map.metric;
  const double predicted = k == "ttft_ms" ? est->ttft_s * 1e3
                           : k == "ttft_s" ? est->ttft_s
                           : k == "tpot_ms" ? est->tpot_s * 1e3
                           : k == "tpot_s" ? est->tpot_s
                           : k == "latency_ms" ? est->request_latency_s * 1e3
                           : (k == "request_latency_s" || k == "latency_s") ? est->request_latency_s
                           : k.ends_with("_per_gpu") ? est->output_tokens_per_s_per_device
                                                     : est->output_tokens_per_s * map.replicas;  // generated tokens / s
  return MakeResult(map.metric, chip->id, model->id(), Setup(map.request, map.replicas, *est), map.assumptions,
                    map.measured, predicted);
}

// Systems named as reports write them ("Selene", "DGX-H100"), else the
// first catalog system built from the chip.
const System* MatchSystem(const Catalog& catalog, const std::string& name, const Chip& chip) {
  const std::string want = NormalizeName(name);
  if (!want.empty()) {
    for (const System& sys : catalog.systems()) {
      if (sys.chip != chip.id) continue;
      std::vector<std::string> names = sys.aliases;
      names.push_back(sys.id);
      names.push_back(sys.name);
      for (const auto& n : names) {
        const std::string have = NormalizeName(n);
        if (have == want || have.starts_with(want) || want.starts_with(have)) return &sys;
      }
    }
  }
  for (const System& sys : catalog.systems()) {
    if (sys.chip == chip.id) return &sys;
  }
  return nullptr;
}

enum class TrainMetric { kStepTime, kTokensPerDevice, kTokens, kMegatronTflops, kModelTflops };

// A case that states no device count runs on nodes of this many chips.
constexpr int kAssumedNodeChips = 8;
constexpr std::string_view kOneNodeAssumed = "device count not stated: one 8-chip node";

struct TrainMapping {
  TrainRequest request;
  struct Free {
    bool tp = false, pp = false, dp = false, micro_batch = false, recompute = false;
  } free;  // fields the case leaves out
  bool search = false;
  TrainMetric metric = TrainMetric::kStepTime;
  std::string metric_name;
  double measured = 0;
  std::vector<std::string> assumptions;
};

std::optional<std::string> MapTraining(const RawNode& c, TrainMapping& out) {
  const std::string task = Lower(TextAt(c, {"workload", "task"}));
  TrainRequest& r = out.request;
  r.lora = task.find("lora") != std::string::npos;
  TrainPlan& p = r.plan;
  const auto gb = IntAt(c, {"workload", "global_batch"});
  const auto seq = IntAt(c, {"workload", "seq_len"});
  if (!seq) return std::string("no fixed sequence length");
  r.seq_len = *seq;
  const auto count = IntAt(c, {"hardware", "count"});
  r.devices = count.value_or(kAssumedNodeChips);
  if (!count) out.assumptions.emplace_back(kOneNodeAssumed);
  if (gb) {
    r.global_batch = *gb;
  } else {
    r.global_batch = r.devices;
    out.assumptions.push_back("global batch not stated: one sequence per device");
  }
  auto field = [&](std::string_view key, int& into, bool& free) {
    if (auto v = IntAt(c, {"workload", key})) {
      into = int(*v);
    } else {
      free = true;
      out.search = true;
    }
  };
  field("tp", p.tp, out.free.tp);
  field("pp", p.pp, out.free.pp);
  field("dp", p.dp, out.free.dp);
  field("micro_batch", p.micro_batch, out.free.micro_batch);
  if (auto v = IntAt(c, {"workload", "cp"})) p.cp = int(*v);
  if (auto v = IntAt(c, {"workload", "vp"})) p.vp = int(*v);
  if (auto v = IntAt(c, {"workload", "ep"})) p.ep = int(*v);
  if (auto v = IntAt(c, {"workload", "etp"})) p.etp = int(*v);
  if (out.free.tp || out.free.pp || out.free.dp) out.assumptions.push_back("parallel plan not stated: the best plan --search finds");
  if (out.free.micro_batch) out.assumptions.push_back("micro-batch not stated: the fastest that fits");
  if (!out.free.dp && !out.free.tp && !out.free.pp && int64_t(p.tp) * p.pp * p.dp * p.cp != r.devices) {
    return "tp x pp x dp x cp does not equal the device count";
  }
  // Software generation decides the attention kernel and the optimizer.
  const std::string version = Lower(TextAt(c, {"software", "version"}) + " " + TextAt(c, {"software", "framework"}));
  const bool old_megatron = version.find("2021") != std::string::npos || version.find("2022") != std::string::npos;
  if (old_megatron) {
    r.flash_attention = false;
    p.zero = 0;
    p.overlap_dp = false;
    p.overlap_pp = false;
    out.assumptions.push_back("Megatron-LM of 2021-22: attention scores materialised, plain data parallelism without overlap, "
                              "pipeline sends blocking (before overlap_p2p_comm)");
  } else {
    r.flash_attention = true;
    p.zero = 1;
    p.overlap_dp = true;
    if (version.find("nemo") == std::string::npos) {
      out.assumptions.push_back("flash attention, distributed optimizer with overlapped reduction");
    } else {
      p.overlap_tp = p.tp > 1 || out.free.tp;  // NeMo's H100 recipes turn on tp_comm_overlap (where there is TP)
      out.assumptions.push_back(
          "NeMo: flash attention, distributed optimizer with overlapped reduction, TP communication overlapped "
          "where there is TP (ub_tp_comm_overlap in its H100 recipes)");
      // NeMo's SFT recipe, the base of every SFT run, keeps the optimizer's
      // state in bf16 (Apex distributed_fused_adam, optim.dtype bf16).
      if (task.find("sft") != std::string::npos) {
        p.optimizer_state = OptimizerState::kBf16;
        out.assumptions.push_back(
            "NeMo's SFT recipe keeps the optimizer's master weights and moments in bf16 (NeMo-Framework-Launcher "
            "conf/peft/llama/sft.yaml: optim dtype bf16)");
      }
    }
  }
  // Megatron-FSDP shards parameters, gradients and optimizer state over
  // the data-parallel ranks (ZeRO-3), layer by layer with prefetch.
  if (Lower(TextAt(c, {"workload", "fsdp"})) == "true") {
    p.zero = 3;
    p.fsdp = true;
    out.assumptions.push_back(
        "FSDP: parameters, gradients and optimizer state sharded over data parallelism, each layer gathered ahead of "
        "use and reduce-scattered under backward, resharded after forward (FSDP2's default)");
  }
  const auto edp = IntAt(c, {"workload", "edp"});
  if (edp && *edp > 0 && !IntAt(c, {"workload", "etp"}) && !out.free.dp && !out.free.tp) {
    // etp from the stated edp: etp x ep x edp = tp x cp x dp.
    const long long attn = static_cast<long long>(p.tp) * p.cp * p.dp, experts = static_cast<long long>(p.ep) * *edp;
    if (experts > 0 && attn % experts == 0 && attn / experts <= p.tp) {
      p.etp = int(attn / experts);
      out.assumptions.push_back("etp " + std::to_string(p.etp) + " from the stated edp (etp x ep x edp = tp x cp x dp)");
    }
  }
  if (!edp && p.ep > 1 && !IntAt(c, {"workload", "etp"}) && !out.free.dp && !out.free.tp &&
      ExpertDp(p) == 0) {
    p.etp = 1;
    out.assumptions.push_back("etp not stated and etp = tp does not fold over tp x cp x dp: etp 1");
  }
  if (edp && !out.free.dp && !out.free.tp && ExpertDp(p) != *edp) {
    return "edp " + std::to_string(*edp) + " stated, but tp x cp x dp / (etp x ep) = " + std::to_string(ExpertDp(p));
  }
  // The dispatcher as the case names it: DeepEP, HybridEP (flex) or NCCL
  // all-to-all; an A2A overlap or a DualPipe schedule hides it under compute.
  const std::string dispatcher = Lower(TextAt(c, {"workload", "dispatcher"}));
  if (dispatcher.find("deepep") != std::string::npos || dispatcher.find("hybridep") != std::string::npos ||
      dispatcher.find("flex") != std::string::npos) {
    p.dispatcher = ExpertDispatcher::kDeepEp;
  }
  const std::string schedule = Lower(TextAt(c, {"workload", "pp_schedule"}));
  if (dispatcher.find("overlap") != std::string::npos || schedule.find("dualpipe") != std::string::npos) {
    p.overlap_ep = true;
    out.assumptions.push_back("expert dispatch and combine overlapped with another micro-batch's compute");
  }
  const std::string rc = Lower(TextAt(c, {"workload", "recompute"}));
  if (rc.find("full") != std::string::npos) {
    p.recompute = Recompute::kFull;
  } else if (rc.find("selective") != std::string::npos) {
    p.recompute = Recompute::kSelective;
  } else if (old_megatron) {
    p.recompute = Recompute::kFull;
    out.assumptions.push_back("recompute not stated: full, as Narayanan et al. count FLOPs with it (their eq. 3)");
  } else {
    p.recompute = r.flash_attention ? Recompute::kNone : Recompute::kSelective;
    out.free.recompute = true;
    out.search = true;
    out.assumptions.push_back("recompute not stated: the fastest that fits");
  }
  // Megatron-Core's recompute_modules as cases name them ("norm, act",
  // "selective (layernorm, moe)", "moe_act, mlp", "MLA up-projection").
  if (p.recompute != Recompute::kFull && !rc.empty()) {
    uint32_t modules = 0;
    auto has = [&](std::string_view w) { return rc.find(w) != std::string::npos; };
    if (has("norm")) modules |= kRecomputeLayerNorm;
    if (has("moe_act") || has("act")) modules |= kRecomputeMoeAct;
    if (has("up-proj") || has("up_proj") || has("mla")) modules |= kRecomputeMlaUpProj;
    if (has("mlp")) modules |= kRecomputeMlp;
    if (has("shared")) modules |= kRecomputeSharedExperts;
    if (has("core_attn") || has("attention")) modules |= kRecomputeCoreAttn;
    std::string rest = rc;
    for (std::string_view w : {"moe_act", "moe-act"}) {
      for (std::size_t at = rest.find(w); at != std::string::npos; at = rest.find(w)) rest.erase(at, w.size());
    }
    if (rest.find("moe") != std::string::npos) modules |= kRecomputeMoe;
    if (modules != 0) {
      p.recompute = Recompute::kSelective;
      p.recompute_modules = modules;
      if (out.free.recompute) {
        out.free.recompute = false;
        std::erase(out.assumptions, std::string("recompute not stated: the fastest that fits"));
        out.search = out.free.tp || out.free.pp || out.free.dp || out.free.micro_batch;
      }
      out.assumptions.push_back("recompute modules " + RecomputeModulesText(modules));
    }
  }
  if (rc.find("no sequence parallel") != std::string::npos) {
    p.sequence_parallel = false;
  } else if (rc.find("sequence parallel") != std::string::npos || !old_megatron) {
    p.sequence_parallel = true;  // Megatron-Core (NeMo) turns it on with tp > 1
  } else {
    p.sequence_parallel = false;
  }
  const std::string prec = Lower(TextAt(c, {"workload", "precision"}));
  p.precision = prec.find("fp8") != std::string::npos    ? TrainPrecision::kFp8
                : prec.find("fp16") != std::string::npos ? TrainPrecision::kFp16
                                                         : TrainPrecision::kBf16;
  if (prec.empty()) out.assumptions.push_back("precision not stated: bf16");
  // The measured quantity, in the source's own terms.
  struct Metric {
    std::string_view key;
    TrainMetric metric;
    double scale;  // to SI
  };
  static constexpr Metric kMetrics[] = {
      {"iteration_time_s", TrainMetric::kStepTime, 1},       {"step_time_s", TrainMetric::kStepTime, 1},
      {"iteration_time_ms", TrainMetric::kStepTime, 1e-3},   {"tokens_per_s_per_gpu", TrainMetric::kTokensPerDevice, 1},
      {"tokens_per_s_per_npu", TrainMetric::kTokensPerDevice, 1}, {"tokens_per_s", TrainMetric::kTokens, 1},
      {"tflops_per_gpu", TrainMetric::kMegatronTflops, 1},   {"model_tflops_per_gpu", TrainMetric::kModelTflops, 1},
  };
  for (const Metric& m : kMetrics) {
    if (auto v = NumberAt(c, {"result", m.key})) {
      out.metric = m.metric;
      out.metric_name = m.scale == 1 ? std::string(m.key) : "iteration_time_s";  // converted from ms
      out.measured = *v * m.scale;
      break;
    }
  }
  if (out.metric_name.empty()) return std::string("no iteration time, tokens/s or TFLOP/s result");
  if (out.metric == TrainMetric::kMegatronTflops && !old_megatron) {
    out.metric = TrainMetric::kModelTflops;
    out.assumptions.push_back("TFLOP/s per GPU compared as model FLOPs (6 N per token + attention)");
  }
  if (!(out.measured > 0)) return std::string("the measured value is not positive");
  return std::nullopt;
}

// Narayanan et al. 2021, eq. 3: FLOPs per iteration with full recomputation.
double MegatronFlops(const ModelArch& m, double batch, double seq) {
  const double h = m.hidden, l = m.layers, v = m.vocab;
  return 96 * batch * seq * l * h * h * (1 + seq / (6 * h) + v / (16 * l * h));
}

std::string TrainSetup(const TrainRequest& r) {
  const TrainPlan& p = r.plan;
  std::string s = "tp " + std::to_string(p.tp) + " pp " + std::to_string(p.pp) + " dp " + std::to_string(p.dp);
  if (p.cp > 1) s += " cp " + std::to_string(p.cp);
  if (p.ep > 1) s += " ep " + std::to_string(p.ep) + " etp " + std::to_string(ExpertTp(p)) + " edp " + std::to_string(ExpertDp(p));
  if (p.vp > 1) s += " vp " + std::to_string(p.vp);
  if (p.zero == 3) s += p.fsdp ? " FSDP" : " ZeRO-3";
  s += ", mb " + std::to_string(p.micro_batch) + ", " + std::string(RecomputeName(p.recompute)) + " recompute, " +
       std::string(TrainPrecisionName(p.precision));
  return s;
}

// Nodes a case that states no device count may be assumed to run on.
constexpr int kMaxAssumedNodes = 16;

CaseOutcome PredictTrainingCase(const Catalog& catalog, const RawNode& c) {
  auto subjects = ResolveCaseSubjects(catalog, c);
  if (auto* why = std::get_if<std::string>(&subjects)) return *why;
  const Chip* chip = std::get<CaseSubjects>(subjects).chip;
  const ResolvedCaseModel* model = &std::get<CaseSubjects>(subjects).model;
  TrainMapping map;
  if (auto why = MapTraining(c, map)) return *why;
  const System* system = MatchSystem(catalog, TextAt(c, {"hardware", "system"}), *chip);
  const RankedRecords device = RankedDevice(*chip, system, std::nullopt);  // the system's ranks (dies on the A3)
  auto cluster = MakeCluster(catalog, device.chip, device.system_ptr());
  if (!cluster) return cluster.error().ToString();
  TrainRequest req = map.request;
  // The pipeline layout: the case's own (Megatron-Core's layout string), or,
  // when pp x vp does not divide the layers but does with the embedding and
  // loss counted as layers, Megatron-Core's account_for_embedding/loss split.
  const int layers = model->arch().layers;
  TrainPlan& plan = req.plan;
  if (const std::string layout = TextAt(c, {"workload", "pp_layout"}); !layout.empty()) {
    if (auto ok = ApplyPipelineLayout(layout, layers, plan); !ok) return "the plan cannot run: " + ok.error().ToString();
    map.assumptions.push_back("pipeline layout " + layout.substr(0, layout.find(' ')) + ": first stage " +
                              std::to_string(PipelineStageLayers(layers, plan).first) + " layers, last stage " +
                              std::to_string(PipelineStageLayers(layers, plan).last));
  } else if (!map.free.pp && plan.pp > 1 && plan.vp > 1 && layers % (int64_t(plan.pp) * plan.vp) != 0 &&
             (layers + 2) % (int64_t(plan.pp) * plan.vp) == 0) {
    plan.embedding_in_split = plan.loss_in_split = true;
    map.assumptions.push_back("pp x vp does not divide the layers: the embedding and loss counted as layers "
                              "(Megatron-Core account_for_embedding/loss_in_pipeline_split)");
  } else if (!map.free.pp && plan.pp > 1 && plan.vp > 1 && layers % (int64_t(plan.pp) * plan.vp) != 0 &&
             layers + 2 >= int64_t(plan.pp) * plan.vp && int64_t(plan.pp) * plan.vp <= 4096) {
    // Neither divides: Megatron-Core then needs an explicit layout, and the
    // most even one is what its recipes write (MostEvenPipelineLayout).
    // Where its longer chunks land unevenly on the middle stages the model
    // has no such plan and ApplyPipelineLayout refuses it, by name.
    const int chunks = plan.pp * plan.vp, items = layers + 2;
    const std::string even = MostEvenPipelineLayout(layers, plan.pp, plan.vp);
    if (auto ok = ApplyPipelineLayout(even, layers, plan); !ok) return "the plan cannot run: " + ok.error().ToString();
    map.assumptions.push_back("pp x vp divides neither the layers nor the layers with embedding and loss, and the case states "
                              "no layout: the most even Megatron-Core layout, " + std::to_string(items % chunks) + " of " +
                              std::to_string(chunks) + " virtual stages with one layer more (embedding first, loss last)");
  }
  auto stack = MakeTrainingStack(catalog, "");
  if (!stack) return stack.error().ToString();
  req.stack = *stack;
  TrainEstimate est;
  if (map.search) {
    SearchOptions options;
    options.top_k = 1;
    options.threads = 1;
    PlanSpace space = PlanSpace::Fixed(req.plan);
    if (map.free.tp) space.tp.clear();
    if (map.free.pp) space.pp.clear();
    if (map.free.dp) space.dp.clear();
    if (map.free.micro_batch) space.micro_batch.clear();
    if (map.free.recompute) space.recompute.clear();
    auto found = SearchTraining(*cluster, model->arch(), req, space, options);
    if (!found) return "the plan cannot run: " + found.error().ToString();
    // A case that states no device count runs on the fewest nodes, doubling
    // from one, on which some plan fits (at most kMaxAssumedNodes); its
    // batch, where it states none either, stays one sequence per device.
    const bool count_free = !IntAt(c, {"hardware", "count"});
    const bool batch_free = !IntAt(c, {"workload", "global_batch"});
    while (count_free && found->top.empty() && req.devices < kAssumedNodeChips * kMaxAssumedNodes && map.free.dp) {
      req.devices *= 2;
      if (batch_free) req.global_batch = req.devices;
      found = SearchTraining(*cluster, model->arch(), req, space, options);
      if (!found) return "the plan cannot run: " + found.error().ToString();
    }
    if (found->top.empty()) {
      return "no plan fits in memory on " + std::to_string(req.devices) + " devices" +
             (count_free ? " (the count is not stated; up to " + std::to_string(kMaxAssumedNodes) +
                               " 8-chip nodes were tried)"
                         : "");
    }
    if (req.devices > map.request.devices) {
      for (std::string& a : map.assumptions) {
        if (a == kOneNodeAssumed) {
          a = "device count not stated: " + std::to_string(req.devices / kAssumedNodeChips) +
              " nodes of 8 chips, the fewest (doubling from one) on which a plan fits";
        }
      }
    }
    req.plan = found->top[0].plan;
    est = found->top[0].estimate;
  } else {
    auto e = EstimateTraining(*cluster, model->arch(), req);
    if (!e) return "the plan cannot run: " + e.error().ToString();
    est = *e;
  }
  if (!est.fits) map.assumptions.push_back("predicted NOT to fit in memory (" + std::string(TrainInfeasibleText(est.reason)) + ")");
  double predicted = 0;
  switch (map.metric) {
    case TrainMetric::kStepTime: predicted = est.step_time_s; break;
    case TrainMetric::kTokensPerDevice: predicted = est.tokens_per_s_per_device; break;
    case TrainMetric::kTokens: predicted = est.tokens_per_s; break;
    case TrainMetric::kModelTflops: predicted = est.model_tflops_per_device; break;
    case TrainMetric::kMegatronTflops:
      predicted = MegatronFlops(model->arch(), double(req.global_batch), double(req.seq_len)) /
                  (est.step_time_s * double(req.devices)) / 1e12;
      break;
  }
  const std::string where = (system != nullptr ? system->id : chip->id);
  return MakeResult(map.metric_name, where, model->id(), TrainSetup(req), map.assumptions, map.measured, predicted);
}

// Spearman rank correlation (average ranks for ties).
double Spearman(const std::vector<double>& x, const std::vector<double>& y) {
  auto ranks = [](const std::vector<double>& v) {
    std::vector<std::size_t> idx(v.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
    std::vector<double> r(v.size());
    for (std::size_t i = 0; i < idx.size();) {
      std::size_t j = i;
      while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
      for (std::size_t k = i; k <= j; ++k) r[idx[k]] = (double(i) + double(j)) / 2 + 1;
      i = j + 1;
    }
    return r;
  };
  const auto rx = ranks(x), ry = ranks(y);
  const double n = double(x.size());
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    mx += rx[i] / n;
    my += ry[i] / n;
  }
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0;
}

// Group statistics and rank correlations.
void Finish(ValidationReport& report) {
  std::map<std::string, std::vector<double>> errors, predicted, measured;
  std::vector<double> all;
  for (const CaseResult& r : report.cases) {
    errors[r.group].push_back(r.signed_error);
    predicted[r.group].push_back(r.predicted);
    measured[r.group].push_back(r.measured);
    all.push_back(r.signed_error);
  }
  for (const auto& [g, e] : errors) {
    report.groups[g] = Summarize(e);
    if (e.size() >= 3) report.spearman[g] = Spearman(predicted[g], measured[g]);
  }
  report.overall = Summarize(all);
}

// A GPT model as Megatron builds it from the vTrain columns: LayerNorm,
// learned positions, tied embeddings, 4h GeLU MLP, biases, vocabulary 51,200
// (the Megatron papers' padded GPT-2 vocabulary).
ModelArch MegatronGpt(int hidden, int heads, int layers, int seq) {
  ModelArch a;
  a.family = "gpt2";
  a.hidden = hidden;
  a.vocab = 51200;
  a.layers = layers;
  a.max_positions = seq;
  a.tied_embeddings = true;
  a.learned_positions = true;
  a.norm = NormKind::kLayerNorm;
  LayerGroup g;
  g.count = layers;
  g.attention.heads = heads;
  g.attention.kv_heads = heads;
  g.attention.head_dim = g.attention.v_head_dim = hidden / heads;
  g.attention.qkv_bias = g.attention.out_bias = true;
  g.mlp.ffn = 4 * hidden;
  g.mlp.gated = false;
  g.mlp.bias = true;
  a.groups.push_back(g);
  return a;
}

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  for (char ch : line) {
    if (ch == ',') {
      out.push_back(cell);
      cell.clear();
    } else if (ch != '\r') {
      cell += ch;
    }
  }
  out.push_back(cell);
  for (auto& c : out) {
    while (!c.empty() && std::isspace(static_cast<unsigned char>(c.front()))) c.erase(c.begin());
    while (!c.empty() && std::isspace(static_cast<unsigned char>(c.back()))) c.pop_back();
  }
  return out;
}

Result<ValidationReport> ValidateVtrainCsv(const Catalog& catalog, const std::string& path) {
  // The same guard as every input: a regular file of at most 16 MiB.
  auto text_of_file = ReadInputFile(path, kMaxInputFileBytes);
  if (!text_of_file) return std::move(text_of_file).error();
  std::istringstream in(std::move(*text_of_file));
  std::string header;
  std::getline(in, header);
  if (header.size() >= 3 && static_cast<unsigned char>(header[0]) == 0xEF) header.erase(0, 3);
  const auto names = SplitCsvLine(header);
  auto column = [&](std::string_view want) -> int {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (Lower(names[i]) == want) return int(i);
    }
    return -1;
  };
  constexpr std::string_view kColumns[] = {"# gpus", "global batch", "micro batch", "hidden size", "attention heads",
                                           "# layers", "sequence length", "tensor parallelism", "data parallelism",
                                           "pipeline parallelism", "iteration time (ms)"};
  std::vector<int> idx;
  std::vector<Diagnostic> bad;
  for (auto name : kColumns) {
    idx.push_back(column(name));
    if (idx.back() < 0) {
      bad.push_back(Diagnostic{.file = path, .line = 1, .key_path = std::string(name),
                               .message = "missing column '" + std::string(name) + "' (vTrain ground-truth format)"});
    }
  }
  if (!bad.empty()) return Error(std::move(bad));
  const bool multi = column("parameters (billion)") >= 0;
  const std::string group = multi ? "vtrain-multi" : "vtrain-single";
  struct Row {
    int line;
    double v[11];
  };
  std::vector<Row> rows;
  std::string text;
  for (int line = 2; std::getline(in, text); ++line) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto cells = SplitCsvLine(text);
    Row row{line, {}};
    for (std::size_t k = 0; k < idx.size(); ++k) {
      const std::string cell = std::size_t(idx[k]) < cells.size() ? cells[std::size_t(idx[k])] : "";
      char* end = nullptr;
      const double v = std::strtod(cell.c_str(), &end);
      if (cell.empty() || end == nullptr || *end != '\0' || !std::isfinite(v) || v <= 0 ||
          (k < 10 && (v != std::floor(v) || v > 1e9))) {
        bad.push_back(Diagnostic{.file = path, .line = line, .column = idx[k] + 1, .key_path = std::string(kColumns[k]),
                                 .message = "expected a positive " + std::string(k < 10 ? "whole number" : "number") +
                                            ", found '" + cell + "'"});
      }
      row.v[k] = v;
    }
    rows.push_back(row);
  }
  if (!bad.empty()) return Error(std::move(bad));
  const Chip* chip = catalog.FindChip("a100-sxm-80gb");
  if (chip == nullptr) return Error(Diagnostic{.file = path, .message = "the catalog has no chip a100-sxm-80gb"});
  const System* system = catalog.FindSystem("vtrain-a100");
  if (system == nullptr) system = catalog.FindSystem("dgx-a100");
  auto cluster = MakeCluster(catalog, *chip, system);
  if (!cluster) return std::move(cluster).error();
  auto stack = MakeTrainingStack(catalog, "");
  if (!stack) return std::move(stack).error();
  ValidationReport report;
  report.file = path;
  const std::string where = system != nullptr ? system->id : chip->id;
  // Settings measured under several plans, for the plan-choice check.
  std::map<std::string, std::vector<std::pair<double, double>>> settings;  // predicted, measured
  for (const Row& row : rows) {
    const int gpus = int(row.v[0]), gb = int(row.v[1]), mb = int(row.v[2]), hidden = int(row.v[3]);
    const int heads = int(row.v[4]), layers = int(row.v[5]), seq = int(row.v[6]);
    const std::string id = group + "-line" + std::to_string(row.line);
    const double measured = row.v[10] / 1e3;
    if (hidden % heads != 0) {
      report.unmapped.push_back(UnmappedCase{.id = id, .group = group, .kind = "training",
                                             .reason = "hidden size does not divide into the heads"});
      continue;
    }
    const ModelArch arch = MegatronGpt(hidden, heads, layers, seq);
    TrainRequest r;
    r.stack = *stack;
    r.devices = gpus;
    r.seq_len = seq;
    r.global_batch = gb;
    r.flash_attention = false;
    r.plan.tp = int(row.v[7]);
    r.plan.dp = int(row.v[8]);
    r.plan.pp = int(row.v[9]);
    r.plan.micro_batch = mb;
    r.plan.recompute = Recompute::kFull;
    r.plan.precision = TrainPrecision::kFp16;
    r.plan.zero = 0;
    r.plan.overlap_dp = false;
    r.plan.sequence_parallel = false;
    auto est = EstimateTraining(*cluster, arch, r);
    if (!est) {
      report.unmapped.push_back(UnmappedCase{.id = id, .group = group, .kind = "training",
                                             .reason = "the plan cannot run: " + est.error().ToString()});
      continue;
    }
    std::vector<std::string> assumptions = {
        "Megatron-DeepSpeed GPT, fp16, full recompute, materialised attention, no overlap (vTrain's simulator settings)"};
    if (!est->fits) assumptions.push_back("predicted NOT to fit (" + std::string(TrainInfeasibleText(est->reason)) + ")");
    CaseResult c = MakeResult("iteration_time_s", where, "gpt h" + std::to_string(hidden) + " L" + std::to_string(layers),
                              TrainSetup(r), assumptions, measured, est->step_time_s);
    c.id = id;
    c.group = group;
    c.kind = "training";
    report.cases.push_back(std::move(c));
    const std::string key = std::to_string(hidden) + "/" + std::to_string(heads) + "/" + std::to_string(layers) + "/" +
                            std::to_string(seq) + " on " + std::to_string(gpus) + " GPUs, batch " + std::to_string(gb);
    settings[key].emplace_back(est->step_time_s, measured);
  }
  for (const auto& [key, runs] : settings) {
    if (runs.size() < 2) continue;
    const auto chosen = std::min_element(runs.begin(), runs.end());  // fastest predicted (ties: faster measured)
    double best = runs.front().second;
    for (const auto& run : runs) best = std::min(best, run.second);
    report.plan_choices.push_back(PlanChoice{.group = group, .setting = "h/heads/L/seq " + key, .plans = int(runs.size()),
                                             .measured_best = best, .measured_chosen = chosen->second});
  }
  Finish(report);
  return report;
}

}  // namespace

int ValidationReport::plan_choices_right() const {
  return int(std::count_if(plan_choices.begin(), plan_choices.end(), [](const PlanChoice& c) { return c.right(); }));
}

const Chip* MatchChipName(const Catalog& catalog, const std::string& name) {
  if (const Chip* c = catalog.FindChip(name)) return c;
  const std::string want = NormalizeName(name);
  if (want.empty()) return nullptr;
  // Exact, else the longest id or alias that starts the name ("H100 80GB
  // HBM3" is the h100 alias followed by details) when what follows is not a
  // form factor the catalog does not have.
  const Chip* best = nullptr;
  std::size_t best_len = 0;
  const bool pcie = want.find("pcie") != std::string::npos;
  for (const Chip& c : catalog.chips()) {
    std::vector<std::string> names = c.aliases;
    names.push_back(c.id);
    names.push_back(c.name);
    for (const auto& n : names) {
      const std::string have = NormalizeName(n);
      if (have == want) return &c;
      const bool have_pcie = have.find("pcie") != std::string::npos;
      if (have.size() >= 4 && have.size() > best_len && want.starts_with(have) && pcie == have_pcie) {
        best = &c;
        best_len = have.size();
      }
    }
  }
  return best;
}

ErrorStats Summarize(const std::vector<double>& errors) {
  ErrorStats s;
  s.count = int(errors.size());
  if (errors.empty()) return s;
  std::vector<double> ape;
  double sum_abs = 0, sum = 0;
  for (double e : errors) {
    ape.push_back(std::fabs(e));
    sum_abs += std::fabs(e);
    sum += e;
  }
  std::sort(ape.begin(), ape.end());
  const std::size_t n = ape.size();
  s.median_ape = n % 2 == 1 ? ape[n / 2] : (ape[n / 2 - 1] + ape[n / 2]) / 2;
  s.mean_ape = sum_abs / double(n);
  // Nearest-rank 90th percentile.
  const std::size_t rank = std::size_t(std::ceil(0.9 * double(n)));
  s.p90_ape = ape[std::max<std::size_t>(rank, 1) - 1];
  s.max_ape = ape.back();
  s.bias = sum / double(n);
  return s;
}

// A file in which no case could be predicted: an error that lists why, not
// a report of "0 cases, median 0 %".
Error NothingPredicted(const ValidationReport& report) {
  std::vector<Diagnostic> out;
  out.push_back(Diagnostic{.file = report.file,
                           .message = "no case could be predicted (" + std::to_string(report.unmapped.size()) +
                                      " read, none mapped to a prediction)"});
  for (std::size_t i = 0; i < report.unmapped.size() && i < 10; ++i) {
    const UnmappedCase& u = report.unmapped[i];
    out.push_back(Diagnostic{.file = report.file, .key_path = u.id, .message = u.reason});
  }
  if (report.unmapped.size() > 10) {
    out.push_back(Diagnostic{.file = report.file, .message = "... and " + std::to_string(report.unmapped.size() - 10) + " more"});
  }
  return Error(std::move(out));
}

namespace {

// Predicts every case of `cases` (of `only_group` when not null) into `report`.
// The release a case's software names ({framework, version}) of a framework
// some profile carries releases of: the framework's name found in
// software.framework, the version the first dotted number after it there,
// else in software.version (docs/validation.md, "Software generations").
std::optional<ReleaseRef> CaseRelease(const Catalog& catalog, const RawNode& c) {
  const std::string framework = TextAt(c, {"software", "framework"});
  const std::string version = TextAt(c, {"software", "version"});
  if (framework.empty()) return std::nullopt;
  auto squeeze = [](const std::string& s, std::vector<std::size_t>* at) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (std::isalnum(static_cast<unsigned char>(s[i]))) {
        out += char(std::tolower(static_cast<unsigned char>(s[i])));
        if (at != nullptr) at->push_back(i);
      }
    }
    return out;
  };
  auto first_version = [](const std::string& s) -> std::string {
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) continue;
      std::size_t j = i;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
      while (j > i && s[j - 1] == '.') --j;
      return s.substr(i, j - i);
    }
    return {};
  };
  std::vector<std::size_t> where;
  const std::string text = squeeze(framework, &where);
  for (const Profile& p : catalog.profiles()) {
    for (const ProfileRelease& r : p.releases) {
      const std::string name = squeeze(r.framework, nullptr);
      const auto at = name.empty() ? std::string::npos : text.find(name);
      if (at == std::string::npos) continue;
      const std::size_t after = where[at + name.size() - 1] + 1;
      std::string v = first_version(framework.substr(after));
      if (v.empty()) v = first_version(version);
      return ReleaseRef{.framework = r.framework, .version = v};
    }
  }
  return std::nullopt;
}

void PredictCases(const Catalog& base, const RawNode& cases, const std::string* only_group, ValidationReport& report) {
  double serving_budget = 3e8;  // output tokens the serving simulations may step through
  std::map<std::string, Catalog> released;  // one catalog per software release the cases name
  for (const RawNode& c : cases.items) {
    const std::string id = TextAt(c, {"id"});
    const std::string group = TextAt(c, {"group"});
    const std::string kind = TextAt(c, {"kind"});
    if (only_group != nullptr && group != *only_group) continue;
    // The release the case names, where a profile carries figures of that framework's releases.
    const Catalog* catalog_for_case = &base;
    std::string release_note;
    if (auto ref = CaseRelease(base, c)) {
      const std::string key = ref->framework + "=" + ref->version;
      auto it = released.find(key);
      if (it == released.end()) it = released.emplace(key, base.ForRelease(*ref, nullptr)).first;
      catalog_for_case = &it->second;
      const Chip* chip = MatchChipName(base, TextAt(c, {"hardware", "chip"}));
      const Profile* prof = chip != nullptr ? base.ProfileFor(*chip) : nullptr;
      if (prof != nullptr && prof->HasReleasesOf(ref->framework)) {
        (void)prof->PickRelease(*ref, &release_note);
        release_note = "software " + ref->framework + " " + (ref->version.empty() ? "(no version)" : ref->version) + ": " + release_note;
      }
    }
    const Catalog& catalog = *catalog_for_case;
    CaseOutcome outcome;
    if (kind == "microbenchmark") {
      outcome = std::string("microbenchmarks calibrate the efficiency profiles (catalog/profiles/); they are inputs, not predictions");
    } else if (const std::string problem = TypeProblem(c); !problem.empty() &&
               (kind == "inference" || kind == "training" || kind == "finetuning")) {
      outcome = problem;
      // A serving case reads its fields loosely (annotated numbers, prose layouts).
      if (kind == "inference") {
        auto served = PredictServingCase(catalog, c, serving_budget);
        outcome = std::holds_alternative<CaseResult>(served) ? CaseOutcome(std::move(served))
                                                              : CaseOutcome(problem + "; as a serving case: " + std::get<std::string>(served));
      }
    } else if (kind == "inference") {
      outcome = PredictInferenceCase(catalog, c);
      // What the analytical estimator cannot map (loads, DP attention, MTP, SLA-bound decode) the serving simulator may.
      if (std::holds_alternative<std::string>(outcome)) {
        auto served = PredictServingCase(catalog, c, serving_budget);
        if (std::holds_alternative<CaseResult>(served)) {
          outcome = std::move(served);
        } else {
          outcome = std::get<std::string>(outcome) + "; as a serving case: " + std::get<std::string>(served);
        }
      }
    } else if (kind == "training" || kind == "finetuning") {
      outcome = PredictTrainingCase(catalog, c);
    } else {
      outcome = "kind '" + kind + "' is not one suanli predicts (inference, training, finetuning)";
    }
    if (auto* why = std::get_if<std::string>(&outcome)) {
      report.unmapped.push_back(UnmappedCase{.id = id, .group = group, .kind = kind, .reason = std::move(*why)});
      continue;
    }
    CaseResult r = std::get<CaseResult>(std::move(outcome));
    if (!release_note.empty()) r.assumption += (r.assumption.empty() ? "" : "; ") + release_note;
    r.id = id;
    r.group = group;
    r.kind = kind;
    report.cases.push_back(std::move(r));
  }
}

// Every scalar under `n`, joined (a case's `source:` is a line or a list).
std::string AllText(const RawNode& n) {
  if (n.IsScalar()) return n.scalar;
  std::string out;
  for (const auto& item : n.items) out += AllText(item) + " ; ";
  return out;
}

// The documents each group's cases cite; a case whose source names another
// case ("same file as <id>") cites that case's documents too.
std::map<std::string, GroupSources> SourcesOfGroups(const RawNode& cases) {
  struct One {
    std::string id, group, text;
    std::vector<DocumentRef> docs;
  };
  std::vector<One> all;
  for (const RawNode& c : cases.items) {
    const RawNode* src = c.IsMap() ? c.Find("source") : nullptr;
    One o{.id = TextAt(c, {"id"}), .group = TextAt(c, {"group"}), .text = src != nullptr ? AllText(*src) : "", .docs = {}};
    o.docs = DocumentsIn(o.text);
    all.push_back(std::move(o));
  }
  std::map<std::string, GroupSources> out;
  for (const One& o : all) {
    GroupSources& g = out[o.group];
    g.group = o.group;
    g.case_ids.push_back(o.id);
    auto add = [&](const std::vector<DocumentRef>& docs) {
      for (const DocumentRef& d : docs) {
        const bool seen = std::any_of(g.documents.begin(), g.documents.end(), [&](const DocumentRef& e) {
          return e.venue == d.venue && e.document == d.document;
        });
        if (!seen) g.documents.push_back(d);
      }
    };
    add(o.docs);
    const std::string low = Lower(o.text);
    for (const One& other : all) {
      if (&other != &o && other.id.size() >= 6 && low.find(Lower(other.id)) != std::string::npos) add(other.docs);
    }
  }
  return out;
}

// Each group predicted again without the figures its cases informed.
template <typename Rerun>
void HoldOut(const Catalog& catalog, const std::map<std::string, GroupSources>& sources, HoldoutMatch match,
             ValidationReport& report, Rerun&& rerun) {
  report.holdout_run = true;
  report.holdout_match = match;
  SourceDocs cache;
  for (const auto& [group, in_stats] : report.groups) {
    GroupHoldout h;
    h.group = group;
    static const GroupSources kNone;
    auto found = sources.find(group);
    const GroupSources& gs = found != sources.end() ? found->second : kNone;
    for (const DocumentRef& d : gs.documents) h.documents.push_back(d.document.empty() ? d.venue : d.document);
    auto drop = [&](const Figure& f) { return !InformedBy(catalog, f, gs, match, cache).empty(); };
    std::vector<Catalog::FigureReplacement> replaced;
    const Catalog held = catalog.WithoutFigures(drop, &replaced);
    for (const auto& r : replaced) {
      h.removed.push_back(RemovedFigure{.record = r.record, .key = r.key, .sources = r.was.sources,
                                        .why = InformedBy(catalog, r.was, gs, match, cache),
                                        .was = FormatFigureValue(r.was),
                                        .now = r.now ? FormatFigureValue(*r.now) : std::string(),
                                        .fallback = r.from});
    }
    std::map<std::string, double> in, out;
    for (const CaseResult& c : report.cases) {
      if (c.group == group) in[c.id] = c.signed_error;
    }
    ValidationReport again;
    if (replaced.empty()) {
      out = in;
    } else {
      rerun(held, group, again);
      for (const CaseResult& c : again.cases) {
        if (c.group == group) out[c.id] = c.signed_error;
      }
    }
    std::vector<double> ein, eout;
    for (const auto& [id, e] : in) {
      if (auto it = out.find(id); it != out.end()) {
        ein.push_back(e);
        eout.push_back(it->second);
      } else {
        std::string why = "not predicted held out";
        for (const UnmappedCase& u : again.unmapped) {
          if (u.id == id) why = "not predicted held out: " + u.reason;
        }
        h.changed.push_back(UnmappedCase{.id = id, .group = group, .kind = "", .reason = why});
      }
    }
    for (const auto& [id, e] : out) {
      if (!in.contains(id)) h.changed.push_back(UnmappedCase{.id = id, .group = group, .kind = "", .reason = "predicted held out only"});
    }
    h.in_sample = Summarize(ein);
    h.held_out = Summarize(eout);
    report.holdout.push_back(std::move(h));
  }
}

}  // namespace

Result<ValidationReport> ValidateCases(const Catalog& catalog, const std::string& path) {
  return ValidateCases(catalog, path, ValidateOptions{});
}

Result<ValidationReport> ValidateCases(const Catalog& catalog, const std::string& path, const ValidateOptions& options) {
  if (path.ends_with(".csv")) {
    auto csv = ValidateVtrainCsv(catalog, path);
    if (csv && csv->cases.empty()) return NothingPredicted(*csv);
    if (csv && options.holdout_by_group) {
      // The vTrain rows cite their repository's data folder (README of ../shared/validation).
      std::map<std::string, GroupSources> sources;
      const std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
      for (const auto& [g, st] : csv->groups) {
        sources[g] = GroupSources{.group = g, .case_ids = {}, .documents = DocumentsIn("VIA-Research/vTrain:data/" + base)};
      }
      HoldOut(catalog, sources, options.match, *csv, [&](const Catalog& held, const std::string&, ValidationReport& out) {
        if (auto again = ValidateVtrainCsv(held, path)) out = std::move(*again);
      });
    }
    return csv;
  }
  auto parsed = ParseFile(path);
  if (!parsed) return std::move(parsed).error();
  const RawNode& root = *parsed;
  const RawNode* cases = root.IsMap() ? root.Find("cases") : nullptr;
  if (cases == nullptr || !cases->IsSequence()) {
    return Error(root.At("cases", "a cases file is a map with a 'cases' list"));
  }
  std::vector<Diagnostic> bad;
  for (std::size_t i = 0; i < cases->items.size(); ++i) {
    const RawNode& c = cases->items[i];
    const std::string where = "cases[" + std::to_string(i) + "]";
    if (!c.IsMap()) {
      bad.push_back(c.At(where, "a case is a map, found " + std::string(c.KindName())));
      continue;
    }
    for (std::string_view key : {"id", "kind"}) {
      const RawNode* v = c.Find(key);
      if (v == nullptr || !v->IsScalar() || v->scalar.empty()) {
        bad.push_back(c.At(where + "." + std::string(key), "missing required field '" + std::string(key) + "'"));
      }
    }
  }
  if (!bad.empty()) return Error(std::move(bad));

  ValidationReport report;
  report.file = path;
  PredictCases(catalog, *cases, nullptr, report);
  Finish(report);
  if (report.cases.empty()) return NothingPredicted(report);
  if (options.holdout_by_group) {
    HoldOut(catalog, SourcesOfGroups(*cases), options.match, report,
            [&](const Catalog& held, const std::string& group, ValidationReport& out) {
              PredictCases(held, *cases, &group, out);
            });
  }
  return report;
}

}  // namespace suanli
