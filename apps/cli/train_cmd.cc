// `suanli train`: step time, MFU, memory and time-to-train of one plan, or
// the best plans (`--search`).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include <fmt/format.h>

#include "common.h"
#include "suanli/report/csv.h"
#include "suanli/report/json.h"
#include "table.h"

namespace suanli::cli {
namespace {

void PrintEstimate(const TrainPlan& p, const TrainEstimate& e, const TrainRequest& r) {
  std::cout << TrainPlanText(p) << ", " << TrainPrecisionName(p.precision)
            << (p.optimizer_state == OptimizerState::kBf16 ? ", bf16 optimizer state" : "") << "\n\n";
  Table t;
  t.Column("");
  t.Column("value", Table::Align::kRight);
  t.Row({"step time", FormatSeconds(e.step_time_s)});
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
  if (m.fsdp_buffers > 0) {
    std::cout << fmt::format("  (total includes FSDP's gathered parameters and unsharded gradients: {})\n", GigaBytes(m.fsdp_buffers));
  }
  const TrainBreakdown& b = e.breakdown;
  Table bt;
  bt.Column("step time by part");
  bt.Column("seconds", Table::Align::kRight);
  bt.Column("share", Table::Align::kRight);
  for (auto [name, v] : {std::pair{"compute", b.compute}, std::pair{"recompute", b.recompute},
                         std::pair{"tensor-parallel comm", b.tp_comm}, std::pair{"data-parallel comm (exposed)", b.dp_comm_exposed},
                         std::pair{"pipeline bubble", b.pp_bubble}, std::pair{"pipeline transfers", b.pp_comm},
                         std::pair{"expert all-to-all", b.ep_comm}, std::pair{"context-parallel comm", b.cp_comm},
                         std::pair{"optimizer step", b.optimizer}, std::pair{"framework per operator", b.framework},
                         std::pair{"activation offload (exposed)", b.offload}}) {
    if (v <= 0) continue;
    bt.Row({name, FormatSeconds(v), fmt::format("{:.1f}%", 100 * v / e.step_time_s)});
  }
  std::cout << '\n';
  bt.Print(std::cout);
  const TrainBoundShare bound = BoundOf(b);
  std::string bound_name(TrainBoundName(bound.bound));
  std::replace(bound_name.begin(), bound_name.end(), '_', ' ');
  std::cout << fmt::format("\nbound by {} ({:.0f}% of the step)", bound_name, 100 * bound.share);
  std::cout << fmt::format("; {} micro-batch{} per step per pipeline; tier: {} (where the efficiency figures come from)\n", e.micro_batches, e.micro_batches == 1 ? "" : "es", ProfileTierName(e.tier));
  if (e.warnings != 0) std::cout << "warning: " << TrainWarningTexts(e.warnings) << '\n';
}

}  // namespace

int RunTrainCommand(const GlobalOptions& global, const Args& args, Output output) {
  const CommandSpec& spec = CommandFor("train");
  auto query = DecodeTrain(args);
  if (!query) return Fail(query.error(), &spec);
  auto catalog = LoadCatalog(global, {query->hardware}, query->model);
  if (!catalog) return Fail(catalog.error(), &spec);
  auto released = ApplyRelease(**catalog, args, query->hardware);  // --release
  if (!released) return Fail(released.error(), &spec);
  // A progress bar on a terminal, for searches that take more than a second.
  const bool tty = isatty(STDERR_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  bool drew = false;
  if (query->search && tty) {
    query->options.progress = [&](double f) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (elapsed < 1.0) return;
      const int width = 30;
      const int filled = int(f * width);
      std::cerr << "\rsearching [" << std::string(std::size_t(filled), '#') << std::string(std::size_t(width - filled), ' ')
                << "] " << int(f * 100) << "%" << std::flush;
      drew = true;
    };
  }
  auto result = RunTrain(released->Or(**catalog), *query);
  if (drew) std::cerr << "\r" << std::string(50, ' ') << "\r" << std::flush;
  if (!result) return Fail(result.error(), &spec);
  result->release_notes = released->notes;
  for (const auto& n : released->notes) std::cerr << "note: release: " << n << '\n';
  const TrainResult& r = *result;
  const TrainRequest& req = r.request;
  if (output == Output::kJson) {
    PrintJson(ToJson(r));
    return 0;
  }
  if (output == Output::kCsv) {
    std::cout << ToCsv(r);
    return 0;
  }
  if (!r.searched) {
    std::cout << fmt::format("{} on {} x {} ({}), sequence {}, global batch {}\n", r.model.name, req.devices,
                             r.hardware.chip.name, r.hardware.id(), req.seq_len, req.global_batch);
    PrintEstimate(req.plan, r.estimate, req);
    return 0;
  }
  const SearchResult& s = r.search;
  std::cout << fmt::format("{} on {} x {} ({}), sequence {}, global batch {}: {} plans evaluated, {} fit, {:.2f} s\n\n",
                           r.model.name, req.devices, r.hardware.chip.name, r.hardware.id(), req.seq_len,
                           req.global_batch, Thousands(double(s.candidates_evaluated)),
                           Thousands(double(s.candidates_feasible)), s.search_seconds);
  if (s.top.empty()) {
    std::cout << "no plan fits in memory\n";
    return 0;
  }
  auto table = [](const std::vector<RankedPlan>& plans) {
    Table t;
    t.Column("#", Table::Align::kRight);
    t.Column("step", Table::Align::kRight);
    t.Column("tok/s/dev", Table::Align::kRight);
    t.Column("MFU", Table::Align::kRight);
    t.Column("memory", Table::Align::kRight);
    t.Column("plan");
    int i = 0;
    for (const auto& c : plans) {
      t.Row({std::to_string(++i), FormatSeconds(c.estimate.step_time_s), Thousands(c.estimate.tokens_per_s_per_device),
             fmt::format("{:.1f}%", c.estimate.mfu * 100), GigaBytes(c.estimate.memory.total), TrainPlanText(c.plan)});
    }
    t.Print(std::cout);
  };
  table(s.top);
  if (!s.pareto.empty()) {
    std::cout << "\nstep time against memory per device (no plan is both faster and leaner than one of these):\n";
    table(s.pareto);
  }
  std::cout << "\nbest plan:\n";
  PrintEstimate(s.top[0].plan, s.top[0].estimate, req);
  return 0;
}

}  // namespace suanli::cli
