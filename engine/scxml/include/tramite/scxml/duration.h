// Durations as written in SCXML delays and on the CLI: "500ms", "2s", ".5s", "1.5m", "1h", "1d".
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tramite::scxml {

// Milliseconds for a duration string, or nullopt when malformed or negative. A bare number
// is milliseconds (delayexpr values computed as numbers). Leading and
// trailing whitespace is ignored; fractional milliseconds are rounded to the nearest.
std::optional<std::int64_t> parseDurationMs(std::string_view text);

}  // namespace tramite::scxml
