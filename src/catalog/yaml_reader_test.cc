#include <gtest/gtest.h>

#include "catalog/raw_node.h"

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

TEST(YamlReader, MissingFileIsAnError) {
  auto node = ParseFile("/nonexistent/suanli.yaml");
  ASSERT_FALSE(node.has_value());
  EXPECT_NE(node.error().ToString().find("cannot open file"), std::string::npos);
}

}  // namespace
}  // namespace suanli
