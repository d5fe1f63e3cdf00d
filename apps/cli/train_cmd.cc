// `suanli train`: step time, MFU, memory and time-to-train of one plan, or
// the best plans (`--search`).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include <fmt/format.h>

#include "commands.h"
#include "suanli/search/search.h"
#include "suanli/train/train.h"
#include "table.h"

namespace suanli::cli {
namespace {

std::string FlagFor(const std::string& key) {
  if (key == "seq_len") return "--seq-len";
  if (key == "global_batch") return "--global-batch";
  if (key == "micro_batch") return "--micro-batch";
  if (key == "tp_overlap") return "--tp-overlap";
  return "--" + key;
}

[[noreturn]] void ThrowTrainError(const Error& error) {
  if (error.internal()) throw std::runtime_error(error.ToString());
  std::string msg;
  for (const auto& d : error.diagnostics) {
    if (!msg.empty()) msg += "\n";
    msg += (d.key_path.empty() ? "" : FlagFor(d.key_path) + ": ") + d.message;
  }
  throw InputError(msg);
}

nlohmann::json PlanJson(const TrainPlan& p) {
  return {{"tp", p.tp},
          {"pp", p.pp},
          {"dp", p.dp},
          {"cp", p.cp},
          {"ep", p.ep},
          {"vp", p.vp},
          {"micro_batch", p.micro_batch},
          {"recompute", RecomputeName(p.recompute)},
          {"zero", p.zero},
          {"precision", TrainPrecisionName(p.precision)},
          {"optimizer_state", OptimizerStateName(p.optimizer_state)},
          {"sequence_parallel", p.sequence_parallel},
          {"overlap_dp", p.overlap_dp},
          {"overlap_tp", p.overlap_tp}};
}

nlohmann::json EstimateJson(const TrainPlan& p, const TrainEstimate& e, bool tokens) {
  using nlohmann::json;
  const TrainMemory& m = e.memory;
  const TrainBreakdown& b = e.breakdown;
  const TrainBoundShare bound = BoundOf(b);
  const json warnings = TrainWarningList(e.warnings);
  json j{{"step_time_s", e.step_time_s},
         {"tokens_per_s", e.tokens_per_s},
         {"tokens_per_s_per_device", e.tokens_per_s_per_device},
         {"model_flops_per_step", e.model_flops_per_step},
         {"model_flops_formula", kModelFlopsFormula},
         {"hardware_flops_per_step", e.hardware_flops_per_step},
         {"model_tflops_per_device", e.model_tflops_per_device},
         {"mfu", e.mfu},
         {"memory",
          {{"weights_bytes", m.weights},
           {"gradients_bytes", m.gradients},
           {"optimizer_bytes", m.optimizer},
           {"activations_bytes", m.activations},
           {"other_bytes", m.other},
           {"total_bytes", m.total},
           {"capacity_bytes", m.capacity}}},
         {"fits", e.fits},
         {"reason", e.fits ? json(nullptr) : json(std::string(TrainInfeasibleText(e.reason)))},
         {"plan", PlanJson(p)},
         {"micro_batches_per_step", e.micro_batches},
         {"breakdown",
          {{"compute_s", b.compute},
           {"recompute_s", b.recompute},
           {"tp_comm_s", b.tp_comm},
           {"dp_comm_exposed_s", b.dp_comm_exposed},
           {"pp_bubble_s", b.pp_bubble},
           {"pp_comm_s", b.pp_comm},
           {"ep_comm_s", b.ep_comm},
           {"cp_comm_s", b.cp_comm},
           {"optimizer_s", b.optimizer},
           {"framework_s", b.framework}}},
         {"bound", TrainBoundName(bound.bound)},
         {"bound_share", bound.share},
         {"tier", ProfileTierName(e.tier)},
         {"warnings", warnings}};
  if (tokens) {
    j["time_to_train_s"] = e.time_to_train_s;
    j["device_hours"] = e.device_hours;
    j["energy_j"] = e.energy_j > 0 ? json(e.energy_j) : json(nullptr);
  }
  return j;
}

std::string PlanText(const TrainPlan& p) {
  std::string s = fmt::format("tp {} pp {} dp {}", p.tp, p.pp, p.dp);
  if (p.cp > 1) s += fmt::format(" cp {}", p.cp);
  if (p.ep > 1) s += fmt::format(" ep {}", p.ep);
  if (p.vp > 1) s += fmt::format(" vp {}", p.vp);
  s += fmt::format(", micro-batch {}, recompute {}, ZeRO {}", p.micro_batch, RecomputeName(p.recompute), p.zero);
  if (p.sequence_parallel && p.tp > 1) s += ", SP";
  if (!p.overlap_dp) s += ", no DP overlap";
  if (p.overlap_tp && p.tp > 1) s += ", TP overlap";
  return s;
}

void PrintEstimate(const TrainPlan& p, const TrainEstimate& e, const TrainRequest& r) {
  std::cout << PlanText(p) << ", " << TrainPrecisionName(p.precision)
            << (p.optimizer_state == OptimizerState::kBf16 ? ", bf16 optimizer state" : "") << "\n\n";
  Table t;
  t.Column("");
  t.Column("value", Table::Align::kRight);
  t.Row({"step time", Seconds(e.step_time_s)});
  t.Row({"tokens/s", Thousands(e.tokens_per_s)});
  t.Row({"tokens/s per device", Thousands(e.tokens_per_s_per_device)});
  t.Row({"model TFLOP/s per device", fmt::format("{:.1f}", e.model_tflops_per_device)});
  t.Row({"MFU", fmt::format("{:.1f}%", e.mfu * 100)});
  if (r.tokens > 0) {
    t.Row({"time to train", fmt::format("{:.1f} days", e.time_to_train_s / 86400)});
    t.Row({"device-hours", Thousands(e.device_hours)});
    if (e.energy_j > 0) t.Row({"energy (board power)", fmt::format("{:.1f} MWh", e.energy_j / 3.6e9)});
  }
  t.Print(std::cout);
  const TrainMemory& m = e.memory;
  std::cout << fmt::format("\nmemory per device: weights {}, gradients {}, optimizer {}, activations {}, other {} = {} of {} — {}\n",
                           GigaBytes(m.weights), GigaBytes(m.gradients), GigaBytes(m.optimizer),
                           GigaBytes(m.activations), GigaBytes(m.other), GigaBytes(m.total), GigaBytes(m.capacity),
                           e.fits ? "fits" : "DOES NOT FIT: " + std::string(TrainInfeasibleText(e.reason)));
  const TrainBreakdown& b = e.breakdown;
  Table bt;
  bt.Column("step time by part");
  bt.Column("seconds", Table::Align::kRight);
  bt.Column("share", Table::Align::kRight);
  for (auto [name, v] : {std::pair{"compute", b.compute}, std::pair{"recompute", b.recompute},
                         std::pair{"tensor-parallel comm", b.tp_comm}, std::pair{"data-parallel comm (exposed)", b.dp_comm_exposed},
                         std::pair{"pipeline bubble", b.pp_bubble}, std::pair{"pipeline transfers", b.pp_comm},
                         std::pair{"expert all-to-all", b.ep_comm}, std::pair{"context-parallel comm", b.cp_comm},
                         std::pair{"optimizer step", b.optimizer}, std::pair{"framework per operator", b.framework}}) {
    if (v <= 0) continue;
    bt.Row({name, Seconds(v), fmt::format("{:.1f}%", 100 * v / e.step_time_s)});
  }
  std::cout << '\n';
  bt.Print(std::cout);
  const TrainBoundShare bound = BoundOf(b);
  std::string bound_name(TrainBoundName(bound.bound));
  std::replace(bound_name.begin(), bound_name.end(), '_', ' ');
  std::cout << fmt::format("\nbound by {} ({:.0f}% of the step)", bound_name, 100 * bound.share);
  std::cout << fmt::format("; {} micro-batch{} per step per pipeline; tier: {}\n", e.micro_batches, e.micro_batches == 1 ? "" : "es", ProfileTierName(e.tier));
  if (e.warnings != 0) std::cout << "warning: " << TrainWarningTexts(e.warnings) << '\n';
}

}  // namespace

int RunTrain(const GlobalOptions& global, const TrainOptions& o) {
  TrainRequest r;
  r.devices = o.devices;
  r.seq_len = o.seq_len;
  r.global_batch = o.global_batch;
  r.tokens = o.tokens;
  r.flash_attention = !o.no_flash;
  r.lora = o.lora;
  TrainPlan& p = r.plan;
  auto recompute = ParseRecompute(o.recompute.empty() ? "none" : o.recompute);
  if (!recompute) throw InputError("--recompute: expected none, selective or full, found '" + o.recompute + "'");
  auto precision = ParseTrainPrecision(o.precision);
  if (!precision) throw InputError("--precision: expected bf16, fp16 or fp8, found '" + o.precision + "'");
  auto optimizer_state = ParseOptimizerState(o.optimizer_state);
  if (!optimizer_state) throw InputError("--optimizer-state: expected fp32 or bf16, found '" + o.optimizer_state + "'");
  p.recompute = *recompute;
  p.precision = *precision;
  p.optimizer_state = *optimizer_state;
  p.tp = o.tp.value_or(1);
  p.pp = o.pp.value_or(1);
  p.cp = o.cp.value_or(1);
  p.ep = o.ep.value_or(1);
  p.vp = o.vp.value_or(1);
  p.micro_batch = o.micro_batch.value_or(1);
  p.zero = o.zero.value_or(1);
  p.sequence_parallel = !o.no_sequence_parallel;
  p.overlap_dp = !o.no_overlap;
  p.overlap_tp = o.tp_overlap;
  p.dp = o.dp ? *o.dp : DerivedDp(r);
  if (o.top < 1) throw InputError("--top: must be at least 1");
  const Catalog& catalog = LoadCatalogFor(global, {o.hardware}, o.model);
  const ResolvedHardware hw = ResolveHardware(catalog, o.hardware);
  const ModelEntry model = ResolveModel(catalog, o.model);
  auto cluster = MakeCluster(catalog, hw.chip, hw.system);
  if (!cluster) throw InputError(cluster.error());
  auto stack = MakeTrainingStack(catalog, "");
  if (!stack) throw InputError(stack.error());
  r.stack = *stack;
  const std::string where = hw.system ? hw.system->id : hw.chip.id;

  if (!o.search) {
    auto e = EstimateTraining(*cluster, model.arch, r);
    if (!e) ThrowTrainError(e.error());
    if (o.json) {
      nlohmann::json j = EstimateJson(p, *e, r.tokens > 0);
      j["hardware"] = where;
      j["model"] = model.id;
      j["devices"] = r.devices;
      PrintJson(j);
    } else {
      std::cout << fmt::format("{} on {} x {} ({}), sequence {}, global batch {}\n", model.name, r.devices,
                               hw.chip.name, where, r.seq_len, r.global_batch);
      PrintEstimate(p, *e, r);
    }
    return 0;
  }
  PlanSpace space = PlanSpace::Fixed(p);
  if (!o.tp) space.tp.clear();
  if (!o.pp) space.pp.clear();
  if (!o.dp) space.dp.clear();
  if (!o.cp) space.cp.clear();
  if (!o.ep) space.ep.clear();
  if (!o.vp) space.vp.clear();
  if (!o.micro_batch) space.micro_batch.clear();
  if (o.recompute.empty()) space.recompute.clear();
  if (!o.zero) space.zero.clear();
  if (!o.no_sequence_parallel) space.sequence_parallel.clear();
  if (!o.no_overlap) space.overlap_dp.clear();
  if (!o.tp_overlap) space.overlap_tp.clear();
  SearchOptions so;
  so.top_k = o.top;
  const bool tty = isatty(STDERR_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  bool drew = false;
  if (tty) {
    so.progress = [&](double f) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (elapsed < 1.0) return;
      const int width = 30;
      const int filled = int(f * width);
      std::cerr << "\rsearching [" << std::string(std::size_t(filled), '#') << std::string(std::size_t(width - filled), ' ')
                << "] " << int(f * 100) << "%" << std::flush;
      drew = true;
    };
  }
  auto result = SearchTraining(*cluster, model.arch, r, space, so);
  if (drew) std::cerr << "\r" << std::string(50, ' ') << "\r" << std::flush;
  if (!result) ThrowTrainError(result.error());
  const SearchResult& s = *result;
  if (o.json) {
    nlohmann::json top = nlohmann::json::array();
    for (const auto& c : s.top) top.push_back(EstimateJson(c.plan, c.estimate, r.tokens > 0));
    nlohmann::json j = s.top.empty() ? nlohmann::json::object() : EstimateJson(s.top[0].plan, s.top[0].estimate, r.tokens > 0);
    if (s.top.empty()) {
      j["fits"] = false;
      j["reason"] = "no plan in the search space fits in memory";
    }
    j["hardware"] = where;
    j["model"] = model.id;
    j["devices"] = r.devices;
    j["candidates_evaluated"] = s.candidates_evaluated;
    j["candidates_feasible"] = s.candidates_feasible;
    j["search_seconds"] = s.search_seconds;
    j["top"] = top;
    PrintJson(j);
    return 0;
  }
  std::cout << fmt::format("{} on {} x {} ({}), sequence {}, global batch {}: {} plans evaluated, {} fit, {:.2f} s\n\n",
                           model.name, r.devices, hw.chip.name, where, r.seq_len, r.global_batch,
                           Thousands(double(s.candidates_evaluated)), Thousands(double(s.candidates_feasible)),
                           s.search_seconds);
  if (s.top.empty()) {
    std::cout << "no plan fits in memory\n";
    return 0;
  }
  Table t;
  t.Column("#", Table::Align::kRight);
  t.Column("step", Table::Align::kRight);
  t.Column("tok/s/dev", Table::Align::kRight);
  t.Column("MFU", Table::Align::kRight);
  t.Column("memory", Table::Align::kRight);
  t.Column("plan");
  int i = 0;
  for (const auto& c : s.top) {
    t.Row({std::to_string(++i), Seconds(c.estimate.step_time_s), Thousands(c.estimate.tokens_per_s_per_device),
           fmt::format("{:.1f}%", c.estimate.mfu * 100), GigaBytes(c.estimate.memory.total), PlanText(c.plan)});
  }
  t.Print(std::cout);
  std::cout << "\nbest plan:\n";
  PrintEstimate(s.top[0].plan, s.top[0].estimate, r);
  return 0;
}

}  // namespace suanli::cli
