// Serving cases (../shared/validation/serving-dev-cases.yaml): inference
// measurements of a serving deployment (continuous batching under a load,
// DP attention, MTP, PD, SLA-bound decode) predicted by the serving
// simulator, or the reason a case cannot be mapped.
#pragma once

#include <string>
#include <variant>

#include "catalog/raw_node.h"
#include "suanli/catalog/catalog.h"
#include "suanli/validation/validate.h"

namespace suanli {

std::variant<CaseResult, std::string> PredictServingCase(const Catalog& catalog, const RawNode& c);

}  // namespace suanli
