// One function per subcommand; each returns the process exit code.
#pragma once

#include <string>
#include <vector>

#include "common.h"

namespace suanli::cli {

struct CatalogListOptions {
  std::string what = "chips";  // chips | systems | models | rules | sources
  bool json = false;
};
int RunCatalogList(const GlobalOptions& global, const CatalogListOptions& options);

struct CatalogShowOptions {
  std::string id;
  bool json = false;
};
int RunCatalogShow(const GlobalOptions& global, const CatalogShowOptions& options);

struct CatalogSchemaOptions {
  std::string what;  // empty: all record types
  bool json = false;
};
int RunCatalogSchema(const CatalogSchemaOptions& options);

struct ClassifyOptions {
  std::string hardware;  // id, file, or "all"
  std::string rules;     // empty: every rule set
  bool json = false;
};
int RunClassify(const GlobalOptions& global, const ClassifyOptions& options);

}  // namespace suanli::cli
