// One table of names per enum: the name printed, parsed, offered as a choice
// in help and field tables, all from the same array. Declare it once beside
// the enum (`inline constexpr EnumName<Recompute> kRecomputeNames[] = {...}`)
// and use NameOf / ParseName / ChoiceList instead of hand-written switches.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace suanli {

template <typename E>
struct EnumName {
  E value;
  std::string_view name;
};

// The name of `value` in `table` ("?" if absent: a table missing a value is a bug).
template <typename E>
constexpr std::string_view NameOf(std::span<const EnumName<E>> table, E value) {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return "?";
}

// The value named `name` (exact match), if any.
template <typename E>
constexpr std::optional<E> ParseName(std::span<const EnumName<E>> table, std::string_view name) {
  for (const auto& entry : table) {
    if (entry.name == name) return entry.value;
  }
  return std::nullopt;
}

// "a, b or c" for messages.
template <typename E>
std::string ChoiceList(std::span<const EnumName<E>> table) {
  std::string out;
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (i > 0) out += i + 1 == table.size() ? " or " : ", ";
    out += table[i].name;
  }
  return out;
}

// The names alone, for a field table's choices.
template <typename E, std::size_t N>
constexpr std::array<std::string_view, N> NamesOf(const EnumName<E> (&table)[N]) {
  std::array<std::string_view, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = table[i].name;
  return out;
}

}  // namespace suanli
