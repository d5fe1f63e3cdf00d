// Chips a caller adds for the calls it makes on one thread, found by id
// before the catalog's by every command (ResolveHardware): a sweep's what-if
// chips (catalog/what_if.h), built once, used by each point that names them.
//
//   std::vector<Chip> chips = ...;               // ChipWithOverrides
//   ScopedChips scope(chips);                    // this thread, until scope ends
//   RunCommand(catalog, "infer", args);          // hardware = a chip's id
#pragma once

#include <span>
#include <string_view>

#include "suanli/catalog/catalog.h"

namespace suanli {

class ScopedChips {
 public:
  // `chips` must outlive the guard; an inner guard hides an outer one.
  explicit ScopedChips(std::span<const Chip> chips);
  ~ScopedChips();
  ScopedChips(const ScopedChips&) = delete;
  ScopedChips& operator=(const ScopedChips&) = delete;

 private:
  std::span<const Chip> previous_;
};

// The chips of the innermost guard on this thread (empty if none): what a
// caller passes to a guard on the threads it starts.
std::span<const Chip> ScopedChipsOnThisThread();

// The chip of the innermost guard on this thread with id `id` (exact); nullptr if none.
const Chip* FindScopedChip(std::string_view id);

}  // namespace suanli
