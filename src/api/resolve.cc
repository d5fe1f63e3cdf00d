// Hardware and model names to catalog records or files.
#include <filesystem>
#include <memory>

#include "suanli/api/chip_scope.h"
#include "suanli/api/commands.h"

namespace suanli {

bool LooksLikeFile(std::string_view name);  // catalog_dir.cc

namespace {
thread_local std::span<const Chip> scoped_chips;
}  // namespace

ScopedChips::ScopedChips(std::span<const Chip> chips) : previous_(scoped_chips) { scoped_chips = chips; }
ScopedChips::~ScopedChips() { scoped_chips = previous_; }

std::span<const Chip> ScopedChipsOnThisThread() { return scoped_chips; }

const Chip* FindScopedChip(std::string_view id) {
  for (const Chip& c : scoped_chips) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

Result<ResolvedHardware> ResolveHardware(const Catalog& catalog, std::string_view name) {
  ResolvedHardware out;
  if (const Chip* chip = FindScopedChip(name)) {  // a caller's what-if chip (api/chip_scope.h)
    out.chip = *chip;
    return out;
  }
  if (const Chip* chip = catalog.FindChip(name)) {
    out.chip = *chip;
    return out;
  }
  if (const System* system = catalog.FindSystem(name)) {
    const Chip* chip = catalog.FindChip(system->chip);
    if (chip == nullptr) {
      return Error::Internal("system '" + system->id + "' names unknown chip '" + system->chip + "'");
    }
    out.chip = *chip;
    out.system = system;
    return out;
  }
  if (LooksLikeFile(name)) {
    auto chip = catalog.LoadChipFile(std::string(name), &out.warnings);
    if (!chip) return std::move(chip).error();
    out.chip = std::move(*chip);
    return out;
  }
  return Error::NotFound(Diagnostic{
      .key_path = "hardware",
      .message = "no chip or system '" + std::string(name) + "' in the catalog and no such file" +
                 DidYouMean(name, catalog.Suggest(name), 3) + "; `suanli catalog list chips` lists them"});
}

Result<ModelEntry> ResolveModel(const Catalog& catalog, std::string_view name) {
  if (const ModelEntry* m = catalog.FindModel(name)) return *m;
  const std::string file = catalog.dir() + "/models/" + std::string(name) + ".yaml";
  std::error_code ec;
  if (catalog.models().empty() && std::filesystem::is_regular_file(file, ec)) return catalog.LoadModelFile(file);
  if (LooksLikeFile(name)) return catalog.LoadModelFile(std::string(name));
  std::vector<std::string> ids;
  for (const auto& m : catalog.models()) ids.push_back(m.id);
  return Error::NotFound(Diagnostic{
      .key_path = "model",
      .message = "no model '" + std::string(name) + "' in the catalog and no such file" + DidYouMean(name, ids, 3) +
                 "; `suanli catalog list models` lists them, or pass a Hugging Face config.json"});
}

ResolvedHardware AtRank(ResolvedHardware hw, std::optional<DeviceRank> rank) {
  RankedRecords r = RankedDevice(hw.chip, hw.system, rank);
  if (r.rank == hw.rank) return hw;
  hw.chip = std::move(r.chip);
  if (r.system) {
    hw.ranked_system = std::make_shared<const System>(std::move(*r.system));
    hw.system = hw.ranked_system.get();
  }
  hw.rank = r.rank;
  return hw;
}

std::optional<DeviceRank> RankOf(const Args& args) {
  const auto v = args.Get("rank");
  if (!v) return std::nullopt;
  return *v == "die" ? DeviceRank::kDie : DeviceRank::kPackage;
}

Result<ResolvedDeployment> ResolveDeployment(const Catalog& catalog, std::string_view hardware, std::string_view model,
                                             std::optional<DeviceRank> rank) {
  auto resolved = ResolveHardware(catalog, hardware);
  if (!resolved) return std::move(resolved).error();
  ResolvedHardware hw = AtRank(std::move(*resolved), rank);
  auto entry = ResolveModel(catalog, model);
  if (!entry) return std::move(entry).error();
  auto cluster = MakeCluster(catalog, hw.chip, hw.system);
  if (!cluster) return std::move(cluster).error();
  return ResolvedDeployment{.hardware = std::move(hw), .model = std::move(*entry), .cluster = std::move(*cluster)};
}

}  // namespace suanli
