// One JSON form per result type: what `--json` prints, what the HTTP API
// returns and what the Python module's to_dict() holds. Numbers in SI base
// units with the unit in the key (`step_time_s`, `kv_cache_bytes`). The only
// file that builds JSON output is src/report/json.cc.
#pragma once

#include <string>
#include <string_view>

#include "suanli/api/commands.h"
#include "suanli/catalog/schema.h"
#include "suanli/validation/validate.h"

namespace suanli {

std::string ToJson(const InferResult& result);
std::string ToJson(const CompareResult& result);
std::string ToJson(const TrainResult& result);
std::string ToJson(const ClassifyResult& result);
std::string ToJson(const ValidationReport& report);

// The records of one kind, each with its headline figures.
std::string CatalogListJson(const Catalog& catalog, RecordKind kind);
// Every field of the record named `id` (chip, system, model, rule set, profile, stack or source).
Result<std::string> CatalogShowJson(const Catalog& catalog, std::string_view id);
std::string RecordJson(const CatalogRecord& record);
// The field tables of `kinds` (every kind when empty), and of the request
// fields of every command.
std::string SchemaJson(std::span<const RecordKind> kinds);

}  // namespace suanli
