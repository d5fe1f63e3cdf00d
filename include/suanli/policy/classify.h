// Export-control classification of a chip under a rule set.
//
// Metrics follow 88 FR 73458 (Oct 2023) Technical Note to 3A090: TPP = 2 x
// MacTOPS x bit length, the highest over data formats, dense (TF32 left out:
// its bit length is ambiguous and it never dominates); performance density
// = TPP / applicable (logic) die area in mm2. Chip-to-chip I/O is the
// explicit `io_bidirectional` figure or 2 x (scale-up + host link) per
// direction. A metric that cannot be computed (no die area) makes the
// conditions that need it unknown: the result says so, never guesses.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "suanli/catalog/catalog.h"
#include "suanli/catalog/rules.h"

namespace suanli {

struct ChipMetrics {
  std::optional<double> tpp;
  std::string tpp_format;  // the data type that gives the maximum ("fp8")
  std::optional<double> performance_density;
  std::optional<double> die_area_mm2;
  std::optional<double> io_bidirectional;  // B/s
  std::optional<double> dram_bandwidth;    // B/s
  bool datacenter = true;
};

ChipMetrics ComputeMetrics(const Chip& chip);

// How far a metric could move before the chip's control status flips.
struct Headroom {
  std::string metric;       // "tpp", "performance_density", "dram_bandwidth"
  double current = 0;       // SI (B/s for bandwidth)
  std::optional<double> limit;  // value at which the status flips; nullopt = never
  double margin = 0;        // limit - current (negative: must fall by this much)
  double fraction = 0;      // margin / current
  std::string flips_to;     // category at the limit
  std::string note;
};

struct Classification {
  std::string chip;
  std::string rules;
  ChipMetrics metrics;
  std::string category;             // "undetermined" when metrics are missing
  std::optional<bool> controlled;   // nullopt = undetermined
  std::vector<std::string> reasons;
  std::vector<Headroom> headroom;
  std::vector<std::string> warnings;
};

Classification Classify(const Chip& chip, const RuleSet& rules);

}  // namespace suanli
