// The JSON API of `suanli web`, as a function of a request: no sockets, so
// it is tested (and fuzzed) directly. It only translates: a body becomes Args
// through the command's field table (ArgsFromJson), the command runs through
// RunCommand, and errors become 400 (bad input, names not there) or 500
// (faults) with the library's message. Requests name catalog records only:
// a value that would be read as a file is refused, and commands whose input
// is a file (validate) are not served.
//
//   GET  /api/commands             every served command's field table
//   POST /api/<command>[?form=csv] the command's --json object (or --csv text)
//   GET  /api/catalog/<kind>       `catalog list <kind> --json`
//   GET  /api/record/<id>          `catalog show <id> --json`, sources included
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "suanli/catalog/catalog.h"

namespace suanli::web {

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

struct ApiRequest {
  std::string_view method;  // "GET", "POST"
  std::string_view path;    // "/api/infer"
  std::string_view form;    // the query's form= value: "" or "json" for JSON, "csv"
  std::string_view body;
  const std::atomic<bool>* cancel = nullptr;  // set when the request's time is up
};

// Whether `command` is served over HTTP (registered, and no field reads a file).
bool Served(std::string_view command);

HttpReply HandleApi(const Catalog& catalog, const ApiRequest& request);

}  // namespace suanli::web
