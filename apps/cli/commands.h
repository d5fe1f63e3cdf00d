// One function per subcommand; each returns the process exit code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common.h"
#include "workload.h"

namespace suanli::cli {

struct CatalogListOptions {
  std::string what = "chips";  // chips | systems | models | rules | sources
  bool json = false;
};
int RunCatalogList(const GlobalOptions& global, const CatalogListOptions& options);

struct CatalogShowOptions {
  std::string id;
  bool json = false;
};
int RunCatalogShow(const GlobalOptions& global, const CatalogShowOptions& options);

struct CatalogSchemaOptions {
  std::string what;  // empty: all record types
  bool json = false;
};
int RunCatalogSchema(const CatalogSchemaOptions& options);

struct ClassifyOptions {
  std::string hardware;  // id, file, or "all"
  std::string rules;     // empty: every rule set
  bool json = false;
};
int RunClassify(const GlobalOptions& global, const ClassifyOptions& options);

struct InferOptions {
  std::string hardware;
  WorkloadOptions workload;
  bool json = false;
};
int RunInfer(const GlobalOptions& global, const InferOptions& options);

struct CompareOptions {
  std::string hardware;  // comma-separated ids or files
  WorkloadOptions workload;
  bool json = false;
  bool csv = false;
};
int RunCompare(const GlobalOptions& global, const CompareOptions& options);

struct TrainOptions {
  std::string hardware;
  std::string model;
  int64_t devices = 0;
  std::optional<int> tp, pp, dp, cp, ep, vp, micro_batch, zero;
  int64_t seq_len = 0;
  int64_t global_batch = 0;
  std::string recompute;  // empty: none (searched with --search)
  std::string precision = "bf16";
  std::string optimizer_state = "fp32";
  bool no_sequence_parallel = false;
  bool no_overlap = false;
  bool tp_overlap = false;
  bool no_flash = false;
  bool lora = false;
  double tokens = 0;
  bool search = false;
  int top = 5;
  bool json = false;
};
int RunTrain(const GlobalOptions& global, const TrainOptions& options);

struct ValidateOptions {
  std::string file;
  bool json = false;
};
int RunValidate(const GlobalOptions& global, const ValidateOptions& options);

}  // namespace suanli::cli
