// Devices as ranks: one die of a multi-die package as a device of its own
// (DieOf, DieRankedSystem; docs/inference-model.md, "Ranks").
#include <fmt/format.h>

#include "suanli/catalog/catalog.h"

namespace suanli {
namespace {

// Scales a figure (value and range) by `k` and says so in its note.
void Scale(FigureMap& figures, std::string_view key, double k, std::string_view why) {
  auto it = figures.find(key);
  if (it == figures.end() || it->second.is_text) return;
  Figure& f = it->second;
  f.value *= k;
  for (double& v : f.values) v *= k;
  if (f.range) f.range = std::pair{f.range->first * k, f.range->second * k};
  f.note = std::string(why) + (f.note.empty() ? "" : "; the package's: " + f.note);
}

}  // namespace

std::string_view DeviceRankName(DeviceRank r) { return r == DeviceRank::kDie ? "die" : "package"; }

int Chip::Dies() const {
  const auto v = Get("dies");
  return v && *v >= 1 ? int(*v) : 1;
}

Chip DieOf(const Chip& package) {
  const int dies = package.Dies();
  if (dies <= 1 || package.rank == DeviceRank::kDie) return package;
  Chip die = package;
  die.rank = DeviceRank::kDie;
  die.name = fmt::format("{} (one of its {} dies)", package.name, dies);
  const std::string per = fmt::format("one die: the package's figure / {}", dies);
  for (std::string_view key :
       {"compute.fp64", "compute.fp64_tensor", "compute.fp32", "compute.tf32", "compute.bf16", "compute.fp16", "compute.fp8",
        "compute.int8", "compute.int4", "compute.fp4", "memory.capacity", "memory.bandwidth", "memory.sram",
        "scale_up.bandwidth", "scale_out.bandwidth", "host_link", "io_bidirectional", "power.tdp", "die_area",
        "transistors"}) {
    Scale(die.figures, key, 1.0 / dies, per);
  }
  Scale(die.figures, "scale_up.domain", dies, fmt::format("in dies: the package's domain x {}", dies));
  return die;
}

System DieRankedSystem(const System& system, int dies) {
  if (dies <= 1) return system;
  System s = system;
  s.rank = DeviceRank::kDie;
  const std::string per = fmt::format("per die: the package's figure / {}", dies);
  const std::string times = fmt::format("in dies: the packages x {}", dies);
  for (std::string_view key : {"chips_per_node", "scale_up.domain"}) Scale(s.figures, key, dies, times);
  for (std::string_view key : {"scale_up.bandwidth", "scale_out.bandwidth", "host.link", "host.memory_bandwidth"}) {
    Scale(s.figures, key, 1.0 / dies, per);
  }
  return s;
}

RankedRecords RankedDevice(const Chip& chip, const System* system, std::optional<DeviceRank> rank) {
  RankedRecords out{.chip = chip, .system = system != nullptr ? std::optional<System>(*system) : std::nullopt,
                    .rank = DeviceRank::kPackage};
  const DeviceRank want = rank.value_or(system != nullptr ? system->rank : DeviceRank::kPackage);
  const int dies = chip.Dies();
  if (want != DeviceRank::kDie || dies <= 1 || chip.rank == DeviceRank::kDie) return out;
  out.chip = DieOf(chip);
  if (out.system) out.system = DieRankedSystem(*system, dies);
  out.rank = DeviceRank::kDie;
  return out;
}

}  // namespace suanli
