// Loading a catalog directory: parse every file, resolve `extends`, validate
// against the field tables, build typed records, check every reference.
// All problems are collected; the load fails if there is any.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <exception>
#include <functional>
#include <set>
#include <system_error>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "model/model_import.h"
#include "catalog/record.h"
#include "catalog/rules_parse.h"
#include "suanli/catalog/catalog.h"
#include "suanli/catalog/market.h"
#include "suanli/catalog/what_if.h"
#include "suanli/hardware/dispatch_curve.h"
#include "suanli/hardware/rank_curve.h"

namespace suanli {

// Raw chip trees after inheritance, so user files can extend catalog chips.
struct RawStore {
  std::map<std::string, RawNode, std::less<>> chips;
};

namespace fs = std::filesystem;

namespace {

// Keys a variant never inherits from its base.
constexpr std::string_view kNotInherited[] = {"id", "name", "aliases", "extends"};

bool IsFigureMap(const RawNode& n) { return n.IsMap() && n.Find("value") != nullptr; }

// Deep merge: `child` overrides `base`; a null in the child removes the key.
// Figures ({value: ...}) and lists are replaced whole, never merged.
RawNode Merge(const RawNode& base, const RawNode& child, bool top) {
  RawNode out;  // the child's header, without copying its subtree
  out.kind = child.kind;
  out.scalar = child.scalar;
  out.quoted = child.quoted;
  out.file = child.file;
  out.line = child.line;
  out.column = child.column;
  for (std::size_t i = 0; i < base.keys.size(); ++i) {
    const std::string& k = base.keys[i];
    if (top && std::find(std::begin(kNotInherited), std::end(kNotInherited), k) != std::end(kNotInherited)) continue;
    const RawNode* c = child.Find(k);
    if (c == nullptr) {
      out.keys.push_back(k);
      out.items.push_back(base.items[i]);
    } else if (c->IsNull()) {
      continue;  // explicitly unknown in the variant
    } else if (c->IsMap() && base.items[i].IsMap() && !IsFigureMap(*c) && !IsFigureMap(base.items[i])) {
      out.keys.push_back(k);
      out.items.push_back(Merge(base.items[i], *c, false));
    } else {
      out.keys.push_back(k);
      out.items.push_back(*c);
    }
  }
  for (std::size_t i = 0; i < child.keys.size(); ++i) {
    const bool own = top && std::find(std::begin(kNotInherited), std::end(kNotInherited), child.keys[i]) !=
                                std::end(kNotInherited);
    if ((own || base.Find(child.keys[i]) == nullptr) && !child.items[i].IsNull()) {
      out.keys.push_back(child.keys[i]);
      out.items.push_back(child.items[i]);
    }
  }
  return out;
}

std::vector<std::string> YamlFiles(const fs::path& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const auto ext = it->path().extension().string();
    if (ext == ".yaml" || ext == ".yml") files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

struct RawRecord {
  std::string id;
  RawNode node;  // as written
  RawNode merged;
  bool resolved = false;
};

// Runs `task` on its own thread (inline when none can be started); Join()
// waits for it and rethrows what it threw.
class SideTask {
 public:
  explicit SideTask(std::function<void()> task) : task_(std::move(task)) {
    try {
      thread_ = std::thread([this] { Run(); });
    } catch (const std::system_error&) {
      Run();
    }
  }
  SideTask(const SideTask&) = delete;
  SideTask& operator=(const SideTask&) = delete;
  ~SideTask() {
    if (thread_.joinable()) thread_.join();
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void Run() {
    try {
      task_();
    } catch (...) {
      error_ = std::current_exception();
    }
  }
  std::function<void()> task_;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace

class CatalogLoader {
 public:
  CatalogLoader(std::string dir, Catalog::Parts parts) : parts_(parts) { catalog_.dir_ = std::move(dir); }

  Result<Catalog> Run() {
    const fs::path root(catalog_.dir_);
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
      return Error(Diagnostic{.file = catalog_.dir_, .message = "catalog directory not found"});
    }
    auto folder = [&](RecordKind k) { return root / InfoFor(k).folder; };
    // The sources (about half the bytes) are read on a second thread while
    // this one reads the rest; only the reference check needs them.
    std::vector<Diagnostic> source_diags;
    SideTask sources([&] { LoadSources(folder(RecordKind::kSource), catalog_.sources_, source_diags); });
    std::map<std::string, RawRecord> chips, systems;
    if (!parts_.hardware.empty() && ReadHardware(root, chips, systems)) {
      partial_ = true;
    } else {
      chips = ReadRecords(folder(RecordKind::kChip), "chip");
      systems = ReadRecords(folder(RecordKind::kSystem), "system");
    }
    auto profiles = ReadRecords(folder(RecordKind::kProfile), "profile");
    ResolveAll(chips, "chip");
    ResolveAll(systems, "system");
    ResolveAll(profiles, "profile");
    auto store = std::make_shared<RawStore>();
    for (auto& [id, r] : chips) {
      if (!r.resolved) continue;
      if (auto chip = BuildChip(r.merged, diags_, "")) {
        catalog_.chips_.push_back(std::move(*chip));
        store->chips.emplace(id, std::move(r.merged));
      }
    }
    for (auto& [id, r] : systems) {
      if (r.resolved) BuildSystem(r.merged);
    }
    for (auto& [id, r] : profiles) {
      if (!r.resolved) continue;
      // A derived profile is for its own chips, not its base's class.
      const bool derived = r.merged.Find("extends") != nullptr;  // (r.node is kept only for derived records)
      for (std::string_view own : {"arch_class", "chips"}) {
        if (!derived || r.node.Find(own) != nullptr) continue;
        for (std::size_t i = 0; i < r.merged.keys.size(); ++i) {
          if (r.merged.keys[i] != own) continue;
          r.merged.keys.erase(r.merged.keys.begin() + std::ptrdiff_t(i));
          r.merged.items.erase(r.merged.items.begin() + std::ptrdiff_t(i));
          break;
        }
      }
      // A profile that measures its own all-reduce figure and no curve by
      // group size is not priced on its base's curve.
      if (derived) DropInheritedCurve(r.node, r.merged);
      BuildProfile(r.merged);
    }
    // Free the raw trees before the models are read: less memory touched, faster start.
    chips.clear();
    systems.clear();
    profiles.clear();
    if (parts_.models) {
      for (const auto& file : YamlFiles(folder(RecordKind::kModel))) LoadModel(file);
    }
    if (parts_.rules) {
      for (const auto& file : YamlFiles(folder(RecordKind::kRuleSet))) LoadRules(file);
    }
    for (const auto& file : YamlFiles(folder(RecordKind::kStack))) LoadStack(file);
    for (RecordKind k : {RecordKind::kPrice, RecordKind::kFacility, RecordKind::kFx}) {
      for (const auto& file : YamlFiles(folder(k))) LoadMarket(file, k);
    }
    sources.Join();
    diags_.insert(diags_.begin(), source_diags.begin(), source_diags.end());  // sources' problems first, as read
    CheckReferences();
    catalog_.raw_ = std::move(store);
    if (!diags_.empty()) return Error(Dedupe(std::move(diags_)));
    auto by_id = [](const auto& a, const auto& b) { return a.id < b.id; };
    std::sort(catalog_.chips_.begin(), catalog_.chips_.end(), by_id);
    std::sort(catalog_.systems_.begin(), catalog_.systems_.end(), by_id);
    std::sort(catalog_.models_.begin(), catalog_.models_.end(), by_id);
    std::sort(catalog_.rules_.begin(), catalog_.rules_.end(), by_id);
    std::sort(catalog_.profiles_.begin(), catalog_.profiles_.end(), by_id);
    std::sort(catalog_.stacks_.begin(), catalog_.stacks_.end(), by_id);
    std::sort(catalog_.prices_.begin(), catalog_.prices_.end(), by_id);
    std::sort(catalog_.facilities_.begin(), catalog_.facilities_.end(), by_id);
    std::sort(catalog_.fx_.begin(), catalog_.fx_.end(), by_id);
    return std::move(catalog_);
  }

  // Builds a chip from a validated, merged tree.
  static std::optional<Chip> BuildChip(const RawNode& node, std::vector<Diagnostic>& diags, const std::string& file) {
    const std::size_t before = diags.size();
    Record rec;
    ValidateRecord(node, SchemaFor(RecordKind::kChip), "", rec, diags);
    if (diags.size() != before) return std::nullopt;
    Chip c;
    c.id = rec.String("id");
    c.name = rec.String("name");
    c.vendor = rec.String("vendor");
    c.aliases = rec.lists["aliases"];
    c.extends = rec.String("extends");
    const std::string status = rec.String("status", "released");
    c.status = status == "announced" ? ChipStatus::kAnnounced
               : status == "rumoured" ? ChipStatus::kRumoured
                                      : ChipStatus::kReleased;
    c.datacenter = rec.bools.contains("datacenter") ? rec.bools["datacenter"] : true;
    c.architecture = rec.String("architecture");
    c.arch_class = rec.String("arch_class");
    c.notes = rec.String("notes");
    c.figures = std::move(rec.figures);
    c.file = !file.empty() ? file : (node.file ? *node.file : "");
    if (const Figure* f = c.Find("dies"); f != nullptr && (f->value < 1 || f->value != std::floor(f->value))) {
      diags.push_back(Diagnostic{.file = f->file.empty() ? c.file : f->file, .line = f->line, .column = 0, .key_path = "dies.value",
                                 .message = fmt::format("must be a whole number of dies (1 to 16), found {:g}", f->value)});
      return std::nullopt;
    }
    return c;
  }

  // Reads `path` as a chip, possibly extending a chip of `catalog`.
  static Result<Chip> LoadChipFile(const Catalog& catalog, const std::string& path, std::vector<std::string>* warnings) {
    auto parsed = ParseFile(path);
    if (!parsed) return std::move(parsed).error();
    RawNode node = std::move(*parsed);
    std::vector<Diagnostic> diags;
    if (!node.IsMap()) return Error(node.At("", "a chip file is a map of fields"));
    if (const RawNode* key = node.Find("chips_per_node"); key != nullptr) {
      return Error(key->At("chips_per_node",
                           "this is a system file; a file given as hardware must be a chip. Put systems in a "
                           "catalog directory's systems/ (copy the built-in catalog, pass it with --catalog)"));
    }
    if (const RawNode* ext = node.Find("extends"); ext != nullptr && ext->IsScalar()) {
      const Chip* base = catalog.FindChip(ext->scalar);
      if (base == nullptr && catalog.FindSystem(ext->scalar) != nullptr) {
        return Error(ext->At("extends", "'" + ext->scalar + "' is a system; a chip file can extend only a chip"));
      }
      if (base == nullptr || !catalog.raw_ || !catalog.raw_->chips.contains(base->id)) {
        std::vector<std::string> ids;
        for (const auto& c : catalog.chips()) ids.push_back(c.id);
        return Error(ext->At("extends", "no chip '" + ext->scalar + "' to extend" + DidYouMean(ext->scalar, ids)));
      }
      node = Merge(catalog.raw_->chips.find(base->id)->second, node, true);
    }
    auto chip = BuildChip(node, diags, path);
    if (!chip) return Error(Dedupe(std::move(diags)));
    if (warnings != nullptr) {
      for (const auto& [key, fig] : chip->figures) {
        for (const auto& s : fig.sources) {
          if (catalog.FindSource(s) == nullptr) {
            warnings->push_back(path + ": " + key + ": source '" + s + "' is not in the catalog's sources");
          }
        }
      }
    }
    return std::move(*chip);
  }

  // `base` with figures replaced, built as LoadChipFile builds a chip file
  // that extends it, from a tree made here (what_if.h).
  static Result<Chip> ChipWithOverrides(const Catalog& catalog, std::string_view base_id, std::string id,
                                        std::string name, std::span<const FigureOverride> overrides) {
    const Chip* base = catalog.FindChip(base_id);
    if (base == nullptr || !catalog.raw_ || !catalog.raw_->chips.contains(base->id)) {
      std::vector<std::string> ids;
      for (const auto& c : catalog.chips()) ids.push_back(c.id);
      return Error::NotFound(Diagnostic{.key_path = "chip.base", .message = "no chip '" + std::string(base_id) +
                                                                            "' to extend" + DidYouMean(base_id, ids)});
    }
    if (id.empty()) id = base->id + "-what-if";
    const auto where = std::make_shared<const std::string>("what-if chip " + id);
    auto scalar = [&where](std::string text, bool quoted) {
      RawNode n;
      n.kind = RawNode::Kind::kScalar;
      n.scalar = std::move(text);
      n.quoted = quoted;
      n.file = where;
      return n;
    };
    auto map = [&where] {
      RawNode n;
      n.kind = RawNode::Kind::kMap;
      n.file = where;
      return n;
    };
    auto put = [](RawNode& into, std::string key, RawNode value) -> RawNode& {
      into.keys.push_back(std::move(key));
      into.items.push_back(std::move(value));
      return into.items.back();
    };
    RawNode node = map();
    put(node, "id", scalar(id, true));
    put(node, "extends", scalar(base->id, true));
    put(node, "name", scalar(name.empty() ? base->name + " (what-if)" : std::move(name), true));
    for (const FigureOverride& o : overrides) {
      RawNode* at = &node;
      std::size_t start = 0;
      while (true) {
        const std::size_t dot = o.key.find('.', start);
        const std::string part = o.key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (part.empty()) {
          return Error(Diagnostic{.file = *where, .key_path = "chip." + o.key,
                                  .message = "expected a figure's dotted key, e.g. compute.fp8"});
        }
        if (dot == std::string::npos) {
          if (at->Find(part) != nullptr) {
            return Error(Diagnostic{.file = *where, .key_path = "chip." + o.key, .message = "given twice"});
          }
          RawNode figure = map();
          put(figure, "value", scalar(o.value, true));
          put(figure, "basis", scalar("estimated", false));
          RawNode sources;
          sources.kind = RawNode::Kind::kSequence;
          sources.file = where;
          sources.items.push_back(scalar("WHAT_IF", false));
          put(figure, "source", std::move(sources));
          put(figure, "note", scalar("a what-if figure", true));
          put(*at, part, std::move(figure));
          break;
        }
        RawNode* next = at->Find(part);
        if (next == nullptr) next = &put(*at, part, map());
        if (!next->IsMap() || IsFigureMap(*next)) {
          return Error(Diagnostic{.file = *where, .key_path = "chip." + o.key,
                                  .message = "'" + o.key.substr(0, dot) + "' is a figure, not a section"});
        }
        at = next;
        start = dot + 1;
      }
    }
    node = Merge(catalog.raw_->chips.find(base->id)->second, node, true);
    std::vector<Diagnostic> diags;
    auto chip = BuildChip(node, diags, *where);
    if (!chip) {
      for (auto& d : diags) {
        if (!d.key_path.empty()) d.key_path = "chip." + d.key_path;
      }
      return Error(Dedupe(std::move(diags)));
    }
    return std::move(*chip);
  }

  static Result<ModelArch> ImportConfigFile(const RawNode& node) { return ImportHfConfig(node, ""); }

  static std::vector<Diagnostic> Dedupe(std::vector<Diagnostic> diags) {
    std::vector<Diagnostic> out;
    for (auto& d : diags) {
      if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(std::move(d));
    }
    return out;
  }

  static std::optional<ModelEntry> BuildModel(const RawNode& node, std::vector<Diagnostic>& diags) {
    const std::size_t before = diags.size();
    Record rec;
    ValidateRecord(node, SchemaFor(RecordKind::kModel), "", rec, diags);
    if (diags.size() != before) return std::nullopt;
    ModelEntry m;
    m.id = rec.String("id");
    m.name = rec.String("name");
    m.aliases = rec.lists["aliases"];
    m.sources = rec.lists["source"];
    m.notes = rec.String("notes");
    m.published = std::move(rec.figures);
    m.file = node.file ? *node.file : "";
    auto arch = ImportHfConfig(*rec.trees["config"], "config");
    if (!arch) {
      diags.insert(diags.end(), arch.error().diagnostics.begin(), arch.error().diagnostics.end());
      return std::nullopt;
    }
    m.arch = std::move(*arch);
    return m;
  }

 private:
  void Add(const Diagnostic& d) { diags_.push_back(d); }
  void Add(const Error& e) { diags_.insert(diags_.end(), e.diagnostics.begin(), e.diagnostics.end()); }

  // The sources, read into `out` with their problems in `diags`. Touches
  // nothing else of the loader, so it may run beside the other readers.
  static void LoadSources(const fs::path& dir, std::map<std::string, Source, std::less<>>& out,
                          std::vector<Diagnostic>& diags) {
    for (const auto& file : YamlFiles(dir)) {
      auto parsed = ParseFile(file);
      if (!parsed) {
        diags.insert(diags.end(), parsed.error().diagnostics.begin(), parsed.error().diagnostics.end());
        continue;
      }
      const RawNode& root = *parsed;
      if (root.IsNull()) continue;
      if (!root.IsMap()) {
        diags.push_back(root.At("", "a sources file maps source ids to {title, locator, kind, date}"));
        continue;
      }
      for (std::size_t i = 0; i < root.keys.size(); ++i) {
        const std::string& id = root.keys[i];
        Record rec;
        const std::size_t before = diags.size();
        ValidateRecord(root.items[i], SchemaFor(RecordKind::kSource), id, rec, diags);
        if (diags.size() != before) continue;
        if (auto it = out.find(id); it != out.end()) {
          diags.push_back(root.items[i].At(id, "duplicate source id '" + id + "' (first defined in " + it->second.file + ")"));
          continue;
        }
        out[id] = Source{.id = id, .title = rec.String("title"), .locator = rec.String("locator"),
                         .kind = rec.String("kind"), .date = rec.String("date"), .file = file};
      }
    }
  }

  // Reads only the named chips and systems, the chips the systems name and
  // every base they extend, finding each by file name. False (nothing read)
  // when a name has no file of its own.
  bool ReadHardware(const fs::path& root, std::map<std::string, RawRecord>& chips,
                    std::map<std::string, RawRecord>& systems) {
    std::map<std::string, std::string> chip_files, system_files;
    for (const auto& f : YamlFiles(root / InfoFor(RecordKind::kChip).folder)) chip_files.emplace(fs::path(f).stem().string(), f);
    for (const auto& f : YamlFiles(root / InfoFor(RecordKind::kSystem).folder)) {
      system_files.emplace(fs::path(f).stem().string(), f);
    }
    std::vector<std::string> want_chips, want_systems;
    for (const auto& name : parts_.hardware) {
      if (system_files.contains(name)) {
        want_systems.push_back(name);
      } else if (chip_files.contains(name)) {
        want_chips.push_back(name);
      } else {
        return false;
      }
    }
    const std::size_t before = diags_.size();
    auto read_closure = [&](std::vector<std::string> todo, const std::map<std::string, std::string>& files,
                            std::string_view what, std::map<std::string, RawRecord>& out) {
      while (!todo.empty()) {
        const std::string name = todo.back();
        todo.pop_back();
        if (out.contains(name)) continue;
        auto it = files.find(name);
        if (it == files.end()) return false;
        auto read = ReadRecords(std::vector<std::string>{it->second}, what);
        if (read.size() != 1 || read.begin()->first != name) return false;
        RawRecord& r = read.begin()->second;
        if (const RawNode* ext = r.node.Find("extends"); ext != nullptr && ext->IsScalar()) todo.push_back(ext->scalar);
        if (const RawNode* chip = r.node.Find("chip"); chip != nullptr && chip->IsScalar()) want_chips.push_back(chip->scalar);
        out.emplace(name, std::move(r));
      }
      return true;
    };
    if (!read_closure(want_systems, system_files, "system", systems) ||
        !read_closure(want_chips, chip_files, "chip", chips) || diags_.size() != before) {
      diags_.resize(before);
      chips.clear();
      systems.clear();
      return false;
    }
    return true;
  }

  std::map<std::string, RawRecord> ReadRecords(const fs::path& dir, std::string_view what) {
    return ReadRecords(YamlFiles(dir), what);
  }

  std::map<std::string, RawRecord> ReadRecords(const std::vector<std::string>& files, std::string_view what) {
    std::map<std::string, RawRecord> out;
    for (const auto& file : files) {
      auto parsed = ParseFile(file);
      if (!parsed) {
        Add(parsed.error());
        continue;
      }
      RawNode& node = *parsed;
      if (!node.IsMap()) {
        Add(node.At("", "a " + std::string(what) + " file is a map of fields, found " + std::string(node.KindName())));
        continue;
      }
      const RawNode* id = node.Find("id");
      if (id == nullptr || !id->IsScalar() || id->scalar.empty()) {
        Add(node.At("id", "missing required field 'id'"));
        continue;
      }
      if (auto it = out.find(id->scalar); it != out.end()) {
        Add(id->At("id", "duplicate " + std::string(what) + " id '" + id->scalar + "' (also in " +
                             *it->second.node.file + ")"));
        continue;
      }
      out[id->scalar] = RawRecord{.id = id->scalar, .node = std::move(node), .merged = {}, .resolved = false};
    }
    return out;
  }

  void ResolveAll(std::map<std::string, RawRecord>& records, std::string_view what) {
    for (auto& [id, r] : records) {
      std::vector<std::string> stack;
      Resolve(records, id, what, stack);
    }
  }

  bool Resolve(std::map<std::string, RawRecord>& records, const std::string& id, std::string_view what,
               std::vector<std::string>& stack) {
    RawRecord& r = records.at(id);
    if (r.resolved) return true;
    if (std::find(stack.begin(), stack.end(), id) != stack.end()) {
      std::string cycle;
      for (const auto& s : stack) cycle += s + " -> ";
      Add(r.node.Find("extends")->At("extends", "cycle of extends: " + cycle + id));
      return false;
    }
    const RawNode* ext = r.node.Find("extends");
    if (ext == nullptr || ext->IsNull()) {
      r.merged = std::move(r.node);  // the tree as written is no longer needed
      r.resolved = true;
      return true;
    }
    if (!ext->IsScalar()) {
      Add(ext->At("extends", "expected the id of a base " + std::string(what)));
      return false;
    }
    auto base = records.find(ext->scalar);
    if (base == records.end()) {
      std::vector<std::string> ids;
      for (const auto& [k, v] : records) ids.push_back(k);
      const std::string close = DidYouMean(ext->scalar, ids);
      Add(ext->At("extends", "no " + std::string(what) + " '" + ext->scalar + "' to extend" +
                                 close));
      return false;
    }
    stack.push_back(id);
    const bool ok = Resolve(records, ext->scalar, what, stack);
    stack.pop_back();
    if (!ok) return false;
    r.merged = Merge(base->second.merged, r.node, true);
    r.resolved = true;
    return true;
  }

  void BuildSystem(const RawNode& node) {
    Record rec;
    const std::size_t before = diags_.size();
    ValidateRecord(node, SchemaFor(RecordKind::kSystem), "", rec, diags_);
    if (diags_.size() != before) return;
    System s;
    s.id = rec.String("id");
    s.name = rec.String("name");
    s.vendor = rec.String("vendor");
    s.aliases = rec.lists["aliases"];
    s.extends = rec.String("extends");
    s.chip = rec.String("chip");
    s.notes = rec.String("notes");
    s.figures = std::move(rec.figures);
    for (auto& row : rec.tables["network"]) {
      s.network.push_back(NetworkTier{.name = row.String("name"), .figures = std::move(row.figures)});
    }
    s.file = node.file ? *node.file : "";
    s.rank = rec.String("rank", "package") == "die" ? DeviceRank::kDie : DeviceRank::kPackage;
    if (const RawNode* chip = rec.nodes["chip"]; chip != nullptr) chip_refs_.emplace_back(s.chip, chip->At("chip", ""));
    catalog_.systems_.push_back(std::move(s));
  }

  static void DropInheritedCurve(const RawNode& own, RawNode& merged) {
    const RawNode* own_collective = own.Find("collective");
    if (own_collective == nullptr || !own_collective->IsMap() || own_collective->Find("allreduce_efficiency") == nullptr ||
        own_collective->Find("allreduce_by_ranks") != nullptr) {
      return;
    }
    RawNode* collective = merged.Find("collective");
    if (collective == nullptr || !collective->IsMap()) return;
    for (std::size_t i = 0; i < collective->keys.size(); ++i) {
      if (collective->keys[i] != "allreduce_by_ranks") continue;
      collective->keys.erase(collective->keys.begin() + std::ptrdiff_t(i));
      collective->items.erase(collective->items.begin() + std::ptrdiff_t(i));
      return;
    }
  }

  void BuildProfile(const RawNode& node) {
    Record rec;
    const std::size_t before = diags_.size();
    ValidateRecord(node, SchemaFor(RecordKind::kProfile), "", rec, diags_);
    Profile p;
    p.figures = std::move(rec.figures);
    for (auto [key, out] : {std::pair{"gemm.sweep", &p.gemm_sweep}, std::pair{"gemm.sweep_fp8", &p.gemm_sweep_fp8}}) {
      const Figure* f = p.Find(key);
      std::string error;
      if (f != nullptr && !ParseGemmSweep(f->text, *out, error)) {
        Add(Diagnostic{.file = f->file, .line = f->line, .key_path = std::string(key) + ".value", .message = error});
      }
    }
    if (const Figure* f = p.Find("collective.allreduce_by_ranks"); f != nullptr) {
      RankCurve curve;
      std::string error;
      if (!ParseRankCurve(f->text, kAllReduceEfficiencyMax, curve, error)) {
        Add(Diagnostic{.file = f->file, .line = f->line, .key_path = "collective.allreduce_by_ranks.value", .message = error});
      }
    }
    for (const char* key : {"expert_dispatch.normal_intranode", "expert_dispatch.normal_internode", "expert_dispatch.low_latency"}) {
      const Figure* f = p.Find(key);
      DispatchCurve curve;
      std::string error;
      if (f != nullptr && !ParseDispatchCurve(f->text, curve, error)) {
        Add(Diagnostic{.file = f->file, .line = f->line, .key_path = std::string(key) + ".value", .message = error});
      }
      if (f != nullptr && (!p.Get("expert_dispatch.scale_up") || !p.Get("expert_dispatch.scale_out"))) {
        Add(Diagnostic{.file = f->file, .line = f->line, .key_path = key,
                       .message = "a measured dispatch curve needs expert_dispatch.scale_up and expert_dispatch.scale_out, "
                                  "the links it was measured on"});
      }
    }
    if (diags_.size() != before) return;
    p.id = rec.String("id");
    p.name = rec.String("name");
    p.extends = rec.String("extends");
    p.arch_class = rec.String("arch_class");
    p.chips = rec.lists["chips"];
    const std::string tier = rec.String("tier");
    p.tier = tier == "measured" ? ProfileTier::kMeasured
             : tier == "calibrated" ? ProfileTier::kCalibrated
                                    : ProfileTier::kDatasheet;
    p.notes = rec.String("notes");
    p.dispatch_rank = rec.String("expert_dispatch.rank", "package") == "die" ? DeviceRank::kDie : DeviceRank::kPackage;
    for (auto& row : rec.tables["releases"]) {
      p.releases.push_back(ProfileRelease{.framework = row.String("framework"), .version = row.String("version"),
                                          .notes = row.String("notes"), .figures = std::move(row.figures)});
    }
    p.file = node.file ? *node.file : "";
    for (const auto& c : p.chips) chip_refs_.emplace_back(c, rec.nodes["chips"]->At("chips", ""));
    catalog_.profiles_.push_back(std::move(p));
  }

  void LoadModel(const std::string& file) {
    auto parsed = ParseFile(file);
    if (!parsed) {
      Add(parsed.error());
      return;
    }
    auto model = BuildModel(*parsed, diags_);
    if (!model) return;
    for (const auto& m : catalog_.models_) {
      if (m.id == model->id) {
        Add(parsed->Find("id")->At("id", "duplicate model id '" + m.id + "' (also in " + m.file + ")"));
        return;
      }
    }
    for (const auto& s : model->sources) source_refs_.push_back({s, parsed->At("source", "")});
    for (const auto& [k, fig] : model->published) {
      for (const auto& s : fig.sources) source_refs_.push_back({s, Diagnostic{.file = fig.file, .line = fig.line, .key_path = k}});
    }
    catalog_.models_.push_back(std::move(*model));
  }

  // Parses `file` and validates it as one record of `kind`; false (with the
  // problems added) when either fails.
  bool ReadRecord(const std::string& file, RecordKind kind, std::optional<RawNode>& parsed, Record& rec) {
    auto node = ParseFile(file);
    if (!node) {
      Add(node.error());
      return false;
    }
    parsed = std::move(*node);
    const std::size_t before = diags_.size();
    ValidateRecord(*parsed, SchemaFor(kind), "", rec, diags_);
    return diags_.size() == before;
  }

  void LoadRules(const std::string& file) {
    std::optional<RawNode> parsed;
    Record rec;
    if (!ReadRecord(file, RecordKind::kRuleSet, parsed, rec)) return;
    auto rules = BuildRuleSet(rec, file, diags_);
    if (!rules) return;
    for (const auto& s : rules->sources) source_refs_.push_back({s, parsed->At("sources", "")});
    for (const auto& r : catalog_.rules_) {
      if (r.id == rules->id) {
        Add(parsed->At("id", "duplicate rule set id '" + r.id + "' (also in " + r.file + ")"));
        return;
      }
    }
    catalog_.rules_.push_back(std::move(*rules));
  }

  void LoadStack(const std::string& file) {
    std::optional<RawNode> parsed;
    Record rec;
    if (!ReadRecord(file, RecordKind::kStack, parsed, rec)) return;
    Stack s;
    s.id = rec.String("id");
    s.name = rec.String("name");
    s.kind = rec.String("kind") == "training" ? StackKind::kTraining : StackKind::kServing;
    s.is_default = rec.bools.contains("default") && rec.bools["default"];
    s.fused_residual_norm = rec.String("kernels.norms") == "fused_residual";
    s.sources = rec.lists["sources"];
    s.notes = rec.String("notes");
    s.figures = std::move(rec.figures);
    s.file = file;
    if (s.kind == StackKind::kServing && !s.Get("scheduler.max_num_tokens")) {
      Add(parsed->At("scheduler.max_num_tokens", "a serving stack needs scheduler.max_num_tokens"));
      return;
    }
    for (const auto& other : catalog_.stacks_) {
      if (other.id == s.id) {
        Add(parsed->At("id", "duplicate stack id '" + s.id + "' (also in " + other.file + ")"));
        return;
      }
      if (other.kind == s.kind && other.is_default && s.is_default) {
        Add(parsed->At("default", "two default " + std::string(StackKindName(s.kind)) + " stacks: '" + other.id +
                                      "' and '" + s.id + "'"));
        return;
      }
    }
    for (const auto& src : s.sources) source_refs_.push_back({src, parsed->At("sources", "")});
    catalog_.stacks_.push_back(std::move(s));
  }

  // A price, facility or exchange-rate record: one file, one record.
  void LoadMarket(const std::string& file, RecordKind kind) {
    std::optional<RawNode> parsed;
    Record rec;
    if (!ReadRecord(file, kind, parsed, rec)) return;
    MarketRecord m;
    m.kind = kind;
    m.id = rec.String("id");
    m.name = rec.String("name");
    m.subject = rec.String("subject");
    m.price_kind = rec.String("kind");
    m.region = rec.String("region");
    m.date = rec.String("date");
    m.notes = rec.String("notes");
    m.figures = std::move(rec.figures);
    m.file = file;
    const std::size_t before = diags_.size();
    if (!IsIsoDate(m.date)) Add(rec.nodes["date"]->At("date", "expected a date YYYY-MM-DD, found '" + m.date + "'"));
    auto one_of = [&](std::string_view a, std::string_view b, std::string_view what) {
      const bool has_a = m.figures.contains(a), has_b = m.figures.contains(b);
      if (has_a == has_b) {
        Add(parsed->At(std::string(has_a ? b : what), has_a ? "give " + std::string(a) + " or " + std::string(b) + ", not both"
                                                             : "missing " + std::string(what) + ": give " + std::string(a) +
                                                                   " or " + std::string(b)));
      }
    };
    if (kind == RecordKind::kPrice) one_of("usd", "cny", "price");
    if (kind == RecordKind::kFacility) {
      one_of("electricity.usd", "electricity.cny", "electricity");
      if (m.figures.contains("hosting.usd") && m.figures.contains("hosting.cny")) {
        Add(parsed->At("hosting.cny", "give hosting.usd or hosting.cny, not both"));
      }
    }
    if (diags_.size() != before) return;
    auto& list = kind == RecordKind::kPrice ? catalog_.prices_ : kind == RecordKind::kFacility ? catalog_.facilities_ : catalog_.fx_;
    for (const auto& other : list) {
      if (EqualsIgnoreCase(other.id, m.id)) {
        Add(parsed->At("id", "duplicate " + std::string(RecordKindName(kind)) + " id '" + m.id + "' (also in " + other.file + ")"));
        return;
      }
    }
    if (kind == RecordKind::kPrice) subject_refs_.emplace_back(m.subject, rec.nodes["subject"]->At("subject", ""));
    list.push_back(std::move(m));
  }

  void CheckReferences() {
    // The chip or system each price names (a partial load has only some).
    for (auto& [id, where] : subject_refs_) {
      if (partial_ || catalog_.FindChip(id) != nullptr || catalog_.FindSystem(id) != nullptr) continue;
      std::vector<std::string> ids;
      for (const auto& c : catalog_.chips_) ids.push_back(c.id);
      for (const auto& x : catalog_.systems_) ids.push_back(x.id);
      where.message = "no chip or system '" + id + "' in the catalog" + DidYouMean(id, ids);
      Add(where);
    }
    for (const auto* list : {&catalog_.prices_, &catalog_.facilities_, &catalog_.fx_}) {
      for (const auto& r : *list) {
        for (const auto& [key, fig] : r.figures) {
          for (const auto& src : fig.sources) {
            if (!catalog_.sources_.contains(src)) {
              source_refs_.push_back({src, Diagnostic{.file = fig.file, .line = fig.line, .key_path = key}});
            }
          }
        }
      }
    }
    // Chips a system or a profile names (a partial load has only some chips).
    for (auto& [id, where] : chip_refs_) {
      if (partial_ || catalog_.FindChip(id) != nullptr) continue;
      std::vector<std::string> ids;
      for (const auto& c : catalog_.chips_) ids.push_back(c.id);
      const std::string close = DidYouMean(id, ids);
      where.message = "no chip '" + id + "' in the catalog" + close;
      Add(where);
    }
    // Chips a profile names; each chip and each class has at most one profile.
    std::map<std::string, std::string> chip_profile, class_profile;
    for (const auto& p : catalog_.profiles_) {
      if (!p.arch_class.empty() && !class_profile.emplace(p.arch_class, p.id).second) {
        Add(Diagnostic{.file = p.file, .key_path = "arch_class",
                       .message = "arch_class '" + p.arch_class + "' already has profile '" + class_profile[p.arch_class] + "'"});
      }
      for (const auto& c : p.chips) {
        if (!chip_profile.emplace(c, p.id).second && chip_profile[c] != p.id) {
          Add(Diagnostic{.file = p.file, .key_path = "chips",
                         .message = "chip '" + c + "' already has profile '" + chip_profile[c] + "'"});
        }
      }
    }
    // Sources every figure cites.
    auto check_figures = [&](const FigureMap& figures, const std::string& prefix) {
      for (const auto& [key, fig] : figures) {
        for (const auto& s : fig.sources) {
          if (catalog_.sources_.contains(s)) continue;  // the common case: no diagnostic to build
          source_refs_.push_back({s, Diagnostic{.file = fig.file, .line = fig.line, .key_path = prefix + key}});
        }
      }
    };
    for (const auto& c : catalog_.chips_) check_figures(c.figures, "");
    for (const auto& p : catalog_.profiles_) {
      check_figures(p.figures, "");
      for (std::size_t i = 0; i < p.releases.size(); ++i) {
        check_figures(p.releases[i].figures, "releases[" + std::to_string(i) + "].");
      }
    }
    for (const auto& s : catalog_.stacks_) check_figures(s.figures, "");
    for (const auto& s : catalog_.systems_) {
      check_figures(s.figures, "");
      for (std::size_t i = 0; i < s.network.size(); ++i) {
        check_figures(s.network[i].figures, "network[" + std::to_string(i) + "].");
      }
    }
    std::vector<std::string> source_ids;
    for (const auto& [id, s] : catalog_.sources_) source_ids.push_back(id);
    for (auto& [id, where] : source_refs_) {
      if (catalog_.sources_.contains(id)) continue;
      const std::string close = DidYouMean(id, source_ids);
      where.message = "unknown source '" + id + "'" + close;
      Add(where);
    }
    // Ids and aliases must be unambiguous across chips and systems.
    std::map<std::string, std::string> names;
    auto claim = [&](const std::string& name, const std::string& owner, const std::string& file) {
      std::string key = name;
      std::transform(key.begin(), key.end(), key.begin(), [](unsigned char ch) { return std::tolower(ch); });
      auto [it, fresh] = names.emplace(key, owner);
      if (!fresh && it->second != owner) {
        Add(Diagnostic{.file = file, .key_path = "aliases",
                       .message = "name '" + name + "' is used by both " + it->second + " and " + owner});
      }
    };
    for (const auto& c : catalog_.chips_) {
      claim(c.id, "chip " + c.id, c.file);
      for (const auto& a : c.aliases) claim(a, "chip " + c.id, c.file);
    }
    for (const auto& s : catalog_.systems_) {
      claim(s.id, "system " + s.id, s.file);
      for (const auto& a : s.aliases) claim(a, "system " + s.id, s.file);
    }
  }

  Catalog catalog_;
  Catalog::Parts parts_;
  bool partial_ = false;  // only some chips and systems were read
  std::vector<Diagnostic> diags_;
  std::vector<std::pair<std::string, Diagnostic>> chip_refs_;  // chip ids named by systems and profiles, and where
  std::vector<std::pair<std::string, Diagnostic>> source_refs_;
  std::vector<std::pair<std::string, Diagnostic>> subject_refs_;  // chips or systems prices name
};

Result<Catalog> Catalog::Load(const std::string& dir, Parts parts) { return CatalogLoader(dir, parts).Run(); }

Result<Chip> Catalog::LoadChipFile(const std::string& path, std::vector<std::string>* warnings) const {
  return CatalogLoader::LoadChipFile(*this, path, warnings);
}

Result<Chip> ChipWithOverrides(const Catalog& catalog, std::string_view base, std::string id, std::string name,
                               std::span<const FigureOverride> overrides) {
  return CatalogLoader::ChipWithOverrides(catalog, base, std::move(id), std::move(name), overrides);
}

Result<ModelEntry> Catalog::LoadModelFile(const std::string& path) const {
  auto parsed = ParseFile(path);
  if (!parsed) return std::move(parsed).error();
  const RawNode& node = *parsed;
  std::vector<Diagnostic> diags;
  if (node.IsMap() && node.Find("config") != nullptr && node.Find("model_type") == nullptr) {
    auto model = CatalogLoader::BuildModel(node, diags);
    if (!model) return Error(CatalogLoader::Dedupe(std::move(diags)));
    return std::move(*model);
  }
  auto arch = ImportHfConfig(node, "");
  if (!arch) return std::move(arch).error();
  ModelEntry m;
  m.id = fs::path(path).stem().string();
  m.name = m.id;
  m.file = path;
  m.arch = std::move(*arch);
  return m;
}

}  // namespace suanli
