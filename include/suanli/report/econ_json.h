// The JSON forms of the economics results (`cost --json`, `fleet --json`):
// money in US dollars with the unit in the key (`usd_per_device_hour`),
// energy in joules, power in watts. Built in src/report/econ_json.cc.
#pragma once

#include <string>

#include "suanli/econ/cost.h"
#include "suanli/econ/fleet.h"

namespace suanli {

std::string ToJson(const CostResult& result);
std::string ToJson(const FleetResult& result);

}  // namespace suanli
