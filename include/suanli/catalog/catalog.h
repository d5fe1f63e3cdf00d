// The catalog: chips, systems, models, export-control rule sets and the
// sources they cite, loaded from a directory of YAML files and validated.
//
// LoadCatalog() reads <dir>/{chips,systems,models,rules,sources}/**.yaml,
// resolves `extends`, checks every field against the tables in schema.h and
// every reference, and reports every problem at once. A loaded Catalog is
// immutable and safe to share between threads.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "suanli/catalog/figure.h"
#include "suanli/core/dtype.h"
#include "suanli/core/text.h"
#include "suanli/model/model.h"
#include "suanli/core/result.h"
#include "suanli/catalog/rules.h"
#include "suanli/catalog/schema.h"

namespace suanli {

struct RawStore;  // the located source trees, kept so that user files may extend catalog records

enum class ChipStatus { kReleased, kAnnounced, kRumoured };
std::string_view ChipStatusName(ChipStatus s);

// What one device (one rank of a parallel layout) is: the chip package, or
// one compute die of a multi-die package that the frameworks address as an
// NPU of its own (CANN, vllm-ascend and SGLang count the Ascend 910C's two dies as
// two ranks; docs/inference-model.md, "Ranks").
enum class DeviceRank { kPackage, kDie };
std::string_view DeviceRankName(DeviceRank r);

struct Chip {
  std::string id;
  std::string name;
  std::string vendor;
  std::vector<std::string> aliases;
  std::string extends;  // base chip id, or empty
  ChipStatus status = ChipStatus::kReleased;
  bool datacenter = true;
  std::string architecture;
  std::string arch_class;
  std::string notes;
  FigureMap figures;  // after inheritance
  std::string file;
  // kDie: this record is one die of the catalog's package (DieOf): its
  // figures are the package's over Dies(). Catalog records are packages.
  DeviceRank rank = DeviceRank::kPackage;

  [[nodiscard]] const Figure* Find(std::string_view path) const;
  // Numeric value in SI units, if known.
  [[nodiscard]] std::optional<double> Get(std::string_view path) const;
  // Dense peak rate for a data type; tensor-core fp64 counts as fp64.
  [[nodiscard]] std::optional<OpsPerSecond> DenseRate(Dtype t) const;
  // Compute dies in the package (the `dies` figure; 1 when absent).
  [[nodiscard]] int Dies() const;
};

// One die of `package` as a device of its own: every per-chip figure
// (compute, memory capacity and bandwidth, SRAM, scale-up, scale-out and host
// links, I/O, power, die area, transistors) over package.Dies(), the
// scale-up domain times it; id, sources and bases kept, each note saying so.
// This assumes equal dies that split the package's memory and links evenly
// (the 910C: two 910B-class dies, one 64 GB HBM set each); the die-to-die
// link inside the package is not a link of its own. A package of one die
// comes back as it is.
Chip DieOf(const Chip& package);

struct NetworkTier {
  std::string name;
  FigureMap figures;  // oversubscription, latency, span
};

struct System {
  std::string id;
  std::string name;
  std::string vendor;
  std::vector<std::string> aliases;
  std::string extends;
  std::string chip;  // chip id
  std::string notes;
  FigureMap figures;
  std::vector<NetworkTier> network;
  std::string file;
  DeviceRank rank = DeviceRank::kPackage;  // `rank`: what one device of a layout is here

  [[nodiscard]] const Figure* Find(std::string_view path) const;
  [[nodiscard]] std::optional<double> Get(std::string_view path) const;
};

// `system` with its chips counted in dies (`dies` per package):
// chips_per_node and scale_up.domain times dies, the per-chip scale-up,
// scale-out, host link and host memory bandwidths over it; node power,
// prices and the network tiers' spans (in nodes) stay as they are.
System DieRankedSystem(const System& system, int dies);

// A device of `chip` on `system` (nullptr: a bare chip) at `rank` (none: the
// system's `rank`; a bare chip's package): the records as they are, or the
// die and the system counted in dies where the rank is a die and the chip
// has more than one.
struct RankedRecords {
  Chip chip;
  std::optional<System> system;  // set when `system` was given
  DeviceRank rank = DeviceRank::kPackage;
  [[nodiscard]] const System* system_ptr() const { return system ? &*system : nullptr; }
};
RankedRecords RankedDevice(const Chip& chip, const System* system, std::optional<DeviceRank> rank);

struct ModelEntry {
  std::string id;
  std::string name;
  std::vector<std::string> aliases;
  std::vector<std::string> sources;
  std::string notes;
  FigureMap published;  // total_params, active_params
  ModelArch arch;
  std::string file;
};

// How a chip really performs: achieved fractions of its datasheet peaks and
// fixed overheads, from microbenchmarks (catalog/profiles/). A chip uses the
// profile that names it, else the one for its architecture class, else
// `generic`.
enum class ProfileTier { kMeasured, kCalibrated, kDatasheet };
std::string_view ProfileTierName(ProfileTier t);

// One measured GEMM: its FLOPs and the fraction of dense peak it reached.
struct GemmPoint {
  double flops = 0;
  double efficiency = 0;
};

// Parses a sweep written as "MxNxK=FRACTION, ..." or "N^3=FRACTION, ..."
// (fraction of the dense peak reached); the points come out sorted by FLOPs.
// On failure returns false and says why.
bool ParseGemmSweep(std::string_view text, std::vector<GemmPoint>& out, std::string& error);

// Figures of a profile measured with one release of a framework or kernel
// library (the profile's `releases:` rows; docs/validation.md).
struct ProfileRelease {
  std::string framework;  // "flash-attention", "sglang"
  std::string version;    // "2.5.8"
  std::string notes;
  FigureMap figures;      // the figures that differ from the profile's own
};

// A release a request or a case names: --release FRAMEWORK=VERSION.
struct ReleaseRef {
  std::string framework;
  std::string version;
  [[nodiscard]] bool empty() const { return framework.empty(); }
};

// Orders dotted versions by their numbers ("0.4.10" after "0.4.6"; a leading
// "v" and text between numbers are ignored): <0, 0 or >0.
int CompareVersions(std::string_view a, std::string_view b);

struct Profile {
  std::string id;
  std::string name;
  std::string extends;
  std::string arch_class;           // default for this class, or empty
  std::vector<std::string> chips;   // measured on these chips
  ProfileTier tier = ProfileTier::kDatasheet;
  std::string notes;
  FigureMap figures;
  std::vector<GemmPoint> gemm_sweep;      // 16-bit, from gemm.sweep
  std::vector<GemmPoint> gemm_sweep_fp8;  // from gemm.sweep_fp8
  std::vector<ProfileRelease> releases;   // release-specific figures
  // What the expert_dispatch curves count as one rank (expert_dispatch.rank).
  DeviceRank dispatch_rank = DeviceRank::kPackage;
  std::string file;

  // Whether any release row is of `framework` (names compared as lower-case letters and digits).
  [[nodiscard]] bool HasReleasesOf(std::string_view framework) const;
  // The row for `want`: its exact version, else the nearest older release of
  // its framework; nullptr: the profile's own figures (no row of that
  // framework, or every row newer). `note` says what was picked and why.
  [[nodiscard]] const ProfileRelease* PickRelease(const ReleaseRef& want, std::string* note) const;

  [[nodiscard]] const Figure* Find(std::string_view path) const;
  [[nodiscard]] std::optional<double> Get(std::string_view path) const;
};

// A serving or training framework as the cost models see it: its scheduling
// budget, which kernels it fuses, how balanced its expert routing runs
// (catalog/stacks/). Every figure has its source, as chips' do.
enum class StackKind { kServing, kTraining };
std::string_view StackKindName(StackKind k);

struct Stack {
  std::string id;
  std::string name;
  StackKind kind = StackKind::kServing;
  bool is_default = false;  // used when a request names no stack
  bool fused_residual_norm = true;  // kernels.norms: fused_residual (else unfused)
  std::vector<std::string> sources;
  std::string notes;
  FigureMap figures;  // scheduler.max_num_tokens, moe.expert_imbalance
  std::string file;

  [[nodiscard]] std::optional<double> Get(std::string_view path) const;
};

struct Source {
  std::string id;
  std::string title;
  std::string locator;
  std::string kind;
  std::string date;
  std::string file;
};

// A market fact, apart from the specs it prices (catalog/prices/,
// catalog/facilities/, catalog/fx/): a price of a chip or system, a region's
// facility costs, or an exchange rate; each dated and sourced
// (docs/cost-model.md). `figures` holds the fields of its kind's table.
struct MarketRecord {
  RecordKind kind = RecordKind::kPrice;  // kPrice, kFacility or kFx
  std::string id;
  std::string name;     // facilities
  std::string subject;  // prices: the chip or system id
  std::string price_kind;  // prices: list, street, analyst_asp, rental_hour, lease_month
  std::string region;
  std::string date;     // ISO
  std::string notes;
  FigureMap figures;
  std::string file;

  [[nodiscard]] const Figure* Find(std::string_view path) const;
  [[nodiscard]] std::optional<double> Get(std::string_view path) const;
};

class Catalog;

// One record of any kind, as `catalog show` finds it: a catalog record, or a
// model read from a file (a config.json or catalog model file) by path.
using CatalogRecord = std::variant<const Chip*, const System*, const ModelEntry*, const RuleSet*, const Profile*,
                                   const Stack*, const Source*, ModelEntry, const MarketRecord*>;

class Catalog {
 public:
  // What to load. A command that needs one model and no rule sets can skip
  // the rest (and read its model with LoadModelFile) to start faster.
  struct Parts {
    bool models = true;
    bool rules = true;
    // When not empty: only these chips and systems (ids that are file names,
    // as in the shipped catalog) and the records they extend or name. Falls
    // back to every chip and system when a name is not a file name.
    std::vector<std::string> hardware;
  };
  // Loads and validates a catalog directory. Every problem is reported.
  static Result<Catalog> Load(const std::string& dir, Parts parts);
  static Result<Catalog> Load(const std::string& dir) { return Load(dir, Parts{}); }

  [[nodiscard]] const std::vector<Chip>& chips() const { return chips_; }
  [[nodiscard]] const std::vector<System>& systems() const { return systems_; }
  [[nodiscard]] const std::vector<ModelEntry>& models() const { return models_; }
  [[nodiscard]] const std::vector<RuleSet>& rules() const { return rules_; }
  [[nodiscard]] const std::vector<Profile>& profiles() const { return profiles_; }
  [[nodiscard]] const std::vector<Stack>& stacks() const { return stacks_; }
  [[nodiscard]] const std::map<std::string, Source, std::less<>>& sources() const { return sources_; }
  // Prices, facilities and exchange rates (sorted by id).
  [[nodiscard]] const std::vector<MarketRecord>& prices() const { return prices_; }
  [[nodiscard]] const std::vector<MarketRecord>& facilities() const { return facilities_; }
  [[nodiscard]] const std::vector<MarketRecord>& fx() const { return fx_; }
  // A price, facility or exchange-rate record by id (case-insensitive); nullptr if absent.
  [[nodiscard]] const MarketRecord* FindMarketRecord(std::string_view id) const;
  [[nodiscard]] const std::string& dir() const { return dir_; }

  // By id or alias (case-insensitive); nullptr if absent.
  [[nodiscard]] const Chip* FindChip(std::string_view id) const;
  [[nodiscard]] const System* FindSystem(std::string_view id) const;
  [[nodiscard]] const ModelEntry* FindModel(std::string_view id) const;
  [[nodiscard]] const RuleSet* FindRuleSet(std::string_view id) const;
  [[nodiscard]] const Source* FindSource(std::string_view id) const;
  [[nodiscard]] const Profile* FindProfile(std::string_view id) const;
  [[nodiscard]] const Stack* FindStack(std::string_view id) const;
  // The stack marked `default: true` for `kind`; nullptr if the catalog has none.
  [[nodiscard]] const Stack* DefaultStack(StackKind kind) const;
  // The stack `id` of `kind`, or the default one of `kind` when `id` is empty;
  // an error (key "stack") naming what is missing or of the other kind.
  [[nodiscard]] Result<const Stack*> StackOf(StackKind kind, std::string_view id) const;
  // The efficiency profile for `chip`: one that lists it (or the chip it
  // extends), else its architecture class's, else `generic`; nullptr only if
  // the catalog has no `generic` profile.
  [[nodiscard]] const Profile* ProfileFor(const Chip& chip) const;
  // The record `id` names, of whatever kind (by id or alias, chips first,
  // then systems, models, rule sets, profiles, stacks, sources), or the model
  // in the file at path `id`; not found: an error with the closest ids.
  [[nodiscard]] Result<CatalogRecord> FindRecord(std::string_view id) const;
  // Ids (of any kind) closest to `id`, for "did you mean".
  [[nodiscard]] std::vector<std::string> Suggest(std::string_view id) const;

  // A copy in which every profile and stack figure `drop` selects is replaced
  // by what its record has without it (held-out validation,
  // docs/validation.md): a profile's by the same figure of the profiles it
  // extends, nearest first, then of `generic`; a stack's by the default stack
  // of its kind; the first of them `drop` leaves. With none the figure is
  // removed and the cost models' built-in default applies. Each replacement
  // is appended to `replaced` (when not null).
  struct FigureReplacement {
    std::string record;  // "profile nvidia-h200", "stack sglang"
    std::string key;
    Figure was;
    std::optional<Figure> now;
    std::string from;    // "profile nvidia-hopper", "stack trtllm (default serving)", "none"
  };
  [[nodiscard]] Catalog WithoutFigures(const std::function<bool(const Figure&)>& drop,
                                       std::vector<FigureReplacement>* replaced) const;

  // A copy in which every profile with releases of `want.framework` has the
  // figures of the release PickRelease picks in place of its own. What was
  // picked, and every inexact match, is appended to `notes` (when not null).
  [[nodiscard]] Catalog ForRelease(const ReleaseRef& want, std::vector<std::string>* notes) const;

  // Reads a chip file from outside the catalog (it may extend a catalog chip).
  // Sources it cites that the catalog does not know become `warnings`.
  Result<Chip> LoadChipFile(const std::string& path, std::vector<std::string>* warnings) const;
  // Reads a model: a catalog-format model file (.yaml) or a Hugging Face config.json.
  Result<ModelEntry> LoadModelFile(const std::string& path) const;

 private:
  std::string dir_;
  std::vector<Chip> chips_;
  std::vector<System> systems_;
  std::vector<ModelEntry> models_;
  std::vector<RuleSet> rules_;
  std::vector<Profile> profiles_;
  std::vector<Stack> stacks_;
  std::map<std::string, Source, std::less<>> sources_;
  std::vector<MarketRecord> prices_, facilities_, fx_;
  std::shared_ptr<const RawStore> raw_;
  friend class CatalogLoader;
};


}  // namespace suanli
