// EstimateTraining: one plan, checked, costed and assembled.
#include <cmath>

#include "train/train_internal.h"

namespace suanli {

using train::Assemble;
using train::ComputeLayerCosts;
using train::Context;
using train::LayerCosts;
using train::MakeContext;
using train::ModelTotals;
using train::Timing;
using train::Totals;

Result<TrainEstimate> EstimateTraining(const Cluster& c, const ModelArch& m, const TrainRequest& r) {
  if (auto ok = CheckTrainingPlan(m, r); !ok) return std::move(ok).error();
  Context x = MakeContext(c, m, r);
  const LayerCosts lc = ComputeLayerCosts(c, x.links, m, r, r.plan, x.rate);
  TrainEstimate e;
  Assemble(x, r.plan, lc, e, Timing::kAlways);
  if (!std::isfinite(e.step_time_s) || e.step_time_s <= 0) {
    return Error::Internal("the training estimate is not finite for this plan");
  }
  return e;
}

}  // namespace suanli
