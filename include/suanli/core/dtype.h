// Number formats a chip computes in or a tensor is stored in.
#pragma once

#include <optional>
#include <string_view>

namespace suanli {

// The chip's compute.<name> figure gives its dense rate in that format.
enum class Dtype { kFp64, kFp32, kTf32, kBf16, kFp16, kFp8, kInt8, kInt4, kFp4 };
inline constexpr int kDtypeCount = 9;
std::string_view DtypeName(Dtype t);
constexpr int DtypeBits(Dtype t) {
  switch (t) {
    case Dtype::kFp64: return 64;
    case Dtype::kFp32:
    case Dtype::kTf32: return 32;
    case Dtype::kBf16:
    case Dtype::kFp16: return 16;
    case Dtype::kFp8:
    case Dtype::kInt8: return 8;
    case Dtype::kInt4:
    case Dtype::kFp4: return 4;
  }
  return 0;
}
inline double DtypeBytes(Dtype t) { return DtypeBits(t) / 8.0; }
// Case-insensitive ("BF16" is bf16).
std::optional<Dtype> ParseDtype(std::string_view name);

}  // namespace suanli
