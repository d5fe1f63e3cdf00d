// ParseDispatchCurve: "EP=DISPATCH/COMBINE, ..." in GB/s.
#include "suanli/hardware/dispatch_curve.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "suanli/core/text.h"

namespace suanli {

void RecountRanks(DispatchCurves& curves, double k) {
  for (DispatchCurve* c : {&curves.normal_intranode, &curves.normal_internode, &curves.low_latency}) {
    for (int i = 0; i < c->size; ++i) {
      c->ep[i] /= k;
      c->dispatch[i] *= k;
      c->combine[i] *= k;
    }
  }
  curves.scale_up *= k;
  curves.scale_out *= k;
}

bool ParseDispatchCurve(std::string_view text, DispatchCurve& out, std::string& error) {
  out = DispatchCurve{};
  for (const std::string& item : SplitCommaList(text)) {
    const auto eq = item.find('=');
    const std::string form = "'" + item + "' is not EP=DISPATCH/COMBINE in GB/s (e.g. 8=153/158, or 16=43 for both)";
    if (eq == std::string::npos) {
      error = form;
      return false;
    }
    char* rest = nullptr;
    const double ep = std::strtod(item.c_str(), &rest);
    if (rest != item.c_str() + eq || !(ep >= 1) || ep > 1e6 || ep != std::floor(ep)) {
      error = form + ": EP must be a whole number of ranks";
      return false;
    }
    const char* p = item.c_str() + eq + 1;
    const double dispatch = std::strtod(p, &rest);
    double combine = dispatch;
    if (rest == p) {
      error = form;
      return false;
    }
    if (*rest == '/') {
      p = rest + 1;
      combine = std::strtod(p, &rest);
      if (rest == p) {
        error = form;
        return false;
      }
    }
    if (*rest != '\0' || !(dispatch > 0) || !(combine > 0) || dispatch > 1e5 || combine > 1e5) {
      error = form + ": bandwidths are positive GB/s, at most 100000";
      return false;
    }
    if (out.size > 0 && ep <= out.ep[out.size - 1]) {
      error = "'" + item + "': EP sizes must increase";
      return false;
    }
    if (out.size == DispatchCurve::kMaxPoints) {
      error = "at most " + std::to_string(DispatchCurve::kMaxPoints) + " points";
      return false;
    }
    out.ep[out.size] = ep;
    out.dispatch[out.size] = dispatch * 1e9;
    out.combine[out.size] = combine * 1e9;
    ++out.size;
  }
  if (out.size == 0) {
    error = "no points: write EP=DISPATCH/COMBINE in GB/s, e.g. 8=153/158";
    return false;
  }
  return true;
}

}  // namespace suanli
