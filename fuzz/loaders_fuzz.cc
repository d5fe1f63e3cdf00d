// libFuzzer target: any bytes fed to the catalog loaders (YAML record
// validation for every record type, rule-set parsing) and to the Hugging Face
// config.json importer. The loaders must return errors, never crash, and the
// model arithmetic must stay finite and non-negative for accepted configs,
// and so must inference and training estimates of any accepted model (on a
// fixed H100-like device, under a few plans chosen from the input's bytes).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "model/model_import.h"
#include "catalog/record.h"
#include "catalog/rules_parse.h"
#include "suanli/infer/infer.h"
#include "suanli/model/model.h"
#include "suanli/train/train.h"

namespace {

void CheckModel(const suanli::ModelArch& m) {
  const suanli::ParamCount p = suanli::CountParams(m);
  const double kv = suanli::KvValuesForContext(m, 4096);
  if (!std::isfinite(p.total) || !std::isfinite(p.active) || p.total < 0 || p.active < 0 || p.active > p.total * 1.0000001 ||
      !std::isfinite(kv) || kv < 0) {
    std::abort();
  }
}

const suanli::Cluster& FuzzCluster() {
  static const suanli::Cluster cluster = [] {
    using namespace suanli;
    Cluster c;
    Device& d = c.device;
    d.chip_id = "fuzz";
    d.peak[static_cast<int>(Dtype::kBf16)] = OpsPerSecond(989e12);
    d.peak[static_cast<int>(Dtype::kFp16)] = OpsPerSecond(989e12);
    d.peak[static_cast<int>(Dtype::kFp8)] = OpsPerSecond(1979e12);
    d.memory_bandwidth = BytesPerSecond(3.35e12);
    d.memory_capacity = Bytes(80e9);
    d.gemm_efficiency = d.gemm_efficiency_fp8 = 0.7;
    d.attention_efficiency = 0.33;
    d.memory_efficiency = d.decode_attention_efficiency = 0.9;
    d.reserved_bytes = Bytes(1e9);
    d.reserved_fraction = 0.05;
    d.allreduce_efficiency = 1.0;
    d.collective_latency = Seconds(40e-6);
    d.scale_out_efficiency = 0.8;
    d.kernel_overhead = Seconds(5e-6);
    d.step_overhead = Seconds(3e-4);
    d.host_op_overhead = Seconds(15e-6);
    d.overlap_slowdown = 0.19;
    c.topology.scale_up_domain = 8;
    c.topology.scale_up_bandwidth = BytesPerSecond(450e9);
    c.topology.scale_out_bandwidth = BytesPerSecond(50e9);
    c.chips_per_node = 8;
    c.host_dispatch = d.host_op_overhead;
    return c;
  }();
  return cluster;
}

bool Finite(double v) { return std::isfinite(v) && v >= 0; }

void CheckEstimates(const suanli::ModelArch& m, const uint8_t* data, size_t size) {
  const uint8_t a = size > 1 ? data[1] : 0, b = size > 2 ? data[2] : 0;
  suanli::InferenceRequest r;
  r.stack = suanli::ServingStack{.id = "fuzz", .max_num_tokens = 8192, .expert_imbalance = 1.15, .fused_residual_norm = true};
  r.workload.input_tokens = 1 + (a % 64) * 97;
  r.workload.output_tokens = 1 + (b % 32) * 31;
  r.workload.batch = 1 + (a >> 4);
  r.plan.tp = 1 << (b % 4);
  r.workload.mode = static_cast<suanli::BatchMode>(a % 4);
  if (auto e = suanli::EstimateInference(FuzzCluster(), m, r)) {
    if (!Finite(e->ttft_s) || !Finite(e->tpot_s) || !Finite(e->output_tokens_per_s) || !Finite(e->memory.total)) {
      std::abort();
    }
  }
  suanli::TrainRequest t;
  t.stack = suanli::TrainingStack{.id = "fuzz", .expert_imbalance = 1.15, .fused_residual_norm = false};
  t.devices = 8;
  t.seq_len = 128 << (a % 4);
  t.global_batch = 16;
  t.plan.tp = 1 << (b % 4);
  t.plan.dp = int(8 / t.plan.tp);
  t.plan.recompute = static_cast<suanli::Recompute>(b % 3);
  if (auto e = suanli::EstimateTraining(FuzzCluster(), m, t)) {
    if (!Finite(e->step_time_s) || e->step_time_s <= 0 || !Finite(e->memory.total) || !Finite(e->mfu)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The first byte picks the reader, the rest is the document.
  const bool as_json = size > 0 && (data[0] & 1) != 0;
  auto node = as_json ? suanli::ParseJson(text, "fuzz.json") : suanli::ParseYaml(text, "fuzz.yaml");
  if (!node) return 0;
  std::vector<suanli::Diagnostic> diags;
  for (auto kind : {suanli::RecordKind::kChip, suanli::RecordKind::kSystem, suanli::RecordKind::kModel,
                    suanli::RecordKind::kRuleSet, suanli::RecordKind::kSource}) {
    suanli::Record rec;
    diags.clear();
    suanli::ValidateRecord(*node, suanli::SchemaFor(kind), "", rec, diags);
    if (kind == suanli::RecordKind::kRuleSet && diags.empty()) {
      (void)suanli::BuildRuleSet(rec, "fuzz.yaml", diags);
    }
  }
  auto arch = suanli::ImportHfConfig(*node, "");
  if (arch) {
    CheckModel(*arch);
    CheckEstimates(*arch, data, size);
  }
  return 0;
}
