// libFuzzer target: the web server's JSON API layer (web/server/http_api.h),
// the request as the server hands it over after the socket: the first line is
// "[METHOD ]PATH[?form=F]", the rest the body. Every reply must be one of the
// statuses the API gives for input (200, 400, 404, 405, 413) with a body: a
// JSON object with a non-empty "error" for all but 200, and for 200 a JSON
// document (or CSV text for form=csv). A 500 is an internal fault: abort.
//
// The harness leaves out requests that are slow by design, not by fault
// (bounded by the field tables, but each a long run): a serve simulation of
// more than 200 requests or with a rate search, a training search over more
// than 64 devices, a comparison of more than four chips or of "all", a fleet
// plan of a shipped scenario other than the toy one (each a MILP of a second).
#include <nlohmann/json.hpp>

#include <algorithm>

#include "fuzz_support.h"
#include "http_api.h"

namespace {

using nlohmann::json;

const suanli::web::Examples& ShippedExamples() {
  static const suanli::web::Examples e = suanli::web::LoadExamples(suanli::fuzz::ShippedCatalog(), SUANLI_FUZZ_EXAMPLES_DIR);
  return e;
}

double Number(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    try {
      return std::stod(v.get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

bool Flag(const json& body, const char* key) { return body.contains(key) && !(body[key] == false); }

// A request whose run is long by design (see the top of the file).
bool Slow(std::string_view path, std::string_view body_text) {
  const json body = json::parse(body_text, nullptr, false);
  if (!body.is_object()) return false;
  if (path.starts_with("/api/serve")) {
    return !body.contains("requests") || Number(body["requests"]) > 200 || Flag(body, "max_rate") ||
           Flag(body, "pd_search") || Number(body.value("replicas", json(1))) > 64;
  }
  if (path.starts_with("/api/fleet")) return body.value("example", json("")) != "toy";
  if (path.starts_with("/api/train")) return Flag(body, "search") && Number(body.value("devices", json(0))) > 64;
  if (path.starts_with("/api/compare") || path.starts_with("/api/cost")) {
    const json hw = body.value("hardware", json(""));
    if (hw.is_array()) return hw.size() > 4;
    const std::string text = hw.is_string() ? hw.get<std::string>() : "";
    return text.find("all") != std::string::npos || std::count(text.begin(), text.end(), ',') > 3;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace suanli;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = std::min(text.find('\n'), text.size());
  std::string_view line = text.substr(0, newline);
  const std::string_view body = newline < text.size() ? text.substr(newline + 1) : std::string_view();
  std::string_view method = "POST";
  if (const std::size_t space = line.find(' '); space != std::string_view::npos) {
    method = line.substr(0, space);
    line.remove_prefix(space + 1);
  }
  std::string_view path = line, form;
  if (const std::size_t q = line.find('?'); q != std::string_view::npos) {
    path = line.substr(0, q);
    std::string_view query = line.substr(q + 1);
    if (query.starts_with("form=")) form = query.substr(5);
  }
  if (Slow(path, body)) return 0;
  const web::HttpReply r = web::HandleApi(fuzz::ShippedCatalog(), {.method = method, .path = path, .form = form,
                                                                    .body = body, .examples = &ShippedExamples(),
                                                                    .max_body = 4096});
  if (r.status == 500) std::abort();  // an internal fault
  if (r.status != 200 && r.status != 400 && r.status != 404 && r.status != 405 && r.status != 413) std::abort();
  if (r.status == 200 && r.content_type == "text/csv") return 0;
  const json reply = json::parse(r.body, nullptr, false);
  if (reply.is_discarded()) std::abort();
  if (r.status != 200 &&
      (!reply.is_object() || !reply.contains("error") || !reply["error"].is_string() || reply["error"].empty())) {
    std::abort();
  }
  return 0;
}
