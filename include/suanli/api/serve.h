// The `serve` command: a serving simulation (or one phase in steady state)
// decoded from its request fields (api/fields.h, "serve"), run on the
// catalog, and its result with what was resolved.
//
//   auto query = DecodeServe(args);             // every field checked, defaults applied
//   auto result = RunServe(catalog, *query);    // the simulation
//   std::string json = ToJson(*result);         // report/serve_json.h
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "suanli/api/commands.h"
#include "suanli/serve/deployment.h"
#include "suanli/serve/simulator.h"

namespace suanli {

enum class ServePhase { kNone, kPrefill, kDecode };

struct ServeQuery {
  std::string hardware;
  std::optional<DeviceRank> rank;  // --rank; none: the system's
  std::string model;
  std::string stack;
  Precision precision;
  ServePlanSpec plan;
  int replicas = 1;
  bool disaggregated = false;
  ServePlanSpec prefill, decode;
  int prefill_instances = 1, decode_instances = 1;
  bool pd_search = false;  // search the prefill instances for the best SLA rate per device
  bool pd_search_decode = false;  // --decode-instances not given: the search varies both counts
  bool two_batch_overlap = false;
  std::optional<bool> swap;  // preemption by swap (true) or recompute (false); empty: the stack's
  int mtp = 0;
  // Acceptance of draft position 1, 2, ... given the ones before it (one
  // value: every position); empty: the model's published figure.
  std::optional<std::vector<double>> mtp_acceptance;
  std::optional<int64_t> max_batch, max_batch_tokens, chunk, block_size;  // empty: the stack's (chunk 0 = off)
  std::optional<Priority> priority;
  double prefix_hit = 0;
  std::string trace;
  GeneratedWorkload workload;  // without a trace
  Sla sla;
  bool sla_given = false;
  bool max_rate = false;
  ServePhase phase = ServePhase::kNone;
  int64_t batch = 0;  // --phase decode: 0 = max
  int64_t context_tokens = 0;
  int64_t batch_tokens = 0;  // --phase prefill: 0 = the stack's
  std::string timeline;      // a file for the per-iteration CSV (the front end writes it)
  const std::atomic<bool>* cancel = nullptr;  // ServeOptions::cancel
  bool phase_device_time = false;             // ServeOptions::phase_device_time (cost sets it)
};
Result<ServeQuery> DecodeServe(const Args& args);

struct ServeResult {
  ResolvedHardware hardware;
  ModelEntry model;
  Cluster cluster;
  ServeQuery query;
  std::string stack;
  std::vector<ServePoolResult> pools;
  SpecDecode spec;
  int devices = 0;
  bool fits = true;
  std::string reason;  // when not
  std::vector<std::string> warnings;
  // A simulation (no --phase).
  ServeStats stats;
  std::optional<double> max_rate;  // requests/s, with --max-rate
  int max_rate_probes = 0;
  // --pd-search: every prefill:decode instance count tried, and its SLA rate.
  struct PdCandidate {
    int prefill = 0, decode = 0, devices = 0;
    double max_rate = 0;  // requests/s meeting the SLA
    [[nodiscard]] double per_device() const { return devices > 0 ? max_rate / devices : 0; }
  };
  std::vector<PdCandidate> pd_candidates;
  // --phase: one instance in steady state.
  int64_t batch = 0;         // sequences (decode) or prompts per pass (prefill), in the instance
  double step_time_s = 0;
  double phase_tpot_s = 0;
  double phase_output_tokens_per_s = 0;
  double phase_input_tokens_per_s = 0;
};
Result<ServeResult> RunServe(const Catalog& catalog, const ServeQuery& query);

}  // namespace suanli
