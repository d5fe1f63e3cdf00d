// The command registry: name -> decode, run, print.
#include "suanli/api/run.h"

#include "suanli/api/commands.h"
#include "suanli/econ/cost.h"
#include "suanli/econ/fleet.h"
#include "suanli/report/econ_json.h"
#include "suanli/report/csv.h"
#include "suanli/report/json.h"
#include "suanli/report/serve_json.h"
#include "suanli/validation/validate.h"

namespace suanli {
namespace {

template <typename Query, typename Decode, typename Run>
Result<std::string> Print(const Catalog& catalog, const Args& args, ResultForm form, Decode decode, Run run) {
  auto query = decode(args);
  if (!query) return std::move(query).error();
  auto result = run(catalog, *query);
  if (!result) return std::move(result).error();
  return form == ResultForm::kCsv ? ToCsv(*result) : ToJson(*result);
}

// The catalog a request runs on: its --release's (ApplyRelease), else `c`.
template <typename Run>
Result<std::string> OnRelease(const Catalog& c, const Args& a, Run run) {
  const auto hardware = a.Get("hardware");
  auto released = ApplyRelease(c, a, hardware ? *hardware : std::string_view());
  if (!released) return std::move(released).error();
  return run(released->Or(c), *released);
}

Result<std::string> Infer(const Catalog& c, const Args& a, ResultForm f) {
  return OnRelease(c, a, [&](const Catalog& rc, const ReleasedCatalog& released) -> Result<std::string> {
    auto query = DecodeInfer(a);
    if (!query) return std::move(query).error();
    auto result = RunInfer(rc, *query);
    if (!result) return std::move(result).error();
    released.AppendWarnings(result->warnings);
    return f == ResultForm::kCsv ? ToCsv(*result) : ToJson(*result);
  });
}
Result<std::string> Compare(const Catalog& c, const Args& a, ResultForm f) {
  return Print<CompareQuery>(c, a, f, DecodeCompare, RunCompare);
}
Result<std::string> Train(const Catalog& c, const Args& a, ResultForm f) {
  return OnRelease(c, a, [&](const Catalog& rc, const ReleasedCatalog& released) -> Result<std::string> {
    auto query = DecodeTrain(a);
    if (!query) return std::move(query).error();
    auto result = RunTrain(rc, *query);
    if (!result) return std::move(result).error();
    result->release_notes = released.notes;
    return f == ResultForm::kCsv ? ToCsv(*result) : ToJson(*result);
  });
}
Result<std::string> Classify(const Catalog& c, const Args& a, ResultForm f) {
  return Print<ClassifyQuery>(c, a, f, DecodeClassify, RunClassify);
}
Result<std::string> Validate(const Catalog& c, const Args& a, ResultForm f) {
  if (auto ok = CheckArgs(CommandFor("validate"), a); !ok) return std::move(ok).error();
  auto options = DecodeValidate(a);
  if (!options) return std::move(options).error();
  auto report = ValidateCases(c, std::string(*a.Get("file")), *options);
  if (!report) return std::move(report).error();
  return f == ResultForm::kCsv ? ToCsv(*report) : ToJson(*report);
}

Result<std::string> Serve(const Catalog& c, const Args& a, ResultForm f, const std::atomic<bool>* cancel) {
  auto query = DecodeServe(a);
  if (!query) return std::move(query).error();
  if (f == ResultForm::kCsv) return Error(Diagnostic{.message = "serve has no CSV form"});
  query->cancel = cancel;
  return OnRelease(c, a, [&](const Catalog& rc, const ReleasedCatalog& released) -> Result<std::string> {
    auto result = RunServe(rc, *query);
    if (!result) return std::move(result).error();
    released.AppendWarnings(result->warnings);
    return ToJson(*result);
  });
}
Result<std::string> Cost(const Catalog& c, const Args& a, ResultForm f, const std::atomic<bool>* cancel) {
  if (f == ResultForm::kCsv) return Error(Diagnostic{.key_path = "csv", .message = "cost has no CSV form; use --json"});
  auto q = DecodeCost(a);
  if (!q) return std::move(q).error();
  if (q->simulation) q->simulation->cancel = cancel;  // --serve: a simulated run stops as serve does
  auto r = RunCostQuery(c, *q);
  if (!r) return std::move(r).error();
  return ToJson(*r);
}
Result<std::string> Fleet(const Catalog& c, const Args& a, ResultForm f, const std::atomic<bool>* cancel) {
  if (f == ResultForm::kCsv) return Error(Diagnostic{.key_path = "csv", .message = "fleet has no CSV form; use --json"});
  auto q = DecodeFleet(a);
  if (!q) return std::move(q).error();
  q->options.cancel = cancel;
  auto r = RunFleet(c, *q);
  if (!r) return std::move(r).error();
  return ToJson(*r);
}

constexpr CommandRunner kRunners[] = {
    {.name = "infer", .run = Infer},       {.name = "compare", .run = Compare},     {.name = "train", .run = Train},
    {.name = "classify", .run = Classify}, {.name = "validate", .run = Validate},
    {.name = "serve", .run = [](const Catalog& c, const Args& a, ResultForm f) { return Serve(c, a, f, nullptr); }},
    {.name = "cost", .run = [](const Catalog& c, const Args& a, ResultForm f) { return Cost(c, a, f, nullptr); }},
    {.name = "fleet", .run = [](const Catalog& c, const Args& a, ResultForm f) { return Fleet(c, a, f, nullptr); }},
};

}  // namespace

std::span<const CommandRunner> RegisteredCommands() { return kRunners; }

const CommandRunner* FindRunner(std::string_view name) {
  for (const auto& r : kRunners) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

Result<std::string> RunCommand(const Catalog& catalog, std::string_view command, const Args& args, ResultForm form) {
  const CommandRunner* r = FindRunner(command);
  if (r == nullptr) {
    std::vector<std::string> names;
    for (const auto& k : kRunners) names.emplace_back(k.name);
    return Error::NotFound(
        Diagnostic{.key_path = "command", .message = "no command '" + std::string(command) + "'" + DidYouMean(command, names)});
  }
  return r->run(catalog, args, form);
}

Result<std::string> RunCommand(const Catalog& catalog, std::string_view command, const Args& args, ResultForm form,
                               const std::atomic<bool>* cancel) {
  if (cancel != nullptr && command == "serve") return Serve(catalog, args, form, cancel);
  if (cancel != nullptr && command == "cost") return Cost(catalog, args, form, cancel);
  if (cancel != nullptr && command == "fleet") return Fleet(catalog, args, form, cancel);
  if (command != "train" || cancel == nullptr) return RunCommand(catalog, command, args, form);
  auto query = DecodeTrain(args);
  if (!query) return std::move(query).error();
  query->options.cancel = cancel;
  auto result = RunTrain(catalog, *query);
  if (!result) return std::move(result).error();
  if (result->searched && result->search.cancelled) {
    return Error(Diagnostic{.key_path = "cancel", .message = "cancelled before the search ended"});
  }
  return form == ResultForm::kCsv ? ToCsv(*result) : ToJson(*result);
}

}  // namespace suanli
