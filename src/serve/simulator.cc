// The serving simulator: events are request arrivals, iteration ends and KV
// transfers; each instance runs one iteration at a time and is idle when it
// has nothing to run.
#include "suanli/serve/simulator.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <queue>
#include <unordered_set>

namespace suanli {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Req {
  double arrival = 0;
  int64_t input = 0;
  int64_t output = 0;
  int64_t prompt = 0;     // tokens to prefill: the input, plus what was generated before a preemption
  int64_t prefilled = 0;  // of `prompt`, in the KV cache
  double generated = 0;   // output tokens sampled (fractional with speculative decoding)
  double first_token = -1;
  double admitted = -1;   // first admission
  int64_t blocks = 0;     // KV blocks held
  int64_t chunk = 0;      // prefill tokens scheduled in the current iteration
  int64_t prefix_id = -1; // a shared prefix named by the trace
  int64_t prefix_tokens = 0;
  bool decoding = false;  // scheduled to decode in the current iteration
  bool swapped = false;   // preempted by swap: its KV cache waits in host memory
  int pool = 0;
  int instance = 0;
  int rank = 0;
};

struct Rank {
  std::vector<int> running;  // request slots, in admission order
  std::deque<int> waiting;
  int64_t used_blocks = 0;
};

struct Instance {
  std::vector<Rank> ranks;
  bool busy = false;
  double end = 0;        // of the iteration running
  double start = 0;
  int64_t outstanding = 0;  // requests assigned, not finished (or handed on)
};

struct Event {
  double time;
  int64_t seq;  // ties break by insertion order: deterministic
  int kind;     // 0: iteration end (pool, instance), 1: transfer arrival (slot)
  int a, b;
  bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
};

double Quantile(std::vector<float>& v, double q) {
  if (v.empty()) return 0;
  const std::size_t k = std::min(v.size() - 1, std::size_t(q * double(v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(k), v.end());
  return v[k];
}

Percentiles Summary(std::vector<float>& v, double sum) {
  Percentiles p;
  if (v.empty()) return p;
  p.mean = sum / double(v.size());
  p.p50 = Quantile(v, 0.50);
  p.p90 = Quantile(v, 0.90);
  p.p99 = Quantile(v, 0.99);
  return p;
}

int64_t Blocks(double tokens, int64_t block) { return int64_t(std::ceil(tokens / double(block))); }

class Sim {
 public:
  Sim(const ServeDeployment& d, RequestSource& src, const ServeOptions& o) : d_(d), src_(src), o_(o) {
    for (const ServePool& p : d.pools) {
      auto& insts = instances_.emplace_back(std::size_t(p.instances));
      for (Instance& in : insts) in.ranks.resize(std::size_t(p.dp));
      capacity_blocks_.push_back(std::max<int64_t>(0, p.kv_tokens_per_rank / p.scheduler.block_size));
    }
    tokens_per_step_ = o.spec.TokensPerStep();
  }

  Result<ServeStats> Run() {
    bool more = true;
    std::optional<Request> pending;
    auto pull = [&]() -> Status {
      if (!more || pending) return Ok{};
      auto n = src_.Next();
      if (!n) return std::move(n).error();
      if (!*n) {
        more = false;
      } else {
        pending = **n;
      }
      return Ok{};
    };
    if (src_.closed_loop()) {
      // The first `concurrency` requests start at once; each completion issues the next.
      closed_loop_ = true;
      closed_limit_ = std::max<int64_t>(1, src_.concurrency());
    }
    if (auto ok = pull(); !ok) return std::move(ok).error();
    for (uint32_t step = 1;; ++step) {
      if ((step & 4095) == 0 && o_.cancel != nullptr && o_.cancel->load(std::memory_order_relaxed)) {
        return Error(Diagnostic{.key_path = "cancel", .message = "cancelled before the simulation ended"});
      }
      const double ta = pending && (!closed_loop_ || in_flight_ < closed_limit_) ? (closed_loop_ ? now_ : pending->arrival) : kInf;
      const double te = events_.empty() ? kInf : events_.top().time;
      // Every arrival of this instant is queued before an idle instance starts.
      if (!to_start_.empty() && std::min(ta, te) > now_) {
        Kick();
        continue;
      }
      if (ta == kInf && te == kInf) break;
      if (ta <= te) {
        Request r = *pending;
        pending.reset();
        if (closed_loop_) r.arrival = now_;
        now_ = std::max(now_, r.arrival);
        Admit(r);
        if (auto ok = pull(); !ok) return std::move(ok).error();
        continue;
      }
      const Event e = events_.top();
      events_.pop();
      now_ = e.time;
      if (e.kind == 0) {
        FinishIteration(e.a, e.b);
      } else {
        Enqueue(d_.pools.size() - 1, e.a);
      }
    }
    return Stats();
  }

  void Kick() {
    const auto starts = std::move(to_start_);
    to_start_.clear();
    for (auto [pool, inst] : starts) {
      if (!instances_[std::size_t(pool)][std::size_t(inst)].busy) StartIteration(pool, inst);
    }
  }

 private:
  // A new request enters the first pool.
  void Admit(const Request& r) {
    int slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = int(reqs_.size());
      reqs_.emplace_back();
    }
    Req& q = reqs_[std::size_t(slot)];
    q = Req{};
    q.arrival = r.arrival;
    q.input = r.input;
    q.output = r.output;
    q.prompt = r.input;
    q.prefix_id = r.prefix_id;
    q.prefix_tokens = r.prefix_tokens;
    first_arrival_ = std::min(first_arrival_, r.arrival);
    last_arrival_ = std::max(last_arrival_, r.arrival);
    MarkSystem();
    ++in_flight_;
    Enqueue(0, slot);
  }

  // Assigns the request to the instance and rank of `pool` with the fewest outstanding requests.
  void Enqueue(std::size_t pool, int slot) {
    auto& insts = instances_[pool];
    std::size_t best = 0;
    for (std::size_t i = 1; i < insts.size(); ++i) {
      if (insts[i].outstanding < insts[best].outstanding) best = i;
    }
    Instance& in = insts[best];
    std::size_t rank = 0;
    auto load = [](const Rank& k) { return k.running.size() + k.waiting.size(); };
    for (std::size_t k = 1; k < in.ranks.size(); ++k) {
      if (load(in.ranks[k]) < load(in.ranks[rank])) rank = k;
    }
    Req& q = reqs_[std::size_t(slot)];
    q.pool = int(pool);
    q.instance = int(best);
    q.rank = int(rank);
    if (d_.pools[pool].role == PoolRole::kDecode) {
      // Arrives with its prompt's KV cache (and its first token).
      q.prefilled = q.prompt;
    }
    in.ranks[rank].waiting.push_back(slot);
    ++in.outstanding;
    if (!in.busy) to_start_.emplace_back(int(pool), int(best));
  }

  // Schedules one rank's part of an iteration; returns whether it has any work.
  bool ScheduleRank(const ServePool& p, int64_t capacity, Rank& k, bool& any_prefill) {
    // Prefill-first may find its waiting prompt does not fit the cache: then
    // the iteration decodes (else nothing would free the blocks it waits for).
    return ScheduleRankAs(p, capacity, k, any_prefill, p.scheduler.priority) ||
           (p.scheduler.priority == Priority::kPrefillFirst &&
            ScheduleRankAs(p, capacity, k, any_prefill, Priority::kDecodeFirst));
  }

  bool ScheduleRankAs(const ServePool& p, int64_t capacity, Rank& k, bool& any_prefill, Priority priority) {
    const SchedulerConfig& s = p.scheduler;
    const bool prefill_pool = p.role == PoolRole::kPrefill;
    int64_t budget = s.max_batched_tokens;
    const int spec = p.role == PoolRole::kPrefill ? 0 : o_.spec.draft;
    // Prefill-first: if a prompt waits (or is part-way), this iteration only prefills.
    bool prefill_only = false;
    if (priority == Priority::kPrefillFirst) {
      for (int slot : k.running) {
        if (reqs_[std::size_t(slot)].prefilled < reqs_[std::size_t(slot)].prompt) prefill_only = true;
      }
      if (!k.waiting.empty() && int64_t(k.running.size()) < s.max_seqs) {
        const Req& front = reqs_[std::size_t(k.waiting.front())];
        if (front.prefilled < front.prompt) prefill_only = true;  // a prompt to prefill (not a decode hand-over)
      }
    }
    bool work = false;
    // Running sequences: decode (growing the cache by a block when needed) or continue their prompt.
    for (std::size_t i = 0; i < k.running.size(); ++i) {
      Req& q = reqs_[std::size_t(k.running[i])];
      q.chunk = 0;
      q.decoding = false;
      if (q.prefilled >= q.prompt) {
        if (prefill_only || prefill_pool) continue;
        const double need_tokens = double(q.prefilled) + std::floor(q.generated) + 1 + spec;
        const int64_t need = Blocks(need_tokens, s.block_size) - q.blocks;
        while (need > 0 && k.used_blocks + need > capacity && k.running.size() > i + 1) {
          Preempt(p, k, k.running.back());
        }
        if (need > 0 && k.used_blocks + need > capacity) {
          // The last one cannot grow: it waits for the others to finish (never the case with one sequence).
          continue;
        }
        q.blocks += std::max<int64_t>(0, need);
        k.used_blocks += std::max<int64_t>(0, need);
        q.decoding = true;
        budget -= 1 + spec;
        work = true;
      }
    }
    for (int slot : k.running) {
      Req& q = reqs_[std::size_t(slot)];
      if (q.prefilled >= q.prompt || budget <= 0) continue;
      const int64_t left = q.prompt - q.prefilled;
      int64_t chunk = s.chunk > 0 ? std::min({left, budget, s.chunk}) : left;
      if (s.chunk <= 0 && left > budget && any_prefill) continue;
      const int64_t need = Blocks(double(q.prefilled + chunk), s.block_size) - q.blocks;
      if (k.used_blocks + need > capacity) continue;
      q.blocks += need;
      k.used_blocks += need;
      q.chunk = chunk;
      budget -= chunk;
      any_prefill = true;
      work = true;
    }
    // Admission from the queue, first come first served.
    while (!k.waiting.empty() && int64_t(k.running.size()) < s.max_seqs) {
      Req& q = reqs_[std::size_t(k.waiting.front())];
      const bool decode_arrival = q.prefilled >= q.prompt;  // a disaggregated decode pool's request
      if (decode_arrival) {
        if (prefill_only) break;
        const int64_t need = Blocks(double(q.prefilled) + std::floor(q.generated) + 1 + spec, s.block_size);
        if (need > capacity) {
          ++unservable_;
          const int slot = k.waiting.front();
          k.waiting.pop_front();
          Drop(slot);
          continue;
        }
        if (k.used_blocks + need > capacity || budget < 1 + spec) break;
        q.blocks = need;
        k.used_blocks += need;
        q.decoding = true;
        budget -= 1 + spec;
        SwapIn(p, q);
      } else {
        if (budget <= 0) break;
        if (q.prefilled == 0 && q.prompt == q.input) {
          // Cached prefix blocks are reused: only the rest is computed (the last token always is).
          int64_t cached = int64_t(std::floor(s.prefix_hit * double(q.prompt)));
          if (q.prefix_id >= 0 && q.prefix_tokens > 0 && prefixes_.contains(q.prefix_id)) {
            cached = std::max(cached, q.prefix_tokens);  // a prefix an earlier request of the trace computed
          }
          q.prefilled = std::min<int64_t>(q.prompt - 1, cached);
        }
        const int64_t left = q.prompt - q.prefilled;
        const int64_t chunk = s.chunk > 0 ? std::min({left, budget, s.chunk}) : left;
        if (s.chunk <= 0 && left > budget && any_prefill) break;
        const int64_t need = Blocks(double(q.prefilled + chunk), s.block_size);
        if (Blocks(double(q.prompt), s.block_size) > capacity) {
          // Its prompt alone does not fit this rank's cache: it can never be served.
          ++unservable_;
          const int slot = k.waiting.front();
          k.waiting.pop_front();
          Drop(slot);
          continue;
        }
        if (k.used_blocks + need > capacity) break;
        q.blocks = need;
        k.used_blocks += need;
        q.chunk = chunk;
        budget -= chunk;
        any_prefill = true;
        SwapIn(p, q);
      }
      if (q.admitted < 0) q.admitted = now_;
      k.running.push_back(k.waiting.front());
      k.waiting.pop_front();
      work = true;
    }
    return work;
  }

  // The seconds one sequence's KV cache takes over one device's host link
  // (every device of the rank moves its own shard at once).
  double SwapSeconds(const ServePool& p, const Req& q) const {
    return p.model->KvBytes(double(q.prefilled) + std::floor(q.generated)) / p.host_bytes_per_s;
  }
  void SwapIn(const ServePool& p, Req& q) {
    if (!q.swapped) return;
    q.swapped = false;
    swap_rank_s_ += SwapSeconds(p, q);
  }

  void Preempt(const ServePool& p, Rank& k, int slot) {
    Req& q = reqs_[std::size_t(slot)];
    k.used_blocks -= q.blocks;
    q.blocks = 0;
    if (p.scheduler.swap && p.host_bytes_per_s > 0) {
      // Swap: the victim's KV cache goes to host memory (the iteration waits
      // for the copy) and comes back when it is readmitted; nothing is
      // recomputed (vLLM V0's swap preemption).
      swap_rank_s_ += SwapSeconds(p, q);
      q.swapped = true;
    } else {
      // Recompute: the victim frees its cache and re-queues first, its prompt
      // now the input plus what it has generated (vLLM's default).
      q.prompt = q.input + int64_t(std::floor(q.generated));
      q.prefilled = 0;
    }
    q.chunk = 0;
    q.decoding = false;
    k.running.pop_back();
    k.waiting.push_front(slot);
    ++preemptions_;
  }

  void StartIteration(int pool, int inst) {
    const ServePool& p = d_.pools[std::size_t(pool)];
    Instance& in = instances_[std::size_t(pool)][std::size_t(inst)];
    const int64_t capacity = capacity_blocks_[std::size_t(pool)];
    bool work = false;
    // The busiest rank sets the pace: price its batch as every rank's.
    int busiest = -1;
    double busiest_load = -1;
    int64_t decode_total = 0, prefill_total = 0, waiting = 0;
    double kv_max = 0;
    double swap_s = 0;  // the ranks swap at once: the slowest holds the iteration
    for (std::size_t r = 0; r < in.ranks.size(); ++r) {
      Rank& k = in.ranks[r];
      bool any_prefill = false;
      swap_rank_s_ = 0;
      const bool scheduled = ScheduleRank(p, capacity, k, any_prefill);
      swap_s = std::max(swap_s, swap_rank_s_);
      if (!scheduled) {
        waiting += int64_t(k.waiting.size());
        continue;
      }
      work = true;
      double load = 0;
      for (int slot : k.running) {
        const Req& q = reqs_[std::size_t(slot)];
        if (q.decoding) {
          ++decode_total;
          load += 1 + 1e-6 * (double(q.prefilled) + q.generated);
        }
        prefill_total += q.chunk;
        load += double(q.chunk);
      }
      waiting += int64_t(k.waiting.size());
      kv_max = std::max(kv_max, capacity > 0 ? double(k.used_blocks) / double(capacity) : 0.0);
      if (load > busiest_load) {
        busiest_load = load;
        busiest = int(r);
      }
    }
    if (!work) {
      in.busy = false;
      return;
    }
    const double seconds = Price(p, in.ranks[std::size_t(busiest)]) + swap_s;
    if (o_.phase_device_time) {
      const double devices = double(p.model->plan().devices());
      const double share = PrefillShare(p, in.ranks[std::size_t(busiest)]);
      prefill_device_s_ += seconds * devices * share;
      decode_device_s_ += seconds * devices * (1 - share);
    }
    in.busy = true;
    in.start = now_;
    in.end = now_ + seconds;
    // Time-weighted statistics of this iteration.
    batch_time_ += double(decode_total + CountPrefills(in)) * seconds;
    kv_time_ += kv_max * seconds;
    busy_time_ += seconds;
    ++iterations_;
    if (o_.timeline && int64_t(timeline_.size()) < o_.timeline_limit) {
      timeline_.push_back(IterationRecord{.start_s = now_, .seconds = seconds, .pool = pool, .instance = inst,
                                          .decode_sequences = decode_total, .prefill_tokens = prefill_total,
                                          .waiting = waiting, .kv_utilization = kv_max});
    }
    events_.push(Event{.time = in.end, .seq = seq_++, .kind = 0, .a = pool, .b = inst});
  }

  int64_t CountPrefills(const Instance& in) const {
    int64_t n = 0;
    for (const Rank& k : in.ranks) {
      for (int slot : k.running) n += reqs_[std::size_t(slot)].chunk > 0 ? 1 : 0;
    }
    return n;
  }

  // The share of an iteration of rank k's batch that is prefill: all of it
  // without decode steps, none without prompt chunks, else the prefill
  // chunks' time alone over the two parts' times alone.
  double PrefillShare(const ServePool& p, const Rank& k) {
    bool chunks = false, decodes = false;
    for (int slot : k.running) {
      const Req& q = reqs_[std::size_t(slot)];
      chunks = chunks || q.chunk > 0;
      decodes = decodes || q.decoding;
    }
    if (!decodes) return chunks ? 1.0 : 0.0;
    if (!chunks) return 0.0;
    const double pre = Price(p, k, Part::kPrefill), dec = Price(p, k, Part::kDecode);
    return pre + dec > 0 ? pre / (pre + dec) : 0.0;
  }

  enum class Part { kBoth, kPrefill, kDecode };

  // The iteration's time: one rank's batch, replicated over the instance's ranks
  // (or one part of it alone).
  double Price(const ServePool& p, const Rank& k, Part part = Part::kBoth) {
    const IterationModel& m = *p.model;
    const double dp = p.dp;
    const int spec = p.role == PoolRole::kPrefill ? 0 : o_.spec.draft;
    // Decode contexts: two buckets split at the smallest sliding window, each
    // at its mean context (exact for attention, which is linear in the
    // context within each side of the window).
    DecodeBucket buckets[2] = {{.sequences = 0, .context = 0, .tokens = double(1 + spec)},
                               {.sequences = 0, .context = 0, .tokens = double(1 + spec)}};
    chunks_.clear();
    for (int slot : k.running) {
      const Req& q = reqs_[std::size_t(slot)];
      if (q.decoding && part != Part::kPrefill) {
        const double ctx = double(q.prefilled) + std::floor(q.generated);
        DecodeBucket& b = buckets[window_ > 0 && ctx > window_ ? 1 : 0];
        b.context += ctx;
        b.sequences += 1;
      }
      if (q.chunk > 0 && part != Part::kDecode) {
        chunks_.push_back(PrefillChunk{.sequences = dp, .offset = double(q.prefilled), .tokens = double(q.chunk),
                                       .completes = q.prefilled + q.chunk >= q.prompt});
      }
    }
    int nb = 0;
    DecodeBucket used[2];
    for (DecodeBucket& b : buckets) {
      if (b.sequences <= 0) continue;
      b.context /= b.sequences;
      b.sequences *= dp;
      used[nb++] = b;
    }
    const BatchComposition batch{.decode = std::span<const DecodeBucket>(used, std::size_t(nb)),
                                 .prefill = std::span<const PrefillChunk>(chunks_)};
    return IterationSeconds(m, batch, spec);
  }

  void FinishIteration(int pool, int inst) {
    const ServePool& p = d_.pools[std::size_t(pool)];
    Instance& in = instances_[std::size_t(pool)][std::size_t(inst)];
    in.busy = false;
    const double t = now_;
    for (Rank& k : in.ranks) {
      for (std::size_t i = 0; i < k.running.size();) {
        const int slot = k.running[i];
        Req& q = reqs_[std::size_t(slot)];
        bool leave = false;
        if (q.chunk > 0) {
          q.prefilled += q.chunk;
          q.chunk = 0;
          if (q.prefix_id >= 0 && q.prefilled >= q.prefix_tokens) prefixes_.insert(q.prefix_id);
          if (q.prefilled >= q.prompt) {
            // The prompt's last token samples the next output token.
            if (q.first_token < 0) q.first_token = t;
            q.generated += 1;
            if (q.generated >= double(q.output)) {
              leave = true;
            } else if (p.role == PoolRole::kPrefill) {
              leave = true;  // handed to the decode pool
            }
          }
        } else if (q.decoding) {
          q.decoding = false;
          q.generated += tokens_per_step_;
          if (q.generated >= double(q.output)) leave = true;
        }
        if (!leave) {
          ++i;
          continue;
        }
        k.used_blocks -= q.blocks;
        q.blocks = 0;
        k.running.erase(k.running.begin() + std::ptrdiff_t(i));
        --in.outstanding;
        if (q.generated >= double(q.output)) {
          Complete(slot);
        } else {
          // Disaggregated: the KV cache of the prompt goes to a decode instance.
          const double bytes = p.model->KvBytes(double(q.prompt));
          const double at = t + d_.transfer_latency_s + bytes * d_.transfer_per_byte_s;
          events_.push(Event{.time = at, .seq = seq_++, .kind = 1, .a = slot, .b = 0});
        }
      }
    }
    StartIteration(pool, inst);
  }

  void Drop(int slot) {
    Req& q = reqs_[std::size_t(slot)];
    auto& in = instances_[std::size_t(q.pool)][std::size_t(q.instance)];
    --in.outstanding;
    MarkSystem();
    --in_flight_;
    free_.push_back(slot);
  }

  void Complete(int slot) {
    Req& q = reqs_[std::size_t(slot)];
    const double t = now_;
    const double ttft = q.first_token - q.arrival;
    const double e2e = t - q.arrival;
    const double tpot = q.output > 1 ? (t - q.first_token) / double(q.output - 1) : 0;
    const double queue = std::max(0.0, q.admitted - q.arrival);
    ttft_.push_back(float(ttft));
    e2e_.push_back(float(e2e));
    queue_.push_back(float(queue));
    admitted_.push_back(q.admitted);
    sum_ttft_ += ttft;
    sum_e2e_ += e2e;
    sum_queue_ += queue;
    if (q.output > 1) {
      tpot_.push_back(float(tpot));
      sum_tpot_ += tpot;
    }
    if (ttft <= o_.sla.ttft_s && (q.output <= 1 || tpot <= o_.sla.tpot_s)) ++sla_met_;
    input_tokens_ += double(q.input);
    output_tokens_ += double(q.output);
    last_finish_ = std::max(last_finish_, t);
    MarkSystem();
    --in_flight_;
    free_.push_back(slot);
  }

  // Little's L: the time integral of the requests in the system.
  void MarkSystem() {
    if (mark_ >= 0) in_system_time_ += double(in_flight_) * (now_ - mark_);
    mark_ = now_;
  }

  ServeStats Stats() {
    ServeStats s;
    s.requests = int64_t(e2e_.size());
    const double start = first_arrival_ == kInf ? 0 : first_arrival_;
    s.duration_s = s.requests > 0 ? std::max(0.0, last_finish_ - start) : 0;
    s.input_tokens = input_tokens_;
    s.output_tokens = output_tokens_;
    s.ttft = Summary(ttft_, sum_ttft_);
    s.tpot = Summary(tpot_, sum_tpot_);
    s.e2e = Summary(e2e_, sum_e2e_);
    s.queue = Summary(queue_, sum_queue_);
    s.sla_met = sla_met_;
    s.batch_mean = busy_time_ > 0 ? batch_time_ / busy_time_ : 0;
    s.kv_utilization_mean = busy_time_ > 0 ? kv_time_ / busy_time_ : 0;
    s.in_system_mean = s.duration_s > 0 ? in_system_time_ / s.duration_s : 0;
    s.preemptions = preemptions_;
    s.iterations = iterations_;
    s.unservable = unservable_;
    s.backlog_at_last_arrival =
        std::count_if(admitted_.begin(), admitted_.end(), [&](double a) { return a > last_arrival_; });
    s.prefill_device_s = prefill_device_s_;
    s.decode_device_s = decode_device_s_;
    s.timeline = std::move(timeline_);
    return s;
  }

 public:
  void SetWindow(double w) { window_ = w; }

 private:
  const ServeDeployment& d_;
  RequestSource& src_;
  const ServeOptions& o_;
  std::vector<std::vector<Instance>> instances_;
  std::vector<int64_t> capacity_blocks_;
  std::vector<Req> reqs_;
  std::vector<int> free_;
  std::vector<PrefillChunk> chunks_;
  std::vector<std::pair<int, int>> to_start_;
  std::unordered_set<int64_t> prefixes_;  // shared prefixes in the cache (never evicted)
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  int64_t seq_ = 0;
  double now_ = 0;
  double tokens_per_step_ = 1;
  double window_ = 0;
  bool closed_loop_ = false;
  int64_t closed_limit_ = 0;
  int64_t in_flight_ = 0;
  double first_arrival_ = kInf, last_arrival_ = -kInf, last_finish_ = 0;
  std::vector<float> ttft_, tpot_, e2e_, queue_;
  std::vector<double> admitted_;  // each completed request's first admission (s)
  double sum_ttft_ = 0, sum_tpot_ = 0, sum_e2e_ = 0, sum_queue_ = 0;
  double input_tokens_ = 0, output_tokens_ = 0;
  double swap_rank_s_ = 0;  // swap traffic of the rank being scheduled (s)
  int64_t sla_met_ = 0, preemptions_ = 0, iterations_ = 0, unservable_ = 0;
  double batch_time_ = 0, kv_time_ = 0, busy_time_ = 0;
  double prefill_device_s_ = 0, decode_device_s_ = 0;  // ServeOptions::phase_device_time
  double in_system_time_ = 0, mark_ = -1;
  std::vector<IterationRecord> timeline_;
};

Status Check(const ServeDeployment& d, const ServeOptions& o) {
  std::vector<Diagnostic> bad;
  auto fail = [&](std::string key, std::string msg) { bad.push_back(Diagnostic{.key_path = std::move(key), .message = std::move(msg)}); };
  if (d.pools.empty() || d.pools.size() > 2) fail("deployment", "one pool (aggregated) or two (prefill, decode)");
  if (d.pools.size() == 2 && (d.pools[0].role != PoolRole::kPrefill || d.pools[1].role != PoolRole::kDecode)) {
    fail("deployment", "two pools are a prefill pool and a decode pool, in that order");
  }
  for (const ServePool& p : d.pools) {
    if (p.model == nullptr) fail("deployment", "a pool without a plan");
    if (p.instances < 1) fail("instances", "must be at least 1");
    if (p.dp < 1) fail("dp_attention", "must be at least 1");
    const SchedulerConfig& s = p.scheduler;
    if (s.max_seqs < 1) fail("max_batch", "must be at least 1");
    if (s.max_batched_tokens < 1) fail("max_batch_tokens", "must be at least 1");
    if (s.block_size < 1) fail("block_size", "must be at least 1");
    if (s.chunk < 0) fail("chunked_prefill", "must not be negative");
    if (!(s.prefix_hit >= 0 && s.prefix_hit < 1)) fail("prefix_cache_hit", "must be in [0, 1)");
    if (p.kv_tokens_per_rank < s.block_size) fail("kv_cache", "the KV cache holds less than one block per rank");
  }
  if (o.spec.draft < 0 || o.spec.draft > 16) fail("mtp", "must be between 0 and 16");
  if (o.spec.acceptance.size() > 16) fail("mtp_acceptance", "at most 16 draft positions");
  for (double a : o.spec.acceptance) {
    if (!(a >= 0 && a <= 1)) fail("mtp_acceptance", "must be in [0, 1]");
  }
  if (!bad.empty()) return Error(std::move(bad));
  return Ok{};
}

}  // namespace

double IterationSeconds(const IterationModel& m, const BatchComposition& batch, int draft) {
  double seconds = m.Cost(batch, PipelineFill::kSteady).seconds;
  if (draft > 0 && !batch.decode.empty()) {
    DecodeBucket one[4];
    const std::size_t n = std::min<std::size_t>(4, batch.decode.size());
    for (std::size_t i = 0; i < n; ++i) {
      one[i] = batch.decode[i];
      one[i].tokens = 1;
    }
    const PhaseEstimate d =
        m.Cost(BatchComposition{.decode = std::span<const DecodeBucket>(one, n), .prefill = {}}, PipelineFill::kSteady);
    // Each draft pass runs the MTP layer (a decode layer of the model's
    // shape) and then the LM head over the same rows, to pick its token:
    // SGLang's EAGLE/NEXTN worker and TensorRT-LLM's MTP compute the logits
    // of every draft step with the shared head (DeepSeek-V3 shares the
    // embedding and head with its MTP module). The fixed step cost is not
    // paid again (the draft steps run inside the step's graph).
    const double fixed = d.by_class[static_cast<int>(OpClass::kFixed)];
    const double head = d.by_class[static_cast<int>(OpClass::kLmHead)];
    seconds += draft * (std::max(0.0, d.seconds - fixed - head) / std::max(1, m.model().layers) + head);
  }
  return seconds;
}

double SpecDecode::AcceptanceAt(int position) const {
  if (acceptance.empty() || position < 1) return 0;
  return acceptance[std::min<std::size_t>(std::size_t(position), acceptance.size()) - 1];
}

double SpecDecode::TokensPerStep() const {
  double t = 1, p = 1;
  for (int i = 1; i <= draft; ++i) {
    p *= AcceptanceAt(i);
    t += p;
  }
  return t;
}

int ServeDeployment::devices() const {
  int n = 0;
  for (const ServePool& p : pools) n += p.instances * (p.model != nullptr ? p.model->plan().devices() : 0);
  return n;
}

Result<ServeStats> Simulate(const ServeDeployment& d, RequestSource& source, const ServeOptions& o) {
  if (auto ok = Check(d, o); !ok) return std::move(ok).error();
  Sim sim(d, source, o);
  int window = 0;
  for (const LayerGroup& g : d.pools.back().model->model().groups) {
    if (g.attention.window > 0) window = window == 0 ? g.attention.window : std::min(window, g.attention.window);
  }
  sim.SetWindow(window);
  return sim.Run();
}

double RampShare(double rate, const ServeStats& s) { return s.requests > 0 ? rate * s.e2e.mean / double(s.requests) : 0; }

int64_t SteadyRequests(double rate, const ServeStats& s) { return int64_t(std::ceil(rate * s.e2e.mean / kMaxRampShare)); }

double MaxRate::ramp_share() const { return RampShare(rate, at_rate); }

int64_t MaxRate::steady_requests() const { return SteadyRequests(rate, at_rate); }

// The share of a run's requests that may still wait for admission when the
// last one arrives for the run to count as keeping up with its rate. A queue
// that cannot keep up holds (1 - mu / lambda) of the requests then, so this
// admits rates up to about 5 % over what the deployment completes.
constexpr double kMaxBacklogShare = 0.05;

Result<MaxRate> FindMaxRate(const ServeDeployment& d, const GeneratedWorkload& workload, const ServeOptions& o) {
  if (auto ok = Check(d, o); !ok) return std::move(ok).error();
  MaxRate out;
  auto run = [&](ArrivalKind kind, double rate) -> Result<ServeStats> {
    GeneratedWorkload w = workload;
    w.load.kind = kind;
    w.load.rate = rate;
    auto src = MakeGenerator(w);
    ++out.probes;
    return Simulate(d, *src, o);
  };
  // A rate is sustained only where the run keeps up with it: a queue that
  // still holds more than kMaxBacklogShare of the requests when the last one
  // arrives grows with the run (an SLA that leaves the queue out, such as a
  // TPOT SLA on a PD deployment, whose prefill queue keeps the decode batch
  // bounded, would otherwise be met at any rate).
  auto meets = [&](const ServeStats& s) {
    return s.requests > 0 && s.unservable == 0 && s.attainment() >= o.sla.attainment * (1 - 1e-12) &&
           double(s.backlog_at_last_arrival) <= kMaxBacklogShare * double(s.requests);
  };
  // Offline throughput bounds what any rate can sustain; start there.
  auto offline = run(ArrivalKind::kOffline, 0);
  if (!offline) return std::move(offline).error();
  const ArrivalKind kind = workload.load.kind == ArrivalKind::kGamma ? ArrivalKind::kGamma : ArrivalKind::kPoisson;
  double guess = std::max(1e-6, offline->requests_per_s());
  double lo = 0, hi = 0;
  ServeStats best;
  auto probe = [&](double rate, bool& ok) -> Status {
    auto s = run(kind, rate);
    if (!s) return std::move(s).error();
    ok = meets(*s);
    if (ok && rate > lo) {
      lo = rate;
      best = std::move(*s);
    }
    return Ok{};
  };
  bool ok = false;
  if (auto st = probe(guess, ok); !st) return std::move(st).error();
  if (ok) {
    hi = guess * 2;
    for (int i = 0; i < 40; ++i, hi *= 2) {
      if (auto st = probe(hi, ok); !st) return std::move(st).error();
      if (!ok) break;
    }
    if (ok) return Error(Diagnostic{.key_path = "max_rate", .message = "the SLA is met at every rate tried (up to " + std::to_string(hi) + " requests/s)"});
  } else {
    hi = guess;
    double r = guess / 2;
    for (int i = 0; i < 30 && lo == 0; ++i, r /= 2) {
      if (auto st = probe(r, ok); !st) return std::move(st).error();
      if (!ok) hi = r;
    }
    if (lo == 0) return out;  // not even a trickle meets it
  }
  while (hi > lo * 1.01) {
    const double mid = std::sqrt(lo * hi);
    if (auto st = probe(mid, ok); !st) return std::move(st).error();
    if (!ok) hi = mid;
  }
  out.rate = lo;
  out.at_rate = std::move(best);
  return out;
}

}  // namespace suanli
