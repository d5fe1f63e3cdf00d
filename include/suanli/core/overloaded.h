// Overloaded{lambdas...}: one visitor from several lambdas, for std::visit.
#pragma once

namespace suanli {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace suanli
