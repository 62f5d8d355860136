//! `/api/calendar.ics`: the user's tasks and series as an iCalendar feed.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use component_kit::dapr::Dapr;
use component_kit::db;
use domain::schedule;
use domain::Mode;
use recurrence::ical;
use sha2::{Digest, Sha256};
use spin_sdk::http::{Params, Request, Response};
use store::calendar::{CalendarEntry, EditedInstance};

use super::Answer;
use crate::request::authenticate;

/// `GET /api/calendar.ics`: one master VTODO per active series (DTSTART, RRULE ending at the
/// series' end date, EXDATE for deleted instances, RECURRENCE-ID overrides for edited ones) and
/// one VTODO per one-off task, written by `recurrence::ical` (escaped, lines folded). Each
/// component's DTSTAMP is when its data last changed, so an unchanged calendar has the same
/// bytes: the answer carries an `ETag` (a hash of them) and `If-None-Match` with it answers 304.
pub async fn calendar(req: Request, _p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let user = authenticate(&req, &dapr).await?;
    let rows = db::query(&dapr, &store::calendar::calendar(&user)).await?;
    let mut components = timezones(&rows, Utc::now());
    components.extend(rows.iter().filter_map(|entry| {
        if entry.kind == "series" {
            series_vtodos(entry)
        } else {
            Some(task_vtodo(entry))
        }
    }));
    let body = ical::calendar(PRODID, &components);
    let digest = Sha256::digest(body.as_bytes());
    let etag = format!("\"{}\"", hex(&digest[..16]));
    let (status, body) = if not_modified(&req, &etag) {
        (304, String::new())
    } else {
        (200, body)
    };
    Ok(Response::builder()
        .status(status)
        .header("etag", etag.as_str())
        .header("cache-control", "private, no-cache")
        .header("content-type", "text/calendar; charset=utf-8")
        .body(body)
        .build())
}

/// True when the request's `If-None-Match` names `etag` (weakly) or is `*`.
fn not_modified(req: &Request, etag: &str) -> bool {
    let Some(header) = req.header("if-none-match").and_then(|h| h.as_str()) else {
        return false;
    };
    header
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The DTSTAMP line of a component last changed at `t`.
fn stamp(t: DateTime<Utc>) -> String {
    format!("DTSTAMP:{}", ical::format_utc(t))
}

/// How many years past this one each VTIMEZONE lists the zone's transitions.
const ZONE_YEARS_AHEAD: i32 = 20;

/// One VTIMEZONE per zone the series use (every `TZID` the feed writes), from the earliest
/// DTSTART in that zone through [`ZONE_YEARS_AHEAD`] years from `now`.
fn timezones(rows: &[CalendarEntry], now: DateTime<Utc>) -> Vec<String> {
    let mut first_year: BTreeMap<&str, i32> = BTreeMap::new();
    for entry in rows.iter().filter(|e| e.kind == "series") {
        let (Some(tzid), Some(local)) = (entry.tzid.as_deref(), entry.dtstart_local.as_deref())
        else {
            continue;
        };
        let year = local
            .get(..4)
            .and_then(|y| y.parse().ok())
            .unwrap_or(now.year());
        let slot = first_year.entry(tzid).or_insert(year);
        *slot = (*slot).min(year);
    }
    first_year
        .into_iter()
        .filter_map(|(tzid, year)| match recurrence::Zone::parse(tzid)? {
            recurrence::Zone::Tz(tz) if !recurrence::Zone::Tz(tz).is_utc() => Some(
                recurrence::vtimezone::vtimezone(tz, year, now.year() + ZONE_YEARS_AHEAD),
            ),
            _ => None,
        })
        .collect()
}

/// The feed's product identifier.
const PRODID: &str = "-//todo-platform//task-api//EN";

/// The DESCRIPTION line of a non-empty description.
fn description(text: Option<&str>) -> Option<String> {
    text.filter(|d| !d.is_empty())
        .map(|d| format!("DESCRIPTION:{}", ical::escape_text(d)))
}

/// A series' master VTODO and its overrides; `None` if its stored rule cannot be read. Each
/// override is a complete instance: its own SUMMARY, DESCRIPTION, PRIORITY and STATUS.
fn series_vtodos(entry: &CalendarEntry) -> Option<String> {
    let mode = entry
        .mode
        .as_deref()
        .and_then(|m| Mode::parse(m).ok())
        .unwrap_or_default();
    let stored = schedule::stored_series(
        entry.rule.as_deref().unwrap_or_default(),
        entry.dtstart_local.as_deref().unwrap_or_default(),
        entry.tzid.as_deref().unwrap_or("UTC"),
        entry.end_date,
        mode,
    )?;
    let edited = entry.exceptions.as_deref().unwrap_or_default();
    let exceptions: Vec<schedule::Exception> =
        edited.iter().map(EditedInstance::exception).collect();
    let mut series = schedule::effective_series(
        stored,
        &entry.title,
        entry.exdates.as_deref().unwrap_or_default(),
        &exceptions,
    );
    for ov in &mut series.overrides {
        let instant = recurrence::tz::to_instant(ov.recurrence_id, series.tz);
        if let Some(e) = edited.iter().find(|e| e.recurrence_id == instant) {
            ov.properties = instance_properties(e);
        }
    }
    let mut extra = vec![stamp(entry.updated_at), "STATUS:NEEDS-ACTION".to_string()];
    extra.extend(description(entry.description.as_deref()));
    extra.push(priority(&entry.priority));
    Some(series.vtodo_components(&entry.uid, &entry.title, &extra))
}

/// The property lines of a series' moved, edited or completed instance.
fn instance_properties(e: &EditedInstance) -> Vec<String> {
    let mut lines = vec![stamp(e.updated_at)];
    lines.extend(description(Some(&e.description)));
    lines.push(priority(&e.priority));
    lines.extend(status(&e.status, e.completed_at));
    lines
}

/// RFC 5545 PRIORITY (1 highest, 5 medium, 9 lowest) of a task priority.
fn priority(p: &str) -> String {
    let value = match p {
        "high" => 1,
        "low" => 9,
        _ => 5,
    };
    format!("PRIORITY:{value}")
}

/// STATUS (and COMPLETED, when known) of a task status.
fn status(s: &str, completed_at: Option<DateTime<Utc>>) -> Vec<String> {
    if s == "completed" {
        let mut lines = vec!["STATUS:COMPLETED".to_string()];
        lines.extend(completed_at.map(|t| format!("COMPLETED:{}", ical::format_utc(t))));
        lines
    } else {
        vec!["STATUS:NEEDS-ACTION".to_string()]
    }
}

/// A one-off task's VTODO.
fn task_vtodo(entry: &CalendarEntry) -> String {
    let mut properties = vec![stamp(entry.updated_at)];
    properties.extend(description(entry.description.as_deref()));
    properties.push(priority(&entry.priority));
    if let Some(due) = entry.due {
        properties.push(format!("DUE:{}", ical::format_utc(due)));
    }
    properties.extend(status(&entry.status, None));
    ical::plain_vtodo(&entry.uid, &entry.title, &properties)
}
