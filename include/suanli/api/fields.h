// The fields of every request, declared once: key, type, unit, default,
// choices and help. The CLI builds its flags and help from these tables
// (--input-tokens for input_tokens), the HTTP API and the Python module read
// the same keys from JSON and keyword arguments, and every error about a
// field names it by its key, which each front end shows in its own form
// (FlagName for the CLI).
//
// Values arrive as text (Args): a flag's argument, a JSON scalar written as
// text, a Python keyword's str(). Decoding (commands.h) checks each against
// its field: type, bounds, choices; then applies the defaults.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "suanli/core/result.h"

namespace suanli {

enum class FieldType {
  kInteger,     // a whole number in [min, max]
  kCountOrMax,  // a whole number in [min, max], or "max"
  kNumber,      // a finite number in [min, max] (1e13 allowed)
  kText,        // an id, a file or free text
  kChoice,      // one of `choices`
  kFlag,        // present or not (true / false in JSON)
  kList,        // comma-separated items, none empty
};
std::string_view FieldTypeName(FieldType t);

struct RequestField {
  std::string_view key;  // snake_case; the CLI flag is --key-with-dashes
  FieldType type = FieldType::kText;
  std::string_view help;
  std::string_view default_text;  // what an absent field means, in words ("" = required or nothing)
  std::span<const std::string_view> choices{};
  bool required = false;
  bool positional = false;  // the CLI takes it without a flag
  double min = 0;           // kInteger, kCountOrMax, kNumber
  double max = 0;
  std::string_view unit;    // "tokens", "sequences", "devices", ...
  std::string_view excludes;  // a field that may not be given with this one
};

struct CommandSpec {
  std::string_view name;
  std::string_view summary;
  std::span<const RequestField> fields;
  [[nodiscard]] const RequestField* Find(std::string_view key) const;
};

// Every command that takes a request (infer, compare, train, classify, validate).
std::span<const CommandSpec> Commands();
const CommandSpec* FindCommand(std::string_view name);
const CommandSpec& CommandFor(std::string_view name);  // one of the names above (asserts)

// "--input-tokens" for "input_tokens".
std::string FlagName(std::string_view key);

// A request's fields as text, in the order given.
class Args {
 public:
  void Set(std::string key, std::string value);
  [[nodiscard]] bool Has(std::string_view key) const;
  [[nodiscard]] std::optional<std::string_view> Get(std::string_view key) const;
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Reads a JSON object of `spec`'s fields (the HTTP API's request body). Every
// problem is reported: unknown keys (with "did you mean"), values that are
// not scalars (or, for lists, arrays of strings), malformed JSON.
Result<Args> ArgsFromJson(const CommandSpec& spec, std::string_view json);

// Checks `args` against `spec`: unknown keys, required fields, fields that
// exclude each other, and each value's type, bounds and choices.
Status CheckArgs(const CommandSpec& spec, const Args& args);

// How a front end names fields in messages.
enum class FieldNaming { kFlag, kKey };
// The error's diagnostics one per line, each field-keyed one named by its
// flag or key ("--input-tokens: must be at least 1, found 0").
std::string FormatError(const Error& error, const CommandSpec& spec, FieldNaming naming);

}  // namespace suanli
