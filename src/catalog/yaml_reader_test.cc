#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <string>

#include "catalog/raw_node.h"
#include "support/test_support.h"

namespace suanli {
namespace {

TEST(YamlReader, KeepsLinesAndColumns) {
  auto node = ParseYaml("a: 1\nb:\n  c: hello\n", "f.yaml");
  ASSERT_TRUE(node.has_value());
  const RawNode* c = node->Find("b")->Find("c");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->scalar, "hello");
  EXPECT_EQ(c->line, 3);
  EXPECT_EQ(c->column, 6);
  EXPECT_EQ(*c->file, "f.yaml");
}

TEST(YamlReader, MalformedYamlNamesFileAndLine) {
  auto node = ParseYaml("a: [1, 2\nb: 3\n", "bad.yaml");
  ASSERT_FALSE(node.has_value());
  const Diagnostic& d = node.error().diagnostics.front();
  EXPECT_EQ(d.file, "bad.yaml");
  EXPECT_GT(d.line, 0);
  EXPECT_NE(d.message.find("malformed YAML"), std::string::npos);
}

TEST(YamlReader, DuplicateKeysAreErrors) {
  auto node = ParseYaml("a: 1\na: 2\n", "dup.yaml");
  ASSERT_FALSE(node.has_value());
  EXPECT_EQ(node.error().diagnostics.front().line, 2);
  EXPECT_NE(node.error().ToString().find("duplicate key 'a'"), std::string::npos);
}

// A second document (after '---') used to be dropped unread, and with it
// any syntax error in it: the file's first document was taken as the whole.
TEST(YamlReader, ASecondDocumentIsAnError) {
  auto two = ParseYaml("a: 1\n---\nb: 2\n", "two.yaml");
  ASSERT_FALSE(two.has_value());
  EXPECT_EQ(two.error().diagnostics.front().file, "two.yaml");
  EXPECT_EQ(two.error().diagnostics.front().line, 2);
  EXPECT_NE(two.error().ToString().find("a file holds one YAML document"), std::string::npos) << two.error().ToString();
  EXPECT_FALSE(ParseYaml("a: 1\n---\n[\n", "bad.yaml").has_value());
  // One document with its markers is fine.
  auto one = ParseYaml("---\na: 1\n...\n", "one.yaml");
  ASSERT_TRUE(one.has_value()) << one.error().ToString();
  EXPECT_NE(one->Find("a"), nullptr);
}

TEST(YamlReader, QuotedScalarsAreNotNumbers) {
  auto node = ParseYaml("a: '12'\nb: 12\n", "q.yaml");
  ASSERT_TRUE(node.has_value());
  EXPECT_FALSE(ScalarToDouble(*node->Find("a"), "a").has_value());
  EXPECT_EQ(*ScalarToDouble(*node->Find("b"), "b"), 12);
}

TEST(JsonReader, StrictJsonErrorsCarryLineAndColumn) {
  auto node = ParseJson("{\n  \"a\": 1,\n  \"b\": ,\n}\n", "c.json");
  ASSERT_FALSE(node.has_value());
  const Diagnostic& d = node.error().diagnostics.front();
  EXPECT_EQ(d.line, 3);
  EXPECT_NE(d.message.find("malformed JSON"), std::string::npos);
  // YAML-only syntax is not JSON.
  EXPECT_FALSE(ParseJson("a: 1", "c.json").has_value());
}

TEST(JsonReader, ValidJsonBecomesLocatedTree) {
  auto node = ParseJson("{\"model_type\": \"llama\",\n\t\"hidden_size\": 4096, \"x\": null, \"e\": 1e-05}", "c.json");
  ASSERT_TRUE(node.has_value()) << node.error().ToString();
  EXPECT_EQ(node->Find("model_type")->scalar, "llama");
  EXPECT_EQ(node->Find("hidden_size")->line, 2);
  EXPECT_TRUE(node->Find("x")->IsNull());
  EXPECT_DOUBLE_EQ(*ScalarToDouble(*node->Find("e"), "e"), 1e-5);
}

TEST(JsonReader, NumbersBeyondDoubleRangeAreErrorsNotCrashes) {
  // Found by the fuzzer: nlohmann/json throws out_of_range, not parse_error.
  auto node = ParseJson("3e393", "c.json");
  ASSERT_FALSE(node.has_value());
  EXPECT_NE(node.error().ToString().find("out of range"), std::string::npos);
}

TEST(YamlReader, AliasesExpandAndUnknownAliasesAreErrors) {
  auto node = ParseYaml("base: &b {x: 1}\ncopy: *b\n", "a.yaml");
  ASSERT_TRUE(node.has_value()) << node.error().ToString();
  EXPECT_EQ(node->Find("copy")->Find("x")->scalar, "1");
  EXPECT_FALSE(ParseYaml("a: *nothing\n", "a.yaml").has_value());
  // Quoted scalars are never null or numbers.
  auto q = ParseYaml("a: 'null'\nb: null\nc: ~\n", "q.yaml");
  ASSERT_TRUE(q.has_value());
  EXPECT_TRUE(q->Find("a")->IsScalar());
  EXPECT_TRUE(q->Find("a")->quoted);
  EXPECT_TRUE(q->Find("b")->IsNull());
  EXPECT_TRUE(q->Find("c")->IsNull());
}

// "Billion laughs": each level lists the previous one 10 times, so 8 levels
// of a 474-byte file expand to 10^8 scalars (2.9 GB before the fix).
std::string AliasBomb(int levels) {
  std::string s = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i <= levels; ++i) {
    s += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) s += (j ? ", *a" : "*a") + std::to_string(i - 1);
    s += "]\n";
  }
  return s;
}

TEST(YamlReader, AliasExpansionIsBoundedBeforeCopying) {
  const auto start = std::chrono::steady_clock::now();
  auto bomb = ParseYaml(AliasBomb(8), "laughs.yaml");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(bomb.has_value());
  const Diagnostic& d = bomb.error().diagnostics.front();
  EXPECT_EQ(d.file, "laughs.yaml");
  EXPECT_GT(d.line, 0);  // the alias that crossed the cap
  EXPECT_NE(d.message.find("more than 1,000,000 nodes once aliases are expanded"), std::string::npos) << d.message;
  EXPECT_LT(seconds, 5.0);  // about 0.1 s in a release build
  // A flat list referenced many times (30,000x amplification) stops too.
  std::string flat = "base: &b [";
  for (int i = 0; i < 1000; ++i) flat += i ? ",x" : "x";
  flat += "]\nrefs: [";
  for (int i = 0; i < 5000; ++i) flat += i ? ",*b" : "*b";
  EXPECT_FALSE(ParseYaml(flat + "]\n", "flat.yaml").has_value());
  // Small expansions still work: 5 levels are 100,000 scalars.
  EXPECT_TRUE(ParseYaml(AliasBomb(4), "ok.yaml").has_value());
}

TEST(JsonReader, ManyValuesStopAtTheCapWithoutADom) {
  std::string big = "[";
  for (long i = 0; i <= kMaxDocumentNodes; ++i) big += i ? ",1" : "1";
  auto node = ParseJson(big + "]", "big.json");
  ASSERT_FALSE(node.has_value());
  EXPECT_NE(node.error().ToString().find("more than 1,000,000 values"), std::string::npos) << node.error().ToString();
  // Out-of-range numbers carry their position.
  auto range = ParseJson("{\n  \"a\": 1e400}", "c.json");
  ASSERT_FALSE(range.has_value());
  EXPECT_EQ(range.error().diagnostics.front().line, 2);
  EXPECT_NE(range.error().ToString().find("'1e400' is beyond what a 64-bit float holds"), std::string::npos)
      << range.error().ToString();
}

TEST(YamlReader, NumbersOutOfRangeSaySo) {
  auto node = ParseYaml("a: 1e400\n", "r.yaml");
  ASSERT_TRUE(node.has_value());
  auto v = ScalarToDouble(*node->Find("a"), "a");
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().ToString().find("out of range"), std::string::npos) << v.error().ToString();
}

TEST(ReadInputFile, RefusesDirectoriesDevicesFifosAndLargeFiles) {
  testing::TempDir dir;
  auto is_error = [](const Result<RawNode>& r, const std::string& what) {
    return !r.has_value() && r.error().ToString().find(what) != std::string::npos;
  };
  EXPECT_TRUE(is_error(ParseFile(dir.path()), "is a directory, not a file"));
  EXPECT_TRUE(is_error(ParseFile("/dev/zero"), "is not a regular file"));
  const std::string fifo = dir.path() + "/fifo.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_TRUE(is_error(ParseFile(fifo), "is not a regular file"));  // refused before opening: no hang
  const std::string big = dir.Write("big.yaml", std::string(kMaxInputFileBytes + 1, '#'));
  auto r = ParseFile(big);
  EXPECT_TRUE(is_error(r, "input files are limited to 16 MiB (16,777,216 bytes)")) << r.error().ToString();
  EXPECT_EQ(r.error().diagnostics.front().file, big);
  // A file whose size the file system does not report is capped while reading.
  auto proc = ReadInputFile("/proc/self/maps", 16);
  ASSERT_FALSE(proc.has_value());
  EXPECT_NE(proc.error().ToString().find("is larger than 16 bytes"), std::string::npos) << proc.error().ToString();
  EXPECT_TRUE(ParseFile(dir.Write("ok.yaml", "a: 1\n")).has_value());
}

TEST(YamlReader, MissingFileIsAnError) {
  auto node = ParseFile("/nonexistent/suanli.yaml");
  ASSERT_FALSE(node.has_value());
  EXPECT_NE(node.error().ToString().find("cannot open file"), std::string::npos);
}

}  // namespace
}  // namespace suanli

namespace suanli {
namespace {

TEST(YamlDepth, TooDeepNamesAShortPath) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += std::string(std::size_t(i) * 0, ' ') + "[";
  auto r = ParseYaml(text, "deep.yaml");
  ASSERT_FALSE(r.has_value());
  const Diagnostic& d = r.error().diagnostics.front();
  EXPECT_NE(d.message.find("deeper than"), std::string::npos) << d.message;
  EXPECT_LE(d.key_path.size(), 80u) << d.key_path;
}

}  // namespace
}  // namespace suanli
