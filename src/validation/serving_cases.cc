// Mapping serving cases to the serving simulator. A case is mapped only
// from what it states (lengths, load, layout, precisions, MTP acceptance
// length, the framework's budgets); where it is silent the mapping assumes
// and says so; what the contract cannot express is listed with why.
#include "validation/serving_cases.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>

#include "suanli/serve/deployment.h"
#include "validation/case_fields.h"

namespace suanli {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// No field a serving case states is larger (requests, tokens, devices); a
// larger or malformed number is read as absent, so nothing overflows.
constexpr double kLargest = 1e7;

std::optional<double> Parsed(const std::string& digits) {
  char* end = nullptr;
  const double v = std::strtod(digits.c_str(), &end);
  if (end == digits.c_str() || !std::isfinite(v) || v < 0 || v > kLargest) return std::nullopt;
  return v;
}

// The first whole number in `text` ("768 (max-concurrency)", "2 per rank"), if any.
std::optional<double> FirstNumber(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(text[i]))) {
      std::size_t j = i;
      while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) ++j;
      return Parsed(text.substr(i, j - i));
    }
  }
  return std::nullopt;
}

// The number right before `word` in `text` ("219171 input" -> 219171).
std::optional<double> NumberBefore(const std::string& text, const std::string& word) {
  const auto at = text.find(word);
  if (at == std::string::npos || at < 2) return std::nullopt;
  std::size_t end = at;
  while (end > 0 && text[end - 1] == ' ') --end;
  std::size_t start = end;
  while (start > 0 && (std::isdigit(static_cast<unsigned char>(text[start - 1])) || text[start - 1] == '.')) --start;
  if (start == end) return std::nullopt;
  return Parsed(text.substr(start, end - start));
}

// A field as text whatever its type (a scalar, or "" for maps and nulls).
std::string Field(const RawNode& c, std::initializer_list<std::string_view> keys) { return TextAt(c, keys); }

std::optional<double> Num(const RawNode& c, std::initializer_list<std::string_view> keys) {
  if (auto v = NumberAt(c, keys)) return *v >= 0 && *v <= kLargest ? v : std::nullopt;
  const std::string t = Field(c, keys);
  if (t.empty() || !std::isdigit(static_cast<unsigned char>(t[0]))) return std::nullopt;
  return FirstNumber(t);
}

const ModelEntry* FindCaseModel(const Catalog& catalog, const RawNode& c) {
  for (const std::string& name : {Field(c, {"model", "hf_id"}), Field(c, {"model", "name"})}) {
    if (name.empty()) continue;
    if (const ModelEntry* m = catalog.FindModel(name)) return m;
    // A checkpoint variant names its base: "nvidia/DeepSeek-R1-FP4", "Qwen3-235B-A22B-Instruct-2507".
    std::string base = name.substr(name.find('/') == std::string::npos ? 0 : name.find('/') + 1);
    for (auto cut = base.rfind('-'); cut != std::string::npos && cut > 0; cut = base.rfind('-')) {
      base = base.substr(0, cut);
      if (const ModelEntry* m = catalog.FindModel(base)) return m;
    }
  }
  return nullptr;
}

const System* SystemFor(const Catalog& catalog, const Chip& chip, const std::string& name) {
  const std::string want = NormalizeName(name);
  const System* first = nullptr;
  for (const System& s : catalog.systems()) {
    if (s.chip != chip.id) continue;
    if (first == nullptr) first = &s;
    for (const std::string& n : {s.id, s.name}) {
      const std::string have = NormalizeName(n);
      if (!want.empty() && (want.find(have) != std::string::npos || have.find(want) != std::string::npos)) return &s;
    }
  }
  return first;
}

// Acceptance per draft position p with 1 + p + ... + p^n = length.
double AcceptanceFor(int draft, double length) {
  double lo = 0, hi = 1;
  for (int i = 0; i < 60; ++i) {
    const double mid = (lo + hi) / 2;
    ((SpecDecode{.draft = draft, .acceptance = {mid}}).TokensPerStep() < length ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

// One pool of a prose PD layout: "2 prefill instances (each 1 node, TP16 +
// DP2 attention)", "1 decode instance on 2 nodes (TP32/DP16)", "12 decode
// nodes (48 GPUs)". Nodes hold `per_node` devices.
std::optional<PoolRequest> ParsePdPool(const std::string& part, PoolRole role, double per_node, bool dp_attention,
                                       std::vector<std::string>& assumed) {
  PoolRequest pr{.role = role, .plan = {}, .instances = 1, .where = role == PoolRole::kPrefill ? "prefill" : "decode"};
  double nodes = 0, devices = 0;
  if (auto g = NumberBefore(part, "gpus")) devices = *g;
  const bool each = part.find("each") != std::string::npos;
  if (part.find("instance") != std::string::npos) {
    pr.instances = int(NumberBefore(part, "prefill instance").value_or(NumberBefore(part, "decode instance").value_or(1)));
    const auto paren = part.find('(');
    const std::string inner = paren == std::string::npos ? part : part.substr(paren);
    nodes = NumberBefore(part, "nodes").value_or(NumberBefore(inner, "node").value_or(1));
  } else if (each) {
    pr.instances = int(NumberBefore(part, "prefill node").value_or(NumberBefore(part, "decode node").value_or(1)));
    nodes = 1;
  } else {
    nodes = NumberBefore(part, "prefill node").value_or(NumberBefore(part, "decode node").value_or(
        NumberBefore(part, "nodes").value_or(NumberBefore(part, "node").value_or(0))));
  }
  if (devices == 0) devices = nodes * per_node;
  if (!(devices >= 1)) return std::nullopt;
  int dp = 1;
  for (const char* tag : {"dp", "dp "}) {
    const auto at = part.find(tag);
    if (at != std::string::npos && at + std::strlen(tag) < part.size() &&
        std::isdigit(static_cast<unsigned char>(part[at + std::strlen(tag)]))) {
      dp = int(FirstNumber(part.substr(at)).value_or(1));
      break;
    }
  }
  if (dp == 1 && dp_attention && role == PoolRole::kDecode) {
    dp = int(devices);
    assumed.push_back("decode DP attention over every decode device");
  }
  if (int(devices) % dp != 0) return std::nullopt;
  pr.plan = ServePlanSpec{.devices = int(devices), .tp = int(devices) / dp, .pp = 1, .ep = 0, .dp = dp};
  return pr;
}

struct Mapped {
  std::string metric;
  double measured = 0;
  enum class Kind { kThroughputPerDevice, kThroughput, kPerUser, kE2eMs, kTpotMs, kDecodePerDevice, kPrefillPerDevice,
                    kDecodeSingle, kOutputPerCard } kind = Kind::kThroughput;
};

std::optional<Mapped> PickMetric(const RawNode& c) {
  const RawNode* r = c.Find("result");
  if (r == nullptr || !r->IsMap()) return std::nullopt;
  using K = Mapped::Kind;
  constexpr std::pair<std::string_view, K> kOrder[] = {
      {"per_gpu_output_tps", K::kThroughputPerDevice},  {"output_tput_per_gpu", K::kThroughputPerDevice},
      {"output_tps_per_card", K::kOutputPerCard},       {"decode_output_tok_per_s_per_gpu", K::kDecodePerDevice},
      {"prefill_input_tok_per_s_per_gpu", K::kPrefillPerDevice}, {"tps_per_user", K::kPerUser},
      {"per_user_output_tps", K::kPerUser},             {"e2e_latency_ms_per_request", K::kE2eMs},
      {"decode_tok_per_s", K::kDecodeSingle},           {"output_tps", K::kThroughput},
      {"mean_tpot_ms", K::kTpotMs},                     {"output_tok_per_s_per_rank", K::kDecodePerDevice}};
  // vLLM's serialised TP+PP recipe (max-num-seqs 1) measures a decode step: TPOT first there.
  for (auto [key, kind] : kOrder) {
    const RawNode* v = r->Find(key);
    if (v == nullptr || !v->IsScalar()) continue;
    auto n = ScalarToDouble(*v, "");
    if (!n || !(*n > 0)) continue;
    return Mapped{.metric = std::string(key), .measured = *n, .kind = kind};
  }
  return std::nullopt;
}

std::string Lowered(const RawNode& c, std::initializer_list<std::string_view> keys) { return Lower(Field(c, keys)); }

}  // namespace

std::variant<CaseResult, std::string> PredictServingCase(const Catalog& catalog, const RawNode& c, double& budget) {
  std::vector<std::string> assumed;
  // What the contract cannot express.
  const std::string shape = Field(c, {"model", "shape"});
  if (!shape.empty()) return "the model's architecture is not in the catalog (" + shape.substr(0, 80) + ")";
  auto metric = PickMetric(c);
  if (!metric) {
    const RawNode* r = c.Find("result");
    std::string keys;
    if (r != nullptr && r->IsMap()) {
      for (const auto& k : r->keys) keys += (keys.empty() ? "" : ", ") + k;
    }
    return "no result the simulator predicts as a number (" + keys + "): ratios, figures and text ranges are not mapped";
  }
  const Chip* chip = MatchChipName(catalog, Field(c, {"hardware", "chip"}));
  if (chip == nullptr) return "no catalog chip matches '" + Field(c, {"hardware", "chip"}) + "'";
  const ModelEntry* model = FindCaseModel(catalog, c);
  if (model == nullptr) return "no catalog model matches '" + Field(c, {"model", "name"}) + "'";
  const System* system = SystemFor(catalog, *chip, Field(c, {"hardware", "system"}));
  // Devices are the system's ranks: on the Ascend A3 (CloudMatrix 384,
  // rank: die) each 910C die is an NPU rank of its own, as SGLang counts them.
  const RankedRecords device = RankedDevice(*chip, system, std::nullopt);
  const int dies = device.rank == DeviceRank::kDie ? chip->Dies() : 1;
  auto cluster = MakeCluster(catalog, device.chip, device.system_ptr());
  if (!cluster) return cluster.error().ToString();
  const std::string software = Lowered(c, {"software", "framework"});
  const Stack* stack = catalog.FindStack(software.find("sglang") != std::string::npos   ? "sglang"
                                         : software.find("vllm") != std::string::npos   ? "vllm"
                                         : software.find("tensorrt") != std::string::npos ? "trtllm"
                                                                                           : "");
  if (stack == nullptr) {
    stack = catalog.DefaultStack(StackKind::kServing);
    assumed.push_back("framework '" + Field(c, {"software", "framework"}) + "' has no stack record: " + stack->id + "'s budgets");
  }
  ServeStackConfig sc = StackConfig(*stack);

  // Layout.
  std::string pd = Lowered(c, {"workload", "pd_ratio"}) + Lowered(c, {"workload", "pd_disaggregation"});
  if (Lowered(c, {"workload", "phase"}).find("disaggregated") != std::string::npos) pd += "phase";
  const std::string pd_ratio = Lowered(c, {"workload", "pd_ratio"});
  const bool disaggregated = !pd.empty();
  if (disaggregated && pd_ratio.find(':') == std::string::npos) {
    return "PD-disaggregated, but the prefill and decode pools' layouts are not stated";
  }
  if (Lowered(c, {"hardware", "count"}).find("up to") != std::string::npos) return "the device count is not stated";
  const std::string offload = Lowered(c, {"workload", "ep"}) + Lowered(c, {"notes"});
  if (offload.find("offload") != std::string::npos) return "weights offloaded to host memory: not modelled";
  double count = Num(c, {"hardware", "count"}).value_or(0);
  // A case counts cards (packages): in dies where a device is a die ("32
  // cards (= 32 x 910C packages, 64 NPU dies)", "8 cards (16 dies)", "16 cards").
  if (const std::string count_text = Lowered(c, {"hardware", "count"}); dies > 1 && count > 0) {
    const double stated = NumberBefore(count_text, "dies").value_or(0);
    const double in_dies = stated > 0 ? stated : count * dies;
    assumed.push_back(std::to_string(int(count)) + " cards = " + std::to_string(int(in_dies)) +
                      " dies, one device (NPU rank) each; the layout's ranks are dies");
    count = in_dies;
  }
  int tp = int(Num(c, {"workload", "tp"}).value_or(0));
  const int pp = int(Num(c, {"workload", "pp"}).value_or(1));
  const int ep = int(Num(c, {"workload", "ep"}).value_or(0));
  const std::string dp_text = Lowered(c, {"workload", "dp_attention"});
  int dp = 1;
  if (dp_text.starts_with("true")) {
    const auto at = dp_text.find("dp ");
    dp = at != std::string::npos ? int(FirstNumber(dp_text.substr(at)).value_or(0)) : 0;
    if (dp == 0) {
      dp = tp > 0 ? tp : ep > 0 ? ep : int(count);
      if (!disaggregated) assumed.push_back("DP attention over every device of the instance (" + std::to_string(dp) + " ranks)");
    }
  }
  if (tp == 0 && dp == 1 && count <= 0 && ep > 1) {
    tp = ep;
    assumed.push_back("an instance of the " + std::to_string(ep) + " expert-parallel ranks, attention tensor-parallel over them");
  }
  if (tp == 0 && dp == 1 && !disaggregated) {
    if (count <= 0) return "neither the parallel layout nor the device count is stated";
    tp = int(count);
    assumed.push_back("tp " + std::to_string(tp) + " (layout not stated: every device)");
  }
  ServePlanSpec plan;
  if (dp > 1) {
    // TRT-LLM writes 'tp 8, ep 8, dp attention' for 8 ranks of attention over 8 devices.
    const int devices = count > 0 ? int(count) : std::max(tp, dp);
    plan = ServePlanSpec{.devices = devices, .tp = devices / (dp * pp), .pp = pp, .ep = 0, .dp = dp};
  } else {
    plan = ServePlanSpec{.devices = tp * pp, .tp = tp, .pp = pp, .ep = ep > 1 && tp % ep == 0 ? ep : 0, .dp = 1};
  }
  if (dp > 1 && !disaggregated) {
    // SGLang and TensorRT-LLM spread redundant experts (EPLB) when ep does not divide them.
    const int ranks = std::max(1, plan.tp) * dp;
    for (const LayerGroup& g : model->arch.groups) {
      if (!g.is_moe() || g.moe.experts % ranks == 0) continue;
      plan.redundant_experts = ranks - g.moe.experts % ranks;
      assumed.push_back(std::to_string(plan.redundant_experts) + " redundant experts (the fewest that let ep " +
                        std::to_string(ranks) + " divide " + std::to_string(g.moe.experts) + " experts; EPLB)");
      break;
    }
  }
  // Precision.
  const std::string w = Lowered(c, {"workload", "precision", "weights"});
  const std::string a = Lowered(c, {"workload", "precision", "activations"});
  const std::string kv = Lowered(c, {"workload", "precision", "kv_cache"});
  Precision prec;
  if (w.find("w4a8") != std::string::npos) {
    prec.weights = Dtype::kInt4;
    prec.activations = Dtype::kInt8;
  } else if (w.find("w8a8") != std::string::npos || w.find("int8") != std::string::npos) {
    prec.weights = Dtype::kInt8;
    prec.activations = Dtype::kInt8;
  } else if (w.find("fp4") != std::string::npos && Peak(cluster->device, Dtype::kFp4) <= 0) {
    prec.weights = Dtype::kInt4;
    prec.activations = Dtype::kBf16;
    assumed.push_back("4-bit weights dequantised to bf16 (the chip has no fp4 units)");
  } else if (w.find("fp4") != std::string::npos) {
    prec.weights = Dtype::kFp4;
    prec.activations = a.find("fp4") != std::string::npos ? Dtype::kFp4 : a.find("fp8") != std::string::npos ? Dtype::kFp8 : Dtype::kBf16;
  } else if (w.find("fp8") != std::string::npos) {
    prec.weights = Dtype::kFp8;
    prec.activations = Dtype::kFp8;
  } else if (w.empty() || w.find("bf16") != std::string::npos || w.find("fp16") != std::string::npos) {
    prec.weights = Dtype::kBf16;
    if (w.empty()) assumed.push_back("bf16 weights (precision not stated)");
  } else {
    return "weight precision '" + w + "' is not one suanli models";
  }
  if (kv.find("fp8") != std::string::npos) prec.kv_cache = Dtype::kFp8;

  // Budgets the case states.
  if (auto mnt = Num(c, {"workload", "max_num_tokens"})) sc.scheduler.max_batched_tokens = int64_t(*mnt);
  const std::string bpd = Lowered(c, {"workload", "batch_per_device"});
  if (bpd.find("max_batch_size per rank") != std::string::npos) sc.scheduler.max_seqs = int64_t(FirstNumber(bpd).value_or(256));
  if (auto seqs = Num(c, {"workload", "max_num_seqs"})) sc.scheduler.max_seqs = int64_t(*seqs);
  const std::string chunk = Lowered(c, {"workload", "chunked_prefill"});
  if (chunk.starts_with("disabled")) {
    sc.scheduler.chunk = 0;
  } else if (auto n = FirstNumber(chunk); n && !chunk.empty() && std::isdigit(static_cast<unsigned char>(chunk[0]))) {
    sc.scheduler.chunk = int64_t(*n);
    sc.scheduler.max_batched_tokens = std::max(sc.scheduler.max_batched_tokens, int64_t(*n));
  }
  if (sc.scheduler.chunk > sc.scheduler.max_batched_tokens) sc.scheduler.chunk = sc.scheduler.max_batched_tokens;
  if (sc.scheduler.chunk == 0 && sc.scheduler.max_batched_tokens < 16384) sc.scheduler.max_batched_tokens = 16384;

  // MTP.
  SpecDecode spec;
  const RawNode* mtp = Path(c, {"workload", "mtp"});
  if (mtp != nullptr && mtp->IsMap()) {
    const std::string method = Lowered(c, {"workload", "mtp", "method"});
    if (method != "none") {
      double draft = Num(c, {"workload", "mtp", "draft_len"}).value_or(0);
      if (draft == 0) draft = Num(c, {"workload", "mtp", "num_nextn_predict_layers"}).value_or(0);
      if (draft == 0) draft = Num(c, {"workload", "mtp", "num_steps"}).value_or(0);
      const std::string dec = Lowered(c, {"workload", "mtp", "decode"});
      if (draft == 0 && dec.find("steps") != std::string::npos) draft = FirstNumber(dec.substr(dec.find("steps"))).value_or(0);
      if (draft == 0) {
        const std::string win = Lowered(c, {"workload", "mtp", "window"});
        if (!win.empty()) draft = FirstNumber(win).value_or(1) - 1;
      }
      if (draft < 1) return "MTP without a stated number of draft tokens";
      spec.draft = int(draft);
      if (auto len = Num(c, {"workload", "mtp", "acceptance_len"}); len && *len >= 1) {
        spec.acceptance = {AcceptanceFor(spec.draft, *len)};
      } else if (const Figure* f = FindFigure(model->published, "published.mtp_acceptance")) {
        spec.acceptance = FigureValues(*f);
        if (int(spec.acceptance.size()) > spec.draft) spec.acceptance.resize(std::size_t(spec.draft));
        std::string by;
        for (double x : spec.acceptance) by += (by.empty() ? "" : ", ") + std::to_string(x).substr(0, 5);
        assumed.push_back("MTP acceptance " + by + (spec.acceptance.size() > 1 ? " by draft position" : " per position") +
                          " (the model's published figure; the case gives none)");
      } else {
        return "MTP with no acceptance stated and none published for " + model->id;
      }
    }
  }

  // Workload and load.
  double in = Num(c, {"workload", "input_len"}).value_or(0);
  double out = Num(c, {"workload", "output_len"}).value_or(0);
  const std::string dataset = Lowered(c, {"workload", "dataset"}) + " " + Lowered(c, {"workload", "phase"});
  if (in == 0 || out == 0) {
    // "ShareGPT (1000 prompts; 219171 input / 200752 output tokens)": the mean lengths.
    auto prompts = NumberBefore(dataset, "prompts");
    auto ti = NumberBefore(dataset, "input");
    auto to = NumberBefore(dataset, "output tokens");
    if (prompts && ti && to && *prompts > 0) {
      in = std::round(*ti / *prompts);
      out = std::round(*to / *prompts);
      assumed.push_back("ShareGPT lengths fixed at their means (" + std::to_string(int(in)) + " in / " + std::to_string(int(out)) + " out)");
    }
  }
  if (in > 1048576 || out > 1048576) return "lengths beyond 2^20 tokens are not simulated";
  using K = Mapped::Kind;
  const std::string conc_text = Lowered(c, {"workload", "concurrency"});
  double conc = Num(c, {"workload", "concurrency"}).value_or(0);
  if (conc_text.find("per rank") != std::string::npos) return "the concurrency is per rank of a layout the case does not state";
  const std::string rate_text = Lowered(c, {"workload", "request_rate"});
  const double requests = Num(c, {"workload", "num_requests"}).value_or(Num(c, {"workload", "num_prompts"}).value_or(0));

  std::vector<PoolRequest> pools{PoolRequest{.role = PoolRole::kMixed, .plan = plan, .instances = 1, .where = ""}};
  if (disaggregated) {
    const double nodes = Num(c, {"hardware", "nodes"}).value_or(0);
    const double per_node = nodes > 0 && count > 0 ? count / nodes : 8;
    const auto colon = pd_ratio.find(':');
    auto p = ParsePdPool(pd_ratio.substr(0, colon), PoolRole::kPrefill, per_node, dp_text.starts_with("true"), assumed);
    auto d = ParsePdPool(pd_ratio.substr(colon + 1), PoolRole::kDecode, per_node, dp_text.starts_with("true"), assumed);
    if (!p || !d) return "PD-disaggregated: the pools' layouts could not be read from '" + pd_ratio.substr(0, 100) + "'";
    pools = {*p, *d};
    for (PoolRequest& pr : pools) {
      const int ranks = std::max(1, pr.plan.tp) * pr.plan.dp;
      if (pr.plan.dp <= 1) continue;
      for (const LayerGroup& g : model->arch.groups) {
        if (!g.is_moe() || g.moe.experts % ranks == 0) continue;
        pr.plan.redundant_experts = ranks - g.moe.experts % ranks;
        assumed.push_back(pr.where + ": " + std::to_string(pr.plan.redundant_experts) +
                          " redundant experts (the fewest that let ep " + std::to_string(ranks) + " divide " +
                          std::to_string(g.moe.experts) + " experts; EPLB)");
        break;
      }
    }
    assumed.push_back("PD pools from the prose: " + std::to_string(p->instances) + " x " + std::to_string(p->plan.devices) +
                      " prefill (DP " + std::to_string(p->plan.dp) + "), " + std::to_string(d->instances) + " x " +
                      std::to_string(d->plan.devices) + " decode (DP " + std::to_string(d->plan.dp) + ")");
    dp = d->plan.dp;
  }
  auto built = BuildDeployment(*cluster, model->arch, prec, pools, sc, false);
  if (!built) return "the plan cannot run: " + built.error().ToString();
  if (!built->fits) return "predicted not to fit: " + built->reason;
  const ServePool& pool = built->deployment.pools.front();
  const double devices = double(built->deployment.devices());
  const InferencePlan& first = built->pools[0].plan;
  std::string setup = std::to_string(int(devices)) + " x " + chip->id + (dies > 1 ? " die" : "") + ", tp " + std::to_string(first.tp) +
                      (first.pp > 1 ? ", pp " + std::to_string(first.pp) : "") +
                      (dp > 1 ? ", DP attention " + std::to_string(dp) : "") + ", " + std::string(DtypeName(prec.weights)) +
                      (spec.draft > 0 ? ", MTP " + std::to_string(spec.draft) : "") + ", " + sc.id +
                      (sc.scheduler.max_seqs != StackConfig(*stack).scheduler.max_seqs
                           ? " (max " + std::to_string(sc.scheduler.max_seqs) + " sequences per rank)"
                           : "");
  double predicted = 0;
  if (disaggregated && metric->kind != K::kOutputPerCard && metric->kind != K::kThroughputPerDevice &&
      metric->kind != K::kThroughput) {
    return "PD-disaggregated and measured on one phase of it: the phase's own layout is not separable";
  }
  if (metric->kind == K::kDecodePerDevice || metric->kind == K::kDecodeSingle) {
    if (in == 0 && metric->kind == K::kDecodeSingle) {
      in = 1024;
      assumed.push_back("a 1,024-token context (lengths not stated; a batch-1 decode step depends little on them)");
    }
    if (in == 0) return "decode context not stated (input length)";
    int64_t batch = 0;
    if (metric->kind == K::kDecodeSingle) {
      batch = 1;
    } else if (auto b = FirstNumber(bpd); b && bpd.find("rank") != std::string::npos) {
      batch = int64_t(*b) * dp;
    } else {
      assumed.push_back("the largest decode batch the KV cache holds (the case saturates decode, batch not stated)");
    }
    const double ctx = in + (out > 0 ? out / 2 : 0);
    if (out == 0) assumed.push_back("decode at the prompt's context (output length not stated)");
    auto ph = DecodePhase(pool, spec, batch, ctx, kInf);
    if (!ph) return ph.error().ToString();
    if (!ph->fits) return "predicted not to fit: " + ph->reason;
    predicted = metric->kind == K::kDecodeSingle ? 1 / ph->tpot_s : ph->output_tokens_per_s / devices;
    setup += ", decode batch " + std::to_string(ph->batch) + " at " + std::to_string(int(ctx)) + " tokens";
  } else if (metric->kind == K::kPrefillPerDevice) {
    if (in == 0) return "prompt length not stated";
    const PhaseResult ph = PrefillPhase(pool, in, double(pool.scheduler.max_batched_tokens));
    predicted = ph.input_tokens_per_s / devices;
    setup += ", prefill " + std::to_string(int(in)) + "-token prompts";
  } else {
    if (in == 0 || out == 0) return "input and output lengths are not stated";
    GeneratedWorkload wl;
    wl.input = LengthDist{.a = in};
    wl.output = LengthDist{.a = out};
    const bool burst = rate_text.starts_with("inf") || conc_text.starts_with("unbounded");
    if (conc > 0 && !burst) {
      wl.load = LoadSpec{.kind = ArrivalKind::kClosedLoop, .concurrency = int64_t(conc)};
      wl.requests = int64_t(std::min(20000.0, requests > 0 ? requests : conc * 8));
      setup += ", " + std::to_string(int(conc)) + " in flight";
    } else if (burst) {
      wl.load = LoadSpec{.kind = ArrivalKind::kOffline};
      wl.requests = int64_t(std::min(20000.0, requests > 0 ? requests : NumberBefore(dataset, "prompts").value_or(1000)));
      setup += ", " + std::to_string(wl.requests) + " requests at once";
    } else if (auto rate = FirstNumber(rate_text); rate && *rate > 0) {
      wl.load = LoadSpec{.kind = ArrivalKind::kPoisson, .rate = *rate};
      wl.requests = int64_t(std::min(20000.0, requests > 0 ? requests : 1000));
      setup += ", Poisson " + rate_text;
    } else {
      return "the load (concurrency or request rate) is not stated";
    }
    if (wl.requests < 1) return "the number of requests is not stated";
    // Iterations grow with the tokens over the batch: at most 2 million a case.
    const double batch = std::max(1.0, std::min(double(sc.scheduler.max_seqs) * dp, conc > 0 ? conc : kLargest));
    wl.requests = std::max<int64_t>(1, std::min<int64_t>(wl.requests, int64_t(2e6 * batch / out)));
    const double tokens = double(wl.requests) * out;
    if (tokens > budget) return "the report's simulation budget is spent (3 x 10^8 output tokens)";
    budget -= tokens;
    auto src = MakeGenerator(wl);
    ServeOptions opt;
    opt.spec = spec;
    auto s = Simulate(built->deployment, *src, opt);
    if (!s) return s.error().ToString();
    if (s->requests == 0) return "no request could be served (prompts exceed the KV cache)";
    const double d = s->duration_s;
    switch (metric->kind) {
      case K::kThroughputPerDevice: predicted = s->output_tokens / d / devices; break;
      case K::kOutputPerCard: predicted = s->output_tokens / d / (devices / dies); break;  // per package
      case K::kThroughput: predicted = s->output_tokens / d; break;
      case K::kPerUser: predicted = 1 / s->tpot.mean; break;
      case K::kE2eMs: predicted = s->e2e.mean * 1e3; break;
      case K::kTpotMs: predicted = s->tpot.mean * 1e3; break;
      default: break;
    }
  }
  CaseResult r{.id = {}, .group = {}, .kind = {}, .metric = metric->metric, .hardware = chip->id, .model = model->id,
               .setup = setup, .assumption = {}, .measured = metric->measured, .predicted = predicted,
               .signed_error = (predicted - metric->measured) / metric->measured};
  for (auto& n : built->notes) assumed.push_back(n);
  for (const auto& x : assumed) r.assumption += (r.assumption.empty() ? "" : "; ") + x;
  return r;
}

}  // namespace suanli
