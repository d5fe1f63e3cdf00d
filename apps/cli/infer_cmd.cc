// `suanli infer` and `suanli compare`: text and CSV forms of inference results.
#include <iostream>

#include <fmt/format.h>

#include "common.h"
#include "suanli/report/csv.h"
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
  std::cout << fmt::format("\nmemory in GB (10^9 bytes). tier: {} (efficiency profile '{}'; measured on this chip, calibrated "
                           "from its family, or documented datasheet defaults)\n",
                           ProfileTierName(e.tier), r.cluster.device.profile_id);
  for (const auto& w : r.hardware.warnings) std::cout << "warning: " << w << '\n';
  if (e.warnings != 0) std::cout << "warning: " << WarningTexts(e.warnings) << '\n';
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
  const std::string money = result.cny ? "CNY" : "USD";
  t.Column(money + "/Mtok", Table::Align::kRight);
  t.Column("prefill");
  t.Column("decode");
  t.Column("fits");
  t.Column("tier");
  for (std::size_t i = 0; i < result.rows.size(); ++i) {
    const InferResult& row = result.rows[i];
    const InferenceEstimate& e = row.estimate;
    const double k = result.cny ? result.cny_per_usd : 1;
    const bool priced = i < result.costs.size() && result.costs[i].known;
    // A deployment that does not fit has no throughput to compare: its rate is shown as "-".
    auto rate = [&](double v, std::string text) { return e.fits && v > 0 ? text : std::string("-"); };
    t.Row({row.hardware.id() + (row.hardware.rank == DeviceRank::kDie ? " (dies)" : ""), std::to_string(e.devices), std::to_string(e.batch), FormatSeconds(e.ttft_s),
           FormatSeconds(e.tpot_s), rate(e.output_tokens_per_s, Thousands(e.output_tokens_per_s)),
           rate(e.output_tokens_per_s_per_device, Thousands(e.output_tokens_per_s_per_device)),
           rate(e.output_tokens_per_s_per_kw, Thousands(e.output_tokens_per_s_per_kw)),
           rate(e.output_tokens_per_s_per_usd, fmt::format("{:.1f}", e.output_tokens_per_s_per_usd * 1e3)),
           priced ? fmt::format("{:.3g}", result.costs[i].usd_per_million_output_tokens * k) : "-",
           std::string(BoundName(e.prefill.bound)), std::string(BoundName(e.decode.bound)), e.fits ? "yes" : "NO",
           std::string(ProfileTierName(e.tier))});
  }
  t.Print(std::cout);
  std::cout << "\nprefill/decode: what bounds each phase. tok/s/k$: output tokens/s per 1,000 USD of chips. " << money
            << "/Mtok: cost per million output tokens\n(suanli cost, facility " << (result.facility.empty() ? "-" : result.facility)
            << "). tier: where the efficiency figures come from (measured on the chip,\ncalibrated from its family, or datasheet defaults).\n";
  for (const auto& row : result.rows) {
    if (!row.estimate.fits) {
      std::cout << "does not fit: " << row.hardware.id() << ": " << InfeasibleReasonText(row.estimate.reason) << '\n';
    }
  }
  for (const auto& w : result.warnings) std::cout << "warning: " << w << '\n';
}

}  // namespace

int RunInferCommand(const GlobalOptions& global, const Args& args, Output output) {
  const CommandSpec& spec = CommandFor("infer");
  auto query = DecodeInfer(args);
  if (!query) return Fail(query.error(), &spec);
  auto catalog = LoadCatalog(global, {query->hardware}, query->model);
  if (!catalog) return Fail(catalog.error(), &spec);
  auto released = ApplyRelease(**catalog, args, query->hardware);  // --release
  if (!released) return Fail(released.error(), &spec);
  auto result = RunInfer(released->Or(**catalog), *query);
  if (!result) return Fail(result.error(), &spec);
  released->AppendWarnings(result->warnings);
  if (output == Output::kJson) {
    PrintJson(ToJson(*result));
  } else if (output == Output::kCsv) {
    std::cout << ToCsv(*result);
  } else {
    PrintInfer(*result);  // prints the hardware's and the estimate's warnings, not the release's
    for (const auto& n : released->notes) std::cout << "warning: release: " << n << '\n';
  }
  return 0;
}

int RunCompareCommand(const GlobalOptions& global, const Args& args, Output output) {
  const CommandSpec& spec = CommandFor("compare");
  auto query = DecodeCompare(args);
  if (!query) return Fail(query.error(), &spec);
  auto catalog = LoadCatalog(global, query->hardware, query->model);
  if (!catalog) return Fail(catalog.error(), &spec);
  auto result = RunCompare(**catalog, *query);
  if (!result) return Fail(result.error(), &spec);
  if (output == Output::kJson) {
    PrintJson(ToJson(*result));
  } else if (output == Output::kCsv) {
    std::cout << ToCsv(*result);
  } else {
    PrintCompare(*result);
  }
  return 0;
}

}  // namespace suanli::cli
