// libFuzzer target: any bytes as a fleet scenario file (`suanli fleet`),
// read against the shipped catalog: every problem a diagnostic with file and
// line, never a crash. A small valid scenario whose capacities are all stated
// (so that no simulation runs: those are bounded by --capacity-time-limit,
// not here) is planned on CBC with a 2 s limit, with the shock LPs or the
// robust plan as a hash of the input picks: a plan must be finite and
// non-negative, and an internal error other than the limit is a fault.
#include <cmath>
#include <cstdlib>

#include "fuzz_support.h"
#include "suanli/econ/fleet.h"
#include "suanli/econ/milp.h"

namespace {

bool AllStated(const suanli::FleetScenario& s) {
  for (const auto& c : s.candidates) {
    for (const auto& d : s.demands) {
      if (!c.capacity.contains(d.id)) return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string path = suanli::fuzz::WriteScratch("scenario.yaml", text);
  const suanli::Catalog& catalog = suanli::fuzz::ShippedCatalog();
  auto s = suanli::LoadScenario(catalog, path);
  if (!s) {
    for (const auto& d : s.error().diagnostics) {
      if (d.message.empty() || d.file != path) std::abort();
    }
    return 0;
  }
  if (s->periods.size() > 4 || s->candidates.size() > 4 || s->demands.size() > 3 || !AllStated(*s)) return 0;
  const uint64_t h = suanli::fuzz::Hash(text);
  suanli::FleetOptions o;
  o.milp.time_limit_s = 2;
  o.shock = (h & 1) != 0;
  o.robust = (h & 6) == 6;
  auto solver = suanli::MakeCbcSolver();
  auto plan = suanli::PlanFleet(catalog, *s, o, *solver);
  if (!plan) {
    if (plan.error().internal() && plan.error().ToString().find("did not finish") == std::string::npos) std::abort();
    return 0;
  }
  auto finite = [](double v) { return std::isfinite(v) && v >= -1e-6; };
  if (!plan->feasible) return 0;
  if (!finite(plan->total_cost_usd) || !finite(plan->capex_usd)) std::abort();
  for (const auto& p : plan->periods) {
    if (!finite(p.cost_usd) || !finite(p.power_w)) std::abort();
    for (const auto& [demand, fraction] : p.served) {
      if (!std::isfinite(fraction) || fraction < -1e-6 || fraction > 1 + 1e-6) std::abort();
    }
  }
  for (const auto& k : plan->shocks) {
    if (!std::isfinite(k.served_fraction) || k.served_fraction < -1e-6 || k.served_fraction > 1 + 1e-6) std::abort();
  }
  return 0;
}
