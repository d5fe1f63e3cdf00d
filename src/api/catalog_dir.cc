// Finding the catalog, and loading the part of it a request needs.
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

#include "suanli/api/commands.h"

#ifndef SUANLI_SOURCE_CATALOG_DIR
#define SUANLI_SOURCE_CATALOG_DIR ""
#endif
#ifndef SUANLI_INSTALLED_CATALOG_FROM_BIN
#define SUANLI_INSTALLED_CATALOG_FROM_BIN "../share/suanli/catalog"
#endif

namespace suanli {
namespace {

namespace fs = std::filesystem;

bool IsDir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool IsFile(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// The directory of the program or shared module this code was linked into.
fs::path ModuleDir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&FindCatalogDir), &info) == 0 || info.dli_fname == nullptr) return {};
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(info.dli_fname), ec);
  if (ec) p = info.dli_fname;
  // A program found through PATH reports a bare name: resolve it as /proc does.
  if (!p.has_parent_path() || p.is_relative()) p = fs::read_symlink("/proc/self/exe", ec);
  return p.parent_path();
}

}  // namespace

// A name that is meant as a file: an existing file, a YAML or JSON name, or a path.
bool LooksLikeFile(std::string_view name) {
  if (IsFile(fs::path(name))) return true;
  for (std::string_view ext : {".yaml", ".yml", ".json"}) {
    if (name.ends_with(ext)) return true;
  }
  return name.find('/') != std::string_view::npos;
}

Result<std::string> FindCatalogDir(std::string_view explicit_dir) {
  if (!explicit_dir.empty()) return std::string(explicit_dir);
  if (const char* env = std::getenv("SUANLI_CATALOG"); env != nullptr && *env != '\0') return std::string(env);
  std::vector<std::string> looked;
  const fs::path module = ModuleDir();
  if (!module.empty()) {
    for (const fs::path& candidate : {module / SUANLI_INSTALLED_CATALOG_FROM_BIN, module / "catalog"}) {
      if (IsDir(candidate)) return fs::weakly_canonical(candidate).string();
      looked.push_back(candidate.lexically_normal().string());
    }
  }
  const std::string source = SUANLI_SOURCE_CATALOG_DIR;
  if (!source.empty()) {
    if (IsDir(source)) return source;
    looked.push_back(source);
  }
  std::string where;
  for (const auto& l : looked) where += (where.empty() ? "" : ", ") + l;
  return Error(Diagnostic{.key_path = "catalog",
                          .message = "no catalog found (looked in $SUANLI_CATALOG, " + where +
                                     "); name one with --catalog DIR"},
               ErrorKind::kNotFound);
}

Result<Catalog> LoadCatalogFor(const std::string& dir, const std::vector<std::string>& hardware,
                               std::string_view model) {
  // One model file of its own: read just it. A name that is an alias or not
  // a file name needs every model.
  const bool model_alone = model.empty() || IsFile(fs::path(model)) ||
                           IsFile(fs::path(dir) / "models" / (std::string(model) + ".yaml"));
  Catalog::Parts parts{.models = !model_alone, .rules = false, .hardware = hardware};
  for (const auto& h : hardware) {
    if (LooksLikeFile(h)) parts.hardware.clear();  // a chip file may extend any catalog chip
  }
  return Catalog::Load(dir, parts);
}

}  // namespace suanli
