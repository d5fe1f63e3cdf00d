// Measured expert-parallel dispatch and combine bandwidth by EP size:
// DeepEP's performance tables (deepseek-ai/DeepEP docs/legacy.md, V1; the
// development set's micro-22 and micro-23), written in a chip's profile as
// `expert_dispatch.*` (docs/serving-model.md, "EP dispatch and combine").
//
// A curve is a few points "EP=DISPATCH/COMBINE" (GB/s per GPU, the
// bottleneck bandwidth DeepEP's tests print); between two points the
// bandwidth is interpolated linearly in log2(EP), beyond the ends it is the
// end point's. Both are monotone: an interpolated value lies between its two
// neighbours.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <string_view>

namespace suanli {

struct DispatchCurve {
  static constexpr int kMaxPoints = 12;
  std::array<double, kMaxPoints> ep{};        // sorted, distinct
  std::array<double, kMaxPoints> dispatch{};  // B/s
  std::array<double, kMaxPoints> combine{};   // B/s
  int size = 0;
  [[nodiscard]] bool empty() const { return size == 0; }

  // Bandwidth (B/s) at `ranks` EP ranks; 0 when the curve is empty.
  [[nodiscard]] double At(double ranks, bool combine_side) const {
    if (size == 0) return 0;
    const auto& v = combine_side ? combine : dispatch;
    if (ranks <= ep[0]) return v[0];
    if (ranks >= ep[size - 1]) return v[size - 1];
    int i = 1;
    while (ep[i] < ranks) ++i;
    const double t = (std::log2(ranks) - std::log2(ep[i - 1])) / (std::log2(ep[i]) - std::log2(ep[i - 1]));
    return v[i - 1] + t * (v[i] - v[i - 1]);
  }
};

// DeepEP's two kernel families (V1): normal (high-throughput; NVLink inside a
// node, RDMA to the same local index of other nodes, tokens deduplicated per
// rank and per node) and low-latency (every token-expert pair sent
// directly, over RDMA, for decode's small batches).
struct DispatchCurves {
  DispatchCurve normal_intranode;  // EP within one scale-up domain
  DispatchCurve normal_internode;  // EP across domains: the RDMA bottleneck
  DispatchCurve low_latency;       // at the measured tokens per rank
  double scale_up = 0;   // B/s per GPU per direction of the links measured on
  double scale_out = 0;  // B/s per GPU of the scale-out line rate measured on
  [[nodiscard]] bool empty() const {
    return normal_intranode.empty() && normal_internode.empty() && low_latency.empty();
  }
};

// The same measurement counted in ranks `k` times as large: a curve measured
// per die read on a package of k dies has EP over k and every bandwidth and
// link rate times k (each package carries its dies' traffic at once); k < 1
// goes the other way.
void RecountRanks(DispatchCurves& curves, double k);

// Parses "8=153/158, 16=43, 32=58/57" (EP=DISPATCH/COMBINE in GB/s; one
// figure is both). On failure returns false and says why.
bool ParseDispatchCurve(std::string_view text, DispatchCurve& out, std::string& error);

}  // namespace suanli
