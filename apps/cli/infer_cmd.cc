// `suanli infer`: TTFT, TPOT, throughput and memory of one deployment.
#include <iostream>

#include <fmt/format.h>

#include "commands.h"
#include "table.h"
#include "workload.h"

namespace suanli::cli {
namespace {

std::string Plan(const InferenceRequest& r) {
  std::string s = fmt::format("tp {}", r.plan.tp);
  if (r.plan.pp > 1) s += fmt::format(", pp {}", r.plan.pp);
  if (r.plan.ep > 1) s += fmt::format(", ep {}", r.plan.ep);
  return s;
}

void PrintText(const ResolvedHardware& hw, const Device& d, const ModelEntry& model, const InferenceRequest& r,
               const InferenceEstimate& e) {
  std::cout << model.name << " on " << hw.chip.name << (hw.system ? " in " + hw.system->name : "") << " — "
            << e.devices << (e.devices == 1 ? " device" : " devices") << " (" << Plan(r) << ")\n";
  std::cout << fmt::format("{} in / {} out, batch {} ({}); weights {}{}, activations {}, KV cache {}; GEMMs in {}\n\n",
                           r.workload.input_tokens, r.workload.output_tokens, e.batch, ModeName(r.workload.mode), DtypeName(r.plan.precision.weights),
                           r.plan.precision.sparse_24 ? " (2:4 sparse)" : "",
                           DtypeName(r.plan.precision.activations), DtypeName(r.plan.precision.kv_cache),
                           DtypeName(e.compute_dtype));
  Table t;
  t.Column("");
  t.Column("value", Table::Align::kRight);
  t.Column("");
  t.Row({"TTFT", Seconds(e.ttft_s), "prefill " + std::string(BoundName(e.prefill.bound)) + "-bound"});
  t.Row({"TPOT", Seconds(e.tpot_s), "decode " + std::string(BoundName(e.decode.bound)) + "-bound"});
  t.Row({"request latency", Seconds(e.request_latency_s), ""});
  t.Row({"output tokens/s", Thousands(e.output_tokens_per_s), Thousands(e.output_tokens_per_s_per_device) + " per device"});
  t.Row({"input tokens/s", Thousands(e.input_tokens_per_s), ""});
  t.Print(std::cout);
  std::cout << fmt::format("\nmemory per device: weights {}, KV cache {}, activations {}, reserved {} = {} of {} — {}\n",
                           GigaBytes(e.memory.weights), GigaBytes(e.memory.kv_cache), GigaBytes(e.memory.activations),
                           GigaBytes(e.memory.reserved), GigaBytes(e.memory.total), GigaBytes(e.memory.capacity),
                           e.fits ? "fits" : "DOES NOT FIT: " + std::string(InfeasibleReasonText(e.reason)));
  std::cout << fmt::format("largest batch that fits: {}; longest context at this batch: {} tokens\n\n",
                           Thousands(double(e.max_batch)), Thousands(double(e.max_context_tokens)));
  Table b;
  b.Column("time by operator");
  b.Column("prefill", Table::Align::kRight);
  b.Column("decode step", Table::Align::kRight);
  for (int i = 0; i < kOpClassCount; ++i) {
    if (e.prefill.by_class[i] <= 0 && e.decode.by_class[i] <= 0) continue;
    b.Row({std::string(OpClassName(static_cast<OpClass>(i))), Seconds(e.prefill.by_class[i]),
           Seconds(e.decode.by_class[i])});
  }
  b.Row({"total", Seconds(e.prefill.seconds), Seconds(e.decode.seconds)});
  b.Print(std::cout);
  std::cout << fmt::format("\ntier: {} (efficiency profile '{}')\n", ProfileTierName(e.tier), d.profile_id);
  for (const auto& w : hw.warnings) std::cout << "warning: " << w << '\n';
  if (e.warnings != 0) std::cout << "warning: " << WarningTexts(e.warnings) << '\n';
}

}  // namespace

int RunInfer(const GlobalOptions& global, const InferOptions& options) {
  InferenceRequest request = MakeRequest(options.workload);
  const Catalog& catalog = LoadCatalogFor(global, {options.hardware}, options.workload.model);
  auto stack = MakeServingStack(catalog, "");
  if (!stack) throw InputError(stack.error());
  request.stack = *stack;
  const ResolvedHardware hw = ResolveHardware(catalog, options.hardware);
  const ModelEntry model = ResolveModel(catalog, options.workload.model);
  const Cluster cluster = MakeClusterOrThrow(catalog, hw);
  const Device& device = cluster.device;
  auto est = EstimateInference(cluster, model.arch, request);
  if (!est) ThrowPlanError(est.error());
  if (options.json) {
    nlohmann::json j = EstimateJson(*est);
    j["hardware"] = hw.system ? hw.system->id : hw.chip.id;
    j["chip"] = hw.chip.id;
    j["model"] = model.id;
    j["profile"] = device.profile_id;
    j["plan"] = {{"tp", request.plan.tp}, {"pp", request.plan.pp}, {"ep", request.plan.ep}, {"mode", ModeName(request.workload.mode)}};
    for (const auto& w : hw.warnings) j["warnings"].push_back(w);
    PrintJson(j);
  } else {
    PrintText(hw, device, model, request, *est);
  }
  return 0;
}

}  // namespace suanli::cli
