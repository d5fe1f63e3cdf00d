// The front-end surface: decoding, defaults, and the command registry.
#include <gtest/gtest.h>

#include <thread>

#include "support/test_support.h"
#include "suanli/api/chip_scope.h"
#include "suanli/api/commands.h"
#include "suanli/api/run.h"
#include "suanli/catalog/what_if.h"

namespace suanli {
namespace {

Args Make(std::initializer_list<std::pair<const char*, const char*>> kv) {
  Args a;
  for (auto [k, v] : kv) a.Set(k, v);
  return a;
}

TEST(Api, Fp8WeightsComputeInFp8ThroughTheLibrary) {
  // The default every front end gets: fp8 checkpoints run their GEMMs in fp8.
  auto q = DecodeInfer(Make({{"hardware", "h20"}, {"model", "llama-3.1-70b"}, {"input_tokens", "2048"},
                             {"output_tokens", "512"}, {"tp", "8"}, {"weights", "fp8"}}));
  ASSERT_TRUE(q.has_value()) << q.error().ToString();
  EXPECT_EQ(q->plan.precision.activations, Dtype::kFp8);
  auto r = RunInfer(testing::ShippedCatalog(), *q);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->estimate.compute_dtype, Dtype::kFp8);
  auto w4 = DecodeInfer(Make({{"hardware", "h20"}, {"model", "llama-3.1-70b"}, {"input_tokens", "1"},
                              {"output_tokens", "1"}, {"weights", "int4"}}));
  ASSERT_TRUE(w4.has_value());
  EXPECT_EQ(w4->plan.precision.activations, Dtype::kBf16);  // weight-only formats compute at 16 bits
}

// A what-if chip in scope is hardware by its id for every command, on this thread only.
TEST(Api, ScopedChipsAreHardwareByIdWhileInScope) {
  const Catalog& catalog = testing::ShippedCatalog();
  const FigureOverride o[] = {{"compute.fp8", "888 TFLOPS"}};
  auto chip = ChipWithOverrides(catalog, "h20", "h20-3x", "H20 3x", o);
  ASSERT_TRUE(chip.has_value()) << chip.error().ToString();
  Args a;
  for (auto [k, v] : {std::pair{"hardware", "h20-3x"}, {"rules", "us-2023-10"}}) a.Set(k, v);
  EXPECT_FALSE(RunCommand(catalog, "classify", a).has_value());
  const std::vector<Chip> chips = {*chip};
  {
    const ScopedChips scope(chips);
    EXPECT_EQ(FindScopedChip("h20-3x"), &chips[0]);
    auto r = RunCommand(catalog, "classify", a);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    // The same chip as a file: the same answer.
    testing::TempDir dir;
    Args f = a;
    f.Set("hardware", dir.Write("h20-3x.yaml", "id: h20-3x\nextends: h20\nname: H20 3x\ncompute:\n  fp8: {value: \"888 TFLOPS\", "
                                               "basis: estimated, source: [WHAT_IF], note: \"a what-if figure\"}\n"));
    auto want = RunCommand(catalog, "classify", f);
    ASSERT_TRUE(want.has_value()) << want.error().ToString();
    EXPECT_EQ(*r, *want);
    EXPECT_NE(r->find("h20-3x"), std::string::npos);
    std::thread other([] { EXPECT_EQ(FindScopedChip("h20-3x"), nullptr); });
    other.join();
    // A thread the caller starts sees the chips once it passes them on.
    const std::span<const Chip> passed = ScopedChipsOnThisThread();
    EXPECT_EQ(passed.data(), chips.data());
    std::thread given([passed] {
      const ScopedChips on_this_thread(passed);
      EXPECT_NE(FindScopedChip("h20-3x"), nullptr);
    });
    given.join();
    {
      const ScopedChips inner(std::span<const Chip>{});
      EXPECT_EQ(FindScopedChip("h20-3x"), nullptr);
    }
    EXPECT_NE(FindScopedChip("h20-3x"), nullptr);
  }
  EXPECT_EQ(FindScopedChip("h20-3x"), nullptr);
}

TEST(Api, EveryRegisteredCommandHasAFieldTable) {
  for (const CommandRunner& r : RegisteredCommands()) EXPECT_NE(FindCommand(r.name), nullptr) << r.name;
  for (const CommandSpec& c : Commands()) EXPECT_NE(FindRunner(c.name), nullptr) << c.name;
}

TEST(Api, RunCommandMatchesTheTypedPathAndNamesErrorsByKey) {
  const Args args = Make({{"hardware", "hgx-h100"}, {"model", "llama-3.1-8b"}, {"input_tokens", "512"},
                          {"output_tokens", "64"}, {"batch", "4"}});
  auto json = RunCommand(testing::ShippedCatalog(), "infer", args);
  ASSERT_TRUE(json.has_value()) << json.error().ToString();
  EXPECT_NE(json->find("\"ttft_s\""), std::string::npos);
  auto bad = RunCommand(testing::ShippedCatalog(), "infer", Make({{"hardware", "h20"}}));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().diagnostics.front().key_path, "model");  // required fields, by key
  auto none = RunCommand(testing::ShippedCatalog(), "infre", args);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(none.error().ToString().find("did you mean 'infer'"), std::string::npos);
}

TEST(Api, JsonBodiesAreCheckedFieldByField) {
  auto args = ArgsFromJson(CommandFor("infer"), R"({"hardware": "h20", "modle": "x", "tp": [1], "sparsity": "yes"})");
  ASSERT_FALSE(args.has_value());
  const std::string all = args.error().ToString();
  EXPECT_NE(all.find("modle: not a field of infer (did you mean 'model'?)"), std::string::npos) << all;
  EXPECT_NE(all.find("tp: expected an integer, found a list"), std::string::npos) << all;
  EXPECT_NE(all.find("sparsity: expected true or false"), std::string::npos) << all;
  auto list = ArgsFromJson(CommandFor("compare"), R"({"hardware": ["h20", "h100-sxm"]})");
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(*list->Get("hardware"), "h20,h100-sxm");
}

TEST(Api, CatalogDiscoveryHonoursTheExplicitDirectory) {
  auto dir = FindCatalogDir("/some/where");
  ASSERT_TRUE(dir.has_value());
  EXPECT_EQ(*dir, "/some/where");
  auto found = FindCatalogDir("");
  ASSERT_TRUE(found.has_value()) << found.error().ToString();
}

}  // namespace
}  // namespace suanli
