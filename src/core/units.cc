#include "core/quantity_parse.h"

#include <array>
#include <charconv>
#include <cmath>

namespace suanli {
namespace {

struct UnitDef {
  std::string_view name;
  double factor;  // to SI base units
  Dim dim;
};

constexpr double kKi = 1024.0;
using namespace dims;

constexpr std::array kUnits = {
    UnitDef{"B", 1, kByte}, UnitDef{"KB", 1e3, kByte}, UnitDef{"MB", 1e6, kByte},
    UnitDef{"GB", 1e9, kByte}, UnitDef{"TB", 1e12, kByte}, UnitDef{"PB", 1e15, kByte},
    UnitDef{"KiB", kKi, kByte}, UnitDef{"MiB", kKi * kKi, kByte},
    UnitDef{"GiB", kKi * kKi * kKi, kByte}, UnitDef{"TiB", kKi * kKi * kKi * kKi, kByte},
    UnitDef{"B/s", 1, kBandwidth}, UnitDef{"KB/s", 1e3, kBandwidth},
    UnitDef{"MB/s", 1e6, kBandwidth}, UnitDef{"GB/s", 1e9, kBandwidth},
    UnitDef{"TB/s", 1e12, kBandwidth}, UnitDef{"GiB/s", kKi * kKi * kKi, kBandwidth},
    UnitDef{"Mb/s", 1e6 / 8, kBandwidth}, UnitDef{"Gb/s", 1e9 / 8, kBandwidth},
    UnitDef{"Tb/s", 1e12 / 8, kBandwidth}, UnitDef{"Gbit/s", 1e9 / 8, kBandwidth},
    UnitDef{"FLOPS", 1, kOpRate}, UnitDef{"GFLOPS", 1e9, kOpRate},
    UnitDef{"TFLOPS", 1e12, kOpRate}, UnitDef{"PFLOPS", 1e15, kOpRate},
    UnitDef{"EFLOPS", 1e18, kOpRate}, UnitDef{"OPS", 1, kOpRate},
    UnitDef{"GOPS", 1e9, kOpRate}, UnitDef{"TOPS", 1e12, kOpRate},
    UnitDef{"POPS", 1e15, kOpRate},
    UnitDef{"FLOP", 1, kOp}, UnitDef{"GFLOP", 1e9, kOp}, UnitDef{"TFLOP", 1e12, kOp},
    UnitDef{"PFLOP", 1e15, kOp}, UnitDef{"EFLOP", 1e18, kOp},
    UnitDef{"W", 1, kPower}, UnitDef{"kW", 1e3, kPower}, UnitDef{"MW", 1e6, kPower},
    UnitDef{"J", 1, kJoule}, UnitDef{"kJ", 1e3, kJoule}, UnitDef{"kWh", 3.6e6, kJoule},
    UnitDef{"MWh", 3.6e9, kJoule},
    UnitDef{"mm2", 1e-6, kArea}, UnitDef{"mm^2", 1e-6, kArea}, UnitDef{"cm2", 1e-4, kArea},
    UnitDef{"s", 1, kSecond}, UnitDef{"ms", 1e-3, kSecond}, UnitDef{"us", 1e-6, kSecond},
    UnitDef{"ns", 1e-9, kSecond}, UnitDef{"min", 60, kSecond}, UnitDef{"h", 3600, kSecond},
    UnitDef{"USD", 1, kUsd}, UnitDef{"CNY", 1, kCny}, UnitDef{"RMB", 1, kCny},
    UnitDef{"GB/s/mm2", 1e9 / 1e-6, kBandwidth / kArea},
    UnitDef{"year", 8760 * 3600.0, kSecond}, UnitDef{"years", 8760 * 3600.0, kSecond},
    UnitDef{"USD/kWh", 1 / 3.6e6, kUsd / kJoule}, UnitDef{"CNY/kWh", 1 / 3.6e6, kCny / kJoule},
    // Colocation: money per kW of IT load per month (730 h), i.e. per energy.
    UnitDef{"USD/kW-month", 1 / (1e3 * 730 * 3600.0), kUsd / kJoule},
    UnitDef{"CNY/kW-month", 1 / (1e3 * 730 * 3600.0), kCny / kJoule},
};

}  // namespace

QuantityParse ParseQuantity(std::string_view text) {
  QuantityParse out;
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  text = trim(text);
  if (text.empty()) {
    out.message = "empty value";
    return out;
  }
  // The number is the longest prefix from_chars accepts.
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (*begin == '+') ++begin;
  double number = 0;
  auto [ptr, ec] = std::from_chars(begin, end, number);
  if (ec == std::errc::result_out_of_range) {
    out.message = "'" + std::string(text) + "' is out of range (the number is beyond what a 64-bit float holds)";
    return out;
  }
  if (ec != std::errc() || ptr == begin) {
    out.message = "'" + std::string(text) + "' does not start with a number";
    return out;
  }
  if (!std::isfinite(number)) {
    out.message = "'" + std::string(text) + "' is not a finite number";
    return out;
  }
  std::string_view unit = trim(std::string_view(ptr, static_cast<std::size_t>(end - ptr)));
  if (unit.empty()) {
    out.ok = true;
    out.quantity = {.si = number, .dim = kNone};
    return out;
  }
  for (const auto& u : kUnits) {
    if (u.name == unit) {
      // Finite as written is not enough: 1e300 TFLOPS overflows once scaled.
      const double si = number * u.factor;
      if (!std::isfinite(si) || (si == 0 && number != 0)) {
        out.message = "'" + std::string(text) + "' is out of range once converted to SI units (" + DimName(u.dim) + ")";
        return out;
      }
      out.ok = true;
      out.quantity = {.si = si, .dim = u.dim};
      return out;
    }
  }
  out.message = "unknown unit '" + std::string(unit) + "'";
  return out;
}

std::vector<std::string_view> UnitsFor(Dim d) {
  std::vector<std::string_view> names;
  for (const auto& u : kUnits) {
    if (u.dim == d) names.push_back(u.name);
  }
  return names;
}

std::string DimName(Dim d) {
  if (d == kNone) return "a plain number";
  if (d == kByte) return "bytes";
  if (d == kBandwidth) return "bandwidth";
  if (d == kOpRate) return "operations per second";
  if (d == kOp) return "operations";
  if (d == kPower) return "power";
  if (d == kJoule) return "energy";
  if (d == kArea) return "area";
  if (d == kSecond) return "time";
  if (d == kUsd) return "US dollars";
  if (d == kCny) return "yuan";
  if (d == kBandwidth / kArea) return "bandwidth density";
  if (d == kUsd / kJoule) return "US dollars per energy";
  if (d == kCny / kJoule) return "yuan per energy";
  return "a compound quantity";
}

std::string_view DimExample(Dim d) {
  if (d == kNone) return "8";
  if (d == kByte) return "80 GiB";
  if (d == kBandwidth) return "3.35 TB/s";
  if (d == kOpRate) return "989 TFLOPS";
  if (d == kOp) return "1.5 PFLOP";
  if (d == kPower) return "700 W";
  if (d == kJoule) return "10 kWh";
  if (d == kArea) return "814 mm2";
  if (d == kSecond) return "5 us";
  if (d == kUsd) return "30000 USD";
  if (d == kCny) return "200000 CNY";
  if (d == kBandwidth / kArea) return "2 GB/s/mm2";
  if (d == kUsd / kJoule) return "0.08 USD/kWh";
  if (d == kCny / kJoule) return "0.6 CNY/kWh";
  return "";
}

DisplayUnit DisplayUnitFor(Dim d) {
  if (d == kByte) return {"GB", 1e9};
  if (d == kBandwidth) return {"GB/s", 1e9};
  if (d == kOpRate) return {"TFLOPS", 1e12};
  if (d == kOp) return {"FLOP", 1};
  if (d == kPower) return {"W", 1};
  if (d == kJoule) return {"J", 1};
  if (d == kArea) return {"mm2", 1e-6};
  if (d == kSecond) return {"s", 1};
  if (d == kUsd) return {"USD", 1};
  if (d == kCny) return {"CNY", 1};
  if (d == kUsd / kJoule) return {"USD/kWh", 1 / 3.6e6};
  if (d == kCny / kJoule) return {"CNY/kWh", 1 / 3.6e6};
  return {"", 1};
}

}  // namespace suanli
