// The field tables of every catalog record type, declared once.
//
// The validator (src/catalog/schema.cc), `suanli catalog schema` and the docs all
// read these tables; adding a field here is the whole job of adding a field.
#pragma once

#include <span>
#include <string_view>

#include "suanli/core/units.h"

namespace suanli {

enum class FieldKind {
  kString,      // free text
  kBool,        // true / false
  kEnum,        // one of `choices`
  kId,          // reference to another record (checked after loading)
  kStringList,  // list of strings
  kFigure,      // {value: <number with unit>, basis, source, range?, note?}
  kTextFigure,  // {value: <text>, basis, source, note?}
  kTable,       // list of sub-records described by `table`
  kTree,        // free-form tree, validated by its own reader (model config, conditions)
};

struct FieldSpec {
  std::string_view key;  // dotted path, e.g. "memory.bandwidth"
  FieldKind kind;
  Dim dim{};             // kFigure: the dimension of the value
  bool required = false;
  std::string_view default_value;  // what an absent optional field means
  std::string_view description;
  std::span<const std::string_view> choices{};  // kEnum
  std::span<const FieldSpec> table{};           // kTable
  bool positive = true;                         // kFigure: value must be > 0 (false: must be >= 0)
  double at_most = 0;                           // kFigure: upper bound in SI units (0 = none)
};

enum class RecordKind { kChip, kSystem, kModel, kRuleSet, kSource, kProfile };
std::string_view RecordKindName(RecordKind k);
std::span<const FieldSpec> SchemaFor(RecordKind k);
std::string_view FieldKindName(FieldKind k);

}  // namespace suanli
