// `suanli validate`: predicted vs measured for every case it can map.
#include <algorithm>
#include <cmath>
#include <iostream>

#include <fmt/format.h>

#include "common.h"
#include "suanli/report/csv.h"
#include "suanli/report/json.h"
#include "table.h"

namespace suanli::cli {
namespace {

std::string Pct(double f) { return fmt::format("{:+.1f}%", f * 100); }
std::string Abs(double f) { return fmt::format("{:.1f}%", f * 100); }

}  // namespace

int RunValidateCommand(const GlobalOptions& global, const Args& args, Output output) {
  const CommandSpec& spec = CommandFor("validate");
  if (auto ok = CheckArgs(spec, args); !ok) return Fail(ok.error(), &spec);
  auto catalog = LoadWholeCatalog(global);
  if (!catalog) return Fail(catalog.error(), &spec);
  auto options = DecodeValidate(args);
  if (!options) return Fail(options.error(), &spec);
  auto report = ValidateCases(**catalog, std::string(*args.Get("file")), *options);
  if (!report) return Fail(report.error(), &spec);
  const ValidationReport& r = *report;
  if (output == Output::kJson) {
    PrintJson(ToJson(r));
    return 0;
  }
  if (output == Output::kCsv) {
    std::cout << ToCsv(r);
    return 0;
  }
  Table t;
  t.Column("case");
  t.Column("metric");
  t.Column("measured", Table::Align::kRight);
  t.Column("predicted", Table::Align::kRight);
  t.Column("error", Table::Align::kRight);
  t.Column("setup");
  for (const auto& c : r.cases) {
    // Three significant figures: iteration times of 0.15 s and throughputs of 12,000 tokens/s alike.
    const double size = std::max(std::abs(c.measured), std::abs(c.predicted));
    const int decimals = size > 0 ? std::clamp(2 - int(std::floor(std::log10(size))), 0, 4) : 1;
    t.Row({c.id, c.metric, Thousands(c.measured, decimals), Thousands(c.predicted, decimals), Pct(c.signed_error),
           c.setup});
  }
  t.Print(std::cout);
  std::cout << '\n';
  Table s;
  s.Column("group");
  s.Column("cases", Table::Align::kRight);
  s.Column("median APE", Table::Align::kRight);
  s.Column("mean APE", Table::Align::kRight);
  s.Column("p90 APE", Table::Align::kRight);
  s.Column("max APE", Table::Align::kRight);
  s.Column("bias", Table::Align::kRight);
  auto row = [&](const std::string& name, const ErrorStats& st) {
    s.Row({name, std::to_string(st.count), Abs(st.median_ape), Abs(st.mean_ape), Abs(st.p90_ape), Abs(st.max_ape),
           Pct(st.bias)});
  };
  for (const auto& [g, st] : r.groups) row(g, st);
  row("overall", r.overall);
  s.Print(std::cout);
  if (r.holdout_run) {
    // --holdout-by group: each group beside itself without the figures its cases informed.
    std::cout << "\nheld out by group (a figure is informed by a group when its source is the same "
              << HoldoutMatchName(r.holdout_match) << " as a case's, or it says checked_against):\n";
    Table h;
    h.Column("group");
    h.Column("cases", Table::Align::kRight);
    h.Column("in-sample median", Table::Align::kRight);
    h.Column("held-out median", Table::Align::kRight);
    h.Column("in-sample p90", Table::Align::kRight);
    h.Column("held-out p90", Table::Align::kRight);
    h.Column("figures removed", Table::Align::kRight);
    bool any = false;
    for (const auto& g : r.holdout) {
      h.Row({g.group, std::to_string(g.held_out.count), Abs(g.in_sample.median_ape), Abs(g.held_out.median_ape),
             Abs(g.in_sample.p90_ape), Abs(g.held_out.p90_ape), std::to_string(g.removed.size())});
      any = any || !g.removed.empty();
    }
    h.Print(std::cout);
    if (!any) std::cout << "no profile or stack figure is informed by any group of this file: held out = in sample\n";
    for (const auto& g : r.holdout) {
      for (const auto& f : g.removed) {
        std::cout << fmt::format("  {}: {} {} = {} -> {} ({}; {})\n", g.group, f.record, f.key, f.was,
                                 f.now.empty() ? "removed" : f.now, f.fallback, f.why);
      }
      for (const auto& c : g.changed) std::cout << fmt::format("  {}: {}: {}\n", g.group, c.id, c.reason);
    }
  }
  for (const auto& [g, rho] : r.spearman) {
    std::cout << fmt::format("rank correlation (Spearman) of predicted and measured, {}: {:.3f}\n", g, rho);
  }
  if (!r.plan_choices.empty()) {
    int good = 0;
    for (const auto& c : r.plan_choices) good += c.right() ? 1 : 0;
    std::cout << fmt::format("\nplan choice: in {} of {} settings measured under several plans, the plan suanli ranks "
                             "first is within 5% of the measured best\n",
                             good, r.plan_choices.size());
    for (const auto& c : r.plan_choices) {
      std::cout << fmt::format("  {} ({} plans): chosen {:.3f} s, best {:.3f} s ({:+.1f}%)\n", c.setting, c.plans,
                               c.measured_chosen, c.measured_best, 100 * (c.measured_chosen / c.measured_best - 1));
    }
  }
  std::vector<std::string> assumed;
  for (const auto& c : r.cases) {
    if (!c.assumption.empty()) assumed.push_back(c.id + ": " + c.assumption);
  }
  if (!assumed.empty()) {
    std::cout << "\nassumed where the case is silent:\n";
    for (const auto& a : assumed) std::cout << "  " << a << '\n';
  }
  if (!r.unmapped.empty()) {
    std::cout << "\nnot predicted (" << r.unmapped.size() << "):\n";
    std::map<std::string, int> microbenchmarks;
    for (const auto& u : r.unmapped) {
      if (u.kind != "microbenchmark") {
        std::cout << "  " << u.id << ": " << u.reason << '\n';
      } else {
        ++microbenchmarks[u.kind];
      }
    }
    for (const auto& [kind, n] : microbenchmarks) {
      std::cout << "  " << n << " " << kind << " case(s): measure the profile's inputs, not a prediction\n";
    }
  }
  return 0;
}

}  // namespace suanli::cli
