#include "table.h"

#include <algorithm>

namespace suanli::cli {
namespace {

// Display width of UTF-8 text (code points; the CJK in names is rare).
std::size_t Width(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

}  // namespace

void Table::Print(std::ostream& out) const {
  std::vector<std::size_t> width(headers_.size());
  for (std::size_t c = 0; c < headers_.size(); ++c) width[c] = Width(headers_[c]);
  for (const auto& row : rows_) {
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], Width(row[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < headers_.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : "";
      const std::string pad(width[c] - Width(cell), ' ');
      if (c > 0) text += "  ";
      text += aligns_[c] == Align::kRight ? pad + cell : (c + 1 == headers_.size() ? cell : cell + pad);
    }
    out << text << '\n';
  };
  line(headers_);
  std::vector<std::string> rule;
  for (std::size_t c = 0; c < headers_.size(); ++c) rule.emplace_back(width[c], '-');
  line(rule);
  for (const auto& row : rows_) line(row);
}

}  // namespace suanli::cli
