// Building a RuleSet from its validated record (categories and conditions).
#pragma once

#include <optional>

#include "catalog/record.h"
#include "suanli/catalog/rules.h"

namespace suanli {

std::optional<RuleSet> BuildRuleSet(Record& rec, const std::string& file, std::vector<Diagnostic>& diags);

}  // namespace suanli
