// `suanli catalog list|show|schema`: the catalog for people; --json through the report.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "common.h"
#include "suanli/catalog/market.h"
#include "suanli/catalog/schema.h"
#include "suanli/core/overloaded.h"
#include "suanli/report/json.h"
#include "table.h"

namespace suanli::cli {
namespace {

std::string Scaled(std::optional<double> v, double divisor, int decimals = 0) {
  return v ? Thousands(*v / divisor, decimals) : "-";
}

void PrintFigures(const FigureMap& figures, const Catalog& catalog) {
  Table t;
  t.Column("field");
  t.Column("value", Table::Align::kRight);
  t.Column("basis");
  t.Column("source");
  std::vector<std::string> notes;
  for (const auto& [k, f] : figures) {
    std::string value = FormatFigureValue(f);
    if (f.range) {
      Figure lo = f, hi = f;
      lo.value = f.range->first;
      hi.value = f.range->second;
      lo.values.clear();  // a list figure's range is that of its first item
      hi.values.clear();
      value += std::string(f.values.empty() ? " [" : " [first ") + FormatFigureValue(lo) + " .. " + FormatFigureValue(hi) + "]";
    }
    std::string sources;
    for (const auto& s : f.sources) sources += (sources.empty() ? "" : ", ") + s;
    t.Row({k, value, std::string(BasisName(f.basis)), sources});
    if (!f.note.empty()) notes.push_back(k + ": " + f.note);
  }
  t.Print(std::cout);
  if (!notes.empty()) {
    std::cout << "\nNotes\n";
    for (const auto& n : notes) std::cout << "  " << n << '\n';
  }
  std::vector<std::string> cited;
  for (const auto& [k, f] : figures) {
    for (const auto& s : f.sources) {
      if (std::find(cited.begin(), cited.end(), s) == cited.end()) cited.push_back(s);
    }
  }
  if (!cited.empty()) {
    std::cout << "\nSources\n";
    for (const auto& id : cited) {
      const Source* s = catalog.FindSource(id);
      std::cout << "  " << id << ": " << (s ? s->title + " <" + s->locator + ">" : "(unknown)") << '\n';
    }
  }
}

void ListChips(const Catalog& catalog) {
  Table t;
  t.Column("id");
  t.Column("name");
  t.Column("status");
  t.Column("bf16 TFLOPS", Table::Align::kRight);
  t.Column("fp8 TFLOPS", Table::Align::kRight);
  t.Column("memory GB", Table::Align::kRight);
  t.Column("HBM TB/s", Table::Align::kRight);
  t.Column("scale-up GB/s", Table::Align::kRight);
  t.Column("TDP W", Table::Align::kRight);
  t.Column("price USD", Table::Align::kRight);
  for (const auto& c : catalog.chips()) {
    auto bf16 = c.DenseRate(Dtype::kBf16);
    if (!bf16) bf16 = c.DenseRate(Dtype::kFp16);
    auto fp8 = c.DenseRate(Dtype::kFp8);
    t.Row({c.id, c.name, std::string(ChipStatusName(c.status)),
           bf16 ? Thousands(bf16->si() / 1e12) : "-", fp8 ? Thousands(fp8->si() / 1e12) : "-",
           Scaled(c.Get("memory.capacity"), 1e9), Scaled(c.Get("memory.bandwidth"), 1e12, 2),
           Scaled(c.Get("scale_up.bandwidth"), 1e9), Scaled(c.Get("power.tdp"), 1),
           Scaled(LatestPurchasePriceUsd(catalog, c.id), 1)});
  }
  t.Print(std::cout);
  std::cout << "\nDense peak rates; memory in GB (10^9 bytes); scale-up per direction; price: the latest purchase "
               "price in catalog/prices/, in USD (`suanli catalog list prices`).\n";
}

void ListSystems(const Catalog& catalog) {
  Table t;
  t.Column("id");
  t.Column("name");
  t.Column("chip");
  t.Column("chips/node", Table::Align::kRight);
  t.Column("scale-up domain", Table::Align::kRight);
  t.Column("scale-up GB/s", Table::Align::kRight);
  t.Column("scale-out Gb/s", Table::Align::kRight);
  t.Column("node kW", Table::Align::kRight);
  t.Column("price USD", Table::Align::kRight);
  for (const auto& s : catalog.systems()) {
    t.Row({s.id, s.name, s.chip, Scaled(s.Get("chips_per_node"), 1), Scaled(s.Get("scale_up.domain"), 1),
           Scaled(s.Get("scale_up.bandwidth"), 1e9), Scaled(s.Get("scale_out.bandwidth"), 1e9 / 8),
           Scaled(s.Get("node_power"), 1e3, 1), Scaled(LatestPurchasePriceUsd(catalog, s.id), 1)});
  }
  t.Print(std::cout);
}

std::string AttentionLabel(const ModelArch& m) {
  if (m.groups.empty()) return "-";
  const auto& a = m.groups.front().attention;
  std::string label(AttentionKindName(a));
  std::transform(label.begin(), label.end(), label.begin(), [](unsigned char c) { return char(std::toupper(c)); });
  if (label == "GQA") label = fmt::format("GQA {}/{}", a.heads, a.kv_heads);
  for (const auto& g : m.groups) {
    if (g.attention.window > 0) return label + " +SWA";
  }
  return label;
}

void ListModels(const Catalog& catalog) {
  Table t;
  t.Column("id");
  t.Column("family");
  t.Column("layers", Table::Align::kRight);
  t.Column("hidden", Table::Align::kRight);
  t.Column("attention");
  t.Column("experts", Table::Align::kRight);
  t.Column("params B", Table::Align::kRight);
  t.Column("active B", Table::Align::kRight);
  t.Column("KV KiB/token (bf16)", Table::Align::kRight);
  for (const auto& m : catalog.models()) {
    const ModelSummary s = SummarizeModel(m.arch);
    t.Row({m.id, m.arch.family, std::to_string(m.arch.layers), std::to_string(m.arch.hidden), AttentionLabel(m.arch),
           s.experts ? fmt::format("{} (top {})", s.experts, s.top_k) : "-", Thousands(s.params.total / 1e9, 1),
           Thousands(s.params.active / 1e9, 1), Thousands(s.kv_bytes_per_token_bf16 / 1024, 1)});
  }
  t.Print(std::cout);
  std::cout << "\nParameters counted from each config (embeddings included); KV cache per token at short context.\n";
}

void ListRules(const Catalog& catalog) {
  Table t;
  t.Column("id");
  t.Column("name");
  t.Column("status");
  t.Column("effective");
  t.Column("citation");
  for (const auto& r : catalog.rules()) t.Row({r.id, r.name, std::string(RuleStatusName(r.status)), r.effective, r.citation});
  t.Print(std::cout);
}

void ListSources(const Catalog& catalog) {
  Table t;
  t.Column("id");
  t.Column("kind");
  t.Column("title");
  for (const auto& [id, s] : catalog.sources()) {
    std::string title = s.title.size() > 100 ? s.title.substr(0, 97) + "..." : s.title;
    t.Row({id, s.kind, title});
  }
  t.Print(std::cout);
}

void ListProfiles(const Catalog& catalog) {
  Table t;
  t.Column("id");
  t.Column("tier");
  t.Column("class");
  t.Column("measured on");
  t.Column("name");
  for (const auto& p : catalog.profiles()) {
    std::string chips;
    for (const auto& c : p.chips) chips += (chips.empty() ? "" : ", ") + c;
    t.Row({p.id, std::string(ProfileTierName(p.tier)), p.arch_class, chips, p.name});
  }
  t.Print(std::cout);
}

void ListStacks(const Catalog& catalog) {
  Table t;
  t.Column("id");
  t.Column("kind");
  t.Column("default");
  t.Column("norms");
  t.Column("max tokens/pass", Table::Align::kRight);
  t.Column("expert imbalance", Table::Align::kRight);
  t.Column("name");
  for (const auto& s : catalog.stacks()) {
    t.Row({s.id, std::string(StackKindName(s.kind)), s.is_default ? "yes" : "", s.fused_residual_norm ? "fused" : "unfused",
           Scaled(s.Get("scheduler.max_num_tokens"), 1), Scaled(s.Get("moe.expert_imbalance"), 1, 2), s.name});
  }
  t.Print(std::cout);
}

// Prices, facilities or exchange rates: one row each, the figures in words.
void ListMarket(const Catalog& catalog, RecordKind kind) {
  const auto& list = kind == RecordKind::kPrice ? catalog.prices() : kind == RecordKind::kFacility ? catalog.facilities() : catalog.fx();
  Table t;
  t.Column("id");
  if (kind == RecordKind::kPrice) {
    t.Column("subject");
    t.Column("kind");
  }
  if (kind != RecordKind::kFx) t.Column("region");
  t.Column("date");
  t.Column("figures");
  for (const auto& r : list) {
    std::string figures;
    for (const auto& [k, f] : r.figures) figures += (figures.empty() ? "" : "; ") + k + " " + FormatFigureValue(f);
    std::vector<std::string> row{r.id};
    if (kind == RecordKind::kPrice) {
      row.push_back(r.subject);
      row.push_back(r.price_kind);
    }
    if (kind != RecordKind::kFx) row.push_back(r.region);
    row.push_back(r.date);
    row.push_back(figures);
    t.Row(row);
  }
  t.Print(std::cout);
}

// A layer group's MLP in words: "dense 28,672 (gated)", "16 experts x 8,192, top-1, +1 shared x 8,192".
std::string MlpWords(const LayerGroup& g) {
  if (!g.is_moe()) return fmt::format("dense {}{}", Thousands(g.mlp.ffn), g.mlp.gated ? " (gated)" : "");
  std::string s = fmt::format("{} experts x {}, top-{}", g.moe.experts, Thousands(g.moe.expert_ffn), g.moe.top_k);
  if (g.moe.shared_experts > 0) s += fmt::format(", +{} shared x {}", g.moe.shared_experts, Thousands(g.moe.shared_ffn));
  return s;
}

// `catalog show MODEL` and `catalog show PATH/config.json`: what was imported, in words.
void ShowModel(const ModelEntry& m, const Catalog& catalog) {
  const ModelSummary s = SummarizeModel(m.arch);
  const ParamCount& p = s.params;
  std::cout << m.name << " (" << m.id << "), model_type " << m.arch.family << "\nfile " << m.file << "\n\n";
  std::cout << fmt::format("parameters {} B total, {} B active per token", Thousands(p.total / 1e9, 2),
                           Thousands(p.active / 1e9, 2));
  if (p.mtp > 0) std::cout << fmt::format(" (+{} B in MTP modules)", Thousands(p.mtp / 1e9, 2));
  std::cout << fmt::format("\n  embedding {} B, output head {}; hidden {}, vocabulary {}, {} layers\n",
                           Thousands(p.embedding / 1e9, 2),
                           m.arch.tied_embeddings ? "tied to it" : Thousands(p.lm_head / 1e9, 2) + " B",
                           Thousands(m.arch.hidden), Thousands(m.arch.vocab), m.arch.layers);
  std::cout << fmt::format("KV cache {} bytes per token in bf16 ({} values)", Thousands(s.kv_bytes_per_token_bf16),
                           Thousands(s.kv_values_per_token));
  if (s.widest_window > 0) {
    std::cout << fmt::format("; past {} tokens, once the sliding windows are full, {} bytes", Thousands(s.widest_window),
                             Thousands(s.kv_bytes_per_token_bf16_windows_full));
  }
  std::cout << "\n\nLayer groups (identical layers share a group)\n";
  Table t;
  t.Column("layers", Table::Align::kRight);
  t.Column("attention");
  t.Column("heads / kv", Table::Align::kRight);
  t.Column("head_dim", Table::Align::kRight);
  t.Column("window", Table::Align::kRight);
  t.Column("MLP");
  for (const auto& g : m.arch.groups) {
    const auto& a = g.attention;
    std::string attention(AttentionKindName(a));
    if (a.kind == AttentionKind::kLatent) attention += fmt::format(" (kv rank {}, rope {})", a.kv_lora_rank, a.rope_dim);
    t.Row({std::to_string(g.count), attention, fmt::format("{} / {}", a.heads, a.kv_heads), std::to_string(a.head_dim),
           a.window > 0 ? Thousands(a.window) : "full", MlpWords(g)});
  }
  t.Print(std::cout);
  if (!m.arch.import_notes.empty()) {
    std::cout << "\nRead but not modelled as written\n";
    for (const auto& n : m.arch.import_notes) std::cout << "  " << n << '\n';
  }
  if (!m.published.empty()) {
    std::cout << '\n';
    PrintFigures(m.published, catalog);
  }
}

}  // namespace

int RunCatalogList(const GlobalOptions& global, const std::string& what, bool json) {
  auto loaded = LoadWholeCatalog(global);
  if (!loaded) return Fail(loaded.error(), nullptr);
  const Catalog& catalog = **loaded;
  auto kind = ResolveRecordKind(what);
  if (!kind) return Fail(kind.error(), nullptr);
  if (json) {
    PrintJson(CatalogListJson(catalog, (*kind)->kind));
    return 0;
  }
  switch ((*kind)->kind) {
    case RecordKind::kChip: ListChips(catalog); break;
    case RecordKind::kSystem: ListSystems(catalog); break;
    case RecordKind::kModel: ListModels(catalog); break;
    case RecordKind::kRuleSet: ListRules(catalog); break;
    case RecordKind::kSource: ListSources(catalog); break;
    case RecordKind::kProfile: ListProfiles(catalog); break;
    case RecordKind::kStack: ListStacks(catalog); break;
    case RecordKind::kPrice:
    case RecordKind::kFacility:
    case RecordKind::kFx: ListMarket(catalog, (*kind)->kind); break;
  }
  return 0;
}

int RunCatalogShow(const GlobalOptions& global, const std::string& id, bool json) {
  auto loaded = LoadWholeCatalog(global);
  if (!loaded) return Fail(loaded.error(), nullptr);
  const Catalog& catalog = **loaded;
  auto record = catalog.FindRecord(id);
  if (!record) return Fail(record.error(), nullptr);
  if (json) {
    PrintJson(RecordJson(*record));
    return 0;
  }
  std::visit(Overloaded{
                 [&](const Chip* c) {
                   std::cout << c->name << " (" << c->id << ")\n";
                   std::cout << "vendor " << c->vendor << "; status " << ChipStatusName(c->status) << "; "
                             << (c->datacenter ? "datacenter design" : "not a datacenter design");
                   if (!c->architecture.empty()) std::cout << "; " << c->architecture;
                   if (!c->extends.empty()) std::cout << "; extends " << c->extends;
                   std::cout << "\nfile " << c->file << "\n";
                   if (!c->notes.empty()) std::cout << c->notes << "\n";
                   std::cout << '\n';
                   PrintFigures(c->figures, catalog);
                 },
                 [&](const System* s) {
                   std::cout << s->name << " (" << s->id << "): " << s->chip << "; one device is one "
                             << DeviceRankName(s->rank) << "\nfile " << s->file << "\n";
                   if (!s->notes.empty()) std::cout << s->notes << "\n";
                   std::cout << '\n';
                   PrintFigures(s->figures, catalog);
                   for (const auto& t : s->network) {
                     std::cout << "\nnetwork tier: " << t.name << "\n";
                     PrintFigures(t.figures, catalog);
                   }
                 },
                 [&](const ModelEntry* m) { ShowModel(*m, catalog); },
                 [&](const RuleSet* r) {
                   std::cout << r->name << " (" << r->id << ")\n" << r->citation << "; effective " << r->effective << "; "
                             << RuleStatusName(r->status) << "\n\n" << r->notes << "\n\nCategories, checked in order:\n";
                   for (const auto& c : r->categories) {
                     std::cout << "  " << c.id << " [" << (c.controlled ? (*c.controlled ? "controlled" : "not controlled") : "?")
                               << "]: " << c.reason << '\n';
                   }
                 },
                 [&](const Profile* p) {
                   std::cout << p->name << " (" << p->id << "), tier " << ProfileTierName(p->tier);
                   if (!p->arch_class.empty()) std::cout << "; default for " << p->arch_class;
                   if (!p->extends.empty()) std::cout << "; extends " << p->extends;
                   std::cout << "\nfile " << p->file << "\n\n";
                   PrintFigures(p->figures, catalog);
                   for (const auto& r : p->releases) {  // --release FRAMEWORK=VERSION takes these (docs/validation.md)
                     std::cout << "\nrelease " << r.framework << " " << r.version << (r.notes.empty() ? "" : ": " + r.notes)
                               << "\n";
                     PrintFigures(r.figures, catalog);
                   }
                 },
                 [&](const Stack* s) {
                   std::cout << s->name << " (" << s->id << "), " << StackKindName(s->kind) << " stack"
                             << (s->is_default ? ", the default" : "") << "; norms "
                             << (s->fused_residual_norm ? "fused into the residual add" : "apart from the residual adds") << "\nfile "
                             << s->file << "\n";
                   if (!s->notes.empty()) std::cout << s->notes << "\n";
                   std::cout << '\n';
                   PrintFigures(s->figures, catalog);
                 },
                 [&](const Source* s) { std::cout << s->id << ": " << s->title << "\n" << s->locator << "\n"; },
                 // A config.json or catalog model file: what the importer made of it.
                 [&](const ModelEntry& m) { ShowModel(m, catalog); },
                 [&](const MarketRecord* r) {
                   std::cout << RecordKindName(r->kind) << " " << r->id;
                   if (!r->name.empty()) std::cout << ": " << r->name;
                   if (!r->subject.empty()) std::cout << ": " << r->price_kind << " price of " << r->subject;
                   if (!r->region.empty()) std::cout << "; region " << r->region;
                   std::cout << "; dated " << r->date << "\nfile " << r->file << "\n";
                   if (!r->notes.empty()) std::cout << r->notes << "\n";
                   std::cout << '\n';
                   PrintFigures(r->figures, catalog);
                 },
             },
             *record);
  return 0;
}

int RunCatalogSchema(const std::string& what, bool json) {
  std::vector<RecordKind> kinds;
  if (!what.empty()) {
    auto kind = ResolveRecordKind(what);
    if (!kind) return Fail(kind.error(), nullptr);
    kinds.push_back((*kind)->kind);
  } else {
    for (const auto& k : RecordKinds()) kinds.push_back(k.kind);
  }
  if (json) {
    PrintJson(SchemaJson(kinds));
    return 0;
  }
  for (RecordKind kind : kinds) {
    Table t;
    std::vector<std::string> choices;
    t.Column("key");
    t.Column("kind");
    t.Column("unit");
    t.Column("required");
    t.Column("default");
    t.Column("description");
    auto add = [&](const FieldSpec& f, const std::string& prefix) {
      const std::string key = prefix + std::string(f.key);
      std::string unit = f.kind == FieldKind::kFigure
                             ? (f.dim == Dim{} ? "number" : DimName(f.dim) + " (e.g. " + std::string(DimExample(f.dim)) + ")")
                             : "";
      std::string kind_name(FieldKindName(f.kind));
      if (f.kind == FieldKind::kEnum) {
        std::string list;
        for (auto c : f.choices) list += (list.empty() ? "" : ", ") + std::string(c);
        choices.push_back(key + ": " + list);
      }
      t.Row({key, kind_name, unit, f.required ? "yes" : "", std::string(f.default_value), std::string(f.description)});
    };
    for (const auto& f : SchemaFor(kind)) {
      add(f, "");
      for (const auto& sub : f.table) add(sub, std::string(f.key) + "[].");
    }
    std::cout << RecordKindName(kind) << " fields (figures are {value, basis, source, range?, note?})\n";
    t.Print(std::cout);
    if (!choices.empty()) std::cout << "\nchoices of the enum fields\n";
    for (const auto& c : choices) std::cout << "  " << c << '\n';
    std::cout << '\n';
  }
  return 0;
}

}  // namespace suanli::cli
