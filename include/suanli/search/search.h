// The parallel-plan search: a space of plans, a strategy that proposes them,
// a pure evaluator that scores them, and sinks that keep what is asked for.
//
//   PlanSpace    the candidates of each plan dimension (empty: every value that
//                can exist for this model and request; one value: fixed)
//   strategy     exhaustive enumeration, pruned by the same rules
//                CheckTrainingPlan states (PlanRules); layer costs computed
//                once per (tp, cp, CP exchange, micro-batch, sp, pp, ep), every other
//                dimension by a few dozen operations (train_internal.h)
//   Objective    what "best" means: least step time (most tokens/s for the
//                request) or least memory per device
//   sinks        the top k by the objective, the Pareto front of step time
//                against memory, and a stream of every feasible plan (for the
//                fleet planner)
//
// Deterministic: the same space gives the same top k and front on any
// thread count (ties broken by the plan's fields). Millions of plans per
// second per core; allocation only per outer tuple, never per plan.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "suanli/train/train.h"

namespace suanli {

struct PlanSpace {
  std::vector<int> tp, pp, dp, cp, ep, vp, micro_batch, zero;
  std::vector<Recompute> recompute;
  std::vector<bool> sequence_parallel, overlap_dp, overlap_tp;
  // Pipeline schedules (each where PlanRules::Schedule lets it run) and CP
  // exchanges (all-to-all where cp divides each tp rank's heads).
  std::vector<PipelineSchedule> schedule;
  std::vector<CpComm> cp_comm;
  // FSDP (TrainPlan::fsdp, with ZeRO 3) and, with it, reshard-after-forward.
  std::vector<bool> fsdp, fsdp_reshard;
  // Expert tensor parallelism (MoE folding; 0: etp = tp). Empty: 0 and 1 for
  // MoE models, 0 for dense ones.
  std::vector<int> etp;
  // The pipeline layout: the embedding and the loss counted as layers in the
  // split (true) or the default even split (false). Searched only when the
  // request gives no layout of its own (a given one stays as given).
  std::vector<bool> ends_in_split;
  // Optimizer offload to host memory, where the cluster knows the host link
  // and the host's memory bandwidth (empty: both where it does).
  std::vector<bool> offload_optimizer;
  // The precision and optimizer state are numerics choices, not searched:
  // the request's plan gives them.

  // Every dimension fixed to `plan` (the one plan EstimateTraining evaluates).
  static PlanSpace Fixed(const TrainPlan& plan);
};

enum class Objective {
  kStepTime,  // least step time: most tokens/s (and per device) for the request
  kMemory,    // least memory per device among the plans that fit
};

struct RankedPlan {
  TrainPlan plan;
  TrainEstimate estimate;
};

struct SearchOptions {
  Objective objective = Objective::kStepTime;
  int top_k = 5;        // the best plans by the objective (1 to kMaxTopK)
  bool pareto = false;  // also keep the front of step time against memory per device
  // Called with every feasible plan, in batches, from the searching threads
  // one at a time (never concurrently). The order depends on the thread
  // count; the set of plans does not.
  std::function<void(std::span<const RankedPlan>)> on_feasible;
  int threads = 0;  // 0 = all cores
  // Called now and then from the calling thread with the fraction done.
  std::function<void(double)> progress;
  // Set from any thread to stop the search early (the result says so).
  const std::atomic<bool>* cancel = nullptr;
};
inline constexpr int kMaxTopK = 10000;

struct SearchResult {
  std::vector<RankedPlan> top;     // best first by the objective; ties by the plan's fields
  std::vector<RankedPlan> pareto;  // with SearchOptions::pareto: fastest first, each using less memory than the one before
  int64_t candidates_evaluated = 0;
  int64_t candidates_feasible = 0;
  double search_seconds = 0;
  bool cancelled = false;
};

// Searches `space` for `request` (its plan gives the precision and optimizer
// state). Fails on a request that cannot be searched: bad request fields, a
// top k out of range, or a space in which no plan can exist (every candidate
// breaks a rule). A space whose plans all exist but none fits is a result
// with an empty `top`.
Result<SearchResult> SearchTraining(const Cluster& cluster, const ModelArch& model, const TrainRequest& request,
                                    const PlanSpace& space, const SearchOptions& options);

}  // namespace suanli
