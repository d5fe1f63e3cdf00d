// `suanli catalog list|show|schema`.
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "commands.h"
#include "suanli/catalog/schema.h"
#include "table.h"

namespace suanli::cli {
namespace {

using nlohmann::json;

std::string Scaled(std::optional<double> v, double divisor, int decimals = 0) {
  return v ? Thousands(*v / divisor, decimals) : "-";
}

json FigureJson(const Figure& f) {
  json j;
  if (f.is_text) {
    j["value"] = f.text;
  } else {
    j["value"] = f.value;
    j["unit"] = DimName(f.dim);
    j["display"] = FormatFigureValue(f);
    if (f.range) j["range"] = {f.range->first, f.range->second};
  }
  j["basis"] = std::string(BasisName(f.basis));
  j["sources"] = f.sources;
  if (!f.note.empty()) j["note"] = f.note;
  j["file"] = f.file;
  j["line"] = f.line;
  return j;
}

json FiguresJson(const FigureMap& figures) {
  json j = json::object();
  for (const auto& [k, f] : figures) j[k] = FigureJson(f);
  return j;
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
      value += " [" + FormatFigureValue(lo) + " .. " + FormatFigureValue(hi) + "]";
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

int ListChips(const Catalog& catalog, bool as_json) {
  if (as_json) {
    json arr = json::array();
    for (const auto& c : catalog.chips()) {
      json j{{"id", c.id}, {"name", c.name}, {"vendor", c.vendor}, {"status", ChipStatusName(c.status)}};
      auto put = [&](const char* key, std::optional<double> v) { j[key] = v ? json(*v) : json(nullptr); };
      auto bf16 = c.DenseRate(Dtype::kBf16);
      auto fp16 = c.DenseRate(Dtype::kFp16);
      auto fp8 = c.DenseRate(Dtype::kFp8);
      put("bf16_flops_per_s", bf16 ? std::optional(bf16->si()) : (fp16 ? std::optional(fp16->si()) : std::nullopt));
      put("fp8_flops_per_s", fp8 ? std::optional(fp8->si()) : std::nullopt);
      put("memory_bytes", c.Get("memory.capacity"));
      put("memory_bandwidth_bytes_per_s", c.Get("memory.bandwidth"));
      put("scale_up_bytes_per_s", c.Get("scale_up.bandwidth"));
      put("tdp_w", c.Get("power.tdp"));
      put("price_usd", c.Get("price.usd"));
      arr.push_back(j);
    }
    PrintJson(json{{"chips", arr}});
    return 0;
  }
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
           Scaled(c.Get("price.usd"), 1)});
  }
  t.Print(std::cout);
  std::cout << "\nDense peak rates; memory in GB (10^9 bytes); scale-up per direction; prices are estimates "
               "(see `suanli catalog show ID`).\n";
  return 0;
}

int ListSystems(const Catalog& catalog, bool as_json) {
  if (as_json) {
    json arr = json::array();
    for (const auto& s : catalog.systems()) {
      json j{{"id", s.id}, {"name", s.name}, {"chip", s.chip}};
      auto put = [&](const char* key, std::optional<double> v) { j[key] = v ? json(*v) : json(nullptr); };
      put("chips_per_node", s.Get("chips_per_node"));
      put("scale_up_domain", s.Get("scale_up.domain"));
      put("scale_up_bytes_per_s", s.Get("scale_up.bandwidth"));
      put("scale_out_bytes_per_s", s.Get("scale_out.bandwidth"));
      put("node_power_w", s.Get("node_power"));
      put("price_usd", s.Get("price.usd"));
      arr.push_back(j);
    }
    PrintJson(json{{"systems", arr}});
    return 0;
  }
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
           Scaled(s.Get("node_power"), 1e3, 1), Scaled(s.Get("price.usd"), 1)});
  }
  t.Print(std::cout);
  return 0;
}

std::string AttentionLabel(const ModelArch& m) {
  if (m.groups.empty()) return "-";
  const auto& a = m.groups.front().attention;
  std::string label = a.kind == AttentionKind::kLatent ? "MLA"
                      : a.kv_heads == a.heads        ? "MHA"
                      : a.kv_heads == 1              ? "MQA"
                                                     : fmt::format("GQA {}/{}", a.heads, a.kv_heads);
  for (const auto& g : m.groups) {
    if (g.attention.window > 0) return label + " +SWA";
  }
  return label;
}

// "gqa", "mqa", "mha" or "mla": what the attention of a group is.
std::string_view AttentionKindName(const AttentionShape& a) {
  if (a.kind == AttentionKind::kLatent) return "mla";
  if (a.kv_heads == a.heads) return "mha";
  return a.kv_heads == 1 ? "mqa" : "gqa";
}

// A layer group's MLP in words: "dense 28,672 (gated)", "16 experts x 8,192, top-1, +1 shared x 8,192".
std::string MlpWords(const LayerGroup& g) {
  if (!g.is_moe()) return fmt::format("dense {}{}", Thousands(g.mlp.ffn), g.mlp.gated ? " (gated)" : "");
  std::string s = fmt::format("{} experts x {}, top-{}", g.moe.experts, Thousands(g.moe.expert_ffn), g.moe.top_k);
  if (g.moe.shared_experts > 0) s += fmt::format(", +{} shared x {}", g.moe.shared_experts, Thousands(g.moe.shared_ffn));
  return s;
}

// `catalog show MODEL` and `catalog show PATH/config.json`: what was imported, in words.
int ShowModel(const ModelEntry& m, const Catalog& catalog, bool as_json) {
  const ParamCount p = CountParams(m.arch);
  const double kv_short = KvValuesPerToken(m.arch, 1);
  json groups = json::array();
  for (const auto& g : m.arch.groups) {
    groups.push_back(json{{"layers", g.count}, {"attention", AttentionKindName(g.attention)},
                          {"heads", g.attention.heads}, {"kv_heads", g.attention.kv_heads},
                          {"head_dim", g.attention.head_dim}, {"window", g.attention.window},
                          {"ffn", g.is_moe() ? g.moe.expert_ffn : g.mlp.ffn}, {"experts", g.moe.experts},
                          {"top_k", g.moe.top_k}, {"shared_experts", g.moe.shared_experts}});
  }
  if (as_json) {
    PrintJson(json{{"kind", "model"}, {"id", m.id}, {"name", m.name}, {"family", m.arch.family},
                   {"hidden", m.arch.hidden}, {"layers", m.arch.layers}, {"vocab", m.arch.vocab},
                   {"total_params", p.total}, {"active_params", p.active}, {"mtp_params", p.mtp},
                   {"kv_values_per_token", kv_short}, {"layer_groups", groups},
                   {"published", FiguresJson(m.published)}, {"sources", m.sources}, {"file", m.file}});
    return 0;
  }
  std::cout << m.name << " (" << m.id << "), model_type " << m.arch.family << "\nfile " << m.file << "\n\n";
  std::cout << fmt::format("parameters {} B total, {} B active per token", Thousands(p.total / 1e9, 2),
                           Thousands(p.active / 1e9, 2));
  if (p.mtp > 0) std::cout << fmt::format(" (+{} B in MTP modules)", Thousands(p.mtp / 1e9, 2));
  std::cout << fmt::format("\n  embedding {} B, output head {}; hidden {}, vocabulary {}, {} layers\n",
                           Thousands(p.embedding / 1e9, 2),
                           m.arch.tied_embeddings ? "tied to it" : Thousands(p.lm_head / 1e9, 2) + " B",
                           Thousands(m.arch.hidden), Thousands(m.arch.vocab), m.arch.layers);
  std::cout << fmt::format("KV cache {} bytes per token in bf16 ({} values)", Thousands(2 * kv_short),
                           Thousands(kv_short));
  int window = 0;
  for (const auto& g : m.arch.groups) window = std::max(window, g.attention.window);
  if (window > 0) {
    const double kv_long = KvValuesPerToken(m.arch, int64_t{window} + 1);
    std::cout << fmt::format("; past {} tokens, once the sliding windows are full, {} bytes", Thousands(window),
                             Thousands(2 * kv_long));
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
  return 0;
}

int ListModels(const Catalog& catalog, bool as_json) {
  json arr = json::array();
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
    const ParamCount p = CountParams(m.arch);
    int experts = 0, top_k = 0;
    for (const auto& g : m.arch.groups) {
      if (g.is_moe()) {
        experts = g.moe.experts;
        top_k = g.moe.top_k;
      }
    }
    const double kv_bytes = 2.0 * KvValuesPerToken(m.arch, 1);
    if (as_json) {
      arr.push_back(json{{"id", m.id}, {"name", m.name}, {"family", m.arch.family}, {"layers", m.arch.layers},
                         {"hidden", m.arch.hidden}, {"experts", experts}, {"top_k", top_k},
                         {"total_params", p.total}, {"active_params", p.active},
                         {"kv_cache_bytes_per_token_bf16", kv_bytes}});
      continue;
    }
    t.Row({m.id, m.arch.family, std::to_string(m.arch.layers), std::to_string(m.arch.hidden), AttentionLabel(m.arch),
           experts ? fmt::format("{} (top {})", experts, top_k) : "-", Thousands(p.total / 1e9, 1),
           Thousands(p.active / 1e9, 1), Thousands(kv_bytes / 1024, 1)});
  }
  if (as_json) {
    PrintJson(json{{"models", arr}});
  } else {
    t.Print(std::cout);
    std::cout << "\nParameters counted from each config (embeddings included); KV cache per token at short context.\n";
  }
  return 0;
}

int ListRules(const Catalog& catalog, bool as_json) {
  json arr = json::array();
  Table t;
  t.Column("id");
  t.Column("name");
  t.Column("status");
  t.Column("effective");
  t.Column("citation");
  for (const auto& r : catalog.rules()) {
    if (as_json) {
      arr.push_back(json{{"id", r.id}, {"name", r.name}, {"status", RuleStatusName(r.status)},
                         {"effective", r.effective}, {"citation", r.citation}});
    }
    t.Row({r.id, r.name, std::string(RuleStatusName(r.status)), r.effective, r.citation});
  }
  if (as_json) PrintJson(json{{"rules", arr}});
  else t.Print(std::cout);
  return 0;
}

int ListSources(const Catalog& catalog, bool as_json) {
  json arr = json::array();
  Table t;
  t.Column("id");
  t.Column("kind");
  t.Column("title");
  for (const auto& [id, s] : catalog.sources()) {
    if (as_json) arr.push_back(json{{"id", id}, {"title", s.title}, {"locator", s.locator}, {"kind", s.kind}});
    std::string title = s.title.size() > 100 ? s.title.substr(0, 97) + "..." : s.title;
    t.Row({id, s.kind, title});
  }
  if (as_json) PrintJson(json{{"sources", arr}});
  else t.Print(std::cout);
  return 0;
}

int ListProfiles(const Catalog& catalog, bool as_json) {
  json arr = json::array();
  Table t;
  t.Column("id");
  t.Column("tier");
  t.Column("class");
  t.Column("measured on");
  t.Column("name");
  for (const auto& p : catalog.profiles()) {
    std::string chips;
    for (const auto& c : p.chips) chips += (chips.empty() ? "" : ", ") + c;
    if (as_json) {
      arr.push_back(json{{"id", p.id}, {"name", p.name}, {"tier", ProfileTierName(p.tier)},
                         {"arch_class", p.arch_class}, {"chips", p.chips}, {"extends", p.extends}});
    }
    t.Row({p.id, std::string(ProfileTierName(p.tier)), p.arch_class, chips, p.name});
  }
  if (as_json) PrintJson(json{{"profiles", arr}});
  else t.Print(std::cout);
  return 0;
}

}  // namespace

int RunCatalogList(const GlobalOptions& global, const CatalogListOptions& options) {
  const Catalog& catalog = LoadCatalogOrThrow(global);
  if (options.what == "chips") return ListChips(catalog, options.json);
  if (options.what == "systems") return ListSystems(catalog, options.json);
  if (options.what == "models") return ListModels(catalog, options.json);
  if (options.what == "rules") return ListRules(catalog, options.json);
  if (options.what == "sources") return ListSources(catalog, options.json);
  if (options.what == "profiles") return ListProfiles(catalog, options.json);
  throw InputError("catalog list: unknown kind '" + options.what + "' (chips, systems, models, rules, sources, profiles)");
}

int RunCatalogShow(const GlobalOptions& global, const CatalogShowOptions& options) {
  const Catalog& catalog = LoadCatalogOrThrow(global);
  if (const Chip* c = catalog.FindChip(options.id)) {
    if (options.json) {
      PrintJson(json{{"kind", "chip"}, {"id", c->id}, {"name", c->name}, {"vendor", c->vendor},
                     {"aliases", c->aliases}, {"extends", c->extends}, {"status", ChipStatusName(c->status)},
                     {"datacenter", c->datacenter}, {"architecture", c->architecture},
                     {"arch_class", c->arch_class}, {"notes", c->notes}, {"file", c->file},
                     {"figures", FiguresJson(c->figures)}});
      return 0;
    }
    std::cout << c->name << " (" << c->id << ")\n";
    std::cout << "vendor " << c->vendor << "; status " << ChipStatusName(c->status) << "; "
              << (c->datacenter ? "datacenter design" : "not a datacenter design");
    if (!c->architecture.empty()) std::cout << "; " << c->architecture;
    if (!c->extends.empty()) std::cout << "; extends " << c->extends;
    std::cout << "\nfile " << c->file << "\n";
    if (!c->notes.empty()) std::cout << c->notes << "\n";
    std::cout << '\n';
    PrintFigures(c->figures, catalog);
    return 0;
  }
  if (const System* s = catalog.FindSystem(options.id)) {
    if (options.json) {
      json tiers = json::array();
      for (const auto& t : s->network) tiers.push_back(json{{"name", t.name}, {"figures", FiguresJson(t.figures)}});
      PrintJson(json{{"kind", "system"}, {"id", s->id}, {"name", s->name}, {"vendor", s->vendor},
                     {"chip", s->chip}, {"extends", s->extends}, {"notes", s->notes}, {"file", s->file},
                     {"figures", FiguresJson(s->figures)}, {"network", tiers}});
      return 0;
    }
    std::cout << s->name << " (" << s->id << "): " << s->chip << "\nfile " << s->file << "\n";
    if (!s->notes.empty()) std::cout << s->notes << "\n";
    std::cout << '\n';
    PrintFigures(s->figures, catalog);
    for (const auto& t : s->network) {
      std::cout << "\nnetwork tier: " << t.name << "\n";
      PrintFigures(t.figures, catalog);
    }
    return 0;
  }
  if (const ModelEntry* m = catalog.FindModel(options.id)) return ShowModel(*m, catalog, options.json);
  if (const RuleSet* r = catalog.FindRuleSet(options.id)) {
    json cats = json::array();
    for (const auto& c : r->categories) {
      cats.push_back(json{{"id", c.id}, {"controlled", c.controlled ? json(*c.controlled) : json(nullptr)},
                          {"reason", c.reason}});
    }
    json j{{"kind", "rules"}, {"id", r->id}, {"name", r->name}, {"citation", r->citation},
           {"effective", r->effective}, {"status", RuleStatusName(r->status)}, {"sources", r->sources},
           {"notes", r->notes}, {"categories", cats}, {"file", r->file}};
    if (options.json) {
      PrintJson(j);
      return 0;
    }
    std::cout << r->name << " (" << r->id << ")\n" << r->citation << "; effective " << r->effective << "; "
              << RuleStatusName(r->status) << "\n\n" << r->notes << "\n\nCategories, checked in order:\n";
    for (const auto& c : r->categories) {
      std::cout << "  " << c.id << " [" << (c.controlled ? (*c.controlled ? "controlled" : "not controlled") : "?")
                << "]: " << c.reason << '\n';
    }
    return 0;
  }
  if (const Profile* p = catalog.FindProfile(options.id)) {
    if (options.json) {
      PrintJson(json{{"kind", "profile"}, {"id", p->id}, {"name", p->name}, {"tier", ProfileTierName(p->tier)},
                     {"arch_class", p->arch_class}, {"chips", p->chips}, {"extends", p->extends},
                     {"notes", p->notes}, {"file", p->file}, {"figures", FiguresJson(p->figures)}});
      return 0;
    }
    std::cout << p->name << " (" << p->id << "), tier " << ProfileTierName(p->tier);
    if (!p->arch_class.empty()) std::cout << "; default for " << p->arch_class;
    if (!p->extends.empty()) std::cout << "; extends " << p->extends;
    std::cout << "\nfile " << p->file << "\n\n";
    PrintFigures(p->figures, catalog);
    return 0;
  }
  if (const Source* s = catalog.FindSource(options.id)) {
    if (options.json) {
      PrintJson(json{{"kind", "source"}, {"id", s->id}, {"title", s->title}, {"locator", s->locator},
                     {"source_kind", s->kind}, {"date", s->date}});
    } else {
      std::cout << s->id << ": " << s->title << "\n" << s->locator << "\n";
    }
    return 0;
  }
  if (std::error_code ec; std::filesystem::is_regular_file(options.id, ec)) {
    // A config.json or catalog model file: what the importer made of it.
    auto m = catalog.LoadModelFile(options.id);
    if (!m) throw InputError(m.error());
    return ShowModel(*m, catalog, options.json);
  }
  auto close = catalog.Suggest(options.id);
  std::string hint;
  for (const auto& c : close) hint += (hint.empty() ? " (did you mean " : ", ") + ("'" + c + "'");
  if (!hint.empty()) hint += "?)";
  throw InputError("catalog show: no chip, system, model, rule set or source '" + options.id + "'" + hint);
}

int RunCatalogSchema(const CatalogSchemaOptions& options) {
  std::vector<RecordKind> kinds;
  const std::vector<std::pair<std::string, RecordKind>> names = {
      {"chips", RecordKind::kChip}, {"systems", RecordKind::kSystem}, {"models", RecordKind::kModel},
      {"rules", RecordKind::kRuleSet}, {"sources", RecordKind::kSource}, {"profiles", RecordKind::kProfile}};
  for (const auto& [name, kind] : names) {
    if (options.what.empty() || options.what == name || options.what + "s" == name) kinds.push_back(kind);
  }
  if (kinds.empty()) {
    throw InputError("catalog schema: unknown record type '" + options.what + "' (chips, systems, models, rules, sources)");
  }
  json out = json::object();
  for (RecordKind kind : kinds) {
    json fields = json::array();
    Table t;
    t.Column("key");
    t.Column("kind");
    t.Column("unit");
    t.Column("required");
    t.Column("default");
    t.Column("description");
    auto add = [&](const FieldSpec& f, const std::string& prefix) {
      const std::string key = prefix + std::string(f.key);
      std::string unit = f.kind == FieldKind::kFigure ? (f.dim == Dim{} ? "number" : DimName(f.dim) + " (e.g. " + std::string(DimExample(f.dim)) + ")") : "";
      std::string kind_name(FieldKindName(f.kind));
      if (f.kind == FieldKind::kEnum) {
        kind_name = "one of";
        for (auto c : f.choices) kind_name += " " + std::string(c);
      }
      fields.push_back(json{{"key", key}, {"kind", FieldKindName(f.kind)}, {"unit", unit}, {"required", f.required},
                            {"default", f.default_value}, {"description", f.description}});
      t.Row({key, kind_name, unit, f.required ? "yes" : "", std::string(f.default_value), std::string(f.description)});
    };
    for (const auto& f : SchemaFor(kind)) {
      add(f, "");
      for (const auto& sub : f.table) add(sub, std::string(f.key) + "[].");
    }
    if (options.json) {
      out[std::string(RecordKindName(kind))] = fields;
    } else {
      std::cout << RecordKindName(kind) << " fields (figures are {value, basis, source, range?, note?})\n";
      t.Print(std::cout);
      std::cout << '\n';
    }
  }
  if (options.json) PrintJson(out);
  return 0;
}

}  // namespace suanli::cli
