// The JSON API of `suanli web`, as a function of a request: no sockets, so
// it is tested (and fuzzed) directly. It only translates: a body becomes Args
// through the command's field table (ArgsFromJson), the command runs through
// RunCommand, and errors become 400 (bad input, names not there) or 500
// (faults) with the library's message. Requests name catalog records only:
// a value that would be read as a file is refused, fields that read or write
// a file (serve's trace and timeline) are not served, and commands whose input
// is a file are not served (validate) or take a shipped example by id instead
// (fleet: "example" names a scenario of examples/fleet/, read at start).
//
//   GET  /api/commands             every served command's field table
//   POST /api/<command>[?form=csv] the command's --json object (or --csv text)
//   GET  /api/catalog/<kind>       `catalog list <kind> --json`
//   GET  /api/record/<id>          `catalog show <id> --json`, sources included
//   GET  /api/examples/fleet       the shipped fleet scenarios: id, name, text
//
// No reply names a server path: a record's `file` is relative to the
// catalog directory, and fleet's reply carries "example": ID where the CLI's
// has "file" (a message quoting the scenario's path quotes its id).
//
// Statuses: 200, 400 (bad input), 404 (no such route, command or example
// id), 405 (wrong method), 413 (body past max_body), 503 (past its time);
// 500 only for an internal fault.
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "suanli/catalog/catalog.h"

namespace suanli::web {

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// A shipped example file, read once when the server starts.
struct Example {
  std::string id;    // its file name without .yaml
  std::string name;  // its top-level `name:` (the id when it has none)
  std::string path;  // where it was read: what the command is given
  std::string text;
};
struct Examples {
  std::vector<Example> fleet;  // by id
  [[nodiscard]] const Example* FindFleet(std::string_view id) const;
};
// The examples under `dir` (dir/fleet/*.yaml), each named by its scenario's
// `name` (its id when it has none or does not load); none when dir is "" or holds none.
Examples LoadExamples(const Catalog& catalog, const std::string& dir);

struct ApiRequest {
  std::string_view method;  // "GET", "POST"
  std::string_view path;    // "/api/infer"
  std::string_view form;    // the query's form= value: "" or "json" for JSON, "csv"
  std::string_view body;
  const std::atomic<bool>* cancel = nullptr;  // set when the request's time is up
  const Examples* examples = nullptr;         // the ids fleet may name (none when null)
  std::size_t max_body = 0;                   // a longer body is refused (413); 0: no limit
};

// Whether `command` is served over HTTP (registered, and no required field
// reads a file, or fleet, whose scenario is a shipped example).
bool Served(std::string_view command);

HttpReply HandleApi(const Catalog& catalog, const ApiRequest& request);

}  // namespace suanli::web
