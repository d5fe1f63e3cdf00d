// The only translation unit that includes a YAML (libyaml) or JSON
// (nlohmann/json) library. libyaml's event parser is used directly: it is
// several times faster than a DOM library and gives every event its mark.
#include <yaml.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "catalog/raw_node.h"

namespace suanli {
namespace {

constexpr int kMaxDepth = 200;
constexpr long kMaxNodes = 2'000'000;  // aliases may expand; stop "billion laughs"

class EventReader {
 public:
  EventReader(std::string_view text, const std::string& file) : file_(std::make_shared<const std::string>(file)) {
    yaml_parser_initialize(&parser_);
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  }
  ~EventReader() {
    if (has_event_) yaml_event_delete(&event_);
    yaml_parser_delete(&parser_);
  }
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  Result<RawNode> Document() {
    // STREAM-START, then DOCUMENT-START or STREAM-END (empty input: null).
    if (!Next() || event_.type != YAML_STREAM_START_EVENT) return Fail();
    if (!Next()) return Fail();
    if (event_.type == YAML_STREAM_END_EVENT) return Null();
    if (event_.type != YAML_DOCUMENT_START_EVENT) return Fail();
    if (!Next()) return Fail();
    RawNode root = Node("", 0);
    if (failed_) return Fail();
    if (!diagnostics_.empty()) return Error(std::move(diagnostics_));
    return root;
  }

 private:
  bool Next() {
    if (has_event_) yaml_event_delete(&event_);
    has_event_ = yaml_parser_parse(&parser_, &event_) != 0;
    if (!has_event_) failed_ = true;
    return has_event_;
  }

  Error Fail() {
    if (parser_.error != YAML_NO_ERROR) {
      const yaml_mark_t& m = parser_.problem != nullptr ? parser_.problem_mark : parser_.context_mark;
      std::string what = parser_.problem != nullptr ? parser_.problem : "syntax error";
      if (parser_.context != nullptr) what = std::string(parser_.context) + ": " + what;
      return Error(Diagnostic{.file = *file_, .line = int(m.line) + 1, .column = int(m.column) + 1,
                              .message = "malformed YAML: " + what});
    }
    if (!diagnostics_.empty()) return Error(std::move(diagnostics_));
    return Error(Diagnostic{.file = *file_, .message = "malformed YAML: unexpected structure"});
  }

  RawNode Null() const {
    RawNode n;
    n.file = file_;
    return n;
  }

  RawNode Located() const {
    RawNode n;
    n.file = file_;
    n.line = int(event_.start_mark.line) + 1;
    n.column = int(event_.start_mark.column) + 1;
    return n;
  }

  void Anchor(const unsigned char* anchor, const RawNode& node) {
    if (anchor != nullptr) anchors_[reinterpret_cast<const char*>(anchor)] = node;
  }

  // Reads the node whose first event is current; on return the current
  // event is its last one.
  RawNode Node(const std::string& path, int depth) {
    RawNode out = Located();
    if (failed_) return out;
    if (++nodes_ > kMaxNodes) {
      failed_ = true;
      diagnostics_.push_back(out.At(path, "document too large (more than 2,000,000 nodes after aliases)"));
      return out;
    }
    if (depth > kMaxDepth) {
      failed_ = true;
      diagnostics_.push_back(out.At(path, "nesting is deeper than " + std::to_string(kMaxDepth) + " levels"));
      return out;
    }
    switch (event_.type) {
      case YAML_ALIAS_EVENT: {
        auto it = anchors_.find(reinterpret_cast<const char*>(event_.data.alias.anchor));
        if (it == anchors_.end()) {
          diagnostics_.push_back(out.At(path, "unknown alias"));
          return out;
        }
        nodes_ += 1;
        return it->second;
      }
      case YAML_SCALAR_EVENT: {
        const auto& sc = event_.data.scalar;
        out.scalar.assign(reinterpret_cast<const char*>(sc.value), sc.length);
        const bool plain = sc.style == YAML_PLAIN_SCALAR_STYLE || sc.style == YAML_ANY_SCALAR_STYLE;
        const bool null = plain && (out.scalar.empty() || out.scalar == "~" || out.scalar == "null" ||
                                    out.scalar == "Null" || out.scalar == "NULL");
        out.kind = null ? RawNode::Kind::kNull : RawNode::Kind::kScalar;
        if (null) out.scalar.clear();
        out.quoted = !plain;
        Anchor(sc.anchor, out);
        return out;
      }
      case YAML_SEQUENCE_START_EVENT: {
        out.kind = RawNode::Kind::kSequence;
        const unsigned char* anchor = event_.data.sequence_start.anchor;
        std::string anchor_name = anchor != nullptr ? reinterpret_cast<const char*>(anchor) : "";
        while (Next() && event_.type != YAML_SEQUENCE_END_EVENT) {
          out.items.push_back(Node(path + "[" + std::to_string(out.items.size()) + "]", depth + 1));
          if (failed_) return out;
        }
        if (!anchor_name.empty()) anchors_[anchor_name] = out;
        return out;
      }
      case YAML_MAPPING_START_EVENT: {
        out.kind = RawNode::Kind::kMap;
        const unsigned char* anchor = event_.data.mapping_start.anchor;
        std::string anchor_name = anchor != nullptr ? reinterpret_cast<const char*>(anchor) : "";
        while (Next() && event_.type != YAML_MAPPING_END_EVENT) {
          RawNode key = Node(path, depth + 1);
          if (failed_ || !Next()) return out;
          const bool key_ok = key.IsScalar() || (key.IsNull() && key.line > 0);
          std::string name = key.scalar;
          std::string child_path = path.empty() ? name : path + "." + name;
          RawNode value = Node(child_path, depth + 1);
          if (failed_) return out;
          if (!key_ok || key.IsSequence() || key.IsMap()) {
            diagnostics_.push_back(key.At(path, "a map key must be a plain name"));
            continue;
          }
          if (out.Find(name) != nullptr) {
            diagnostics_.push_back(key.At(child_path, "duplicate key '" + name + "'"));
            continue;
          }
          out.keys.push_back(std::move(name));
          out.items.push_back(std::move(value));
        }
        if (!anchor_name.empty()) anchors_[anchor_name] = out;
        return out;
      }
      default:
        failed_ = true;
        return out;
    }
  }

  std::shared_ptr<const std::string> file_;
  yaml_parser_t parser_{};
  yaml_event_t event_{};
  bool has_event_ = false;
  bool failed_ = false;
  long nodes_ = 0;
  std::map<std::string, RawNode, std::less<>> anchors_;
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace

Result<RawNode> ParseYaml(std::string_view text, const std::string& file) {
  EventReader reader(text, file);
  return reader.Document();
}

Result<RawNode> ParseJson(std::string_view text, const std::string& file) {
  try {
    const auto parsed = nlohmann::json::parse(text);
    static_cast<void>(parsed);
  } catch (const nlohmann::json::out_of_range& e) {
    // A number beyond double range ("1e400"): the parser reports no position.
    return Error(Diagnostic{.file = file, .message = std::string("malformed JSON: number out of range (") + e.what() + ")"});
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
  // Valid JSON is valid YAML flow syntax: reuse the located YAML tree,
  // except that tabs (legal JSON whitespace) are not YAML indentation.
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
