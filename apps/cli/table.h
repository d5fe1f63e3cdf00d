// Plain-text tables for human output: columns sized to content, numbers
// right-aligned, "-" for unknown values.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace suanli::cli {

class Table {
 public:
  enum class Align { kLeft, kRight };
  void Column(std::string header, Align align = Align::kLeft) {
    headers_.push_back(std::move(header));
    aligns_.push_back(align);
  }
  void Row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<Align> aligns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace suanli::cli
