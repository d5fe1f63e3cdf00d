// Request lengths, arrival processes and trace files.
#include "suanli/serve/workload.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <numbers>
#include <vector>

namespace suanli {
namespace {

std::string Trimmed(std::string_view s) {
  const auto a = s.find_first_not_of(" \t\r");
  if (a == std::string_view::npos) return {};
  const auto b = s.find_last_not_of(" \t\r");
  return std::string(s.substr(a, b - a + 1));
}

std::optional<double> ParseNumber(std::string_view text) {
  const std::string t = Trimmed(text);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

Error Bad(std::string message) { return Error(Diagnostic{.message = std::move(message)}); }

// Uniform in (0, 1) from 53 random bits: the same on every platform.
double Unit(std::mt19937_64& rng) { return (double(rng() >> 11) + 0.5) * 0x1.0p-53; }

// Standard normal by Box-Muller (written out: std::normal_distribution
// differs between standard libraries).
double Normal(std::mt19937_64& rng) {
  const double u = Unit(rng), v = Unit(rng);
  return std::sqrt(-2 * std::log(u)) * std::cos(2 * std::numbers::pi * v);
}

// Gamma(shape k, scale 1) by Marsaglia and Tsang (2000), with the k < 1 boost.
double Gamma(std::mt19937_64& rng, double k) {
  if (k < 1) return Gamma(rng, k + 1) * std::pow(Unit(rng), 1 / k);
  const double d = k - 1.0 / 3, c = 1 / std::sqrt(9 * d);
  for (;;) {
    double x = 0, v = 0;
    do {
      x = Normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = Unit(rng);
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

int64_t Draw(const LengthDist& d, std::mt19937_64& rng) {
  double v = d.a;
  switch (d.kind) {
    case LengthKind::kFixed: break;
    case LengthKind::kNormal: v = d.a + d.b * Normal(rng); break;
    case LengthKind::kLognormal: {
      // Mean and SD of the tokens: sigma^2 = ln(1 + sd^2/mean^2), mu = ln(mean) - sigma^2/2.
      const double s2 = std::log1p((d.b * d.b) / (d.a * d.a));
      v = std::exp(std::log(d.a) - s2 / 2 + std::sqrt(s2) * Normal(rng));
      break;
    }
    case LengthKind::kUniform: v = d.a + (d.b - d.a) * Unit(rng); break;
    case LengthKind::kExponential: v = -d.a * std::log(Unit(rng)); break;
  }
  return int64_t(std::llround(std::clamp(v, std::max(1.0, d.min), d.max)));
}

class Generator final : public RequestSource {
 public:
  explicit Generator(const GeneratedWorkload& w) : w_(w), rng_(w.seed) {}
  Result<std::optional<Request>> Next() override {
    if (issued_ >= w_.requests) return std::optional<Request>{};
    ++issued_;
    Request r;
    switch (w_.load.kind) {
      case ArrivalKind::kPoisson: clock_ += -std::log(Unit(rng_)) / w_.load.rate; break;
      case ArrivalKind::kGamma: {
        // Gaps with mean 1/rate and coefficient of variation cv: shape 1/cv^2.
        const double k = 1 / (w_.load.cv * w_.load.cv);
        clock_ += Gamma(rng_, k) / (k * w_.load.rate);
        break;
      }
      case ArrivalKind::kClosedLoop:
      case ArrivalKind::kOffline: break;
    }
    r.arrival = clock_;
    r.input = Draw(w_.input, rng_);
    r.output = Draw(w_.output, rng_);
    return std::optional<Request>(r);
  }
  [[nodiscard]] bool closed_loop() const override { return w_.load.kind == ArrivalKind::kClosedLoop; }
  [[nodiscard]] int64_t concurrency() const override { return w_.load.concurrency; }

 private:
  GeneratedWorkload w_;
  std::mt19937_64 rng_;
  int64_t issued_ = 0;
  double clock_ = 0;
};

// Trace rows: CSV (header names the columns) or JSONL (flat objects of numbers).
class Trace final : public RequestSource {
 public:
  Trace(std::string path, std::ifstream in, bool jsonl, double scale)
      : path_(std::move(path)), in_(std::move(in)), jsonl_(jsonl), scale_(scale) {}

  Status ReadHeader() {
    if (jsonl_) return Ok{};
    std::string line;
    while (std::getline(in_, line)) {
      ++line_no_;
      if (!Trimmed(line).empty()) break;
    }
    if (Trimmed(line).empty()) return Fail(1, "", "the trace is empty: expected a header (arrival_s,input_tokens,output_tokens)");
    std::size_t start = 0;
    for (int col = 0; start <= line.size(); ++col) {
      const std::size_t comma = std::min(line.find(',', start), line.size());
      const std::string name = Trimmed(std::string_view(line).substr(start, comma - start));
      const int column = int(start) + 1;
      if (name == "arrival_s") {
        arrival_col_ = col;
      } else if (name == "input_tokens") {
        input_col_ = col;
      } else if (name == "output_tokens") {
        output_col_ = col;
      } else if (name == "prefix_id") {
        prefix_id_col_ = col;
      } else if (name == "prefix_tokens") {
        prefix_tokens_col_ = col;
      } else {
        return Fail(column, name, "unknown column '" + name +
                                      "' (columns: arrival_s, input_tokens, output_tokens, prefix_id, prefix_tokens)");
      }
      columns_ = col + 1;
      start = comma + 1;
    }
    for (auto [col, name] : {std::pair{arrival_col_, "arrival_s"}, std::pair{input_col_, "input_tokens"},
                             std::pair{output_col_, "output_tokens"}}) {
      if (col < 0) return Fail(1, name, std::string("the header has no column ") + name);
    }
    return Ok{};
  }

  Result<std::optional<Request>> Next() override {
    std::string line;
    while (std::getline(in_, line)) {
      ++line_no_;
      if (Trimmed(line).empty()) continue;
      auto r = jsonl_ ? ParseJson(line) : ParseCsv(line);
      if (!r) return std::move(r).error();
      if (r->arrival < last_arrival_) {
        return Fail(1, "arrival_s", "arrivals must not decrease: " + std::to_string(r->arrival) + " s after " +
                                        std::to_string(last_arrival_) + " s");
      }
      last_arrival_ = r->arrival;
      r->arrival *= scale_;
      return std::optional<Request>(*r);
    }
    if (in_.bad()) return Fail(0, "", "could not read the trace");
    return std::optional<Request>{};
  }

 private:
  Error Fail(int column, std::string key, std::string message) const {
    return Error(Diagnostic{.file = path_, .line = line_no_, .column = column, .key_path = std::move(key),
                            .message = std::move(message)});
  }

  // One field's value, checked: a number, a whole one for token counts, in range.
  Result<double> Field(std::string_view text, int column, std::string_view key) const {
    const auto v = ParseNumber(text);
    const std::string k(key);
    if (!v) return Fail(column, k, "expected a number, found '" + Trimmed(text).substr(0, 40) + "'");
    if (k == "arrival_s") {
      if (*v < 0) return Fail(column, k, "must be at least 0, found " + Trimmed(text));
      return *v;
    }
    if (*v != std::floor(*v)) return Fail(column, k, "expected a whole number, found " + Trimmed(text));
    const double lo = (k == "prefix_id" ? -1 : k == "prefix_tokens" ? 0 : 1);
    if (*v < lo || *v > 4294967296.0) {
      return Fail(column, k, "must be between " + std::to_string(int64_t(lo)) + " and 2^32, found " + Trimmed(text));
    }
    return *v;
  }

  Result<Request> Finish(Request r, int prefix_column) const {
    if (r.prefix_tokens > r.input) {
      return Fail(prefix_column, "prefix_tokens", "the prefix (" + std::to_string(r.prefix_tokens) +
                                                      " tokens) is longer than the prompt (" + std::to_string(r.input) + ")");
    }
    return r;
  }

  Result<Request> ParseCsv(const std::string& line) const {
    Request r;
    std::size_t start = 0;
    int col = 0;
    int prefix_column = 1;
    for (; start <= line.size(); ++col) {
      const std::size_t comma = std::min(line.find(',', start), line.size());
      const std::string_view cell = std::string_view(line).substr(start, comma - start);
      const int column = int(start) + 1;
      if (col >= columns_) return Fail(column, "", "more columns than the header's " + std::to_string(columns_));
      std::string_view key = col == arrival_col_ ? "arrival_s" : col == input_col_ ? "input_tokens"
                             : col == output_col_ ? "output_tokens" : col == prefix_id_col_ ? "prefix_id" : "prefix_tokens";
      auto v = Field(cell, column, key);
      if (!v) return std::move(v).error();
      if (col == arrival_col_) r.arrival = *v;
      if (col == input_col_) r.input = int64_t(*v);
      if (col == output_col_) r.output = int64_t(*v);
      if (col == prefix_id_col_) r.prefix_id = int64_t(*v);
      if (col == prefix_tokens_col_) {
        r.prefix_tokens = int64_t(*v);
        prefix_column = column;
      }
      start = comma + 1;
    }
    if (col < columns_) return Fail(int(line.size()) + 1, "", "expected " + std::to_string(columns_) + " columns, found " + std::to_string(col));
    return Finish(r, prefix_column);
  }

  // A flat JSON object of numbers: {"arrival_s": 0.5, "input_tokens": 100, ...}.
  Result<Request> ParseJson(const std::string& line) const {
    Request r;
    bool seen[5] = {};
    int prefix_column = 1;
    std::size_t i = line.find_first_not_of(" \t\r");
    if (i == std::string::npos || line[i] != '{') return Fail(int(i) + 1, "", "expected a JSON object");
    ++i;
    auto skip = [&] {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    };
    for (;;) {
      skip();
      if (i < line.size() && line[i] == '}') break;
      if (i >= line.size() || line[i] != '"') return Fail(int(i) + 1, "", "expected a quoted key or '}'");
      const std::size_t close = line.find('"', i + 1);
      if (close == std::string::npos) return Fail(int(i) + 1, "", "unterminated key");
      const std::string key = line.substr(i + 1, close - i - 1);
      i = close + 1;
      skip();
      if (i >= line.size() || line[i] != ':') return Fail(int(i) + 1, key, "expected ':'");
      ++i;
      skip();
      const int column = int(i) + 1;
      const std::size_t end = std::min(line.find_first_of(",}", i), line.size());
      static constexpr std::string_view kKeys[] = {"arrival_s", "input_tokens", "output_tokens", "prefix_id", "prefix_tokens"};
      const auto* k = std::find(std::begin(kKeys), std::end(kKeys), key);
      if (k == std::end(kKeys)) {
        return Fail(column, key, "unknown key '" + key + "' (keys: arrival_s, input_tokens, output_tokens, prefix_id, prefix_tokens)");
      }
      auto v = Field(std::string_view(line).substr(i, end - i), column, key);
      if (!v) return std::move(v).error();
      const int idx = int(k - std::begin(kKeys));
      seen[idx] = true;
      switch (idx) {
        case 0: r.arrival = *v; break;
        case 1: r.input = int64_t(*v); break;
        case 2: r.output = int64_t(*v); break;
        case 3: r.prefix_id = int64_t(*v); break;
        default: r.prefix_tokens = int64_t(*v); prefix_column = column; break;
      }
      i = end;
      if (i < line.size() && line[i] == ',') ++i;
      if (i >= line.size()) return Fail(int(i) + 1, "", "expected '}' at the end of the object");
    }
    for (int idx = 0; idx < 3; ++idx) {
      static constexpr const char* kNeed[] = {"arrival_s", "input_tokens", "output_tokens"};
      if (!seen[idx]) return Fail(1, kNeed[idx], std::string("the row has no ") + kNeed[idx]);
    }
    return Finish(r, prefix_column);
  }

  std::string path_;
  std::ifstream in_;
  bool jsonl_ = false;
  double scale_ = 1;
  int line_no_ = 0;
  int columns_ = 0;
  int arrival_col_ = -1, input_col_ = -1, output_col_ = -1, prefix_id_col_ = -1, prefix_tokens_col_ = -1;
  double last_arrival_ = 0;
};

}  // namespace

double LengthDist::Mean() const {
  switch (kind) {
    case LengthKind::kUniform: return (a + b) / 2;
    default: return a;
  }
}

Result<LengthDist> ParseLengthDist(std::string_view text) {
  const std::string t = Trimmed(text);
  LengthDist d;
  const auto colon = t.find(':');
  if (colon == std::string::npos) {
    const auto v = ParseNumber(t);
    if (!v || *v != std::floor(*v) || *v < 1 || *v > d.max) {
      return Bad("expected a token count of at least 1, or normal:MEAN,SD, lognormal:MEAN,SD, uniform:MIN,MAX or exp:MEAN; found '" + t + "'");
    }
    d.a = *v;
    return d;
  }
  const std::string kind = t.substr(0, colon);
  int want = 2;
  if (kind == "normal") {
    d.kind = LengthKind::kNormal;
  } else if (kind == "lognormal") {
    d.kind = LengthKind::kLognormal;
  } else if (kind == "uniform") {
    d.kind = LengthKind::kUniform;
  } else if (kind == "exp") {
    d.kind = LengthKind::kExponential;
    want = 1;
  } else {
    return Bad("unknown distribution '" + kind + "' (normal, lognormal, uniform or exp)");
  }
  std::vector<double> params;
  std::string rest = t.substr(colon + 1);
  std::size_t start = 0;
  while (start <= rest.size()) {
    const std::size_t comma = std::min(rest.find(',', start), rest.size());
    const std::string item = Trimmed(std::string_view(rest).substr(start, comma - start));
    start = comma + 1;
    if (item.starts_with("min=") || item.starts_with("max=")) {
      const auto v = ParseNumber(item.substr(4));
      if (!v || *v < 1 || *v > 4294967296.0) return Bad("'" + item + "': a bound must be a token count of at least 1");
      (item[1] == 'i' ? d.min : d.max) = *v;
      continue;
    }
    const auto v = ParseNumber(item);
    if (!v) return Bad("'" + item + "' in '" + t + "' is not a number");
    params.push_back(*v);
  }
  if (int(params.size()) != want) {
    return Bad(kind + " takes " + std::to_string(want) + (want == 1 ? " parameter" : " parameters") + ", found " +
               std::to_string(params.size()) + " in '" + t + "'");
  }
  d.a = params[0];
  d.b = want > 1 ? params[1] : 0;
  if (d.kind == LengthKind::kUniform) {
    if (d.a < 1 || d.b < d.a) return Bad("uniform:MIN,MAX needs 1 <= MIN <= MAX, found '" + t + "'");
  } else if (d.a < 1 || d.a > 4294967296.0) {
    return Bad("the mean must be between 1 and 2^32 tokens, found '" + t + "'");
  } else if (d.b < 0) {
    return Bad("the standard deviation must not be negative, found '" + t + "'");
  }
  if (d.min > d.max) return Bad("min exceeds max in '" + t + "'");
  return d;
}

std::unique_ptr<RequestSource> MakeGenerator(const GeneratedWorkload& w) { return std::make_unique<Generator>(w); }

Result<std::unique_ptr<RequestSource>> OpenTrace(const std::string& path, double time_scale) {
  std::ifstream in(path);
  if (!in) return Error::NotFound(Diagnostic{.file = path, .message = "cannot open the trace file"});
  bool jsonl = path.ends_with(".jsonl") || path.ends_with(".json");
  if (!path.ends_with(".csv") && !jsonl) {
    const int c = in.peek();
    jsonl = c == '{';
  }
  auto t = std::make_unique<Trace>(path, std::move(in), jsonl, time_scale);
  if (auto ok = t->ReadHeader(); !ok) return std::move(ok).error();
  return std::unique_ptr<RequestSource>(std::move(t));
}

}  // namespace suanli
