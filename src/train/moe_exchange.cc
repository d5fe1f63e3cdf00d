// The MoE layers' dispatch and combine in training, per Megatron-Core's token
// dispatchers, on the link model or DeepEP's measured curves (declared in
// train_internal.h). Apart from layer_costs.cc so that the dense layer walk
// compiles as it would without them.

#include "suanli/cost/moe_dispatch.h"
#include "train/train_internal.h"

namespace suanli::train {

double ExpertExchangeSeconds(const Links& links, const TrainPlan& p, bool sp, double tokens, double token_bytes,
                             const MoeShape& e, double imbalance, const MeasuredDispatchRates* rates) {
  const double etp = ExpertTp(p), tp = p.tp;
  // Megatron-Core lays the experts' ranks out etp innermost, then ep, then
  // edp (parallel_state's expert RankGenerator, order tp-ep-dp-pp over the
  // expert degrees), so an EP group spans etp x ep consecutive chips.
  const Group ep_group{.ranks = p.ep, .stride = ExpertTp(p)};
  const double sent = sp ? tokens / tp * (p.dispatcher == ExpertDispatcher::kDeepEp ? etp : 1) : tokens * etp / tp;
  if (rates != nullptr) {
    const double bytes[2] = {token_bytes, token_bytes};
    return NormalKernelSeconds(*rates, ep_group, links.domain, sent * imbalance, bytes, e.experts, e.top_k);
  }
  if (!sp) return 2 * ExpertDispatchSeconds(links, ep_group, p.dispatcher, sent, token_bytes, e.experts, e.top_k, imbalance);
  const Group etp_group{.ranks = ExpertTp(p), .stride = 1};
  const double own = tokens / tp;  // what enters the block on this device
  if (p.dispatcher == ExpertDispatcher::kDeepEp) {
    if (p.ep == 1) return etp > 1 ? 2 * AllGather(links, etp * own * token_bytes, etp_group) : 0.0;
    return 2 * ExpertDispatchSeconds(links, ep_group, p.dispatcher, sent, token_bytes, e.experts, e.top_k, imbalance);
  }
  const double a2a = ExpertDispatchSeconds(links, ep_group, p.dispatcher, own, token_bytes, e.experts, e.top_k, imbalance);
  // The all-gather's output: the etp members' received copies, top_k per token.
  const double gathered = etp > 1 ? AllGather(links, etp * own * e.top_k * imbalance * token_bytes, etp_group) : 0.0;
  return 2 * (a2a + gathered);
}

}  // namespace suanli::train
