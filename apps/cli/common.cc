#include "common.h"

#include <iostream>

#include <fmt/format.h>

namespace suanli::cli {
namespace {

Result<const Catalog*> Keep(Result<Catalog> loaded) {
  if (!loaded) return std::move(loaded).error();
  // Deliberately never freed (see common.h); the static pointer keeps it
  // reachable, so LeakSanitizer stays quiet.
  static const Catalog* kept = nullptr;
  kept = new Catalog(std::move(*loaded));
  return kept;
}

}  // namespace

int Fail(const Error& error, const CommandSpec* spec) {
  static const CommandSpec kNone{};
  const std::string text = FormatError(error, spec != nullptr ? *spec : kNone, FieldNaming::kFlag);
  std::cerr << (error.internal() ? "internal error: " : "error: ") << text << '\n';
  return error.internal() ? 1 : 2;
}

Result<const Catalog*> LoadCatalog(const GlobalOptions& global, const std::vector<std::string>& hardware,
                                   const std::string& model) {
  if (global.preloaded != nullptr) return global.preloaded;
  auto dir = FindCatalogDir(global.catalog_dir);
  if (!dir) return std::move(dir).error();
  return Keep(LoadCatalogFor(*dir, hardware, model));
}

Result<const Catalog*> LoadWholeCatalog(const GlobalOptions& global) {
  if (global.preloaded != nullptr) return global.preloaded;
  auto dir = FindCatalogDir(global.catalog_dir);
  if (!dir) return std::move(dir).error();
  return Keep(Catalog::Load(*dir));
}

void PrintJson(const std::string& text) { std::cout << text << '\n'; }

std::string FormatSeconds(double s) {
  if (!(s >= 0)) return "-";
  if (s < 1e-3) return fmt::format("{:.0f} us", s * 1e6);
  if (s < 1) return fmt::format("{:.3g} ms", s * 1e3);
  return fmt::format("{:.3g} s", s);
}

std::string GigaBytes(double bytes) { return fmt::format("{:.1f} GB", bytes / 1e9); }

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
