// The only translation unit that includes yaml-cpp and nlohmann/json.
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "raw_node.h"

namespace suanli {
namespace {

constexpr int kMaxDepth = 200;

struct Converter {
  std::shared_ptr<const std::string> file;
  std::vector<Diagnostic> diagnostics;

  RawNode Convert(const YAML::Node& node, const std::string& path, int depth) {
    RawNode out;
    out.file = file;
    out.line = node.Mark().line + 1;
    out.column = node.Mark().column + 1;
    if (depth > kMaxDepth) {
      diagnostics.push_back(out.At(path, "nesting is deeper than " + std::to_string(kMaxDepth) + " levels"));
      return out;
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out.kind = RawNode::Kind::kNull;
        break;
      case YAML::NodeType::Scalar:
        out.kind = RawNode::Kind::kScalar;
        out.scalar = node.Scalar();
        out.quoted = node.Tag() == "!";
        break;
      case YAML::NodeType::Sequence:
        out.kind = RawNode::Kind::kSequence;
        out.items.reserve(node.size());
        for (std::size_t i = 0; i < node.size(); ++i) {
          out.items.push_back(Convert(node[i], path + "[" + std::to_string(i) + "]", depth + 1));
        }
        break;
      case YAML::NodeType::Map:
        out.kind = RawNode::Kind::kMap;
        for (const auto& kv : node) {
          RawNode key_node;
          key_node.file = file;
          key_node.line = kv.first.Mark().line + 1;
          key_node.column = kv.first.Mark().column + 1;
          if (!kv.first.IsScalar()) {
            diagnostics.push_back(key_node.At(path, "a map key must be a plain name"));
            continue;
          }
          std::string key = kv.first.Scalar();
          std::string child_path = path.empty() ? key : path + "." + key;
          if (out.Find(key) != nullptr) {
            diagnostics.push_back(key_node.At(child_path, "duplicate key '" + key + "'"));
            continue;
          }
          out.keys.push_back(key);
          out.items.push_back(Convert(kv.second, child_path, depth + 1));
        }
        break;
    }
    return out;
  }
};

}  // namespace

Result<RawNode> ParseYaml(std::string_view text, const std::string& file) {
  auto file_name = std::make_shared<const std::string>(file);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Error(Diagnostic{.file = file,
                            .line = e.mark.is_null() ? 0 : e.mark.line + 1,
                            .column = e.mark.is_null() ? 0 : e.mark.column + 1,
                            .message = "malformed YAML: " + e.msg});
  }
  Converter converter{.file = file_name, .diagnostics = {}};
  RawNode out;
  try {
    out = converter.Convert(root, "", 0);
  } catch (const YAML::Exception& e) {
    return Error(Diagnostic{.file = file, .message = "malformed YAML: " + e.msg});
  }
  if (!converter.diagnostics.empty()) return Error(std::move(converter.diagnostics));
  return out;
}

Result<RawNode> ParseJson(std::string_view text, const std::string& file) {
  try {
    const auto parsed = nlohmann::json::parse(text);
    static_cast<void>(parsed);
  } catch (const nlohmann::json::parse_error& e) {
    // Translate the byte offset into line and column.
    const std::size_t offset = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    int line = 1, column = 1;
    for (std::size_t i = 0; i < offset; ++i) {
      if (text[i] == '\n') { ++line; column = 1; } else { ++column; }
    }
    std::string what = e.what();
    const auto pos = what.find("syntax error");
    if (pos != std::string::npos) what = what.substr(pos);
    return Error(Diagnostic{.file = file, .line = line, .column = column,
                            .message = "malformed JSON: " + what});
  }
  // Valid JSON is valid YAML 1.2 flow syntax: reuse the located YAML tree,
  // except that tabs (legal JSON whitespace) confuse yaml-cpp's indentation.
  std::string untabbed(text);
  for (char& c : untabbed) {
    if (c == '\t') c = ' ';
  }
  return ParseYaml(untabbed, file);
}

Result<RawNode> ParseFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Diagnostic{.file = path, .message = "cannot open file"});
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF) {
    text.erase(0, 3);  // UTF-8 byte-order mark
  }
  const bool json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  return json ? ParseJson(text, path) : ParseYaml(text, path);
}

const RawNode* RawNode::Find(std::string_view key) const {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) return &items[i];
  }
  return nullptr;
}

RawNode* RawNode::Find(std::string_view key) {
  return const_cast<RawNode*>(static_cast<const RawNode*>(this)->Find(key));
}

Diagnostic RawNode::At(std::string key_path, std::string message) const {
  return Diagnostic{.file = file ? *file : std::string(), .line = line, .column = column,
                    .key_path = std::move(key_path), .message = std::move(message)};
}

std::string_view RawNode::KindName() const {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kScalar: return "a scalar";
    case Kind::kSequence: return "a list";
    case Kind::kMap: return "a map";
  }
  return "?";
}

Result<double> ScalarToDouble(const RawNode& node, const std::string& key_path) {
  if (!node.IsScalar() || node.quoted) {
    return Error(node.At(key_path, "expected a number, found " +
                                       (node.IsScalar() ? "'" + node.scalar + "'" : std::string(node.KindName()))));
  }
  const std::string& s = node.scalar;
  double v = 0;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end || !std::isfinite(v)) {
    return Error(node.At(key_path, "expected a number, found '" + s + "'"));
  }
  return v;
}

Result<long long> ScalarToInt(const RawNode& node, const std::string& key_path) {
  auto d = ScalarToDouble(node, key_path);
  if (!d) return std::move(d).error();
  const double v = *d;
  if (v != std::floor(v) || std::fabs(v) > 9.0e15) {
    return Error(node.At(key_path, "expected a whole number, found '" + node.scalar + "'"));
  }
  return static_cast<long long>(v);
}

Result<bool> ScalarToBool(const RawNode& node, const std::string& key_path) {
  if (node.IsScalar() && !node.quoted) {
    if (node.scalar == "true" || node.scalar == "True") return true;
    if (node.scalar == "false" || node.scalar == "False") return false;
  }
  return Error(node.At(key_path, "expected true or false, found " +
                                     (node.IsScalar() ? "'" + node.scalar + "'" : std::string(node.KindName()))));
}

}  // namespace suanli
