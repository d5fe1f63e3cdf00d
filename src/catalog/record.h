// The validator's output: a record's fields by dotted key, checked against
// its FieldSpec table (schema.cc). Typed structs (Chip, System, ...) are
// built from Records in catalog.cc.
#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include "catalog/raw_node.h"
#include "suanli/catalog/figure.h"
#include "suanli/catalog/schema.h"

namespace suanli {

struct Record {
  std::map<std::string, std::string, std::less<>> strings;  // kString, kEnum, kId
  std::map<std::string, bool, std::less<>> bools;
  std::map<std::string, std::vector<std::string>, std::less<>> lists;
  FigureMap figures;
  std::map<std::string, std::vector<Record>, std::less<>> tables;
  std::map<std::string, const RawNode*, std::less<>> trees;  // kTree: borrowed from the raw tree
  std::map<std::string, const RawNode*, std::less<>> nodes;  // every field present, for locations

  [[nodiscard]] std::string String(std::string_view key, std::string_view fallback = "") const;
};

// Checks `node` (a map) against `schema` and fills `out`. Appends every
// problem to `diags`; `prefix` is prepended to key paths in messages.
void ValidateRecord(const RawNode& node, std::span<const FieldSpec> schema, const std::string& prefix,
                    Record& out, std::vector<Diagnostic>& diags);

// Parses one figure node ({value, basis, source, range?, note?}).
bool ParseFigure(const RawNode& node, const FieldSpec& spec, const std::string& path, Figure& out,
                 std::vector<Diagnostic>& diags);

}  // namespace suanli
