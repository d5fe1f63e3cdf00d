// Warning bits to sentences: each estimator declares one table of
// {bit, code, text}; these turn a bit set into its sentences in table order.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace suanli {

struct WarningText {
  uint32_t bit;
  std::string_view code;  // stable identifier ("tp_crosses_nodes")
  std::string_view text;  // the sentence
};

inline std::vector<std::string> WarningSentences(uint32_t w, std::span<const WarningText> table) {
  std::vector<std::string> out;
  for (const auto& entry : table) {
    if ((w & entry.bit) != 0) out.emplace_back(entry.text);
  }
  return out;
}

inline std::string JoinSentences(const std::vector<std::string>& sentences) {
  std::string out;
  for (const auto& s : sentences) out += (out.empty() ? "" : "; ") + s;
  return out;
}

}  // namespace suanli
