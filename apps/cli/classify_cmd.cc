// `suanli classify`: TPP, performance density and category under each rule set.
#include <iostream>

#include <fmt/format.h>

#include "commands.h"
#include "suanli/policy/classify.h"
#include "table.h"

namespace suanli::cli {
namespace {

using nlohmann::json;

json OptionalJson(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json ClassificationJson(const Classification& c) {
  json headroom = json::array();
  for (const auto& h : c.headroom) {
    headroom.push_back(json{{"metric", h.metric}, {"current", h.current}, {"limit", OptionalJson(h.limit)},
                            {"margin", h.limit ? json(h.margin) : json(nullptr)},
                            {"fraction", h.limit ? json(h.fraction) : json(nullptr)},
                            {"flips_to", h.flips_to}, {"note", h.note}});
  }
  return json{{"chip", c.chip},
              {"rules", c.rules},
              {"tpp", OptionalJson(c.metrics.tpp)},
              {"tpp_format", c.metrics.tpp_format},
              {"performance_density", OptionalJson(c.metrics.performance_density)},
              {"die_area_mm2", OptionalJson(c.metrics.die_area_mm2)},
              {"io_bidirectional_bytes_per_s", OptionalJson(c.metrics.io_bidirectional)},
              {"dram_bandwidth_bytes_per_s", OptionalJson(c.metrics.dram_bandwidth)},
              {"datacenter", c.metrics.datacenter},
              {"category", c.category},
              {"controlled", c.controlled ? json(*c.controlled) : json(nullptr)},
              {"reasons", c.reasons},
              {"headroom", headroom},
              {"warnings", c.warnings}};
}

std::string Mark(const Classification& c) {
  if (!c.controlled) return "? " + c.category;
  return (*c.controlled ? "* " : "  ") + c.category;
}

}  // namespace

int RunClassify(const GlobalOptions& global, const ClassifyOptions& options) {
  const Catalog& catalog = LoadCatalogOrThrow(global);
  std::vector<Chip> chips;
  std::vector<std::string> warnings;
  if (options.hardware == "all") {
    chips = catalog.chips();
  } else {
    ResolvedHardware hw = ResolveHardware(catalog, options.hardware);
    warnings = hw.warnings;
    chips.push_back(std::move(hw.chip));
  }
  std::vector<const RuleSet*> rule_sets;
  if (options.rules.empty() || options.rules == "all") {
    for (const auto& r : catalog.rules()) rule_sets.push_back(&r);
  } else {
    for (std::size_t start = 0; start <= options.rules.size();) {
      const std::size_t comma = std::min(options.rules.find(',', start), options.rules.size());
      const std::string id = options.rules.substr(start, comma - start);
      const RuleSet* r = catalog.FindRuleSet(id);
      if (r == nullptr) {
        std::string known;
        for (const auto& x : catalog.rules()) known += (known.empty() ? "" : ", ") + x.id;
        throw InputError("--rules: no rule set '" + id + "' (known: " + known + ")");
      }
      rule_sets.push_back(r);
      start = comma + 1;
    }
  }
  if (rule_sets.empty()) throw InputError("the catalog holds no rule sets");

  std::vector<std::vector<Classification>> results;  // [chip][rule]
  for (const auto& chip : chips) {
    auto& row = results.emplace_back();
    for (const RuleSet* r : rule_sets) row.push_back(Classify(chip, *r));
  }

  if (options.json) {
    if (results.size() == 1 && rule_sets.size() == 1) {
      json j = ClassificationJson(results[0][0]);
      for (const auto& w : warnings) j["warnings"].push_back(w);
      PrintJson(j);
    } else {
      json arr = json::array();
      for (const auto& row : results) {
        for (const auto& c : row) arr.push_back(ClassificationJson(c));
      }
      PrintJson(json{{"results", arr}, {"warnings", warnings}});
    }
    return 0;
  }

  for (const auto& w : warnings) std::cerr << "warning: " << w << '\n';
  if (results.size() == 1) {
    // One chip: every rule set with reasons and headroom.
    const Chip& chip = chips.front();
    const ChipMetrics& m = results[0][0].metrics;
    std::cout << chip.name << " (" << chip.id << ")\n";
    std::cout << fmt::format("TPP {} ({}), performance density {}, die area {}, I/O {} GB/s, DRAM {} GB/s, {}\n\n",
                             m.tpp ? Thousands(*m.tpp) : "unknown", m.tpp_format.empty() ? "-" : m.tpp_format,
                             m.performance_density ? fmt::format("{:.2f}", *m.performance_density) : "unknown",
                             m.die_area_mm2 ? Thousands(*m.die_area_mm2) + " mm2" : "unknown",
                             m.io_bidirectional ? Thousands(*m.io_bidirectional / 1e9) : "unknown",
                             m.dram_bandwidth ? Thousands(*m.dram_bandwidth / 1e9) : "unknown",
                             m.datacenter ? "datacenter design" : "not a datacenter design");
    for (std::size_t i = 0; i < rule_sets.size(); ++i) {
      const Classification& c = results[0][i];
      std::cout << rule_sets[i]->id << " (" << RuleStatusName(rule_sets[i]->status) << "): " << c.category << " - "
                << (c.controlled ? (*c.controlled ? "controlled" : "not controlled") : "undetermined") << '\n';
      for (const auto& r : c.reasons) std::cout << "    " << r << '\n';
      for (const auto& h : c.headroom) std::cout << "    headroom: " << h.note << '\n';
      for (const auto& w : c.warnings) std::cout << "    warning: " << w << '\n';
    }
    return 0;
  }
  Table t;
  t.Column("chip");
  t.Column("TPP", Table::Align::kRight);
  t.Column("PD", Table::Align::kRight);
  for (const RuleSet* r : rule_sets) t.Column(r->id);
  t.Column("TPP headroom (us-2023-10)", Table::Align::kRight);
  std::vector<std::string> notes;
  for (std::size_t i = 0; i < chips.size(); ++i) {
    const ChipMetrics& m = results[i][0].metrics;
    std::vector<std::string> cells = {chips[i].id, m.tpp ? Thousands(*m.tpp) : "-",
                                      m.performance_density ? fmt::format("{:.2f}", *m.performance_density) : "-"};
    std::string headroom = "-";
    for (std::size_t k = 0; k < rule_sets.size(); ++k) {
      const Classification& c = results[i][k];
      cells.push_back(Mark(c));
      if (rule_sets[k]->id == "us-2023-10") {
        for (const auto& h : c.headroom) {
          if (h.metric == "tpp" && h.limit) headroom = fmt::format("{:+.1f}%", 100 * h.fraction);
        }
      }
    }
    cells.push_back(headroom);
    t.Row(std::move(cells));
    if (!m.tpp) notes.push_back(chips[i].id + ": no dense compute figures, undetermined");
    else if (!m.die_area_mm2) notes.push_back(chips[i].id + ": die area unknown, classified on TPP alone");
  }
  t.Print(std::cout);
  std::cout << "\n* controlled (licence required for China under that rule), ? undetermined from known figures.\n"
               "TPP = max over formats of dense TOPS x bit length (TF32 excluded); PD = TPP / die area (mm2).\n"
               "Headroom: how far dense compute may move before the status under us-2023-10 flips.\n";
  for (const auto& n : notes) std::cout << "note: " << n << '\n';
  return 0;
}

}  // namespace suanli::cli
