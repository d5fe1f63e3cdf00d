// A discrete-event simulator of LLM serving: requests arrive, wait in an
// admission queue, are continuously batched with chunked prefill over a
// paged KV cache, and leave when their last token is sampled. Every
// iteration's time is IterationModel::Cost of that iteration's exact batch
// (each decode sequence at its own context, each prefill chunk at its own
// offset), so the simulator adds no cost model of its own: what it adds is
// the schedule (which sequences run together, when prompts wait, when the KV
// cache runs out).
//
// A deployment is one pool of identical instances (aggregated serving) or two
// (prefill and decode, disaggregated: a request is prefilled on one pool, its
// KV cache sent over the scale-out network, and decoded on the other). Each
// instance has `dp` attention ranks (data-parallel attention), each with its
// own batch, queue and KV cache; an iteration of the instance runs every rank
// in lock step (the MoE layers' dispatch and combine join them), so it takes
// the time of its busiest rank.
//
// Deterministic: the same inputs give the same result on any machine and
// thread count (one thread simulates; nothing depends on addresses or
// clocks). Simulate allocates per request in flight, not per request served
// beyond four floats of metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "suanli/core/result.h"
#include "suanli/infer/iteration.h"
#include "suanli/serve/workload.h"

namespace suanli {

enum class Priority { kDecodeFirst, kPrefillFirst };

// What the serving framework decides per iteration (per attention rank).
struct SchedulerConfig {
  int64_t max_seqs = 256;              // sequences running at once
  int64_t max_batched_tokens = 8192;   // tokens per forward pass (decode tokens + prefill chunks)
  int64_t chunk = 8192;                // prefill chunk; 0 = no chunking (a prompt is prefilled whole)
  Priority priority = Priority::kDecodeFirst;
  int64_t block_size = 16;             // KV-cache tokens per block
  double prefix_hit = 0;               // fraction of each prompt found in the prefix cache
  bool swap = false;                   // preemption swaps the KV cache to host memory (else recomputes it)
};

// Speculative decoding (MTP, EAGLE): `draft` tokens proposed per step.
// acceptance[i] is the probability that draft position i + 1 is accepted
// given that the ones before it were (a_1, a_2, ...); positions past the
// list take its last value, so one value means every position. Draft i is
// kept with probability a_1 * ... * a_i, and a step emits
// 1 + sum_i (a_1 * ... * a_i) tokens on average.
struct SpecDecode {
  int draft = 0;
  std::vector<double> acceptance;
  [[nodiscard]] double AcceptanceAt(int position) const;  // a_position, 1-based; 0 if none
  [[nodiscard]] double TokensPerStep() const;
};

enum class PoolRole { kMixed, kPrefill, kDecode };

// One pool of identical instances.
struct ServePool {
  PoolRole role = PoolRole::kMixed;
  const IterationModel* model = nullptr;  // one instance's plan (must outlive the simulation)
  int instances = 1;
  int dp = 1;                             // attention ranks per instance (the plan's ep)
  int64_t kv_tokens_per_rank = 0;         // KV-cache capacity of one rank, in tokens
  SchedulerConfig scheduler;
  double host_bytes_per_s = 0;            // swap: device-host link of one device, per direction (B/s)
};

struct ServeDeployment {
  std::vector<ServePool> pools;  // {mixed} or {prefill, decode}
  // Disaggregated: one request's KV cache moves from a prefill device to a
  // decode device in latency + bytes x per_byte.
  double transfer_latency_s = 0;
  double transfer_per_byte_s = 0;
  [[nodiscard]] int devices() const;
};

struct Sla {
  double ttft_s = std::numeric_limits<double>::infinity();
  double tpot_s = std::numeric_limits<double>::infinity();
  double attainment = 0.9;  // for max-rate: the fraction of requests that must meet both
};

struct ServeOptions {
  SpecDecode spec;
  Sla sla;
  bool timeline = false;   // keep one record per iteration
  int64_t timeline_limit = 1000000;  // at most this many records
  // Polled every few thousand events; once set, Simulate and FindMaxRate return
  // the error "cancelled" (key "cancel"). The web server sets it when a request's time is up.
  const std::atomic<bool>* cancel = nullptr;
  // Also account each iteration's device time by phase (ServeStats::
  // prefill_device_s, decode_device_s): an iteration that mixes prompt chunks
  // and decode steps is split by the time of each part priced alone, which
  // prices its batch twice more; off unless a caller needs the split (cost).
  bool phase_device_time = false;
};

struct Percentiles {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0;
};

struct IterationRecord {
  double start_s = 0;
  double seconds = 0;
  int pool = 0;
  int instance = 0;
  int64_t decode_sequences = 0;  // over the instance's ranks
  int64_t prefill_tokens = 0;
  int64_t waiting = 0;           // requests queued at the instance
  double kv_utilization = 0;     // used / capacity, the fullest rank
};

struct ServeStats {
  int64_t requests = 0;  // served
  double duration_s = 0; // first arrival to last completion
  double input_tokens = 0, output_tokens = 0;
  Percentiles ttft, tpot, e2e, queue;
  int64_t sla_met = 0;
  double batch_mean = 0;           // sequences per iteration, time-weighted, per instance
  double kv_utilization_mean = 0;  // time-weighted
  double in_system_mean = 0;       // requests in the system, time-averaged (Little's L)
  int64_t preemptions = 0;
  int64_t iterations = 0;
  int64_t unservable = 0;          // requests whose prompt alone exceeds a rank's KV cache (dropped)
  int64_t backlog_at_last_arrival = 0;  // requests not yet admitted when the last one arrived, itself included (a growing queue)
  // With ServeOptions::phase_device_time: device-seconds busy on prefill and on
  // decode, over every instance (an iteration's time x its instance's devices).
  double prefill_device_s = 0, decode_device_s = 0;
  std::vector<IterationRecord> timeline;
  [[nodiscard]] double requests_per_s() const { return duration_s > 0 ? requests / duration_s : 0; }
  [[nodiscard]] double attainment() const { return requests > 0 ? double(sla_met) / requests : 0; }
};

// One iteration's time on one instance: IterationModel::Cost of the batch,
// plus, with `draft` > 0, the draft module's `draft` sequential passes over
// the decoding sequences (MTP: one more layer of the model's shape, so each
// costs the decode pass's layers over the model's layers, plus the LM head
// that picks the draft token, without the fixed step cost).
double IterationSeconds(const IterationModel& model, const BatchComposition& batch, int draft);

// Checks the deployment (pools, capacities, schedulers) and runs every
// request of `source` through it.
Result<ServeStats> Simulate(const ServeDeployment& deployment, RequestSource& source, const ServeOptions& options);

// The highest Poisson/gamma rate whose simulation of `workload` (its load's
// rate ignored) meets `options.sla` for at least sla.attainment of the
// requests, by bisection on the rate to 1 %. 0 when even a trickle misses it.
struct MaxRate {
  double rate = 0;       // requests/s
  ServeStats at_rate;    // the simulation at that rate
  int probes = 0;
  // The share of the run's requests that arrive before the deployment
  // carries its steady load: the lambda W requests in flight at the rate
  // (Little's L; W the mean end-to-end time) build up over the first W
  // seconds of the N / lambda the arrivals take, so lambda W / N of them
  // arrive in that ramp, into a system lighter than the rate's.
  [[nodiscard]] double ramp_share() const;
  // The requests a run at this rate needs for its ramp share to be
  // kMaxRampShare: lambda W / kMaxRampShare.
  [[nodiscard]] int64_t steady_requests() const;
};
// The same for any run `s` at `rate` requests/s (without copying its stats).
double RampShare(double rate, const ServeStats& s);
int64_t SteadyRequests(double rate, const ServeStats& s);
// Above this ramp share the rate found is a transient's, above the steady
// state's (docs/serving-model.md, "--max-rate": on the H20 PD deployment of
// the README, 14.4 requests/s at 500 requests, 13.7 at 2,000, 12.95 at 4,000,
// 12.7 at 8,000).
inline constexpr double kMaxRampShare = 0.2;
Result<MaxRate> FindMaxRate(const ServeDeployment& deployment, const GeneratedWorkload& workload,
                            const ServeOptions& options);

}  // namespace suanli
