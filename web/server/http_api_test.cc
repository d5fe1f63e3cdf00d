// The web JSON API as a function: every route, every refusal, and a property
// test over random bodies (any bytes get 200, 400, 404 or 405 with a JSON
// error, never 500, and a 200 is the command's own --json text).
#include "http_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "suanli/api/run.h"
#include "support/test_support.h"

namespace suanli::web {
namespace {

using nlohmann::json;
const Catalog& C() { return testing::ShippedCatalog(); }

HttpReply Post(std::string_view path, std::string_view body, std::string_view form = "") {
  return HandleApi(C(), {.method = "POST", .path = path, .form = form, .body = body});
}
HttpReply Get(std::string_view path) { return HandleApi(C(), {.method = "GET", .path = path}); }

constexpr std::string_view kInfer =
    R"({"hardware": "h20", "model": "llama-3.1-70b", "input_tokens": 2048, "output_tokens": 512, "tp": 8, "batch": 16})";

Args InferArgs() {
  Args a;
  for (auto [k, v] : {std::pair{"hardware", "h20"}, {"model", "llama-3.1-70b"}, {"input_tokens", "2048"},
                      {"output_tokens", "512"}, {"tp", "8"}, {"batch", "16"}}) {
    a.Set(k, v);
  }
  return a;
}

TEST(WebApi, InferIsTheCommandsJson) {
  const HttpReply r = Post("/api/infer", kInfer);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  auto want = RunCommand(C(), "infer", InferArgs());
  ASSERT_TRUE(want.has_value());
  EXPECT_EQ(r.body, *want);
}

TEST(WebApi, CsvOnRequest) {
  const HttpReply r = Post("/api/infer", kInfer, "csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/csv");
  auto want = RunCommand(C(), "infer", InferArgs(), ResultForm::kCsv);
  ASSERT_TRUE(want.has_value());
  EXPECT_EQ(r.body, *want);
  EXPECT_EQ(Post("/api/infer", kInfer, "xml").status, 400);
}

TEST(WebApi, BadInputIs400WithTheLibrarysMessageAndKey) {
  const HttpReply r = Post("/api/infer", R"({"hardware": "h20", "model": "llama-3.1-70b", "input_tokens": 0,
                                             "output_tokens": 5})");
  ASSERT_EQ(r.status, 400);
  const json j = json::parse(r.body);
  EXPECT_EQ(j["key"], "input_tokens");
  EXPECT_EQ(j["error"], "input_tokens: must be at least 1, found '0'");
  EXPECT_EQ(j["kind"], "invalid_input");
  const json unknown = json::parse(Post("/api/infer", R"({"tpp": 1})").body);
  EXPECT_NE(unknown["error"].get<std::string>().find("did you mean 'tp'"), std::string::npos) << unknown;
  const HttpReply malformed = Post("/api/infer", "{\"hardware\": ");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_TRUE(json::parse(malformed.body).contains("error"));
  const HttpReply plan = Post("/api/infer", R"({"hardware": "h20", "model": "llama-3.1-405b", "input_tokens": 1,
                                                "output_tokens": 1, "tp": 3})");
  EXPECT_EQ(plan.status, 400) << plan.body;
}

TEST(WebApi, NoFileIsReadBecauseOfARequest) {
  for (const char* hw : {"/etc/passwd", "../catalog/chips/nvidia/h20.yaml", "h20.yaml", "CMakeLists.txt", "no-such"}) {
    const HttpReply r = Post("/api/classify", json{{"hardware", hw}}.dump());
    EXPECT_EQ(r.status, 400) << hw;
    EXPECT_EQ(json::parse(r.body)["key"], "hardware") << r.body;
    EXPECT_NE(r.body.find("files are not read over HTTP"), std::string::npos) << r.body;
  }
  const HttpReply model = Post("/api/infer", R"({"hardware": "h20", "model": "/tmp/config.json", "input_tokens": 1,
                                                 "output_tokens": 1})");
  EXPECT_EQ(model.status, 400);
  EXPECT_EQ(json::parse(model.body)["key"], "model");
  const HttpReply list = Post("/api/compare", R"({"hardware": "h20,./x.yaml", "model": "llama-3.1-8b",
                                                  "input_tokens": 1, "output_tokens": 1})");
  EXPECT_EQ(list.status, 400);
  const HttpReply stack = Post("/api/infer", R"({"hardware": "h20", "model": "llama-3.1-8b", "input_tokens": 1,
                                                 "output_tokens": 1, "stack": "../x.yaml"})");
  EXPECT_EQ(stack.status, 400);
  EXPECT_EQ(json::parse(stack.body)["key"], "stack");
  // validate reads a file: not served.
  EXPECT_EQ(Post("/api/validate", R"({"file": "/etc/passwd"})").status, 404);
  EXPECT_FALSE(Served("validate"));
  EXPECT_TRUE(Served("infer"));
  EXPECT_EQ(Get("/api/record/..%2Fetc%2Fpasswd").status, 400);
  EXPECT_EQ(Get("/api/record/CMakeLists.txt").status, 400);
}

TEST(WebApi, CatalogAllHardwareAndAliases) {
  const HttpReply all = Post("/api/classify", R"({"hardware": "all", "rules": ["us-2023-10"]})");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_GT(json::parse(all.body)["results"].size(), 20u);
  EXPECT_EQ(Post("/api/classify", R"({"hardware": "NVIDIA H20"})").status, 200);
}

TEST(WebApi, CommandsListTheFieldTables) {
  const HttpReply r = Get("/api/commands");
  ASSERT_EQ(r.status, 200);
  const json j = json::parse(r.body);
  std::set<std::string> names;
  for (const auto& c : j["commands"]) {
    names.insert(c["name"]);
    const CommandSpec* spec = FindCommand(c["name"].get<std::string>());
    ASSERT_NE(spec, nullptr);
    // Every field but those naming files, in the table's order (fleet: "example" first).
    std::vector<std::string> want;
    if (spec->name == "fleet") want.emplace_back("example");
    for (const RequestField& f : spec->fields) {
      if (f.key != "trace" && f.key != "timeline" && !std::string_view(f.key).ends_with("_file")) want.emplace_back(f.key);
    }
    std::vector<std::string> got;
    for (const auto& f : c["fields"]) got.push_back(f["key"]);
    EXPECT_EQ(got, want) << spec->name;
  }
  for (const CommandRunner& runner : RegisteredCommands()) {
    EXPECT_EQ(names.count(std::string(runner.name)) == 1, Served(runner.name)) << runner.name;
  }
  EXPECT_EQ(names.count("validate"), 0u);
}

// The shipped fleet scenarios, read as the server reads them.
const Examples& Shipped() {
  static const Examples e = LoadExamples(C(), SUANLI_TEST_EXAMPLES_DIR);
  return e;
}
HttpReply PostWith(std::string_view path, std::string_view body) {
  return HandleApi(C(), {.method = "POST", .path = path, .body = body, .examples = &Shipped()});
}

TEST(WebApi, FleetRunsAShippedExampleById) {
  ASSERT_NE(Shipped().FindFleet("toy"), nullptr);
  EXPECT_EQ(Shipped().FindFleet("toy")->name, "toy (brute-force check)");
  const HttpReply r = PostWith("/api/fleet", R"({"example": "toy"})");
  ASSERT_EQ(r.status, 200) << r.body;
  Args a;
  a.Set("scenario_file", Shipped().FindFleet("toy")->path);
  auto want = RunCommand(C(), "fleet", a);
  ASSERT_TRUE(want.has_value()) << want.error().ToString();
  // The CLI's JSON, but for where the server read the scenario: the example's id instead.
  json got_json = json::parse(r.body);
  json want_json = json::parse(*want);
  EXPECT_EQ(want_json["file"], Shipped().FindFleet("toy")->path);
  EXPECT_FALSE(got_json.contains("file")) << r.body.substr(0, 400);
  EXPECT_EQ(got_json["example"], "toy");
  want_json.erase("file");
  got_json.erase("example");
  EXPECT_EQ(got_json, want_json);
  EXPECT_EQ(r.body.find(SUANLI_TEST_EXAMPLES_DIR), std::string::npos);
  EXPECT_EQ(r.body.find(Shipped().FindFleet("toy")->path), std::string::npos);
  // The listing: ids, names and the text the page shows.
  const HttpReply list = HandleApi(C(), {.method = "GET", .path = "/api/examples/fleet", .examples = &Shipped()});
  ASSERT_EQ(list.status, 200);
  const json j = json::parse(list.body);
  ASSERT_EQ(j["examples"].size(), Shipped().fleet.size());
  EXPECT_EQ(j["examples"][0]["text"], Shipped().fleet[0].text);
  const json commands = json::parse(HandleApi(C(), {.method = "GET", .path = "/api/commands", .examples = &Shipped()}).body);
  for (const auto& c : commands["commands"]) {
    if (c["name"] != "fleet") continue;
    const json& choices = c["fields"][0]["choices"];
    EXPECT_NE(std::find(choices.begin(), choices.end(), "toy"), choices.end()) << choices;
  }
}

TEST(WebApi, FleetNamesNoFile) {
  const HttpReply file = PostWith("/api/fleet", R"({"scenario_file": "examples/fleet/toy.yaml"})");
  EXPECT_EQ(file.status, 400);
  EXPECT_EQ(json::parse(file.body)["key"], "scenario_file");
  EXPECT_NE(file.body.find("files are not read over HTTP"), std::string::npos) << file.body;
  for (const char* id : {"../fleet/toy", "/etc/passwd", "toy.yaml", "toys"}) {
    const HttpReply r = PostWith("/api/fleet", json{{"example", id}}.dump());
    EXPECT_EQ(r.status, 400) << id;
    EXPECT_EQ(json::parse(r.body)["key"], "example") << r.body;
  }
  EXPECT_EQ(PostWith("/api/fleet", "{}").status, 400);  // example is required
  // Without examples (none found) the id is refused the same way.
  EXPECT_EQ(Post("/api/fleet", R"({"example": "toy"})").status, 400);
}

TEST(WebApi, ServesTraceAndTimelineNot) {
  constexpr std::string_view kBase = R"("hardware": "h20", "model": "llama-3.1-8b", "input_tokens": "128", "output_tokens": "16", "requests": 5)";
  const HttpReply ok = Post("/api/serve", "{" + std::string(kBase) + R"(, "rate": 1})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  for (const char* key : {"trace", "timeline"}) {
    const HttpReply r = Post("/api/serve", "{" + std::string(kBase) + ", \"" + key + "\": \"out\"}");
    EXPECT_EQ(r.status, 400) << key;
    EXPECT_EQ(json::parse(r.body)["key"], key) << r.body;
    EXPECT_NE(r.body.find("files are not read over HTTP"), std::string::npos) << r.body;
  }
}

// Found by fuzz/http_fuzz.cc: an error quoting a key of invalid UTF-8 was a
// strict JSON dump's exception (a 500 over HTTP); it is a 400 with U+FFFD.
TEST(WebApi, AMessageQuotingInvalidUtf8IsStillJson) {
  const std::string body = "{\"hardware\": \"h20\", \"S\xa3\x1d" + std::string(1, '\0') + "p\": 2}";
  const HttpReply r = Post("/api/classify", body);
  EXPECT_EQ(r.status, 400) << r.body;
  const json j = json::parse(r.body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.body;
  EXPECT_FALSE(j["error"].get<std::string>().empty());
}

TEST(WebApi, ABodyPastTheLimitIs413) {
  const HttpReply r = HandleApi(C(), {.method = "POST", .path = "/api/infer", .body = kInfer, .max_body = 16});
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(json::parse(r.body).contains("error"));
  EXPECT_EQ(HandleApi(C(), {.method = "POST", .path = "/api/infer", .body = kInfer, .max_body = kInfer.size()}).status, 200);
}

TEST(WebApi, CatalogBrowser) {
  const HttpReply list = Get("/api/catalog/chips");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("\"h20\""), std::string::npos);
  const HttpReply record = Get("/api/record/h20");
  ASSERT_EQ(record.status, 200);
  EXPECT_EQ(json::parse(record.body)["figures"]["compute.fp8"]["sources"][0], "VIPERA_H20");
  // Files relative to the catalog: where the server's catalog lies is not said.
  EXPECT_EQ(json::parse(record.body)["file"], "chips/nvidia/h20.yaml");
  EXPECT_EQ(record.body.find(SUANLI_TEST_CATALOG_DIR), std::string::npos);
  EXPECT_EQ(list.body.find(SUANLI_TEST_CATALOG_DIR), std::string::npos);
  const HttpReply rules = Get("/api/record/us-2023-10");
  ASSERT_EQ(rules.status, 200);
  const json cat = json::parse(rules.body)["categories"][0];
  EXPECT_EQ(cat["when"]["metric"], "tpp");
  EXPECT_EQ(cat["when"]["op"], "ge");
  EXPECT_EQ(cat["when"]["threshold"], 4800);
  EXPECT_EQ(Get("/api/catalog/chipz").status, 400);
  const HttpReply missing = Get("/api/record/h2o");
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("did you mean"), std::string::npos);
}

TEST(WebApi, RoutesAndMethods) {
  EXPECT_EQ(Get("/api/infer").status, 405);
  EXPECT_EQ(Post("/api/commands", "{}").status, 405);
  EXPECT_EQ(Post("/api/catalog/chips", "{}").status, 405);
  EXPECT_EQ(Post("/api/nothing", "{}").status, 404);
  EXPECT_NE(Post("/api/infr", "{}").body.find("did you mean 'infer'"), std::string::npos);
  EXPECT_EQ(Get("/index.html").status, 404);
}

TEST(WebApi, ASearchPastItsTimeIsStopped) {
  std::atomic<bool> cancel{true};
  const HttpReply r = HandleApi(C(), {.method = "POST", .path = "/api/train",
                                      .body = R"({"hardware": "h100-sxm", "model": "llama-3.1-70b", "devices": 256,
                                                  "seq_len": 4096, "global_batch": 512, "search": true})",
                                      .cancel = &cancel});
  EXPECT_EQ(r.status, 503) << r.body;
  std::atomic<bool> no{false};
  const HttpReply ok = HandleApi(C(), {.method = "POST", .path = "/api/train",
                                       .body = R"({"hardware": "h100-sxm", "model": "llama-3.1-70b", "devices": 256,
                                                   "seq_len": 4096, "global_batch": 512, "search": true})",
                                       .cancel = &no});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST(WebApi, RunCommandCancelledIsAnErrorNamingCancel) {
  Args a;
  for (auto [k, v] : {std::pair{"hardware", "h100-sxm"}, {"model", "llama-3.1-8b"}, {"devices", "64"}, {"seq_len", "4096"},
                      {"global_batch", "256"}, {"search", "true"}}) {
    a.Set(k, v);
  }
  std::atomic<bool> cancel{true};
  auto r = RunCommand(C(), "train", a, ResultForm::kJson, &cancel);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().diagnostics.at(0).key_path, "cancel");
  std::atomic<bool> go{false};
  auto ok = RunCommand(C(), "train", a, ResultForm::kJson, &go);
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_NE(ok->find("\"top\""), std::string::npos);
}

// A fleet plan stops between its MILPs, and its capacities' simulations stop,
// when the request's time is up.
TEST(WebApi, FleetPlanStopsWhenCancelled) {
  Args a;
  a.Set("scenario_file", Shipped().FindFleet("toy")->path);
  std::atomic<bool> cancel{true};
  auto r = RunCommand(C(), "fleet", a, ResultForm::kJson, &cancel);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().diagnostics.at(0).key_path, "cancel");
  std::atomic<bool> go{false};
  auto ok = RunCommand(C(), "fleet", a, ResultForm::kJson, &go);
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_EQ(*ok, *RunCommand(C(), "fleet", a));
}

// A serving simulation of many requests stops when the request's time is up
// (the web server's watchdog sets the flag), instead of holding its worker.
TEST(WebApi, ServeSimulationStopsWhenCancelled) {
  Args a;
  for (auto [k, v] : {std::pair{"hardware", "h100-sxm"}, {"model", "llama-3.1-8b"}, {"input_tokens", "512"},
                      {"output_tokens", "64"}, {"rate", "50"}, {"requests", "20000"}}) {
    a.Set(k, v);
  }
  std::atomic<bool> cancel{true};
  auto r = RunCommand(C(), "serve", a, ResultForm::kJson, &cancel);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().diagnostics.at(0).key_path, "cancel");
  a.Set("requests", "200");
  std::atomic<bool> go{false};
  auto ok = RunCommand(C(), "serve", a, ResultForm::kJson, &go);
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_EQ(*ok, *RunCommand(C(), "serve", a));
}

// Property: random bodies built from the field tables' keys and wild values
// never get a 500, always a JSON object, and an error names a field or says why.
TEST(WebApi, RandomBodiesNeverFault) {
  std::mt19937 rng(20261202);
  const std::vector<std::string> values = {"0", "1", "-1", "8", "2048", "1e300", "\"max\"", "\"h20\"", "\"all\"",
                                           "\"llama-3.1-8b\"", "true", "false", "null", "[]", "[\"h20\",\"b200\"]",
                                           "{}", "\"\"", "\"fp8\"", "\"selective\"", "4294967297", "0.5", "\"../x\""};
  std::vector<std::string> commands;
  for (const CommandSpec& c : Commands()) {
    if (Served(c.name)) commands.emplace_back(c.name);
  }
  int ok = 0;
  // Enough bodies that some are valid whatever commands are served (about 1 in 1,700 is: a lone
  // hardware of "h20" or "all" for classify or cost); 600 found one only by luck of the sequence.
  for (int i = 0; i < 20000; ++i) {
    const std::string& command = commands[rng() % commands.size()];
    const CommandSpec& spec = *FindCommand(command);
    std::string body = "{";
    const int n = int(rng() % 8);
    for (int k = 0; k < n; ++k) {
      const std::string key = rng() % 10 == 0 ? "junk" : std::string(spec.fields[rng() % spec.fields.size()].key);
      body += (k ? "," : "") + ("\"" + key + "\":") + values[rng() % values.size()];
    }
    body += "}";
    if (rng() % 10 == 0) body.resize(rng() % (body.size() + 1));  // truncated
    const HttpReply r = Post("/api/" + command, body);
    ASSERT_TRUE(r.status == 200 || r.status == 400) << command << " " << body << " -> " << r.status << " " << r.body;
    if (r.content_type != "application/json") continue;
    const json j = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.body;
    if (r.status == 400) {
      ASSERT_TRUE(j.contains("error") && !j["error"].get<std::string>().empty()) << r.body;
    } else {
      ++ok;
    }
  }
  EXPECT_GT(ok, 0);  // some random requests are valid ones
}

}  // namespace
}  // namespace suanli::web
