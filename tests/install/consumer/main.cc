// Estimates one deployment through the installed library, finding the
// installed catalog by itself; prints the TTFT.
#include <cstdio>

#include "suanli/api/commands.h"

int main() {
  auto dir = suanli::FindCatalogDir("");
  if (!dir) return 3;
  auto catalog = suanli::Catalog::Load(*dir);
  if (!catalog) return 4;
  suanli::Args args;
  for (auto [k, v] : {std::pair{"hardware", "h20"}, std::pair{"model", "llama-3.1-8b"},
                      std::pair{"input_tokens", "128"}, std::pair{"output_tokens", "16"}}) {
    args.Set(k, v);
  }
  auto query = suanli::DecodeInfer(args);
  if (!query) return 5;
  auto result = suanli::RunInfer(*catalog, *query);
  if (!result) return 6;
  std::printf("%s ttft_s %.6g\n", dir->c_str(), result->estimate.ttft_s);
  return 0;
}
