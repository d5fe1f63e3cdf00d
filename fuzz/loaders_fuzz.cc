// libFuzzer target: any bytes fed to the catalog loaders (YAML record
// validation for every record type, rule-set parsing) and to the Hugging Face
// config.json importer. The loaders must return errors, never crash, and the
// model arithmetic must stay finite and non-negative for accepted configs.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "model_import.h"
#include "record.h"
#include "rules_parse.h"
#include "suanli/model.h"

namespace {

void CheckModel(const suanli::ModelArch& m) {
  const suanli::ParamCount p = suanli::CountParams(m);
  const double kv = suanli::KvValuesForContext(m, 4096);
  if (!std::isfinite(p.total) || !std::isfinite(p.active) || p.total < 0 || p.active < 0 || p.active > p.total * 1.0000001 ||
      !std::isfinite(kv) || kv < 0) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The first byte picks the reader, the rest is the document.
  const bool as_json = size > 0 && (data[0] & 1) != 0;
  auto node = as_json ? suanli::ParseJson(text, "fuzz.json") : suanli::ParseYaml(text, "fuzz.yaml");
  if (!node) return 0;
  std::vector<suanli::Diagnostic> diags;
  for (auto kind : {suanli::RecordKind::kChip, suanli::RecordKind::kSystem, suanli::RecordKind::kModel,
                    suanli::RecordKind::kRuleSet, suanli::RecordKind::kSource}) {
    suanli::Record rec;
    diags.clear();
    suanli::ValidateRecord(*node, suanli::SchemaFor(kind), "", rec, diags);
    if (kind == suanli::RecordKind::kRuleSet && diags.empty()) {
      (void)suanli::BuildRuleSet(rec, "fuzz.yaml", diags);
    }
  }
  auto arch = suanli::ImportHfConfig(*node, "");
  if (arch) CheckModel(*arch);
  return 0;
}
