// The JSON API: a request to Args, RunCommand, the reply.
#include "http_api.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "suanli/api/fields.h"
#include "suanli/api/run.h"
#include "suanli/catalog/schema.h"
#include "suanli/econ/fleet.h"
#include "suanli/core/text.h"
#include "suanli/report/json.h"

namespace suanli::web {
namespace {

using nlohmann::json;

// Messages may quote the request's bytes: invalid UTF-8 becomes U+FFFD
// (a strict dump would throw, and the request get a 500).
HttpReply Reply(int status, json body) {
  return {.status = status, .body = body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

HttpReply FromError(const Error& e, const CommandSpec* spec) {
  static const CommandSpec kNone{};
  json body{{"error", FormatError(e, spec != nullptr ? *spec : kNone, FieldNaming::kKey)},
            {"kind", e.internal() ? "internal" : e.kind == ErrorKind::kNotFound ? "not_found" : "invalid_input"}};
  if (!e.diagnostics.empty() && !e.diagnostics.front().key_path.empty()) body["key"] = e.diagnostics.front().key_path;
  return Reply(e.internal() ? 500 : 400, std::move(body));
}

HttpReply BadRequest(std::string key, std::string message, int status = 400) {
  json body{{"error", key.empty() ? message : key + ": " + message}, {"kind", "invalid_input"}};
  if (!key.empty()) body["key"] = key;
  return Reply(status, std::move(body));
}

// A field whose value names a file the command reads or writes.
bool FileField(const RequestField& f) {
  return f.key == "file" || std::string_view(f.key).ends_with("_file") || f.key == "trace" || f.key == "timeline";
}

// A command's fields as served: those that name files are not listed and a
// request giving one is refused (they stay in the table, not required, so the
// refusal can say why), and fleet takes "example", a shipped scenario's id.
// Not copyable: `spec` points into the vectors.
struct WebSpec {
  WebSpec(const CommandSpec& base, const Examples* examples) {
    if (base.name == "fleet") {
      if (examples != nullptr) {
        for (const Example& e : examples->fleet) choices.emplace_back(e.id);
      }
      fields.push_back({.key = "example", .type = FieldType::kChoice,
                        .help = "A scenario shipped in examples/fleet/ (files are not read over HTTP)",
                        .choices = choices, .required = true});
    }
    for (const RequestField& f : base.fields) {
      fields.push_back(f);
      if (FileField(f)) fields.back().required = false;
    }
    spec = CommandSpec{.name = base.name, .summary = base.summary, .fields = fields};
  }
  WebSpec(const WebSpec&) = delete;
  WebSpec& operator=(const WebSpec&) = delete;
  std::vector<std::string_view> choices;
  std::vector<RequestField> fields;
  CommandSpec spec;
};

// A value that the library would read as a file.
bool PathLike(std::string_view v) {
  if (v.find('/') != std::string_view::npos || v.find('\\') != std::string_view::npos) return true;
  for (std::string_view ext : {".yaml", ".yml", ".json", ".csv"}) {
    if (v.ends_with(ext)) return true;
  }
  return v.starts_with('.') || v.starts_with('~');
}

std::vector<std::string_view> Items(std::string_view list) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    std::string_view item = list.substr(start, comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    out.push_back(item);
    start = comma + 1;
  }
  return out;
}

// Hardware and models must be catalog records (or "all" hardware); every
// other text value must not look like a path. The library's messages for
// these names mention files, so the refusal says why instead.
std::optional<HttpReply> RefuseFiles(const Catalog& catalog, const CommandSpec& spec, const Args& args) {
  for (const auto& [key, value] : args.items()) {
    const RequestField* f = spec.Find(key);
    if (f == nullptr || (f->type != FieldType::kText && f->type != FieldType::kList)) continue;
    for (std::string_view item : f->type == FieldType::kList ? Items(value) : std::vector<std::string_view>{value}) {
      bool known = true;
      std::string what;
      if (key == "hardware") {
        known = item == "all" || catalog.FindChip(item) != nullptr || catalog.FindSystem(item) != nullptr;
        what = "chip or system";
      } else if (key == "model") {
        known = catalog.FindModel(item) != nullptr;
        what = "model";
      } else if (PathLike(item)) {
        return BadRequest(key, "'" + std::string(item) + "' looks like a file; files are not read over HTTP");
      }
      if (!known) {
        return BadRequest(key, "no " + what + " '" + std::string(item) + "' in the catalog (files are not read over HTTP)" +
                                   DidYouMean(item, catalog.Suggest(item), 3));
      }
    }
  }
  return std::nullopt;
}

json FieldJson(const RequestField& f) {
  json choices = json::array();
  for (auto c : f.choices) choices.push_back(c);
  json j{{"key", f.key},         {"type", FieldTypeName(f.type)}, {"help", f.help},   {"default", f.default_text},
         {"choices", choices},   {"required", f.required},        {"unit", f.unit},   {"excludes", f.excludes}};
  if (f.type == FieldType::kInteger || f.type == FieldType::kCountOrMax || f.type == FieldType::kNumber) {
    j["min"] = f.min;
    j["max"] = f.max;
  }
  return j;
}

HttpReply CommandsReply(const Examples* examples) {
  json list = json::array();
  for (const CommandSpec& base : Commands()) {
    if (!Served(base.name)) continue;
    const WebSpec web(base, examples);
    json fields = json::array();
    for (const RequestField& f : web.spec.fields) {
      if (!FileField(f)) fields.push_back(FieldJson(f));
    }
    list.push_back({{"name", base.name}, {"summary", base.summary}, {"fields", fields}});
  }
  json kinds = json::array();
  for (const auto& k : RecordKinds()) kinds.push_back(k.folder);
  return Reply(200, {{"commands", list}, {"record_kinds", kinds}});
}

// Only a record the catalog holds: FindRecord would read a model file by path.
bool InCatalog(const Catalog& c, std::string_view id) {
  return c.FindChip(id) || c.FindSystem(id) || c.FindModel(id) || c.FindRuleSet(id) || c.FindProfile(id) ||
         c.FindStack(id) || c.FindSource(id);
}

HttpReply ExamplesReply(const Examples* examples) {
  json list = json::array();
  if (examples != nullptr) {
    for (const Example& e : examples->fleet) list.push_back({{"id", e.id}, {"name", e.name}, {"text", e.text}});
  }
  return Reply(200, {{"examples", list}});
}

// Every occurrence of `from` in `text` replaced by `to`.
void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// `s` as it stands inside a JSON string (escaped, without the quotes).
std::string JsonInner(std::string_view s) {
  const std::string quoted = json(s).dump(-1, ' ', false, json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

// No reply names where the server's files are: a catalog record's file is
// given relative to the catalog ("chips/nvidia/h20.yaml"), and a fleet
// reply names its shipped example by id: the JSON's "file" becomes
// "example": ID, and a message that quotes the scenario's path quotes the id.
void WithoutServerPaths(const Catalog& catalog, const Example* example, std::string& body) {
  if (example != nullptr) {
    const std::string path = JsonInner(example->path);
    ReplaceAll(body, "\"file\": \"" + path + "\"", "\"example\": \"" + JsonInner(example->id) + "\"");
    ReplaceAll(body, path, JsonInner(example->id));
  }
  if (catalog.dir().size() > 1 && catalog.dir().starts_with('/')) {
    std::string dir = JsonInner(catalog.dir());
    if (!dir.ends_with('/')) dir += '/';
    ReplaceAll(body, dir, "");
  }
}

}  // namespace

const Example* Examples::FindFleet(std::string_view id) const {
  for (const Example& e : fleet) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

Examples LoadExamples(const Catalog& catalog, const std::string& dir) {
  namespace fs = std::filesystem;
  Examples out;
  if (dir.empty()) return out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(dir) / "fleet", ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".yaml") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    Example e{.id = entry.path().stem().string(), .path = entry.path().string(), .text = text.str()};
    const auto scenario = LoadScenario(catalog, e.path);  // the library's reading of it
    e.name = scenario && !scenario->name.empty() ? scenario->name : e.id;
    out.fleet.push_back(std::move(e));
  }
  std::sort(out.fleet.begin(), out.fleet.end(), [](const Example& a, const Example& b) { return a.id < b.id; });
  return out;
}

bool Served(std::string_view command) {
  const CommandSpec* spec = FindCommand(command);
  if (spec == nullptr || FindRunner(command) == nullptr) return false;
  if (command == "fleet") return true;  // its scenario: a shipped example by id
  for (const RequestField& f : spec->fields) {
    if (FileField(f) && f.required) return false;
  }
  return true;
}

namespace {

HttpReply Handle(const Catalog& catalog, const ApiRequest& r, const Example*& example) {
  std::string_view path = r.path;
  if (!path.starts_with("/api/")) return BadRequest("", "not found", 404);
  path.remove_prefix(5);
  if (r.max_body != 0 && r.body.size() > r.max_body) {
    return BadRequest("", "the request body passes the server's limit of " + std::to_string(r.max_body) + " bytes", 413);
  }
  if (path == "commands") {
    if (r.method != "GET") return BadRequest("", "use GET", 405);
    return CommandsReply(r.examples);
  }
  if (path == "examples/fleet") {
    if (r.method != "GET") return BadRequest("", "use GET", 405);
    return ExamplesReply(r.examples);
  }
  if (path.starts_with("catalog/") || path.starts_with("record/")) {
    if (r.method != "GET") return BadRequest("", "use GET", 405);
    const bool list = path.starts_with("catalog/");
    const std::string_view name = path.substr(list ? 8 : 7);
    if (list) {
      auto kind = ResolveRecordKind(name);
      if (!kind) return FromError(kind.error(), nullptr);
      return {.body = CatalogListJson(catalog, (*kind)->kind)};
    }
    if (!InCatalog(catalog, name)) {
      return BadRequest("id", "no record '" + std::string(name) + "' in the catalog" +
                                  DidYouMean(name, catalog.Suggest(name), 3));
    }
    auto record = catalog.FindRecord(name);
    if (!record) return FromError(record.error(), nullptr);
    return {.body = RecordJson(*record)};
  }
  const CommandSpec* spec = FindCommand(path);
  if (spec == nullptr || !Served(path)) {
    std::vector<std::string> names;
    for (const CommandSpec& c : Commands()) {
      if (Served(c.name)) names.emplace_back(c.name);
    }
    return BadRequest("command", "no command '" + std::string(path) + "' served here" + DidYouMean(path, names), 404);
  }
  if (r.method != "POST") return BadRequest("", "use POST with a JSON object of the request's fields", 405);
  ResultForm form = ResultForm::kJson;
  if (r.form == "csv") {
    form = ResultForm::kCsv;
  } else if (!r.form.empty() && r.form != "json") {
    return BadRequest("form", "expected json or csv, found '" + std::string(r.form.substr(0, 20)) + "'");
  }
  const WebSpec web(*spec, r.examples);
  auto args = ArgsFromJson(web.spec, r.body.empty() ? std::string_view("{}") : r.body);
  if (!args) return FromError(args.error(), &web.spec);
  for (const auto& [key, value] : args->items()) {
    const RequestField* f = spec->Find(key);
    if (f != nullptr && FileField(*f)) {
      return BadRequest(key, spec->name == "fleet" ? "files are not read over HTTP; name a shipped scenario by \"example\""
                                                   : "names a file; files are not read over HTTP");
    }
  }
  if (auto ok = CheckArgs(web.spec, *args); !ok) return FromError(ok.error(), &web.spec);
  if (auto refused = RefuseFiles(catalog, web.spec, *args)) return *refused;
  if (spec->name == "fleet") {  // the example's file in place of the scenario file
    Args fleet;
    for (const auto& [key, value] : args->items()) {
      if (key == "example") {  // CheckArgs found it among the choices, trimmed as there
        const std::string_view id = TrimBlanks(value);
        const Example* e = r.examples != nullptr ? r.examples->FindFleet(id) : nullptr;
        if (e == nullptr) return BadRequest("example", "no shipped scenario '" + std::string(id.substr(0, 60)) + "'");
        fleet.Set("scenario_file", e->path);
        example = e;
      } else {
        fleet.Set(key, value);
      }
    }
    *args = std::move(fleet);
  }
  auto out = RunCommand(catalog, spec->name, *args, form, r.cancel);
  if (!out) {
    if (r.cancel != nullptr && r.cancel->load()) {
      return BadRequest("", "the request took longer than the server's time limit", 503);
    }
    return FromError(out.error(), spec);
  }
  return {.status = 200, .content_type = form == ResultForm::kCsv ? "text/csv" : "application/json", .body = std::move(*out)};
}

}  // namespace

HttpReply HandleApi(const Catalog& catalog, const ApiRequest& r) {
  const Example* example = nullptr;  // the fleet example the request ran, if any
  HttpReply reply = Handle(catalog, r, example);
  WithoutServerPaths(catalog, example, reply.body);
  return reply;
}

}  // namespace suanli::web
