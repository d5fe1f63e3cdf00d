// suanli: what an AI chip is really worth for LLM workloads.
//
// The CLI only parses flags, calls the library and prints. Every error
// becomes a message on stderr here: exit 2 for bad input, 1 for a bug.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "commands.h"

namespace {

int Run(int argc, char** argv) {
  using namespace suanli::cli;
  CLI::App app{"suanli - what an AI chip is really worth for LLM workloads", "suanli"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "suanli 0.1.0");
  GlobalOptions global;
  app.add_option("--catalog", global.catalog_dir, "Catalog directory (default: $SUANLI_CATALOG or the built-in one)");
  int code = 0;

  auto* catalog = app.add_subcommand("catalog", "List, show and describe catalog records");
  catalog->require_subcommand(1);
  CatalogListOptions list;
  auto* list_cmd = catalog->add_subcommand("list", "List chips, systems, models, rules or sources");
  list_cmd->add_option("what", list.what, "chips | systems | models | rules | sources | profiles")
      ->check(CLI::IsMember({"chips", "systems", "models", "rules", "sources", "profiles"}));
  list_cmd->add_flag("--json", list.json, "Print one JSON object");
  list_cmd->callback([&] { code = RunCatalogList(global, list); });

  CatalogShowOptions show;
  auto* show_cmd = catalog->add_subcommand("show", "Every field of one record, with its source");
  show_cmd->add_option("id", show.id, "Chip, system, model, rule set, profile or source id")->required();
  show_cmd->add_flag("--json", show.json, "Print one JSON object");
  show_cmd->callback([&] { code = RunCatalogShow(global, show); });

  CatalogSchemaOptions schema;
  auto* schema_cmd = catalog->add_subcommand("schema", "The field tables: key, unit, required, default, description");
  schema_cmd->add_option("what", schema.what, "chips | systems | models | rules | sources | profiles (default: all)");
  schema_cmd->add_flag("--json", schema.json, "Print one JSON object");
  schema_cmd->callback([&] { code = RunCatalogSchema(schema); });

  ClassifyOptions classify;
  auto* classify_cmd = app.add_subcommand("classify", "Export-control classification: TPP, PD, category, headroom");
  classify_cmd->add_option("--hardware", classify.hardware, "Chip or system id, chip file, or 'all'")->required();
  classify_cmd->add_option("--rules", classify.rules, "Rule set id(s), comma-separated (default: all)");
  classify_cmd->add_flag("--json", classify.json, "Print one JSON object");
  classify_cmd->callback([&] { code = RunClassify(global, classify); });

  InferOptions infer;
  auto* infer_cmd = app.add_subcommand("infer", "Inference: TTFT, TPOT, throughput and memory of one deployment");
  infer_cmd->add_option("--hardware", infer.hardware, "Chip or system id, or chip file")->required();
  AddWorkloadOptions(infer_cmd, infer.workload);
  infer_cmd->add_flag("--json", infer.json, "Print one JSON object");
  infer_cmd->callback([&] { code = RunInfer(global, infer); });

  CompareOptions compare;
  auto* compare_cmd = app.add_subcommand("compare", "One inference workload on several chips or systems, side by side");
  compare_cmd->add_option("--hardware", compare.hardware, "Comma-separated chip or system ids or chip files")->required();
  AddWorkloadOptions(compare_cmd, compare.workload);
  auto* cj = compare_cmd->add_flag("--json", compare.json, "Print one JSON object");
  auto* cc = compare_cmd->add_flag("--csv", compare.csv, "Print CSV");
  cj->excludes(cc);
  compare_cmd->callback([&] { code = RunCompare(global, compare); });

  TrainOptions train;
  auto* train_cmd = app.add_subcommand("train", "Training: step time, MFU, memory per device, time-to-train; --search for the best plans");
  train_cmd->add_option("--hardware", train.hardware, "Chip or system id, or chip file (a chip gets 8-chip nodes)")->required();
  train_cmd->add_option("--model", train.model, "Model id, catalog model file or Hugging Face config.json")->required();
  train_cmd->add_option("--devices", train.devices, "Number of devices")->required();
  train_cmd->add_option("--tp", train.tp, "Tensor parallelism");
  train_cmd->add_option("--pp", train.pp, "Pipeline parallelism");
  train_cmd->add_option("--dp", train.dp, "Data parallelism (default: devices / (tp x pp x cp))");
  train_cmd->add_option("--cp", train.cp, "Context parallelism");
  train_cmd->add_option("--ep", train.ep, "Expert parallelism (MoE; within dp)");
  train_cmd->add_option("--vp", train.vp, "Virtual pipeline stages (interleaved 1F1B)");
  train_cmd->add_option("--seq-len", train.seq_len, "Sequence length")->required();
  train_cmd->add_option("--global-batch", train.global_batch, "Sequences per step")->required();
  train_cmd->add_option("--micro-batch", train.micro_batch, "Sequences per micro-batch (default 1)");
  train_cmd->add_option("--recompute", train.recompute, "none | selective | full (default none)");
  train_cmd->add_option("--precision", train.precision, "bf16 | fp16 | fp8 (default bf16)");
  train_cmd->add_option("--optimizer-state", train.optimizer_state,
                        "fp32 | bf16: master weights and Adam moments (default fp32)");
  train_cmd->add_option("--zero", train.zero, "ZeRO stage 0-3 (default 1: distributed optimizer)");
  train_cmd->add_flag("--no-sequence-parallel", train.no_sequence_parallel, "Do not shard norms and dropout over tp");
  train_cmd->add_flag("--no-overlap", train.no_overlap, "Do not overlap the data-parallel reduction with backward");
  train_cmd->add_flag("--tp-overlap", train.tp_overlap, "Overlap tensor-parallel collectives with GEMMs (Megatron-Core userbuffers)");
  train_cmd->add_flag("--no-flash", train.no_flash, "Materialise attention scores (Megatron before 2022)");
  train_cmd->add_flag("--lora", train.lora, "Fine-tune low-rank adapters: base weights frozen");
  train_cmd->add_option("--tokens", train.tokens, "Training tokens: adds time-to-train, device-hours and energy");
  train_cmd->add_flag("--search", train.search, "Search every parallel setting left out; rank the plans that fit");
  train_cmd->add_option("--top", train.top, "Plans to show with --search (default 5)");
  train_cmd->add_flag("--json", train.json, "Print one JSON object");
  train_cmd->callback([&] { code = RunTrain(global, train); });

  ValidateOptions validate;
  auto* validate_cmd = app.add_subcommand("validate", "Predict measured cases (dev-cases.yaml format) and report the error");
  validate_cmd->add_option("file", validate.file, "Cases file")->required();
  validate_cmd->add_flag("--json", validate.json, "Print one JSON object");
  validate_cmd->callback([&] { code = RunValidate(global, validate); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\nRun with --help for usage.\n";
    return 2;
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const suanli::cli::InputError& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << '\n';
    return 1;
  }
}
