// Catalog lookups, names and small helpers.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "suanli/catalog/catalog.h"
#include "suanli/core/text.h"

namespace suanli {
namespace {

template <typename T>
const T* FindByIdOrAlias(const std::vector<T>& items, std::string_view id) {
  for (const auto& item : items) {
    if (EqualsIgnoreCase(item.id, id)) return &item;
  }
  for (const auto& item : items) {
    for (const auto& alias : item.aliases) {
      if (EqualsIgnoreCase(alias, id)) return &item;
    }
  }
  return nullptr;
}

}  // namespace

std::string_view BasisName(Basis b) {
  switch (b) {
    case Basis::kDatasheet: return "datasheet";
    case Basis::kMeasured: return "measured";
    case Basis::kEstimated: return "estimated";
    case Basis::kRumoured: return "rumoured";
  }
  return "?";
}

std::string_view ChipStatusName(ChipStatus s) {
  switch (s) {
    case ChipStatus::kReleased: return "released";
    case ChipStatus::kAnnounced: return "announced";
    case ChipStatus::kRumoured: return "rumoured";
  }
  return "?";
}

std::string_view DtypeName(Dtype t) {
  switch (t) {
    case Dtype::kFp64: return "fp64";
    case Dtype::kFp32: return "fp32";
    case Dtype::kTf32: return "tf32";
    case Dtype::kBf16: return "bf16";
    case Dtype::kFp16: return "fp16";
    case Dtype::kFp8: return "fp8";
    case Dtype::kInt8: return "int8";
    case Dtype::kInt4: return "int4";
    case Dtype::kFp4: return "fp4";
  }
  return "?";
}

std::optional<Dtype> ParseDtype(std::string_view name) {
  for (int i = 0; i < kDtypeCount; ++i) {
    const auto t = static_cast<Dtype>(i);
    if (EqualsIgnoreCase(DtypeName(t), name)) return t;
  }
  return std::nullopt;
}

std::string FormatFigureValue(const Figure& f) {
  if (f.is_text) return f.text;
  const DisplayUnit u = DisplayUnitFor(f.dim);
  std::string num;
  for (const double item : FigureValues(f)) {
    const double v = item / u.divisor;
    num += (num.empty() ? "" : ", ") + ((std::fabs(v) >= 1e6 || (std::fabs(v) < 1e-3 && v != 0)) ? fmt::format("{:.4g}", v)
                                                                                                   : fmt::format("{:.6g}", v));
  }
  return u.name.empty() ? num : num + " " + std::string(u.name);
}

std::vector<double> FigureValues(const Figure& f) {
  if (!f.values.empty()) return f.values;
  return {f.value};
}

const Figure* FindFigure(const FigureMap& figures, std::string_view path) {
  auto it = figures.find(path);
  return it == figures.end() ? nullptr : &it->second;
}

std::optional<double> FigureValue(const FigureMap& figures, std::string_view path) {
  const Figure* f = FindFigure(figures, path);
  if (f == nullptr || f->is_text) return std::nullopt;
  return f->value;
}

const Figure* Chip::Find(std::string_view path) const { return FindFigure(figures, path); }
std::optional<double> Chip::Get(std::string_view path) const { return FigureValue(figures, path); }
const Figure* System::Find(std::string_view path) const { return FindFigure(figures, path); }
std::optional<double> System::Get(std::string_view path) const { return FigureValue(figures, path); }
const Figure* MarketRecord::Find(std::string_view path) const { return FindFigure(figures, path); }
std::optional<double> MarketRecord::Get(std::string_view path) const { return FigureValue(figures, path); }

const MarketRecord* Catalog::FindMarketRecord(std::string_view id) const {
  for (const auto* list : {&prices_, &facilities_, &fx_}) {
    for (const auto& r : *list) {
      if (EqualsIgnoreCase(r.id, id)) return &r;
    }
  }
  return nullptr;
}

const Figure* Profile::Find(std::string_view path) const { return FindFigure(figures, path); }
std::optional<double> Profile::Get(std::string_view path) const { return FigureValue(figures, path); }

bool ParseGemmSweep(std::string_view text, std::vector<GemmPoint>& out, std::string& error) {
  out.clear();
  for (const std::string& item : SplitCommaList(text)) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      error = "'" + item + "' is not SHAPE=FRACTION (e.g. 8192x8192x8192=0.652 or 8192^3=0.652)";
      return false;
    }
    const std::string shape = item.substr(0, eq);
    double dims[3] = {0, 0, 0};
    char* rest = nullptr;
    const double fraction = std::strtod(item.c_str() + eq + 1, &rest);
    if (rest == nullptr || *rest != '\0' || !(fraction > 0) || fraction > 1) {
      error = "'" + item + "': after '=' comes the fraction of dense peak reached, in (0, 1]";
      return false;
    }
    if (shape.ends_with("^3")) {
      dims[0] = dims[1] = dims[2] = std::strtod(shape.c_str(), &rest);
      if (rest != shape.c_str() + shape.size() - 2) dims[0] = 0;
    } else {
      const char* p = shape.c_str();
      for (int i = 0; i < 3; ++i) {
        dims[i] = std::strtod(p, &rest);
        if (rest == p) break;
        p = rest;
        if (i < 2) {
          if (*p != 'x') {
            dims[i + 1] = 0;
            break;
          }
          ++p;
        } else if (*p != '\0') {
          dims[2] = 0;
        }
      }
    }
    if (!(dims[0] > 0 && dims[1] > 0 && dims[2] > 0) || !std::isfinite(dims[0] * dims[1] * dims[2])) {
      error = "'" + shape + "' is not a GEMM shape MxNxK or N^3";
      return false;
    }
    out.push_back(GemmPoint{.flops = 2 * dims[0] * dims[1] * dims[2], .efficiency = fraction});
  }
  if (out.size() < 2) {
    error = "a sweep needs at least two measured shapes";
    return false;
  }
  std::sort(out.begin(), out.end(), [](const GemmPoint& a, const GemmPoint& b) { return a.flops < b.flops; });
  return true;
}

std::string_view ProfileTierName(ProfileTier t) {
  switch (t) {
    case ProfileTier::kMeasured: return "measured";
    case ProfileTier::kCalibrated: return "calibrated";
    case ProfileTier::kDatasheet: return "datasheet";
  }
  return "?";
}

std::optional<OpsPerSecond> Chip::DenseRate(Dtype t) const {
  std::optional<double> v = Get(std::string("compute.") + std::string(DtypeName(t)));
  if (t == Dtype::kFp64) {
    auto tensor = Get("compute.fp64_tensor");
    if (tensor && (!v || *tensor > *v)) v = tensor;
  }
  if (!v) return std::nullopt;
  return OpsPerSecond(*v);
}


const Chip* Catalog::FindChip(std::string_view id) const { return FindByIdOrAlias(chips_, id); }
const System* Catalog::FindSystem(std::string_view id) const { return FindByIdOrAlias(systems_, id); }
const ModelEntry* Catalog::FindModel(std::string_view id) const { return FindByIdOrAlias(models_, id); }

const RuleSet* Catalog::FindRuleSet(std::string_view id) const {
  for (const auto& r : rules_) {
    if (EqualsIgnoreCase(r.id, id)) return &r;
  }
  return nullptr;
}

const Source* Catalog::FindSource(std::string_view id) const {
  auto it = sources_.find(id);
  return it == sources_.end() ? nullptr : &it->second;
}

const Profile* Catalog::FindProfile(std::string_view id) const {
  for (const auto& p : profiles_) {
    if (EqualsIgnoreCase(p.id, id)) return &p;
  }
  return nullptr;
}

const Stack* Catalog::FindStack(std::string_view id) const {
  for (const auto& s : stacks_) {
    if (EqualsIgnoreCase(s.id, id)) return &s;
  }
  return nullptr;
}

const Stack* Catalog::DefaultStack(StackKind kind) const {
  for (const auto& s : stacks_) {
    if (s.kind == kind && s.is_default) return &s;
  }
  return nullptr;
}

Result<const Stack*> Catalog::StackOf(StackKind kind, std::string_view id) const {
  const Stack* s = id.empty() ? DefaultStack(kind) : FindStack(id);
  if (s == nullptr && id.empty()) {
    return Error(Diagnostic{.file = dir_, .key_path = "stacks",
                            .message = "the catalog has no default " + std::string(StackKindName(kind)) + " stack"});
  }
  if (s == nullptr) {
    std::vector<std::string> ids;
    for (const auto& x : stacks_) ids.push_back(x.id);
    return Error::NotFound(Diagnostic{.key_path = "stack", .message = "no stack '" + std::string(id) + "' in the catalog" +
                                                                          DidYouMean(id, ids)});
  }
  if (s->kind != kind) {
    return Error(Diagnostic{.key_path = "stack", .message = "stack '" + s->id + "' is a " +
                                                            std::string(StackKindName(s->kind)) + " stack, not a " +
                                                            std::string(StackKindName(kind)) + " one"});
  }
  return s;
}

std::optional<double> Stack::Get(std::string_view path) const { return FigureValue(figures, path); }

std::string_view StackKindName(StackKind k) { return k == StackKind::kTraining ? "training" : "serving"; }

namespace {

// Lower-case letters and digits: "Flash-Attention" and "flash_attention" are one name.
std::string ReleaseName(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) out += char(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::vector<long long> VersionNumbers(std::string_view v) {
  std::vector<long long> out;
  for (std::size_t i = 0; i < v.size();) {
    if (std::isdigit(static_cast<unsigned char>(v[i]))) {
      long long n = 0;
      std::size_t digits = 0;
      for (; i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])); ++i, ++digits) {
        if (digits < 15) n = n * 10 + (v[i] - '0');
      }
      out.push_back(n);
    } else {
      ++i;
    }
  }
  return out;
}

}  // namespace

int CompareVersions(std::string_view a, std::string_view b) {
  const auto x = VersionNumbers(a), y = VersionNumbers(b);
  for (std::size_t i = 0; i < std::max(x.size(), y.size()); ++i) {
    const long long p = i < x.size() ? x[i] : 0, q = i < y.size() ? y[i] : 0;
    if (p != q) return p < q ? -1 : 1;
  }
  return 0;
}

bool Profile::HasReleasesOf(std::string_view framework) const {
  const std::string want = ReleaseName(framework);
  return std::any_of(releases.begin(), releases.end(), [&](const ProfileRelease& r) { return ReleaseName(r.framework) == want; });
}

const ProfileRelease* Profile::PickRelease(const ReleaseRef& want, std::string* note) const {
  const std::string wanted = ReleaseName(want.framework);
  const ProfileRelease* exact = nullptr;
  const ProfileRelease* older = nullptr;
  std::string known;
  for (const ProfileRelease& r : releases) {
    if (ReleaseName(r.framework) != wanted) continue;
    known += (known.empty() ? "" : ", ") + r.version;
    const int c = CompareVersions(r.version, want.version);
    if (c == 0 && exact == nullptr) exact = &r;
    if (c < 0 && (older == nullptr || CompareVersions(r.version, older->version) > 0)) older = &r;
  }
  auto say = [&](std::string text) {
    if (note != nullptr) *note = std::move(text);
  };
  if (known.empty()) {
    say("");
    return nullptr;
  }
  const std::string asked = want.framework + " " + (want.version.empty() ? "(no version)" : want.version);
  if (VersionNumbers(want.version).empty()) {
    say("profile " + id + ": " + asked + " names no version number; its own figures (releases: " + known + ")");
    return nullptr;
  }
  if (exact != nullptr) {
    say("profile " + id + ": the figures of " + exact->framework + " " + exact->version);
    return exact;
  }
  if (older != nullptr) {
    say("profile " + id + ": no figures of " + asked + "; the nearest older release's, " + older->framework + " " +
        older->version);
    return older;
  }
  say("profile " + id + ": no figures of " + asked + " or an older release (releases: " + known + "); its own figures");
  return nullptr;
}

Catalog Catalog::ForRelease(const ReleaseRef& want, std::vector<std::string>* notes) const {
  Catalog out = *this;
  for (Profile& p : out.profiles_) {
    std::string note;
    const ProfileRelease* r = p.PickRelease(want, &note);
    if (notes != nullptr && !note.empty()) notes->push_back(note);
    if (r == nullptr) continue;
    for (const auto& [key, fig] : r->figures) p.figures[key] = fig;
    // A release's own all-reduce figure is for every group: the profile's
    // curve by group size was measured with another release.
    if (r->figures.count("collective.allreduce_efficiency") != 0) p.figures.erase("collective.allreduce_by_ranks");
  }
  return out;
}

Catalog Catalog::WithoutFigures(const std::function<bool(const Figure&)>& drop,
                                std::vector<FigureReplacement>* replaced) const {
  Catalog out = *this;
  auto note = [&](std::string record, const std::string& key, const Figure& was, const Figure* now, std::string from) {
    if (replaced == nullptr) return;
    replaced->push_back(FigureReplacement{.record = std::move(record), .key = key, .was = was,
                                          .now = now != nullptr ? std::optional<Figure>(*now) : std::nullopt,
                                          .from = std::move(from)});
  };
  for (std::size_t i = 0; i < profiles_.size(); ++i) {
    const Profile& p = profiles_[i];
    Profile& q = out.profiles_[i];
    // The profiles p's figures fall back to, nearest first (`extends` is
    // merged on load, so each holds what it inherits too).
    std::vector<const Profile*> chain;
    for (const Profile* b = p.extends.empty() ? nullptr : FindProfile(p.extends); b != nullptr && chain.size() < 16;
         b = b->extends.empty() ? nullptr : FindProfile(b->extends)) {
      chain.push_back(b);
    }
    if (const Profile* g = FindProfile("generic"); g != nullptr && g != &p &&
                                                   std::find(chain.begin(), chain.end(), g) == chain.end()) {
      chain.push_back(g);
    }
    for (const auto& [key, fig] : p.figures) {
      if (!drop(fig)) continue;
      const Figure* now = nullptr;
      const Profile* from = nullptr;
      for (const Profile* b : chain) {
        if (const Figure* f = b->Find(key); f != nullptr && !drop(*f)) {
          now = f;
          from = b;
          break;
        }
      }
      note("profile " + p.id, key, fig, now, from != nullptr ? "profile " + from->id : "none");
      if (now != nullptr) {
        q.figures[key] = *now;
      } else {
        q.figures.erase(key);
      }
    }
    // The sweeps are read from their figures.
    for (auto [key, points] : {std::pair{"gemm.sweep", &q.gemm_sweep}, std::pair{"gemm.sweep_fp8", &q.gemm_sweep_fp8}}) {
      points->clear();
      std::string error;
      if (const Figure* f = q.Find(key); f != nullptr && !ParseGemmSweep(f->text, *points, error)) points->clear();
    }
  }
  for (std::size_t i = 0; i < stacks_.size(); ++i) {
    const Stack& s = stacks_[i];
    const Stack* base = DefaultStack(s.kind);
    for (const auto& [key, fig] : s.figures) {
      if (!drop(fig)) continue;
      const Figure* now = nullptr;
      if (base != nullptr && base != &s) {
        if (auto it = base->figures.find(key); it != base->figures.end() && !drop(it->second)) now = &it->second;
      }
      note("stack " + s.id, key, fig, now,
           now != nullptr ? "stack " + base->id + " (default " + std::string(StackKindName(s.kind)) + ")" : "none");
      if (now != nullptr) {
        out.stacks_[i].figures[key] = *now;
      } else {
        out.stacks_[i].figures.erase(key);
      }
    }
  }
  return out;
}

const Profile* Catalog::ProfileFor(const Chip& chip) const {
  // The chip itself, then the chips it extends (a variant shares its base's silicon).
  const Chip* c = &chip;
  for (int depth = 0; c != nullptr && depth < 16; ++depth) {
    for (const auto& p : profiles_) {
      if (std::find(p.chips.begin(), p.chips.end(), c->id) != p.chips.end()) return &p;
    }
    c = c->extends.empty() ? nullptr : FindChip(c->extends);
  }
  if (!chip.arch_class.empty()) {
    for (const auto& p : profiles_) {
      if (p.arch_class == chip.arch_class) return &p;
    }
  }
  return FindProfile("generic");
}

Result<CatalogRecord> Catalog::FindRecord(std::string_view id) const {
  if (const Chip* c = FindChip(id)) return CatalogRecord(c);
  if (const System* s = FindSystem(id)) return CatalogRecord(s);
  if (const ModelEntry* m = FindModel(id)) return CatalogRecord(m);
  if (const RuleSet* r = FindRuleSet(id)) return CatalogRecord(r);
  if (const Profile* p = FindProfile(id)) return CatalogRecord(p);
  if (const Stack* s = FindStack(id)) return CatalogRecord(s);
  if (const Source* s = FindSource(id)) return CatalogRecord(s);
  if (const MarketRecord* r = FindMarketRecord(id)) return CatalogRecord(r);
  if (std::error_code ec; std::filesystem::is_regular_file(std::string(id), ec)) {
    auto m = LoadModelFile(std::string(id));
    if (!m) return std::move(m).error();
    return CatalogRecord(std::move(*m));
  }
  return Error::NotFound(Diagnostic{.key_path = "id",
                                    .message = "no chip, system, model, rule set, profile, stack, source, price, facility or fx record '" +
                                               std::string(id) + "'" + DidYouMean(id, Suggest(id), 3)});
}

std::vector<std::string> Catalog::Suggest(std::string_view id) const {
  std::vector<std::string> all;
  for (const auto& c : chips_) all.push_back(c.id);
  for (const auto& s : systems_) all.push_back(s.id);
  for (const auto& m : models_) all.push_back(m.id);
  for (const auto& r : rules_) all.push_back(r.id);
  for (const auto& s : stacks_) all.push_back(s.id);
  for (const auto* list : {&prices_, &facilities_, &fx_}) {
    for (const auto& r : *list) all.push_back(r.id);
  }
  return ClosestMatches(id, all);
}

}  // namespace suanli
