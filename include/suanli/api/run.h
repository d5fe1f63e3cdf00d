// Any command by name, from its fields to its JSON: the one dispatch the HTTP
// API, the Python module and sweeps use, so a command that registers here is
// served by all of them at once.
//
//   Args args = ...;                                   // from JSON, kwargs or flags
//   auto json = RunCommand(catalog, "infer", args);  // the --json object as text
//
// A command is its field table (api/fields.h) and a runner that decodes,
// runs and prints it; `RegisteredCommands()` lists them.
#pragma once

#include <atomic>
#include <span>
#include <string>
#include <string_view>

#include "suanli/api/fields.h"
#include "suanli/catalog/catalog.h"

namespace suanli {

// How a runner prints its result.
enum class ResultForm { kJson, kCsv };

struct CommandRunner {
  std::string_view name;  // as in Commands() (fields.h)
  // Decodes `args` (CheckArgs included), runs the command on `catalog` and
  // prints its result in `form` (kCsv: an error for commands without a CSV form).
  Result<std::string> (*run)(const Catalog& catalog, const Args& args, ResultForm form);
};

std::span<const CommandRunner> RegisteredCommands();
const CommandRunner* FindRunner(std::string_view name);

// Runs `command` with `args` on `catalog`: the JSON (or CSV) of its result.
Result<std::string> RunCommand(const Catalog& catalog, std::string_view command, const Args& args,
                               ResultForm form = ResultForm::kJson);

// The same, stoppable from another thread: a command that can run long (a
// training search, a serving simulation) polls `cancel` and, once it is set, returns the error
// "cancelled" (kInvalidInput, key "cancel"); the others run as above.
Result<std::string> RunCommand(const Catalog& catalog, std::string_view command, const Args& args, ResultForm form,
                               const std::atomic<bool>* cancel);

}  // namespace suanli
