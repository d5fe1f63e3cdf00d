// `suanli serve`: the text form of a serving simulation, and its timeline file.
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "common.h"
#include "suanli/report/serve_json.h"
#include "table.h"

namespace suanli::cli {
namespace {

std::string PoolWords(const ServePoolResult& p) {
  std::string s = fmt::format("{} x {} devices (tp {}", p.instances, p.plan.devices(), p.plan.tp);
  if (p.plan.pp > 1) s += fmt::format(", pp {}", p.plan.pp);
  if (p.dp > 1) s += fmt::format(", DP attention {}, ep {}", p.dp, p.plan.tp * p.dp);
  s += fmt::format("), batch <= {} and <= {} tokens per rank, KV cache {} tokens per rank",
                   p.scheduler.max_seqs, p.scheduler.max_batched_tokens, Thousands(double(p.kv_tokens_per_rank)));
  return s;
}

void PrintServe(const ServeResult& r) {
  std::cout << r.model.name << " on " << r.hardware.chip.name
            << (r.hardware.system ? " in " + r.hardware.system->name : "") << " — " << r.devices << " devices, stack "
            << r.stack << "\n";
  for (const ServePoolResult& p : r.pools) {
    const char* role = p.role == PoolRole::kPrefill ? "prefill" : p.role == PoolRole::kDecode ? "decode" : "instances";
    std::cout << "  " << role << ": " << PoolWords(p) << "\n";
  }
  if (r.spec.draft > 0) {
    std::string by;
    bool same = true;
    for (int i = 1; i <= r.spec.draft; ++i) {
      by += fmt::format("{}{:.3f}", i == 1 ? "" : ", ", r.spec.AcceptanceAt(i));
      same = same && r.spec.AcceptanceAt(i) == r.spec.AcceptanceAt(1);
    }
    std::cout << fmt::format("  MTP: {} draft tokens, acceptance {}: {:.2f} tokens per step\n", r.spec.draft,
                             same ? fmt::format("{:.3f}", r.spec.AcceptanceAt(1)) : by + " by position",
                             r.spec.TokensPerStep());
  }
  std::cout << "\n";
  if (!r.fits) {
    std::cout << "DOES NOT FIT: " << r.reason << "\n";
  } else if (r.query.phase != ServePhase::kNone) {
    const bool decode = r.query.phase == ServePhase::kDecode;
    Table t;
    t.Column("");
    t.Column("value", Table::Align::kRight);
    t.Column("");
    t.Row({decode ? "batch (sequences)" : "prompts per pass", Thousands(double(r.batch)), ""});
    t.Row({"step time", FormatSeconds(r.step_time_s), ""});
    if (decode) {
      t.Row({"TPOT", FormatSeconds(r.phase_tpot_s), ""});
      t.Row({"output tokens/s", Thousands(r.phase_output_tokens_per_s),
             Thousands(r.phase_output_tokens_per_s / r.devices) + " per device"});
    } else {
      t.Row({"input tokens/s", Thousands(r.phase_input_tokens_per_s),
             Thousands(r.phase_input_tokens_per_s / r.devices) + " per device"});
    }
    t.Print(std::cout);
  } else {
    const ServeStats& s = r.stats;
    const double d = s.duration_s > 0 ? s.duration_s : 1;
    std::cout << fmt::format("{} requests in {}: {} requests/s, {} output tokens/s ({} per device), {} input tokens/s\n\n",
                             s.requests, FormatSeconds(s.duration_s), Thousands(s.requests_per_s(), 2),
                             Thousands(s.output_tokens / d), Thousands(s.output_tokens / d / r.devices),
                             Thousands(s.input_tokens / d));
    Table t;
    t.Column("");
    t.Column("mean", Table::Align::kRight);
    t.Column("p50", Table::Align::kRight);
    t.Column("p90", Table::Align::kRight);
    t.Column("p99", Table::Align::kRight);
    for (auto [name, p] : {std::pair{"TTFT", &s.ttft}, std::pair{"TPOT", &s.tpot}, std::pair{"end-to-end", &s.e2e},
                           std::pair{"queueing", &s.queue}}) {
      t.Row({name, FormatSeconds(p->mean), FormatSeconds(p->p50), FormatSeconds(p->p90), FormatSeconds(p->p99)});
    }
    t.Print(std::cout);
    std::cout << fmt::format("\nmean batch {:.1f} sequences, KV cache {:.0f} % used, {} preemptions, {} iterations\n",
                             s.batch_mean, 100 * s.kv_utilization_mean, s.preemptions, s.iterations);
    if (r.query.sla_given) {
      std::cout << fmt::format("SLA met by {:.1f} % of requests: goodput {} requests/s\n", 100 * s.attainment(),
                               Thousands(double(s.sla_met) / d, 2));
    }
    if (r.max_rate) {
      std::cout << fmt::format("highest rate meeting the SLA for {:.0f} % of requests: {} requests/s ({} probes)\n",
                               100 * r.query.sla.attainment, Thousands(*r.max_rate, 3), r.max_rate_probes);
    }
  }
  for (const auto& w : r.warnings) std::cout << "warning: " << w << '\n';
}

}  // namespace

int RunServeCommand(const GlobalOptions& global, const Args& args, Output output) {
  const CommandSpec& spec = CommandFor("serve");
  auto query = DecodeServe(args);
  if (!query) return Fail(query.error(), &spec);
  if (output == Output::kCsv) return Fail(Error(Diagnostic{.message = "serve has no CSV form: use --json, or --timeline FILE for the iterations"}), &spec);
  auto catalog = LoadCatalog(global, {query->hardware}, query->model);
  if (!catalog) return Fail(catalog.error(), &spec);
  auto released = ApplyRelease(**catalog, args, query->hardware);  // --release
  if (!released) return Fail(released.error(), &spec);
  auto result = RunServe(released->Or(**catalog), *query);
  if (!result) return Fail(result.error(), &spec);
  released->AppendWarnings(result->warnings);
  if (!query->timeline.empty()) {
    // Written whole to a temporary beside it, then renamed: never half a file.
    const std::string tmp = query->timeline + ".tmp";
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f << TimelineCsv(*result);
      if (!f) {
        std::remove(tmp.c_str());
        return Fail(Error(Diagnostic{.file = query->timeline, .key_path = "timeline", .message = "cannot write the timeline"}), &spec);
      }
    }
    if (std::rename(tmp.c_str(), query->timeline.c_str()) != 0) {
      std::remove(tmp.c_str());
      return Fail(Error(Diagnostic{.file = query->timeline, .key_path = "timeline", .message = "cannot write the timeline"}), &spec);
    }
  }
  if (output == Output::kJson) {
    PrintJson(ToJson(*result));
  } else {
    PrintServe(*result);
  }
  return 0;
}

}  // namespace suanli::cli
