// suanli: what an AI chip is really worth for LLM workloads.
//
// cli::Main, the whole CLI as a function (main.cc calls it; the CLI fuzz
// target too). The CLI parses flags, calls the library and prints. Its flags come from the
// library's request field tables (suanli/api/fields.h): one --flag per field,
// with its help, default and choices; the library decodes, checks and runs
// the request, and every error becomes a message and an exit code in
// common.cc: 2 for bad input, 1 for a fault of suanli's own.
// GCC 12 at -O2 sees a null dereference in CLI11's string splitting that
// cannot happen (a false positive inside the library's own headers).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop
#include <exception>
#include <iostream>
#include <map>
#include <memory>

#include "common.h"
#include "suanli/catalog/schema.h"

namespace {

using namespace suanli;
using namespace suanli::cli;

// The flags of one command, bound to the field table.
class FieldFlags {
 public:
  FieldFlags(CLI::App* cmd, const CommandSpec& spec) : spec_(spec) {
    for (const RequestField& f : spec.fields) {
      std::string help(f.help);
      if (!f.choices.empty()) {
        help += " [";
        for (std::size_t i = 0; i < f.choices.size(); ++i) help += (i ? " | " : "") + std::string(f.choices[i]);
        help += "]";
      }
      if (!f.default_text.empty()) help += " (default: " + std::string(f.default_text) + ")";
      if (f.required && !f.positional) help += " (required)";
      if (f.type == FieldType::kFlag) {
        options_[std::string(f.key)] = cmd->add_flag(FlagName(f.key), flags_[std::string(f.key)], help);
      } else {
        const std::string name = f.positional ? std::string(f.key) : FlagName(f.key);
        options_[std::string(f.key)] = cmd->add_option(name, values_[std::string(f.key)], help);
      }
    }
  }

  // The fields given on the command line.
  [[nodiscard]] Args Collect() const {
    Args args;
    for (const RequestField& f : spec_.fields) {
      const std::string key(f.key);
      const CLI::Option* opt = options_.at(key);
      if (opt->count() == 0) continue;
      args.Set(key, f.type == FieldType::kFlag ? "true" : values_.at(key));
    }
    return args;
  }

 private:
  const CommandSpec& spec_;
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> flags_;
  std::map<std::string, CLI::Option*> options_;
};

int Run(int argc, char** argv, const Catalog* preloaded) {
  CLI::App app{"suanli - what an AI chip is really worth for LLM workloads", "suanli"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "suanli 0.1.0");
  GlobalOptions global;
  global.preloaded = preloaded;
  app.add_option("--catalog", global.catalog_dir,
                 "Catalog directory (default: $SUANLI_CATALOG, the installed catalog, or the source tree's)");
  int code = 0;

  auto* catalog = app.add_subcommand("catalog", "List, show and describe catalog records");
  catalog->require_subcommand(1);
  std::vector<std::string> kinds;
  for (const auto& k : RecordKinds()) kinds.emplace_back(k.folder);
  std::string kind_list;
  for (const auto& k : kinds) kind_list += (kind_list.empty() ? "" : " | ") + k;
  std::string list_what = "chips";
  bool list_json = false;
  auto* list_cmd = catalog->add_subcommand("list", "List the records of one kind");
  list_cmd->add_option("what", list_what, kind_list + " (default: chips)")->check(CLI::IsMember(kinds));
  list_cmd->add_flag("--json", list_json, "Print one JSON object");
  list_cmd->callback([&] { code = RunCatalogList(global, list_what, list_json); });
  std::string show_id;
  bool show_json = false;
  auto* show_cmd = catalog->add_subcommand("show", "Every field of one record, with its source");
  show_cmd->add_option("id", show_id, "Chip, system, model, rule set, profile, stack, source, price, facility or fx id")->required();
  show_cmd->add_flag("--json", show_json, "Print one JSON object");
  show_cmd->callback([&] { code = RunCatalogShow(global, show_id, show_json); });
  std::string schema_what;
  bool schema_json = false;
  auto* schema_cmd = catalog->add_subcommand("schema", "The field tables: key, unit, required, default, description");
  schema_cmd->add_option("what", schema_what, kind_list + " (default: all)");
  schema_cmd->add_flag("--json", schema_json, "Print one JSON object");
  schema_cmd->callback([&] { code = RunCatalogSchema(schema_what, schema_json); });

  std::vector<std::unique_ptr<FieldFlags>> bound;
  auto command = [&](std::string_view name) {
    const CommandSpec& spec = CommandFor(name);
    CLI::App* cmd = app.add_subcommand(std::string(spec.name), std::string(spec.summary));
    bound.push_back(std::make_unique<FieldFlags>(cmd, spec));
    return std::pair{cmd, bound.back().get()};
  };
  // Every request command: its field flags, and --json or --csv for its output.
  struct Outputs {
    bool json = false;
    bool csv = false;
    [[nodiscard]] Output output() const { return json ? Output::kJson : csv ? Output::kCsv : Output::kText; }
  };
  std::vector<std::unique_ptr<Outputs>> outputs;
  using Runner = int (*)(const GlobalOptions&, const Args&, Output);
  const std::pair<std::string_view, Runner> kRunners[] = {{"infer", RunInferCommand},
                                                          {"compare", RunCompareCommand},
                                                          {"train", RunTrainCommand},
                                                          {"classify", RunClassifyCommand},
                                                          {"validate", RunValidateCommand},
                                                          {"cost", RunCostCommand},
                                                          {"fleet", RunFleetCommand}};
  for (auto [name, runner] : kRunners) {
    auto [cmd, flags] = command(name);
    outputs.push_back(std::make_unique<Outputs>());
    Outputs* out = outputs.back().get();
    auto* json = cmd->add_flag("--json", out->json, "Print one JSON object");
    auto* csv = cmd->add_flag("--csv", out->csv, "Print CSV: a header and one row per result, warnings in a column");
    json->excludes(csv);
    cmd->callback([&code, &global, f = flags, out, run = runner] { code = run(global, f->Collect(), out->output()); });
  }

  // The local web UI (web/).
  WebFlags web_flags;
  auto* web_cmd = app.add_subcommand("web", "A local web UI and JSON API: charts of every command, in the browser");
  web_cmd->add_option("--port", web_flags.port, "Port (0: any free one; default 8080)");
  web_cmd->add_option("--listen", web_flags.listen, "Address to listen on (default 127.0.0.1; any other is warned about)");
  web_cmd->add_option("--workers", web_flags.workers, "Requests evaluated at once (default 4)");
  web_cmd->add_option("--request-seconds", web_flags.request_seconds, "Time limit of one request (default 30)");
  web_cmd->add_option("--max-body", web_flags.max_body, "Largest request body in bytes (default 65536)");
  web_cmd->add_option("--assets", web_flags.assets, "The app's directory (default: installed, or the build tree's)");
  web_cmd->callback([&] { code = RunWebCommand(global, web_flags); });
  // Design-space sweeps (python/suanli/sweep.py), local or on Dask.
  SweepFlags sweep_flags;
  auto* sweep_cmd = app.add_subcommand("sweep", "A design-space sweep (YAML): grid or random over what-if chips, "
                                                "models, plans and workloads; local or on a Dask cluster");
  sweep_cmd->add_option("file", sweep_flags.file, "The sweep file (examples/sweep/)")->required();
  sweep_cmd->add_option("--out", sweep_flags.out, "Rows: FILE.csv, or FILE.jsonl for JSON lines")->required();
  sweep_cmd->add_option("--scheduler", sweep_flags.scheduler, "A Dask distributed scheduler (default: this machine)");
  sweep_cmd->add_flag("--resume", sweep_flags.resume, "Continue the sweep that wrote --out from its checkpoint");
  sweep_cmd->add_option("--threads", sweep_flags.threads, "Local threads (default: every core)");
  sweep_cmd->callback([&] { code = RunSweepCommand(global, sweep_flags); });

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

namespace suanli::cli {

int Main(int argc, char** argv, const Catalog* preloaded) {
  int code = 0;
  try {
    code = Run(argc, argv, preloaded);
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << '\n';
    return 1;
  }
  // Output that could not be written (a full disk, a closed pipe) is a failure.
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "error: could not write the output to stdout\n";
    return code != 0 ? code : 1;
  }
  return code;
}

}  // namespace suanli::cli
