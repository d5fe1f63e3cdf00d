#include "common.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#ifndef SUANLI_DEFAULT_CATALOG
#define SUANLI_DEFAULT_CATALOG "catalog"
#endif

namespace suanli::cli {

namespace {
bool LooksLikeFile(const std::string& name) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(name, ec)) return true;
  for (const char* ext : {".yaml", ".yml", ".json"}) {
    if (name.ends_with(ext)) return true;
  }
  return name.find('/') != std::string::npos;
}

std::string CatalogDir(const GlobalOptions& options) {
  if (!options.catalog_dir.empty()) return options.catalog_dir;
  const char* env = std::getenv("SUANLI_CATALOG");
  return env != nullptr && *env != '\0' ? env : SUANLI_DEFAULT_CATALOG;
}

const Catalog& LoadParts(const std::string& dir, Catalog::Parts parts) {
  auto catalog = Catalog::Load(dir, parts);
  if (!catalog) throw InputError(catalog.error());
  // Deliberately never freed: the process ends right after the command, and
  // the OS reclaims the pages faster than thousands of destructors would. The
  // static pointer keeps it reachable (no leak report under LeakSanitizer).
  static const Catalog* loaded = nullptr;
  loaded = new Catalog(std::move(*catalog));
  return *loaded;
}

}  // namespace

const Catalog& LoadCatalogOrThrow(const GlobalOptions& options) { return LoadParts(CatalogDir(options), {}); }

const Catalog& LoadCatalogFor(const GlobalOptions& options, const std::vector<std::string>& hardware,
                              const std::string& model) {
  const std::string dir = CatalogDir(options);
  std::error_code ec;
  const bool alone = LooksLikeFile(model) || std::filesystem::is_regular_file(dir + "/models/" + model + ".yaml", ec);
  Catalog::Parts parts{.models = !alone, .rules = false, .hardware = hardware};
  for (const auto& h : hardware) {
    if (LooksLikeFile(h)) parts.hardware.clear();  // a chip file may extend any catalog chip
  }
  return LoadParts(dir, parts);
}


ResolvedHardware ResolveHardware(const Catalog& catalog, const std::string& name) {
  ResolvedHardware out;
  if (const Chip* chip = catalog.FindChip(name)) {
    out.chip = *chip;
    return out;
  }
  if (const System* system = catalog.FindSystem(name)) {
    const Chip* chip = catalog.FindChip(system->chip);
    if (chip == nullptr) throw InputError("system '" + system->id + "' names unknown chip '" + system->chip + "'");
    out.chip = *chip;
    out.system = system;
    return out;
  }
  if (LooksLikeFile(name)) {
    auto chip = catalog.LoadChipFile(name, &out.warnings);
    if (!chip) throw InputError(chip.error());
    out.chip = std::move(*chip);
    return out;
  }
  auto close = catalog.Suggest(name);
  std::string hint;
  for (const auto& c : close) hint += (hint.empty() ? " (did you mean " : ", ") + ("'" + c + "'");
  if (!hint.empty()) hint += "?)";
  throw InputError("--hardware: no chip or system '" + name + "' in the catalog and no such file" + hint +
                   "; `suanli catalog list chips` lists them");
}

ModelEntry ResolveModel(const Catalog& catalog, const std::string& name) {
  if (const ModelEntry* m = catalog.FindModel(name)) return *m;
  if (catalog.models().empty() && !LooksLikeFile(name)) {
    auto m = catalog.LoadModelFile(catalog.dir() + "/models/" + name + ".yaml");
    if (!m) throw InputError(m.error());
    return std::move(*m);
  }
  if (LooksLikeFile(name)) {
    auto m = catalog.LoadModelFile(name);
    if (!m) throw InputError(m.error());
    return std::move(*m);
  }
  std::vector<std::string> ids;
  for (const auto& m : catalog.models()) ids.push_back(m.id);
  auto close = ClosestMatches(name, ids);
  std::string hint;
  for (const auto& c : close) hint += (hint.empty() ? " (did you mean " : ", ") + ("'" + c + "'");
  if (!hint.empty()) hint += "?)";
  throw InputError("--model: no model '" + name + "' in the catalog and no such file" + hint +
                   "; `suanli catalog list models` lists them, or pass a Hugging Face config.json");
}

std::string Seconds(double s) {
  if (!(s >= 0)) return "-";
  if (s < 1e-3) return fmt::format("{:.0f} us", s * 1e6);
  if (s < 1) return fmt::format("{:.3g} ms", s * 1e3);
  return fmt::format("{:.3g} s", s);
}

std::string GigaBytes(double bytes) { return fmt::format("{:.1f} GB", bytes / 1e9); }

void PrintJson(const nlohmann::json& j) { std::cout << j.dump(2) << '\n'; }

std::string Thousands(double v, int decimals) {
  std::string s = fmt::format("{:.{}f}", v, decimals);
  const auto dot = s.find('.');
  std::string int_part = s.substr(0, dot);
  const std::string frac = dot == std::string::npos ? "" : s.substr(dot);
  const bool neg = !int_part.empty() && int_part[0] == '-';
  if (neg) int_part.erase(0, 1);
  std::string grouped;
  for (std::size_t i = 0; i < int_part.size(); ++i) {
    if (i > 0 && (int_part.size() - i) % 3 == 0) grouped += ',';
    grouped += int_part[i];
  }
  return (neg ? "-" : "") + grouped + frac;
}

}  // namespace suanli::cli
