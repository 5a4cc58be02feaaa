// Business calendar: El Salvador's national holidays (Código de Trabajo art. 190), extra
// non-business days from configuration, and term counting under the Ley de Procedimientos
// Administrativos art. 82. Pure values: no clock, no I/O except loadCalendarFile.
//
// Thread safety: a BusinessCalendar is immutable after construction; share it freely.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tramite/status.h"

namespace tramite::calendar {

// A civil (proleptic Gregorian) date.
struct Date {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31

  // Days since 1970-01-01 (negative before).
  std::int64_t serial() const;
  static Date fromSerial(std::int64_t days);
  // 0 = Monday .. 6 = Sunday.
  int weekday() const;
  Date plusDays(std::int64_t n) const { return fromSerial(serial() + n); }
  std::string toString() const;  // YYYY-MM-DD
  // Parses YYYY-MM-DD, refusing impossible dates. Errors: kInvalidArgument.
  static Result<Date> parse(const std::string& text);

  friend bool operator==(const Date& a, const Date& b) { return a.serial() == b.serial(); }
  friend bool operator!=(const Date& a, const Date& b) { return !(a == b); }
  friend bool operator<(const Date& a, const Date& b) { return a.serial() < b.serial(); }
};

// Easter Sunday of a Gregorian year.
Date easterSunday(int year);

// The name of the holiday of Código de Trabajo art. 190 falling on d, or "" for none:
// 1 Jan; Holy Thursday, Friday and Saturday; 1 May; 10 May; 17 Jun; 6 Aug; 15 Sep; 2 Nov;
// 25 Dec.
std::string_view nationalHoliday(const Date& d);

// The Spanish weekday name of d ("lunes" .. "domingo").
std::string_view weekdayName(const Date& d);

// How a term is expressed.
enum class TermUnit { kBusinessDays, kCalendarDays };

class BusinessCalendar {
 public:
  // Weekends (Saturday, Sunday) and national holidays are never business days; extra days
  // (decreed days, local festivities such as 3–5 Aug in San Salvador, institutional
  // vacations) are added by date with their reason. utc_offset_minutes places the end of a
  // due day on the time line (El Salvador: -360, no daylight saving).
  explicit BusinessCalendar(std::map<std::int64_t, std::string> extra_days = {},
                            int utc_offset_minutes = -360);

  bool isBusinessDay(const Date& d) const;
  // Why d is not a business day ("sábado", "Viernes Santo", an extra day's reason), or "".
  std::string reasonClosed(const Date& d) const;

  // LPA art. 82: a term starts the day after notification. Business-day terms count only
  // business days, so they end on one; a calendar-day term ending on a non-business day moves
  // to the next business day. n must be at least 1. Errors: kInvalidArgument.
  Result<Date> due(const Date& notified, int n, TermUnit unit = TermUnit::kBusinessDays) const;

  // The last millisecond of a due day, in UTC ms since the epoch (for timers).
  std::int64_t endOfDayMs(const Date& d) const;
  // The local civil date of a UTC instant (ms since the epoch).
  Date dateOf(std::int64_t utc_ms) const;

 private:
  std::map<std::int64_t, std::string> extra_;
  int utc_offset_minutes_;
};

// Reads a calendar from JSON:
//   {"utc_offset_minutes": -360,
//    "extra_days": [{"date": "2024-08-03", "reason": "Fiestas agostinas (San Salvador)"},
//                   {"from": "2024-12-23", "to": "2024-12-31", "reason": "Vacación"}]}
// Errors: kInvalidArgument naming the bad entry.
Result<BusinessCalendar> parseCalendar(const std::string& json_text);
// Errors: kNotFound when the file cannot be read, or parseCalendar's.
Result<BusinessCalendar> loadCalendarFile(const std::string& path);

}  // namespace tramite::calendar
