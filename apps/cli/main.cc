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
