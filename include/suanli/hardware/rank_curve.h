// A measured figure by group size: the all-reduce bus bandwidth of a profile
// (`collective.allreduce_by_ranks`) at each number of ranks it was measured
// with, as a fraction of the scale-up link rate (docs/architecture.md,
// "Collectives through a switch that reduces").
//
// Written "2=0.817, 4=0.817, 8=1.064" (RANKS=FRACTION, ranks increasing);
// between two points the figure is interpolated linearly in log2(ranks),
// beyond the ends it is the end point's, so an interpolated value lies between
// its two neighbours. A group of exactly a measured size reads its point with
// no logarithm: MakeDevice builds the curve once, the collectives read it per
// plan. Plain data, safe to share between threads.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace suanli {

struct RankCurve {
  static constexpr int kMaxPoints = 12;
  std::array<double, kMaxPoints> ranks{};      // sorted, distinct, at least 2
  std::array<double, kMaxPoints> log_ranks{};  // log2 of each
  std::array<double, kMaxPoints> value{};      // fraction of the link rate
  int size = 0;
  [[nodiscard]] bool empty() const { return size == 0; }

  // The figure for a group of `n` ranks; 0 when the curve is empty. Out of
  // line: the collectives that read no curve keep their inline arithmetic small.
  [[nodiscard]] double At(double n) const;
};

// The bound of a bus-bandwidth fraction, as collective.allreduce_efficiency's:
// in-switch reduction (NVLS) reaches above the link rate, never twice it.
inline constexpr double kAllReduceEfficiencyMax = 2;

// Parses "2=0.817, 4=0.817, 8=1.064": whole rank counts of at least 2,
// increasing, each with a fraction in (0, `at_most`]. On failure returns
// false and says why.
bool ParseRankCurve(std::string_view text, double at_most, RankCurve& out, std::string& error);

}  // namespace suanli
