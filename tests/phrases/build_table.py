"""Writes tests/phrases/phrases.json from the groups below: each group is a list of phrases that
mean one rule, written out by hand with the RRULE (and time, start, end) a person means; every
group also gets an upper-case and a capitalised variant with a full stop. Refusals give a
substring of the expected message.
    python3 tests/phrases/build_table.py > tests/phrases/phrases.json
"""
import json

DT = "2027-03-01T00:00:00"  # a Monday
BERLIN, NY, TOKYO = "Europe/Berlin", "America/New_York", "Asia/Tokyo"

# (category, phrases, rrule, extra fields)
G = []


def g(category, phrases, rrule, **extra):
    G.append((category, phrases, rrule, extra))


WD = "MO,TU,WE,TH,FR"
# every / every other / every N <unit>
g("every", ["every day", "everyday", "each day"], "FREQ=DAILY")
g("every", ["every 2 days", "every other day", "every two days", "every alternate day"], "FREQ=DAILY;INTERVAL=2")
g("every", ["every 3 days", "every three days"], "FREQ=DAILY;INTERVAL=3")
g("every", ["every week", "each week"], "FREQ=WEEKLY")
g("every", ["every other week", "every 2 weeks", "every two weeks"], "FREQ=WEEKLY;INTERVAL=2")
g("every", ["every 3 weeks", "every three weeks"], "FREQ=WEEKLY;INTERVAL=3")
g("every", ["every month", "each month"], "FREQ=MONTHLY")
g("every", ["every other month", "every 2 months"], "FREQ=MONTHLY;INTERVAL=2")
g("every", ["every 6 months", "every six months", "every half year"], "FREQ=MONTHLY;INTERVAL=6")
g("every", ["every year", "each year"], "FREQ=YEARLY")
g("every", ["every other year", "every 2 years"], "FREQ=YEARLY;INTERVAL=2")
g("every", ["every hour"], "FREQ=HOURLY")
g("every", ["every 4 hours", "every four hours"], "FREQ=HOURLY;INTERVAL=4")
# weekdays and lists
g("weekday-list", ["every monday", "every mon", "mondays", "on mondays", "every mondays", "each monday", "on every monday", "weekly on monday", "every week on monday"], "FREQ=WEEKLY;BYDAY=MO")
g("weekday-list", ["every mon, wed & fri", "every monday, wednesday and friday", "every mon/wed/fri", "every Mon, Wed, Fri", "mondays, wednesdays and fridays", "every monday wednesday friday", "weekly on mon, wed and fri"], "FREQ=WEEKLY;BYDAY=MO,WE,FR")
g("weekday-list", ["every tue and thu", "every tuesday & thursday", "every tues + thurs", "tuesdays and thursdays"], "FREQ=WEEKLY;BYDAY=TU,TH")
g("weekday-list", ["every sat and sun", "every saturday and sunday"], "FREQ=WEEKLY;BYDAY=SA,SU")
g("weekday-list", ["every monday to wednesday", "every mon-wed", "every monday through wednesday"], "FREQ=WEEKLY;BYDAY=MO,TU,WE")
g("every-other", ["every other tuesday", "every 2 weeks on tuesday", "biweekly on tuesday", "fortnightly on tuesday", "every other week on tuesday"], "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU")
g("every-other", ["every other friday", "every two weeks on friday"], "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR")
g("every-other", ["every 3 weeks on fri", "every three weeks on friday"], "FREQ=WEEKLY;INTERVAL=3;BYDAY=FR")
g("every-other", ["every other monday and thursday", "every 2 weeks on mon & thu"], "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH")
# workday / weekday / weekend
g("workday", ["every weekday", "every workday", "every work day", "every business day", "weekdays", "on weekdays", "every mon-fri", "every monday through friday", "every week day", "workdays"], f"FREQ=WEEKLY;BYDAY={WD}")
g("workday", ["every weekend", "weekends", "on weekends"], "FREQ=WEEKLY;BYDAY=SA,SU")
g("workday", ["every other weekday", "every 2 weeks on weekdays"], f"FREQ=WEEKLY;INTERVAL=2;BYDAY={WD}")
# ordinal weekday of the month
g("ordinal-weekday", ["every first monday of the month", "every 1st monday of the month", "the first monday of every month", "on the first monday of each month", "monthly on the first monday", "every month on the first monday", "first monday of the month", "every first monday"], "FREQ=MONTHLY;BYDAY=1MO")
g("ordinal-weekday", ["every 2nd tuesday of the month", "every second tuesday of the month", "the 2nd tuesday of every month", "on the second tuesday of each month", "monthly on the 2nd tuesday"], "FREQ=MONTHLY;BYDAY=2TU")
g("ordinal-weekday", ["every third wednesday of the month", "every 3rd wed of the month", "the third wednesday of every month", "every third wednesday"], "FREQ=MONTHLY;BYDAY=3WE")
g("ordinal-weekday", ["every fourth thursday of the month", "every 4th thu of the month", "the fourth thursday of each month"], "FREQ=MONTHLY;BYDAY=4TH")
g("ordinal-weekday", ["every last friday of the month", "the last friday of every month", "every month on the last friday", "monthly on the last friday", "on the last friday of each month", "every last friday", "last friday of the month"], "FREQ=MONTHLY;BYDAY=-1FR")
g("ordinal-weekday", ["every second to last friday of the month", "the 2nd to last friday of every month"], "FREQ=MONTHLY;BYDAY=-2FR")
g("ordinal-weekday", ["the first and third monday of the month", "every 1st and 3rd monday of the month", "the first monday and the third monday of every month"], "FREQ=MONTHLY;BYDAY=1MO,3MO")
g("ordinal-weekday", ["the first monday and last friday of every month"], "FREQ=MONTHLY;BYDAY=1MO,-1FR")
g("ordinal-weekday", ["every 2 months on the first monday", "the first monday of every other month", "every other month on the 1st monday"], "FREQ=MONTHLY;INTERVAL=2;BYDAY=1MO")
g("ordinal-weekday", ["every first monday of the month at 9", "the first monday of every month at 9:00", "every first monday of the month at 9am"], "FREQ=MONTHLY;BYDAY=1MO", time="09:00")
g("ordinal-weekday", ["every fourth thursday of november", "the 4th thursday of november", "yearly on the fourth thursday of november", "every year on the fourth thursday of november"], "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH")
g("ordinal-weekday", ["the last monday of may", "every last monday of may"], "FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO")
g("ordinal-weekday", ["every first sunday of march and september"], "FREQ=YEARLY;BYMONTH=3,9;BYDAY=1SU")
# last day / weekday of the month
g("last-day", ["last day of the month", "every last day of the month", "on the last day of every month", "the last day of each month", "monthly on the last day", "every month on the last day", "last day of every month", "on the last day of the month"], "FREQ=MONTHLY;BYMONTHDAY=-1")
g("last-day", ["every 3 months on the last day", "quarterly on the last day", "the last day of every 3 months", "the last day of every quarter"], "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1")
g("last-day", ["last weekday of the month", "the last workday of every month", "last business day of the month", "on the last weekday of each month", "every last weekday of the month", "monthly on the last weekday"], f"FREQ=MONTHLY;BYDAY={WD};BYSETPOS=-1")
g("last-day", ["first weekday of the month", "every first workday of the month", "on the first business day of every month", "the 1st weekday of each month", "monthly on the first weekday"], f"FREQ=MONTHLY;BYDAY={WD};BYSETPOS=1")
g("last-day", ["the second to last day of the month", "every 2nd to last day of the month"], "FREQ=MONTHLY;BYMONTHDAY=-2")
g("last-day", ["every year on the last day of february", "the last day of february"], "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1")
# day of month
g("day-of-month", ["monthly on the 1st", "every 1st", "every month on the 1st", "the 1st of every month", "on the 1st of each month", "every first of the month", "on the first day of every month", "1st of the month", "every month on the first"], "FREQ=MONTHLY;BYMONTHDAY=1")
g("day-of-month", ["every 15th", "the 15th of every month", "monthly on the 15th", "every month on the 15", "on the fifteenth of each month"], "FREQ=MONTHLY;BYMONTHDAY=15")
g("day-of-month", ["on the 1st and 15th of every month", "every 1st and 15th", "monthly on the 1st and 15th", "twice a month on the 1st and 15th", "the 1st & 15th of each month"], "FREQ=MONTHLY;BYMONTHDAY=1,15")
g("day-of-month", ["the first and last day of every month", "monthly on the 1st and last day"], "FREQ=MONTHLY;BYMONTHDAY=-1,1")
g("day-of-month", ["every 3 months on the 1st", "quarterly on the 1st", "every quarter on the 1st", "the 1st of every 3 months"], "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1")
g("day-of-month", ["every other month on the 10th", "the 10th of every other month"], "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=10")
g("day-of-month", ["every 31st", "on the 31st of every month"], "FREQ=MONTHLY;BYMONTHDAY=31")
# month names
g("month-name", ["every march and september on the 10th", "every mar & sep on the 10th", "the 10th of march and september", "every year in march and september on the 10th", "yearly in march and september on the 10th", "every March 10 and September 10"], "FREQ=YEARLY;BYMONTH=3,9;BYMONTHDAY=10")
g("month-name", ["every jan 1", "every january 1st", "every 1st of january", "yearly on january 1", "every year on jan 1st", "every 1 january", "annually on the 1st of january"], "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1")
g("month-name", ["yearly on march 3", "every march 3rd", "every year on the 3rd of march"], "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3")
g("month-name", ["every dec 25", "every 25th of december", "every year on december 25", "every 25 dec"], "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25")
g("month-name", ["every april and october on the 1st", "on the 1st of april and october", "every apr 1 and oct 1"], "FREQ=YEARLY;BYMONTH=4,10;BYMONTHDAY=1")
g("month-name", ["every march, june, september and december on the 15th", "every mar, jun, sep & dec on the 15th"], "FREQ=YEARLY;BYMONTH=3,6,9,12;BYMONTHDAY=15")
g("month-name", ["every june", "every year in june", "yearly in june", "annually in june"], "FREQ=YEARLY;BYMONTH=6")
g("month-name", ["every jan 1 and jul 1", "every january 1st and july 1st"], "FREQ=YEARLY;BYMONTH=1,7;BYMONTHDAY=1")
g("month-name", ["every 2 years on march 3", "every other year on march 3rd"], "FREQ=YEARLY;INTERVAL=2;BYMONTH=3;BYMONTHDAY=3")
# frequency words
g("frequency-word", ["daily", "Daily!"], "FREQ=DAILY")
g("frequency-word", ["weekly", "once a week", "once per week", "every week"], "FREQ=WEEKLY")
g("frequency-word", ["monthly", "once a month"], "FREQ=MONTHLY")
g("frequency-word", ["yearly", "annually", "once a year", "every year"], "FREQ=YEARLY")
g("frequency-word", ["quarterly", "every quarter", "every 3 months", "once a quarter"], "FREQ=MONTHLY;INTERVAL=3")
g("frequency-word", ["biweekly", "bi-weekly", "fortnightly", "every fortnight", "bi weekly"], "FREQ=WEEKLY;INTERVAL=2")
g("frequency-word", ["semi-annually", "semiannually", "semi annually", "twice a year", "biannually", "half-yearly"], "FREQ=MONTHLY;INTERVAL=6")
g("frequency-word", ["twice a week on monday and thursday", "twice a week on mon & thu", "2 times a week on monday and thursday", "two times a week on mondays and thursdays"], "FREQ=WEEKLY;BYDAY=MO,TH")
g("frequency-word", ["three times a week on mon, wed and fri", "3 times a week on monday, wednesday, friday", "thrice a week on mon wed fri"], "FREQ=WEEKLY;BYDAY=MO,WE,FR")
g("frequency-word", ["once a day", "once per day"], "FREQ=DAILY")
g("frequency-word", ["hourly", "once an hour"], "FREQ=HOURLY")
g("frequency-word", ["biweekly on friday", "fortnightly on fri"], "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR")
# starting / until / ending / for N times
g("bounds", ["every day starting 2027-03-10", "daily starting march 10", "every day from march 10", "starting mar 10 every day", "every day beginning 10 march"], "FREQ=DAILY", start="2027-03-10")
g("bounds", ["every monday starting march 15", "every mon starting on march 15th"], "FREQ=WEEKLY;BYDAY=MO", start="2027-03-15")
g("bounds", ["every week starting tomorrow", "weekly starting tomorrow"], "FREQ=WEEKLY", start="2027-03-02")
g("bounds", ["every day until 2027-03-31", "daily until march 31", "every day till mar 31", "every day ending march 31", "every day through march 31, 2027", "daily until the end of march", "every day until march"], "FREQ=DAILY", until="2027-03-31")
g("bounds", ["every friday until june", "every fri until the end of june", "fridays ending june 30", "every friday until june 2027"], "FREQ=WEEKLY;BYDAY=FR", until="2027-06-30")
g("bounds", ["every weekday until april 30", "every workday ending on april 30th"], f"FREQ=WEEKLY;BYDAY={WD}", until="2027-04-30")
g("bounds", ["every day for 10 times", "daily for 10 times", "every day 10 times", "every day, 10 times", "daily for 10 occurrences", "every day ten times"], "FREQ=DAILY;COUNT=10")
g("bounds", ["every monday for 5 times", "mondays, 5 times", "weekly on monday 5 times"], "FREQ=WEEKLY;COUNT=5;BYDAY=MO")
g("bounds", ["every 2 weeks for 6 times", "every other week, 6 times"], "FREQ=WEEKLY;INTERVAL=2;COUNT=6")
g("bounds", ["every day starting march 10 until march 20", "daily from 2027-03-10 until 2027-03-20"], "FREQ=DAILY", start="2027-03-10", until="2027-03-20")
g("bounds", ["the last day of every month until the end of the year", "last day of the month until dec 31"], "FREQ=MONTHLY;BYMONTHDAY=-1", until="2027-12-31")
g("bounds", ["every first monday of the month for 3 times"], "FREQ=MONTHLY;COUNT=3;BYDAY=1MO")
# times of day
g("time", ["every day at 7:30", "daily at 7:30", "every day at 7:30am", "every day at 7:30 am", "at 7:30 every day", "every day @ 7:30", "every day at 7:30 a.m."], "FREQ=DAILY", time="07:30")
g("time", ["every day at noon", "daily at noon", "every day at 12pm", "every day at 12:00", "every day at midday"], "FREQ=DAILY", time="12:00")
g("time", ["daily at 17:00", "every day at 5pm", "every day at 5 PM", "every day at 5 p.m.", "every day at 17"], "FREQ=DAILY", time="17:00")
g("time", ["every monday at 6:30am", "mondays at 6:30 am", "every mon @ 6:30am"], "FREQ=WEEKLY;BYDAY=MO", time="06:30")
g("time", ["every day at midnight", "at midnight every day", "daily at 12am", "every day at 0:00"], "FREQ=DAILY", time="00:00")
g("time", ["every day at 9", "every day at 9am", "every day at 9 o'clock", "every day at 09:00"], "FREQ=DAILY", time="09:00")
g("time", ["every weekday at 8:15", "weekdays at 8:15am", "every workday at 8:15"], f"FREQ=WEEKLY;BYDAY={WD}", time="08:15")
g("time", ["every other friday at 5pm", "every 2 weeks on friday at 17:00"], "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", time="17:00")
g("time", ["every weekend at 10am", "weekends at 10:00"], "FREQ=WEEKLY;BYDAY=SA,SU", time="10:00")
g("time", ["every day at 11:45pm", "daily at 23:45"], "FREQ=DAILY", time="23:45")
# leading words, articles, punctuation
g("leading", ["repeat every monday", "repeats every monday", "repeating every monday", "recurring every monday"], "FREQ=WEEKLY;BYDAY=MO")
g("leading", ["on the 10th of every month", "the 10th of every month", "on the 10th", "every 10th of the month"], "FREQ=MONTHLY;BYMONTHDAY=10")
g("leading", ["(every tuesday)", "every tuesday!", "every, tuesday", "  every   tuesday  "], "FREQ=WEEKLY;BYDAY=TU")

# Zones other than Berlin
ZONED = [
    ("zone", "every day at 2:30", "FREQ=DAILY", NY, {"time": "02:30"}),
    ("zone", "every sunday at 2:30am", "FREQ=WEEKLY;BYDAY=SU", NY, {"time": "02:30"}),
    ("zone", "every last sunday of the month at 2:30", "FREQ=MONTHLY;BYDAY=-1SU", BERLIN, {"time": "02:30"}),
    ("zone", "every weekday at 9", f"FREQ=WEEKLY;BYDAY={WD}", TOKYO, {"time": "09:00"}),
    ("zone", "monthly on the last day at 18:00", "FREQ=MONTHLY;BYMONTHDAY=-1", "UTC", {"time": "18:00"}),
    ("zone", "every march and november on the 1st at 1:30", "FREQ=YEARLY;BYMONTH=3,11;BYMONTHDAY=1", NY, {"time": "01:30"}),
]

REFUSALS = [
    ("refusal", "every blursday", "\"blursday\""),
    ("refusal", "fortnighty", "did you mean \"fortnightly\""),
    ("refusal", "every mondya", "did you mean \"monday\""),
    ("refusal", "every 2nd tuesday", "can mean two things"),
    ("refusal", "every second tuesday", "every other <day>"),
    ("refusal", "bimonthly", "can mean two things"),
    ("refusal", "twice a week", "on which days"),
    ("refusal", "twice a week on monday", "names 1 day"),
    ("refusal", "every day at 25:00", "not a time of day"),
    ("refusal", "every day at 13pm", "not a time of day"),
    ("refusal", "every monday until someday", "as a date"),
    ("refusal", "sometimes", "\"sometimes\""),
    ("refusal", "every 0 days", "INTERVAL must be a positive integer"),
    ("refusal", "daily weekly", "contradicts"),
    ("refusal", "every jan 1 and jul 4", "different days in different months"),
    ("refusal", "every day for 3 weeks", "can mean two things"),
    ("refusal", "every day at 9 and at 5", "two times of day"),
    ("refusal", "every 3 mondays", "every 3 weeks on Monday"),
    ("refusal", "every", "ends too early"),
    ("refusal", "at 9am", "how often"),
    ("refusal", "every february 30", "not a valid date"),
    ("refusal", "monthly on the 32nd", "\"32nd\""),
    ("refusal", "every week on the 15th", "BYMONTHDAY is not valid with FREQ=WEEKLY"),
    ("refusal", "twice a day", "on which days"),
]


def case(category, phrase, rrule, tz=BERLIN, **extra):
    c = {"phrase": phrase, "category": category, "dtstart": DT, "tz": tz, "rrule": rrule}
    c.update({k: v for k, v in extra.items() if k != "skip_api"})
    if "skip_api" in extra:
        c["native_only"] = extra["skip_api"]
    return c


def main():
    cases = []
    for category, phrases, rrule, extra in G:
        for p in phrases:
            cases.append(case(category, p, rrule, **extra))
        first = phrases[0]
        cases.append(case("case-punctuation", first.upper(), rrule, **extra))
        cases.append(case("case-punctuation", first[:1].upper() + first[1:] + ".", rrule, **extra))
    for category, p, rrule, tz, extra in ZONED:
        cases.append(case(category, p, rrule, tz=tz, **extra))
    for category, p, err in REFUSALS:
        cases.append({"phrase": p, "category": category, "dtstart": DT, "tz": BERLIN, "error": err})
    seen = set()
    unique = []
    for c in cases:
        if c["phrase"] not in seen:
            seen.add(c["phrase"])
            unique.append(c)
    doc = {
        "schema": "tests/phrases/README.md",
        "cases": unique,
    }
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
