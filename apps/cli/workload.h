// The workload flags `infer` and `compare` share, and the JSON and text
// forms of an inference estimate.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "common.h"
#include "suanli/infer/infer.h"

namespace suanli::cli {

struct WorkloadOptions {
  std::string model;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  std::string batch;        // N or "max"
  std::string concurrency;  // N or "max"
  int tp = 1;
  int pp = 1;
  int ep = 1;
  std::string weights = "bf16";
  std::string activations;  // default: the weights' precision when it is fp8, else bf16
  std::string kv_cache = "bf16";
  bool sparsity = false;  // 2:4 structured-sparse weights
};

void AddWorkloadOptions(CLI::App* cmd, WorkloadOptions& w);

// Validates the flags and builds the request; throws InputError naming the flag.
InferenceRequest MakeRequest(const WorkloadOptions& w);

// Library diagnostics name request fields ("input_tokens"); say the flag instead.
[[noreturn]] void ThrowPlanError(const Error& error);

// The cluster of a resolved chip or system; throws InputError when a figure is missing.
Cluster MakeClusterOrThrow(const Catalog& catalog, const ResolvedHardware& hw);

nlohmann::json EstimateJson(const InferenceEstimate& e);
std::string ModeName(BatchMode m);

}  // namespace suanli::cli
