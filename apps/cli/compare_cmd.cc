// `suanli compare`: one workload on several chips or systems.
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "commands.h"
#include "table.h"
#include "workload.h"

namespace suanli::cli {
namespace {

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

struct Row {
  std::string hardware;
  Cluster cluster;
  InferenceEstimate est;
};

std::string Csv(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

int RunCompare(const GlobalOptions& global, const CompareOptions& options) {
  InferenceRequest request = MakeRequest(options.workload);
  const Catalog& catalog = LoadCatalogFor(global, SplitComma(options.hardware), options.workload.model);
  auto stack = MakeServingStack(catalog, "");
  if (!stack) throw InputError(stack.error());
  request.stack = *stack;
  const ModelEntry model = ResolveModel(catalog, options.workload.model);
  const auto names = SplitComma(options.hardware);
  if (names.empty()) throw InputError("--hardware: name at least one chip or system");
  std::vector<Row> rows;
  std::vector<std::string> warnings;
  for (const auto& name : names) {
    const ResolvedHardware hw = ResolveHardware(catalog, name);
    for (const auto& w : hw.warnings) warnings.push_back(w);
    Row row{.hardware = hw.system ? hw.system->id : hw.chip.id, .cluster = MakeClusterOrThrow(catalog, hw), .est = {}};
    auto est = EstimateInference(row.cluster, model.arch, request);
    if (!est) ThrowPlanError(est.error());
    row.est = *est;
    if (est->warnings != 0) warnings.push_back(row.hardware + ": " + WarningTexts(est->warnings));
    rows.push_back(std::move(row));
  }
  const bool chosen = request.workload.mode == BatchMode::kStaticMax || request.workload.mode == BatchMode::kConcurrencyMax;
  const std::string workload = fmt::format(
      "{} {} in / {} out, {}{}, tp {} pp {} ep {}, weights {}", model.id, request.workload.input_tokens, request.workload.output_tokens,
      ModeName(request.workload.mode), chosen ? " (batch per row)" : fmt::format(" (batch {})", request.workload.batch), request.plan.tp,
      request.plan.pp, request.plan.ep, DtypeName(request.plan.precision.weights));
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) {
      nlohmann::json j = EstimateJson(r.est);
      j["hardware"] = r.hardware;
      j["chip"] = r.cluster.device.chip_id;
      const double price = r.cluster.price_per_chip.si();
      j["price_per_chip_usd"] = price > 0 ? nlohmann::json(price) : nlohmann::json(nullptr);
      out.push_back(j);
    }
    PrintJson({{"model", model.id}, {"workload", workload}, {"results", out}, {"warnings", warnings}});
    return 0;
  }
  if (options.csv) {
    std::cout << "hardware,devices,batch,ttft_s,tpot_s,output_tokens_per_s,output_tokens_per_s_per_device,"
                 "output_tokens_per_s_per_kw,output_tokens_per_s_per_usd,fits,prefill_bound,decode_bound,tier\n";
    for (const auto& r : rows) {
      std::cout << fmt::format("{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{},{},{},{},{},{}\n", Csv(r.hardware),
                               r.est.devices, r.est.batch, r.est.ttft_s, r.est.tpot_s, r.est.output_tokens_per_s,
                               r.est.output_tokens_per_s_per_device,
                               r.est.output_tokens_per_s_per_kw > 0 ? fmt::format("{:.6g}", r.est.output_tokens_per_s_per_kw) : "",
                               r.est.output_tokens_per_s_per_usd > 0 ? fmt::format("{:.6g}", r.est.output_tokens_per_s_per_usd) : "",
                               r.est.fits ? "true" : "false",
                               BoundName(r.est.prefill.bound), BoundName(r.est.decode.bound), ProfileTierName(r.est.tier));
    }
    return 0;
  }
  std::cout << workload << "\n\n";
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
  for (const auto& r : rows) {
    t.Row({r.hardware, std::to_string(r.est.devices), std::to_string(r.est.batch), Seconds(r.est.ttft_s),
           Seconds(r.est.tpot_s), Thousands(r.est.output_tokens_per_s), Thousands(r.est.output_tokens_per_s_per_device),
           r.est.output_tokens_per_s_per_kw > 0 ? Thousands(r.est.output_tokens_per_s_per_kw) : "-",
           r.est.output_tokens_per_s_per_usd > 0 ? fmt::format("{:.1f}", r.est.output_tokens_per_s_per_usd * 1e3) : "-",
           std::string(BoundName(r.est.prefill.bound)), std::string(BoundName(r.est.decode.bound)),
           r.est.fits ? "yes" : "NO", std::string(ProfileTierName(r.est.tier))});
  }
  t.Print(std::cout);
  std::cout << "\nprefill/decode: what bounds each phase. tok/s/k$: output tokens/s per 1,000 USD of chips.\n";
  for (const auto& w : warnings) std::cout << "warning: " << w << '\n';
  return 0;
}

}  // namespace suanli::cli
