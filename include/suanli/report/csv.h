// CSV forms of the results that are lists: one header line, one row per
// result (hardware for compare, plan for a search, case for validate, chip x
// rule set for classify), numbers in SI units as in the JSON keys, warnings
// and the reason a row does not fit in their own columns.
#pragma once

#include <string>

#include "suanli/api/commands.h"
#include "suanli/validation/validate.h"

namespace suanli {

std::string ToCsv(const InferResult& result);
std::string ToCsv(const CompareResult& result);
std::string ToCsv(const TrainResult& result);
std::string ToCsv(const ClassifyResult& result);
std::string ToCsv(const ValidationReport& report);

}  // namespace suanli
