// Reading the loosely typed fields of measured cases (shared by the
// inference, training and serving mappings of validate.cc and serving_cases.cc).
#pragma once

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "catalog/raw_node.h"

namespace suanli {

inline std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

// Lower-case alphanumerics, parenthesised remarks and vendor names removed.
inline std::string NormalizeName(const std::string& name) {
  std::string s;
  int depth = 0;
  for (char c : name) {
    if (c == '(') ++depth;
    if (depth == 0 && std::isalnum(static_cast<unsigned char>(c))) s += char(std::tolower(static_cast<unsigned char>(c)));
    if (c == ')' && depth > 0) --depth;
  }
  for (std::string_view vendor : {"nvidia", "amd", "huawei", "intel", "cambricon", "instinct"}) {
    if (s.starts_with(vendor)) s.erase(0, vendor.size());
  }
  return s;
}

inline const RawNode* Path(const RawNode& n, std::initializer_list<std::string_view> keys) {
  const RawNode* cur = &n;
  for (auto k : keys) {
    if (cur == nullptr || !cur->IsMap()) return nullptr;
    cur = cur->Find(k);
  }
  return cur != nullptr && !cur->IsNull() ? cur : nullptr;
}

// A whole number, or one the case annotates: "8 (intra-node)", "32 cards (64 dies)".
inline std::optional<long long> CaseInt(const RawNode& v) {
  if (!v.IsScalar()) return std::nullopt;
  if (!v.quoted) {
    if (auto r = ScalarToInt(v, "")) return *r;
  }
  const std::string& t = v.scalar;
  std::size_t i = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
  if (i == 0 || i > 12 || i == t.size() || t[i] != ' ') return std::nullopt;
  return std::stoll(t.substr(0, i));
}

inline std::optional<long long> IntAt(const RawNode& n, std::initializer_list<std::string_view> keys) {
  const RawNode* v = Path(n, keys);
  return v != nullptr ? CaseInt(*v) : std::nullopt;
}

inline std::optional<double> NumberAt(const RawNode& n, std::initializer_list<std::string_view> keys) {
  const RawNode* v = Path(n, keys);
  if (v == nullptr || !v->IsScalar() || v->quoted) return std::nullopt;
  auto r = ScalarToDouble(*v, "");
  if (!r) return std::nullopt;
  return *r;
}

inline std::string TextAt(const RawNode& n, std::initializer_list<std::string_view> keys) {
  const RawNode* v = Path(n, keys);
  return v != nullptr && v->IsScalar() ? v->scalar : std::string();
}

}  // namespace suanli
