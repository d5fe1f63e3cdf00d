// The parallel-plan search over a pure evaluator.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

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
using train::kTpOverlapNeedsTp;

namespace {

std::vector<int> Divisors(int64_t n, int64_t limit) {
  std::vector<int> out;
  for (int64_t i = 1; i <= n && i <= limit; ++i) {
    if (n % i == 0) out.push_back(int(i));
  }
  return out;
}

// Strict order: faster first, then the plan fields, so ties are deterministic.
bool Better(const RankedPlan& a, const RankedPlan& b) {
  if (a.estimate.step_time_s != b.estimate.step_time_s) return a.estimate.step_time_s < b.estimate.step_time_s;
  const TrainPlan& x = a.plan;
  const TrainPlan& y = b.plan;
  return std::tie(x.tp, x.pp, x.dp, x.cp, x.ep, x.vp, x.micro_batch, x.recompute, x.zero, x.sequence_parallel,
                  x.overlap_dp, x.overlap_tp) < std::tie(y.tp, y.pp, y.dp, y.cp, y.ep, y.vp, y.micro_batch, y.recompute,
                                                         y.zero, y.sequence_parallel, y.overlap_dp, y.overlap_tp);
}

struct Outer {
  int tp, cp, mb;
  bool sp;
};

}  // namespace

Result<SearchResult> SearchTraining(const Cluster& c, const ModelArch& m, const TrainRequest& r, const SearchSpace& space,
                                    const SearchOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const TrainPlan& fixed = r.plan;
  if (r.devices < 1 || r.seq_len < 1 || r.global_batch < 1) {
    // Reuse the plan check's messages for the request fields.
    TrainRequest probe = r;
    probe.plan = TrainPlan{};
    probe.plan.dp = int(std::max<int64_t>(1, r.devices));
    if (auto ok = CheckTrainingPlan(c, m, probe); !ok) return std::move(ok).error();
  }
  // TP overlap asked for with tp fixed at 1: the search would quietly drop it.
  if (!space.tp && fixed.tp == 1 && !space.overlap_tp && fixed.overlap_tp) {
    return Error({Diagnostic{.key_path = "tp_overlap", .message = std::string(kTpOverlapNeedsTp)}});
  }
  const ModelTotals totals = Totals(m);
  const int64_t n = r.devices;
  auto pick = [&](bool free, int value, std::vector<int> all) {
    if (!free) return std::vector<int>{value};
    return all;
  };
  const std::vector<int> tps = pick(space.tp, fixed.tp, Divisors(n, std::min<int64_t>(totals.min_heads, 64)));
  const std::vector<int> cps = pick(space.cp, fixed.cp, r.flash_attention ? Divisors(n, 16) : std::vector<int>{1});
  const std::vector<int> pps = pick(space.pp, fixed.pp, Divisors(n, m.layers));
  const std::vector<int> eps = pick(space.ep, fixed.ep, totals.moe ? Divisors(n, totals.min_experts) : std::vector<int>{1});
  const std::vector<Recompute> recomputes =
      space.recompute ? std::vector<Recompute>{Recompute::kNone, Recompute::kSelective, Recompute::kFull}
                      : std::vector<Recompute>{fixed.recompute};
  const std::vector<int> zeros = space.zero ? std::vector<int>{0, 1, 2, 3} : std::vector<int>{fixed.zero};
  const std::vector<bool> overlaps = space.overlap_dp ? std::vector<bool>{false, true} : std::vector<bool>{fixed.overlap_dp};
  const std::vector<bool> tp_overlaps = space.overlap_tp ? std::vector<bool>{false, true} : std::vector<bool>{fixed.overlap_tp};

  // Outer tuples: everything the layer costs depend on.
  const std::vector<int> mbs = pick(space.micro_batch, fixed.micro_batch, Divisors(r.global_batch, r.global_batch));
  std::vector<Outer> outers;
  for (int tp : tps) {
    for (int cp : cps) {
      if (n % (int64_t(tp) * cp) != 0 || r.seq_len % cp != 0) continue;
      for (int mb : mbs) {
        const std::vector<bool> sps = tp > 1 && space.sequence_parallel ? std::vector<bool>{false, true}
                                                                         : std::vector<bool>{tp > 1 && fixed.sequence_parallel};
        for (bool sp : sps) outers.push_back(Outer{tp, cp, mb, sp});
      }
    }
  }
  std::atomic<int64_t> evaluated{0}, feasible{0};
  std::atomic<std::size_t> next{0};
  std::mutex merge;
  std::vector<RankedPlan> best;
  const int top_k = std::max(1, options.top_k);
  const unsigned threads = options.threads > 0 ? unsigned(options.threads)
                                               : std::max(1u, std::thread::hardware_concurrency());

  auto work = [&](bool reporter) {
    std::vector<RankedPlan> local;
    int64_t my_eval = 0, my_feasible = 0;
    TrainRequest req = r;
    Context x = MakeContext(c, m, req);
    for (std::size_t i = next++; i < outers.size(); i = next++) {
      const Outer& o = outers[i];
      TrainPlan p = fixed;
      p.tp = o.tp;
      p.cp = o.cp;
      p.micro_batch = o.mb;
      p.sequence_parallel = o.sp;
      // DP and TP overlap choices; TP overlap only means something with tp > 1.
      std::vector<std::pair<bool, bool>> overlap_choices;
      for (bool ov : overlaps) {
        for (bool to : o.tp > 1 ? tp_overlaps : std::vector<bool>{false}) overlap_choices.emplace_back(ov, to);
      }
      LayerCosts lc;
      for (int pp : pps) {
        const int64_t rest = n / (int64_t(o.tp) * o.cp);
        if (rest % pp != 0) continue;
        const int dp = int(rest / pp);
        if (!space.dp && dp != fixed.dp) continue;
        if (r.global_batch % dp != 0 || (r.global_batch / dp) % o.mb != 0) continue;
        std::vector<int> vps{fixed.vp};
        if (space.vp) {
          vps = {1};
          if (pp > 1) {
            for (int v : Divisors(m.layers / pp, 64)) {
              if (v > 1 && m.layers % (pp * v) == 0) vps.push_back(v);
            }
          }
        } else if (fixed.vp > 1 && (pp == 1 || m.layers % (pp * fixed.vp) != 0)) {
          continue;
        }
        for (int ep : eps) {
          if (ep > 1 && dp % ep != 0) continue;
          p.pp = pp;
          p.dp = dp;
          p.ep = ep;
          // Layer costs see pp and dp only through the links they pick.
          lc = ComputeLayerCosts(c, x.links, m, req, p, x.rate);
          for (int vp : vps) {
            p.vp = vp;
            for (Recompute rc : recomputes) {
              p.recompute = rc;
              for (int z : zeros) {
                p.zero = z;
                for (auto [overlap_dp, overlap_tp] : overlap_choices) {
                  p.overlap_dp = overlap_dp;
                  p.overlap_tp = overlap_tp;
                  ++my_eval;
                  TrainEstimate e;
                  Assemble(x, p, lc, e, Timing::kIfFits);
                  if (!e.fits) continue;
                  ++my_feasible;
                  RankedPlan cand{p, e};
                  if (int(local.size()) < top_k || Better(cand, local.back())) {
                    local.insert(std::upper_bound(local.begin(), local.end(), cand, Better), cand);
                    if (int(local.size()) > top_k) local.pop_back();
                  }
                }
              }
            }
          }
        }
      }
      if (reporter && options.progress) options.progress(double(std::min(next.load(), outers.size())) / outers.size());
    }
    std::lock_guard<std::mutex> lock(merge);
    evaluated += my_eval;
    feasible += my_feasible;
    for (auto& cand : local) best.push_back(std::move(cand));
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, false);
  work(true);
  for (auto& t : pool) t.join();
  std::sort(best.begin(), best.end(), Better);
  if (int(best.size()) > top_k) best.resize(std::size_t(top_k));
  SearchResult out;
  for (auto& b : best) {
    b.estimate.tier = c.device.tier;
    TrainRequest req = r;
    req.plan = b.plan;
    // Fill warnings and time-to-train as a single estimate would.
    if (auto full = EstimateTraining(c, m, req)) b.estimate = *full;
    out.top.push_back(b);
  }
  out.candidates_evaluated = evaluated;
  out.candidates_feasible = feasible;
  out.search_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace suanli
