// libFuzzer target: any bytes as one YAML record, validated against the field
// table of the record type its keys suggest, as the loader's folders would
// (chips_per_node: system, categories: rule set, config: model, tier:
// profile, title: source, else chip); a valid rule set is built, a valid
// model's `config:` imported. The parser must return errors, never crash,
// and stay bounded (aliases).
#include "catalog/record.h"
#include "catalog/rules_parse.h"
#include "fuzz_support.h"
#include "model/model_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto node = suanli::ParseYaml(text, "fuzz.yaml");
  if (!node) return 0;
  using suanli::RecordKind;
  auto has = [&](std::string_view key) { return node->IsMap() && node->Find(key) != nullptr; };
  const RecordKind kind = has("chips_per_node") ? RecordKind::kSystem
                          : has("categories")   ? RecordKind::kRuleSet
                          : has("config")       ? RecordKind::kModel
                          : has("tier")         ? RecordKind::kProfile
                          : has("title")        ? RecordKind::kSource
                          : has("subject")      ? RecordKind::kPrice
                          : has("pue")          ? RecordKind::kFacility
                          : has("cny_per_usd")  ? RecordKind::kFx
                                                : RecordKind::kChip;
  std::vector<suanli::Diagnostic> diags;
  suanli::Record rec;
  suanli::ValidateRecord(*node, suanli::SchemaFor(kind), "", rec, diags);
  if (!diags.empty()) return 0;
  if (kind == RecordKind::kRuleSet) (void)suanli::BuildRuleSet(rec, "fuzz.yaml", diags);
  if (kind == RecordKind::kModel && rec.trees.contains("config")) {
    if (auto arch = suanli::ImportHfConfig(*rec.trees["config"], "config")) suanli::fuzz::CheckModel(*arch);
  }
  return 0;
}
