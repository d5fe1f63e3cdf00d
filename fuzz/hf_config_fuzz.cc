// libFuzzer target: any bytes as a Hugging Face config.json. The importer
// must return errors, never crash; an accepted model must keep finite,
// non-negative parameters and KV cache, and so must inference and training
// estimates of it (plans drawn from a hash of the input).
#include "fuzz_support.h"
#include "model/model_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto node = suanli::ParseJson(text, "config.json");
  if (!node) return 0;
  auto arch = suanli::ImportHfConfig(*node, "");
  if (!arch) return 0;
  suanli::fuzz::CheckModel(*arch);
  suanli::fuzz::CheckEstimates(*arch, suanli::fuzz::Hash(text));
  return 0;
}
