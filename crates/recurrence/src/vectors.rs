//! Evaluation of RRULE test-vector files (the JSON schema of `shared/recurrence/README.md`):
//! every `rfc_legal` case must produce exactly the expected instants and query answers,
//! every other case must be rejected with an error.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use serde_json::Value;

use crate::error::IcalError;
use crate::ical::parse_recurrence;
use crate::series::{Occurrence, Series};
use crate::tz::Zone;

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case id.
    pub id: String,
    /// Whether it passed.
    pub passed: bool,
    /// What went wrong (empty when passed), or the rejection message for illegal cases.
    pub details: Vec<String>,
}

/// The outcome of a file.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One entry per case, in file order.
    pub cases: Vec<CaseResult>,
}

impl Report {
    /// Number of passed cases.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed).count()
    }

    /// Number of failed cases.
    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }

    /// `N passed, M failed`
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed(), self.failed())
    }
}

/// Evaluates a whole vectors file given as JSON text.
pub fn evaluate_json(text: &str) -> Result<Report, String> {
    let root: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let caps = root.get("caps");
    let cap = |name: &str, default: u64| {
        caps.and_then(|c| c.get(name))
            .and_then(Value::as_u64)
            .unwrap_or(default) as usize
    };
    let finite_cap = cap("finite", 50);
    let infinite_cap = cap("infinite", 20);
    let probe = cap("probe", 2000);
    let cases = root
        .get("cases")
        .and_then(Value::as_array)
        .ok_or("the file has no \"cases\" array")?;
    let mut report = Report::default();
    for (n, case) in cases.iter().enumerate() {
        let id = case
            .get("id")
            .and_then(Value::as_str)
            .map_or_else(|| format!("case #{n}"), str::to_string);
        let mut details = Vec::new();
        let passed = evaluate_case(case, finite_cap, infinite_cap, probe, &mut details);
        report.cases.push(CaseResult {
            id,
            passed,
            details,
        });
    }
    Ok(report)
}

fn evaluate_case(
    case: &Value,
    finite_cap: usize,
    infinite_cap: usize,
    probe: usize,
    details: &mut Vec<String>,
) -> bool {
    let ics = case.get("ics").and_then(Value::as_str).unwrap_or_default();
    let legal = case
        .get("rfc_legal")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let parsed = parse_recurrence(ics);
    if !legal {
        return rejected(case, parsed.err(), details);
    }
    let series = match parsed {
        Ok(s) => s,
        Err(e) => {
            details.push(format!("rejected a legal rule: {e}"));
            return false;
        }
    };
    compare(case, &series, (finite_cap, infinite_cap, probe), details)
}

/// An RFC-illegal case passes when it was refused (`error`).
fn rejected(case: &Value, error: Option<IcalError>, details: &mut Vec<String>) -> bool {
    match error {
        Some(e) => {
            details.push(format!("rejected: {e}"));
            true
        }
        None => {
            details.push(format!(
                "accepted an RFC-illegal rule (expected an error: {})",
                case.get("illegal_reason")
                    .and_then(Value::as_str)
                    .unwrap_or("illegal")
            ));
            false
        }
    }
}

/// Compares a legal case's expansion (first occurrences, UTC instants, finiteness, totals and
/// queries) with the vector; `caps` are the finite and infinite display caps and the probe.
fn compare(
    case: &Value,
    series: &Series,
    (finite_cap, infinite_cap, probe): (usize, usize, usize),
    details: &mut Vec<String>,
) -> bool {
    let zoned = series.tz != Zone::Floating;
    let fmt = |o: &Occurrence| format_occurrence(o, series.tz);
    let all: Vec<Occurrence> = series.occurrences().take(probe + 1).collect();
    let infinite = all.len() > probe;
    let total = all.len();
    let shown = if infinite { infinite_cap } else { finite_cap };
    let got: Vec<String> = all.iter().take(shown).map(fmt).collect();
    let got_utc: Vec<String> = all
        .iter()
        .take(shown)
        .map(|o| format_utc(o.instant))
        .collect();

    let mut ok = true;
    let exp = strings(case.get("expected"));
    if exp != got {
        ok = false;
        details.push(format!("expected {exp:?}\n      got {got:?}"));
    }
    if let Some(eu) = case.get("expected_utc").filter(|v| !v.is_null()) {
        let eu = strings(Some(eu));
        if eu != got_utc {
            ok = false;
            details.push(format!("expected_utc {eu:?}\n          got {got_utc:?}"));
        }
    }
    if let Some(inf) = case.get("infinite").and_then(Value::as_bool) {
        if inf != infinite {
            ok = false;
            details.push(format!("infinite: expected {inf}, got {infinite}"));
        }
    }
    let want_total = case
        .get("total_count")
        .and_then(Value::as_u64)
        .map(|v| v as usize);
    let got_total = (!infinite).then_some(total);
    if case.get("total_count").is_some() && want_total != got_total {
        ok = false;
        details.push(format!(
            "total_count: expected {want_total:?}, got {got_total:?}"
        ));
    }
    if let Some(tr) = case.get("truncated").and_then(Value::as_bool) {
        let got_tr = infinite || total > shown;
        if tr != got_tr {
            ok = false;
            details.push(format!("truncated: expected {tr}, got {got_tr}"));
        }
    }
    for (qi, q) in case
        .get("queries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Err(msg) = check_query(series, q, zoned) {
            ok = false;
            details.push(format!("query #{qi} {}: {msg}", q));
        }
    }
    ok
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::<FixedOffset>::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%:z") {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .map(|t| t.and_utc())
        .map_err(|e| format!("bad date-time {text}: {e}"))
}

fn check_query(series: &Series, q: &Value, _zoned: bool) -> Result<(), String> {
    let kind = q.get("kind").and_then(Value::as_str).unwrap_or_default();
    let inc = q.get("inc").and_then(Value::as_bool).unwrap_or(false);
    let get = |k: &str| -> Result<DateTime<Utc>, String> {
        parse_instant(
            q.get(k)
                .and_then(Value::as_str)
                .ok_or(format!("missing {k}"))?,
        )
    };
    let fmt = |o: &Occurrence| format_occurrence(o, series.tz);
    match kind {
        "between" => {
            let got: Vec<String> = series
                .between_with(get("after")?, get("before")?, inc)
                .iter()
                .map(fmt)
                .collect();
            let want = strings(q.get("expected"));
            if got != want {
                return Err(format!("got {got:?}"));
            }
        }
        "after" | "before" => {
            let dt = get("dt")?;
            let got = if kind == "after" {
                series.after(dt, inc)
            } else {
                series.before(dt, inc)
            }
            .map(|o| fmt(&o));
            let want = q
                .get("expected")
                .and_then(Value::as_str)
                .map(str::to_string);
            if got != want {
                return Err(format!("got {got:?}"));
            }
        }
        other => return Err(format!("unknown query kind {other:?}")),
    }
    Ok(())
}

/// ISO 8601 as python's `isoformat()`: naive for floating, with the offset otherwise.
pub fn format_occurrence(o: &Occurrence, zone: Zone) -> String {
    let base = o.local.format("%Y-%m-%dT%H:%M:%S").to_string();
    match zone {
        Zone::Floating => base,
        Zone::Tz(_) => {
            let secs = (o.local - o.instant.naive_utc()).num_seconds();
            let sign = if secs < 0 { '-' } else { '+' };
            let a = secs.abs();
            let (h, m, s) = (a / 3600, (a % 3600) / 60, a % 60);
            if s == 0 {
                format!("{base}{sign}{h:02}:{m:02}")
            } else {
                format!("{base}{sign}{h:02}:{m:02}:{s:02}")
            }
        }
    }
}

fn format_utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
