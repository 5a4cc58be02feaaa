// The business calendar: computus, art. 190 holidays, configured days, LPA art. 82 counting,
// and the `tramite calendar due` command. Expected dates were worked out by hand from a
// printed calendar, not computed with the code under test.
#include "tramite/calendar/calendar.h"

#include <gtest/gtest.h>

#include <sstream>

#include "commands.h"

namespace tramite::calendar {
namespace {

Date d(const char* text) {
  return *Date::parse(text);
}

BusinessCalendar shipped() {
  auto cal = loadCalendarFile(std::string(TRAMITE_SOURCE_DIR) + "/config/calendar.json");
  EXPECT_TRUE(cal) << cal.status().toString();
  return cal ? *cal : BusinessCalendar();
}

TEST(Calendar, DatesRoundTripAndKnowTheirWeekday) {
  EXPECT_EQ((Date{1970, 1, 1}.serial()), 0);
  EXPECT_EQ(d("2024-02-29").plusDays(1).toString(), "2024-03-01");
  EXPECT_EQ(d("2023-12-31").plusDays(1).toString(), "2024-01-01");
  EXPECT_EQ(d("2100-02-28").plusDays(1).toString(), "2100-03-01");  // not a leap year
  EXPECT_EQ(d("2024-03-31").weekday(), 6);                          // a Sunday
  EXPECT_EQ(d("2026-11-23").weekday(), 0);                          // a Monday
  for (std::int64_t s = -800'000; s < 800'000; s += 997) {
    EXPECT_EQ(Date::fromSerial(s).serial(), s);
  }
  for (const char* bad :
       {"2024-02-30", "2023-02-29", "2024-13-01", "24-01-01", "2024-1-1", "2024-01-01x", ""}) {
    EXPECT_FALSE(Date::parse(bad)) << bad;
  }
}

TEST(Calendar, EasterSundays) {
  EXPECT_EQ(easterSunday(2024).toString(), "2024-03-31");
  EXPECT_EQ(easterSunday(2025).toString(), "2025-04-20");
  EXPECT_EQ(easterSunday(2026).toString(), "2026-04-05");
  EXPECT_EQ(easterSunday(2027).toString(), "2027-03-28");
  EXPECT_EQ(easterSunday(2028).toString(), "2028-04-16");
  EXPECT_EQ(easterSunday(2000).toString(), "2000-04-23");
  EXPECT_EQ(easterSunday(2038).toString(), "2038-04-25");  // the latest possible date
  EXPECT_EQ(easterSunday(2285).toString(), "2285-03-22");  // the earliest possible date
}

TEST(Calendar, HolyWeekIsNotCountedFrom2024To2028) {
  BusinessCalendar cal = shipped();
  struct Case {
    const char* holy_monday;
    const char* easter_monday;
  };
  for (const Case& c : {Case{"2024-03-25", "2024-04-01"}, Case{"2025-04-14", "2025-04-21"},
                        Case{"2026-03-30", "2026-04-06"}, Case{"2027-03-22", "2027-03-29"},
                        Case{"2028-04-10", "2028-04-17"}}) {
    // Notified on Holy Monday: Tuesday and Wednesday count, Thursday to Sunday do not.
    EXPECT_EQ(cal.due(d(c.holy_monday), 3)->toString(), c.easter_monday) << c.holy_monday;
    EXPECT_EQ(cal.due(d(c.holy_monday), 2)->toString(), d(c.holy_monday).plusDays(2).toString());
    Date thursday = d(c.holy_monday).plusDays(3);
    EXPECT_EQ(cal.reasonClosed(thursday), "Jueves Santo");
    EXPECT_EQ(cal.reasonClosed(thursday.plusDays(1)), "Viernes Santo");
    EXPECT_EQ(cal.reasonClosed(thursday.plusDays(2)), "Sábado Santo");
  }
}

TEST(Calendar, AugustFestivitiesFrom2024To2028) {
  BusinessCalendar cal = shipped();
  BusinessCalendar national;  // art. 190 only: 6 August
  struct Case {
    const char* notified;
    const char* due_san_salvador;  // 3-5 August are local days in the shipped calendar
    const char* due_national;
  };
  for (const Case& c : {Case{"2024-07-31", "2024-08-07", "2024-08-05"},
                        Case{"2025-07-31", "2025-08-08", "2025-08-05"},
                        Case{"2026-07-31", "2026-08-11", "2026-08-05"},
                        Case{"2027-07-31", "2027-08-10", "2027-08-04"},
                        Case{"2028-07-31", "2028-08-07", "2028-08-03"}}) {
    EXPECT_EQ(cal.due(d(c.notified), 3)->toString(), c.due_san_salvador) << c.notified;
    EXPECT_EQ(national.due(d(c.notified), 3)->toString(), c.due_national) << c.notified;
  }
  EXPECT_EQ(cal.reasonClosed(d("2026-08-04")), "Fiestas agostinas (San Salvador)");
  EXPECT_TRUE(national.isBusinessDay(d("2026-08-04")));
  EXPECT_FALSE(national.isBusinessDay(d("2026-08-06")));
}

TEST(Calendar, TermsFollowLpaArticle82) {
  BusinessCalendar cal;
  // The term starts the day after notification: notified on a Friday, 1 business day is
  // the next Monday.
  EXPECT_EQ(cal.due(d("2024-06-07"), 1)->toString(), "2024-06-10");
  // Notified on a Saturday: counting starts Sunday, the first business day is Monday.
  EXPECT_EQ(cal.due(d("2024-06-08"), 1)->toString(), "2024-06-10");
  // 17 June (Father's day) is skipped.
  EXPECT_EQ(cal.due(d("2024-06-14"), 1)->toString(), "2024-06-18");
  // A calendar-day term ending on a holiday moves to the next business day: 10 days after
  // 2025-04-07 is Holy Thursday; Friday, Saturday and Easter Sunday follow.
  EXPECT_EQ(cal.due(d("2025-04-07"), 10, TermUnit::kCalendarDays)->toString(), "2025-04-21");
  EXPECT_EQ(cal.due(d("2025-04-07"), 9, TermUnit::kCalendarDays)->toString(), "2025-04-16");
  // Year end: 25 December and 1 January.
  EXPECT_EQ(cal.due(d("2024-12-20"), 5)->toString(), "2024-12-30");
  EXPECT_EQ(cal.due(d("2024-12-30"), 2)->toString(), "2025-01-02");  // Tue 31, Thu 2
  EXPECT_FALSE(cal.due(d("2024-12-30"), 0));
  EXPECT_FALSE(cal.due(d("2024-12-30"), -3));
}

TEST(Calendar, DueDaysEndAtLocalMidnight) {
  BusinessCalendar cal;  // UTC-6
  const std::int64_t end = cal.endOfDayMs(d("2024-04-01"));
  // 2024-04-02 00:00 in San Salvador is 06:00 UTC.
  const std::int64_t next_local_midnight = Date{2024, 4, 2}.serial() * 86'400'000;
  EXPECT_EQ(end + 1, next_local_midnight + 6 * 3'600'000);
  EXPECT_EQ(cal.dateOf(end).toString(), "2024-04-01");
  EXPECT_EQ(cal.dateOf(end + 1).toString(), "2024-04-02");
}

TEST(Calendar, ConfigurationErrorsNameTheEntry) {
  auto ok = parseCalendar(
      R"({"extra_days": [{"date": "2025-03-03", "reason": "Decreto"},
                         {"from": "2025-12-22", "to": "2025-12-31", "reason": "Vacación"}]})");
  ASSERT_TRUE(ok) << ok.status().toString();
  EXPECT_EQ(ok->reasonClosed(d("2025-03-03")), "Decreto");
  EXPECT_EQ(ok->due(d("2025-12-19"), 1)->toString(), "2026-01-02");
  auto bad_date = parseCalendar(R"({"extra_days": [{"date": "2025-02-30", "reason": "x"}]})");
  ASSERT_FALSE(bad_date);
  EXPECT_NE(bad_date.status().message().find("extra_days[0]"), std::string::npos);
  auto no_reason = parseCalendar(R"({"extra_days": [{}, {"date": "2025-02-03"}]})");
  ASSERT_FALSE(no_reason);
  EXPECT_NE(no_reason.status().message().find("needs a reason"), std::string::npos);
  auto backwards = parseCalendar(
      R"({"extra_days": [{"from": "2025-02-03", "to": "2025-02-01", "reason": "x"}]})");
  EXPECT_FALSE(backwards);
  EXPECT_FALSE(parseCalendar("{"));
  EXPECT_EQ(loadCalendarFile("/nonexistent/calendar.json").status().code(), ErrorCode::kNotFound);
}

TEST(Calendar, DueCommandPrintsTheDateAndWhatWasSkipped) {
  const std::string file = std::string(TRAMITE_SOURCE_DIR) + "/config/calendar.json";
  std::ostringstream out;
  std::ostringstream err;
  int rc = cli::runMain(
      {"calendar", "due", "--from", "2024-03-25", "--business-days", "3", "--calendar", file}, out,
      err);
  ASSERT_EQ(rc, 0) << err.str();
  EXPECT_EQ(out.str(),
            "2024-04-01 (lunes): 3 business days after notification on 2024-03-25, counted "
            "from 2024-03-26; not counted: 2024-03-28 Jueves Santo, 2024-03-29 Viernes Santo, "
            "2024-03-30 Sábado Santo, 2024-03-31 domingo\n");
  std::ostringstream out2;
  rc = cli::runMain(
      {"calendar", "due", "--from", "2024-07-31", "--business-days", "3", "--calendar", file}, out2,
      err);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(out2.str().substr(0, 10), "2024-08-07");
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"calendar", "due", "--from", "2024-02-30", "--business-days", "3"},
        {"calendar", "due", "--from", "2024-03-25"},
        {"calendar", "due", "--from", "2024-03-25", "--business-days", "x"},
        {"calendar", "due", "--from", "2024-03-25", "--business-days", "1", "--calendar-days", "1"},
        {"calendar", "when"}}) {
    std::ostringstream o;
    std::ostringstream e;
    EXPECT_EQ(cli::runMain(bad, o, e), 2) << bad.back();
    EXPECT_TRUE(o.str().empty());
    EXPECT_NE(e.str().find("tramite calendar:"), std::string::npos);
  }
  std::ostringstream o;
  std::ostringstream e;
  EXPECT_EQ(cli::runMain({"calendar", "due", "--from", "2024-03-25", "--business-days", "1",
                          "--calendar", "/nonexistent.json"},
                         o, e),
            1);
  EXPECT_NE(e.str().find("cannot read calendar file"), std::string::npos);
}

}  // namespace
}  // namespace tramite::calendar
