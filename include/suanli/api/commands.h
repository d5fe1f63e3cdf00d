// What every front end calls: find the catalog, resolve names, decode a
// request from its fields, run it, and print its result as JSON.
//
//   auto dir = FindCatalogDir("");                      // --catalog, $SUANLI_CATALOG, installed, source tree
//   auto catalog = LoadCatalogFor(*dir, {"h20"}, "llama-3.1-70b");
//   auto query = DecodeInfer(args);                      // Args from flags, JSON or keywords
//   auto result = RunInfer(*catalog, *query);
//   std::string json = ToJson(*result);                  // the --json object (report/json.h)
//
// Every default lives here or in the catalog, never in a front end: the
// precision defaults (fp8 weights compute in fp8), the default stacks, the
// batch mode when none is given. Results keep what was resolved (the chip,
// the system, the model, the request as decoded) so that every front end
// prints the same thing. Errors carry a kind (core/result.h) and name
// request fields by their keys (api/fields.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "suanli/api/fields.h"
#include "suanli/catalog/catalog.h"
#include "suanli/infer/infer.h"
#include "suanli/policy/classify.h"
#include "suanli/search/search.h"
#include "suanli/train/train.h"
#include "suanli/validation/validate.h"

namespace suanli {

// --- Finding and loading the catalog ---

// The catalog directory: `explicit_dir` when given, else $SUANLI_CATALOG,
// else the catalog installed beside the program or module that holds
// libsuanli (<prefix>/share/suanli/catalog for <prefix>/bin/suanli), else the
// source tree's (a build that was never installed). Not found is an error
// naming every place looked at.
Result<std::string> FindCatalogDir(std::string_view explicit_dir);

// The catalog a request about `hardware` and `model` needs: only those
// chips and systems (and what they extend), the profiles, stacks and sources,
// and the model when it has a file of its own name; the whole catalog when a
// name is not a file name. Start-up time is most of a single estimate's time.
Result<Catalog> LoadCatalogFor(const std::string& dir, const std::vector<std::string>& hardware,
                               std::string_view model);

// --- Names ---

// A chip named by id or alias, a system (and its chip), or a chip file.
// ResolveHardware gives the records as the catalog holds them (packages:
// what classification reads); AtRank makes one device one rank.
struct ResolvedHardware {
  Chip chip;
  const System* system = nullptr;  // points into the catalog, or into ranked_system
  std::vector<std::string> warnings;
  // What one device is. kDie: `chip` is one die (DieOf) and `system` counts
  // its chips in dies (DieRankedSystem), held by ranked_system.
  DeviceRank rank = DeviceRank::kPackage;
  std::shared_ptr<const System> ranked_system;
  [[nodiscard]] const std::string& id() const { return system != nullptr ? system->id : chip.id; }
};
Result<ResolvedHardware> ResolveHardware(const Catalog& catalog, std::string_view name);

// `hw` with one device being `rank`: a die where the chip has more than one
// (else the package, as it is); no rank: the system's `rank`, a bare chip's
// package.
ResolvedHardware AtRank(ResolvedHardware hw, std::optional<DeviceRank> rank);
// A request's --rank (absent: no rank, the system's).
std::optional<DeviceRank> RankOf(const Args& args);

// A model named by catalog id or alias (first), or a catalog model file or a
// Hugging Face config.json.
Result<ModelEntry> ResolveModel(const Catalog& catalog, std::string_view name);

// What every deployment command resolves first: the hardware, then the
// model, then the cluster they make (the first failure is the error).
struct ResolvedDeployment {
  ResolvedHardware hardware;
  ModelEntry model;
  Cluster cluster;
};
Result<ResolvedDeployment> ResolveDeployment(const Catalog& catalog, std::string_view hardware, std::string_view model,
                                             std::optional<DeviceRank> rank);

// --- Requests, decoded from their fields (CheckArgs first) ---

struct InferQuery {
  std::string hardware;
  std::optional<DeviceRank> rank;  // --rank; none: the system's
  std::string model;
  std::string stack;  // empty: the catalog's default serving stack
  InferenceWorkload workload;
  InferencePlan plan;
};
struct CompareQuery {
  std::vector<std::string> hardware;
  std::optional<DeviceRank> rank;  // --rank, for every row; none: each system's
  std::string model;
  std::string stack;
  InferenceWorkload workload;
  InferencePlan plan;
  std::string region;  // facility id for the cost columns; empty: the default (econ/cost.h)
  bool cny = false;    // cost columns in yuan
};
struct TrainQuery {
  std::string hardware;
  std::optional<DeviceRank> rank;  // --rank; none: the system's
  std::string model;
  std::string stack;  // empty: the catalog's default training stack
  TrainRequest request;  // the plan with every default applied
  bool search = false;
  PlanSpace space;        // with search: what the request fixes, the rest free
  SearchOptions options;  // with search: top k, objective, front
  std::string pp_layout;  // Megatron-Core pipeline layout, applied to the plan once the model is known
};
struct ClassifyQuery {
  std::string hardware;                 // an id, a file, or "all"
  std::vector<std::string> rules;       // empty: every rule set
  std::string headroom_rules;           // empty: the latest in-force rule set
};

Result<InferQuery> DecodeInfer(const Args& args);
Result<CompareQuery> DecodeCompare(const Args& args);
Result<TrainQuery> DecodeTrain(const Args& args);
Result<ClassifyQuery> DecodeClassify(const Args& args);
// --release FRAMEWORK=VERSION (infer, serve, train; docs/validation.md,
// "Software generations"): when given, `catalog` is the catalog with the
// release's profile figures (Catalog::ForRelease) and `notes` says what the
// hardware's profile took; absent, `catalog` is empty.
struct ReleasedCatalog {
  std::optional<Catalog> catalog;
  std::vector<std::string> notes;

  // The catalog to run on: the release's, else `base`.
  const Catalog& Or(const Catalog& base) const { return catalog ? *catalog : base; }
  // The notes as a result's warnings ("release: ...").
  void AppendWarnings(std::vector<std::string>& warnings) const {
    for (const auto& n : notes) warnings.push_back("release: " + n);
  }
};
Result<ReleasedCatalog> ApplyRelease(const Catalog& catalog, const Args& args, std::string_view hardware);

// validate's options (--holdout-by, --holdout-match); the file is args' "file".
Result<ValidateOptions> DecodeValidate(const Args& args);

// --- Running them ---

struct InferResult {
  ResolvedHardware hardware;
  ModelEntry model;
  Cluster cluster;
  InferenceRequest request;  // as estimated (stack resolved, defaults applied)
  InferenceEstimate estimate;
  std::vector<std::string> warnings;  // the estimate's and the hardware file's
};
Result<InferResult> RunInfer(const Catalog& catalog, const InferQuery& query);

// One row's cost (docs/cost-model.md): the device-hour from the catalog's
// prices and the facility, and what it makes an output token cost.
struct CompareCost {
  bool known = false;
  std::string why;  // when not known: the missing price or power
  double usd_per_device_hour = 0;
  double usd_per_million_output_tokens = 0;
  double usd_per_million_input_tokens = 0;
  double joules_per_output_token = 0;
};

struct CompareResult {
  ModelEntry model;
  InferenceRequest request;
  std::vector<InferResult> rows;  // in the order asked
  std::vector<std::string> warnings;
  std::string workload;  // the workload in words, one line
  std::vector<CompareCost> costs;  // per row
  std::string facility;            // the facility the costs assume
  bool cny = false;
  double cny_per_usd = 0;  // the latest rate, for cny
};
Result<CompareResult> RunCompare(const Catalog& catalog, const CompareQuery& query);

struct TrainResult {
  ResolvedHardware hardware;
  ModelEntry model;
  Cluster cluster;
  TrainRequest request;
  bool searched = false;
  TrainEstimate estimate;  // without search
  SearchResult search;     // with search
  std::vector<std::string> release_notes;  // what --release took (ApplyRelease), in the JSON when any
};
// `progress` (optional) is called from the calling thread during a search.
Result<TrainResult> RunTrain(const Catalog& catalog, const TrainQuery& query);

struct ClassifyResult {
  std::vector<Chip> chips;
  std::vector<const RuleSet*> rules;                // point into the catalog
  std::vector<std::vector<Classification>> results;  // [chip][rule set]
  const RuleSet* headroom_rules = nullptr;           // the rule set the summary's headroom column uses
  std::vector<std::string> warnings;
};
Result<ClassifyResult> RunClassify(const Catalog& catalog, const ClassifyQuery& query);

// Words for a batch mode ("continuous, all that fit") and a plan.
std::string_view ModeName(BatchMode m);
std::string TrainPlanText(const TrainPlan& p);

}  // namespace suanli
