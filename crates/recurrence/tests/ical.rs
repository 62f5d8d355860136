//! VTODO rendering and parsing round-trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use recurrence::{IcalError, Mode, Rule, Series, Zone};

fn local(y: i32, m: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, mi, 0)
        .unwrap()
}

#[test]
fn vtodo_round_trip_with_exceptions() {
    let tz = Zone::parse("America/New_York").unwrap();
    let mut s = Series::new(
        Rule::parse("FREQ=MONTHLY;BYDAY=1MO,-1FR").unwrap(),
        local(2026, 1, 5, 9, 30),
        tz,
    );
    s.delete_instance(local(2026, 1, 30, 9, 30)).unwrap();
    s.edit_instance(
        local(2026, 2, 2, 9, 30),
        Some(local(2026, 2, 3, 11, 0)),
        Some("Rent; late, again".into()),
    )
    .unwrap();
    s.rdates.push(local(2026, 2, 14, 9, 30));
    s.mode = Mode::FromCompletion;
    s.end_date = Some(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
    let text = s.to_vtodo("task-42@todo", "Pay rent");
    assert!(text.contains("RRULE:FREQ=MONTHLY;BYDAY=1MO,-1FR\r\n"));
    assert!(text.contains("EXDATE;TZID=America/New_York:20260130T093000\r\n"));
    assert!(text.contains("RECURRENCE-ID;TZID=America/New_York:20260202T093000\r\n"));
    let back = recurrence::ical::parse_vtodo(&text).unwrap();
    assert_eq!(back.uid, "task-42@todo");
    assert_eq!(back.summary, "Pay rent");
    assert_eq!(back.series, s);
    assert_eq!(
        Series::from_vtodo(&text)
            .unwrap()
            .to_vtodo("task-42@todo", "Pay rent"),
        text
    );
}

#[test]
fn floating_and_utc_series_round_trip() {
    for tz in [Zone::Floating, Zone::UTC] {
        let s = Series::new(
            Rule::parse("FREQ=DAILY;COUNT=3").unwrap(),
            local(2026, 1, 1, 8, 0),
            tz,
        );
        let back = Series::from_vtodo(&s.to_vtodo("u", "t")).unwrap();
        assert_eq!(back, s);
    }
}

#[test]
fn illegal_calendars_are_rejected() {
    let two =
        "BEGIN:VTODO\nDTSTART:20260101T090000\nRRULE:FREQ=DAILY\nRRULE:FREQ=WEEKLY\nEND:VTODO";
    assert!(matches!(
        Series::from_vtodo(two),
        Err(IcalError::Repeated("RRULE"))
    ));
    let ex = "BEGIN:VTODO\nDTSTART:20260101T090000\nEXRULE:FREQ=DAILY\nEND:VTODO";
    assert!(matches!(Series::from_vtodo(ex), Err(IcalError::Exrule)));
    let tz = "BEGIN:VTODO\nDTSTART;TZID=Mars/Olympus:20260101T090000\nRRULE:FREQ=DAILY\nEND:VTODO";
    assert_eq!(
        Series::from_vtodo(tz).unwrap_err().to_string(),
        "unknown time zone Mars/Olympus"
    );
    assert!(matches!(
        Series::from_vtodo("BEGIN:VCALENDAR\nEND:VCALENDAR"),
        Err(IcalError::NoVtodo)
    ));
}

#[test]
fn long_lines_are_folded_and_unfolded() {
    let mut s = Series::new(
        Rule::parse("FREQ=DAILY").unwrap(),
        local(2026, 1, 1, 8, 0),
        Zone::UTC,
    );
    s.exdates = (2..=20).map(|d| local(2026, 1, d, 8, 0)).collect();
    let text = s.to_vtodo("u", &"long title ".repeat(20));
    assert!(text.split("\r\n").all(|l| l.len() <= 75));
    let back = recurrence::ical::parse_vtodo(&text).unwrap();
    assert_eq!(back.series, s);
    assert_eq!(back.summary, "long title ".repeat(20));
}

#[test]
fn a_calendar_of_plain_todos_is_escaped_and_folded() {
    let title =
        "Pay rent; water, power\nand a very long note that goes on past the line limit of RFC 5545";
    let todo = recurrence::ical::plain_vtodo("t-1", title, &["DUE:20261201T090000Z".into()]);
    let cal = recurrence::ical::calendar("-//example//test//EN", &[todo]);
    assert!(cal.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//example//test//EN\r\n"));
    assert!(cal.ends_with("END:VTODO\r\nEND:VCALENDAR\r\n"));
    assert!(cal.lines().all(|l| l.len() <= 75), "{cal}");
    let unfolded = cal.replace("\r\n ", "");
    assert!(unfolded.contains("SUMMARY:Pay rent\\; water\\, power\\nand a very long note"));
    assert!(unfolded.contains("\r\nDUE:20261201T090000Z\r\n"));
}
