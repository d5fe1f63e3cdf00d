#include "suanli/report/csv.h"

#include <cmath>
#include <cstdio>

namespace suanli {
namespace {

std::string Cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}
std::string Opt(double v) { return v > 0 ? Num(v) : ""; }

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : "; ") + i;
  return out;
}

class Csv {
 public:
  explicit Csv(std::vector<std::string> header) { Row(std::move(header)); }
  void Row(const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) out_ += (i ? "," : "") + Cell(cells[i]);
    out_ += '\n';
  }
  [[nodiscard]] std::string str() const { return out_; }

 private:
  std::string out_;
};

const std::vector<std::string> kInferHeader = {
    "hardware", "devices", "batch", "ttft_s", "tpot_s", "output_tokens_per_s", "output_tokens_per_s_per_device",
    "output_tokens_per_s_per_kw", "output_tokens_per_s_per_usd", "fits", "prefill_bound", "decode_bound", "tier",
    "reason", "warnings"};

std::vector<std::string> InferRow(const InferResult& r) {
  const InferenceEstimate& e = r.estimate;
  return {r.hardware.id(), std::to_string(e.devices), std::to_string(e.batch), Num(e.ttft_s), Num(e.tpot_s),
          Num(e.output_tokens_per_s), Num(e.output_tokens_per_s_per_device), Opt(e.output_tokens_per_s_per_kw),
          Opt(e.output_tokens_per_s_per_usd), e.fits ? "true" : "false", std::string(BoundName(e.prefill.bound)),
          std::string(BoundName(e.decode.bound)), std::string(ProfileTierName(e.tier)),
          e.fits ? "" : std::string(InfeasibleReasonText(e.reason)), Join(r.warnings)};
}

}  // namespace

std::string ToCsv(const InferResult& r) {
  Csv csv(kInferHeader);
  csv.Row(InferRow(r));
  return csv.str();
}

// The inference columns, then the cost columns of the JSON (usd_*, and with
// --currency cny the cny_* ones at the latest rate), then reason and warnings.
std::string ToCsv(const CompareResult& r) {
  std::vector<std::string> header(kInferHeader.begin(), kInferHeader.end() - 2);
  for (const char* k : {"usd_per_device_hour", "usd_per_million_output_tokens", "usd_per_million_input_tokens",
                        "joules_per_output_token"}) {
    header.emplace_back(k);
  }
  if (r.cny) {
    for (const char* k : {"cny_per_device_hour", "cny_per_million_output_tokens", "cny_per_million_input_tokens", "cny_per_usd"}) {
      header.emplace_back(k);
    }
  }
  header.emplace_back("facility");
  header.emplace_back("cost_unknown");
  header.insert(header.end(), kInferHeader.end() - 2, kInferHeader.end());
  Csv csv(header);
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    std::vector<std::string> row = InferRow(r.rows[i]);
    std::vector<std::string> cells(row.begin(), row.end() - 2);
    const CompareCost none{.known = false, .why = "no cost computed"};
    const CompareCost& c = i < r.costs.size() ? r.costs[i] : none;
    auto cost = [&](double v) { return c.known ? Num(v) : std::string(); };
    cells.push_back(cost(c.usd_per_device_hour));
    cells.push_back(cost(c.usd_per_million_output_tokens));
    cells.push_back(cost(c.usd_per_million_input_tokens));
    cells.push_back(cost(c.joules_per_output_token));
    if (r.cny) {
      const double k = r.cny_per_usd;
      cells.push_back(cost(c.usd_per_device_hour * k));
      cells.push_back(cost(c.usd_per_million_output_tokens * k));
      cells.push_back(cost(c.usd_per_million_input_tokens * k));
      cells.push_back(Num(k));
    }
    cells.push_back(r.facility);
    cells.push_back(c.known ? "" : c.why);
    cells.insert(cells.end(), row.end() - 2, row.end());
    csv.Row(cells);
  }
  return csv.str();
}

std::string ToCsv(const TrainResult& r) {
  Csv csv({"rank", "tp", "pp", "dp", "cp", "ep", "vp", "micro_batch", "recompute", "zero", "sequence_parallel",
           "overlap_dp", "overlap_tp", "overlap_pp", "precision", "step_time_s", "tokens_per_s_per_device", "mfu",
           "memory_total_bytes", "fits", "bound", "reason", "warnings"});
  auto row = [&](int rank, const TrainPlan& p, const TrainEstimate& e) {
    csv.Row({std::to_string(rank), std::to_string(p.tp), std::to_string(p.pp), std::to_string(p.dp), std::to_string(p.cp),
             std::to_string(p.ep), std::to_string(p.vp), std::to_string(p.micro_batch),
             std::string(RecomputeName(p.recompute)), std::to_string(p.zero), p.sequence_parallel ? "true" : "false",
             p.overlap_dp ? "true" : "false", p.overlap_tp ? "true" : "false", p.overlap_pp ? "true" : "false",
             std::string(TrainPrecisionName(p.precision)), Num(e.step_time_s), Num(e.tokens_per_s_per_device),
             Num(e.mfu), Num(e.memory.total), e.fits ? "true" : "false", std::string(TrainBoundName(BoundOf(e.breakdown).bound)),
             e.fits ? "" : std::string(TrainInfeasibleText(e.reason)), Join(TrainWarningList(e.warnings))});
  };
  if (!r.searched) {
    row(1, r.request.plan, r.estimate);
  } else {
    int rank = 0;
    for (const auto& c : r.search.top) row(++rank, c.plan, c.estimate);
  }
  return csv.str();
}

std::string ToCsv(const ClassifyResult& r) {
  Csv csv({"chip", "rules", "tpp", "tpp_format", "performance_density", "die_area_m2", "category", "controlled",
           "reasons", "warnings"});
  for (const auto& row : r.results) {
    for (const auto& c : row) {
      const ChipMetrics& m = c.metrics;
      csv.Row({c.chip, c.rules, m.tpp ? Num(*m.tpp) : "", m.tpp_format, m.performance_density ? Num(*m.performance_density) : "",
               m.die_area_mm2 ? Num(*m.die_area_mm2 * 1e-6) : "", c.category,
               c.controlled ? (*c.controlled ? "true" : "false") : "", Join(c.reasons), Join(c.warnings)});
    }
  }
  return csv.str();
}

std::string ToCsv(const ValidationReport& r) {
  Csv csv({"id", "group", "kind", "metric", "hardware", "model", "setup", "measured", "predicted", "signed_error",
           "assumption"});
  for (const auto& c : r.cases) {
    csv.Row({c.id, c.group, c.kind, c.metric, c.hardware, c.model, c.setup, Num(c.measured), Num(c.predicted),
             Num(c.signed_error), c.assumption});
  }
  return csv.str();
}

}  // namespace suanli
