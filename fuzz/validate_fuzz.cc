// libFuzzer target: any bytes as a validation case file (a vTrain CSV when
// the first line has commas and no colon, else the dev-cases YAML format), validated against
// the shipped catalog. It must return errors, never crash, and every error
// statistic it reports must be finite.
#include "fuzz_support.h"
#include "suanli/validation/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string_view first = text.substr(0, text.find('\n'));
  const bool csv = first.find(',') != std::string_view::npos && first.find(':') == std::string_view::npos;
  const std::string path = suanli::fuzz::WriteScratch(csv ? "cases.csv" : "cases.yaml", text);
  auto report = suanli::ValidateCases(suanli::fuzz::ShippedCatalog(), path);
  if (!report) return 0;
  auto finite = [](const suanli::ErrorStats& s) {
    return std::isfinite(s.median_ape) && std::isfinite(s.mean_ape) && std::isfinite(s.max_ape) && std::isfinite(s.bias);
  };
  if (!finite(report->overall)) std::abort();
  for (const auto& [group, stats] : report->groups) {
    if (!finite(stats)) std::abort();
  }
  return 0;
}
