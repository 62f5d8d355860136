"""Evaluates a phrase table (schema: tests/phrases/README.md) on a running stack, through the
Task API: each phrase is sent as `recurrence` of a new task (POST /api/tasks, due date = the
case's dtstart in its zone); the stored rule (without UNTIL) must be the expected RRULE, the series' occurrences (GET /api/series/{id}/occurrences) must
equal, one by one, python-dateutil's expansion of the expected RRULE from the same start (the
expected time of day, start and end date applied), and the series must describe itself in
English. A refusal case must be answered 4xx with the expected text in the message.
Prints each failure and ends with `N passed, M failed`.
    python3 scripts/phrases.py <table.json> <task-api base URL> <token> [-v]
"""
from __future__ import annotations

import json
import sys
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import requests
from dateutil.rrule import rrulestr

COMPARED = 24  # occurrences compared per case
WINDOW = timedelta(days=730)  # the API previews at most two years


def strings(value) -> list[str]:
    """Every string inside a JSON value (error bodies nest their messages)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def expected_occurrences(case: dict, anchor: datetime) -> list[datetime]:
    """dateutil's expansion of the expected rule from the case's start, in UTC."""
    tz = ZoneInfo(case["tz"])
    due = datetime.fromisoformat(case["dtstart"])
    day = date.fromisoformat(case["start"]) if "start" in case else due.date()
    at = time.fromisoformat(case["time"]) if "time" in case else due.time()
    dtstart = datetime.combine(day, at, tzinfo=tz)
    rule = rrulestr(case["rrule"], dtstart=dtstart)
    if "until" in case:
        end = datetime.combine(date.fromisoformat(case["until"]), time(23, 59, 59), tzinfo=tz)
        rule = rule.replace(until=end.astimezone(timezone.utc))
    out = []
    for o in rule:
        if o >= anchor + WINDOW or len(out) == COMPARED:
            break
        if o >= anchor:
            out.append(o.astimezone(timezone.utc))
    return out


def check(api: requests.Session, base: str, case: dict) -> str | None:
    """None when the case passes, else what differs."""
    tz = ZoneInfo(case["tz"])
    due = datetime.fromisoformat(case["dtstart"]).replace(tzinfo=tz)
    body = {"title": f"phrase: {case['phrase']}"[:200], "due_date": due.astimezone(timezone.utc).isoformat(),
            "recurrence": case["phrase"], "tzid": case["tz"]}
    r = api.post(f"{base}/api/tasks", json=body, timeout=30)
    if "error" in case:
        if not 400 <= r.status_code < 500:
            return f"expected a refusal containing {case['error']!r}, got {r.status_code} {r.text[:200]}"
        messages = strings(r.json()) if r.headers.get("content-type", "").find("json") >= 0 else [r.text]
        if not any(case["error"] in m for m in messages):
            return f"refused without {case['error']!r}: {r.text[:300]}"
        return None
    if r.status_code != 201:
        return f"create answered {r.status_code}: {r.text[:300]}"
    sid = r.json().get("series_id")
    if not sid:
        return f"no series_id in {r.text[:200]}"
    series = api.get(f"{base}/api/series/{sid}", timeout=30).json()
    stored = series.get("recurrence_pattern", "")
    rule = ";".join(p for p in stored.split(";") if not p.startswith("UNTIL="))
    if rule != case["rrule"]:
        return f"stored rule {stored!r}, expected {case['rrule']!r}"
    describe = series.get("describe", "")
    if not describe or "(FREQ=" in describe:
        return f"series described as {describe!r}"
    anchor = due
    if "start" in case:
        anchor = datetime.combine(date.fromisoformat(case["start"]), time(0, 0), tzinfo=tz)
    want = expected_occurrences(case, anchor)
    frm = anchor.astimezone(timezone.utc)
    q = {"from": frm.strftime("%Y-%m-%dT%H:%M:%SZ"),
         "to": (frm + WINDOW - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    occ = api.get(f"{base}/api/series/{sid}/occurrences", params=q, timeout=30)
    if occ.status_code != 200:
        return f"occurrences answered {occ.status_code}: {occ.text[:200]}"
    got = [datetime.fromisoformat(s.replace("Z", "+00:00")) for s in occ.json()["occurrences"]][:COMPARED]
    if got != want:
        first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        show = lambda xs: xs[first].isoformat() if first < len(xs) else "(none)"  # noqa: E731
        return (f"occurrence {first + 1} differs: API {show(got)}, dateutil {show(want)} "
                f"({len(got)} vs {len(want)} compared; rule {stored!r})")
    return None


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, base, token = sys.argv[1:4]
    verbose = "-v" in sys.argv[4:]
    cases = json.load(open(path))["cases"]
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    passed = failed = 0
    for case in cases:
        try:
            problem = check(api, base, case)
        except (requests.RequestException, ValueError, KeyError) as e:
            problem = f"{type(e).__name__}: {e}"
        if problem:
            failed += 1
            print(f"FAIL [{case.get('category', '')}] {case['phrase']!r}: {problem}")
        else:
            passed += 1
            if verbose:
                print(f"ok   [{case.get('category', '')}] {case['phrase']!r}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
