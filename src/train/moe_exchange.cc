// The MoE layers' dispatch and combine in training, per Megatron-Core's token
// dispatchers, on the link model or DeepEP's measured curves (declared in
// train_internal.h). Apart from layer_costs.cc so that the dense layer walk
// compiles as it would without them.
#include <algorithm>
#include <optional>

#include "suanli/cost/moe_dispatch.h"
#include "train/train_internal.h"

namespace suanli::train {

std::optional<NormalKernelRates> MeasuredNormalRates(const Cluster& c, const Group& g) {
  const DispatchCurves& dc = c.device.expert_dispatch;
  const int domain = c.topology.scale_up_domain;
  const bool inside = g.in_domain(domain);
  if (dc.normal_intranode.empty() || (!inside && dc.normal_internode.empty())) return std::nullopt;
  const double up = c.topology.scale_up_bandwidth.si(), out = c.topology.scale_out_bandwidth.si();
  const double ku = up > 0 && dc.scale_up > 0 ? up / dc.scale_up : 1, ko = out > 0 && dc.scale_out > 0 ? out / dc.scale_out : 1;
  NormalKernelRates r{.latency = c.device.collective_latency.si()};
  for (int i = 0; i < 2; ++i) {
    r.up[i] = dc.normal_intranode.At(inside ? g.ranks : g.per_domain(domain), i == 1) * ku;
    r.out[i] = inside ? 0 : dc.normal_internode.At(g.ranks, i == 1) * ko;
  }
  return r;
}

double ExpertExchangeSeconds(const Links& links, const TrainPlan& p, bool sp, double tokens, double token_bytes,
                             const MoeShape& e, double imbalance, const NormalKernelRates* rates) {
  const double etp = ExpertTp(p), tp = p.tp;
  // Megatron-Core lays the experts' ranks out etp innermost, then ep, then
  // edp (parallel_state's expert RankGenerator, order tp-ep-dp-pp over the
  // expert degrees), so an EP group spans etp x ep consecutive chips.
  const Group ep_group{.ranks = p.ep, .stride = ExpertTp(p)};
  const double sent = sp ? tokens / tp * (p.dispatcher == ExpertDispatcher::kDeepEp ? etp : 1) : tokens * etp / tp;
  if (rates != nullptr) {
    const CountedCopies n = DeepEpCountedCopies(ep_group, links.domain, e.experts, e.top_k);
    const double bytes = sent * imbalance * token_bytes;
    double t = 0;
    for (int i = 0; i < 2; ++i) {
      const double out = rates->out[i] > 0 ? bytes * n.domains / rates->out[i] : 0;
      t += std::max(rates->latency, std::max(bytes * n.ranks / rates->up[i], out));
    }
    return t;
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
