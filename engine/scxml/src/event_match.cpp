#include "tramite/scxml/event_match.h"

namespace tramite::scxml {

std::string normaliseDescriptor(std::string_view token) {
  // ".*" is a common spelling of "match anything" in the wild (e.g. the IRP suite).
  if (token == "*" || token == ".*") return "*";
  if (token.size() >= 2 && token.substr(token.size() - 2) == ".*") {
    token.remove_suffix(2);
  } else if (!token.empty() && token.back() == '.') {
    token.remove_suffix(1);
  }
  if (token.empty()) return {};
  for (char c : token) {
    if (c == '*') return {};
  }
  return std::string(token);
}

}  // namespace tramite::scxml
