// EstimateTraining: one plan, checked, costed and assembled.
#include <cmath>

#include "train/train_internal.h"

namespace suanli {
namespace {

// A checked plan costed and assembled. Every return is `out`, so the estimate
// is built in the caller's result (named return value optimisation): no copy.
Result<TrainEstimate> CostAndAssemble(const Cluster& c, const ModelArch& m, const TrainRequest& r,
                                      const train::PlanRules& rules) {
  const train::Context x = train::MakeContext(c, m, r, rules.totals());
  const train::LayerCosts lc = train::ComputeLayerCosts(c, x.links, m, r, r.plan, x.rate);
  Result<TrainEstimate> out{std::in_place};
  TrainEstimate& e = *out;
  train::Assemble(x, r.plan, lc, e, train::Timing::kAlways);
  if (!std::isfinite(e.step_time_s) || e.step_time_s <= 0) {
    out = Error::Internal("the training estimate is not finite for this plan");
  }
  return out;
}

}  // namespace

Result<TrainEstimate> EstimateTraining(const Cluster& c, const ModelArch& m, const TrainRequest& r) {
  const train::PlanRules rules(m, r);  // the model's totals, counted once
  if (auto ok = train::CheckPlan(m, r, rules); !ok) return std::move(ok).error();
  if (auto ok = train::CheckOffload(c, r.plan); !ok) return std::move(ok).error();
  return CostAndAssemble(c, m, r, rules);
}

}  // namespace suanli
