"""python-dateutil side of scripts/bench-recurrence.sh (run by it): the same cases as the Rust
`recurrence-bench` command and the Wasm bench, timed with timeit (best of 5).
Prints `<case> ns_per_op=<x>` lines."""
import datetime as dt
import sys
import timeit
from zoneinfo import ZoneInfo

import dateutil
from dateutil.rrule import DAILY, FR, MO, WE, WEEKLY, rrule

now = dt.datetime.fromisoformat(sys.argv[1] if len(sys.argv) > 1 else "2026-11-26T12:00:00+00:00")
tz = ZoneInfo("America/New_York")


def best_ns(fn, number):
    return min(timeit.Timer(fn).repeat(5, number)) / number * 1e9


# (a) next occurrence of FREQ=DAILY (America/New_York), DTSTART three years in the past.
start = (now - dt.timedelta(days=3 * 365)).date()
daily = rrule(DAILY, dtstart=dt.datetime(start.year, start.month, start.day, 9, 0, tzinfo=tz))
print(f"next_daily ns_per_op={best_ns(lambda: daily.after(now), 20):.1f} result={daily.after(now).isoformat()}")

# (b) next 1000 occurrences of FREQ=WEEKLY;BYDAY=MO,WE,FR: floating (as written) and zoned.
recent = (now - dt.timedelta(days=7)).date()
naive_now = now.replace(tzinfo=None)
weekly = rrule(WEEKLY, byweekday=(MO, WE, FR), dtstart=dt.datetime(recent.year, recent.month, recent.day, 9, 0))
weekly_tz = rrule(WEEKLY, byweekday=(MO, WE, FR), dtstart=dt.datetime(recent.year, recent.month, recent.day, 9, 0, tzinfo=tz))
ns = best_ns(lambda: list(weekly.xafter(naive_now, count=1000)), 5)
print(f"list_weekly ns_per_op={ns:.1f} count={len(list(weekly.xafter(naive_now, count=1000)))}")
ns = best_ns(lambda: list(weekly_tz.xafter(now, count=1000)), 5)
print(f"list_weekly_zoned ns_per_op={ns:.1f}")
print(f"dateutil_version={dateutil.__version__} python={sys.version.split()[0]}")
