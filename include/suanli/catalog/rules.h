// Export-control rule sets as data (catalog/rules/*.yaml).
//
// A rule set is an ordered list of categories; the first whose condition
// holds classifies the chip. Conditions compare chip metrics (TPP,
// performance density, I/O and DRAM bandwidth, datacenter design) with
// thresholds written in the file. See docs/export-control.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace suanli {

enum class Metric {
  kTpp,                  // 2 x MacTOPS x bit length, max over formats, dense
  kPerformanceDensity,   // TPP / applicable die area (mm2)
  kIoBidirectional,      // chip-to-chip I/O, both directions (B/s)
  kDramBandwidth,        // memory bandwidth (B/s)
  kIoPlusDram,           // the two summed (B/s)
  kDatacenter,           // 1 designed or marketed for datacenters, 0 not
};
std::string_view MetricName(Metric m);
std::optional<Metric> ParseMetric(std::string_view name);

enum class Compare { kGe, kGt, kLe, kLt, kEq };

struct Condition {
  enum class Kind { kLeaf, kAll, kAny };
  Kind kind = Kind::kLeaf;
  Metric metric = Metric::kTpp;  // kLeaf
  Compare op = Compare::kGe;     // kLeaf
  double threshold = 0;          // kLeaf, SI units (B/s for bandwidths)
  std::vector<Condition> children;  // kAll / kAny
};

struct Category {
  std::string id;                  // "3A090.a.1", "not-3A090"
  std::optional<bool> controlled;  // licence required under this rule set
  std::optional<Condition> when;   // absent for the default category
  std::string reason;
};

enum class RuleStatus { kInForce, kSuperseded, kRescinded, kReported };
std::string_view RuleStatusName(RuleStatus s);

enum class RuleScope { kChips, kHbm };

struct RuleSet {
  std::string id;
  std::string name;
  std::string citation;
  std::string effective;  // ISO date
  RuleStatus status = RuleStatus::kInForce;
  RuleScope applies_to = RuleScope::kChips;
  std::vector<std::string> sources;
  std::string notes;
  std::vector<Category> categories;  // in order; the last is the default
  std::string file;
};

}  // namespace suanli
