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

// text with ASCII letters in lower case ("Text/HTML" -> "text/html"); other bytes unchanged.
inline std::string asciiLower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

}  // namespace tramite
