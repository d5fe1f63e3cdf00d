// Building a RuleSet from its validated record (categories and conditions).
#pragma once

#include <optional>

#include "record.h"
#include "suanli/rules.h"

namespace suanli {

std::optional<RuleSet> BuildRuleSet(Record& rec, const std::string& file, std::vector<Diagnostic>& diags);

}  // namespace suanli
