// A catalog figure: one number (or text) with where it comes from.
//
// Every figure in the catalog carries its basis (datasheet, measured,
// estimated, rumoured), the ids of its sources (catalog/sources/*.yaml), an
// optional reported range when sources disagree, and a note. Numbers are in
// SI base units; `dim` says which.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "suanli/core/units.h"

namespace suanli {

enum class Basis { kDatasheet, kMeasured, kEstimated, kRumoured };
std::string_view BasisName(Basis b);

struct Figure {
  double value = 0.0;  // SI base units (numeric figures); a list figure: its first item
  // A list figure (one value per position, e.g. MTP acceptance by draft
  // position): every item, SI. Empty for a single value.
  std::vector<double> values;
  std::string text;    // text figures (process, memory type, launch date)
  bool is_text = false;
  Dim dim;
  std::optional<std::pair<double, double>> range;  // reported low/high, SI
  Basis basis = Basis::kDatasheet;
  std::vector<std::string> sources;
  std::string note;
  // Groups of validation cases the figure was checked against (its record
  // says so): held out with them (docs/validation.md). Optional.
  std::vector<std::string> checked_against;
  std::string file;  // where it was written (a variant may inherit it)
  int line = 0;
};

// Figures of one record keyed by their dotted path ("memory.bandwidth").
using FigureMap = std::map<std::string, Figure, std::less<>>;

// The figure at `path`, or nullptr; its numeric value (SI), if numeric and present.
const Figure* FindFigure(const FigureMap& figures, std::string_view path);
std::optional<double> FigureValue(const FigureMap& figures, std::string_view path);
// A numeric figure's items: its list, or its one value.
std::vector<double> FigureValues(const Figure& f);

// Formats a figure's value for people ("4.0 TB/s", "96 GiB" stays "103.1 GB").
std::string FormatFigureValue(const Figure& f);

}  // namespace suanli
