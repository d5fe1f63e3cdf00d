// Shared plumbing of the CLI: loading the catalog, resolving --hardware and
// --model, and the single place where library errors become messages.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "suanli/catalog/catalog.h"

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
// The catalog for a command about some hardware and one model: reads only
// those chips and systems (and what they extend), the profiles and sources,
// and the one model, when each can be found by file name; the whole catalog
// otherwise. Start-up time is most of a single estimate's time.
const Catalog& LoadCatalogFor(const GlobalOptions& options, const std::vector<std::string>& hardware,
                              const std::string& model);

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
