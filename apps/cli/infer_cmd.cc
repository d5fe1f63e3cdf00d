// `suanli infer` and `suanli compare`: text and CSV forms of inference results.
#include <iostream>

#include <fmt/format.h>

#include "common.h"
#include "suanli/report/json.h"
#include "table.h"

namespace suanli::cli {
namespace {

std::string PlanWords(const InferencePlan& p) {
  std::string s = fmt::format("tp {}", p.tp);
  if (p.pp > 1) s += fmt::format(", pp {}", p.pp);
  if (p.ep > 1) s += fmt::format(", ep {}", p.ep);
  return s;
}

void PrintInfer(const InferResult& r) {
  const InferenceEstimate& e = r.estimate;
  const InferenceRequest& q = r.request;
  const Chip& chip = r.hardware.chip;
  std::cout << r.model.name << " on " << chip.name << (r.hardware.system ? " in " + r.hardware.system->name : "")
            << " — " << e.devices << (e.devices == 1 ? " device" : " devices") << " (" << PlanWords(q.plan) << ")\n";
  std::cout << fmt::format("{} in / {} out, batch {} ({}); weights {}{}, activations {}, KV cache {}; GEMMs in {}\n\n",
                           q.workload.input_tokens, q.workload.output_tokens, e.batch, ModeName(q.workload.mode),
                           DtypeName(q.plan.precision.weights), q.plan.precision.sparse_24 ? " (2:4 sparse)" : "",
                           DtypeName(q.plan.precision.activations), DtypeName(q.plan.precision.kv_cache),
                           DtypeName(e.compute_dtype));
  Table t;
  t.Column("");
  t.Column("value", Table::Align::kRight);
  t.Column("");
  t.Row({"TTFT", FormatSeconds(e.ttft_s), "prefill " + std::string(BoundName(e.prefill.bound)) + "-bound"});
  t.Row({"TPOT", FormatSeconds(e.tpot_s), "decode " + std::string(BoundName(e.decode.bound)) + "-bound"});
  t.Row({"request latency", FormatSeconds(e.request_latency_s), ""});
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
    b.Row({std::string(OpClassName(static_cast<OpClass>(i))), FormatSeconds(e.prefill.by_class[i]),
           FormatSeconds(e.decode.by_class[i])});
  }
  b.Row({"total", FormatSeconds(e.prefill.seconds), FormatSeconds(e.decode.seconds)});
  b.Print(std::cout);
  std::cout << fmt::format("\ntier: {} (efficiency profile '{}')\n", ProfileTierName(e.tier), r.cluster.device.profile_id);
  for (const auto& w : r.hardware.warnings) std::cout << "warning: " << w << '\n';
  if (e.warnings != 0) std::cout << "warning: " << WarningTexts(e.warnings) << '\n';
}

std::string Csv(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

void PrintCompareCsv(const CompareResult& result) {
  std::cout << "hardware,devices,batch,ttft_s,tpot_s,output_tokens_per_s,output_tokens_per_s_per_device,"
               "output_tokens_per_s_per_kw,output_tokens_per_s_per_usd,fits,prefill_bound,decode_bound,tier\n";
  for (const auto& row : result.rows) {
    const InferenceEstimate& e = row.estimate;
    std::cout << fmt::format("{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{},{},{},{},{},{}\n", Csv(row.hardware.id()), e.devices,
                             e.batch, e.ttft_s, e.tpot_s, e.output_tokens_per_s, e.output_tokens_per_s_per_device,
                             e.output_tokens_per_s_per_kw > 0 ? fmt::format("{:.6g}", e.output_tokens_per_s_per_kw) : "",
                             e.output_tokens_per_s_per_usd > 0 ? fmt::format("{:.6g}", e.output_tokens_per_s_per_usd) : "",
                             e.fits ? "true" : "false", BoundName(e.prefill.bound), BoundName(e.decode.bound),
                             ProfileTierName(e.tier));
  }
}

void PrintCompare(const CompareResult& result) {
  std::cout << result.workload << "\n\n";
  Table t;
  t.Column("hardware");
  t.Column("devices", Table::Align::kRight);
  t.Column("batch", Table::Align::kRight);
  t.Column("TTFT", Table::Align::kRight);
  t.Column("TPOT", Table::Align::kRight);
  t.Column("tok/s", Table::Align::kRight);
  t.Column("tok/s/dev", Table::Align::kRight);
  t.Column("tok/s/kW", Table::Align::kRight);
  t.Column("tok/s/k$", Table::Align::kRight);
  t.Column("prefill");
  t.Column("decode");
  t.Column("fits");
  t.Column("tier");
  for (const auto& row : result.rows) {
    const InferenceEstimate& e = row.estimate;
    t.Row({row.hardware.id(), std::to_string(e.devices), std::to_string(e.batch), FormatSeconds(e.ttft_s),
           FormatSeconds(e.tpot_s), Thousands(e.output_tokens_per_s), Thousands(e.output_tokens_per_s_per_device),
           e.output_tokens_per_s_per_kw > 0 ? Thousands(e.output_tokens_per_s_per_kw) : "-",
           e.output_tokens_per_s_per_usd > 0 ? fmt::format("{:.1f}", e.output_tokens_per_s_per_usd * 1e3) : "-",
           std::string(BoundName(e.prefill.bound)), std::string(BoundName(e.decode.bound)), e.fits ? "yes" : "NO",
           std::string(ProfileTierName(e.tier))});
  }
  t.Print(std::cout);
  std::cout << "\nprefill/decode: what bounds each phase. tok/s/k$: output tokens/s per 1,000 USD of chips.\n";
  for (const auto& w : result.warnings) std::cout << "warning: " << w << '\n';
}

}  // namespace

int RunInferCommand(const GlobalOptions& global, const Args& args, bool json) {
  const CommandSpec& spec = CommandFor("infer");
  auto query = DecodeInfer(args);
  if (!query) return Fail(query.error(), &spec);
  auto catalog = LoadCatalog(global, {query->hardware}, query->model);
  if (!catalog) return Fail(catalog.error(), &spec);
  auto result = RunInfer(**catalog, *query);
  if (!result) return Fail(result.error(), &spec);
  if (json) {
    PrintJson(ToJson(*result));
  } else {
    PrintInfer(*result);
  }
  return 0;
}

int RunCompareCommand(const GlobalOptions& global, const Args& args, bool json, bool csv) {
  const CommandSpec& spec = CommandFor("compare");
  auto query = DecodeCompare(args);
  if (!query) return Fail(query.error(), &spec);
  auto catalog = LoadCatalog(global, query->hardware, query->model);
  if (!catalog) return Fail(catalog.error(), &spec);
  auto result = RunCompare(**catalog, *query);
  if (!result) return Fail(result.error(), &spec);
  if (json) {
    PrintJson(ToJson(*result));
  } else if (csv) {
    PrintCompareCsv(*result);
  } else {
    PrintCompare(*result);
  }
  return 0;
}

}  // namespace suanli::cli
