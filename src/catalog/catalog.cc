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

int DtypeBits(Dtype t) {
  switch (t) {
    case Dtype::kFp64: return 64;
    case Dtype::kFp32: return 32;
    case Dtype::kTf32: return 32;
    case Dtype::kBf16:
    case Dtype::kFp16: return 16;
    case Dtype::kFp8:
    case Dtype::kInt8: return 8;
    case Dtype::kInt4:
    case Dtype::kFp4: return 4;
  }
  return 0;
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
  const double v = f.value / u.divisor;
  std::string num = (std::fabs(v) >= 1e6 || (std::fabs(v) < 1e-3 && v != 0)) ? fmt::format("{:.4g}", v)
                                                                               : fmt::format("{:.6g}", v);
  return u.name.empty() ? num : num + " " + std::string(u.name);
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
