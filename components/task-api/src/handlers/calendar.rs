//! `/api/calendar.ics`: the user's tasks and series as an iCalendar feed.

use chrono::Utc;
use component_kit::dapr::Dapr;
use component_kit::db;
use domain::schedule;
use domain::Mode;
use recurrence::ical;
use spin_sdk::http::{Params, Request, Response};
use store::calendar::CalendarEntry;

use super::Answer;
use crate::request::authenticate;

/// `GET /api/calendar.ics`: one master VTODO per active series (DTSTART, RRULE ending at the
/// series' end date, EXDATE for deleted instances, RECURRENCE-ID overrides for edited ones) and
/// one VTODO per one-off task, written by `recurrence::ical` (escaped, lines folded).
pub async fn calendar(req: Request, _p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let user = authenticate(&req, &dapr).await?;
    let rows = db::query(&dapr, &store::calendar::calendar(&user)).await?;
    let stamp = format!("DTSTAMP:{}", ical::format_utc(Utc::now()));
    let components: Vec<String> = rows
        .iter()
        .filter_map(|entry| {
            if entry.kind == "series" {
                series_vtodos(entry, &stamp)
            } else {
                Some(task_vtodo(entry, &stamp))
            }
        })
        .collect();
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/calendar; charset=utf-8")
        .body(ical::calendar(PRODID, &components))
        .build())
}

/// The feed's product identifier.
const PRODID: &str = "-//todo-platform//task-api//EN";

/// The DESCRIPTION line of a non-empty description.
fn description(entry: &CalendarEntry) -> Option<String> {
    entry
        .description
        .as_deref()
        .filter(|d| !d.is_empty())
        .map(|d| format!("DESCRIPTION:{}", ical::escape_text(d)))
}

/// A series' master VTODO and its overrides; `None` if its stored rule cannot be read.
fn series_vtodos(entry: &CalendarEntry, stamp: &str) -> Option<String> {
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
    let edited: Vec<schedule::Exception> = entry
        .exceptions
        .iter()
        .flatten()
        .map(|e| schedule::Exception {
            recurrence_id: e.recurrence_id,
            due_date: e.due_date,
            title: e.title.clone(),
        })
        .collect();
    let series = schedule::calendar_series(
        stored,
        &entry.title,
        entry.exdates.as_deref().unwrap_or_default(),
        &edited,
    );
    let mut extra = vec![stamp.to_string(), "STATUS:NEEDS-ACTION".to_string()];
    extra.extend(description(entry));
    Some(series.vtodo_components(&entry.uid, &entry.title, &extra))
}

/// A one-off task's VTODO.
fn task_vtodo(entry: &CalendarEntry, stamp: &str) -> String {
    let mut properties = vec![stamp.to_string()];
    properties.extend(description(entry));
    if let Some(due) = entry.due {
        properties.push(format!("DUE:{}", ical::format_utc(due)));
    }
    let status = if entry.status == "completed" {
        "COMPLETED"
    } else {
        "NEEDS-ACTION"
    };
    properties.push(format!("STATUS:{status}"));
    ical::plain_vtodo(&entry.uid, &entry.title, &properties)
}
