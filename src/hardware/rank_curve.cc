// ParseRankCurve: "RANKS=FRACTION, ..." (a profile figure by group size).
#include "suanli/hardware/rank_curve.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "suanli/core/text.h"

namespace suanli {

double RankCurve::At(double n) const {
  if (size == 0) return 0;
  if (n <= ranks[0]) return value[0];
  if (n >= ranks[size - 1]) return value[size - 1];
  int i = 1;
  while (ranks[i] < n) ++i;
  if (ranks[i] == n) return value[i];
  const double t = (std::log2(n) - log_ranks[i - 1]) / (log_ranks[i] - log_ranks[i - 1]);
  return value[i - 1] + t * (value[i] - value[i - 1]);
}

bool ParseRankCurve(std::string_view text, double at_most, RankCurve& out, std::string& error) {
  out = RankCurve{};
  for (const std::string& item : SplitCommaList(text)) {
    const std::string form = "'" + item + "' is not RANKS=FRACTION (e.g. 8=1.064, the fraction of the link rate)";
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      error = form;
      return false;
    }
    char* rest = nullptr;
    const double n = std::strtod(item.c_str(), &rest);
    if (rest != item.c_str() + eq || !(n >= 2) || n > 1e6 || n != std::floor(n)) {
      error = form + ": RANKS must be a whole number of ranks, at least 2";
      return false;
    }
    const char* p = item.c_str() + eq + 1;
    const double v = std::strtod(p, &rest);
    if (rest == p || *rest != '\0') {
      error = form;
      return false;
    }
    if (!(v > 0) || v > at_most) {
      char bound[32];
      std::snprintf(bound, sizeof bound, "%g", at_most);
      error = form + ": the fraction must be positive and at most " + bound;
      return false;
    }
    if (out.size > 0 && n <= out.ranks[out.size - 1]) {
      error = "'" + item + "': group sizes must increase";
      return false;
    }
    if (out.size == RankCurve::kMaxPoints) {
      error = "at most " + std::to_string(RankCurve::kMaxPoints) + " points";
      return false;
    }
    out.ranks[out.size] = n;
    out.log_ranks[out.size] = std::log2(n);
    out.value[out.size] = v;
    ++out.size;
  }
  if (out.size == 0) {
    error = "no points: write RANKS=FRACTION, e.g. 2=0.817, 8=1.064";
    return false;
  }
  return true;
}

}  // namespace suanli
