// Software generations as data: a profile's release-specific figures, picked
// by --release or by a case's software (docs/validation.md).
#include <gtest/gtest.h>

#include "support/test_support.h"
#include "suanli/api/commands.h"
#include "suanli/catalog/catalog.h"
#include "suanli/validation/validate.h"

namespace suanli {
namespace {

TEST(CompareVersions, OrdersDottedNumbers) {
  EXPECT_LT(CompareVersions("0.4.6", "0.4.10"), 0);
  EXPECT_EQ(CompareVersions("v0.5.3", "0.5.3"), 0);
  EXPECT_EQ(CompareVersions("3.0", "3.0.0"), 0);
  EXPECT_GT(CompareVersions("3.0", "2.5.8"), 0);
  EXPECT_LT(CompareVersions("2.5.8", "2.6"), 0);
}

// A profile with two releases of one library.
Profile TwoReleases() {
  Profile p;
  p.id = "p";
  Figure base{.value = 0.3}, old{.value = 0.4}, next{.value = 0.6};
  p.figures["attention.efficiency"] = base;
  p.releases.push_back(ProfileRelease{.framework = "flash-attention", .version = "2.5.8", .notes = "", .figures = {{"attention.efficiency", old}}});
  p.releases.push_back(ProfileRelease{.framework = "flash-attention", .version = "3.0", .notes = "", .figures = {{"attention.efficiency", next}}});
  return p;
}

TEST(PickRelease, ExactElseNearestOlderElseTheProfilesOwn) {
  const Profile p = TwoReleases();
  std::string note;
  // Exact.
  const ProfileRelease* r = p.PickRelease({"flash-attention", "3.0.0"}, &note);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->version, "3.0");
  EXPECT_EQ(note.find("no figures"), std::string::npos);
  // Names compare as letters and digits.
  EXPECT_NE(p.PickRelease({"FlashAttention", "3.0"}, nullptr), nullptr);
  // Between releases: the nearest older, said so.
  r = p.PickRelease({"flash-attention", "2.7.1"}, &note);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->version, "2.5.8");
  EXPECT_NE(note.find("nearest older"), std::string::npos) << note;
  // Newer than all: the newest.
  r = p.PickRelease({"flash-attention", "3.1"}, &note);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->version, "3.0");
  // Older than all, or no version: the profile's own figures, said so.
  EXPECT_EQ(p.PickRelease({"flash-attention", "2.3"}, &note), nullptr);
  EXPECT_NE(note.find("its own figures"), std::string::npos) << note;
  EXPECT_EQ(p.PickRelease({"flash-attention", "nightly"}, &note), nullptr);
  EXPECT_NE(note.find("no version number"), std::string::npos) << note;
  // Another framework: nothing to say.
  EXPECT_EQ(p.PickRelease({"sglang", "0.4.6"}, &note), nullptr);
  EXPECT_TRUE(note.empty());
  EXPECT_TRUE(p.HasReleasesOf("Flash_Attention"));
  EXPECT_FALSE(p.HasReleasesOf("vllm"));
}

TEST(ForRelease, TheShippedHopperProfileCarriesFlashAttentionTwoAndThree) {
  const Catalog& c = testing::ShippedCatalog();
  const Profile* hopper = c.FindProfile("nvidia-hopper");
  ASSERT_NE(hopper, nullptr);
  ASSERT_TRUE(hopper->HasReleasesOf("flash-attention"));
  for (const auto& r : hopper->releases) {
    for (const auto& [key, f] : r.figures) {
      EXPECT_FALSE(f.sources.empty()) << key;  // every figure sourced
      EXPECT_EQ(f.basis, Basis::kMeasured) << key;
    }
  }
  std::vector<std::string> notes;
  const Catalog fa3 = c.ForRelease({"flash-attention", "3.0"}, &notes);
  const Catalog fa2 = c.ForRelease({"flash-attention", "2.5.8"}, nullptr);
  const double own = *hopper->Get("attention.efficiency");
  const double two = *fa2.FindProfile("nvidia-hopper")->Get("attention.efficiency");
  const double three = *fa3.FindProfile("nvidia-hopper")->Get("attention.efficiency");
  EXPECT_GT(three, two);
  EXPECT_NE(two, own);
  // Profiles without releases of it keep their figures; the original is untouched.
  EXPECT_EQ(fa3.FindProfile("nvidia-ampere")->Get("attention.efficiency"), c.FindProfile("nvidia-ampere")->Get("attention.efficiency"));
  EXPECT_EQ(*hopper->Get("attention.efficiency"), own);
  EXPECT_FALSE(notes.empty());
}

TEST(ApplyRelease, PicksForTheHardwaresProfileAndRejectsBadText) {
  const Catalog& c = testing::ShippedCatalog();
  Args a;
  a.Set("release", "flash-attention=3.0.0");
  auto r = ApplyRelease(c, a, "h100-sxm");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->catalog.has_value());
  ASSERT_EQ(r->notes.size(), 1U);
  EXPECT_NE(r->notes[0].find("nvidia-hopper"), std::string::npos);
  // Inference predicts a faster prefill with FlashAttention-3 on an H100.
  auto q = DecodeInfer([] {
    Args x;
    x.Set("hardware", "h100-sxm");
    x.Set("model", "llama-3.1-8b");
    x.Set("input_tokens", "16384");
    x.Set("output_tokens", "1");
    return x;
  }());
  ASSERT_TRUE(q.has_value()) << q.error().ToString();
  auto base = RunInfer(c, *q);
  auto fa3 = RunInfer(*r->catalog, *q);
  ASSERT_TRUE(base.has_value() && fa3.has_value());
  EXPECT_LT(fa3->estimate.ttft_s, base->estimate.ttft_s);
  // A chip whose profile has no such releases: a note, figures unchanged.
  auto a100 = ApplyRelease(c, a, "a100-sxm-80gb");
  ASSERT_TRUE(a100.has_value());
  ASSERT_EQ(a100->notes.size(), 1U);
  EXPECT_NE(a100->notes[0].find("has no figures"), std::string::npos) << a100->notes[0];
  // Absent: no catalog. Malformed: an error naming the flag.
  EXPECT_FALSE(ApplyRelease(c, Args{}, "h100-sxm")->catalog.has_value());
  for (const char* bad : {"flash-attention", "=3.0", "flash-attention=", ""}) {
    Args b;
    b.Set("release", bad);
    auto e = ApplyRelease(c, b, "h100-sxm");
    ASSERT_FALSE(e.has_value()) << bad;
    EXPECT_NE(e.error().ToString().find("--release"), std::string::npos);
  }
}

// A case naming FlashAttention 3 in its software is predicted with that
// release's figures, and says so; one naming 2.3 keeps the profile's own.
TEST(ForRelease, ACaseNamingItsReleaseUsesIt) {
  testing::TempDir dir;
  const std::string cases = R"yaml(cases:
- id: fa3
  group: g
  kind: inference
  hardware: {chip: NVIDIA H100 SXM 80GB, count: 1}
  model: {name: Llama 3.1 8B, layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
  workload: {scenario: static batch, batch_or_concurrency: 1, input_len: 16384, output_len: 1, precision: bf16, tp: 1}
  result: {ttft_ms: 900}
  software: {framework: "PyTorch + FlashAttention 3.0 (hopper)", version: null}
- id: fa-old
  group: g
  kind: inference
  hardware: {chip: NVIDIA H100 SXM 80GB, count: 1}
  model: {name: Llama 3.1 8B, layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
  workload: {scenario: static batch, batch_or_concurrency: 1, input_len: 16384, output_len: 1, precision: bf16, tp: 1}
  result: {ttft_ms: 900}
  software: {framework: flash-attention, version: "2.3.0"}
- id: plain
  group: g
  kind: inference
  hardware: {chip: NVIDIA H100 SXM 80GB, count: 1}
  model: {name: Llama 3.1 8B, layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
  workload: {scenario: static batch, batch_or_concurrency: 1, input_len: 16384, output_len: 1, precision: bf16, tp: 1}
  result: {ttft_ms: 900}
)yaml";
  auto report = ValidateCases(testing::ShippedCatalog(), dir.Write("c.yaml", cases));
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  ASSERT_EQ(report->cases.size(), 3U);
  const CaseResult& fa3 = report->cases[0];
  const CaseResult& old = report->cases[1];
  const CaseResult& plain = report->cases[2];
  EXPECT_LT(fa3.predicted, plain.predicted);
  EXPECT_NE(fa3.assumption.find("flash-attention 3.0"), std::string::npos) << fa3.assumption;
  EXPECT_DOUBLE_EQ(old.predicted, plain.predicted);
  EXPECT_NE(old.assumption.find("its own figures"), std::string::npos) << old.assumption;
  EXPECT_EQ(plain.assumption.find("software"), std::string::npos);
}

}  // namespace
}  // namespace suanli
