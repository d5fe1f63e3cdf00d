// Physical quantities with their dimension in the type.
//
// A Quantity<D> holds a double in SI base units (bytes, seconds, operations,
// joules, square metres, US dollars, yuan). Arithmetic combines dimensions at
// compile time, so `Bytes / BytesPerSecond` is `Seconds` and adding bytes to
// seconds does not compile. Values are trivially copyable; no allocation.
//
// Text such as "4.0 TB/s" or "96 GiB" is parsed by ParseQuantity() (units.cc):
// decimal prefixes are powers of 1000, binary ones (KiB, MiB, GiB, TiB) powers
// of 1024, and "Gb/s" counts bits. GB and GiB are never confused.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace suanli {

// Exponents of the base dimensions. "op" counts arithmetic operations (one
// multiply-accumulate = 2 ops, the datasheet convention for FLOPS and TOPS).
struct Dim {
  int8_t byte = 0, second = 0, op = 0, joule = 0, metre = 0, usd = 0, cny = 0;
  friend constexpr bool operator==(const Dim&, const Dim&) = default;
};

constexpr Dim operator*(Dim a, Dim b) {
  return {static_cast<int8_t>(a.byte + b.byte), static_cast<int8_t>(a.second + b.second),
          static_cast<int8_t>(a.op + b.op),     static_cast<int8_t>(a.joule + b.joule),
          static_cast<int8_t>(a.metre + b.metre), static_cast<int8_t>(a.usd + b.usd),
          static_cast<int8_t>(a.cny + b.cny)};
}
constexpr Dim operator/(Dim a, Dim b) {
  return {static_cast<int8_t>(a.byte - b.byte), static_cast<int8_t>(a.second - b.second),
          static_cast<int8_t>(a.op - b.op),     static_cast<int8_t>(a.joule - b.joule),
          static_cast<int8_t>(a.metre - b.metre), static_cast<int8_t>(a.usd - b.usd),
          static_cast<int8_t>(a.cny - b.cny)};
}

namespace dims {
inline constexpr Dim kNone{};
inline constexpr Dim kByte{.byte = 1};
inline constexpr Dim kSecond{.second = 1};
inline constexpr Dim kOp{.op = 1};
inline constexpr Dim kJoule{.joule = 1};
inline constexpr Dim kArea{.metre = 2};
inline constexpr Dim kUsd{.usd = 1};
inline constexpr Dim kCny{.cny = 1};
inline constexpr Dim kBandwidth = kByte / kSecond;
inline constexpr Dim kOpRate = kOp / kSecond;
inline constexpr Dim kPower = kJoule / kSecond;
}  // namespace dims

template <Dim D>
class Quantity {
 public:
  constexpr Quantity() = default;
  constexpr explicit Quantity(double si) : value_(si) {}
  // The value in SI base units.
  [[nodiscard]] constexpr double si() const { return value_; }
  static constexpr Dim dim() { return D; }

  constexpr Quantity& operator+=(Quantity o) { value_ += o.value_; return *this; }
  constexpr Quantity& operator-=(Quantity o) { value_ -= o.value_; return *this; }
  constexpr Quantity& operator*=(double k) { value_ *= k; return *this; }
  friend constexpr Quantity operator+(Quantity a, Quantity b) { return Quantity(a.value_ + b.value_); }
  friend constexpr Quantity operator-(Quantity a, Quantity b) { return Quantity(a.value_ - b.value_); }
  friend constexpr Quantity operator*(Quantity a, double k) { return Quantity(a.value_ * k); }
  friend constexpr Quantity operator*(double k, Quantity a) { return Quantity(a.value_ * k); }
  friend constexpr Quantity operator/(Quantity a, double k) { return Quantity(a.value_ / k); }
  friend constexpr double operator/(Quantity a, Quantity b) { return a.value_ / b.value_; }
  friend constexpr auto operator<=>(Quantity a, Quantity b) = default;

 private:
  double value_ = 0.0;
};

template <Dim A, Dim B>
  requires(!(A == B))
constexpr Quantity<A * B> operator*(Quantity<A> a, Quantity<B> b) {
  return Quantity<A * B>(a.si() * b.si());
}
template <Dim A, Dim B>
  requires(!(A == B))
constexpr Quantity<A / B> operator/(Quantity<A> a, Quantity<B> b) {
  return Quantity<A / B>(a.si() / b.si());
}

using Bytes = Quantity<dims::kByte>;
using Seconds = Quantity<dims::kSecond>;
using Ops = Quantity<dims::kOp>;
using Joules = Quantity<dims::kJoule>;
using Area = Quantity<dims::kArea>;
using Usd = Quantity<dims::kUsd>;
using Cny = Quantity<dims::kCny>;
using BytesPerSecond = Quantity<dims::kBandwidth>;
using OpsPerSecond = Quantity<dims::kOpRate>;  // FLOPS or integer OPS
using Watts = Quantity<dims::kPower>;

// A number read from text together with the dimension its unit implies.
struct ParsedQuantity {
  double si = 0.0;  // value in SI base units
  Dim dim;
};

// Human name of a dimension ("bandwidth", "bytes", ...) for messages.
std::string DimName(Dim d);
// An example unit for a dimension ("4.0 TB/s") for messages and the schema.
std::string_view DimExample(Dim d);
// The unit the CLI prints a dimension in, with the divisor from SI ("TB/s", 1e12).
struct DisplayUnit {
  std::string_view name;
  double divisor;
};
DisplayUnit DisplayUnitFor(Dim d);

}  // namespace suanli
