// Shared plumbing of the CLI: loading the catalog, resolving --hardware and
// --model, and the single place where library errors become messages.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "suanli/catalog.h"

namespace suanli::cli {

// Bad input: printed to stderr, exit code 2.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
  explicit InputError(const Error& error) : std::runtime_error(error.ToString()) {}
};

struct GlobalOptions {
  std::string catalog_dir;  // empty: $SUANLI_CATALOG or the built-in path
};

// Loads the catalog or throws InputError listing every problem.
const Catalog& LoadCatalogOrThrow(const GlobalOptions& options);
// The catalog for a command about one model: skips the other models and the
// rule sets when the model can be read on its own (a file, or the catalog's
// models/<name>.yaml), which halves start-up time.
const Catalog& LoadCatalogForModel(const GlobalOptions& options, const std::string& model);

// A chip named by id/alias, a system id (its chip), or a chip file.
struct ResolvedHardware {
  Chip chip;
  const System* system = nullptr;
  std::vector<std::string> warnings;
};
ResolvedHardware ResolveHardware(const Catalog& catalog, const std::string& name);

// A model named by catalog id/alias, or a config.json / catalog model file
// (or, when the catalog was loaded without models, models/<name>.yaml).
ModelEntry ResolveModel(const Catalog& catalog, const std::string& name);

// Formats seconds for people: "812 us", "25.1 ms", "1.23 s".
std::string Seconds(double s);
// Bytes for people: "70.6 GB".
std::string GigaBytes(double bytes);

// Prints a JSON document (one object) on stdout.
void PrintJson(const nlohmann::json& j);

// "1,234" style grouping for tables.
std::string Thousands(double v, int decimals = 0);

}  // namespace suanli::cli
