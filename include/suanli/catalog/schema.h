// The field tables of every catalog record type, declared once.
//
// The validator (src/catalog/schema.cc), `suanli catalog schema` and the docs all
// read these tables; adding a field here is the whole job of adding a field.
#pragma once

#include <span>
#include <string_view>

#include "suanli/core/result.h"
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
  int max_items = 0;  // kFigure: its value may be a list of up to this many numbers, each in bounds (0 = one number)
};

enum class RecordKind { kChip, kSystem, kModel, kRuleSet, kSource, kProfile, kStack, kPrice, kFacility, kFx };

// The registry of record kinds: what each is, where it lives and its field
// table. The loader, reference checks and `suanli catalog list|schema` iterate
// it; adding a record kind is one entry here, a field table and a builder
// (catalog_loader.cc), and a typed accessor on Catalog.
struct RecordKindInfo {
  RecordKind kind;
  std::string_view name;    // singular, as messages say it ("chip")
  std::string_view folder;  // under the catalog directory ("chips"), also its plural
  std::span<const FieldSpec> fields;
  bool extends = false;     // a record may `extends:` another of its kind
  bool id_map = false;      // a file maps ids to records (sources) instead of holding one record
  std::string_view summary;
};
std::span<const RecordKindInfo> RecordKinds();
const RecordKindInfo& InfoFor(RecordKind k);
// By singular name or folder ("chip" or "chips"); nullptr if none.
const RecordKindInfo* FindRecordKind(std::string_view name);
// The same, or an error (key "kind") listing the kinds, with "did you mean".
Result<const RecordKindInfo*> ResolveRecordKind(std::string_view name);

std::string_view RecordKindName(RecordKind k);
std::span<const FieldSpec> SchemaFor(RecordKind k);
std::string_view FieldKindName(FieldKind k);

}  // namespace suanli
