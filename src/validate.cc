// Mapping measured cases to predictions, and error statistics.
#include "suanli/validate.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "raw_node.h"

namespace suanli {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

// Lower-case alphanumerics, parenthesised remarks and vendor names removed.
std::string NormalizeName(const std::string& name) {
  std::string s;
  int depth = 0;
  for (char c : name) {
    if (c == '(') ++depth;
    if (depth == 0 && std::isalnum(static_cast<unsigned char>(c))) s += char(std::tolower(static_cast<unsigned char>(c)));
    if (c == ')' && depth > 0) --depth;
  }
  for (std::string_view vendor : {"nvidia", "amd", "huawei", "intel", "cambricon", "instinct"}) {
    if (s.starts_with(vendor)) s.erase(0, vendor.size());
  }
  return s;
}

const RawNode* Path(const RawNode& n, std::initializer_list<std::string_view> keys) {
  const RawNode* cur = &n;
  for (auto k : keys) {
    if (cur == nullptr || !cur->IsMap()) return nullptr;
    cur = cur->Find(k);
  }
  return cur != nullptr && !cur->IsNull() ? cur : nullptr;
}

std::optional<long long> IntAt(const RawNode& n, std::initializer_list<std::string_view> keys) {
  const RawNode* v = Path(n, keys);
  if (v == nullptr || !v->IsScalar() || v->quoted) return std::nullopt;
  auto r = ScalarToInt(*v, "");
  if (!r) return std::nullopt;
  return *r;
}

std::optional<double> NumberAt(const RawNode& n, std::initializer_list<std::string_view> keys) {
  const RawNode* v = Path(n, keys);
  if (v == nullptr || !v->IsScalar() || v->quoted) return std::nullopt;
  auto r = ScalarToDouble(*v, "");
  if (!r) return std::nullopt;
  return *r;
}

std::string TextAt(const RawNode& n, std::initializer_list<std::string_view> keys) {
  const RawNode* v = Path(n, keys);
  return v != nullptr && v->IsScalar() ? v->scalar : std::string();
}

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
std::optional<std::string> MapInference(const RawNode& c, const ModelArch& arch, Mapping& out) {
  const auto in = IntAt(c, {"workload", "input_len"});
  const auto outl = IntAt(c, {"workload", "output_len"});
  if (!in || !outl) {
    return "input/output lengths are not fixed numbers ('" + TextAt(c, {"workload", "input_len"}) + "' / '" +
           TextAt(c, {"workload", "output_len"}) + "'); the model predicts fixed-length requests";
  }
  InferenceRequest& r = out.request;
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
  r.tp = int(tp.value_or(1));
  r.pp = int(pp.value_or(1));
  r.ep = int(ep.value_or(1));
  if (!tp) out.assumptions.push_back("tp not stated: 1");
  if (r.tp < 1 || r.pp < 1 || r.ep < 1) return "parallelism must be positive";
  const long long per_replica = static_cast<long long>(r.tp) * r.pp * r.ep;
  if (count && *count > per_replica && *count % per_replica == 0) out.replicas = int(*count / per_replica);
  if (!count && tp) out.assumptions.push_back("device count not stated: tp x pp x ep");
  // Precision.
  const std::string prec = Lower(TextAt(c, {"workload", "precision"}));
  const std::string kv = Lower(TextAt(c, {"workload", "kv_cache_precision"}));
  Precision& p = r.precision;
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
  for (std::string_view key : {"total_output_tokens_per_s", "output_tokens_per_s", "tokens_per_s"}) {
    if (auto v = NumberAt(c, {"result", key})) {
      out.metric = std::string(key);
      out.measured = *v;
      break;
    }
  }
  if (out.metric.empty()) return "no throughput result (total_output_tokens_per_s, output_tokens_per_s or tokens_per_s)";
  if (!(out.measured > 0)) return "the measured value is not positive";
  if (out.metric == "tokens_per_s" && r.mode == BatchMode::kStatic) {
    out.generated_over_latency = true;
    out.assumptions.push_back(
        "tokens_per_s read as batch x output tokens / end-to-end latency, as TensorRT-LLM's static-batch "
        "benchmark reports it; counting input tokens too would imply a latency far beyond the compute needed");
  }
  (void)arch;
  return std::nullopt;
}

std::string Setup(const InferenceRequest& r, int replicas, const InferenceEstimate& e) {
  std::string s = std::to_string(r.input_tokens) + " in / " + std::to_string(r.output_tokens) + " out, ";
  s += (r.mode == BatchMode::kStatic ? "static batch " : "in flight ") + std::to_string(e.batch);
  s += ", tp " + std::to_string(r.tp);
  if (r.pp > 1) s += " pp " + std::to_string(r.pp);
  if (r.ep > 1) s += " ep " + std::to_string(r.ep);
  if (replicas > 1) s += " x " + std::to_string(replicas) + " replicas";
  s += ", " + std::string(DtypeName(r.precision.weights));
  return s;
}

}  // namespace

const Chip* MatchChipName(const Catalog& catalog, const std::string& name) {
  if (const Chip* c = catalog.FindChip(name)) return c;
  const std::string want = NormalizeName(name);
  if (want.empty()) return nullptr;
  for (const Chip& c : catalog.chips()) {
    if (NormalizeName(c.id) == want || NormalizeName(c.name) == want) return &c;
    for (const auto& a : c.aliases) {
      if (NormalizeName(a) == want) return &c;
    }
  }
  return nullptr;
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

Result<ValidationReport> ValidateCases(const Catalog& catalog, const std::string& path) {
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
  std::map<std::string, std::vector<double>> by_group;
  std::vector<double> all;
  for (const RawNode& c : cases->items) {
    const std::string id = TextAt(c, {"id"});
    const std::string group = TextAt(c, {"group"});
    const std::string kind = TextAt(c, {"kind"});
    auto skip = [&](std::string reason) {
      report.unmapped.push_back(UnmappedCase{.id = id, .group = group, .kind = kind, .reason = std::move(reason)});
    };
    if (kind == "microbenchmark") {
      skip("microbenchmarks calibrate the efficiency profiles (catalog/profiles/); they are inputs, not predictions");
      continue;
    }
    if (kind != "inference") {
      skip("kind '" + kind + "' is not predicted yet (suanli validate predicts inference cases)");
      continue;
    }
    const std::string chip_name = TextAt(c, {"hardware", "chip"});
    const Chip* chip = MatchChipName(catalog, chip_name);
    if (chip == nullptr) {
      skip("no catalog chip matches '" + chip_name + "'");
      continue;
    }
    const CaseModel cm = ReadCaseModel(c);
    const ModelEntry* entry = nullptr;
    for (const ModelEntry& m : catalog.models()) {
      if (Matches(m.arch, cm)) {
        entry = &m;
        break;
      }
    }
    std::optional<ModelArch> fields;
    if (entry == nullptr) fields = ArchFromFields(cm);
    if (entry == nullptr && !fields) {
      skip("no catalog model has the case's shape and its fields are incomplete");
      continue;
    }
    const ModelArch& arch = entry != nullptr ? entry->arch : *fields;
    Mapping map;
    if (auto why = MapInference(c, arch, map)) {
      skip(*why);
      continue;
    }
    auto device = MakeDevice(catalog, *chip, nullptr);
    if (!device) {
      skip(device.error().ToString());
      continue;
    }
    auto est = EstimateInference(*device, arch, map.request);
    if (!est) {
      skip("the plan cannot run: " + est.error().ToString());
      continue;
    }
    if (!est->fits) {
      skip("predicted not to fit: " + std::string(InfeasibleReasonText(est->reason)));
      continue;
    }
    const double predicted =
        est->output_tokens_per_s * map.replicas;  // generated tokens / latency in every supported metric
    CaseResult r{.id = id, .group = group, .kind = kind, .metric = map.metric, .hardware = chip->id,
                 .model = entry != nullptr ? entry->id : "case fields",
                 .setup = Setup(map.request, map.replicas, *est), .assumption = {},
                 .measured = map.measured, .predicted = predicted,
                 .signed_error = (predicted - map.measured) / map.measured};
    for (const auto& a : map.assumptions) r.assumption += (r.assumption.empty() ? "" : "; ") + a;
    by_group[group].push_back(r.signed_error);
    all.push_back(r.signed_error);
    report.cases.push_back(std::move(r));
  }
  for (const auto& [g, errors] : by_group) report.groups[g] = Summarize(errors);
  report.overall = Summarize(all);
  return report;
}

}  // namespace suanli
