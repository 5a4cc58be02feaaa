// Small helpers shared by test programs: files of the source tree, local wall time.
// TRAMITE_SOURCE_DIR is defined by each test target.
#pragma once

#include <string>

#include "files.h"
#include "tramite/calendar/calendar.h"
#include "tramite/clock.h"

namespace tramite::testing {

// A file of the source tree, e.g. "workflows/legal-review.scxml" ("" when unreadable).
inline std::string readSourceFile(const std::string& relative) {
  return readBytes(std::string(TRAMITE_SOURCE_DIR) + "/" + relative);
}

// Local (El Salvador, UTC-6) wall time on date (YYYY-MM-DD) at hour, as UTC milliseconds.
inline TimePoint localMs(const std::string& date, int hour) {
  auto d = calendar::Date::parse(date);
  return d ? d->serial() * 86'400'000 + (hour + 6) * 3'600'000LL : 0;
}

}  // namespace tramite::testing
