// The exhaustive strategy over a PlanSpace, on the pure evaluator of
// train_internal.h, feeding the sinks SearchOptions asks for.
//
// Loop order follows what the costs depend on: the layer costs change with
// (tp, cp, micro-batch, sp) and, through the links they pick, pp, dp and ep;
// the rest (vp, recompute, ZeRO, overlaps) only reassembles the step. Each
// thread takes whole outer tuples from a shared counter and keeps its own
// sinks; they are merged at the end, so the answer does not depend on the
// thread count.
#include "suanli/search/search.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <cmath>
#include <mutex>
#include <thread>
#include <tuple>

#include "train/train_internal.h"

namespace suanli {
namespace {

using train::Assemble;
using train::ComputeLayerCosts;
using train::Context;
using train::LayerCosts;
using train::MakeContext;
using train::PlanRules;
using train::Timing;

std::vector<int> Divisors(int64_t n, int64_t limit) {
  std::vector<int> out;
  for (int64_t i = 1; i <= n && i <= limit; ++i) {
    if (n % i == 0) out.push_back(int(i));
  }
  return out;
}

auto PlanKey(const TrainPlan& p) {
  return std::tie(p.tp, p.pp, p.dp, p.cp, p.ep, p.vp, p.micro_batch, p.recompute, p.zero, p.sequence_parallel,
                  p.overlap_dp, p.overlap_tp, p.overlap_pp, p.etp, p.first_stage_layers, p.last_stage_layers,
                  p.embedding_in_split, p.loss_in_split, p.dispatcher, p.overlap_ep, p.recompute_modules, p.offload_layers,
                  p.schedule, p.cp_comm, p.fp8_activations, p.mtp_layers, p.fsdp, p.fsdp_reshard, p.offload_optimizer,
                  p.offload_weights);
}

// Strict order by the objective, then the plan fields, so ties are deterministic.
struct Better {
  Objective objective;
  bool operator()(const RankedPlan& a, const RankedPlan& b) const {
    return Less(a.plan, a.estimate, b.plan, b.estimate);
  }
  bool Less(const TrainPlan& a, const TrainEstimate& x, const TrainPlan& b, const TrainEstimate& y) const {
    if (objective == Objective::kMemory && x.memory.total != y.memory.total) return x.memory.total < y.memory.total;
    if (x.step_time_s != y.step_time_s) return x.step_time_s < y.step_time_s;
    return PlanKey(a) < PlanKey(b);
  }
};

// Order for the front: step time, then memory, then the plan.
bool FrontOrder(const RankedPlan& a, const RankedPlan& b) {
  if (a.estimate.step_time_s != b.estimate.step_time_s) return a.estimate.step_time_s < b.estimate.step_time_s;
  if (a.estimate.memory.total != b.estimate.memory.total) return a.estimate.memory.total < b.estimate.memory.total;
  return PlanKey(a.plan) < PlanKey(b.plan);
}

// What one thread keeps.
class Sinks {
 public:
  Sinks(const SearchOptions& o, std::mutex& stream_lock, const Context& x)
      : o_(o), better_{o.objective}, stream_lock_(stream_lock), x_(x) {}

  void Add(const TrainPlan& p, const TrainEstimate& e) {
    // Top k: a max-heap by the objective (its front is the worst kept).
    const bool room = int(top_.size()) < o_.top_k;
    const bool beats = !room && better_.Less(p, e, top_.front().plan, top_.front().estimate);
    if (!room && !beats && !o_.pareto && !o_.on_feasible) return;  // nothing keeps it: no copy
    RankedPlan cand{p, e};
    train::FinishRates(x_, cand.estimate);  // the search leaves the rates to the plans it keeps
    if (room) {
      top_.push_back(cand);
      std::push_heap(top_.begin(), top_.end(), better_);
    } else if (beats) {
      std::pop_heap(top_.begin(), top_.end(), better_);
      top_.back() = cand;
      std::push_heap(top_.begin(), top_.end(), better_);
    }
    if (o_.pareto) AddToFront(cand);
    if (o_.on_feasible) {
      batch_.push_back(cand);
      if (batch_.size() >= 4096) Flush();
    }
  }

  void Flush() {
    if (batch_.empty()) return;
    std::lock_guard<std::mutex> lock(stream_lock_);
    o_.on_feasible(batch_);
    batch_.clear();
  }

  // Whether a plan whose step time is at least `bound` can enter nothing
  // kept: only the top k by step time is kept, it is full, and its worst is
  // faster than the bound (a tie may still enter by the plan's fields).
  [[nodiscard]] bool RulesOut(double bound) const {
    return prunable_ && int(top_.size()) >= o_.top_k && bound > top_.front().estimate.step_time_s;
  }

  std::vector<RankedPlan>& top() { return top_; }
  std::vector<RankedPlan>& front() { return front_; }

 private:
  // Keeps the plans no other kept plan beats on both step time and memory.
  void AddToFront(const RankedPlan& c) {
    const double t = c.estimate.step_time_s, mem = c.estimate.memory.total;
    for (const RankedPlan& f : front_) {
      if (f.estimate.step_time_s <= t && f.estimate.memory.total <= mem &&
          (f.estimate.step_time_s < t || f.estimate.memory.total < mem)) {
        return;
      }
    }
    std::erase_if(front_, [&](const RankedPlan& f) {
      return t <= f.estimate.step_time_s && mem <= f.estimate.memory.total &&
             (t < f.estimate.step_time_s || mem < f.estimate.memory.total);
    });
    front_.push_back(c);
  }

  const SearchOptions& o_;
  Better better_;
  const bool prunable_ = o_.objective == Objective::kStepTime && !o_.pareto && !o_.on_feasible;
  std::mutex& stream_lock_;
  const Context& x_;
  std::vector<RankedPlan> top_, front_, batch_;
};

// The candidates of each dimension: the space's, or every value that can exist.
struct Candidates {
  std::vector<int> tp, pp, cp, ep, mb, zero, dp;
  std::vector<Recompute> recompute;
  std::vector<bool> sp, overlap_dp, overlap_tp;
  std::vector<int> vp;  // empty: every interleaving the pp allows
  std::vector<PipelineSchedule> schedule;
  std::vector<CpComm> cp_comm;
  std::vector<bool> fsdp, fsdp_reshard;
  std::vector<int> etp;
  std::vector<int> layouts;  // -1: the request's own layout; 0 / 1: embedding and loss out of / in the split
  std::vector<bool> offload_optimizer;
};

template <typename T>
std::vector<T> OrAll(const std::vector<T>& given, std::vector<T> all) {
  return given.empty() ? all : given;
}

Candidates Resolve(const PlanSpace& s, const ModelArch& m, const TrainRequest& r, const PlanRules& rules,
                   bool host_known) {
  const auto& t = rules.totals();
  const int64_t n = r.devices;
  Candidates c;
  c.tp = OrAll(s.tp, Divisors(n, std::min<int64_t>(t.min_heads, 64)));
  c.cp = OrAll(s.cp, r.flash_attention ? Divisors(n, 16) : std::vector<int>{1});
  c.pp = OrAll(s.pp, Divisors(n, m.layers));
  c.ep = OrAll(s.ep, t.moe ? Divisors(n, t.min_experts) : std::vector<int>{1});
  c.mb = OrAll(s.micro_batch, Divisors(r.global_batch, r.global_batch));
  c.zero = OrAll(s.zero, {0, 1, 2, 3});
  c.recompute = OrAll(s.recompute, {Recompute::kNone, Recompute::kSelective, Recompute::kFull});
  c.sp = OrAll(s.sequence_parallel, {false, true});
  // Each choice once (the loops keep them in two-slot arrays), in the order given.
  auto distinct = [](const std::vector<bool>& v) {
    std::vector<bool> out;
    for (bool b : v) {
      if (std::find(out.begin(), out.end(), b) == out.end()) out.push_back(b);
    }
    return out;
  };
  c.overlap_dp = distinct(OrAll(s.overlap_dp, {false, true}));
  c.overlap_tp = distinct(OrAll(s.overlap_tp, {false, true}));
  c.vp = s.vp;
  c.dp = s.dp;
  c.schedule = OrAll(s.schedule, {PipelineSchedule::k1F1B, PipelineSchedule::kZeroBubble, PipelineSchedule::kDualPipe});
  std::sort(c.schedule.begin(), c.schedule.end());  // 1F1B before zero-bubble, which the search derives from it
  c.schedule.erase(std::unique(c.schedule.begin(), c.schedule.end()), c.schedule.end());
  c.cp_comm = OrAll(s.cp_comm, {CpComm::kRing, CpComm::kAllToAll});
  c.fsdp = distinct(OrAll(s.fsdp, {false, true}));
  c.fsdp_reshard = distinct(OrAll(s.fsdp_reshard, {true, false}));
  c.etp = OrAll(s.etp, t.moe ? std::vector<int>{0, 1} : std::vector<int>{0});
  const TrainPlan& q = r.plan;
  const bool given_layout = q.first_stage_layers != 0 || q.last_stage_layers != 0 || q.embedding_in_split || q.loss_in_split;
  if (given_layout) {
    c.layouts = {-1};
  } else {
    for (bool b : distinct(OrAll(s.ends_in_split, {false, true}))) c.layouts.push_back(b ? 1 : 0);
  }
  c.offload_optimizer = distinct(OrAll(s.offload_optimizer, host_known ? std::vector<bool>{false, true} : std::vector<bool>{false}));
  return c;
}

// Interleavings a pipeline of pp stages allows: 1, and every v that divides
// the layers per stage (up to 64 virtual stages).
std::vector<int> Interleavings(const ModelArch& m, int pp, const PlanRules& rules, const TrainPlan& p) {
  std::vector<int> out;
  if (rules.Layout(pp, 1, p)) out.push_back(1);
  if (pp <= 1) return out;
  for (int v = 2; v <= 64 && int64_t(v) * pp <= int64_t(m.layers) + 2; ++v) {
    if (rules.Layout(pp, v, p)) out.push_back(v);
  }
  return out;
}

struct Outer {
  int tp, cp, mb;
  bool sp;
  CpComm cp_comm;
};

}  // namespace

PlanSpace PlanSpace::Fixed(const TrainPlan& p) {
  PlanSpace s;
  s.tp = {p.tp};
  s.pp = {p.pp};
  s.dp = {p.dp};
  s.cp = {p.cp};
  s.ep = {p.ep};
  s.vp = {p.vp};
  s.micro_batch = {p.micro_batch};
  s.zero = {p.zero};
  s.recompute = {p.recompute};
  s.sequence_parallel = {p.sequence_parallel};
  s.overlap_dp = {p.overlap_dp};
  s.overlap_tp = {p.overlap_tp};
  s.schedule = {p.schedule};
  s.cp_comm = {p.cp_comm};
  s.fsdp = {p.fsdp};
  s.fsdp_reshard = {p.fsdp_reshard};
  s.etp = {p.etp};
  s.ends_in_split = {p.embedding_in_split && p.loss_in_split};
  s.offload_optimizer = {p.offload_optimizer};
  return s;
}

Result<SearchResult> SearchTraining(const Cluster& c, const ModelArch& m, const TrainRequest& r, const PlanSpace& space,
                                    const SearchOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (auto ok = CheckTrainingRequest(r); !ok) return std::move(ok).error();
  if (options.top_k < 1 || options.top_k > kMaxTopK) {
    return Error(Diagnostic{.key_path = "top", .message = "must be between 1 and " + std::to_string(kMaxTopK) +
                                                            ", found " + std::to_string(options.top_k)});
  }
  // TP overlap asked for with tp fixed at 1: the search would quietly drop it.
  if (space.tp.size() == 1 && space.tp[0] == 1 && space.overlap_tp.size() == 1 && space.overlap_tp[0]) {
    return Error(Diagnostic{.key_path = "tp_overlap", .message = std::string(train::kTpOverlapNeedsTp)});
  }
  if (auto ok = train::CheckOffload(c, r.plan); !ok) return std::move(ok).error();
  const PlanRules rules(m, r);
  const bool host_known = c.host_link.si() > 0 && c.host_memory.si() > 0;
  const Candidates cand = Resolve(space, m, r, rules, host_known);
  for (bool b : cand.offload_optimizer) {
    TrainPlan q = r.plan;
    q.offload_optimizer = b;
    if (auto ok = train::CheckOffload(c, q); !ok) return std::move(ok).error();
  }
  const int64_t n = r.devices;
  std::vector<Outer> outers;
  for (int tp : cand.tp) {
    if (!rules.Tp(tp)) continue;
    for (int cp : cand.cp) {
      if (!rules.Cp(cp) || n % (int64_t(tp) * cp) != 0) continue;
      for (CpComm comm : cand.cp_comm) {
        // The exchange only means something with cp > 1: ring stands for both at cp 1.
        if (cp == 1 && comm != cand.cp_comm.front()) continue;
        if (!rules.CpComm(tp, cp, comm)) continue;
        for (int mb : cand.mb) {
          // Sequence parallelism and TP overlap only mean something with tp > 1.
          for (bool sp : tp > 1 ? cand.sp : std::vector<bool>{false}) outers.push_back(Outer{tp, cp, mb, sp, comm});
        }
      }
    }
  }
  const bool dualpipe_searched =
      std::find(cand.schedule.begin(), cand.schedule.end(), PipelineSchedule::kDualPipe) != cand.schedule.end();
  const bool zb_searched =
      std::find(cand.schedule.begin(), cand.schedule.end(), PipelineSchedule::kZeroBubble) != cand.schedule.end();
  std::atomic<int64_t> evaluated{0}, feasible{0};
  std::atomic<std::size_t> next{0};
  std::mutex merge, stream_lock;
  std::vector<RankedPlan> tops, fronts;
  bool cancelled = false;
  const unsigned threads = options.threads > 0 ? unsigned(options.threads)
                                               : std::max(1u, std::thread::hardware_concurrency());

  auto work = [&](bool reporter) {
    const Context x = MakeContext(c, m, r);
    Sinks sinks(options, stream_lock, x);
    int64_t my_eval = 0, my_feasible = 0;
    bool stopped = false;
    // Reused by every candidate: Assemble sets each of its fields (the
    // time-to-train ones with the request's tokens, the same for all).
    TrainEstimate e;
    TrainEstimate twin;  // an FSDP twin of `e`
    // What one schedule's candidates counted at the first TP overlap, when the bound ruled them out.
    struct Replay {
      bool bounded = false, zb_done = false;
      int64_t evaluated = 0, feasible = 0;
    };
    Replay replays[4];
    bool tp_overlaps[2] = {};
    std::size_t tp_overlap_count = 0;
    bool dp_overlaps[2] = {};
    const std::size_t dp_overlap_count = std::min<std::size_t>(2, cand.overlap_dp.size());
    for (std::size_t k = 0; k < dp_overlap_count; ++k) dp_overlaps[k] = cand.overlap_dp[k];
    // The small boolean dimensions in plain arrays (no vector<bool> in the hot loops).
    const bool fsdp_searched = std::find(cand.fsdp.begin(), cand.fsdp.end(), true) != cand.fsdp.end();
    const bool plain_searched = std::find(cand.fsdp.begin(), cand.fsdp.end(), false) != cand.fsdp.end();
    bool reshards[2] = {}, offloads[2] = {};
    const std::size_t reshard_count = std::min<std::size_t>(2, cand.fsdp_reshard.size());
    const std::size_t offload_count = std::min<std::size_t>(2, cand.offload_optimizer.size());
    for (std::size_t k = 0; k < reshard_count; ++k) reshards[k] = cand.fsdp_reshard[k];
    for (std::size_t k = 0; k < offload_count; ++k) offloads[k] = cand.offload_optimizer[k];
    // FSDP always prefetches (PyTorch's FSDP notes: implicit forward
    // prefetching is always enabled; Megatron-FSDP overlaps on its own
    // streams): its twins take the DP overlap alone where it is a candidate.
    bool fsdp_overlaps[2] = {};
    std::size_t fsdp_overlap_count = 0;
    if (std::find(cand.overlap_dp.begin(), cand.overlap_dp.end(), true) != cand.overlap_dp.end()) {
      fsdp_overlaps[fsdp_overlap_count++] = true;
    } else {
      for (std::size_t k = 0; k < dp_overlap_count; ++k) fsdp_overlaps[fsdp_overlap_count++] = dp_overlaps[k];
    }
    for (std::size_t i = next++; i < outers.size(); i = next++) {
      if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed)) {
        stopped = true;
        break;
      }
      const Outer& o = outers[i];
      TrainPlan p = r.plan;
      p.tp = o.tp;
      p.cp = o.cp;
      p.micro_batch = o.mb;
      p.sequence_parallel = o.sp;
      p.cp_comm = o.cp_comm;
      tp_overlap_count = 0;
      if (o.tp > 1) {
        for (std::size_t k = 0; k < cand.overlap_tp.size() && k < 2; ++k) tp_overlaps[tp_overlap_count++] = cand.overlap_tp[k];
      } else {
        tp_overlaps[tp_overlap_count++] = false;
      }
      for (int pp : cand.pp) {
        if (!rules.Pp(pp)) continue;
        const int64_t rest = n / (int64_t(o.tp) * o.cp);
        if (rest % pp != 0) continue;
        const int dp = int(rest / pp);
        if (!cand.dp.empty() && std::find(cand.dp.begin(), cand.dp.end(), dp) == cand.dp.end()) continue;
        if (!rules.MicroBatch(dp, o.mb)) continue;
        // The interleavings each layout allows (the counted layout needs a pipeline).
        std::vector<int> layout_vps[3];
        for (int layout : cand.layouts) {
          if (layout == 1 && pp < 2) continue;
          if (layout >= 0) p.embedding_in_split = p.loss_in_split = layout == 1;
          layout_vps[layout + 1] = cand.vp.empty() ? Interleavings(m, pp, rules, p) : cand.vp;
        }
        for (int ep : cand.ep) {
          if (!rules.EpWithModel(ep)) continue;
          for (int etp : cand.etp) {
            // etp 1 at tp 1 is etp = tp: once.
            if (etp == 1 && o.tp == 1 && std::find(cand.etp.begin(), cand.etp.end(), 0) != cand.etp.end()) continue;
            if (ep == 1 && etp != cand.etp.front()) continue;  // no experts split: etp means nothing
            if (!PlanRules::EpFolds(o.tp, o.cp, dp, ep, etp)) continue;
            p.pp = pp;
            p.dp = dp;
            p.ep = ep;
            p.etp = etp;
            // Layer costs see pp and dp only through the links they pick.
            const LayerCosts lc = ComputeLayerCosts(c, x.links, m, r, p, x.rate);
            for (int layout : cand.layouts) {
              if (layout_vps[layout + 1].empty()) continue;
              if (layout >= 0) p.embedding_in_split = p.loss_in_split = layout == 1;
              train::StageTerms st = train::MakeStageTerms(x, p, true);  // the same for every vp and below
              train::CacheDataParallel(x, p, st);
              const int64_t mbs = r.global_batch / dp / o.mb;
              for (int vp : layout_vps[layout + 1]) {
                if (!rules.Layout(pp, vp, p)) continue;
                p.vp = vp;
                for (Recompute rc : cand.recompute) {
                  p.recompute = rc;
                  // Every plan below takes at least this long (StepLowerBound):
                  // one ruled out by it is checked for memory and counted, not timed.
                  const double bound = train::StepLowerBound(x, p, lc, st, dualpipe_searched);
                  for (int z : cand.zero) {
                    if (!PlanRules::Zero(z)) continue;
                    p.zero = z;
                    // FSDP variants only at ZeRO 3 with something to shard (dp
                    // or edp > 1: with neither it is plain ZeRO 3), each
                    // derived from the plain plan's estimate (FsdpFrom).
                    const bool fsdp_here = fsdp_searched && z == 3 && (dp > 1 || st.edp > 1);
                    if (!plain_searched && !fsdp_here) continue;
                    for (std::size_t oo = 0; oo < offload_count; ++oo) {
                      p.offload_optimizer = offloads[oo];
                      p.fsdp = false;
                      p.fsdp_reshard = true;
                      for (std::size_t t_ov = 0; t_ov < tp_overlap_count; ++t_ov) {
                        p.overlap_tp = tp_overlaps[t_ov];
                        // What the DP overlap changes (the reduction's exposure)
                        // and ZB-H1 (the bubble: the same memory and work as 1F1B
                        // at vp 1) are a few operations on an assembled estimate;
                        // schedules come in enum order, 1F1B first.
                        bool zb_done = false;
                        // TP overlap changes no memory: a schedule the bound ruled
                        // out at the first overlap counts the same at the others.
                        if (t_ov == 0) {
                          for (Replay& rp : replays) rp = Replay{};
                        }
                        for (PipelineSchedule sched : cand.schedule) {
                          if (zb_done && sched == PipelineSchedule::kZeroBubble) continue;
                          Replay& replay = replays[std::size_t(sched)];
                          if (t_ov > 0 && replay.bounded) {
                            my_eval += replay.evaluated;
                            my_feasible += replay.feasible;
                            zb_done = zb_done || replay.zb_done;
                            continue;
                          }
                          const int64_t eval_before = my_eval, feasible_before = my_feasible;
                          if (!PlanRules::Schedule(pp, vp, mbs, sched)) continue;
                          const bool plain = plain_searched;
                          if (!plain && sched == PipelineSchedule::kDualPipe) continue;  // FSDP under DualPipe: not modelled
                          p.schedule = sched;
                          p.overlap_dp = dp_overlaps[0];
                          train::PipelineTerms pipe;
                          if (plain) ++my_eval;
                          const bool bounded = sinks.RulesOut(bound);
                          Assemble(x, p, lc, st, e, bounded ? Timing::kMemoryOnly : Timing::kIfFits, &pipe);
                          const bool fits = e.fits && (bounded || std::isfinite(e.step_time_s));
                          const bool memory_fits = e.fits;
                          auto add = [&] {
                            if (bounded) {
                              ++my_feasible;  // fits; too slow for anything kept
                              return;
                            }
                            if (!std::isfinite(e.step_time_s)) return;
                            ++my_feasible;
                            sinks.Add(p, e);
                          };
                          if (plain && fits) add();
                          // The FSDP twins of the plain plan at schedule `s`, every reshard and DP overlap.
                          auto fsdp_variants = [&](PipelineSchedule s) {
                            if (!fsdp_here || s == PipelineSchedule::kDualPipe) return;
                            const bool overlap = p.overlap_dp;
                            const PipelineSchedule was = p.schedule;
                            p.fsdp = true;
                            p.schedule = s;
                            if (memory_fits && fits) twin = e;  // FsdpFrom rewrites every field it changes
                            for (std::size_t rk = 0; rk < reshard_count; ++rk) {
                              p.fsdp_reshard = reshards[rk];
                              for (std::size_t k = 0; k < fsdp_overlap_count; ++k) {
                                p.overlap_dp = fsdp_overlaps[k];
                                ++my_eval;
                                if (!memory_fits || !fits) continue;  // FSDP holds what the plain plan holds, and more
                                if (bounded) {
                                  train::FsdpMemory(p, st, twin);
                                  if (twin.fits) ++my_feasible;
                                  continue;
                                }
                                train::FsdpFrom(x, p, st, pipe, twin);
                                if (twin.fits && std::isfinite(twin.step_time_s)) {
                                  ++my_feasible;
                                  sinks.Add(p, twin);
                                }
                              }
                            }
                            p.fsdp = false;
                            p.fsdp_reshard = true;
                            p.overlap_dp = overlap;
                            p.schedule = was;
                          };
                          fsdp_variants(sched);
                          auto other_dp_overlaps = [&](bool reverse) {
                            if (!plain) return;
                            for (std::size_t k = 1; k < dp_overlap_count; ++k) {
                              p.overlap_dp = dp_overlaps[reverse ? dp_overlap_count - 1 - k : k];
                              ++my_eval;
                              if (!fits) continue;
                              if (!bounded) train::SetDpOverlap(x, p, pipe, e);
                              add();
                            }
                          };
                          other_dp_overlaps(false);
                          if (sched == PipelineSchedule::k1F1B && zb_searched && vp == 1 && pp > 1 &&
                              PlanRules::Schedule(pp, vp, mbs, PipelineSchedule::kZeroBubble)) {
                            zb_done = true;
                            p.schedule = PipelineSchedule::kZeroBubble;  // at the last DP overlap, then back
                            if (plain) {
                              ++my_eval;
                              if (fits) {
                                if (!bounded) train::ZeroBubbleFrom1F1B(x, p, pipe, e);
                                add();
                              }
                            }
                            fsdp_variants(PipelineSchedule::kZeroBubble);
                            other_dp_overlaps(true);
                          }
                          if (t_ov == 0) {
                            replay = Replay{.bounded = bounded, .zb_done = zb_done, .evaluated = my_eval - eval_before,
                                            .feasible = my_feasible - feasible_before};
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
      if (reporter && options.progress) options.progress(double(std::min(next.load(), outers.size())) / outers.size());
    }
    sinks.Flush();
    std::lock_guard<std::mutex> lock(merge);
    evaluated += my_eval;
    feasible += my_feasible;
    cancelled = cancelled || stopped;
    for (auto& t : sinks.top()) tops.push_back(std::move(t));
    for (auto& f : sinks.front()) fronts.push_back(std::move(f));
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, false);
  work(true);
  for (auto& t : pool) t.join();

  SearchResult out;
  out.candidates_evaluated = evaluated;
  out.candidates_feasible = feasible;
  out.cancelled = cancelled;
  if (out.candidates_evaluated == 0 && !cancelled) {
    // Say which rule: the plan the space's fixed dimensions describe, checked.
    TrainPlan p = r.plan;
    auto one = [](const auto& list, auto& into) {
      if (list.size() == 1) into = list.front();
    };
    one(cand.tp, p.tp);
    one(cand.pp, p.pp);
    one(cand.cp, p.cp);
    one(cand.ep, p.ep);
    one(cand.mb, p.micro_batch);
    if (cand.vp.size() == 1) p.vp = cand.vp.front();
    TrainRequest probe = r;
    probe.plan = p;
    probe.plan.dp = cand.dp.size() == 1 ? cand.dp.front() : DerivedDp(probe);
    if (auto ok = CheckTrainingPlan(m, probe); !ok) return std::move(ok).error();
    return Error(Diagnostic{.key_path = "devices",
                            .message = "no plan in the search space can exist for " + std::to_string(n) +
                                       " devices: no tp x pp x cp x dp of the candidates divides them while keeping "
                                       "the heads, layers, batch and sequence divisible"});
  }
  std::sort(tops.begin(), tops.end(), Better{options.objective});
  if (int(tops.size()) > options.top_k) tops.resize(std::size_t(options.top_k));
  out.top = std::move(tops);
  if (options.pareto) {
    std::sort(fronts.begin(), fronts.end(), FrontOrder);
    double least = std::numeric_limits<double>::infinity();
    for (auto& f : fronts) {
      if (f.estimate.memory.total < least) {
        least = f.estimate.memory.total;
        out.pareto.push_back(std::move(f));
      }
    }
  }
  // Assemble already set the warnings and time-to-train of every plan it timed.
  out.search_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace suanli
