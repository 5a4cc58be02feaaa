// Small text helpers shared by the modules.
#pragma once

#include <string>
#include <string_view>

namespace tramite {

// The elements of parts (strings or C strings) with sep between them: "a, b, c".
template <typename Range>
std::string join(const Range& parts, std::string_view sep) {
  std::string out;
  bool first = true;
  for (const auto& part : parts) {
    if (!first) out += sep;
    out += std::string_view(part);
    first = false;
  }
  return out;
}

}  // namespace tramite
