// A located, format-neutral tree read from a YAML or JSON file.
//
// Parsing produces RawNodes; validation (schema.cc, model_import.cc) turns
// them into domain structs. Every node remembers its file, line and column
// so that every diagnostic can point at the text. yaml_reader.cc is the only
// file that includes a YAML or JSON library.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "suanli/core/result.h"

namespace suanli {

struct RawNode {
  enum class Kind { kNull, kScalar, kSequence, kMap };

  Kind kind = Kind::kNull;
  std::string scalar;              // kScalar: the text as written
  bool quoted = false;             // kScalar: written in quotes (never a number or bool)
  std::vector<std::string> keys;   // kMap: keys, parallel to `items`
  std::vector<RawNode> items;      // kMap values or kSequence elements
  std::shared_ptr<const std::string> file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based

  [[nodiscard]] bool IsNull() const { return kind == Kind::kNull; }
  [[nodiscard]] bool IsScalar() const { return kind == Kind::kScalar; }
  [[nodiscard]] bool IsMap() const { return kind == Kind::kMap; }
  [[nodiscard]] bool IsSequence() const { return kind == Kind::kSequence; }
  // The value under `key` in a map, or nullptr.
  [[nodiscard]] const RawNode* Find(std::string_view key) const;
  RawNode* Find(std::string_view key);
  // A diagnostic located at this node.
  [[nodiscard]] Diagnostic At(std::string key_path, std::string message) const;
  // "a map", "a list", "a scalar", "null" for messages.
  [[nodiscard]] std::string_view KindName() const;
};

// Input bounds, so that no file can take more than a bounded time and memory
// (docs/input-limits.md). A file is read only if it is a regular file of at
// most kMaxInputFileBytes; a document may build at most kMaxDocumentNodes
// nodes, counting every copy an alias makes (about 150 bytes each).
inline constexpr std::size_t kMaxInputFileBytes = std::size_t{16} << 20;  // 16 MiB
inline constexpr long kMaxDocumentNodes = 1'000'000;

// Reads a whole regular file of at most `max_bytes`; a directory, device,
// FIFO or socket, or a larger file, is an error that names the file.
Result<std::string> ReadInputFile(const std::string& path, std::size_t max_bytes);

// Parses YAML text (which includes JSON). `file` names it in diagnostics.
Result<RawNode> ParseYaml(std::string_view text, const std::string& file);
// Parses strict JSON text (RFC 8259): syntax errors carry line and column.
Result<RawNode> ParseJson(std::string_view text, const std::string& file);
// Reads a file (ReadInputFile, kMaxInputFileBytes) and parses it as JSON if
// it ends in ".json", else as YAML.
Result<RawNode> ParseFile(const std::string& path);

// Scalar conversions with messages that name what was expected.
Result<double> ScalarToDouble(const RawNode& node, const std::string& key_path);
Result<long long> ScalarToInt(const RawNode& node, const std::string& key_path);
Result<bool> ScalarToBool(const RawNode& node, const std::string& key_path);

}  // namespace suanli
