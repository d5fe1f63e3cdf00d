// Building a serving deployment from what is asked: each pool's layout
// (devices = tp x pp x dp-attention), the serving stack's scheduler budgets,
// the KV-cache capacity per attention rank from the memory model; and the two
// steady-state measurements of one instance (a decode step at a batch and
// context, a prefill pass). The `serve` command and the validation of serving
// cases both build their deployments here.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "suanli/catalog/catalog.h"
#include "suanli/hardware/cluster.h"
#include "suanli/serve/simulator.h"

namespace suanli {

// One instance's layout as asked (0 = not given).
struct ServePlanSpec {
  int devices = 0;
  int tp = 0;
  int pp = 0;
  int ep = 0;
  int dp = 0;  // attention ranks
  int64_t max_batch = 0;
  int64_t max_batch_tokens = 0;
  int redundant_experts = 0;  // EPLB's extra expert replicas over the instance
};

// What a serving stack record (catalog/stacks/, kind serving) says, with
// what a request overrides.
struct ServeStackConfig {
  std::string id;
  SchedulerConfig scheduler;
  IterationStack iteration;
  // The busiest EP rank over the mean with redundant experts placed by EPLB
  // (moe.expert_imbalance_eplb); 0: the stack gives none, iteration's applies.
  double expert_imbalance_eplb = 0;
};
ServeStackConfig StackConfig(const Stack& stack);

struct PoolRequest {
  PoolRole role = PoolRole::kMixed;
  ServePlanSpec plan;
  int instances = 1;
  std::string where;  // "prefill", "decode", or "" for an aggregated pool (names errors)
};

// What a pool was resolved to.
struct ServePoolResult {
  PoolRole role = PoolRole::kMixed;
  InferencePlan plan;
  int instances = 1;
  int dp = 1;
  int64_t kv_tokens_per_rank = 0;
  SchedulerConfig scheduler;
  double kv_cache_bytes_per_device = 0;
  double weights_bytes_per_device = 0;
};

struct BuiltDeployment {
  std::vector<std::unique_ptr<IterationModel>> models;  // one per pool; the deployment points into them
  ServeDeployment deployment;
  std::vector<ServePoolResult> pools;
  std::vector<std::string> notes;  // how the layout was read, and the plans' warnings
  bool fits = true;
  std::string reason;
};

// `strict`: a pool that does not fit is an Error (PD pools), else a result with fits == false.
Result<BuiltDeployment> BuildDeployment(const Cluster& cluster, const ModelArch& model, const Precision& precision,
                                        const std::vector<PoolRequest>& pools, const ServeStackConfig& stack,
                                        bool strict);

// One instance in steady state.
struct PhaseResult {
  bool fits = true;
  std::string reason;
  int64_t batch = 0;      // sequences (decode) or prompts per pass (prefill), in the instance
  double step_s = 0;
  double tpot_s = 0;      // decode
  double output_tokens_per_s = 0;
  double input_tokens_per_s = 0;
};
// A decode step of `batch` sequences (0: the most the KV cache holds, or
// with a finite `sla_tpot` the most that meet it) at `context` tokens each.
Result<PhaseResult> DecodePhase(const ServePool& pool, const SpecDecode& spec, int64_t batch, double context,
                                double sla_tpot);
// Prefill passes of `budget` prompt tokens per attention rank over prompts of `input` tokens.
PhaseResult PrefillPhase(const ServePool& pool, double input, double budget);

}  // namespace suanli
