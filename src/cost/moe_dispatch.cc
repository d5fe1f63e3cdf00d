// DeepEP's measured dispatch rates and the normal kernels' time on them
// (declared in suanli/cost/moe_dispatch.h), shared by training and serving.
#include <algorithm>
#include <cmath>
#include <optional>

#include "suanli/cost/moe_dispatch.h"

namespace suanli {

std::optional<MeasuredDispatchRates> MeasuredDispatch(const Cluster& c, const Group& g) {
  const DispatchCurves& dc = c.device.expert_dispatch;
  const int domain = c.topology.scale_up_domain;
  const bool inside = g.in_domain(domain);
  if (dc.normal_intranode.empty() || (!inside && dc.normal_internode.empty())) return std::nullopt;
  const double up = c.topology.scale_up_bandwidth.si(), out = c.topology.scale_out_bandwidth.si();
  const double ku = up > 0 && dc.scale_up > 0 ? up / dc.scale_up : 1;
  const double ko = out > 0 && dc.scale_out > 0 ? out / dc.scale_out : 1;
  MeasuredDispatchRates r{.latency = c.device.collective_latency.si(),
                          .scaled = std::abs(ku - 1) > 1e-9 || (!inside && std::abs(ko - 1) > 1e-9)};
  for (int i = 0; i < 2; ++i) {
    const bool combine = i == 1;
    r.normal_up[i] = dc.normal_intranode.At(inside ? g.ranks : g.per_domain(domain), combine) * ku;
    r.normal_out[i] = inside ? 0 : dc.normal_internode.At(g.ranks, combine) * ko;
    r.low_latency[i] = dc.low_latency.At(g.ranks, combine) * (inside ? ku : ko);
  }
  return r;
}

double NormalKernelSeconds(const MeasuredDispatchRates& r, const Group& g, int domain, double tokens,
                           const double (&token_bytes)[2], double experts, double top_k) {
  const CountedCopies n = DeepEpCountedCopies(g, domain, experts, top_k);
  double t = 0;
  for (int i = 0; i < 2; ++i) {
    const double up = tokens * token_bytes[i] * n.ranks / r.normal_up[i];
    const double out = r.normal_out[i] > 0 ? tokens * token_bytes[i] * n.domains / r.normal_out[i] : 0;
    t += std::max(r.latency, std::max(up, out));
  }
  return t;
}

}  // namespace suanli
