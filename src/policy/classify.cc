// Export-control classification (see classify.h for the definitions used).
#include "suanli/policy/classify.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace suanli {
namespace {

enum class Tri { kFalse, kTrue, kUnknown };

struct Values {
  std::optional<double> v[6];
  std::optional<double>& operator[](Metric m) { return v[static_cast<int>(m)]; }
  const std::optional<double>& operator[](Metric m) const { return v[static_cast<int>(m)]; }
};

Values ToValues(const ChipMetrics& m) {
  Values v;
  v[Metric::kTpp] = m.tpp;
  v[Metric::kPerformanceDensity] = m.performance_density;
  v[Metric::kIoBidirectional] = m.io_bidirectional;
  v[Metric::kDramBandwidth] = m.dram_bandwidth;
  if (m.io_bidirectional && m.dram_bandwidth) v[Metric::kIoPlusDram] = *m.io_bidirectional + *m.dram_bandwidth;
  v[Metric::kDatacenter] = m.datacenter ? 1.0 : 0.0;
  return v;
}

bool Holds(double x, Compare op, double t) {
  switch (op) {
    case Compare::kGe: return x >= t;
    case Compare::kGt: return x > t;
    case Compare::kLe: return x <= t;
    case Compare::kLt: return x < t;
    case Compare::kEq: return x == t;
  }
  return false;
}

Tri Eval(const Condition& c, const Values& v) {
  switch (c.kind) {
    case Condition::Kind::kLeaf: {
      const auto& x = v[c.metric];
      if (!x) return Tri::kUnknown;
      return Holds(*x, c.op, c.threshold) ? Tri::kTrue : Tri::kFalse;
    }
    case Condition::Kind::kAll: {
      Tri out = Tri::kTrue;
      for (const auto& ch : c.children) {
        const Tri t = Eval(ch, v);
        if (t == Tri::kFalse) return Tri::kFalse;
        if (t == Tri::kUnknown) out = Tri::kUnknown;
      }
      return out;
    }
    case Condition::Kind::kAny: {
      Tri out = Tri::kFalse;
      for (const auto& ch : c.children) {
        const Tri t = Eval(ch, v);
        if (t == Tri::kTrue) return Tri::kTrue;
        if (t == Tri::kUnknown) out = Tri::kUnknown;
      }
      return out;
    }
  }
  return Tri::kUnknown;
}

std::string_view OpText(Compare op, bool holds) {
  switch (op) {
    case Compare::kGe: return holds ? ">=" : "<";
    case Compare::kGt: return holds ? ">" : "<=";
    case Compare::kLe: return holds ? "<=" : ">";
    case Compare::kLt: return holds ? "<" : ">=";
    case Compare::kEq: return holds ? "=" : "!=";
  }
  return "?";
}

std::string FormatMetric(Metric m, double x) {
  switch (m) {
    case Metric::kTpp: return fmt::format("{:.0f}", x);
    case Metric::kPerformanceDensity: return fmt::format("{:.2f}", x);
    case Metric::kDatacenter: return x != 0 ? "yes" : "no";
    default: return fmt::format("{:.0f} GB/s", x / 1e9);
  }
}

// "tpp 2368 < 2400" for every leaf of `c`.
void Explain(const Condition& c, const Values& v, std::vector<std::string>& out) {
  if (c.kind != Condition::Kind::kLeaf) {
    for (const auto& ch : c.children) Explain(ch, v, out);
    return;
  }
  const auto& x = v[c.metric];
  if (c.metric == Metric::kDatacenter) {
    out.push_back(fmt::format("designed or marketed for datacenters: {}", x && *x != 0 ? "yes" : "no"));
    return;
  }
  if (!x) {
    out.push_back(fmt::format("{} unknown (threshold {})", MetricName(c.metric), FormatMetric(c.metric, c.threshold)));
    return;
  }
  out.push_back(fmt::format("{} {} {} {}", MetricName(c.metric), FormatMetric(c.metric, *x),
                            OpText(c.op, Holds(*x, c.op, c.threshold)), FormatMetric(c.metric, c.threshold)));
}

// Die area at which a density condition would hold, for undetermined chips.
void ExplainUnknownDensity(const Condition& c, const Values& v, const std::string& category,
                           std::vector<std::string>& out) {
  if (c.kind != Condition::Kind::kLeaf) {
    for (const auto& ch : c.children) ExplainUnknownDensity(ch, v, category, out);
    return;
  }
  if (c.metric == Metric::kPerformanceDensity && !v[Metric::kPerformanceDensity] && v[Metric::kTpp] &&
      (c.op == Compare::kGe || c.op == Compare::kGt)) {
    out.push_back(fmt::format("{} would need performance density >= {:.2f}, i.e. applicable die area <= {:.0f} mm2",
                              category, c.threshold, *v[Metric::kTpp] / c.threshold));
  }
}

struct Outcome {
  std::size_t index = 0;          // category matched (or the default)
  std::vector<std::size_t> maybe; // categories whose condition is unknown, before `index`
  std::optional<bool> controlled;
};

Outcome Decide(const RuleSet& rules, const Values& v) {
  Outcome o;
  for (std::size_t i = 0; i < rules.categories.size(); ++i) {
    const auto& cat = rules.categories[i];
    const Tri t = cat.when ? Eval(*cat.when, v) : Tri::kTrue;
    if (t == Tri::kFalse) continue;
    if (t == Tri::kUnknown) {
      o.maybe.push_back(i);
      continue;
    }
    o.index = i;
    break;
  }
  o.controlled = rules.categories[o.index].controlled;
  for (auto i : o.maybe) {
    if (rules.categories[i].controlled != o.controlled) o.controlled.reset();
  }
  return o;
}

void CollectThresholds(const Condition& c, Metric metric, std::vector<double>& out) {
  if (c.kind != Condition::Kind::kLeaf) {
    for (const auto& ch : c.children) CollectThresholds(ch, metric, out);
  } else if (c.metric == metric) {
    out.push_back(c.threshold);
  }
}

// Status key for comparing outcomes: controlled or not or unknown.
int StatusKey(const Outcome& o) { return o.controlled ? (*o.controlled ? 1 : 0) : 2; }

// Scales the metrics on one axis and finds where the status flips.
std::optional<Headroom> AxisHeadroom(const RuleSet& rules, const Values& base, std::string_view name,
                                     std::vector<Metric> scaled, Metric primary) {
  if (!base[primary] || *base[primary] <= 0) return std::nullopt;
  std::vector<double> factors;
  bool referenced = false;
  for (Metric m : scaled) {
    std::vector<double> ts;
    for (const auto& cat : rules.categories) {
      if (cat.when) CollectThresholds(*cat.when, m, ts);
    }
    if (!ts.empty()) referenced = true;
    if (!base[m]) continue;
    for (double t : ts) {
      if (m == Metric::kIoPlusDram && m != primary) {
        // Only the primary part of the sum scales.
        const double other = *base[m] - *base[primary];
        if (t > other) factors.push_back((t - other) / *base[primary]);
      } else {
        factors.push_back(t / *base[m]);
      }
    }
  }
  if (!referenced) return std::nullopt;
  auto at = [&](double s) {
    Values v = base;
    for (Metric m : scaled) {
      if (v[m] && m != Metric::kIoPlusDram) *v[m] *= s;
    }
    // Derived sums move with their parts.
    if (std::find(scaled.begin(), scaled.end(), Metric::kIoPlusDram) != scaled.end()) {
      if (base[Metric::kIoBidirectional] && base[Metric::kDramBandwidth]) {
        const bool io = std::find(scaled.begin(), scaled.end(), Metric::kIoBidirectional) != scaled.end();
        v[Metric::kIoPlusDram] = (io ? *base[Metric::kIoBidirectional] * s : *base[Metric::kIoBidirectional]) +
                                 (io ? *base[Metric::kDramBandwidth] : *base[Metric::kDramBandwidth] * s);
      }
    }
    return Decide(rules, v);
  };
  const Outcome now = at(1.0);
  if (!now.controlled) return std::nullopt;
  Headroom h;
  h.metric = std::string(name);
  h.current = *base[primary];
  std::sort(factors.begin(), factors.end());
  const double eps = 1e-9;
  if (!*now.controlled) {
    for (double s : factors) {
      if (s < 1.0 - eps) continue;
      for (double probe : {s, s * (1 + eps)}) {
        const Outcome o = at(probe);
        if (StatusKey(o) != StatusKey(now)) {
          h.limit = h.current * s;
          h.flips_to = rules.categories[o.index].id;
          break;
        }
      }
      if (h.limit) break;
    }
  } else {
    for (auto it = factors.rbegin(); it != factors.rend(); ++it) {
      const double s = *it;
      if (s > 1.0 + eps) continue;
      const Outcome o = at(s * (1 - eps));
      if (StatusKey(o) != StatusKey(now)) {
        h.limit = h.current * s;
        h.flips_to = o.controlled ? rules.categories[o.index].id : "undetermined";
        break;
      }
    }
  }
  if (h.limit) {
    h.margin = *h.limit - h.current;
    h.fraction = h.margin / h.current;
    h.note = *now.controlled ? fmt::format("controlled; {} must fall below {} to leave control", name,
                                           FormatMetric(primary, *h.limit))
                             : fmt::format("{} may grow to just under {} ({:+.1f}%) before it becomes {}", name,
                                           FormatMetric(primary, *h.limit), 100 * h.fraction, h.flips_to);
  } else {
    h.note = *now.controlled ? fmt::format("no {} alone takes it out of control", name)
                             : fmt::format("no {} alone brings it under control", name);
  }
  return h;
}

}  // namespace

ChipMetrics ComputeMetrics(const Chip& chip) {
  ChipMetrics m;
  // On ties the first listed format names the TPP (fp8 rather than int8 or bf16).
  for (Dtype t : {Dtype::kFp8, Dtype::kFp4, Dtype::kInt8, Dtype::kInt4, Dtype::kBf16, Dtype::kFp16, Dtype::kFp32,
                  Dtype::kFp64}) {
    auto rate = chip.DenseRate(t);
    if (!rate) continue;
    const double tpp = rate->si() / 1e12 * DtypeBits(t);
    if (!m.tpp || tpp > *m.tpp * (1 + 1e-12)) {
      m.tpp = tpp;
      m.tpp_format = std::string(DtypeName(t));
    }
  }
  if (auto area = chip.Get("die_area")) m.die_area_mm2 = *area / 1e-6;
  if (m.tpp && m.die_area_mm2) m.performance_density = *m.tpp / *m.die_area_mm2;
  if (auto io = chip.Get("io_bidirectional")) {
    m.io_bidirectional = *io;
  } else {
    auto up = chip.Get("scale_up.bandwidth");
    auto host = chip.Get("host_link");
    if (up || host) m.io_bidirectional = 2.0 * (up.value_or(0) + host.value_or(0));
  }
  m.dram_bandwidth = chip.Get("memory.bandwidth");
  m.datacenter = chip.datacenter;
  return m;
}

Classification Classify(const Chip& chip, const RuleSet& rules) {
  Classification c;
  c.chip = chip.id;
  c.rules = rules.id;
  c.metrics = ComputeMetrics(chip);
  const Values v = ToValues(c.metrics);
  const Outcome o = Decide(rules, v);
  const Category& cat = rules.categories[o.index];
  c.controlled = o.controlled;
  if (o.maybe.empty()) {
    c.category = cat.id;
    c.reasons.push_back(cat.reason);
    if (cat.when) {
      Explain(*cat.when, v, c.reasons);
    } else {
      // Say why each controlling category missed.
      for (const auto& other : rules.categories) {
        if (!other.when || other.controlled != true) continue;
        std::vector<std::string> parts;
        Explain(*other.when, v, parts);
        std::string line = "not " + other.id + ": ";
        for (std::size_t i = 0; i < parts.size(); ++i) line += (i ? ", " : "") + parts[i];
        c.reasons.push_back(line);
      }
    }
  } else {
    std::string ids;
    for (auto i : o.maybe) ids += rules.categories[i].id + " or ";
    c.category = c.controlled ? ids + cat.id : "undetermined";
    c.reasons.push_back(fmt::format("{}{} depending on metrics that are unknown", ids, cat.id));
    for (auto i : o.maybe) {
      Explain(*rules.categories[i].when, v, c.reasons);
      ExplainUnknownDensity(*rules.categories[i].when, v, rules.categories[i].id, c.reasons);
    }
  }
  if (!c.metrics.tpp) c.warnings.push_back("no dense compute figures: TPP cannot be computed");
  if (c.metrics.tpp && !c.metrics.die_area_mm2) {
    c.warnings.push_back("die area unknown: performance density not computed; classified on TPP alone");
  }
  if (rules.status == RuleStatus::kRescinded) c.warnings.push_back("rule set " + rules.id + " was rescinded");
  if (rules.status == RuleStatus::kReported) {
    c.warnings.push_back("rule set " + rules.id + " is reported criteria, not published rule text");
  }
  if (auto h = AxisHeadroom(rules, v, "tpp", {Metric::kTpp, Metric::kPerformanceDensity}, Metric::kTpp)) {
    c.headroom.push_back(*h);
  }
  if (auto h = AxisHeadroom(rules, v, "dram_bandwidth", {Metric::kDramBandwidth, Metric::kIoPlusDram},
                            Metric::kDramBandwidth)) {
    c.headroom.push_back(*h);
  }
  if (auto h = AxisHeadroom(rules, v, "io_bidirectional", {Metric::kIoBidirectional, Metric::kIoPlusDram},
                            Metric::kIoBidirectional)) {
    c.headroom.push_back(*h);
  }
  return c;
}

}  // namespace suanli
