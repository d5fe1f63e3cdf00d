// The fleet planner (fleet.h): capacities from the performance model, the
// MILP (docs/fleet-model.md), its solution read back, shocks and conflicts.
#include "suanli/econ/fleet.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <fmt/format.h>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <set>
#include <thread>

#include "suanli/api/chip_scope.h"
#include "suanli/api/commands.h"
#include "suanli/api/serve.h"
#include "suanli/core/text.h"
#include "suanli/econ/cost.h"
#include "suanli/policy/classify.h"

namespace suanli {
namespace {

constexpr double kBigSupply = 1e7;  // nodes: "no cap" as a finite bound the solver can use
// A serving capacity's simulated requests: the first run's, and at most this
// many for a steady state (the simulation time grows with the count).
constexpr int64_t kFirstRequests = 500;
constexpr int64_t kMaxRequests = 16000;
// PD deployments smaller than the phase screening's best, each of at most
// half the last one's devices (ServingCapacity).
constexpr int kPdSmaller = 3;
// The least share of one node a demand may need (PlanFleet): 100 times
// CBC's primal feasibility tolerance (1e-7, Clp's default), below which an
// allocation reads as none.
constexpr double kMinNodeShare = 1e-5;
// The forward pass's relative gap (docs/fleet-model.md, "Speed").
constexpr double kForwardGap = 0;

// One plan of `d` on `hardware` the planner may buy: its output (or
// training) tokens/s per device, its devices and the plan in words.
struct PlanCapacity {
  double per_device = 0;
  int devices = 0;  // one deployment's devices (0: any number)
  std::string plan;
};

// The error a cancelled plan returns (the web server's time limit).
Error Cancelled() { return Error(Diagnostic{.key_path = "cancel", .message = "cancelled before the plan was made"}); }
bool IsCancelled(const std::atomic<bool>* cancel) { return cancel != nullptr && cancel->load(); }

// What the capacities' simulations and searches poll: set when their time
// (FleetOptions::capacity_time_limit_s, from the first of them) is up or the
// caller cancels. A thread watches both, waking every 20 ms.
class CapacityWatch {
 public:
  CapacityWatch(double limit_s, const std::atomic<bool>* outer)
      : outer_(outer),
        deadline_(std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(limit_s))),
        thread_([this] { Watch(); }) {}
  CapacityWatch(const CapacityWatch&) = delete;
  CapacityWatch& operator=(const CapacityWatch&) = delete;
  ~CapacityWatch() {
    {
      const std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  const std::atomic<bool>* flag() const { return &stop_; }
  bool expired() const { return expired_.load(); }

 private:
  void Watch() {
    std::unique_lock lock(mu_);
    while (!done_) {
      if (std::chrono::steady_clock::now() >= deadline_) expired_ = true;
      if (expired_ || IsCancelled(outer_)) {
        stop_ = true;
        return;
      }
      cv_.wait_for(lock, std::chrono::milliseconds(20));
    }
  }

  const std::atomic<bool>* outer_;
  const std::chrono::steady_clock::time_point deadline_;
  std::atomic<bool> stop_{false}, expired_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;  // guarded by mu_
  std::thread thread_;  // last: it starts once the rest is set
};

// Every deployment simulated at the SLA (the planner keeps those no other
// beats on both rate per device and size), or infer's best alone.
Result<std::vector<PlanCapacity>> ServingCapacity(const Catalog& catalog, const std::string& hardware, int domain, bool moe,
                                                  const FleetDemand& d, int threads, const std::atomic<bool>* cancel) {
  PlanCapacity best;
  std::string last_error;
  struct Layout {
    int tp = 1, ep = 1;
    double per_device = 0;
  };
  std::vector<Layout> layouts;  // every layout that meets the SLA in infer
  int fewest_tp = 0;             // the fewest devices that hold the model by tensor parallelism
  auto run = [&](int tp, int ep, BatchMode mode, long long concurrency) -> std::optional<InferenceEstimate> {
    InferQuery q;
    q.hardware = hardware;
    q.model = d.model;
    q.workload = InferenceWorkload{.input_tokens = d.input_tokens, .output_tokens = d.output_tokens, .mode = mode, .batch = concurrency};
    q.plan.tp = tp;
    q.plan.ep = ep;
    q.plan.precision.weights = ParseDtype(d.weights).value_or(Dtype::kBf16);
    q.plan.precision.activations = q.plan.precision.weights == Dtype::kFp8 ? Dtype::kFp8 : Dtype::kBf16;
    q.plan.precision.kv_cache = ParseDtype(d.kv_cache).value_or(Dtype::kBf16);
    auto r = RunInfer(catalog, q);
    if (!r) {
      last_error = r.error().diagnostics.empty() ? "" : r.error().diagnostics.front().message;
      return std::nullopt;
    }
    if (!r->estimate.fits) return std::nullopt;
    return r->estimate;
  };
  // A layout's output tokens/s per device at the largest concurrency whose
  // TPOT meets the SLA (TPOT grows with the requests in flight).
  auto evaluate = [&](int tp, int ep) -> std::optional<InferenceEstimate> {
    auto full = run(tp, ep, BatchMode::kConcurrencyMax, 1);
    if (!full) return std::nullopt;
    if (ep == 1 && fewest_tp == 0) fewest_tp = tp;
    if (d.tpot_s <= 0 || full->tpot_s <= d.tpot_s) return full;
    // At least one request per attention replica (the ep DP-attention ranks).
    long long lo = ep, hi = std::max<long long>(ep, full->batch);
    auto chosen = run(tp, ep, BatchMode::kConcurrency, lo);
    if (!chosen || chosen->tpot_s > d.tpot_s) return std::nullopt;
    while (hi - lo > 1) {
      const long long mid = lo + (hi - lo) / 2;
      auto e = run(tp, ep, BatchMode::kConcurrency, mid);
      if (e && e->tpot_s <= d.tpot_s) {
        lo = mid;
        chosen = std::move(e);
      } else {
        hi = mid;
      }
    }
    return chosen;
  };
  const int limit = std::min(domain, 256);
  for (int tp = 1; tp <= limit; tp *= 2) {
    for (int ep = 1; tp * ep <= limit; ep *= 2) {
      if (ep > 1 && !moe) break;
      auto chosen = evaluate(tp, ep);
      const double per_device = chosen ? chosen->output_tokens_per_s_per_device : 0;
      if (per_device <= 0) continue;
      layouts.push_back(Layout{.tp = tp, .ep = ep, .per_device = per_device});
      if (per_device > best.per_device) {
        best.per_device = per_device;
        best.devices = tp * ep;
        best.plan = fmt::format("infer tp {} ep {}, {} in flight, TPOT {:.1f} ms, {:.0f} output tokens/s per device", tp, ep,
                                chosen->batch, chosen->tpot_s * 1e3, per_device);
      }
    }
  }
  if (best.per_device <= 0) {
    best.plan = "no plan fits" + (d.tpot_s > 0 ? fmt::format(" at TPOT {:g} ms", d.tpot_s * 1e3) : std::string()) +
                (last_error.empty() ? "" : " (" + last_error + ")");
    return std::vector<PlanCapacity>{best};
  }
  if (d.tpot_s <= 0) return std::vector<PlanCapacity>{best};
  // At an SLA: the serving simulator's steady state on the layouts below
  // (`serve --max-rate`, the highest Poisson rate at which 90 % of the
  // requests meet the SLA; it includes the prompts' prefill and the queue),
  // output tokens/s = that rate x output tokens, per device; with a TTFT SLA
  // as well, one prefill-decode deployment too (below).
  std::sort(layouts.begin(), layouts.end(), [](const Layout& a, const Layout& b) { return a.per_device > b.per_device; });
  struct Deployment {
    Args args;
    std::string how;
  };
  std::vector<Deployment> deployments;
  // Every serve request: the demand's model, hardware and precisions.
  auto base = [&](Args& a) {
    a.Set("hardware", hardware);
    a.Set("model", d.model);
    a.Set("weights", d.weights);
    a.Set("kv_cache", d.kv_cache);
  };
  // A --max-rate run at the demand's lengths and SLA.
  auto common = [&](Args& a) {
    base(a);
    a.Set("input_tokens", std::to_string(d.input_tokens));
    a.Set("output_tokens", std::to_string(d.output_tokens));
    a.Set("sla_tpot", fmt::format("{:.17g}", d.tpot_s));
    if (d.ttft_s > 0) a.Set("sla_ttft", fmt::format("{:.17g}", d.ttft_s));
    if (d.mtp > 0) a.Set("mtp", std::to_string(d.mtp));
    a.Set("max_rate", "true");
  };
  // The three infer ranks best, and every tensor-parallel one beside them
  // (infer's steady decode step misses the prompts that aggregated serving
  // mixes into the DP-attention ranks' iterations, so its ranking of the two
  // kinds is not the simulator's).
  for (std::size_t i = 0; i < layouts.size(); ++i) {
    if (i >= 3 && layouts[i].ep > 1) continue;
    Args a;
    common(a);
    a.Set("tp", std::to_string(layouts[i].tp));
    if (layouts[i].ep > 1) a.Set("dp_attention", std::to_string(layouts[i].ep));
    deployments.push_back({std::move(a), fmt::format("tp {}{}", layouts[i].tp,
                                                     layouts[i].ep > 1 ? fmt::format(" dp-attention {}", layouts[i].ep) : std::string())});
  }
  // PD: the prefill:decode deployment screened phase by phase, as DistServe
  // places its instances (Zhong et al., OSDI 2024, section 4: each phase's
  // goodput on one instance, then the instance counts that match them).
  // Each phase alone on one instance in steady state (`serve --phase`):
  // prefill instances of the fewest devices that hold the model by tensor
  // parallelism, their prompts/s; decode pools tensor-parallel within the
  // scale-up domain and, for MoE models, laid out for expert parallelism
  // with DP attention (tp 1, ep 2 to 256 devices, over the scale-out network
  // where they span more than the scale-up domain, as the wide-EP decode
  // pools of SGLang do), their requests/s at the largest batch meeting the
  // TPOT SLA at the mean context. The P:D counts (P up to
  // 32, D up to 8) with the most requests/s per device, min(P rp, D rd) /
  // devices, among deployments small enough to simulate to a steady state
  // (rate x (TTFT + output x TPOT at the SLA) / kMaxRampShare <= kMaxRequests),
  // then simulated with their queues like the aggregated layouts.
  if (d.ttft_s > 0 && fewest_tp > 0) {
    auto phase = [&](Args a) -> std::optional<ServeResult> {
      base(a);
      auto q = DecodeServe(a);
      if (!q) return std::nullopt;
      q->cancel = cancel;
      auto r = RunServe(catalog, *q);
      if (!r || !r->fits || r->devices <= 0) return std::nullopt;
      return std::move(*r);
    };
    Args pa;
    pa.Set("tp", std::to_string(fewest_tp));
    pa.Set("phase", "prefill");
    pa.Set("input_tokens", std::to_string(d.input_tokens));
    const auto prefill = phase(pa);
    const double rp = prefill ? prefill->phase_input_tokens_per_s / double(d.input_tokens) : 0;
    const double request_s = d.ttft_s + double(d.output_tokens) * d.tpot_s;
    // Decode pools: tensor-parallel from the fewest devices that hold the
    // model up to the scale-up domain; for MoE models, DP attention over
    // 2 to 256 devices (dp 0: none).
    struct Pool {
      int tp = 1, dp = 0;
    };
    std::vector<Pool> pools;
    for (int tp = fewest_tp; rp > 0 && tp <= limit; tp *= 2) pools.push_back(Pool{.tp = tp});
    for (int ep = 2; rp > 0 && moe && ep <= 256; ep *= 2) pools.push_back(Pool{.tp = 1, .dp = ep});
    struct Pd {
      Pool decode;
      int prefill = 0, decode_instances = 0, devices = 0;
      double per_device = 0;
    };
    std::vector<Pd> screened;  // every P:D count of every pool small enough to simulate
    for (const Pool& pool : pools) {
      Args da;
      da.Set("tp", std::to_string(pool.tp));
      if (pool.dp > 0) da.Set("dp_attention", std::to_string(pool.dp));
      da.Set("phase", "decode");
      da.Set("batch", "max");
      da.Set("context_tokens", std::to_string(d.input_tokens + d.output_tokens / 2));
      da.Set("sla_tpot", fmt::format("{:.17g}", d.tpot_s));
      if (d.mtp > 0) da.Set("mtp", std::to_string(d.mtp));
      const auto decode = phase(da);
      if (!decode) continue;
      const double rd = decode->phase_output_tokens_per_s / double(d.output_tokens);
      for (int np = 1; np <= 32; ++np) {
        for (int nd = 1; nd <= 8; ++nd) {
          const double rate = std::min(np * rp, nd * rd);
          if (rate * request_s / kMaxRampShare > double(kMaxRequests)) continue;
          const int devices = np * prefill->devices + nd * decode->devices;
          screened.push_back(Pd{.decode = pool, .prefill = np, .decode_instances = nd, .devices = devices,
                                .per_device = rate / double(devices)});
        }
      }
    }
    // The most requests/s per device, then a ladder of smaller deployments
    // for demands a large one would overshoot: the best among those of at
    // most half the last one's devices, up to kPdSmaller times (the plan
    // keeps those that no other beats on rate per node and size, Options).
    std::vector<Pd> chosen;
    int most_devices = std::numeric_limits<int>::max();
    for (int rung = 0; rung <= kPdSmaller; ++rung) {
      Pd best_pd;
      for (const Pd& c : screened) {
        if (c.devices <= most_devices && c.per_device > best_pd.per_device * (1 + 1e-9)) best_pd = c;
      }
      if (best_pd.prefill == 0) break;
      chosen.push_back(best_pd);
      most_devices = best_pd.devices / 2;
    }
    for (const Pd& pd : chosen) {
      Args a;
      common(a);
      const std::string dp = pd.decode.dp > 0 ? fmt::format("dp-attention={}", pd.decode.dp) : std::string();
      a.Set("prefill", fmt::format("tp={}", fewest_tp));
      a.Set("decode", fmt::format("tp={}", pd.decode.tp) + (dp.empty() ? "" : "," + dp));
      a.Set("prefill_instances", std::to_string(pd.prefill));
      a.Set("decode_instances", std::to_string(pd.decode_instances));
      deployments.push_back({std::move(a), fmt::format("PD {} x prefill tp {} + {} x decode {}", pd.prefill, fewest_tp, pd.decode_instances,
                                                       pd.decode.dp > 0 ? fmt::format("dp-attention {}", pd.decode.dp)
                                                                        : fmt::format("tp {}", pd.decode.tp))});
    }
  }
  // One deployment's simulation: a run long enough for a steady state, 500
  // requests first, then, where most of them arrived before the deployment
  // carried the rate's load, the count whose ramp share is kMaxRampShare (at
  // most kMaxRequests). None when it does not fit, finds no rate or is
  // cancelled.
  auto simulate = [&](Deployment& deployment) -> std::optional<PlanCapacity> {
    auto& [a, layout] = deployment;
    a.Set("requests", std::to_string(kFirstRequests));
    if (IsCancelled(cancel)) return std::nullopt;
    auto q = DecodeServe(a);
    if (!q) return std::nullopt;
    q->cancel = cancel;
    auto r = RunServe(catalog, *q);
    if (!r || !r->fits || !r->max_rate || !(*r->max_rate > 0) || r->devices <= 0) return std::nullopt;
    const int64_t steady = SteadyRequests(*r->max_rate, r->stats);
    if (steady > kFirstRequests) {
      a.Set("requests", std::to_string(std::min(steady, kMaxRequests)));
      q = DecodeServe(a);
      if (!q) return std::nullopt;
      q->cancel = cancel;
      r = RunServe(catalog, *q);
      if (!r || !r->fits || !r->max_rate || !(*r->max_rate > 0) || r->devices <= 0) return std::nullopt;
    }
    PlanCapacity sim;
    const double per_device = *r->max_rate * double(d.output_tokens) / r->devices;
    sim.per_device = per_device;
    sim.devices = r->devices;
    sim.plan = fmt::format("serve --max-rate {}{}, {} requests: {:.3g} requests/s with 90 % of them at TPOT <= {:g} ms{}, {:.0f} output tokens/s per device",
                           layout, d.mtp > 0 ? fmt::format(" mtp {}", d.mtp) : std::string(), r->stats.requests, *r->max_rate, d.tpot_s * 1e3,
                           d.ttft_s > 0 ? fmt::format(" and TTFT <= {:g} ms", d.ttft_s * 1e3) : std::string(), per_device);
    return sim;
  };
  // The simulations are independent and each is deterministic: they run on
  // up to `threads` threads and are kept in the deployments' order, so the
  // capacities do not depend on the thread count.
  std::vector<std::optional<PlanCapacity>> simulated(deployments.size());
  const std::span<const Chip> scoped = ScopedChipsOnThisThread();
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    const ScopedChips scope(scoped);  // the caller's what-if chips, on every thread
    for (std::size_t i = next++; i < deployments.size(); i = next++) simulated[i] = simulate(deployments[i]);
  };
  // At most one thread per core (the web form takes the thread count too).
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned n = std::min({threads > 0 ? unsigned(threads) : cores, cores, unsigned(std::max<std::size_t>(1, deployments.size()))});
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (IsCancelled(cancel)) return Cancelled();  // a run cut short is no capacity
  std::vector<PlanCapacity> sims;
  for (auto& sim : simulated) {
    if (sim) sims.push_back(std::move(*sim));
  }
  if (!sims.empty()) return sims;
  best.plan += " (serve found no rate meeting the SLA on these layouts: infer's figure)";
  return std::vector<PlanCapacity>{best};
}

// The best plan of the training search's feasible-plan stream that leaves
// `memory_headroom` of the device memory free: the most tokens/s per device,
// ties by the plan's text (the stream's order depends on the thread count).
Result<std::vector<PlanCapacity>> TrainingCapacity(const Catalog& catalog, const std::string& hardware, const FleetDemand& d,
                                                   const std::atomic<bool>* cancel) {
  Args a;
  a.Set("hardware", hardware);
  a.Set("model", d.model);
  a.Set("devices", std::to_string(d.devices));
  a.Set("seq_len", std::to_string(d.seq_len));
  a.Set("global_batch", std::to_string(d.global_batch));
  a.Set("search", "true");
  a.Set("top", "1");
  auto q = DecodeTrain(a);
  if (!q) return std::move(q).error();
  std::optional<RankedPlan> best;
  std::string best_text;
  long long feasible = 0, kept = 0;
  q->options.on_feasible = [&](std::span<const RankedPlan> plans) {
    for (const RankedPlan& r : plans) {
      ++feasible;
      const TrainMemory& m = r.estimate.memory;
      if (m.capacity > 0 && m.total > (1 - d.memory_headroom) * m.capacity) continue;
      ++kept;
      const double v = r.estimate.tokens_per_s_per_device;
      if (best && v < best->estimate.tokens_per_s_per_device) continue;
      std::string text = TrainPlanText(r.plan);
      if (best && v == best->estimate.tokens_per_s_per_device && text >= best_text) continue;
      best = r;
      best_text = std::move(text);
    }
  };
  q->options.cancel = cancel;
  auto r = RunTrain(catalog, *q);
  if (IsCancelled(cancel)) return Cancelled();
  PlanCapacity out;
  if (!r || !best) {
    out.plan = fmt::format("no training plan fits on {} devices{}", d.devices,
                           d.memory_headroom > 0 ? fmt::format(" with {:g} % of memory free", d.memory_headroom * 100) : std::string());
    return std::vector<PlanCapacity>{out};
  }
  out.per_device = best->estimate.tokens_per_s_per_device;
  out.devices = d.devices;  // one job: its plan runs on all of them or not at all
  out.plan = fmt::format("train --search on {} devices, best of {} feasible plans{}: {}, MFU {:.0f} %", d.devices, feasible,
                         d.memory_headroom > 0 ? fmt::format(" ({} leave {:g} % of memory free)", kept, d.memory_headroom * 100) : std::string(),
                         best_text, best->estimate.mfu * 100);
  return std::vector<PlanCapacity>{out};
}

bool Hits(const FleetEvent& e, const FleetCandidateInfo& c) {
  return (!e.vendor.empty() && EqualsIgnoreCase(e.vendor, c.vendor)) || (!e.system.empty() && EqualsIgnoreCase(e.system, c.system)) ||
         (!e.chip.empty() && EqualsIgnoreCase(e.chip, c.chip));
}

// The deployments a (system, demand) pair offers the planner, in nodes: each
// plan's rate per node and its size in whole nodes (1: any fraction of a
// node), those that no other beats on both (at least its rate per node on
// at most its nodes, better in one), the highest rate per node first.
std::vector<FleetOption> Options(const std::vector<PlanCapacity>& plans, int chips_per_node) {
  std::vector<FleetOption> all;
  for (const PlanCapacity& c : plans) {
    all.push_back(FleetOption{.per_node = c.per_device * chips_per_node,
                              .deployment_nodes = std::max(1.0, std::ceil(double(c.devices) / chips_per_node - 1e-9)),
                              .from = c.plan});
  }
  std::stable_sort(all.begin(), all.end(), [](const FleetOption& a, const FleetOption& b) {
    return a.per_node != b.per_node ? a.per_node > b.per_node : a.deployment_nodes < b.deployment_nodes;
  });
  std::vector<FleetOption> kept;
  for (const FleetOption& o : all) {
    // Sorted by rate, then size: o is beaten by a kept one iff that one is no larger.
    const bool beaten =
        std::any_of(kept.begin(), kept.end(), [&](const FleetOption& k) { return k.deployment_nodes <= o.deployment_nodes; });
    if (!beaten) kept.push_back(o);
  }
  return kept;
}

// Column and row indices of one model.
struct Model {
  MilpProblem p;
  std::vector<std::vector<int>> buy;                             // [candidate][period]
  // [scenario][candidate][demand][period][option]: nodes (or whole deployments) of c given to d; empty: none
  std::vector<std::vector<std::vector<std::vector<std::vector<int>>>>> alloc;
  std::vector<std::vector<std::vector<int>>> served;             // [scenario][demand][period], -1 none
  std::vector<std::string> scenario_names;                       // "" nominal, else the vendor shocked
  int worst = -1;                                                // most-served robust: the worst-case column
  std::vector<int> demand_rows;  // rows that a shortfall relaxes
  std::vector<double> row_scale;  // per row: what one unit of slack means, for the elastic problem
};

struct Inputs {
  const FleetScenario& s;
  const std::vector<FleetCandidateInfo>& c;
  std::vector<std::vector<double>> price;   // [candidate][period] cash per node
  std::vector<std::vector<double>> supply;  // [candidate][period] nodes, < 0 none
  std::vector<std::vector<double>> buy_cost;  // [candidate][period] objective coefficient of a node bought
  std::vector<std::vector<double>> opex_cost;  // [candidate][period] its power, hosting and maintenance to the horizon's end
  std::vector<double> annuity_per_hour;     // per candidate: amortised capex per USD of price per hour
};

Model Build(const Inputs& in, const std::vector<std::string>& shocked_vendors, bool most_served, bool elastic,
            const std::vector<std::vector<double>>* fixed_buy) {
  Model m;
  const FleetScenario& s = in.s;
  const std::size_t nc = in.c.size(), nd = s.demands.size(), np = s.periods.size();
  m.p.maximise = most_served && !elastic;
  m.buy.assign(nc, std::vector<int>(np, -1));
  for (std::size_t c = 0; c < nc; ++c) {
    for (std::size_t p = 0; p < np; ++p) {
      const bool can = in.c[c].purchasable[p];
      double lo = 0, hi = can ? kBigSupply : 0;
      if (fixed_buy != nullptr) lo = hi = (*fixed_buy)[c][p];
      const double cost = elastic ? 0 : (most_served ? -1e-12 * in.buy_cost[c][p] : in.buy_cost[c][p]);
      m.buy[c][p] = m.p.AddColumn(fmt::format("buy {} {}", in.c[c].system, s.periods[p].label), cost, lo, hi,
                                  fixed_buy == nullptr);
    }
  }
  auto add_row = [&](MilpRow row, double scale) {
    m.row_scale.push_back(scale);
    return m.p.AddRow(std::move(row));
  };
  // Supply caps per candidate and period (rows, so that they have shadow prices and can be relaxed).
  for (std::size_t c = 0; c < nc; ++c) {
    for (std::size_t p = 0; p < np; ++p) {
      if (in.supply[c][p] < 0 || !in.c[c].purchasable[p]) continue;
      add_row(MilpRow{.name = fmt::format("supply {} {}", in.c[c].system, s.periods[p].label), .columns = {m.buy[c][p]},
                      .coefficients = {1.0}, .hi = std::floor(in.supply[c][p] + 1e-9)},
              std::max(1.0, in.supply[c][p]));
    }
  }
  // Power per site and period (facility power of the nodes owned).
  for (const FleetSite& site : s.sites) {
    for (std::size_t p = 0; p < np; ++p) {
      if (site.power_w[p] < 0) continue;
      MilpRow row{.name = fmt::format("power {} {}", site.id, s.periods[p].label), .hi = site.power_w[p]};
      for (std::size_t c = 0; c < nc; ++c) {
        if (in.c[c].site != site.id) continue;
        for (std::size_t q = 0; q <= p; ++q) {
          row.columns.push_back(m.buy[c][q]);
          row.coefficients.push_back(in.c[c].facility_power_w_per_node);
        }
      }
      add_row(std::move(row), std::max(1.0, site.power_w[p]));
    }
  }
  if (s.capex_budget_usd) {
    MilpRow row{.name = "budget capex", .hi = *s.capex_budget_usd};
    for (std::size_t c = 0; c < nc; ++c) {
      for (std::size_t p = 0; p < np; ++p) {
        row.columns.push_back(m.buy[c][p]);
        row.coefficients.push_back(in.price[c][p]);
      }
    }
    add_row(std::move(row), std::max(1.0, *s.capex_budget_usd));
  }
  if (s.opex_budget_usd) {
    // The power, hosting and maintenance of every node from its purchase to the horizon's end.
    MilpRow row{.name = "budget opex", .hi = *s.opex_budget_usd};
    for (std::size_t c = 0; c < nc; ++c) {
      for (std::size_t p = 0; p < np; ++p) {
        row.columns.push_back(m.buy[c][p]);
        row.coefficients.push_back(in.opex_cost[c][p]);
      }
    }
    add_row(std::move(row), std::max(1.0, *s.opex_budget_usd));
  }
  // Vendor shares of the devices owned: sum_V chips - share x sum_all chips <= 0.
  for (const auto& [vendor, share] : s.vendor_caps) {
    for (std::size_t p = 0; p < np; ++p) {
      MilpRow row{.name = fmt::format("vendor cap {} {}", vendor, s.periods[p].label), .hi = 0};
      for (std::size_t c = 0; c < nc; ++c) {
        const double chips = in.c[c].packages_per_node;
        const double coef = (EqualsIgnoreCase(in.c[c].vendor, vendor) ? chips : 0) - share * chips;
        if (coef == 0) continue;
        for (std::size_t q = 0; q <= p; ++q) {
          row.columns.push_back(m.buy[c][q]);
          row.coefficients.push_back(coef);
        }
      }
      if (!row.columns.empty()) add_row(std::move(row), 1e3);
    }
  }
  // One scenario (nominal) or one per single-vendor shock as well.
  std::vector<std::string> scenarios = {""};
  for (const auto& v : shocked_vendors) scenarios.push_back(v);
  m.scenario_names = scenarios;
  m.alloc.assign(scenarios.size(), std::vector<std::vector<std::vector<std::vector<int>>>>(
                                      nc, std::vector<std::vector<std::vector<int>>>(nd, std::vector<std::vector<int>>(np))));
  m.served.assign(scenarios.size(), std::vector<std::vector<int>>(nd, std::vector<int>(np, -1)));
  double weight_total = 0;
  for (std::size_t d = 0; d < nd; ++d) {
    for (std::size_t p = 0; p < np; ++p) {
      if (s.demands[d].need[p] > 0) weight_total += s.periods[p].hours;
    }
  }
  if (most_served && scenarios.size() > 1 && !elastic) {
    m.worst = m.p.AddColumn("worst-case served", 1.0, 0, 1, false);
  }
  for (std::size_t k = 0; k < scenarios.size(); ++k) {
    const std::string tag = scenarios[k].empty() ? "" : " without " + scenarios[k];
    MilpRow worst_row{.name = "worst case" + tag, .lo = 0};
    if (m.worst >= 0) {
      worst_row.columns.push_back(m.worst);
      worst_row.coefficients.push_back(-1);
    }
    for (std::size_t c = 0; c < nc; ++c) {
      if (!scenarios[k].empty() && EqualsIgnoreCase(in.c[c].vendor, scenarios[k])) continue;
      for (std::size_t p = 0; p < np; ++p) {
        MilpRow row{.name = fmt::format("allocation {} {}{}", in.c[c].system, s.periods[p].label, tag), .hi = 0};
        for (std::size_t d = 0; d < nd; ++d) {
          if (in.c[c].capacity[d] <= 0 || s.demands[d].need[p] <= 0) continue;
          const auto& options = in.c[c].options[d];
          for (std::size_t o = 0; o < options.size(); ++o) {
            const double unit = options[o].deployment_nodes;
            const int col = m.p.AddColumn(fmt::format("{} {} for {} {}{}{}", unit > 1 ? "deployments" : "nodes", in.c[c].system,
                                                      s.demands[d].id, s.periods[p].label, tag,
                                                      options.size() > 1 ? fmt::format(" option {}", o + 1) : std::string()),
                                          0, 0, kMilpInfinity, unit > 1);
            m.alloc[k][c][d][p].push_back(col);
            row.columns.push_back(col);
            row.coefficients.push_back(unit);
          }
        }
        if (row.columns.empty()) continue;
        for (std::size_t q = 0; q <= p; ++q) {
          row.columns.push_back(m.buy[c][q]);
          row.coefficients.push_back(-1);
        }
        add_row(std::move(row), 1);
      }
    }
    for (std::size_t d = 0; d < nd; ++d) {
      for (std::size_t p = 0; p < np; ++p) {
        const double need = s.demands[d].need[p];
        if (need <= 0) continue;
        const bool fixed = !most_served;
        const double w = s.periods[p].hours / weight_total;
        // Most served: the hours-weighted share of the demand met (nominal), or
        // the worst case over the shocks with the nominal as a tie-break.
        double obj = 0;
        if (most_served && !elastic && k == 0) obj = m.worst < 0 ? w : 1e-6 * w;
        m.served[k][d][p] = m.p.AddColumn(fmt::format("served {} {}{}", s.demands[d].id, s.periods[p].label, tag), obj,
                                          fixed ? 1 : 0, 1, false);
        if (m.worst >= 0) {
          worst_row.columns.push_back(m.served[k][d][p]);
          worst_row.coefficients.push_back(w);
        }
        MilpRow row{.name = fmt::format("demand {} {}{}", s.demands[d].id, s.periods[p].label, tag), .lo = 0};
        for (std::size_t c = 0; c < nc; ++c) {
          for (std::size_t o = 0; o < m.alloc[k][c][d][p].size(); ++o) {
            const FleetOption& option = in.c[c].options[d][o];
            row.columns.push_back(m.alloc[k][c][d][p][o]);
            row.coefficients.push_back(option.deployment_nodes * option.per_node / need);  // in fractions of the demand
          }
        }
        row.columns.push_back(m.served[k][d][p]);
        row.coefficients.push_back(-1);
        m.demand_rows.push_back(add_row(std::move(row), 1));
      }
    }
    if (m.worst >= 0) add_row(std::move(worst_row), 1);
  }
  if (elastic) {
    // Every row may give: a slack column per row, priced by its scale, so the
    // cheapest relaxation names the constraints that cannot all hold. A
    // demand's shortfall costs 10^6 times a limit's (budget, power, supply,
    // vendor cap) giving by its own size: the relaxation names the limits
    // that would have to give for every demand to be met, and a demand only
    // when no limit can meet it (nothing purchasable serves it).
    const std::size_t nrows = m.p.rows.size();
    for (std::size_t r = 0; r < nrows; ++r) {
      if (m.p.rows[r].name.starts_with("allocation")) continue;
      const bool ge = std::isfinite(m.p.rows[r].lo);
      const bool demand = m.p.rows[r].name.starts_with("demand ");
      const int col = m.p.AddColumn("slack " + m.p.rows[r].name, demand ? 1e6 : 1.0, 0, kMilpInfinity, false);
      m.p.rows[r].columns.push_back(col);
      m.p.rows[r].coefficients.push_back(ge ? 1.0 : -m.row_scale[r]);
    }
  }
  return m;
}

double Served(const Model& m, const MilpSolution& sol, std::size_t k, std::size_t d, std::size_t p) {
  const int col = m.served[k][d][p];
  return col < 0 ? 1.0 : std::clamp(sol.x[std::size_t(col)], 0.0, 1.0);
}

// The average served fraction over the demands' periods, weighted by hours.
double AverageServed(const Model& m, const MilpSolution& sol, const FleetScenario& s, std::size_t k) {
  double num = 0, den = 0;
  for (std::size_t d = 0; d < s.demands.size(); ++d) {
    for (std::size_t p = 0; p < s.periods.size(); ++p) {
      if (s.demands[d].need[p] <= 0) continue;
      num += Served(m, sol, k, d, p) * s.periods[p].hours;
      den += s.periods[p].hours;
    }
  }
  return den > 0 ? num / den : 1;
}

// A period's utilisation, demand served over capacity owned: the least
// fraction u of every system's owned nodes that could serve the demand
// served (docs/fleet-model.md, "Utilisation"), by the LP
//   min u  s.t.  sum_d z_cd <= u n_c (each c),  sum_c cap_cd z_cd >= served_d (each d),  z >= 0,
// and that LP's allocation z_cd (node-equivalents of c doing d's served work).
struct PeriodUse {
  double fleet = 0;
  std::vector<std::vector<double>> nodes;  // [candidate][demand]
};

Result<PeriodUse> Utilization(const Inputs& in, const std::vector<double>& owned, const std::vector<double>& served,
                              MilpSolver& solver, const MilpOptions& options) {
  const std::size_t nc = in.c.size(), nd = served.size();
  PeriodUse out;
  out.nodes.assign(nc, std::vector<double>(nd, 0));
  bool any = false;
  for (double v : served) any = any || v > 0;
  if (!any) return out;
  MilpProblem lp;
  const int u = lp.AddColumn("utilization", 1, 0, kMilpInfinity, false);
  std::vector<std::vector<int>> z(nc, std::vector<int>(nd, -1));
  std::vector<MilpRow> demand(nd);
  for (std::size_t d = 0; d < nd; ++d) demand[d] = MilpRow{.name = "served " + in.s.demands[d].id, .lo = served[d]};
  for (std::size_t c = 0; c < nc; ++c) {
    if (owned[c] <= 0.5) continue;
    MilpRow row{.name = "nodes " + in.c[c].system, .hi = 0};
    for (std::size_t d = 0; d < nd; ++d) {
      if (served[d] <= 0 || in.c[c].capacity[d] <= 0) continue;
      z[c][d] = lp.AddColumn("z", 0, 0, kMilpInfinity, false);
      row.columns.push_back(z[c][d]);
      row.coefficients.push_back(1);
      demand[d].columns.push_back(z[c][d]);
      demand[d].coefficients.push_back(in.c[c].capacity[d]);
    }
    row.columns.push_back(u);
    row.coefficients.push_back(-owned[c]);
    lp.AddRow(std::move(row));
  }
  for (std::size_t d = 0; d < nd; ++d) {
    if (served[d] > 0 && !demand[d].columns.empty()) lp.AddRow(std::move(demand[d]));
  }
  auto r = solver.Solve(lp, options);
  if (!r) return std::move(r).error();
  if (r->status != MilpStatus::kOptimal) {
    return Error::Internal(in.s.file + ": the utilisation LP did not solve: " + r->solver_status);
  }
  out.fleet = r->x[std::size_t(u)];
  for (std::size_t c = 0; c < nc; ++c) {
    for (std::size_t d = 0; d < nd; ++d) {
      if (z[c][d] >= 0) out.nodes[c][d] = r->x[std::size_t(z[c][d])];
    }
  }
  return out;
}

// The period decomposition of the least-cost plan (docs/fleet-model.md,
// "Speed"). A node bought in p costs rho_cp per hour it is owned, so the
// objective is the sum over periods q of the cost falling in q,
// C_q = H_q sum_c sum_{p<=q} rho_cp b_cp. Two kinds of problems, each a MILP
// in the nodes owned in a block of consecutive periods a..b alone (their
// allocation, demand, power and vendor-cap rows, the budgets): e_c nodes
// owned in a and b_cp bought in each later p of the block (at most p's
// supply, at rho_cp for the rest of the block), so n_cq = e_c + sum b_cp:
//   bound:   e_c <= the supply up to a, at H_q min_{p<=a} rho_cp per node
//            and period q of the block: any plan's (n_ca, b_c,a+1..b) is
//            feasible for it, so its optimum (or the solver's proven bound)
//            LB_ab <= sum_{q=a..b} C_q; a == b is the period bound P_q;
//   forward: one period (a == b == q), e_c >= the nodes owned in q-1,
//            e_c - n_c,q-1 <= q's supply, the cost of each node bought in q
//            for the rest of the horizon: solved in order q = 1, 2, ..., it
//            builds a feasible plan (a rolling-horizon heuristic), the MIP
//            start of the full MILP.
struct BlockModel {
  MilpProblem p;
  std::vector<int> first;             // per candidate: e_c, the nodes owned in a
  std::vector<std::vector<int>> buy;  // [candidate][p - a - 1]: b_cp for a < p <= b
};

BlockModel BuildBlock(const Inputs& in, std::size_t a, std::size_t b, const std::vector<double>* floor_nodes,
                      double capex_left, double opex_left) {
  BlockModel m;
  const FleetScenario& s = in.s;
  const std::size_t nc = in.c.size(), nd = s.demands.size(), np = s.periods.size();
  const bool forward = floor_nodes != nullptr;  // then a == b
  auto hours_from = [&](std::size_t p) {
    double h = 0;
    for (std::size_t r = p; r < np; ++r) h += s.periods[r].hours;
    return h;
  };
  auto cap = [&](std::size_t c, std::size_t p) {
    return !in.c[c].purchasable[p] ? 0.0 : (in.supply[c][p] < 0 ? kBigSupply : std::floor(in.supply[c][p] + 1e-9));
  };
  double block_hours = 0;
  for (std::size_t q = a; q <= b; ++q) block_hours += s.periods[q].hours;
  std::vector<double> price(nc, 0), opex(nc, 0);  // per node of e_c, for the budgets
  m.buy.assign(nc, {});
  for (std::size_t c = 0; c < nc; ++c) {
    double lo = 0, hi = 0, cost = 0;
    if (forward) {
      lo = (*floor_nodes)[c];
      hi = lo + cap(c, a);
      cost = in.buy_cost[c][a];
      price[c] = in.price[c][a];
      opex[c] = in.opex_cost[c][a];
    } else {
      double rho = kMilpInfinity;
      price[c] = opex[c] = kMilpInfinity;
      for (std::size_t p = 0; p <= a; ++p) {
        if (!in.c[c].purchasable[p]) continue;
        hi += cap(c, p);
        rho = std::min(rho, in.buy_cost[c][p] / hours_from(p));
        price[c] = std::min(price[c], in.price[c][p]);
        opex[c] = std::min(opex[c], in.opex_cost[c][p]);
      }
      cost = std::isfinite(rho) ? rho * block_hours : 0;
      if (!std::isfinite(price[c])) price[c] = opex[c] = 0;
    }
    m.first.push_back(m.p.AddColumn("own " + in.c[c].system, cost, lo, hi, true));
    for (std::size_t p = a + 1; p <= b; ++p) {
      double h = 0;
      for (std::size_t q = p; q <= b; ++q) h += s.periods[q].hours;
      m.buy[c].push_back(m.p.AddColumn("buy " + in.c[c].system + " " + s.periods[p].label,
                                       in.buy_cost[c][p] / hours_from(p) * h, 0, cap(c, p), true));
    }
  }
  // The nodes of c owned in q, times coef, as terms of `row`.
  auto owned = [&](std::size_t c, std::size_t q, double coef, MilpRow& row) {
    row.columns.push_back(m.first[c]);
    row.coefficients.push_back(coef);
    for (std::size_t p = a + 1; p <= q; ++p) {
      row.columns.push_back(m.buy[c][p - a - 1]);
      row.coefficients.push_back(coef);
    }
  };
  for (std::size_t q = a; q <= b; ++q) {
    for (const FleetSite& site : s.sites) {
      if (site.power_w[q] < 0) continue;
      MilpRow row{.name = "power " + site.id + " " + s.periods[q].label, .hi = site.power_w[q]};
      for (std::size_t c = 0; c < nc; ++c) {
        if (in.c[c].site == site.id) owned(c, q, in.c[c].facility_power_w_per_node, row);
      }
      m.p.AddRow(std::move(row));
    }
  }
  auto budget = [&](const std::string& name, const std::vector<double>& first_coef,
                    const std::vector<std::vector<double>>& coef, double left) {
    MilpRow row{.name = name, .hi = left};
    for (std::size_t c = 0; c < nc; ++c) {
      row.columns.push_back(m.first[c]);
      row.coefficients.push_back(first_coef[c]);
      if (forward) row.hi += first_coef[c] * (*floor_nodes)[c];  // the budget left is for the nodes bought in q
      for (std::size_t p = a + 1; p <= b; ++p) {
        row.columns.push_back(m.buy[c][p - a - 1]);
        row.coefficients.push_back(coef[c][p]);
      }
    }
    m.p.AddRow(std::move(row));
  };
  if (s.capex_budget_usd) budget("budget capex", price, in.price, capex_left);
  if (s.opex_budget_usd) budget("budget opex", opex, in.opex_cost, opex_left);
  for (std::size_t q = a; q <= b; ++q) {
    for (const auto& [vendor, share] : s.vendor_caps) {
      MilpRow row{.name = "vendor cap " + vendor + " " + s.periods[q].label, .hi = 0};
      for (std::size_t c = 0; c < nc; ++c) {
        const double chips = in.c[c].packages_per_node;
        const double coef = (EqualsIgnoreCase(in.c[c].vendor, vendor) ? chips : 0) - share * chips;
        if (coef != 0) owned(c, q, coef, row);
      }
      if (!row.columns.empty()) m.p.AddRow(std::move(row));
    }
    std::vector<MilpRow> demand(nd);
    for (std::size_t d = 0; d < nd; ++d) demand[d] = MilpRow{.name = "demand " + s.demands[d].id + " " + s.periods[q].label, .lo = 1};
    for (std::size_t c = 0; c < nc; ++c) {
      MilpRow row{.name = "allocation " + in.c[c].system + " " + s.periods[q].label, .hi = 0};
      for (std::size_t d = 0; d < nd; ++d) {
        const double need = s.demands[d].need[q];
        if (in.c[c].capacity[d] <= 0 || need <= 0) continue;
        for (const FleetOption& option : in.c[c].options[d]) {
          const int x = m.p.AddColumn("x", 0, 0, kMilpInfinity, option.deployment_nodes > 1);
          row.columns.push_back(x);
          row.coefficients.push_back(option.deployment_nodes);
          demand[d].columns.push_back(x);
          demand[d].coefficients.push_back(option.deployment_nodes * option.per_node / need);
        }
      }
      if (row.columns.empty()) continue;
      owned(c, q, -1, row);
      m.p.AddRow(std::move(row));
    }
    for (std::size_t d = 0; d < nd; ++d) {
      if (s.demands[d].need[q] > 0) m.p.AddRow(std::move(demand[d]));
    }
  }
  return m;
}

struct Decomposition {
  std::vector<double> lower_bound;              // per block: LB_ab
  std::vector<std::pair<std::size_t, std::size_t>> blocks;  // the blocks' first and last periods
  std::vector<std::vector<double>> start_buy;   // [candidate][period], empty when the forward pass failed
  double start_cost = 0;
  long long nodes = 0, iterations = 0;
};

// The seconds left before `deadline` (at least 10 ms: a solver's limit must be positive).
double SecondsLeft(std::chrono::steady_clock::time_point deadline) {
  return std::max(0.01, std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count());
}

Result<std::optional<Decomposition>> Decompose(const Inputs& in, MilpSolver& solver, const MilpOptions& options,
                                               double period_gap, std::size_t block_periods,
                                               std::chrono::steady_clock::time_point deadline) {
  const FleetScenario& s = in.s;
  const std::size_t nc = in.c.size(), np = s.periods.size();
  Decomposition out;
  MilpOptions period = options;
  period.pricing_lps = false;
  // The bound problems to proven optimality (by default) with CBC's cut
  // generators and heuristics off: the forward pass's plan is their start,
  // and CBC proves them 2-5 times faster so (docs/fleet-model.md, "Speed").
  period.relative_gap = period_gap;
  period.cut_generators = false;
  period.heuristics = false;
  // The forward pass first: its nodes owned in q are feasible for the bound
  // problem P_q and are its MIP start, which prunes P_q's search.
  std::vector<double> owned(nc, 0);
  std::vector<std::vector<double>> owned_in(np);
  double capex_left = s.capex_budget_usd.value_or(0), opex_left = s.opex_budget_usd.value_or(0);
  std::vector<std::vector<double>> buy(nc, std::vector<double>(np, 0));
  bool forward_ok = true;
  // The forward problems to proven optimality without cut generators or
  // heuristics: 1.55 s of CPU for bench/fleet-large.yaml's twelve against
  // 1.76 s with the heuristics on, and a plan within 6.4e-5 of the bound
  // (docs/fleet-model.md).
  MilpOptions forward = period;
  forward.relative_gap = kForwardGap;
  for (std::size_t q = 0; q < np && forward_ok; ++q) {
    BlockModel m = BuildBlock(in, q, q, &owned, capex_left, opex_left);
    forward.time_limit_s = SecondsLeft(deadline);
    auto r = solver.Solve(m.p, forward);
    if (!r) return std::move(r).error();
    out.nodes += r->nodes;
    out.iterations += r->iterations;
    if (!r->has_solution) {
      forward_ok = false;  // bounds only
      break;
    }
    for (std::size_t c = 0; c < nc; ++c) {
      const double n = r->x[std::size_t(m.first[c])];
      buy[c][q] = n - owned[c];
      owned[c] = n;
      capex_left -= buy[c][q] * in.price[c][q];
      opex_left -= buy[c][q] * in.opex_cost[c][q];
      out.start_cost += buy[c][q] * in.buy_cost[c][q];
    }
    owned_in[q] = owned;
  }
  const std::size_t k = std::max<std::size_t>(1, block_periods);
  for (std::size_t a = 0; a < np; a += k) {
    const std::size_t b = std::min(np, a + k) - 1;
    BlockModel m = BuildBlock(in, a, b, nullptr, s.capex_budget_usd.value_or(0), s.opex_budget_usd.value_or(0));
    if (!owned_in[b].empty()) {
      m.p.start.assign(m.p.objective.size(), 0);
      for (std::size_t c = 0; c < nc; ++c) {
        m.p.start[std::size_t(m.first[c])] = owned_in[a][c];
        for (std::size_t p = a + 1; p <= b; ++p) m.p.start[std::size_t(m.buy[c][p - a - 1])] = buy[c][p];
      }
    }
    period.time_limit_s = SecondsLeft(deadline);
    auto r = solver.Solve(m.p, period);
    if (!r) return std::move(r).error();
    out.nodes += r->nodes;
    out.iterations += r->iterations;
    if (r->status == MilpStatus::kInfeasible || r->status == MilpStatus::kUnbounded) return std::optional<Decomposition>();
    out.blocks.emplace_back(a, b);
    out.lower_bound.push_back(r->status == MilpStatus::kOptimal && period.relative_gap == 0
                                  ? r->objective
                                  : (r->has_solution ? std::min(r->bound, r->objective) : r->bound));
  }
  if (!forward_ok) return std::optional<Decomposition>(std::move(out));
  out.start_buy = std::move(buy);
  return std::optional<Decomposition>(std::move(out));
}

}  // namespace

Result<FleetResult> PlanFleet(const Catalog& catalog, const FleetScenario& s, const FleetOptions& given,
                              MilpSolver& solver) {
  FleetOptions options = given;
  options.milp.cancel = given.cancel;  // every MILP and LP stops at its next node once cancelled
  FleetResult out;
  out.scenario = s.name;
  for (const FleetDemand& d : s.demands) out.demands.push_back(d.id);
  out.file = s.file;
  out.solver = std::string(solver.name());
  out.robust = options.robust;
  auto facility = ResolveFacility(catalog, s.facility);
  if (!facility) return std::move(facility).error();
  const std::size_t np = s.periods.size(), nd = s.demands.size();
  Inputs in{.s = s, .c = out.candidates, .price = {}, .supply = {}, .buy_cost = {}, .opex_cost = {}, .annuity_per_hour = {}};
  std::map<std::string, std::vector<PlanCapacity>> capacity_cache;
  std::optional<CapacityWatch> watch;  // from the first capacity the model computes
  for (const FleetCandidate& fc : s.candidates) {
    auto package = ResolveHardware(catalog, fc.system);
    if (!package) return std::move(package).error();
    // Devices are the system's ranks (dies on CloudMatrix 384), as its
    // capacities below count them; export rules classify the package.
    const ResolvedHardware hw = AtRank(*package, std::nullopt);
    FleetCandidateInfo info;
    info.system = hw.id();
    info.chip = hw.chip.id;
    info.vendor = hw.chip.vendor;
    info.site = fc.site;
    info.chips_per_node = hw.system != nullptr ? int(hw.system->Get("chips_per_node").value_or(8)) : 8;
    info.packages_per_node =
        package->system != nullptr ? int(package->system->Get("chips_per_node").value_or(8)) : info.chips_per_node;
    TcoOverrides o;
    o.utilization = 1;
    if (fc.price_usd_per_node) o.price_usd = *fc.price_usd_per_node / info.chips_per_node;
    auto tco = MakeTcoInputs(catalog, hw.chip, hw.system, **facility, s.date, o);
    if (!tco) {
      Error e = std::move(tco).error();
      for (auto& d : e.diagnostics) {
        d.file = s.file;
        d.line = fc.line;
        d.message = "candidate " + info.system + ": " + d.message + " (or price_usd_per_node in the scenario)";
        d.key_path = "candidates";
      }
      return e;
    }
    const TcoBreakdown b = EvaluateTco(BaseValues(*tco));
    info.price_usd_per_node = (*tco)[TcoInputId::kPriceUsd].base * info.chips_per_node;
    info.price_from = fc.price_usd_per_node ? "price_usd_per_node in the scenario" : (*tco)[TcoInputId::kPriceUsd].from;
    info.cost_usd_per_node_hour = b.total() * info.chips_per_node;
    info.facility_power_w_per_node = (*tco)[TcoInputId::kPowerW].base * (*tco)[TcoInputId::kPue].base * info.chips_per_node;
    const double opex_per_node_hour = (b.power + b.hosting + b.maintenance) * info.chips_per_node;
    const double annuity = AnnuityFactor((*tco)[TcoInputId::kCostOfCapital].base, (*tco)[TcoInputId::kLifeYears].base) / 8760;
    // Capacities.
    const int domain = hw.system != nullptr ? int(hw.system->Get("scale_up.domain").value_or(info.chips_per_node))
                                             : int(hw.chip.Get("scale_up.domain").value_or(8));
    for (const FleetDemand& d : s.demands) {
      if (auto it = fc.capacity.find(d.id); it != fc.capacity.end()) {
        const auto unit = fc.deployment_nodes.find(d.id);
        info.options.push_back({FleetOption{.per_node = it->second,
                                            .deployment_nodes = unit != fc.deployment_nodes.end() ? unit->second : 1,
                                            .from = "stated in the scenario"}});
        info.capacity.push_back(info.options.back().front().per_node);
        info.capacity_from.push_back(info.options.back().front().from);
        info.deployment_nodes.push_back(info.options.back().front().deployment_nodes);
        continue;
      }
      const ModelEntry* model = catalog.FindModel(d.model);
      bool moe = false;
      for (const auto& g : model->arch.groups) moe = moe || g.is_moe();
      // Once per (system, workload): the same system at several sites, or two
      // demands of the same shape, share one evaluation.
      const std::string key = fmt::format("{}|{}|{}|{}|{}|{:.17g}|{:.17g}|{}|{}|{}|{}|{}|{}|{:.17g}", info.system, int(d.kind), d.model,
                                          d.input_tokens, d.output_tokens, d.tpot_s, d.ttft_s, d.mtp, d.weights, d.kv_cache, d.devices, d.seq_len,
                                          d.global_batch, d.memory_headroom);
      auto hit = capacity_cache.find(key);
      if (hit == capacity_cache.end()) {
        if (!watch) watch.emplace(options.capacity_time_limit_s, options.cancel);
        auto cap = d.kind == DemandKind::kServing ? ServingCapacity(catalog, info.system, domain, moe, d, options.threads, watch->flag())
                                                  : TrainingCapacity(catalog, info.system, d, watch->flag());
        if (!cap && watch->expired()) {
          return Error(Diagnostic{.file = s.file, .key_path = "capacity_time_limit",
                                  .message = fmt::format("the capacities' simulations and searches took more than {:g} s ({} (system, workload) "
                                                         "pairs done; stopped in {} for demand {}): raise capacity_time_limit (--capacity-time-limit), or state the "
                                                         "capacities in the scenario (candidates[].capacity)",
                                                         options.capacity_time_limit_s, capacity_cache.size(), info.system, d.id)});
        }
        if (!cap) return std::move(cap).error();
        hit = capacity_cache.emplace(key, std::move(*cap)).first;
      }
      info.options.push_back(Options(hit->second, info.chips_per_node));
      info.capacity.push_back(info.options.back().front().per_node);
      info.capacity_from.push_back(info.options.back().front().from);
      info.deployment_nodes.push_back(info.options.back().front().deployment_nodes);
    }
    // Purchasable per period: the rules in force at its end, licences, events.
    const bool governed = std::any_of(s.controlled_vendors.begin(), s.controlled_vendors.end(),
                                      [&](const std::string& v) { return EqualsIgnoreCase(v, info.vendor); });
    std::vector<double> supply = fc.supply, price(np, info.price_usd_per_node);
    for (std::size_t p = 0; p < np; ++p) {
      std::string why;
      if (governed) {
        for (const auto& id : s.rules) {
          const RuleSet* rules = catalog.FindRuleSet(id);
          if (rules == nullptr || rules->effective > s.periods[p].end) continue;
          const Classification cl = Classify(package->chip, *rules);
          if (!cl.controlled || *cl.controlled) {
            why = rules->id + (cl.controlled ? ": " + cl.category : ": undetermined (treated as controlled)");
          }
        }
        if (!why.empty()) {
          for (const auto& l : s.licences) {
            if (EqualsIgnoreCase(l.chip, info.chip) && l.from <= s.periods[p].end) why.clear();
          }
        }
      }
      for (const FleetEvent& e : s.events) {
        if (!Hits(e, info) || int(p) < e.from) continue;
        if (supply[p] >= 0) supply[p] *= e.supply_factor;
        if (e.supply_factor == 0) why = why.empty() ? "event: " + (e.note.empty() ? "unavailable" : e.note) : why;
        if (supply[p] < 0 && e.supply_factor > 0 && e.supply_factor < 1) {
          out.warnings.push_back(info.system + ": an event cuts supply by a factor but the candidate has no supply cap to cut");
        }
        price[p] *= e.price_factor;
      }
      info.purchasable.push_back(why.empty());
      info.why_not.push_back(why);
    }
    std::vector<double> buy_cost(np, 0), opex_cost(np, 0);
    double hours_left = 0;
    for (std::size_t p = np; p-- > 0;) {
      hours_left += s.periods[p].hours;
      buy_cost[p] = price[p] * annuity * hours_left + opex_per_node_hour * hours_left;
      opex_cost[p] = opex_per_node_hour * hours_left;
    }
    in.price.push_back(price);
    in.supply.push_back(supply);
    in.buy_cost.push_back(buy_cost);
    in.opex_cost.push_back(opex_cost);
    in.annuity_per_hour.push_back(annuity);
    out.candidates.push_back(std::move(info));
  }
  watch.reset();  // the capacities are done
  // A demand of less than kMinNodeShare of the best node serving it needs an
  // allocation that the solver's tolerances (1e-7) cannot tell from none: the
  // period problems would buy nothing and the plan read as infeasible. Said
  // so, as bad input.
  for (std::size_t d = 0; d < nd; ++d) {
    double best = 0;
    std::size_t best_c = 0;
    for (std::size_t c = 0; c < out.candidates.size(); ++c) {
      for (const FleetOption& o : out.candidates[c].options[d]) {
        if (o.per_node > best) {
          best = o.per_node;
          best_c = c;
        }
      }
    }
    for (std::size_t p = 0; p < np && best > 0; ++p) {
      const double need = s.demands[d].need[p];
      if (need <= 0 || need >= kMinNodeShare * best) continue;
      return Error(Diagnostic{
          .file = s.file, .line = s.demands[d].line, .key_path = fmt::format("demands[{}]", d),
          .message = fmt::format("demand '{}' needs {:.3g} tokens/s in {}, {:.2g} of one {} node ({:.4g} tokens/s): less than {:g} of a "
                                 "node, which the solver cannot tell from none",
                                 s.demands[d].id, need, s.periods[p].label, need / best, out.candidates[best_c].system, best,
                                 kMinNodeShare)});
    }
  }
  const bool most_served = s.objective == FleetObjective::kMostServed;
  std::vector<std::string> vendors;
  for (const auto& c : out.candidates) {
    if (std::none_of(vendors.begin(), vendors.end(), [&](const std::string& v) { return EqualsIgnoreCase(v, c.vendor); })) {
      vendors.push_back(c.vendor);
    }
  }
  Model m = Build(in, options.robust ? vendors : std::vector<std::string>{}, most_served, false, nullptr);
  // Least cost without shock scenarios: the period decomposition's bounds
  // as cuts (LB_q <= C_q <= LB_q + the gap left: a plan cheaper than the
  // forward pass's has every period's cost within that of its bound) and
  // the forward pass's plan as the MIP start (docs/fleet-model.md, "Speed").
  if (IsCancelled(options.cancel)) return Cancelled();
  std::optional<Decomposition> dec;
  const auto decomposition_start = std::chrono::steady_clock::now();
  // One time limit for the plan's MILPs together (the forward and period
  // problems, the full MILP).
  const auto deadline = decomposition_start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                  std::chrono::duration<double>(options.milp.time_limit_s));
  if (!most_served && !options.robust && np > 1 && options.period_decomposition) {
    auto r = Decompose(in, solver, options.milp, options.period_relative_gap, std::size_t(std::max(1, options.period_block)),
                       deadline);
    if (!r) return std::move(r).error();
    dec = std::move(*r);
  }
  double period_bound = -kMilpInfinity;
  if (dec) {
    period_bound = 0;
    for (double v : dec->lower_bound) period_bound += v;
    // The forward plan's excess over the bound, plus a rounding allowance of
    // 1e-7 of its cost so that the start itself satisfies every row.
    const double slack = dec->start_buy.empty() ? kMilpInfinity
                                                : std::max(0.0, dec->start_cost - period_bound) + 1e-7 * std::fabs(dec->start_cost);
    for (std::size_t i = 0; i < dec->blocks.size(); ++i) {
      const auto [a, b] = dec->blocks[i];
      MilpRow row{.name = "period bound " + s.periods[a].label + (a == b ? "" : "-" + s.periods[b].label),
                  .lo = dec->lower_bound[i], .hi = dec->lower_bound[i] + slack, .cut = true};
      for (std::size_t c = 0; c < out.candidates.size(); ++c) {
        double hours_left = 0;
        for (std::size_t p = np; p-- > 0;) {
          hours_left += s.periods[p].hours;
          if (p > b || m.p.upper[std::size_t(m.buy[c][p])] <= 0) continue;
          double h = 0;  // the hours of the block in which a node bought in p is owned
          for (std::size_t q = std::max(a, p); q <= b; ++q) h += s.periods[q].hours;
          row.columns.push_back(m.buy[c][p]);
          row.coefficients.push_back(in.buy_cost[c][p] / hours_left * h);
        }
      }
      m.p.AddRow(std::move(row));
      m.row_scale.push_back(1);
    }
    if (!dec->start_buy.empty()) {
      m.p.start.assign(m.p.objective.size(), 0);
      for (std::size_t c = 0; c < out.candidates.size(); ++c) {
        for (std::size_t p = 0; p < np; ++p) m.p.start[std::size_t(m.buy[c][p])] = dec->start_buy[c][p];
      }
    }
  }
  const double decomposition_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - decomposition_start).count();
  if (IsCancelled(options.cancel)) return Cancelled();
  MilpOptions full = options.milp;
  full.time_limit_s = SecondsLeft(deadline);
  auto sol = solver.Solve(m.p, full);
  if (!sol) return std::move(sol).error();
  if (IsCancelled(options.cancel)) return Cancelled();  // a search cut short is no plan
  out.solver_status = sol->solver_status;
  out.solve_seconds = sol->seconds + decomposition_s;
  if (sol->status == MilpStatus::kStopped || sol->status == MilpStatus::kUnbounded) {
    return Error::Internal(s.file + ": the solver (" + out.solver + ") did not finish: " + sol->solver_status);
  }
  if (sol->status == MilpStatus::kInfeasible) {
    out.feasible = false;
    // The cheapest relaxation names the constraints in conflict.
    Model e = Build(in, options.robust ? vendors : std::vector<std::string>{}, most_served, true, nullptr);
    auto relaxed = solver.Solve(e.p, options.milp);
    if (relaxed && relaxed->status == MilpStatus::kOptimal) {
      for (std::size_t r = 0; r < e.p.rows.size(); ++r) {
        const MilpRow& row = e.p.rows[r];
        if (row.columns.empty() || !e.p.names[std::size_t(row.columns.back())].starts_with("slack ")) continue;
        const double slack = relaxed->x[std::size_t(row.columns.back())];
        if (slack > 1e-6) {
          const bool ge = std::isfinite(row.lo);
          out.conflicts.push_back(ge ? fmt::format("{}: short by {:.3g} % of the demand", row.name, slack * 100)
                                     : fmt::format("{}: over its bound by {:.6g}", row.name, slack * e.row_scale[r]));
        }
      }
    }
    for (const auto& c : out.candidates) {
      for (std::size_t p = 0; p < np; ++p) {
        if (!c.purchasable[p]) out.conflicts.push_back(fmt::format("{} cannot be bought in {}: {}", c.system, s.periods[p].label, c.why_not[p]));
      }
    }
    return out;
  }
  out.feasible = true;
  // The plan, period by period.
  std::vector<std::vector<double>> bought(out.candidates.size(), std::vector<double>(np, 0));
  for (std::size_t c = 0; c < out.candidates.size(); ++c) {
    for (std::size_t p = 0; p < np; ++p) bought[c][p] = sol->x[std::size_t(m.buy[c][p])];
  }
  for (std::size_t p = 0; p < np; ++p) {
    FleetPeriodResult pr;
    pr.period = s.periods[p].label;
    for (std::size_t c = 0; c < out.candidates.size(); ++c) {
      const auto& info = out.candidates[c];
      const std::string key = s.sites.size() > 1 ? info.system + "@" + info.site : info.system;
      double own = 0, cost = 0;
      for (std::size_t q = 0; q <= p; ++q) {
        own += bought[c][q];
        const double opex = info.cost_usd_per_node_hour - info.price_usd_per_node * in.annuity_per_hour[c];
        cost += bought[c][q] * (in.price[c][q] * in.annuity_per_hour[c] + opex) * s.periods[p].hours;
      }
      pr.capex_usd += bought[c][p] * in.price[c][p];
      if (own > 0.5) {
        pr.units[key] += static_cast<long long>(std::llround(own));
        if (bought[c][p] > 0.5) pr.bought[key] += static_cast<long long>(std::llround(bought[c][p]));
      }
      pr.cost_usd += cost;
      pr.power_w += own * info.facility_power_w_per_node;
    }
    for (std::size_t d = 0; d < nd; ++d) {
      if (s.demands[d].need[p] > 0) pr.served[s.demands[d].id] = Served(m, *sol, 0, d, p);
    }
    for (std::size_t c = 0; c < out.candidates.size(); ++c) {
      const auto& info = out.candidates[c];
      for (std::size_t d = 0; d < nd; ++d) {
        for (std::size_t o = 0; o < m.alloc[0][c][d][p].size(); ++o) {
          const double x = sol->x[std::size_t(m.alloc[0][c][d][p][o])];
          if (x <= 1e-6) continue;
          const FleetOption& option = info.options[d][o];
          pr.deployments.push_back({.system = s.sites.size() > 1 ? info.system + "@" + info.site : info.system,
                                    .demand = s.demands[d].id, .from = option.from,
                                    .deployment_nodes = option.deployment_nodes, .count = x});
        }
      }
    }
    // Utilisation: demand served over capacity owned.
    std::vector<double> owned(out.candidates.size(), 0), served_rate(nd, 0);
    for (std::size_t c = 0; c < out.candidates.size(); ++c) {
      for (std::size_t q = 0; q <= p; ++q) owned[c] += bought[c][q];
    }
    for (std::size_t d = 0; d < nd; ++d) served_rate[d] = s.demands[d].need[p] > 0 ? s.demands[d].need[p] * Served(m, *sol, 0, d, p) : 0;
    auto use = Utilization(in, owned, served_rate, solver, options.milp);
    if (!use) return std::move(use).error();
    pr.utilization = use->fleet;
    std::map<std::string, std::pair<double, double>> busy_owned;
    for (std::size_t c = 0; c < out.candidates.size(); ++c) {
      if (owned[c] <= 0.5) continue;
      const auto& info = out.candidates[c];
      const std::string key = s.sites.size() > 1 ? info.system + "@" + info.site : info.system;
      busy_owned[key].second += owned[c];
      for (std::size_t d = 0; d < nd; ++d) {
        if (use->nodes[c][d] <= 0) continue;
        busy_owned[key].first += use->nodes[c][d];
        pr.allocation[key][s.demands[d].id] += use->nodes[c][d];
      }
    }
    for (const auto& [key, bo] : busy_owned) pr.utilization_by_system[key] = bo.first / bo.second;
    out.total_cost_usd += pr.cost_usd;
    out.capex_usd += pr.capex_usd;
    out.periods.push_back(std::move(pr));
  }
  // Binding constraints and their shadow prices: fix-and-resolve (the LP with
  // the integer purchases fixed at their optimal values) and the LP relaxation.
  out.objective = sol->objective;
  out.relaxed_objective = sol->relaxed_objective;
  out.solver_nodes = sol->nodes;
  out.solver_iterations = sol->iterations;
  out.solver_bound = std::max(sol->bound, period_bound);
  if (dec) {
    out.solver_nodes += dec->nodes;
    out.solver_iterations += dec->iterations;
    out.period_lower_bound = period_bound;
    out.start_cost = dec->start_buy.empty() ? 0 : dec->start_cost;
  }
  out.relative_gap = std::fabs(out.objective) > 0
                         ? std::max(0.0, most_served ? out.solver_bound - out.objective : out.objective - out.solver_bound) /
                               std::fabs(out.objective)
                         : 0;
  out.objective_unit = most_served ? "served share" : "USD";
  for (std::size_t r = 0; r < m.p.rows.size(); ++r) {
    const MilpRow& row = m.p.rows[r];
    if (row.cut || row.name.starts_with("allocation") || row.name.starts_with("worst case")) continue;
    const double a = sol->activity[r];
    const double bound = std::isfinite(row.hi) ? row.hi : row.lo;
    const double slack = std::isfinite(row.hi) ? row.hi - a : a - row.lo;
    if (std::fabs(slack) > 1e-6 * std::max(1.0, std::fabs(bound))) continue;
    const double dual = sol->duals.empty() ? 0 : sol->duals[r];
    const double relaxed = sol->relaxed_duals.empty() ? 0 : sol->relaxed_duals[r];
    FleetBinding b{.constraint = row.name, .shadow_price = dual, .relaxed_shadow_price = relaxed, .slack = slack};
    std::string per;
    if (row.name.starts_with("budget")) {
      b.kind = "budget";
      per = row.name == "budget opex" ? "USD of opex budget" : "USD of capex budget";
    } else if (row.name.starts_with("power ")) {
      b.kind = "power";
      per = "W of facility power";
    } else if (row.name.starts_with("supply ")) {
      b.kind = "supply";
      per = "node of supply";
    } else if (row.name.starts_with("vendor cap ")) {
      b.kind = "vendor cap";
      per = "chip over the vendor's share";
    } else if (row.name.starts_with("demand ")) {
      // Demand rows are in fractions of the demand (sum cap x / need >= y,
      // y the share served): need enters the coefficients, and moving a
      // coefficient a by da moves the objective by -dual x da (envelope
      // theorem), so d objective / d need = dual (sum cap x / need) / need =
      // dual y / need at a binding row, y from the LP the dual belongs to.
      b.kind = "demand";
      for (std::size_t d = 0; d < nd; ++d) {
        for (std::size_t p = 0; p < np; ++p) {
          for (std::size_t k = 0; k < m.scenario_names.size(); ++k) {
            const int y = m.served[k][d][p];
            if (y >= 0 && row.columns.back() == y) {
              const double need = s.demands[d].need[p];
              const double y_relaxed = sol->relaxed_x.empty() ? 1.0 : sol->relaxed_x[std::size_t(y)];
              b.shadow_price = dual * sol->x[std::size_t(y)] / need;
              b.relaxed_shadow_price = relaxed * y_relaxed / need;
              per = s.demands[d].kind == DemandKind::kServing ? "output token/s of demand" : "training token/s of demand";
            }
          }
        }
      }
    } else {
      b.kind = "other";
      per = "unit of the row";
    }
    b.unit = out.objective_unit + " per " + per;
    out.binding.push_back(std::move(b));
  }
  // Resilience: the plan as bought, against each single-vendor shock.
  if (options.shock) {
    for (const auto& v : vendors) {
      Model shocked = Build(in, {v}, true, false, &bought);
      // Only the shocked scenario counts: the nominal columns get no weight.
      for (std::size_t j = 0; j < shocked.p.objective.size(); ++j) shocked.p.objective[j] = 0;
      for (std::size_t d = 0; d < nd; ++d) {
        for (std::size_t p = 0; p < np; ++p) {
          const int col = shocked.served[1][d][p];
          if (col >= 0) shocked.p.objective[std::size_t(col)] = s.periods[p].hours;
        }
      }
      auto r = solver.Solve(shocked.p, options.milp);
      if (!r) return std::move(r).error();
      if (IsCancelled(options.cancel)) return Cancelled();
      if (r->status != MilpStatus::kOptimal) {
        return Error::Internal(s.file + ": the shock LP for vendor " + v + " did not solve: " + r->solver_status);
      }
      out.shocks.push_back(FleetShock{.shock = "vendor " + v + " unavailable", .served_fraction = AverageServed(shocked, *r, s, 1)});
    }
  }
  return out;
}

Result<FleetQuery> DecodeFleet(const Args& args) {
  if (auto ok = CheckArgs(CommandFor("fleet"), args); !ok) return std::move(ok).error();
  FleetQuery q;
  q.scenario = std::string(*args.Get("scenario_file"));
  q.options.shock = args.Get("shock") == "true";
  q.options.robust = args.Get("robust") == "true";
  if (auto g = args.Get("gap")) q.options.milp.relative_gap = std::strtod(std::string(*g).c_str(), nullptr);
  if (auto t = args.Get("time_limit")) q.options.milp.time_limit_s = std::strtod(std::string(*t).c_str(), nullptr);
  if (auto t = args.Get("capacity_time_limit")) q.options.capacity_time_limit_s = std::strtod(std::string(*t).c_str(), nullptr);
  if (auto t = args.Get("threads")) q.options.threads = std::atoi(std::string(*t).c_str());
  return q;
}

Result<FleetResult> RunFleet(const Catalog& catalog, const FleetQuery& q) {
  auto scenario = LoadScenario(catalog, q.scenario);
  if (!scenario) return std::move(scenario).error();
  auto solver = MakeCbcSolver();
  return PlanFleet(catalog, *scenario, q.options, *solver);
}

}  // namespace suanli
