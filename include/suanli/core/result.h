// Expected failures are values: a Result<T> holds either a T or an Error,
// and an Error is a list of Diagnostics, each naming where the problem is
// (file, line, column, key path) and what it is, and a kind: bad input, a
// name that is not there, or an internal fault. The library never prints
// or exits; each front end maps the kind in one place (the CLI: exit 2 for
// bad input and not found, 1 for internal; HTTP: 400 and 500; Python:
// ValueError and RuntimeError). Bugs are assertions, not Errors.
//
// Result is a small std::expected look-alike, written here because the fuzz
// build uses clang 14, whose libstdc++ <expected> is unavailable.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace suanli {

struct Diagnostic {
  std::string file;      // empty when the input was not a file (CLI flag, string)
  int line = 0;          // 1-based; 0 = unknown
  int column = 0;        // 1-based; 0 = unknown
  std::string key_path;  // e.g. "compute.fp16.value"; empty for whole-file problems
  std::string message;

  // "file:line:col: key: message", leaving out the parts that are unknown.
  [[nodiscard]] std::string ToString() const;
  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

// What kind of failure an Error is, for the front end to map.
enum class ErrorKind {
  kInvalidInput,  // the input is wrong: a bad value, file or plan (exit 2)
  kNotFound,      // a name (chip, model, rule set, file) that is not there (exit 2)
  kInternal,      // a fault of suanli itself, never of the input (exit 1)
};

// Why an operation failed: one or more diagnostics (all problems found at once).
struct Error {
  std::vector<Diagnostic> diagnostics;
  ErrorKind kind = ErrorKind::kInvalidInput;

  Error() = default;
  explicit Error(Diagnostic d, ErrorKind k = ErrorKind::kInvalidInput) : kind(k) { diagnostics.push_back(std::move(d)); }
  explicit Error(std::vector<Diagnostic> ds, ErrorKind k = ErrorKind::kInvalidInput) : diagnostics(std::move(ds)), kind(k) {}
  static Error Message(std::string message) {
    return Error(Diagnostic{.message = std::move(message)});
  }
  static Error NotFound(Diagnostic d) { return Error(std::move(d), ErrorKind::kNotFound); }
  // A fault of suanli (an invariant broken, a result that is not finite).
  static Error Internal(std::string message) {
    return Error(Diagnostic{.message = std::move(message)}, ErrorKind::kInternal);
  }
  [[nodiscard]] bool internal() const { return kind == ErrorKind::kInternal; }
  // All diagnostics, one per line.
  [[nodiscard]] std::string ToString() const;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  // One copy or move into place (a by-value parameter would cost two, and
  // estimates are a few hundred bytes returned millions of times a second).
  Result(const T& value) : v_(std::in_place_index<0>, value) {}       // NOLINT: implicit by design
  Result(T&& value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  // A value-initialised T built in place, for a caller that fills it through
  // operator* (no temporary T moved in).
  explicit Result(std::in_place_t) : v_(std::in_place_index<0>) {}

  [[nodiscard]] bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(v_); }
  const T& value() const& { assert(has_value()); return std::get<0>(v_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { assert(!has_value()); return std::get<1>(v_); }
  Error&& error() && { assert(!has_value()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>.
struct Ok {};
using Status = Result<Ok>;

}  // namespace suanli
