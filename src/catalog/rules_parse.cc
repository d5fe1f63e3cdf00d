#include <algorithm>
#include <array>

#include "catalog/rules_parse.h"
#include "suanli/catalog/catalog.h"
#include "core/quantity_parse.h"

namespace suanli {
namespace {

struct MetricInfo {
  Metric metric;
  std::string_view name;
  Dim dim;
};
constexpr std::array kMetrics = {
    MetricInfo{Metric::kTpp, "tpp", dims::kNone},
    MetricInfo{Metric::kPerformanceDensity, "performance_density", dims::kNone},
    MetricInfo{Metric::kIoBidirectional, "io_bidirectional", dims::kBandwidth},
    MetricInfo{Metric::kDramBandwidth, "dram_bandwidth", dims::kBandwidth},
    MetricInfo{Metric::kIoPlusDram, "io_plus_dram", dims::kBandwidth},
    MetricInfo{Metric::kDatacenter, "datacenter", dims::kNone},
};

constexpr std::array<std::pair<std::string_view, Compare>, 5> kOps = {
    {{"ge", Compare::kGe}, {"gt", Compare::kGt}, {"le", Compare::kLe}, {"lt", Compare::kLt}, {"eq", Compare::kEq}}};

std::vector<std::string> MetricNames() {
  std::vector<std::string> out;
  for (const auto& m : kMetrics) out.emplace_back(m.name);
  return out;
}

std::optional<Condition> ParseCondition(const RawNode& n, const std::string& path, std::vector<Diagnostic>& diags,
                                        int depth) {
  if (depth > 16) {
    diags.push_back(n.At(path, "conditions nest too deeply"));
    return std::nullopt;
  }
  if (!n.IsMap() || n.keys.empty()) {
    diags.push_back(n.At(path, "a condition is {all: [...]}, {any: [...]} or {metric: NAME, ge|gt|le|lt|eq: VALUE}"));
    return std::nullopt;
  }
  Condition c;
  if (n.keys.size() == 1 && (n.keys[0] == "all" || n.keys[0] == "any")) {
    c.kind = n.keys[0] == "all" ? Condition::Kind::kAll : Condition::Kind::kAny;
    const RawNode& list = n.items[0];
    if (!list.IsSequence() || list.items.empty()) {
      diags.push_back(list.At(path + "." + n.keys[0], "expected a non-empty list of conditions"));
      return std::nullopt;
    }
    for (std::size_t i = 0; i < list.items.size(); ++i) {
      auto child = ParseCondition(list.items[i], path + "." + n.keys[0] + "[" + std::to_string(i) + "]", diags, depth + 1);
      if (!child) return std::nullopt;
      c.children.push_back(std::move(*child));
    }
    return c;
  }
  const RawNode* metric = n.Find("metric");
  if (metric == nullptr || !metric->IsScalar()) {
    diags.push_back(n.At(path, "missing field 'metric' (" + [] {
      std::string s;
      for (const auto& m : kMetrics) s += (s.empty() ? "" : ", ") + std::string(m.name);
      return s;
    }() + ")"));
    return std::nullopt;
  }
  auto m = ParseMetric(metric->scalar);
  if (!m) {
    const std::string close = DidYouMean(metric->scalar, MetricNames());
    diags.push_back(metric->At(path + ".metric", "unknown metric '" + metric->scalar + "'" +
                                                     close));
    return std::nullopt;
  }
  c.metric = *m;
  int ops = 0;
  for (std::size_t i = 0; i < n.keys.size(); ++i) {
    const std::string& k = n.keys[i];
    if (k == "metric") continue;
    auto op = std::find_if(kOps.begin(), kOps.end(), [&](const auto& p) { return p.first == k; });
    if (op == kOps.end()) {
      diags.push_back(n.items[i].At(path + "." + k, "unknown comparison '" + k + "' (ge, gt, le, lt or eq)"));
      return std::nullopt;
    }
    ++ops;
    c.op = op->second;
    const RawNode& v = n.items[i];
    if (c.metric == Metric::kDatacenter) {
      auto b = ScalarToBool(v, path + "." + k);
      if (!b) {
        diags.insert(diags.end(), b.error().diagnostics.begin(), b.error().diagnostics.end());
        return std::nullopt;
      }
      c.threshold = *b ? 1 : 0;
      continue;
    }
    const Dim want = std::find_if(kMetrics.begin(), kMetrics.end(), [&](const auto& x) { return x.metric == c.metric; })->dim;
    QuantityParse q = v.IsScalar() ? ParseQuantity(v.scalar) : QuantityParse{.message = "expected a value"};
    if (!q.ok || !(q.quantity.dim == want)) {
      diags.push_back(v.At(path + "." + k, (q.ok ? "'" + v.scalar + "' is " + DimName(q.quantity.dim) : q.message) +
                                               "; metric " + metric->scalar + " takes " + DimName(want) +
                                               " like '" + std::string(DimExample(want)) + "'"));
      return std::nullopt;
    }
    c.threshold = q.quantity.si;
  }
  if (ops != 1) {
    diags.push_back(n.At(path, "a condition compares once (one of ge, gt, le, lt, eq)"));
    return std::nullopt;
  }
  return c;
}

}  // namespace

std::string_view MetricName(Metric m) {
  for (const auto& x : kMetrics) {
    if (x.metric == m) return x.name;
  }
  return "?";
}

std::optional<Metric> ParseMetric(std::string_view name) {
  for (const auto& x : kMetrics) {
    if (x.name == name) return x.metric;
  }
  return std::nullopt;
}

std::string_view RuleStatusName(RuleStatus s) {
  switch (s) {
    case RuleStatus::kInForce: return "in-force";
    case RuleStatus::kSuperseded: return "superseded";
    case RuleStatus::kRescinded: return "rescinded";
    case RuleStatus::kReported: return "reported";
  }
  return "?";
}

std::optional<RuleSet> BuildRuleSet(Record& rec, const std::string& file, std::vector<Diagnostic>& diags) {
  const std::size_t before = diags.size();
  RuleSet r;
  r.id = rec.String("id");
  r.name = rec.String("name");
  r.citation = rec.String("citation");
  r.effective = rec.String("effective");
  const std::string status = rec.String("status");
  r.status = status == "superseded" ? RuleStatus::kSuperseded
             : status == "rescinded" ? RuleStatus::kRescinded
             : status == "reported"  ? RuleStatus::kReported
                                     : RuleStatus::kInForce;
  r.applies_to = rec.String("applies_to", "chips") == "hbm" ? RuleScope::kHbm : RuleScope::kChips;
  r.sources = rec.lists["sources"];
  r.notes = rec.String("notes");
  r.file = file;
  const RawNode& cats = *rec.trees["categories"];
  if (!cats.IsSequence() || cats.items.empty()) {
    diags.push_back(cats.At("categories", "expected a non-empty list of categories"));
    return std::nullopt;
  }
  for (std::size_t i = 0; i < cats.items.size(); ++i) {
    const RawNode& n = cats.items[i];
    const std::string path = "categories[" + std::to_string(i) + "]";
    if (!n.IsMap()) {
      diags.push_back(n.At(path, "a category is {id, controlled, when, reason}"));
      continue;
    }
    Category c;
    for (std::size_t k = 0; k < n.keys.size(); ++k) {
      const std::string& key = n.keys[k];
      const RawNode& v = n.items[k];
      if (key == "id" || key == "reason") {
        if (!v.IsScalar()) diags.push_back(v.At(path + "." + key, "expected text"));
        (key == "id" ? c.id : c.reason) = v.scalar;
      } else if (key == "controlled") {
        if (v.IsNull()) continue;
        auto b = ScalarToBool(v, path + ".controlled");
        if (b) c.controlled = *b;
        else diags.insert(diags.end(), b.error().diagnostics.begin(), b.error().diagnostics.end());
      } else if (key == "when") {
        c.when = ParseCondition(v, path + ".when", diags, 0);
      } else {
        const std::string close = DidYouMean(key, {"id", "controlled", "when", "reason"});
        diags.push_back(v.At(path + "." + key, "unknown key '" + key + "'" +
                                                   close));
      }
    }
    if (c.id.empty()) diags.push_back(n.At(path + ".id", "missing required field 'id'"));
    if (c.reason.empty()) diags.push_back(n.At(path + ".reason", "missing required field 'reason'"));
    const bool last = i + 1 == cats.items.size();
    if (last && n.Find("when") != nullptr) {
      diags.push_back(n.At(path + ".when", "the last category is the default and has no 'when'"));
    }
    if (!last && n.Find("when") == nullptr) {
      diags.push_back(n.At(path, "missing field 'when' (only the last category is the default)"));
    }
    r.categories.push_back(std::move(c));
  }
  if (diags.size() != before) return std::nullopt;
  return r;
}

}  // namespace suanli
