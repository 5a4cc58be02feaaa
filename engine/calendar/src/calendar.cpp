#include "tramite/calendar/calendar.h"

#include <cstdio>

#include "tramite/file.h"
#include "tramite/json.h"

namespace tramite::calendar {

namespace {

bool isLeap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int daysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && isLeap(y) ? 29 : kDays[m - 1];
}

const char* const kWeekdayNames[] = {"lunes",   "martes", "miércoles", "jueves",
                                     "viernes", "sábado", "domingo"};

}  // namespace

// Civil-date arithmetic on a 400-year era of 146097 days, counted from 0000-03-01 so that the
// leap day falls at the end of each counted year.
std::int64_t Date::serial() const {
  const std::int64_t y = year - (month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t year_of_era = y - era * 400;
  const std::int64_t shifted_month = month > 2 ? month - 3 : month + 9;
  const std::int64_t day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
  const std::int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;  // 719468: days from 0000-03-01 to 1970-01-01
}

Date Date::fromSerial(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t day_of_era = days - era * 146097;
  const std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const std::int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t shifted_month = (5 * day_of_year + 2) / 153;
  Date d;
  d.day = static_cast<int>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  d.month = static_cast<int>(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
  d.year = static_cast<int>(year_of_era + era * 400 + (d.month <= 2 ? 1 : 0));
  return d;
}

int Date::weekday() const {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  const std::int64_t w = (serial() + 3) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

std::string Date::toString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

Result<Date> Date::parse(const std::string& text) {
  int y = 0;
  int m = 0;
  int d = 0;
  char tail = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' ||
      std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1900 || y > 9999 ||
      m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) {
    return Status(ErrorCode::kInvalidArgument,
                  "'" + text + "' is not a date of the form YYYY-MM-DD");
  }
  return Date{y, m, d};
}

// The Gregorian computus (the anonymous algorithm published by Meeus): golden number,
// century corrections, epact and the weekday of the Paschal full moon.
Date easterSunday(int year) {
  const int a = year % 19;
  const int b = year / 100;
  const int c = year % 100;
  const int d = b / 4;
  const int e = b % 4;
  const int f = (b + 8) / 25;
  const int g = (b - f + 1) / 3;
  const int h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4;
  const int k = c % 4;
  const int l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int month = (h + l - 7 * m + 114) / 31;
  const int day = (h + l - 7 * m + 114) % 31 + 1;
  return Date{year, month, day};
}

std::string_view nationalHoliday(const Date& d) {
  const Date easter = easterSunday(d.year);
  switch (easter.serial() - d.serial()) {
    case 3: return "Jueves Santo";
    case 2: return "Viernes Santo";
    case 1: return "Sábado Santo";
    default: break;
  }
  switch (d.month * 100 + d.day) {
    case 101: return "Año Nuevo";
    case 501: return "Día del Trabajo";
    case 510: return "Día de la Madre";
    case 617: return "Día del Padre";
    case 806: return "Fiestas agostinas (Divino Salvador del Mundo)";
    case 915: return "Día de la Independencia";
    case 1102: return "Día de los Difuntos";
    case 1225: return "Navidad";
    default: return {};
  }
}

std::string_view weekdayName(const Date& d) {
  return kWeekdayNames[d.weekday()];
}

BusinessCalendar::BusinessCalendar(std::map<std::int64_t, std::string> extra_days,
                                   int utc_offset_minutes)
    : extra_(std::move(extra_days)), utc_offset_minutes_(utc_offset_minutes) {}

std::string BusinessCalendar::reasonClosed(const Date& d) const {
  if (std::string_view holiday = nationalHoliday(d); !holiday.empty()) {
    return std::string(holiday);
  }
  if (auto it = extra_.find(d.serial()); it != extra_.end()) return it->second;
  if (d.weekday() >= 5) return std::string(weekdayName(d));
  return {};
}

bool BusinessCalendar::isBusinessDay(const Date& d) const {
  return reasonClosed(d).empty();
}

Result<Date> BusinessCalendar::due(const Date& notified, int n, TermUnit unit) const {
  if (n < 1 || n > 3660) {
    return Status(ErrorCode::kInvalidArgument,
                  "a term must be between 1 and 3660 days, not " + std::to_string(n));
  }
  Date d = notified;
  if (unit == TermUnit::kCalendarDays) {
    d = d.plusDays(n);
    while (!isBusinessDay(d)) d = d.plusDays(1);
    return d;
  }
  for (int counted = 0; counted < n;) {
    d = d.plusDays(1);
    if (isBusinessDay(d)) ++counted;
  }
  return d;
}

std::int64_t BusinessCalendar::endOfDayMs(const Date& d) const {
  const std::int64_t local_next_midnight_ms = d.plusDays(1).serial() * 86'400'000;
  return local_next_midnight_ms - std::int64_t{utc_offset_minutes_} * 60'000 - 1;
}

Date BusinessCalendar::dateOf(std::int64_t utc_ms) const {
  std::int64_t local = utc_ms + std::int64_t{utc_offset_minutes_} * 60'000;
  std::int64_t days = local / 86'400'000;
  if (local % 86'400'000 < 0) --days;
  return Date::fromSerial(days);
}

Result<BusinessCalendar> parseCalendar(const std::string& json_text) {
  auto doc = json::parse(json_text);
  if (!doc) return Status(ErrorCode::kInvalidArgument, "calendar: " + doc.status().message());
  if (!doc->isObject()) return Status(ErrorCode::kInvalidArgument, "calendar: not an object");
  int offset = -360;
  if (const json::Value* o = doc->find("utc_offset_minutes")) {
    if (!o->isInt() || o->asInt() < -840 || o->asInt() > 840) {
      return Status(ErrorCode::kInvalidArgument,
                    "calendar: utc_offset_minutes must be an integer in [-840, 840]");
    }
    offset = static_cast<int>(o->asInt());
  }
  std::map<std::int64_t, std::string> extra;
  if (const json::Value* days = doc->find("extra_days")) {
    if (!days->isArray()) {
      return Status(ErrorCode::kInvalidArgument, "calendar: extra_days must be an array");
    }
    std::size_t index = 0;
    for (const json::Value& entry : days->asArray()) {
      const std::string where = "calendar: extra_days[" + std::to_string(index++) + "]";
      const json::Value* reason = entry.isObject() ? entry.find("reason") : nullptr;
      if (!reason || !reason->isString() || reason->asString().empty()) {
        return Status(ErrorCode::kInvalidArgument, where + " needs a reason");
      }
      auto field = [&](const char* key) -> Result<Date> {
        const json::Value* v = entry.find(key);
        if (!v || !v->isString()) {
          return Status(ErrorCode::kInvalidArgument, where + " needs \"" + key + "\"");
        }
        auto d = Date::parse(v->asString());
        if (!d) return Status(ErrorCode::kInvalidArgument, where + ": " + d.status().message());
        return d;
      };
      const bool single = entry.find("date") != nullptr;
      auto from = field(single ? "date" : "from");
      if (!from) return from.status();
      auto to = single ? from : field("to");
      if (!to) return to.status();
      if (*to < *from || to->serial() - from->serial() > 366) {
        return Status(ErrorCode::kInvalidArgument,
                      where + ": a range runs forward and spans at most a year");
      }
      for (std::int64_t s = from->serial(); s <= to->serial(); ++s) {
        extra.emplace(s, reason->asString());
      }
    }
  }
  return BusinessCalendar(std::move(extra), offset);
}

Result<BusinessCalendar> loadCalendarFile(const std::string& path) {
  return parseFile(path, "calendar file", parseCalendar);
}

}  // namespace tramite::calendar
