// Plumbing shared by the CLI's commands: the catalog, the one place errors
// become messages and exit codes, and formatting numbers for people.
//
// The CLI only parses flags (flags.h), calls the library (suanli/api) and
// prints: JSON through suanli/report/json.h, text through the *_cmd.cc files.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "suanli/api/commands.h"

namespace suanli::cli {

struct GlobalOptions {
  std::string catalog_dir;  // empty: $SUANLI_CATALOG, the installed catalog or the source tree's
  const Catalog* preloaded = nullptr;  // a catalog already loaded (an embedding caller's); then catalog_dir is not read
};

// The whole CLI: parses `argv`, runs the command, prints to std::cout and
// std::cerr and returns the exit code (0, 2 for bad input, 1 for a fault).
// `preloaded`, when given, is the catalog every command uses.
int Main(int argc, char** argv, const Catalog* preloaded);

// Prints the error to stderr ("error: ..." naming flags for the fields of
// `spec`, when given) and returns its exit code: 2 for bad input and names
// that are not there, 1 for internal faults.
int Fail(const Error& error, const CommandSpec* spec);

// The catalog for a request about `hardware` and `model` (the whole catalog
// when both are empty). Kept for the life of the process: a command ends
// right after, and the OS reclaims the pages faster than destructors would.
Result<const Catalog*> LoadCatalog(const GlobalOptions& global, const std::vector<std::string>& hardware,
                                   const std::string& model);
Result<const Catalog*> LoadWholeCatalog(const GlobalOptions& global);

// Writes `text` and a newline to stdout.
void PrintJson(const std::string& text);

// "812 us", "25.1 ms", "1.23 s".
std::string FormatSeconds(double s);
// "70.6 GB".
std::string GigaBytes(double bytes);
// "1,234" style grouping.
std::string Thousands(double v, int decimals = 0);

// How a command prints its result.
enum class Output { kText, kJson, kCsv };

// The commands: each returns the exit code.
int RunInferCommand(const GlobalOptions& global, const Args& args, Output output);
int RunCompareCommand(const GlobalOptions& global, const Args& args, Output output);
int RunTrainCommand(const GlobalOptions& global, const Args& args, Output output);
int RunClassifyCommand(const GlobalOptions& global, const Args& args, Output output);
int RunValidateCommand(const GlobalOptions& global, const Args& args, Output output);
int RunCostCommand(const GlobalOptions& global, const Args& args, Output output);
int RunFleetCommand(const GlobalOptions& global, const Args& args, Output output);
int RunCatalogList(const GlobalOptions& global, const std::string& what, bool json);
int RunCatalogShow(const GlobalOptions& global, const std::string& id, bool json);
int RunCatalogSchema(const std::string& what, bool json);

// `suanli web` (web_cmd.cc).
// As given (checked by RunWebCommand); empty: the default.
struct WebFlags {
  std::string port;             // 8080
  std::string listen;           // 127.0.0.1
  std::string workers;          // 4
  std::string request_seconds;  // 30
  std::string max_body;         // 65536
  std::string assets;
};
int RunWebCommand(const GlobalOptions& global, const WebFlags& flags);

// `suanli sweep` (sweep_cmd.cc): the Python module's sweep.
struct SweepFlags {
  std::string file;
  std::string out;
  std::string scheduler;
  bool resume = false;
  std::string threads;
};
int RunSweepCommand(const GlobalOptions& global, const SweepFlags& flags);

}  // namespace suanli::cli
