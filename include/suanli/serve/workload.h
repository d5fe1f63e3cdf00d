// What a serving simulation is fed: requests (arrival time, prompt and output
// lengths, an optional shared prefix) from fixed lengths, length
// distributions or a trace file, arriving as a Poisson or gamma process, in a
// closed loop, or all at once.
//
// A RequestSource yields requests in arrival order, one at a time: a trace of
// ten million rows is read line by line, never held whole. Generated
// workloads draw from one seeded generator (std::mt19937_64 with the
// distributions written out here, not the standard library's, whose output
// differs between implementations), so a seed gives the same requests on
// every machine and thread count.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "suanli/core/result.h"

namespace suanli {

enum class LengthKind { kFixed, kNormal, kLognormal, kUniform, kExponential };

// A token count: fixed, or drawn and rounded, within [min, max] (at least 1).
struct LengthDist {
  LengthKind kind = LengthKind::kFixed;
  double a = 0;  // fixed value; normal and lognormal mean; uniform min; exponential mean
  double b = 0;  // normal and lognormal standard deviation (of the tokens, not of their log); uniform max
  double min = 1;
  double max = 4294967296.0;
  [[nodiscard]] double Mean() const;  // of the unbounded distribution (the fixed value, ...)
};

// "2048", "normal:MEAN,SD", "lognormal:MEAN,SD", "uniform:MIN,MAX",
// "exp:MEAN", each with an optional ",min=A,max=B". Errors name no field
// (the caller adds it).
Result<LengthDist> ParseLengthDist(std::string_view text);

enum class ArrivalKind { kPoisson, kGamma, kClosedLoop, kOffline };

struct LoadSpec {
  ArrivalKind kind = ArrivalKind::kOffline;
  double rate = 0;          // requests/s (Poisson, gamma)
  double cv = 1;            // gamma: coefficient of variation of the gaps (1 = Poisson)
  int64_t concurrency = 0;  // closed loop: requests kept in flight
};

struct Request {
  double arrival = 0;   // s (closed loop: set when issued)
  int64_t input = 0;    // prompt tokens
  int64_t output = 0;   // tokens to generate
  int64_t prefix_id = -1;      // a shared prefix (trace), -1 = none
  int64_t prefix_tokens = 0;   // its length, at most `input`
};

// Requests in arrival order.
class RequestSource {
 public:
  virtual ~RequestSource() = default;
  // The next request; nullopt when there are no more; an Error for a bad trace row.
  virtual Result<std::optional<Request>> Next() = 0;
  // Closed loop: requests are issued when earlier ones finish (arrival set by the caller).
  [[nodiscard]] virtual bool closed_loop() const { return false; }
  [[nodiscard]] virtual int64_t concurrency() const { return 0; }  // closed loop: requests kept in flight
};

struct GeneratedWorkload {
  LengthDist input;
  LengthDist output;
  LoadSpec load;
  int64_t requests = 1000;
  uint64_t seed = 1;
};
std::unique_ptr<RequestSource> MakeGenerator(const GeneratedWorkload& w);

// A trace file: CSV with a header (arrival_s, input_tokens, output_tokens,
// and optionally prefix_id, prefix_tokens) or JSONL with the same keys (one
// object per line). The format is read from the extension (.csv, .jsonl) or,
// failing that, from the first character. Arrivals must not decrease. Rows
// are read on demand; a bad row is an Error at file:line:column naming the
// field. `time_scale` multiplies every arrival (to replay a trace faster).
Result<std::unique_ptr<RequestSource>> OpenTrace(const std::string& path, double time_scale = 1);

}  // namespace suanli
