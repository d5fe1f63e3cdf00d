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

// `budget`: output tokens the simulations of one report may still step
// through (each case's are taken from it; an exhausted budget leaves the rest
// of a file unmapped): bounded time for any file.
std::variant<CaseResult, std::string> PredictServingCase(const Catalog& catalog, const RawNode& c, double& budget);

}  // namespace suanli
