// The only translation unit that includes a YAML (libyaml) or JSON
// (nlohmann/json) library. libyaml's event parser is used directly: it is
// several times faster than a DOM library and gives every event its mark.
#include <yaml.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "catalog/raw_node.h"

namespace suanli {
namespace {

constexpr int kMaxDepth = 200;

// "16,777,216" for messages.
std::string Grouped(unsigned long long v) {
  std::string digits = std::to_string(v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string TooManyNodes() {
  return "document too large: more than " + Grouped(kMaxDocumentNodes) +
         " nodes once aliases are expanded (an alias copies its anchor's whole subtree, and every copy counts)";
}

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
    // DOCUMENT-END, then STREAM-END: a second document would be ignored.
    if (!Next() || event_.type != YAML_DOCUMENT_END_EVENT || !Next()) return Fail();
    if (event_.type != YAML_STREAM_END_EVENT) {
      return Error(Located().At("", "a file holds one YAML document; a second one starts here (remove the '---' or split the file)"));
    }
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

  // Counts `n` more nodes built; false (and a diagnostic at `at`) past the cap.
  bool Spend(long n, const RawNode& at, const std::string& path) {
    nodes_ += n;
    if (nodes_ <= kMaxDocumentNodes) return true;
    failed_ = true;
    diagnostics_.push_back(at.At(path, TooManyNodes()));
    return false;
  }

  // Keeps a copy of an anchored node of `size` nodes for its aliases; the copy
  // counts against the cap like the tree itself.
  void Anchor(const std::string& name, const RawNode& node, long size, const std::string& path) {
    if (name.empty() || !Spend(size, node, path)) return;
    anchors_[name] = Anchored{node, size};
  }

  static std::string AnchorName(const unsigned char* anchor) {
    return anchor != nullptr ? reinterpret_cast<const char*>(anchor) : "";
  }

  // Reads the node whose first event is current; on return the current
  // event is its last one.
  RawNode Node(const std::string& path, int depth) {
    RawNode out = Located();
    if (failed_ || !Spend(1, out, path)) return out;
    const long first = nodes_;
    if (depth > kMaxDepth) {
      failed_ = true;
      // The path of a node this deep is hundreds of characters: name its start and end.
      const std::string shown = path.size() > 80 ? path.substr(0, 40) + "..." + path.substr(path.size() - 30) : path;
      diagnostics_.push_back(out.At(shown, "nesting is deeper than " + std::to_string(kMaxDepth) + " levels"));
      return out;
    }
    switch (event_.type) {
      case YAML_ALIAS_EVENT: {
        auto it = anchors_.find(reinterpret_cast<const char*>(event_.data.alias.anchor));
        if (it == anchors_.end()) {
          diagnostics_.push_back(out.At(path, "unknown alias"));
          return out;
        }
        // Bounded before copying: the copy is as large as the anchored subtree.
        if (!Spend(it->second.size, out, path)) return out;
        return it->second.node;
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
        Anchor(AnchorName(sc.anchor), out, 1, path);
        return out;
      }
      case YAML_SEQUENCE_START_EVENT: {
        out.kind = RawNode::Kind::kSequence;
        const std::string anchor_name = AnchorName(event_.data.sequence_start.anchor);
        while (Next() && event_.type != YAML_SEQUENCE_END_EVENT) {
          out.items.push_back(Node(path + "[" + std::to_string(out.items.size()) + "]", depth + 1));
          if (failed_) return out;
        }
        Anchor(anchor_name, out, nodes_ - first + 1, path);
        return out;
      }
      case YAML_MAPPING_START_EVENT: {
        out.kind = RawNode::Kind::kMap;
        const std::string anchor_name = AnchorName(event_.data.mapping_start.anchor);
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
        Anchor(anchor_name, out, nodes_ - first + 1, path);
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
  struct Anchored {
    RawNode node;
    long size = 0;  // nodes in `node`'s subtree
  };
  long nodes_ = 0;  // nodes built so far: the tree, alias copies and anchor copies
  std::map<std::string, Anchored, std::less<>> anchors_;
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace

Result<RawNode> ParseYaml(std::string_view text, const std::string& file) {
  EventReader reader(text, file);
  return reader.Document();
}

namespace {

// Checks JSON syntax without building a DOM (nlohmann's DOM costs about 20
// times the text): counts values so that a flat 16 MiB array stops at the
// node cap, and keeps the first error with its byte offset.
class JsonChecker {
 public:
  bool null() { return Value(); }
  bool boolean(bool) { return Value(); }
  bool number_integer(nlohmann::json::number_integer_t) { return Value(); }
  bool number_unsigned(nlohmann::json::number_unsigned_t) { return Value(); }
  bool number_float(nlohmann::json::number_float_t, const std::string&) { return Value(); }
  bool string(std::string&) { return Value(); }
  bool binary(nlohmann::json::binary_t&) { return Value(); }
  bool start_object(std::size_t) { return Value(); }
  bool key(std::string&) { return Value(); }
  bool end_object() { return true; }
  bool start_array(std::size_t) { return Value(); }
  bool end_array() { return true; }
  bool parse_error(std::size_t position, const std::string& token, const nlohmann::detail::exception& e) {
    offset_ = position;
    message_ = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 4: syntax error ..." -> "syntax error ..."
    if (const auto pos = message_.find("syntax error"); pos != std::string::npos) message_ = message_.substr(pos);
    if (e.id == 406) message_ = "number out of range: '" + token + "' is beyond what a 64-bit float holds";
    return false;
  }

  std::size_t offset() const { return offset_; }
  const std::string& message() const { return message_; }

 private:
  bool Value() {
    if (++values_ <= kMaxDocumentNodes) return true;
    message_ = TooManyNodesJson();
    return false;
  }
  static std::string TooManyNodesJson() { return "document too large: more than " + Grouped(kMaxDocumentNodes) + " values"; }

  long values_ = 0;
  std::size_t offset_ = 0;
  std::string message_;
};

// 1-based line and column of a byte offset.
std::pair<int, int> LineColumn(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  int line = 1, column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

}  // namespace

Result<RawNode> ParseJson(std::string_view text, const std::string& file) {
  JsonChecker checker;
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(text, &checker);
  } catch (const nlohmann::json::exception& e) {
    // The SAX parser reports through parse_error(); anything thrown past it is still bad input.
    return Error(Diagnostic{.file = file, .message = std::string("malformed JSON: ") + e.what()});
  }
  if (!ok) {
    const auto [line, column] = LineColumn(text, checker.offset() == 0 ? 0 : checker.offset() - 1);
    return Error(Diagnostic{.file = file, .line = line, .column = column,
                            .message = (checker.message().starts_with("document too large") ? "" : "malformed JSON: ") +
                                       checker.message()});
  }
  // Valid JSON is valid YAML flow syntax: reuse the located YAML tree,
  // except that tabs (legal JSON whitespace) are not YAML indentation.
  std::string untabbed(text);
  for (char& c : untabbed) {
    if (c == '\t') c = ' ';
  }
  return ParseYaml(untabbed, file);
}

Result<std::string> ReadInputFile(const std::string& path, std::size_t max_bytes) {
  namespace fs = std::filesystem;
  auto fail = [&](std::string message) { return Error(Diagnostic{.file = path, .message = std::move(message)}); };
  // Checked before opening: opening a FIFO would block, and a device never ends.
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return fail("cannot open file");
  if (fs::is_directory(st)) return fail("is a directory, not a file; give the path of a YAML or config.json file");
  if (!fs::is_regular_file(st)) {
    return fail("is not a regular file (a device, FIFO or socket); suanli reads catalog, model and case files "
                "only from regular files");
  }
  const std::string limit = fmt::format("input files are limited to {} MiB ({} bytes)", max_bytes >> 20, Grouped(max_bytes));
  if (const auto size = fs::file_size(path, ec); !ec && size > max_bytes) {
    return fail("is " + Grouped(size) + " bytes; " + limit);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot open file");
  // The cap holds while reading too (a file that grows, or one whose size the
  // file system does not report).
  std::string text;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    if (text.size() + static_cast<std::size_t>(in.gcount()) > max_bytes) {
      return fail("is larger than " + Grouped(max_bytes) + " bytes; " + limit);
    }
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return fail("read error");
  return text;
}

Result<RawNode> ParseFile(const std::string& path) {
  auto read = ReadInputFile(path, kMaxInputFileBytes);
  if (!read) return std::move(read).error();
  std::string text = std::move(*read);
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
  if (ec == std::errc::result_out_of_range && ptr == end) {
    return Error(node.At(key_path, "'" + s + "' is out of range (beyond what a 64-bit float holds)"));
  }
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
