// Expected failures are values: a Result<T> holds either a T or an Error,
// and an Error is a list of Diagnostics, each naming where the problem is
// (file, line, column, key path) and what it is. The library never prints
// or exits; front ends turn an Error into messages and exit code 2 in one
// place. Bugs are assertions, not Errors.
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

// Why an operation failed: one or more diagnostics (all problems found at once).
struct Error {
  std::vector<Diagnostic> diagnostics;

  Error() = default;
  explicit Error(Diagnostic d) { diagnostics.push_back(std::move(d)); }
  explicit Error(std::vector<Diagnostic> ds) : diagnostics(std::move(ds)) {}
  static Error Message(std::string message) {
    return Error(Diagnostic{.message = std::move(message)});
  }
  // All diagnostics, one per line.
  [[nodiscard]] std::string ToString() const;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

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
