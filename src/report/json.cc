// Every JSON form of every result: the only file that builds JSON output.
#include "suanli/report/json.h"

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "suanli/catalog/market.h"
#include "suanli/core/overloaded.h"

namespace suanli {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(2); }

json Optional(double v) { return v > 0 ? json(v) : json(nullptr); }
json OptionalJson(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

// --- Inference ---

json PhaseJson(const PhaseEstimate& ph) {
  json j = json::object();
  for (int i = 0; i < kOpClassCount; ++i) j[std::string(OpClassName(static_cast<OpClass>(i))) + "_s"] = ph.by_class[i];
  j["total_s"] = ph.seconds;
  j["compute_bound_s"] = ph.compute_seconds;
  j["memory_bound_s"] = ph.memory_seconds;
  j["communication_s"] = ph.communication_seconds;
  j["overhead_s"] = ph.overhead_seconds;
  j["flops_per_device"] = ph.flops;
  j["bytes_per_device"] = ph.bytes;
  return j;
}

json InferenceEstimateJson(const InferenceEstimate& e) {
  return json{{"ttft_s", e.ttft_s},
              {"tpot_s", e.tpot_s},
              {"request_latency_s", e.request_latency_s},
              {"output_tokens_per_s", e.output_tokens_per_s},
              {"output_tokens_per_s_per_device", e.output_tokens_per_s_per_device},
              {"input_tokens_per_s", e.input_tokens_per_s},
              {"output_tokens_per_s_per_kw", Optional(e.output_tokens_per_s_per_kw)},  // alias of output_tokens_per_j (one release)
              {"output_tokens_per_j", Optional(e.output_tokens_per_s_per_kw / 1e3)},
              {"output_tokens_per_s_per_usd", Optional(e.output_tokens_per_s_per_usd)},
              {"batch", e.batch},
              {"devices", e.devices},
              {"fits", e.fits},
              {"reason", e.fits ? json(nullptr) : json(std::string(InfeasibleReasonText(e.reason)))},
              {"bound", {{"prefill", BoundName(e.prefill.bound)}, {"decode", BoundName(e.decode.bound)}}},
              {"memory",
               {{"weights_bytes", e.memory.weights},
                {"kv_cache_bytes", e.memory.kv_cache},
                {"activation_bytes", e.memory.activations},  // alias of activations_bytes (one release)
                {"activations_bytes", e.memory.activations},
                {"reserved_bytes", e.memory.reserved},
                {"total_bytes", e.memory.total},
                {"capacity_bytes", e.memory.capacity}}},
              {"max_batch", e.max_batch},
              {"max_context_tokens", e.max_context_tokens},
              {"breakdown", {{"prefill", PhaseJson(e.prefill)}, {"decode", PhaseJson(e.decode)}}},
              {"compute_precision", DtypeName(e.compute_dtype)},
              {"tier", ProfileTierName(e.tier)},
              {"warnings", WarningList(e.warnings)}};
}

// --- Training ---

json TrainPlanJson(const TrainPlan& p) {
  json j{{"tp", p.tp},
          {"pp", p.pp},
          {"dp", p.dp},
          {"cp", p.cp},
          {"ep", p.ep},
          {"etp", ExpertTp(p)},
          {"edp", ExpertDp(p)},
          {"first_stage_layers", p.first_stage_layers},
          {"last_stage_layers", p.last_stage_layers},
          {"embedding_in_split", p.embedding_in_split},
          {"loss_in_split", p.loss_in_split},
          {"dispatcher", NameOf<ExpertDispatcher>(kExpertDispatcherNames, p.dispatcher)},
          {"overlap_ep", p.overlap_ep},
          {"recompute_modules", RecomputeModulesText(p.recompute_modules)},
          {"offload_layers", p.offload_layers},
          {"offload_optimizer", p.offload_optimizer},
          {"pp_schedule", PipelineScheduleName(EffectiveSchedule(p))},
          {"cp_comm", NameOf<CpComm>(kCpCommNames, p.cp_comm)},
          {"fp8_activations", p.fp8_activations},
          {"mtp_layers", p.mtp_layers},
          {"vp", p.vp},
          {"micro_batch", p.micro_batch},
          {"recompute", RecomputeName(p.recompute)},
          {"zero", p.zero},
          {"fsdp", p.fsdp},
          {"fsdp_reshard", p.fsdp_reshard},
          {"precision", TrainPrecisionName(p.precision)},
          {"optimizer_state", OptimizerStateName(p.optimizer_state)},
          {"sequence_parallel", p.sequence_parallel},
          {"overlap_dp", p.overlap_dp},
          {"overlap_tp", p.overlap_tp},
          {"overlap_pp", p.overlap_pp}};
  // Only when set, so that outputs of plans without it stay as they were.
  if (p.offload_weights) j["offload_weights"] = true;
  return j;
}

json TrainEstimateJson(const TrainPlan& p, const TrainEstimate& e, bool tokens) {
  const TrainMemory& m = e.memory;
  const TrainBreakdown& b = e.breakdown;
  const TrainBoundShare bound = BoundOf(b);
  json j{{"step_time_s", e.step_time_s},
         {"tokens_per_s", e.tokens_per_s},
         {"tokens_per_s_per_device", e.tokens_per_s_per_device},
         {"model_flops_per_step", e.model_flops_per_step},
         {"model_flops_formula", kModelFlopsFormula},
         {"hardware_flops_per_step", e.hardware_flops_per_step},
         {"model_tflops_per_device", e.model_tflops_per_device},  // alias (one release)
         {"model_flops_per_s_per_device", e.model_tflops_per_device * 1e12},
         {"mfu", e.mfu},
         {"memory",
          {{"weights_bytes", m.weights},
           {"gradients_bytes", m.gradients},
           {"optimizer_bytes", m.optimizer},
           {"activations_bytes", m.activations},
           {"fsdp_buffers_bytes", m.fsdp_buffers},
           {"other_bytes", m.other},
           {"total_bytes", m.total},
           {"capacity_bytes", m.capacity}}},
         {"fits", e.fits},
         {"reason", e.fits ? json(nullptr) : json(std::string(TrainInfeasibleText(e.reason)))},
         {"plan", TrainPlanJson(p)},
         {"micro_batches_per_step", e.micro_batches},
         {"breakdown",
          {{"compute_s", b.compute},
           {"recompute_s", b.recompute},
           {"tp_comm_s", b.tp_comm},
           {"dp_comm_exposed_s", b.dp_comm_exposed},
           {"pp_bubble_s", b.pp_bubble},
           {"pp_comm_s", b.pp_comm},
           {"ep_comm_s", b.ep_comm},
           {"cp_comm_s", b.cp_comm},
           {"optimizer_s", b.optimizer},
           {"framework_s", b.framework},
           {"offload_s", b.offload}}},
         {"bound", TrainBoundName(bound.bound)},
         {"bound_share", bound.share},
         {"tier", ProfileTierName(e.tier)},
         {"warnings", TrainWarningList(e.warnings)}};
  if (tokens) {
    j["time_to_train_s"] = e.time_to_train_s;
    j["device_hours"] = e.device_hours;  // alias of device_time_s (one release)
    j["device_time_s"] = e.device_hours * 3600;
    j["energy_j"] = Optional(e.energy_j);
  }
  return j;
}

// --- Export control ---

json ClassificationJson(const Classification& c) {
  json headroom = json::array();
  for (const auto& h : c.headroom) {
    const std::string unit = h.metric == "tpp" || h.metric == "performance_density" ? "" : "B/s";
    headroom.push_back(json{{"metric", h.metric}, {"unit", unit}, {"current", h.current}, {"limit", OptionalJson(h.limit)},
                            {"margin", h.limit ? json(h.margin) : json(nullptr)},
                            {"fraction", h.limit ? json(h.fraction) : json(nullptr)},
                            {"flips_to", h.flips_to}, {"note", h.note}});
  }
  return json{{"chip", c.chip},
              {"rules", c.rules},
              {"tpp", OptionalJson(c.metrics.tpp)},
              {"tpp_format", c.metrics.tpp_format},
              {"performance_density", OptionalJson(c.metrics.performance_density)},
              {"die_area_mm2", OptionalJson(c.metrics.die_area_mm2)},  // alias of die_area_m2 (one release)
              {"die_area_m2", c.metrics.die_area_mm2 ? json(*c.metrics.die_area_mm2 * 1e-6) : json(nullptr)},
              {"io_bidirectional_bytes_per_s", OptionalJson(c.metrics.io_bidirectional)},
              {"dram_bandwidth_bytes_per_s", OptionalJson(c.metrics.dram_bandwidth)},
              {"datacenter", c.metrics.datacenter},
              {"category", c.category},
              {"controlled", c.controlled ? json(*c.controlled) : json(nullptr)},
              {"reasons", c.reasons},
              {"headroom", headroom},
              {"warnings", c.warnings}};
}

// --- Validation ---

json StatsJson(const ErrorStats& s) {
  return {{"count", s.count},     {"median_ape", s.median_ape}, {"mean_ape", s.mean_ape},
          {"p90_ape", s.p90_ape}, {"max_ape", s.max_ape},       {"bias", s.bias}};
}

// --- Catalog ---

json FigureJson(const Figure& f) {
  json j;
  if (f.is_text) {
    j["value"] = f.text;
  } else {
    j["value"] = f.value;
    if (!f.values.empty()) j["values"] = f.values;
    j["unit"] = DimName(f.dim);
    j["display"] = FormatFigureValue(f);
    if (f.range) j["range"] = {f.range->first, f.range->second};
  }
  j["basis"] = std::string(BasisName(f.basis));
  j["sources"] = f.sources;
  if (!f.note.empty()) j["note"] = f.note;
  if (!f.checked_against.empty()) j["checked_against"] = f.checked_against;
  j["file"] = f.file;
  j["line"] = f.line;
  return j;
}

json FiguresJson(const FigureMap& figures) {
  json j = json::object();
  for (const auto& [k, f] : figures) j[k] = FigureJson(f);
  return j;
}

json ModelJson(const ModelEntry& m) {
  const ParamCount p = CountParams(m.arch);
  json groups = json::array();
  for (const auto& g : m.arch.groups) {
    groups.push_back(json{{"layers", g.count},
                          {"attention", AttentionKindName(g.attention)},
                          {"heads", g.attention.heads}, {"kv_heads", g.attention.kv_heads},
                          {"head_dim", g.attention.head_dim}, {"window", g.attention.window},
                          {"ffn", g.is_moe() ? g.moe.expert_ffn : g.mlp.ffn}, {"experts", g.moe.experts},
                          {"top_k", g.moe.top_k}, {"shared_experts", g.moe.shared_experts}});
  }
  return json{{"kind", "model"}, {"id", m.id}, {"name", m.name}, {"family", m.arch.family},
              {"hidden", m.arch.hidden}, {"layers", m.arch.layers}, {"vocab", m.arch.vocab},
              {"total_params", p.total}, {"active_params", p.active}, {"mtp_params", p.mtp},
              {"kv_values_per_token", KvValuesPerToken(m.arch, 1)}, {"layer_groups", groups},
              {"published", FiguresJson(m.published)}, {"sources", m.sources}, {"file", m.file}};
}

json ListChips(const Catalog& catalog) {
  json arr = json::array();
  for (const auto& c : catalog.chips()) {
    json j{{"id", c.id}, {"name", c.name}, {"vendor", c.vendor}, {"status", ChipStatusName(c.status)}};
    auto put = [&](const char* key, std::optional<double> v) { j[key] = v ? json(*v) : json(nullptr); };
    auto bf16 = c.DenseRate(Dtype::kBf16);
    auto fp16 = c.DenseRate(Dtype::kFp16);
    auto fp8 = c.DenseRate(Dtype::kFp8);
    put("bf16_flops_per_s", bf16 ? std::optional(bf16->si()) : (fp16 ? std::optional(fp16->si()) : std::nullopt));
    put("fp8_flops_per_s", fp8 ? std::optional(fp8->si()) : std::nullopt);
    put("memory_bytes", c.Get("memory.capacity"));
    put("memory_bandwidth_bytes_per_s", c.Get("memory.bandwidth"));
    put("scale_up_bytes_per_s", c.Get("scale_up.bandwidth"));
    put("tdp_w", c.Get("power.tdp"));
    put("price_usd", LatestPurchasePriceUsd(catalog, c.id));
    arr.push_back(j);
  }
  return json{{"chips", arr}};
}

json ListSystems(const Catalog& catalog) {
  json arr = json::array();
  for (const auto& s : catalog.systems()) {
    json j{{"id", s.id}, {"name", s.name}, {"chip", s.chip}};
    auto put = [&](const char* key, std::optional<double> v) { j[key] = v ? json(*v) : json(nullptr); };
    put("chips_per_node", s.Get("chips_per_node"));
    put("scale_up_domain", s.Get("scale_up.domain"));
    put("scale_up_bytes_per_s", s.Get("scale_up.bandwidth"));
    put("scale_out_bytes_per_s", s.Get("scale_out.bandwidth"));
    put("node_power_w", s.Get("node_power"));
    put("price_usd", LatestPurchasePriceUsd(catalog, s.id));
    arr.push_back(j);
  }
  return json{{"systems", arr}};
}

json ListModels(const Catalog& catalog) {
  json arr = json::array();
  for (const auto& m : catalog.models()) {
    const ModelSummary s = SummarizeModel(m.arch);
    arr.push_back(json{{"id", m.id}, {"name", m.name}, {"family", m.arch.family}, {"layers", m.arch.layers},
                       {"hidden", m.arch.hidden}, {"experts", s.experts}, {"top_k", s.top_k},
                       {"total_params", s.params.total}, {"active_params", s.params.active},
                       {"kv_cache_bytes_per_token_bf16", s.kv_bytes_per_token_bf16}});
  }
  return json{{"models", arr}};
}

json MarketJson(const MarketRecord& r) {
  json j{{"kind", RecordKindName(r.kind)}, {"id", r.id}, {"date", r.date}, {"notes", r.notes}, {"file", r.file},
         {"figures", FiguresJson(r.figures)}};
  if (r.kind == RecordKind::kPrice) {
    j["subject"] = r.subject;
    j["price_kind"] = r.price_kind;
  }
  if (r.kind != RecordKind::kFx) j["region"] = r.region;
  if (r.kind == RecordKind::kFacility) j["name"] = r.name;
  return j;
}

json StackJson(const Stack& s) {
  return json{{"kind", "stack"}, {"id", s.id}, {"name", s.name}, {"stack_kind", StackKindName(s.kind)},
              {"default", s.is_default}, {"norms", s.fused_residual_norm ? "fused_residual" : "unfused"},
              {"sources", s.sources}, {"notes", s.notes}, {"file", s.file}, {"figures", FiguresJson(s.figures)}};
}

}  // namespace

json InferRequestJson(const InferenceRequest& q) {
  const InferenceWorkload& w = q.workload;
  const bool concurrent = w.mode == BatchMode::kConcurrency || w.mode == BatchMode::kConcurrencyMax;
  const bool max = w.mode == BatchMode::kStaticMax || w.mode == BatchMode::kConcurrencyMax;
  return json{{"input_tokens", w.input_tokens},
              {"output_tokens", w.output_tokens},
              {concurrent ? "concurrency" : "batch", max ? json("max") : json(w.batch)},
              {"tp", q.plan.tp},
              {"pp", q.plan.pp},
              {"ep", q.plan.ep},
              {"weights", DtypeName(q.plan.precision.weights)},
              {"activations", DtypeName(q.plan.precision.activations)},
              {"kv_cache", DtypeName(q.plan.precision.kv_cache)},
              {"sparsity", q.plan.precision.sparse_24},
              {"stack", q.stack.id}};
}

std::string ToJson(const InferResult& r) {
  json j = InferenceEstimateJson(r.estimate);
  j["request"] = InferRequestJson(r.request);
  j["request"]["hardware"] = r.hardware.id();
  j["request"]["model"] = r.model.id;
  j["hardware"] = r.hardware.id();
  j["chip"] = r.hardware.chip.id;
  j["rank"] = DeviceRankName(r.hardware.rank);
  j["model"] = r.model.id;
  j["profile"] = r.cluster.device.profile_id;
  j["plan"] = {{"tp", r.request.plan.tp}, {"pp", r.request.plan.pp}, {"ep", r.request.plan.ep},
               {"mode", ModeName(r.request.workload.mode)}};
  j["warnings"] = r.warnings;
  return Dump(j);
}

std::string ToJson(const CompareResult& r) {
  json rows = json::array();
  for (const auto& row : r.rows) {
    json j = InferenceEstimateJson(row.estimate);
    j["hardware"] = row.hardware.id();
    j["chip"] = row.cluster.device.chip_id;
    j["rank"] = DeviceRankName(row.hardware.rank);
    j["price_per_chip_usd"] = Optional(row.cluster.price_per_chip.si());
    const std::size_t i = rows.size();
    if (i < r.costs.size()) {
      const CompareCost& c = r.costs[i];
      auto cost = [&](double v) { return c.known ? json(v) : json(nullptr); };
      j["usd_per_device_hour"] = cost(c.usd_per_device_hour);
      j["usd_per_million_output_tokens"] = cost(c.usd_per_million_output_tokens);
      j["usd_per_million_input_tokens"] = cost(c.usd_per_million_input_tokens);
      j["joules_per_output_token"] = cost(c.joules_per_output_token);
      if (r.cny) {
        j["cny_per_device_hour"] = cost(c.usd_per_device_hour * r.cny_per_usd);
        j["cny_per_million_output_tokens"] = cost(c.usd_per_million_output_tokens * r.cny_per_usd);
        j["cny_per_million_input_tokens"] = cost(c.usd_per_million_input_tokens * r.cny_per_usd);
      }
      if (!c.known) j["cost_unknown"] = c.why;
    }
    rows.push_back(j);
  }
  json request = InferRequestJson(r.request);
  json hardware = json::array();
  for (const auto& row : r.rows) hardware.push_back(row.hardware.id());
  request["hardware"] = hardware;
  request["model"] = r.model.id;
  json out{{"model", r.model.id}, {"workload", r.workload}, {"request", request}, {"results", rows},
           {"facility", r.facility}, {"warnings", r.warnings}};
  if (r.cny) out["cny_per_usd"] = r.cny_per_usd;
  return Dump(out);
}

std::string ToJson(const TrainResult& r) {
  const bool tokens = r.request.tokens > 0;
  json j;
  if (!r.searched) {
    j = TrainEstimateJson(r.request.plan, r.estimate, tokens);
  } else {
    const SearchResult& s = r.search;
    json top = json::array();
    for (const auto& c : s.top) top.push_back(TrainEstimateJson(c.plan, c.estimate, tokens));
    if (s.top.empty()) {
      j = json::object();
      j["fits"] = false;
      j["reason"] = "no plan in the search space fits in memory";
    } else {
      j = TrainEstimateJson(s.top[0].plan, s.top[0].estimate, tokens);
    }
  }
  j["hardware"] = r.hardware.id();
  j["rank"] = DeviceRankName(r.hardware.rank);
  j["model"] = r.model.id;
  j["devices"] = r.request.devices;
  const TrainRequest& q = r.request;
  j["request"] = json{{"hardware", r.hardware.id()}, {"model", r.model.id}, {"devices", q.devices},
                      {"seq_len", q.seq_len}, {"global_batch", q.global_batch}, {"tokens", q.tokens},
                      {"flash_attention", q.flash_attention}, {"lora", q.lora}, {"stack", q.stack.id},
                      {"search", r.searched}};
  if (!r.searched) j["request"]["plan"] = TrainPlanJson(q.plan);
  if (!r.release_notes.empty()) j["release_notes"] = r.release_notes;
  if (r.searched) {
    const SearchResult& s = r.search;
    j["candidates_evaluated"] = s.candidates_evaluated;
    j["candidates_feasible"] = s.candidates_feasible;
    j["search_seconds"] = s.search_seconds;  // alias of search_s (one release)
    j["search_s"] = s.search_seconds;
    json top = json::array();
    for (const auto& c : s.top) top.push_back(TrainEstimateJson(c.plan, c.estimate, tokens));
    j["top"] = top;
    if (!s.pareto.empty()) {
      json front = json::array();
      for (const auto& c : s.pareto) front.push_back(TrainEstimateJson(c.plan, c.estimate, tokens));
      j["pareto"] = front;
    }
  }
  return Dump(j);
}

std::string ToJson(const ClassifyResult& r) {
  if (r.results.size() == 1 && r.rules.size() == 1) {
    json j = ClassificationJson(r.results[0][0]);
    for (const auto& w : r.warnings) j["warnings"].push_back(w);
    return Dump(j);
  }
  json arr = json::array();
  for (const auto& row : r.results) {
    for (const auto& c : row) arr.push_back(ClassificationJson(c));
  }
  return Dump(json{{"results", arr}, {"warnings", r.warnings}});
}

std::string ToJson(const ValidationReport& r) {
  json cases = json::array();
  for (const auto& c : r.cases) {
    cases.push_back({{"id", c.id}, {"group", c.group}, {"kind", c.kind}, {"metric", c.metric},
                     {"hardware", c.hardware}, {"model", c.model}, {"setup", c.setup},
                     {"assumption", c.assumption}, {"measured", c.measured}, {"predicted", c.predicted},
                     {"ape", std::fabs(c.signed_error)}, {"signed_error", c.signed_error}});
  }
  json unmapped = json::array();
  for (const auto& u : r.unmapped) unmapped.push_back({{"id", u.id}, {"group", u.group}, {"kind", u.kind}, {"reason", u.reason}});
  json groups = json::object();
  for (const auto& [g, s] : r.groups) groups[g] = StatsJson(s);
  json choices = json::array();
  for (const auto& c : r.plan_choices) {
    choices.push_back({{"group", c.group}, {"setting", c.setting}, {"plans", c.plans},
                       {"measured_best_s", c.measured_best}, {"measured_chosen_s", c.measured_chosen},
                       {"within_5_percent", c.right()}});
  }
  json out{{"file", r.file}, {"cases", cases}, {"unmapped", unmapped}, {"groups", groups},
           {"spearman", r.spearman}, {"plan_choices", choices}, {"overall", StatsJson(r.overall)}};
  if (r.holdout_run) {
    // --holdout-by group: per group, both figures and the audit trail (docs/validation.md).
    json held = json::object();
    bool any = false;
    for (const auto& h : r.holdout) {
      json removed = json::array();
      for (const auto& f : h.removed) {
        removed.push_back({{"record", f.record}, {"key", f.key}, {"sources", f.sources}, {"why", f.why},
                           {"was", f.was}, {"now", f.now.empty() ? json(nullptr) : json(f.now)}, {"fallback", f.fallback}});
      }
      json changed = json::array();
      for (const auto& c : h.changed) changed.push_back({{"id", c.id}, {"reason", c.reason}});
      any = any || !h.removed.empty();
      held[h.group] = {{"in_sample", StatsJson(h.in_sample)}, {"held_out", StatsJson(h.held_out)},
                       {"documents", h.documents}, {"removed", removed}, {"changed", changed}};
    }
    out["holdout"] = {{"by", "group"}, {"match", HoldoutMatchName(r.holdout_match)}, {"groups", held},
                      {"any_figure_informed", any}};
  }
  return Dump(out);
}

std::string CatalogListJson(const Catalog& catalog, RecordKind kind) {
  switch (kind) {
    case RecordKind::kPrice:
    case RecordKind::kFacility:
    case RecordKind::kFx: {
      const auto& list = kind == RecordKind::kPrice ? catalog.prices() : kind == RecordKind::kFacility ? catalog.facilities() : catalog.fx();
      json arr = json::array();
      for (const auto& r : list) arr.push_back(MarketJson(r));
      return Dump(json{{std::string(InfoFor(kind).folder), arr}});
    }
    case RecordKind::kChip: return Dump(ListChips(catalog));
    case RecordKind::kSystem: return Dump(ListSystems(catalog));
    case RecordKind::kModel: return Dump(ListModels(catalog));
    case RecordKind::kRuleSet: {
      json arr = json::array();
      for (const auto& r : catalog.rules()) {
        arr.push_back(json{{"id", r.id}, {"name", r.name}, {"status", RuleStatusName(r.status)},
                           {"effective", r.effective}, {"citation", r.citation}});
      }
      return Dump(json{{"rules", arr}});
    }
    case RecordKind::kSource: {
      json arr = json::array();
      for (const auto& [id, s] : catalog.sources()) {
        arr.push_back(json{{"id", id}, {"title", s.title}, {"locator", s.locator}, {"kind", s.kind}});
      }
      return Dump(json{{"sources", arr}});
    }
    case RecordKind::kProfile: {
      json arr = json::array();
      for (const auto& p : catalog.profiles()) {
        arr.push_back(json{{"id", p.id}, {"name", p.name}, {"tier", ProfileTierName(p.tier)},
                           {"arch_class", p.arch_class}, {"chips", p.chips}, {"extends", p.extends}});
      }
      return Dump(json{{"profiles", arr}});
    }
    case RecordKind::kStack: {
      json arr = json::array();
      for (const auto& s : catalog.stacks()) arr.push_back(StackJson(s));
      return Dump(json{{"stacks", arr}});
    }
  }
  return Dump(json::object());
}

namespace {
// A rule's condition as data: {metric, op, threshold} (SI units) or {all|any: [...]}.
json ConditionJson(const Condition& c) {
  if (c.kind != Condition::Kind::kLeaf) {
    json children = json::array();
    for (const auto& child : c.children) children.push_back(ConditionJson(child));
    return json{{c.kind == Condition::Kind::kAll ? "all" : "any", children}};
  }
  constexpr std::string_view kOps[] = {"ge", "gt", "le", "lt", "eq"};
  return json{{"metric", MetricName(c.metric)}, {"op", kOps[static_cast<int>(c.op)]}, {"threshold", c.threshold}};
}
}  // namespace

std::string RecordJson(const CatalogRecord& record) {
  return std::visit(
      Overloaded{
          [](const Chip* c) {
            return Dump(json{{"kind", "chip"}, {"id", c->id}, {"name", c->name}, {"vendor", c->vendor},
                             {"aliases", c->aliases}, {"extends", c->extends}, {"status", ChipStatusName(c->status)},
                             {"datacenter", c->datacenter}, {"architecture", c->architecture},
                             {"arch_class", c->arch_class}, {"notes", c->notes}, {"file", c->file},
                             {"figures", FiguresJson(c->figures)}});
          },
          [](const System* s) {
            json tiers = json::array();
            for (const auto& t : s->network) tiers.push_back(json{{"name", t.name}, {"figures", FiguresJson(t.figures)}});
            return Dump(json{{"kind", "system"}, {"id", s->id}, {"name", s->name}, {"vendor", s->vendor},
                             {"chip", s->chip}, {"rank", DeviceRankName(s->rank)}, {"extends", s->extends},
                             {"notes", s->notes}, {"file", s->file},
                             {"figures", FiguresJson(s->figures)}, {"network", tiers}});
          },
          [](const ModelEntry* m) { return Dump(ModelJson(*m)); },
          [](const RuleSet* r) {
            json cats = json::array();
            for (const auto& c : r->categories) {
              json cat{{"id", c.id}, {"controlled", c.controlled ? json(*c.controlled) : json(nullptr)},
                       {"reason", c.reason}};
              if (c.when) cat["when"] = ConditionJson(*c.when);
              cats.push_back(std::move(cat));
            }
            return Dump(json{{"kind", "rules"}, {"id", r->id}, {"name", r->name}, {"citation", r->citation},
                             {"effective", r->effective}, {"status", RuleStatusName(r->status)}, {"sources", r->sources},
                             {"notes", r->notes}, {"categories", cats}, {"file", r->file}});
          },
          [](const Profile* p) {
            json releases = json::array();  // release-specific figures (docs/validation.md)
            for (const auto& r : p->releases) {
              releases.push_back(json{{"framework", r.framework}, {"version", r.version}, {"notes", r.notes},
                                      {"figures", FiguresJson(r.figures)}});
            }
            return Dump(json{{"kind", "profile"}, {"id", p->id}, {"name", p->name}, {"tier", ProfileTierName(p->tier)},
                             {"arch_class", p->arch_class}, {"chips", p->chips}, {"extends", p->extends},
                             {"notes", p->notes}, {"file", p->file}, {"figures", FiguresJson(p->figures)},
                             {"releases", releases}});
          },
          [](const Stack* s) { return Dump(StackJson(*s)); },
          [](const Source* s) {
            return Dump(json{{"kind", "source"}, {"id", s->id}, {"title", s->title}, {"locator", s->locator},
                             {"source_kind", s->kind}, {"date", s->date}});
          },
          [](const ModelEntry& m) { return Dump(ModelJson(m)); },
          [](const MarketRecord* r) { return Dump(MarketJson(*r)); },
      },
      record);
}

Result<std::string> CatalogShowJson(const Catalog& catalog, std::string_view id) {
  auto record = catalog.FindRecord(id);
  if (!record) return std::move(record).error();
  return RecordJson(*record);
}

std::string SchemaJson(std::span<const RecordKind> kinds) {
  json out = json::object();
  auto add_record = [&](RecordKind kind) {
    json fields = json::array();
    auto add = [&](const FieldSpec& f, const std::string& prefix) {
      const std::string unit = f.kind == FieldKind::kFigure
                                   ? (f.dim == Dim{} ? "number" : DimName(f.dim) + " (e.g. " + std::string(DimExample(f.dim)) + ")")
                                   : "";
      fields.push_back(json{{"key", prefix + std::string(f.key)}, {"kind", FieldKindName(f.kind)}, {"unit", unit},
                            {"required", f.required}, {"default", f.default_value}, {"description", f.description}});
    };
    for (const auto& f : SchemaFor(kind)) {
      add(f, "");
      for (const auto& sub : f.table) add(sub, std::string(f.key) + "[].");
    }
    out[std::string(RecordKindName(kind))] = fields;
  };
  if (kinds.empty()) {
    for (const auto& info : RecordKinds()) add_record(info.kind);
  } else {
    for (RecordKind k : kinds) add_record(k);
  }
  return Dump(out);
}

}  // namespace suanli
