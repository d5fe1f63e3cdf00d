// `suanli classify`: TPP, performance density and category under each rule set.
#include <iostream>

#include <fmt/format.h>

#include "common.h"
#include "suanli/report/csv.h"
#include "suanli/report/json.h"
#include "table.h"

namespace suanli::cli {
namespace {

std::string Mark(const Classification& c) {
  if (!c.controlled) return "? " + c.category;
  return (*c.controlled ? "* " : "  ") + c.category;
}

}  // namespace

int RunClassifyCommand(const GlobalOptions& global, const Args& args, Output output) {
  const CommandSpec& spec = CommandFor("classify");
  auto query = DecodeClassify(args);
  if (!query) return Fail(query.error(), &spec);
  auto catalog = LoadWholeCatalog(global);
  if (!catalog) return Fail(catalog.error(), &spec);
  auto result = RunClassify(**catalog, *query);
  if (!result) return Fail(result.error(), &spec);
  const ClassifyResult& r = *result;
  if (output == Output::kJson) {
    PrintJson(ToJson(r));
    return 0;
  }
  if (output == Output::kCsv) {
    std::cout << ToCsv(r);
    return 0;
  }
  for (const auto& w : r.warnings) std::cerr << "warning: " << w << '\n';
  if (r.results.size() == 1) {
    // One chip: every rule set with reasons and headroom.
    const Chip& chip = r.chips.front();
    const ChipMetrics& m = r.results[0][0].metrics;
    std::cout << chip.name << " (" << chip.id << ")\n";
    std::cout << fmt::format("TPP {} ({}), performance density {}, die area {}, I/O {} GB/s, DRAM {} GB/s, {}\n\n",
                             m.tpp ? Thousands(*m.tpp) : "unknown", m.tpp_format.empty() ? "-" : m.tpp_format,
                             m.performance_density ? fmt::format("{:.2f}", *m.performance_density) : "unknown",
                             m.die_area_mm2 ? Thousands(*m.die_area_mm2) + " mm2" : "unknown",
                             m.io_bidirectional ? Thousands(*m.io_bidirectional / 1e9) : "unknown",
                             m.dram_bandwidth ? Thousands(*m.dram_bandwidth / 1e9) : "unknown",
                             m.datacenter ? "datacenter design" : "not a datacenter design");
    for (std::size_t i = 0; i < r.rules.size(); ++i) {
      const Classification& c = r.results[0][i];
      std::cout << r.rules[i]->id << " (" << RuleStatusName(r.rules[i]->status) << "): " << c.category << " - "
                << (c.controlled ? (*c.controlled ? "controlled" : "not controlled") : "undetermined") << '\n';
      for (const auto& reason : c.reasons) std::cout << "    " << reason << '\n';
      for (const auto& h : c.headroom) std::cout << "    headroom: " << h.note << '\n';
      for (const auto& w : c.warnings) std::cout << "    warning: " << w << '\n';
    }
    return 0;
  }
  Table t;
  t.Column("chip");
  t.Column("TPP", Table::Align::kRight);
  t.Column("PD", Table::Align::kRight);
  for (const RuleSet* rs : r.rules) t.Column(rs->id);
  const std::string headroom_id = r.headroom_rules != nullptr ? r.headroom_rules->id : "";
  t.Column("TPP headroom" + (headroom_id.empty() ? std::string() : " (" + headroom_id + ")"), Table::Align::kRight);
  std::vector<std::string> notes;
  for (std::size_t i = 0; i < r.chips.size(); ++i) {
    const ChipMetrics& m = r.results[i][0].metrics;
    std::vector<std::string> cells = {r.chips[i].id, m.tpp ? Thousands(*m.tpp) : "-",
                                      m.performance_density ? fmt::format("{:.2f}", *m.performance_density) : "-"};
    std::string headroom = "-";
    for (std::size_t k = 0; k < r.rules.size(); ++k) {
      const Classification& c = r.results[i][k];
      cells.push_back(Mark(c));
      if (r.rules[k] == r.headroom_rules) {
        for (const auto& h : c.headroom) {
          if (h.metric == "tpp" && h.limit) headroom = fmt::format("{:+.1f}%", 100 * h.fraction);
        }
      }
    }
    cells.push_back(headroom);
    t.Row(std::move(cells));
    if (!m.tpp) notes.push_back(r.chips[i].id + ": no dense compute figures, undetermined");
    else if (!m.die_area_mm2) notes.push_back(r.chips[i].id + ": die area unknown, classified on TPP alone");
  }
  t.Print(std::cout);
  std::cout << "\n* controlled (licence required for China under that rule), ? undetermined from known figures.\n"
               "TPP = max over formats of dense TOPS x bit length (TF32 excluded); PD = TPP / die area (mm2).\n"
               "Headroom: how far dense compute may move before the status under " << headroom_id << " flips.\n";
  for (const auto& n : notes) std::cout << "note: " << n << '\n';
  return 0;
}

}  // namespace suanli::cli
