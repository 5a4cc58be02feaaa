// A set of state indexes as a bitset; iteration is in document order.
#pragma once

#include <cstdint>
#include <vector>

#include "tramite/scxml/chart.h"

namespace tramite::scxml {

class StateSet {
 public:
  StateSet() = default;
  explicit StateSet(std::size_t states) : words_((states + 63) / 64, 0) {}

  void resize(std::size_t states) { words_.assign((states + 63) / 64, 0); }
  void clear() {
    for (auto& w : words_) w = 0;
  }
  void add(StateIndex s) { words_[s >> 6] |= (std::uint64_t{1} << (s & 63)); }
  void remove(StateIndex s) { words_[s >> 6] &= ~(std::uint64_t{1} << (s & 63)); }
  bool contains(StateIndex s) const { return (words_[s >> 6] >> (s & 63)) & 1u; }
  bool empty() const {
    for (auto w : words_) {
      if (w) return false;
    }
    return true;
  }
  // Any member in the inclusive range [first, last]?
  bool anyInRange(StateIndex first, StateIndex last) const {
    for (StateIndex s = first; s <= last;) {
      std::uint64_t w = words_[s >> 6] >> (s & 63);
      StateIndex span = 64 - (s & 63);
      if (last - s + 1 < span) {
        span = last - s + 1;
        w &= (span == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << span) - 1));
      }
      if (w) return true;
      s += span;
    }
    return false;
  }
  // Calls f(index) for each member in ascending (document) order.
  template <typename F>
  void forEach(F&& f) const {
    for (std::size_t wi = 0; wi < words_.size(); ++wi) {
      std::uint64_t w = words_[wi];
      while (w) {
        auto bit = static_cast<StateIndex>(__builtin_ctzll(w));
        f(static_cast<StateIndex>(wi * 64 + bit));
        w &= w - 1;
      }
    }
  }
  // Members in descending order (exit order).
  template <typename F>
  void forEachReverse(F&& f) const {
    for (std::size_t wi = words_.size(); wi-- > 0;) {
      std::uint64_t w = words_[wi];
      while (w) {
        auto bit = static_cast<StateIndex>(63 - __builtin_clzll(w));
        f(static_cast<StateIndex>(wi * 64 + bit));
        w &= ~(std::uint64_t{1} << bit);
      }
    }
  }
  bool intersects(const StateSet& o) const {
    for (std::size_t i = 0; i < words_.size(); ++i) {
      if (words_[i] & o.words_[i]) return true;
    }
    return false;
  }
  void unite(const StateSet& o) {
    for (std::size_t i = 0; i < words_.size(); ++i) words_[i] |= o.words_[i];
  }
  bool operator==(const StateSet& o) const { return words_ == o.words_; }

 private:
  std::vector<std::uint64_t> words_;
};

}  // namespace tramite::scxml
