// Small text helpers shared by the parser, interpreter and datamodels (internal header).
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace tramite::scxml::text {

inline bool isSpace(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

inline std::string trim(std::string_view s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && isSpace(s[b])) ++b;
  while (e > b && isSpace(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

// Trims and collapses every run of white space into one space (XML space normalisation).
inline std::string normalizeSpace(std::string_view s) {
  std::string out;
  bool pending_space = false;
  for (char c : s) {
    if (isSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

inline std::vector<std::string> splitTokens(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && isSpace(s[i])) ++i;
    std::size_t start = i;
    while (i < s.size() && !isSpace(s[i])) ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

}  // namespace tramite::scxml::text
