#include "tramite/scxml/duration.h"

#include <cctype>
#include <cmath>
#include <string>

namespace tramite::scxml {

std::optional<std::int64_t> parseDurationMs(std::string_view text) {
  std::size_t b = 0;
  std::size_t e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  text = text.substr(b, e - b);
  std::size_t i = 0;
  bool digits = false;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    ++i;
    digits = true;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      digits = true;
    }
  }
  if (!digits || i > 32) return std::nullopt;
  double number = std::stod(std::string(text.substr(0, i)));
  std::string_view unit = text.substr(i);
  double factor;
  if (unit == "ms" || unit.empty())
    factor = 1;  // a bare number is milliseconds
  else if (unit == "s")
    factor = 1000;
  else if (unit == "m" || unit == "min")
    factor = 60'000;
  else if (unit == "h")
    factor = 3'600'000;
  else if (unit == "d")
    factor = 86'400'000;
  else
    return std::nullopt;
  double ms = std::round(number * factor);
  if (!(ms >= 0) || ms > 9.0e15) return std::nullopt;
  return static_cast<std::int64_t>(ms);
}

}  // namespace tramite::scxml
