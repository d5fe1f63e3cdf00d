// libFuzzer target: `extends:` resolution and classification. The input is
// split at lines "#--" into up to four files: a chip file loaded against the
// shipped catalog (it may extend any chip) and classified under every rule
// set, then a scratch catalog of two chips, a system and a profile (which may
// extend each other, in cycles) loaded and classified. Loading must return
// errors, never crash; every metric of an accepted chip must stay finite.
#include "fuzz_support.h"
#include "suanli/policy/classify.h"

namespace {

void CheckClassification(const suanli::Chip& chip, const suanli::Catalog& rules_from) {
  for (const auto& rules : rules_from.rules()) {
    const suanli::Classification c = suanli::Classify(chip, rules);
    const auto& m = c.metrics;
    for (const auto& v : {m.tpp, m.performance_density, m.io_bidirectional, m.dram_bandwidth}) {
      if (v && !suanli::fuzz::Finite(*v)) std::abort();
    }
    for (const auto& h : c.headroom) {
      if (!std::isfinite(h.current) || !std::isfinite(h.margin) || (h.limit && !std::isfinite(*h.limit))) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string_view parts[4];
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    const auto cut = i < 3 ? rest.find("\n#--\n") : std::string_view::npos;
    parts[i] = rest.substr(0, cut);
    rest = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 5);
  }
  const suanli::Catalog& shipped = suanli::fuzz::ShippedCatalog();
  std::vector<std::string> warnings;
  if (auto chip = shipped.LoadChipFile(suanli::fuzz::WriteScratch("user/chip.yaml", parts[0]), &warnings)) {
    CheckClassification(*chip, shipped);
  }
  suanli::fuzz::WriteScratch("cat/sources/s.yaml", "SRC:\n  title: A datasheet\n  locator: https://example.com\n");
  suanli::fuzz::WriteScratch("cat/chips/a.yaml", parts[0]);
  suanli::fuzz::WriteScratch("cat/chips/b.yaml", parts[1]);
  suanli::fuzz::WriteScratch("cat/systems/s.yaml", parts[2]);
  suanli::fuzz::WriteScratch("cat/profiles/p.yaml", parts[3]);
  if (auto catalog = suanli::Catalog::Load((suanli::fuzz::ScratchDir() / "cat").string())) {
    for (const auto& chip : catalog->chips()) CheckClassification(chip, shipped);
  }
  return 0;
}
