// Validation against measured cases: reads a cases file in the format of the
// development set (cases: [{id, group, kind, hardware, model, workload,
// result, ...}]), predicts every case of a kind suanli models, and reports
// the error per case, per group and overall. Cases that cannot be mapped to
// a prediction are listed with the reason, never dropped.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "suanli/catalog/catalog.h"
#include "suanli/infer/infer.h"
#include "suanli/core/result.h"

namespace suanli {

struct CaseResult {
  std::string id;
  std::string group;
  std::string kind;
  std::string metric;      // the measured quantity, as the case names it
  std::string hardware;    // catalog chip id
  std::string model;       // catalog model id, or "case fields"
  std::string setup;       // the plan predicted, in words
  std::string assumption;  // what the mapping assumed where the case is silent
  double measured = 0;
  double predicted = 0;
  double signed_error = 0;  // (predicted - measured) / measured
};

struct UnmappedCase {
  std::string id;
  std::string group;
  std::string kind;
  std::string reason;
};

struct ErrorStats {
  int count = 0;
  double median_ape = 0;  // absolute percentage errors, as fractions
  double mean_ape = 0;
  double p90_ape = 0;
  double max_ape = 0;
  double bias = 0;        // mean signed error
};

// Summary of signed relative errors (empty -> count 0).
ErrorStats Summarize(const std::vector<double>& signed_errors);

// For one setting (model, devices, batch) measured under several plans: the
// plan suanli ranks fastest, and how its measured time compares with the best.
// A plan choice is right when the plan ranked first measured within this of the best.
inline constexpr double kPlanChoiceTolerance = 0.05;

struct PlanChoice {
  std::string group;
  std::string setting;
  int plans = 0;
  double measured_best = 0;   // s
  double measured_chosen = 0; // s, of the plan suanli ranks first
  [[nodiscard]] bool right() const { return measured_chosen <= (1 + kPlanChoiceTolerance) * measured_best; }
};

// Held out by group (docs/validation.md): each group predicted again with
// the profile and stack figures its own cases informed replaced by what
// their records have without them.
enum class HoldoutMatch {
  kDocument,    // a figure's source is the same document as a case's (file, page or paper)
  kRepository,  // ... or the same repository, site or paper
};
std::string_view HoldoutMatchName(HoldoutMatch m);

struct ValidateOptions {
  bool holdout_by_group = false;
  HoldoutMatch match = HoldoutMatch::kDocument;
};

// A figure a group informed and what replaced it in the held-out run.
struct RemovedFigure {
  std::string record;                // "profile nvidia-hopper", "stack trtllm"
  std::string key;                   // "memory.reserved_fraction"
  std::vector<std::string> sources;  // the figure's source ids
  std::string why;                   // which source matched which case source
  std::string was;                   // the value, formatted
  std::string now;                   // the fallback's value, or "" when removed
  std::string fallback;              // where the fallback comes from
};

struct GroupHoldout {
  std::string group;
  std::vector<std::string> documents;  // what the group's cases cite, as read
  std::vector<RemovedFigure> removed;
  ErrorStats in_sample;                // over the same cases as held_out
  ErrorStats held_out;
  // Cases predicted in sample but not held out (or the reverse), with why.
  std::vector<UnmappedCase> changed;
};

struct ValidationReport {
  std::string file;
  std::vector<CaseResult> cases;
  std::vector<UnmappedCase> unmapped;
  std::map<std::string, ErrorStats> groups;
  std::map<std::string, double> spearman;  // groups of 3+ cases: rank correlation, predicted vs measured
  std::vector<PlanChoice> plan_choices;    // vTrain settings with several measured plans
  ErrorStats overall;
  bool holdout_run = false;              // --holdout-by group
  HoldoutMatch holdout_match = HoldoutMatch::kDocument;
  std::vector<GroupHoldout> holdout;     // one per group with predicted cases
  [[nodiscard]] int plan_choices_right() const;
};

// Reads a cases file (YAML, dev-cases format) or a vTrain ground-truth CSV
// (columns as in ../shared/validation/vtrain/). Fails only when the file cannot
// be read or is not such a file (every structural problem is reported); cases
// it cannot predict are `unmapped`.
Result<ValidationReport> ValidateCases(const Catalog& catalog, const std::string& path);
Result<ValidationReport> ValidateCases(const Catalog& catalog, const std::string& path, const ValidateOptions& options);

// Finds a catalog chip from a name as measurement reports write it
// ("NVIDIA H100 SXM 80GB (DGX H100)"); nullptr if none matches.
const Chip* MatchChipName(const Catalog& catalog, const std::string& name);

}  // namespace suanli
