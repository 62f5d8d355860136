//! iCalendar: render a series as a VTODO (RRULE, RDATE, EXDATE, and one VTODO per edited
//! instance with RECURRENCE-ID) and read it back.

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::error::IcalError;
use crate::parse::{parse_date_or_datetime, DateOrTime};
use crate::rule::Rule;
use crate::series::{Mode, Override, Series};
use crate::tz::{to_instant, to_local, Zone};
use crate::write::format_datetime;

/// The recurrence part of an iCalendar component: DTSTART, RRULE, RDATE, EXDATE lines.
///
/// Rejects what RFC 5545 does not define for a single series: EXRULE and repeated RRULEs.
pub fn parse_recurrence(text: &str) -> Result<Series, IcalError> {
    let lines = unfold(text);
    let mut dtstart: Option<(NaiveDateTime, Zone)> = None;
    let mut rule: Option<Rule> = None;
    let mut rdates_raw = Vec::new();
    let mut exdates_raw = Vec::new();
    let mut end_date = None;
    let mut mode = Mode::Fixed;
    for line in &lines {
        let prop = split_line(line)?;
        match prop.name.as_str() {
            "DTSTART" => {
                if dtstart.is_some() {
                    return Err(IcalError::Repeated("DTSTART"));
                }
                let (value, zone) = parse_value_with_zone(&prop)?;
                let zone = match (value, zone) {
                    (DateOrTime::Utc(_), _) => Zone::UTC,
                    (_, Some(z)) => z,
                    _ => Zone::Floating,
                };
                let local = match value {
                    DateOrTime::Date(d) => d.and_time(chrono::NaiveTime::MIN),
                    DateOrTime::Local(t) | DateOrTime::Utc(t) => t,
                };
                dtstart = Some((local, zone));
            }
            "RRULE" => {
                if rule.is_some() {
                    return Err(IcalError::Repeated("RRULE"));
                }
                rule = Some(Rule::parse(&prop.value)?);
            }
            "EXRULE" => return Err(IcalError::Exrule),
            "RDATE" => rdates_raw.push(prop),
            "EXDATE" => exdates_raw.push(prop),
            "X-TODO-MODE" if prop.value.trim().eq_ignore_ascii_case("FROM-COMPLETION") => {
                mode = Mode::FromCompletion;
            }
            "X-TODO-END-DATE" => match parse_date_or_datetime(&prop.value) {
                Some(DateOrTime::Utc(t)) => end_date = Some(t.and_utc()),
                _ => return Err(IcalError::InvalidDateTime(prop.value.clone())),
            },
            _ => {}
        }
    }
    let (dtstart, tz) = dtstart.ok_or(IcalError::MissingDtstart)?;
    let mut series = Series {
        rule,
        dtstart,
        tz,
        exdates: Vec::new(),
        rdates: Vec::new(),
        overrides: Vec::new(),
        end_date,
        mode,
    };
    for p in &rdates_raw {
        series.rdates.extend(parse_date_list(p, tz)?);
    }
    for p in &exdates_raw {
        series.exdates.extend(parse_date_list(p, tz)?);
    }
    series.rdates.sort_unstable();
    series.rdates.dedup();
    series.exdates.sort_unstable();
    series.exdates.dedup();
    series.validate()?;
    Ok(series)
}

struct Property {
    name: String,
    params: Vec<(String, String)>,
    value: String,
}

impl Property {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn unfold(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = line.strip_prefix([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.push_str(rest);
                continue;
            }
        }
        if !line.trim().is_empty() {
            out.push(line.to_string());
        }
    }
    out
}

fn split_line(line: &str) -> Result<Property, IcalError> {
    let mut in_quotes = false;
    let mut colon = None;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ':' if !in_quotes => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let colon = colon.ok_or_else(|| IcalError::Malformed(line.to_string()))?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut pieces = head.split(';');
    let name = pieces
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase();
    if name.is_empty() {
        return Err(IcalError::Malformed(line.to_string()));
    }
    let mut params = Vec::new();
    for p in pieces {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| IcalError::Malformed(line.to_string()))?;
        params.push((
            k.trim().to_ascii_uppercase(),
            v.trim().trim_matches('"').to_string(),
        ));
    }
    Ok(Property {
        name,
        params,
        value: value.to_string(),
    })
}

fn zone_param(prop: &Property) -> Result<Option<Zone>, IcalError> {
    match prop.param("TZID") {
        None => Ok(None),
        Some(name) => Zone::parse(name)
            .map(Some)
            .ok_or_else(|| IcalError::UnknownTimeZone(name.to_string())),
    }
}

fn parse_value_with_zone(prop: &Property) -> Result<(DateOrTime, Option<Zone>), IcalError> {
    let zone = zone_param(prop)?;
    let value = parse_date_or_datetime(&prop.value)
        .ok_or_else(|| IcalError::InvalidDateTime(prop.value.clone()))?;
    Ok((value, zone))
}

/// Reads an RDATE/EXDATE list and expresses each value as wall time in the series' zone.
fn parse_date_list(prop: &Property, series_zone: Zone) -> Result<Vec<NaiveDateTime>, IcalError> {
    let zone = zone_param(prop)?;
    let mut out = Vec::new();
    for item in prop.value.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let value = parse_date_or_datetime(item)
            .ok_or_else(|| IcalError::InvalidDateTime(item.to_string()))?;
        let local = match value {
            DateOrTime::Date(d) => d.and_time(chrono::NaiveTime::MIN),
            DateOrTime::Utc(t) => to_local(t.and_utc(), series_zone),
            DateOrTime::Local(t) => match zone {
                Some(z) if z != series_zone => to_local(to_instant(t, z), series_zone),
                _ => t,
            },
        };
        out.push(local);
    }
    Ok(out)
}

/// `NAME;TZID=Zone:VALUE` (or `NAME:VALUEZ` for UTC, `NAME:VALUE` for floating).
fn date_line(name: &str, zone: Zone, values: &[NaiveDateTime]) -> String {
    let list = |suffix: &str| {
        values
            .iter()
            .map(|v| format!("{}{suffix}", format_datetime(*v)))
            .collect::<Vec<_>>()
            .join(",")
    };
    match zone {
        Zone::Floating => format!("{name}:{}", list("")),
        z if z.is_utc() => format!("{name}:{}", list("Z")),
        Zone::Tz(tz) => format!("{name};TZID={}:{}", tz.name(), list("")),
    }
}

/// Escapes an iCalendar TEXT value (RFC 5545 §3.3.11): backslash, `;`, `,` and newlines.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

fn unescape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Folds a content line at 75 octets (RFC 5545 §3.1).
pub(crate) fn fold_into(line: &str, out: &mut String) {
    fold(line, out);
}

fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// A parsed VTODO: identity, title and the series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VTodo {
    /// `UID`
    pub uid: String,
    /// `SUMMARY`
    pub summary: String,
    /// The series with its exceptions.
    pub series: Series,
}

impl Series {
    /// Renders the series as a VCALENDAR with one master VTODO (DTSTART, RRULE, RDATE,
    /// EXDATE) and one VTODO per edited instance (RECURRENCE-ID, new DTSTART, SUMMARY).
    pub fn to_vtodo(&self, uid: &str, summary: &str) -> String {
        let mut out = String::new();
        for l in [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//todo-platform//recurrence//EN",
        ] {
            fold(l, &mut out);
        }
        out.push_str(&self.vtodo_components(uid, summary, &[]));
        fold("END:VCALENDAR", &mut out);
        out
    }

    /// The VTODO components of [`Series::to_vtodo`] without the VCALENDAR around them, for a
    /// calendar holding many series; `extra` content lines (such as `DTSTAMP`) are added to
    /// every component.
    pub fn vtodo_components(&self, uid: &str, summary: &str, extra: &[String]) -> String {
        let mut lines: Vec<String> = vec![
            "BEGIN:VTODO".into(),
            format!("UID:{}", escape_text(uid)),
            format!("SUMMARY:{}", escape_text(summary)),
            date_line("DTSTART", self.tz, &[self.dtstart]),
        ];
        if let Some(rule) = &self.rule {
            lines.push(format!("RRULE:{}", rule.to_canonical_string()));
        }
        if !self.rdates.is_empty() {
            lines.push(date_line("RDATE", self.tz, &self.rdates));
        }
        if !self.exdates.is_empty() {
            lines.push(date_line("EXDATE", self.tz, &self.exdates));
        }
        if self.mode == Mode::FromCompletion {
            lines.push("X-TODO-MODE:FROM-COMPLETION".into());
        }
        if let Some(end) = self.end_date {
            lines.push(format!(
                "X-TODO-END-DATE:{}Z",
                format_datetime(end.naive_utc())
            ));
        }
        lines.extend(extra.iter().cloned());
        lines.push("END:VTODO".into());
        for ov in &self.overrides {
            lines.push("BEGIN:VTODO".into());
            lines.push(format!("UID:{}", escape_text(uid)));
            lines.push(date_line("RECURRENCE-ID", self.tz, &[ov.recurrence_id]));
            lines.push(date_line("DTSTART", self.tz, &[ov.start]));
            let title = ov.title.as_deref().unwrap_or(summary);
            lines.push(format!("SUMMARY:{}", escape_text(title)));
            if ov.properties.is_empty() {
                lines.extend(extra.iter().cloned());
            } else {
                lines.extend(ov.properties.iter().cloned());
            }
            lines.push("END:VTODO".into());
        }
        let mut out = String::new();
        for l in &lines {
            fold(l, &mut out);
        }
        out
    }

    /// Parses what [`Series::to_vtodo`] writes (and ordinary VTODOs with RRULE/RDATE/EXDATE
    /// and RECURRENCE-ID exceptions).
    pub fn from_vtodo(text: &str) -> Result<Series, IcalError> {
        parse_vtodo(text).map(|v| v.series)
    }
}

/// Parses a VCALENDAR/VTODO text into UID, SUMMARY and series.
pub fn parse_vtodo(text: &str) -> Result<VTodo, IcalError> {
    let lines = unfold(text);
    let mut components: Vec<Vec<String>> = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in lines {
        let upper = line.trim().to_ascii_uppercase();
        if upper == "BEGIN:VTODO" {
            current = Some(Vec::new());
        } else if upper == "END:VTODO" {
            if let Some(c) = current.take() {
                components.push(c);
            }
        } else if let Some(c) = current.as_mut() {
            c.push(line);
        }
    }
    let is_override = |c: &Vec<String>| {
        c.iter()
            .any(|l| l.to_ascii_uppercase().starts_with("RECURRENCE-ID"))
    };
    let master = components
        .iter()
        .find(|c| !is_override(c))
        .ok_or(IcalError::NoVtodo)?;
    let mut series = parse_recurrence(&master.join("\n"))?;
    let mut uid = String::new();
    let mut summary = String::new();
    for l in master {
        let p = split_line(l)?;
        match p.name.as_str() {
            "UID" => uid = unescape_text(&p.value),
            "SUMMARY" => summary = unescape_text(&p.value),
            _ => {}
        }
    }
    for c in components.iter().filter(|c| is_override(c)) {
        let mut rid = None;
        let mut start = None;
        let mut title = None;
        for l in c {
            let p = split_line(l)?;
            match p.name.as_str() {
                "RECURRENCE-ID" => rid = Some(parse_date_list(&p, series.tz)?),
                "DTSTART" => start = Some(parse_date_list(&p, series.tz)?),
                // An override repeats the master's SUMMARY (it is a complete instance): only a
                // different one is a retitle.
                "SUMMARY" => title = Some(unescape_text(&p.value)).filter(|t| *t != summary),
                _ => {}
            }
        }
        let Some(recurrence_id) = rid.and_then(|v| v.first().copied()) else {
            continue;
        };
        let start = start
            .and_then(|v| v.first().copied())
            .unwrap_or(recurrence_id);
        series.overrides.push(Override {
            recurrence_id,
            start,
            title,
            properties: Vec::new(),
        });
    }
    series.overrides.sort_by_key(|o| o.recurrence_id);
    Ok(VTodo {
        uid,
        summary,
        series,
    })
}

/// A VTODO without recurrence: UID, SUMMARY and the given property lines (already escaped),
/// each line folded at 75 octets.
pub fn plain_vtodo(uid: &str, summary: &str, properties: &[String]) -> String {
    let mut out = String::new();
    fold("BEGIN:VTODO", &mut out);
    fold(&format!("UID:{}", escape_text(uid)), &mut out);
    fold(&format!("SUMMARY:{}", escape_text(summary)), &mut out);
    for p in properties {
        fold(p, &mut out);
    }
    fold("END:VTODO", &mut out);
    out
}

/// A VCALENDAR (version 2.0, product `prodid`) of components written by [`plain_vtodo`] or
/// [`Series::vtodo_components`].
pub fn calendar(prodid: &str, components: &[String]) -> String {
    let mut out = String::new();
    fold("BEGIN:VCALENDAR", &mut out);
    fold("VERSION:2.0", &mut out);
    fold(&format!("PRODID:{prodid}"), &mut out);
    for c in components {
        out.push_str(c);
    }
    fold("END:VCALENDAR", &mut out);
    out
}

/// Formats an instant as an iCalendar UTC date-time (`20260308T073000Z`).
pub fn format_utc(instant: DateTime<Utc>) -> String {
    format!("{}Z", format_datetime(instant.naive_utc()))
}
