// Reading a fleet scenario file (fleet.h; the format is docs/fleet-model.md).
// Every problem is collected with its file, line and key path.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>

#include "catalog/raw_node.h"
#include "suanli/catalog/market.h"
#include "suanli/core/text.h"
#include "suanli/econ/fleet.h"

namespace suanli {
namespace {

constexpr int kMaxPeriods = 120;
constexpr double kMaxTokensPerS = 1e15;  // a serving demand's output tokens/s, however it is given
constexpr std::size_t kMaxItems = 1000;  // candidates, demands, sites, events

bool LeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

class Reader {
 public:
  explicit Reader(std::vector<Diagnostic>& diags) : diags_(diags) {}

  void Error(const RawNode& n, const std::string& path, const std::string& message) { diags_.push_back(n.At(path, message)); }

  // Every key of `n` must be one of `allowed`.
  bool Keys(const RawNode& n, const std::string& path, std::initializer_list<std::string_view> allowed) {
    if (!n.IsMap()) {
      Error(n, path, "expected a map, found " + std::string(n.KindName()));
      return false;
    }
    std::vector<std::string> names(allowed.begin(), allowed.end());
    for (std::size_t i = 0; i < n.keys.size(); ++i) {
      if (std::find(names.begin(), names.end(), n.keys[i]) == names.end()) {
        Error(n.items[i], Join(path, n.keys[i]), "unknown key '" + n.keys[i] + "'" + DidYouMean(n.keys[i], names));
      }
    }
    return true;
  }

  static std::string Join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

  std::optional<std::string> Text(const RawNode& map, const std::string& path, std::string_view key, bool required) {
    const RawNode* v = map.Find(key);
    if (v == nullptr || v->IsNull()) {
      if (required) Error(map, Join(path, key), "missing required key '" + std::string(key) + "'");
      return std::nullopt;
    }
    if (!v->IsScalar() || v->scalar.empty()) {
      Error(*v, Join(path, key), "expected text, found " + std::string(v->KindName()));
      return std::nullopt;
    }
    return v->scalar;
  }

  std::optional<double> NumberAt(const RawNode& v, const std::string& path, double lo, double hi) {
    if (!v.IsScalar() || v.quoted) {
      Error(v, path, "expected a number, found " + std::string(v.KindName()));
      return std::nullopt;
    }
    char* end = nullptr;
    const double x = std::strtod(v.scalar.c_str(), &end);
    if (end == v.scalar.c_str() || *end != '\0' || !std::isfinite(x)) {
      Error(v, path, "expected a number, found '" + v.scalar + "'");
      return std::nullopt;
    }
    if (x < lo || x > hi) {
      Error(v, path, fmt::format("must be between {:g} and {:g}, found '{}'", lo, hi, v.scalar));
      return std::nullopt;
    }
    return x;
  }

  std::optional<double> Number(const RawNode& map, const std::string& path, std::string_view key, bool required,
                               double lo, double hi) {
    const RawNode* v = map.Find(key);
    if (v == nullptr || v->IsNull()) {
      if (required) Error(map, Join(path, key), "missing required key '" + std::string(key) + "'");
      return std::nullopt;
    }
    return NumberAt(*v, Join(path, key), lo, hi);
  }

  // A count (tokens, devices, sequences): a number with no fraction.
  std::optional<double> Whole(const RawNode& map, const std::string& path, std::string_view key, bool required, double lo,
                              double hi) {
    auto x = Number(map, path, key, required, lo, hi);
    if (x && *x != std::floor(*x)) {
      Error(*map.Find(key), Join(path, key), "expected a whole number, found '" + map.Find(key)->scalar + "'");
      return std::nullopt;
    }
    return x;
  }

  std::vector<std::string> TextList(const RawNode& map, const std::string& path, std::string_view key) {
    std::vector<std::string> out;
    const RawNode* v = map.Find(key);
    if (v == nullptr || v->IsNull()) return out;
    if (!v->IsSequence()) {
      Error(*v, Join(path, key), "expected a list, found " + std::string(v->KindName()));
      return out;
    }
    for (std::size_t i = 0; i < v->items.size(); ++i) {
      if (!v->items[i].IsScalar()) {
        Error(v->items[i], fmt::format("{}[{}]", Join(path, key), i), "expected text");
      } else {
        out.push_back(v->items[i].scalar);
      }
    }
    return out;
  }

  // A number for every period, or a map from period labels to numbers (absent periods: `fallback`).
  std::vector<double> PerPeriod(const RawNode& map, const std::string& path, std::string_view key,
                                const std::vector<FleetPeriod>& periods, double fallback, double lo, double hi,
                                bool required) {
    std::vector<double> out(periods.size(), fallback);
    const RawNode* v = map.Find(key);
    if (v == nullptr || v->IsNull()) {
      if (required) Error(map, Join(path, key), "missing required key '" + std::string(key) + "'");
      return out;
    }
    if (v->IsScalar()) {
      if (auto x = NumberAt(*v, Join(path, key), lo, hi)) std::fill(out.begin(), out.end(), *x);
      return out;
    }
    if (!v->IsMap()) {
      Error(*v, Join(path, key), "expected a number or a map of periods to numbers");
      return out;
    }
    std::vector<std::string> labels;
    for (const auto& p : periods) labels.push_back(p.label);
    for (std::size_t i = 0; i < v->keys.size(); ++i) {
      const auto it = std::find(labels.begin(), labels.end(), v->keys[i]);
      const std::string sub = Join(path, key) + "." + v->keys[i];
      if (it == labels.end()) {
        Error(v->items[i], sub, "'" + v->keys[i] + "' is not a period of the scenario" + DidYouMean(v->keys[i], labels));
        continue;
      }
      if (auto x = NumberAt(v->items[i], sub, lo, hi)) out[std::size_t(it - labels.begin())] = *x;
    }
    return out;
  }

  std::optional<int> Period(const RawNode& map, const std::string& path, std::string_view key,
                            const std::vector<FleetPeriod>& periods, bool required) {
    auto label = Text(map, path, key, required);
    if (!label) return std::nullopt;
    for (std::size_t i = 0; i < periods.size(); ++i) {
      if (periods[i].label == *label) return int(i);
    }
    std::vector<std::string> labels;
    for (const auto& p : periods) labels.push_back(p.label);
    Error(*map.Find(key), Join(path, key), "'" + *label + "' is not a period of the scenario" + DidYouMean(*label, labels));
    return std::nullopt;
  }

  // A vendor some catalog chip has (case-insensitive): a name no chip has
  // would cap, govern or shock nothing.
  void Vendor(const Catalog& catalog, const RawNode& at, const std::string& path, const std::string& vendor) {
    std::vector<std::string> vendors;
    for (const auto& c : catalog.chips()) {
      if (EqualsIgnoreCase(c.vendor, vendor)) return;
      if (std::find(vendors.begin(), vendors.end(), c.vendor) == vendors.end()) vendors.push_back(c.vendor);
    }
    Error(at, path, "no chip in the catalog is made by '" + vendor + "'" + DidYouMean(vendor, vendors));
  }

  // The id of the chip (or, with `systems`, the system or chip) that `name`
  // names, aliases included; "" with an error, and the nearest ids, where
  // the catalog has none.
  std::string HardwareId(const Catalog& catalog, const RawNode& at, const std::string& path, const std::string& name, bool systems) {
    if (const System* sys = systems ? catalog.FindSystem(name) : nullptr; sys != nullptr) return sys->id;
    if (const Chip* chip = catalog.FindChip(name); chip != nullptr) return chip->id;
    std::vector<std::string> ids;
    if (systems) {
      for (const auto& x : catalog.systems()) ids.push_back(x.id);
    }
    for (const auto& x : catalog.chips()) ids.push_back(x.id);
    Error(at, path, std::string(systems ? "no system or chip '" : "no chip '") + name + "' in the catalog" + DidYouMean(name, ids));
    return "";
  }

  const RawNode* List(const RawNode& map, const std::string& path, std::string_view key, bool required) {
    const RawNode* v = map.Find(key);
    if (v == nullptr || v->IsNull()) {
      if (required) Error(map, Join(path, key), "missing required key '" + std::string(key) + "'");
      return nullptr;
    }
    if (!v->IsSequence()) {
      Error(*v, Join(path, key), "expected a list, found " + std::string(v->KindName()));
      return nullptr;
    }
    if (v->items.size() > kMaxItems) {
      Error(*v, Join(path, key), fmt::format("at most {} items, found {}", kMaxItems, v->items.size()));
      return nullptr;
    }
    return v;
  }

 private:
  std::vector<Diagnostic>& diags_;
};

// The years a period may fall in: the catalog's prices are dated from 2020
// and its rule sets from 2022; a year 0000 (or 9999) is a typing slip.
constexpr int kFirstYear = 2000;
constexpr int kLastYear = 2100;

// "2025Q1" -> the quarter's dates and hours.
std::optional<FleetPeriod> Quarter(std::string_view label) {
  if (label.size() != 6 || label[4] != 'Q' || label[5] < '1' || label[5] > '4') return std::nullopt;
  int year = 0;
  for (int i = 0; i < 4; ++i) {
    if (label[i] < '0' || label[i] > '9') return std::nullopt;
    year = year * 10 + (label[i] - '0');
  }
  if (year < kFirstYear || year > kLastYear) return std::nullopt;
  const int q = label[5] - '1';
  static constexpr const char* kStart[] = {"01-01", "04-01", "07-01", "10-01"};
  static constexpr const char* kEnd[] = {"03-31", "06-30", "09-30", "12-31"};
  static constexpr int kDays[] = {90, 91, 92, 92};
  const int days = kDays[q] + (q == 0 && LeapYear(year) ? 1 : 0);
  return FleetPeriod{.label = std::string(label), .start = fmt::format("{:04d}-{}", year, kStart[q]),
                     .end = fmt::format("{:04d}-{}", year, kEnd[q]), .hours = days * 24.0};
}

}  // namespace

Result<FleetScenario> LoadScenario(const Catalog& catalog, const std::string& path) {
  auto parsed = ParseFile(path);
  if (!parsed) return std::move(parsed).error();
  const RawNode& root = *parsed;
  std::vector<Diagnostic> diags;
  Reader rd(diags);
  FleetScenario s;
  s.file = path;
  if (!rd.Keys(root, "", {"name", "facility", "objective", "periods", "budget", "sites", "vendor_caps",
                          "export_control", "candidates", "demands", "events", "notes", "price_date"})) {
    return Error(std::move(diags));
  }
  s.name = rd.Text(root, "", "name", true).value_or("");
  s.facility = rd.Text(root, "", "facility", true).value_or("");
  if (!s.facility.empty()) {
    const MarketRecord* f = catalog.FindMarketRecord(s.facility);
    if (f == nullptr || f->kind != RecordKind::kFacility) {
      std::vector<std::string> ids;
      for (const auto& x : catalog.facilities()) ids.push_back(x.id);
      rd.Error(*root.Find("facility"), "facility", "no facility '" + s.facility + "' in catalog/facilities/" + DidYouMean(s.facility, ids));
    }
  }
  if (auto obj = rd.Text(root, "", "objective", false)) {
    if (*obj == "least_cost") {
      s.objective = FleetObjective::kLeastCost;
    } else if (*obj == "most_served") {
      s.objective = FleetObjective::kMostServed;
    } else {
      rd.Error(*root.Find("objective"), "objective", "expected least_cost or most_served, found '" + *obj + "'" +
                                                          DidYouMean(*obj, {"least_cost", "most_served"}));
    }
  }
  // Periods: quarters.
  const std::vector<std::string> labels = rd.TextList(root, "", "periods");
  if (root.Find("periods") == nullptr) rd.Error(root, "periods", "missing required key 'periods' (quarters such as 2025Q1)");
  if (labels.size() > std::size_t(kMaxPeriods)) rd.Error(*root.Find("periods"), "periods", fmt::format("at most {} periods, found {}", kMaxPeriods, labels.size()));
  for (std::size_t i = 0; i < labels.size() && i < std::size_t(kMaxPeriods); ++i) {
    auto q = Quarter(labels[i]);
    const RawNode& at = root.Find("periods")->items[i];
    if (!q) {
      rd.Error(at, fmt::format("periods[{}]", i), fmt::format("expected a quarter YYYYQn of a year from {} to {}, found '{}'", kFirstYear, kLastYear, labels[i]));
    } else if (!s.periods.empty() && q->start <= s.periods.back().start) {
      rd.Error(at, fmt::format("periods[{}]", i), "periods must be in order, each after the one before");
    } else {
      s.periods.push_back(*q);
    }
  }
  if (auto d = rd.Text(root, "", "price_date", false)) {
    if (!IsIsoDate(*d)) rd.Error(*root.Find("price_date"), "price_date", "expected a date YYYY-MM-DD, found '" + *d + "'");
    s.date = *d;
  } else if (!s.periods.empty()) {
    s.date = s.periods.front().start;
  }
  if (const RawNode* b = root.Find("budget"); b != nullptr && rd.Keys(*b, "budget", {"capex_usd", "opex_usd"})) {
    s.capex_budget_usd = rd.Number(*b, "budget", "capex_usd", false, 0, 1e15);
    s.opex_budget_usd = rd.Number(*b, "budget", "opex_usd", false, 0, 1e15);
  }
  if (const RawNode* sites = rd.List(root, "", "sites", false)) {
    // No sites at all would read as no power limit: that is leaving the key out.
    if (sites->items.empty()) rd.Error(*sites, "sites", "an empty list (leave 'sites' out for one site with no power limit)");
    for (std::size_t i = 0; i < sites->items.size(); ++i) {
      const RawNode& n = sites->items[i];
      const std::string p = fmt::format("sites[{}]", i);
      if (!rd.Keys(n, p, {"id", "power_mw", "notes"})) continue;
      FleetSite site;
      site.id = rd.Text(n, p, "id", true).value_or("");
      site.power_w = rd.PerPeriod(n, p, "power_mw", s.periods, -1, 0, 1e6, false);
      for (double& w : site.power_w) w = w < 0 ? -1 : w * 1e6;
      for (const auto& other : s.sites) {
        if (other.id == site.id) rd.Error(n, p + ".id", "duplicate site '" + site.id + "'");
      }
      s.sites.push_back(std::move(site));
    }
  }
  if (s.sites.empty()) s.sites.push_back(FleetSite{.id = "site", .power_w = std::vector<double>(s.periods.size(), -1)});
  if (const RawNode* caps = rd.List(root, "", "vendor_caps", false)) {
    for (std::size_t i = 0; i < caps->items.size(); ++i) {
      const RawNode& n = caps->items[i];
      const std::string p = fmt::format("vendor_caps[{}]", i);
      if (!rd.Keys(n, p, {"vendor", "max_share", "notes"})) continue;
      auto vendor = rd.Text(n, p, "vendor", true);
      auto share = rd.Number(n, p, "max_share", true, 0, 1);
      if (vendor) rd.Vendor(catalog, *n.Find("vendor"), p + ".vendor", *vendor);
      if (vendor && std::any_of(s.vendor_caps.begin(), s.vendor_caps.end(),
                                [&](const auto& cap) { return EqualsIgnoreCase(cap.first, *vendor); })) {
        rd.Error(*n.Find("vendor"), p + ".vendor", "duplicate vendor cap for '" + *vendor + "'");
      } else if (vendor && share) {
        s.vendor_caps[*vendor] = *share;
      }
    }
  }
  if (const RawNode* ec = root.Find("export_control"); ec != nullptr && rd.Keys(*ec, "export_control", {"rules", "vendors", "licences", "notes"})) {
    s.rules = rd.TextList(*ec, "export_control", "rules");
    for (std::size_t i = 0; i < s.rules.size(); ++i) {
      if (catalog.FindRuleSet(s.rules[i]) == nullptr) {
        std::vector<std::string> ids;
        for (const auto& r : catalog.rules()) ids.push_back(r.id);
        rd.Error(ec->Find("rules")->items[i], fmt::format("export_control.rules[{}]", i),
                 "no rule set '" + s.rules[i] + "' in the catalog" + DidYouMean(s.rules[i], ids));
      }
    }
    s.controlled_vendors = rd.TextList(*ec, "export_control", "vendors");
    for (std::size_t i = 0; i < s.controlled_vendors.size(); ++i) {
      rd.Vendor(catalog, ec->Find("vendors")->items[i], fmt::format("export_control.vendors[{}]", i), s.controlled_vendors[i]);
    }
    if (!s.rules.empty() && ec->Find("vendors") == nullptr) {
      rd.Error(*ec, "export_control.vendors", "name the vendors whose chips the rules govern (e.g. [NVIDIA, AMD])");
    }
    if (const RawNode* lic = rd.List(*ec, "export_control", "licences", false)) {
      for (std::size_t i = 0; i < lic->items.size(); ++i) {
        const RawNode& n = lic->items[i];
        const std::string p = fmt::format("export_control.licences[{}]", i);
        if (!rd.Keys(n, p, {"chip", "from", "note"})) continue;
        FleetLicence l;
        l.chip = rd.Text(n, p, "chip", true).value_or("");
        l.from = rd.Text(n, p, "from", true).value_or("");
        l.note = rd.Text(n, p, "note", false).value_or("");
        // By id: an alias licenses the chip the candidates resolve to.
        if (!l.chip.empty()) l.chip = rd.HardwareId(catalog, *n.Find("chip"), p + ".chip", l.chip, false);
        if (!l.from.empty() && !IsIsoDate(l.from)) rd.Error(*n.Find("from"), p + ".from", "expected a date YYYY-MM-DD, found '" + l.from + "'");
        s.licences.push_back(std::move(l));
      }
    }
  }
  std::vector<std::string> site_ids;
  for (const auto& x : s.sites) site_ids.push_back(x.id);
  // Demands first: candidates' stated capacities name them.
  std::vector<std::string> demand_ids;
  if (const RawNode* ds = rd.List(root, "", "demands", true)) {
    for (std::size_t i = 0; i < ds->items.size(); ++i) {
      const RawNode& n = ds->items[i];
      const std::string p = fmt::format("demands[{}]", i);
      if (!rd.Keys(n, p, {"id", "kind", "model", "input_tokens", "output_tokens", "tpot_ms", "ttft_ms", "mtp", "weights", "kv_cache",
                          "output_tokens_per_s", "requests_per_s", "tokens", "start", "deadline", "devices", "seq_len", "global_batch",
                          "memory_headroom", "notes"})) {
        continue;
      }
      FleetDemand d;
      d.line = n.line;
      d.id = rd.Text(n, p, "id", true).value_or("");
      d.model = rd.Text(n, p, "model", true).value_or("");
      if (!d.model.empty() && catalog.FindModel(d.model) == nullptr) {
        std::vector<std::string> ids;
        for (const auto& m : catalog.models()) ids.push_back(m.id);
        rd.Error(*n.Find("model"), p + ".model", "no model '" + d.model + "' in the catalog" + DidYouMean(d.model, ids));
      }
      const std::string kind = rd.Text(n, p, "kind", true).value_or("serving");
      if (kind == "training") {
        d.kind = DemandKind::kTraining;
        d.tokens = rd.Number(n, p, "tokens", true, 1, 1e20).value_or(0);
        d.start = rd.Period(n, p, "start", s.periods, false).value_or(0);
        d.deadline = rd.Period(n, p, "deadline", s.periods, true).value_or(0);
        d.devices = int(rd.Whole(n, p, "devices", true, 1, 1 << 20).value_or(1));
        d.seq_len = int(rd.Whole(n, p, "seq_len", true, 1, 1 << 22).value_or(1));
        d.global_batch = int(rd.Whole(n, p, "global_batch", true, 1, 1 << 24).value_or(1));
        d.memory_headroom = rd.Number(n, p, "memory_headroom", false, 0, 0.9).value_or(0);
        if (d.deadline < d.start) rd.Error(n, p + ".deadline", "the deadline is before the start");
        d.need.assign(s.periods.size(), 0);
        double hours = 0;
        for (int k = d.start; k <= d.deadline && k < int(s.periods.size()); ++k) hours += s.periods[std::size_t(k)].hours;
        for (int k = d.start; k <= d.deadline && k < int(s.periods.size()); ++k) d.need[std::size_t(k)] = d.tokens / (hours * 3600);
        for (std::string_view key : {"input_tokens", "output_tokens", "tpot_ms", "ttft_ms", "mtp", "output_tokens_per_s", "requests_per_s"}) {
          if (n.Find(key) != nullptr) rd.Error(*n.Find(key), p + "." + std::string(key), "is a serving key; this demand is kind training");
        }
      } else if (kind == "serving") {
        d.input_tokens = static_cast<long long>(rd.Whole(n, p, "input_tokens", true, 1, 1e7).value_or(1));
        d.output_tokens = static_cast<long long>(rd.Whole(n, p, "output_tokens", true, 1, 1e7).value_or(1));
        d.tpot_s = rd.Number(n, p, "tpot_ms", false, 0.01, 1e5).value_or(0) / 1e3;
        d.ttft_s = rd.Number(n, p, "ttft_ms", false, 1, 1e7).value_or(0) / 1e3;
        const double mtp = rd.Number(n, p, "mtp", false, 0, 8).value_or(0);
        if (mtp != std::floor(mtp)) rd.Error(*n.Find("mtp"), p + ".mtp", "expected a whole number of draft tokens");
        d.mtp = int(mtp);
        if (d.mtp > 0 && d.tpot_s <= 0) rd.Error(*n.Find("mtp"), p + ".mtp", "needs tpot_ms: only the simulated deployments at an SLA draft tokens");
        if (d.ttft_s > 0 && d.tpot_s <= 0) rd.Error(*n.Find("ttft_ms"), p + ".ttft_ms", "needs tpot_ms: a TTFT SLA bounds the prompt's wait, a TPOT SLA the decode");
        d.weights = rd.Text(n, p, "weights", false).value_or("bf16");
        d.kv_cache = rd.Text(n, p, "kv_cache", false).value_or("bf16");
        for (std::string_view key : {"weights", "kv_cache"}) {
          const std::string v = key == "weights" ? d.weights : d.kv_cache;
          static const std::vector<std::string> kTypes = {"bf16", "fp16", "fp8", "int8", "int4", "fp4"};
          if (std::find(kTypes.begin(), kTypes.end(), v) == kTypes.end()) {
            rd.Error(*n.Find(key), p + "." + std::string(key), "expected bf16, fp16, fp8, int8, int4 or fp4, found '" + v + "'" + DidYouMean(v, kTypes));
          }
        }
        // The demand in output tokens/s, or in requests/s (x output tokens per request).
        if (n.Find("requests_per_s") != nullptr) {
          if (n.Find("output_tokens_per_s") != nullptr) {
            rd.Error(*n.Find("requests_per_s"), p + ".requests_per_s", "give output_tokens_per_s or requests_per_s, not both");
          }
          d.need = rd.PerPeriod(n, p, "requests_per_s", s.periods, 0, 0, 1e12, true);
          for (double& x : d.need) x *= double(d.output_tokens);
          const double most = d.need.empty() ? 0 : *std::max_element(d.need.begin(), d.need.end());
          if (most > kMaxTokensPerS) {
            rd.Error(*n.Find("requests_per_s"), p + ".requests_per_s",
                     fmt::format("times output_tokens is {:.3g} output tokens/s, above output_tokens_per_s's limit of {:g}", most,
                                 kMaxTokensPerS));
          }
        } else {
          d.need = rd.PerPeriod(n, p, "output_tokens_per_s", s.periods, 0, 0, kMaxTokensPerS, true);
        }
        for (std::string_view key : {"tokens", "start", "deadline", "devices", "seq_len", "global_batch", "memory_headroom"}) {
          if (n.Find(key) != nullptr) rd.Error(*n.Find(key), p + "." + std::string(key), "is a training key; this demand is kind serving");
        }
      } else {
        rd.Error(*n.Find("kind"), p + ".kind", "expected serving or training, found '" + kind + "'" + DidYouMean(kind, {"serving", "training"}));
      }
      if (std::find(demand_ids.begin(), demand_ids.end(), d.id) != demand_ids.end()) rd.Error(n, p + ".id", "duplicate demand '" + d.id + "'");
      demand_ids.push_back(d.id);
      s.demands.push_back(std::move(d));
    }
  }
  if (const RawNode* cs = rd.List(root, "", "candidates", true)) {
    std::vector<std::string> candidate_ids;  // what each candidate's system names ("" if nothing)
    for (std::size_t i = 0; i < cs->items.size(); ++i) {
      const RawNode& n = cs->items[i];
      const std::string p = fmt::format("candidates[{}]", i);
      if (!rd.Keys(n, p, {"system", "site", "price_usd_per_node", "supply", "capacity", "deployment_nodes", "notes"})) continue;
      FleetCandidate c;
      c.line = n.line;
      c.system = rd.Text(n, p, "system", true).value_or("");
      // Checked here; ResolveHardware reads the name as written. Two
      // candidates are the same where their names resolve to one id (an
      // alias and the id, say).
      const std::string id = c.system.empty() ? "" : rd.HardwareId(catalog, *n.Find("system"), p + ".system", c.system, true);
      c.site = rd.Text(n, p, "site", false).value_or(s.sites.front().id);
      if (std::find(site_ids.begin(), site_ids.end(), c.site) == site_ids.end()) {
        rd.Error(*n.Find("site"), p + ".site", "no site '" + c.site + "' in sites" + DidYouMean(c.site, site_ids));
      }
      c.price_usd_per_node = rd.Number(n, p, "price_usd_per_node", false, 0, 1e12);
      c.supply = rd.PerPeriod(n, p, "supply", s.periods, -1, 0, 1e9, false);
      // Maps of demand ids: the stated capacity per node, and the nodes one
      // deployment of it takes (allocated in whole deployments).
      auto per_demand = [&](std::string_view key, std::string_view what, double lo, double hi, std::map<std::string, double>& out) {
        const RawNode* map = n.Find(key);
        if (map == nullptr) return;
        if (!map->IsMap()) {
          rd.Error(*map, p + "." + std::string(key), "expected a map of demand ids to " + std::string(what));
          return;
        }
        for (std::size_t k = 0; k < map->keys.size(); ++k) {
          const std::string sub = p + "." + std::string(key) + "." + map->keys[k];
          if (std::find(demand_ids.begin(), demand_ids.end(), map->keys[k]) == demand_ids.end()) {
            rd.Error(map->items[k], sub, "no demand '" + map->keys[k] + "'" + DidYouMean(map->keys[k], demand_ids));
          } else if (auto x = rd.NumberAt(map->items[k], sub, lo, hi)) {
            out[map->keys[k]] = *x;
          }
        }
      };
      per_demand("capacity", "capacity per node", 0, 1e15, c.capacity);
      per_demand("deployment_nodes", "the nodes one deployment takes", 1, 1e6, c.deployment_nodes);
      if (const RawNode* map = n.Find("deployment_nodes"); map != nullptr && map->IsMap()) {
        for (std::size_t k = 0; k < map->keys.size(); ++k) {
          const auto it = c.deployment_nodes.find(map->keys[k]);
          if (it == c.deployment_nodes.end()) continue;
          const std::string sub = p + ".deployment_nodes." + map->keys[k];
          if (it->second != std::floor(it->second)) rd.Error(map->items[k], sub, "expected a whole number of nodes");
          if (!c.capacity.contains(map->keys[k])) {
            rd.Error(map->items[k], sub, "needs a stated capacity for '" + map->keys[k] + "' (the model's plan gives its own deployment size)");
          }
        }
      }
      for (std::size_t j = 0; j < s.candidates.size(); ++j) {
        const FleetCandidate& other = s.candidates[j];
        const bool same_system = other.system == c.system || (!id.empty() && candidate_ids[j] == id);
        if (other.site != c.site || !same_system) continue;
        rd.Error(n, p + ".system", other.system == c.system
                                       ? "candidate '" + c.system + "' at site '" + c.site + "' is listed twice"
                                       : fmt::format("candidate '{}' at site '{}' is candidates[{}] ('{}') again: both name {}", c.system, c.site, j, other.system, id));
      }
      candidate_ids.push_back(id);
      s.candidates.push_back(std::move(c));
    }
  }
  if (const RawNode* es = rd.List(root, "", "events", false)) {
    for (std::size_t i = 0; i < es->items.size(); ++i) {
      const RawNode& n = es->items[i];
      const std::string p = fmt::format("events[{}]", i);
      if (!rd.Keys(n, p, {"vendor", "system", "chip", "from", "supply_factor", "price_factor", "note"})) continue;
      FleetEvent e;
      e.vendor = rd.Text(n, p, "vendor", false).value_or("");
      e.system = rd.Text(n, p, "system", false).value_or("");
      e.chip = rd.Text(n, p, "chip", false).value_or("");
      if (int(!e.vendor.empty()) + int(!e.system.empty()) + int(!e.chip.empty()) != 1) {
        rd.Error(n, p, "an event names exactly one of vendor, system or chip");
      }
      // By the ids the candidates resolve to (aliases included); a name
      // nothing has would shock nothing.
      if (!e.vendor.empty()) rd.Vendor(catalog, *n.Find("vendor"), p + ".vendor", e.vendor);
      if (!e.system.empty()) e.system = rd.HardwareId(catalog, *n.Find("system"), p + ".system", e.system, true);
      if (!e.chip.empty()) e.chip = rd.HardwareId(catalog, *n.Find("chip"), p + ".chip", e.chip, false);
      e.from = rd.Period(n, p, "from", s.periods, true).value_or(0);
      e.supply_factor = rd.Number(n, p, "supply_factor", false, 0, 1e3).value_or(1);
      e.price_factor = rd.Number(n, p, "price_factor", false, 0.001, 1e3).value_or(1);
      e.note = rd.Text(n, p, "note", false).value_or("");
      s.events.push_back(std::move(e));
    }
  }
  if (!diags.empty()) return suanli::Error(std::move(diags));
  // At the empty list's own line when there is one.
  auto at = [&](std::string_view key) -> const RawNode& { return root.Find(key) != nullptr ? *root.Find(key) : root; };
  if (s.periods.empty()) return suanli::Error(at("periods").At("periods", "a scenario needs at least one period"));
  if (s.candidates.empty()) return suanli::Error(at("candidates").At("candidates", "a scenario needs at least one candidate"));
  if (s.demands.empty()) return suanli::Error(at("demands").At("demands", "a scenario needs at least one demand"));
  return s;
}

}  // namespace suanli
