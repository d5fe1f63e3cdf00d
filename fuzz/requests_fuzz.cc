// libFuzzer target: any bytes as a request body, the way the CLI's flags and
// the HTTP API's JSON both reach the library: read as a JSON object of one
// command's fields (ArgsFromJson; the command picked by a hash of the whole
// input), decoded (every field's type, bounds and choices checked, defaults
// applied) and, when it decodes, run against the shipped catalog. Every
// outcome must be a result or an error value, bounded and finite.
#include "fuzz_support.h"
#include "suanli/api/commands.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace suanli;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto commands = Commands();
  const CommandSpec& spec = commands[fuzz::Hash(text) % commands.size()];
  auto args = ArgsFromJson(spec, text);
  if (!args) return 0;
  const Catalog& catalog = fuzz::ShippedCatalog();
  const std::string_view name = spec.name;
  if (name == "infer") {
    if (auto q = DecodeInfer(*args)) {
      if (auto r = RunInfer(catalog, *q); r && !fuzz::Finite(r->estimate.tpot_s)) std::abort();
    }
  } else if (name == "compare") {
    if (auto q = DecodeCompare(*args); q && q->hardware.size() <= 4) (void)RunCompare(catalog, *q);
  } else if (name == "train") {
    if (auto q = DecodeTrain(*args)) {
      // A search over a fuzzed request is bounded by its candidates; keep a run quick.
      if (q->search && q->request.devices > 64) return 0;
      if (auto r = RunTrain(catalog, *q); r && !r->searched && !fuzz::Finite(r->estimate.step_time_s)) std::abort();
    }
  } else if (name == "classify") {
    if (auto q = DecodeClassify(*args)) (void)RunClassify(catalog, *q);
  } else {
    (void)CheckArgs(spec, *args);  // validate reads files: only its fields here
  }
  return 0;
}
