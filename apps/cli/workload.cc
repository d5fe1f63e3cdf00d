#include "workload.h"

#include <charconv>

#include <fmt/format.h>

namespace suanli::cli {
namespace {

Dtype ParseDtypeFlag(const std::string& flag, const std::string& value) {
  auto t = ParseDtype(value);
  if (!t || *t == Dtype::kFp64 || *t == Dtype::kFp32 || *t == Dtype::kTf32) {
    throw InputError(flag + ": '" + value + "' is not a precision; use bf16, fp16, fp8, int8, int4 or fp4");
  }
  return *t;
}

int64_t ParseCount(const std::string& flag, const std::string& value) {
  int64_t n = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, n);
  if (ec != std::errc() || ptr != end || n < 1) {
    throw InputError(flag + ": expected a positive whole number or 'max', found '" + value + "'");
  }
  return n;
}

std::string FlagFor(const std::string& key) {
  if (key == "input_tokens") return "--input-tokens";
  if (key == "output_tokens") return "--output-tokens";
  if (key == "kv_cache") return "--kv-cache";
  if (key == "parallelism" || key == "tokens" || key == "model") return key;
  return "--" + key;
}

}  // namespace

void AddWorkloadOptions(CLI::App* cmd, WorkloadOptions& w) {
  cmd->add_option("--model", w.model, "Model id, catalog model file or Hugging Face config.json")->required();
  cmd->add_option("--input-tokens", w.input_tokens, "Prompt tokens per request")->required();
  cmd->add_option("--output-tokens", w.output_tokens, "Generated tokens per request")->required();
  auto* batch = cmd->add_option("--batch", w.batch, "N requests start together, or 'max' (the best batch that fits)");
  auto* conc = cmd->add_option("--concurrency", w.concurrency,
                               "N requests always in flight (continuous batching), or 'max' (all that fit)");
  batch->excludes(conc);
  conc->excludes(batch);
  cmd->add_option("--tp", w.tp, "Tensor parallelism (default 1)");
  cmd->add_option("--pp", w.pp, "Pipeline parallelism (default 1)");
  cmd->add_option("--ep", w.ep, "Expert parallelism, MoE only (default 1)");
  cmd->add_option("--weights", w.weights, "Weight precision: bf16 fp16 fp8 int8 int4 fp4 (default bf16)");
  cmd->add_option("--activations", w.activations, "Activation precision (default: fp8 with fp8 weights, else bf16)");
  cmd->add_option("--kv-cache", w.kv_cache, "KV-cache precision (default bf16)");
  cmd->add_flag("--sparsity", w.sparsity, "2:4 structured-sparse weights (sparse matrix units where the chip has them)");
}

InferenceRequest MakeRequest(const WorkloadOptions& w) {
  InferenceRequest r;
  r.workload.input_tokens = w.input_tokens;
  r.workload.output_tokens = w.output_tokens;
  r.plan.tp = w.tp;
  r.plan.pp = w.pp;
  r.plan.ep = w.ep;
  if (!w.concurrency.empty()) {
    r.workload.mode = w.concurrency == "max" ? BatchMode::kConcurrencyMax : BatchMode::kConcurrency;
    if (r.workload.mode == BatchMode::kConcurrency) r.workload.batch = ParseCount("--concurrency", w.concurrency);
  } else if (w.batch.empty()) {
    r.workload.mode = BatchMode::kStatic;
    r.workload.batch = 1;
  } else {
    r.workload.mode = w.batch == "max" ? BatchMode::kStaticMax : BatchMode::kStatic;
    if (r.workload.mode == BatchMode::kStatic) r.workload.batch = ParseCount("--batch", w.batch);
  }
  r.plan.precision.weights = ParseDtypeFlag("--weights", w.weights);
  r.plan.precision.activations = w.activations.empty()
                                ? (r.plan.precision.weights == Dtype::kFp8 ? Dtype::kFp8 : Dtype::kBf16)
                                : ParseDtypeFlag("--activations", w.activations);
  r.plan.precision.kv_cache = ParseDtypeFlag("--kv-cache", w.kv_cache);
  r.plan.precision.sparse_24 = w.sparsity;
  return r;
}

void ThrowPlanError(const Error& error) {
  if (error.internal()) throw std::runtime_error(error.ToString());
  std::string msg;
  for (const auto& d : error.diagnostics) {
    if (!msg.empty()) msg += "\n";
    msg += (d.key_path.empty() ? "" : FlagFor(d.key_path) + ": ") + d.message;
  }
  throw InputError(msg);
}

Cluster MakeClusterOrThrow(const Catalog& catalog, const ResolvedHardware& hw) {
  auto d = MakeCluster(catalog, hw.chip, hw.system);
  if (!d) throw InputError(d.error());
  return std::move(*d);
}

std::string ModeName(BatchMode m) {
  switch (m) {
    case BatchMode::kStatic: return "static";
    case BatchMode::kStaticMax: return "static, best batch";
    case BatchMode::kConcurrency: return "continuous";
    case BatchMode::kConcurrencyMax: return "continuous, all that fit";
  }
  return "?";
}

nlohmann::json EstimateJson(const InferenceEstimate& e) {
  using nlohmann::json;
  auto phase = [](const PhaseEstimate& ph) {
    json j = json::object();
    for (int i = 0; i < kOpClassCount; ++i) {
      j[std::string(OpClassName(static_cast<OpClass>(i))) + "_s"] = ph.by_class[i];
    }
    j["total_s"] = ph.seconds;
    j["compute_bound_s"] = ph.compute_seconds;
    j["memory_bound_s"] = ph.memory_seconds;
    j["communication_s"] = ph.communication_seconds;
    j["overhead_s"] = ph.overhead_seconds;
    j["flops_per_device"] = ph.flops;
    j["bytes_per_device"] = ph.bytes;
    return j;
  };
  const json warnings = WarningList(e.warnings);
  json j{{"ttft_s", e.ttft_s},
         {"tpot_s", e.tpot_s},
         {"request_latency_s", e.request_latency_s},
         {"output_tokens_per_s", e.output_tokens_per_s},
         {"output_tokens_per_s_per_device", e.output_tokens_per_s_per_device},
         {"input_tokens_per_s", e.input_tokens_per_s},
         {"output_tokens_per_s_per_kw", e.output_tokens_per_s_per_kw > 0 ? json(e.output_tokens_per_s_per_kw) : json(nullptr)},
         {"output_tokens_per_s_per_usd", e.output_tokens_per_s_per_usd > 0 ? json(e.output_tokens_per_s_per_usd) : json(nullptr)},
         {"batch", e.batch},
         {"devices", e.devices},
         {"fits", e.fits},
         {"reason", e.fits ? json(nullptr) : json(std::string(InfeasibleReasonText(e.reason)))},
         {"bound", {{"prefill", BoundName(e.prefill.bound)}, {"decode", BoundName(e.decode.bound)}}},
         {"memory",
          {{"weights_bytes", e.memory.weights},
           {"kv_cache_bytes", e.memory.kv_cache},
           {"activation_bytes", e.memory.activations},
           {"reserved_bytes", e.memory.reserved},
           {"total_bytes", e.memory.total},
           {"capacity_bytes", e.memory.capacity}}},
         {"max_batch", e.max_batch},
         {"max_context_tokens", e.max_context_tokens},
         {"breakdown", {{"prefill", phase(e.prefill)}, {"decode", phase(e.decode)}}},
         {"compute_precision", DtypeName(e.compute_dtype)},
         {"tier", ProfileTierName(e.tier)},
         {"warnings", warnings}};
  return j;
}

}  // namespace suanli::cli
