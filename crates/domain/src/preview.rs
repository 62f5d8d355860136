//! The recurrence preview the dashboard shows while a user types: the same resolution the Task
//! API applies on create ([`crate::schedule::resolve`]), described in English, with the next
//! occurrences as instants and as local wall times.

use chrono::{DateTime, SecondsFormat, Utc};
use recurrence::tz::to_local;
use serde::Serialize;

use crate::schedule::{self, LOCAL_FORMAT};
use crate::types::{FieldError, Mode};

/// How many occurrences a preview lists.
pub const PREVIEW_COUNT: usize = 5;

/// One previewed occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewOccurrence {
    /// The instant (RFC 3339, UTC).
    pub at: String,
    /// Local wall time in the series' zone (`YYYY-MM-DDTHH:MM:SS`).
    pub local: String,
}

/// What a recurrence would do if a task were created with it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    /// English description of the rule, e.g. "every 2 weeks on Monday and Wednesday".
    pub describe: String,
    /// Canonical RRULE text.
    pub rule: String,
    /// IANA zone name.
    pub tzid: String,
    /// The first occurrences (fewer if the series ends sooner).
    pub occurrences: Vec<PreviewOccurrence>,
}

/// Previews `recurrence` (preset, RRULE or phrase) as a create with the same fields would
/// resolve it at `now`.
pub fn preview(
    recurrence: &str,
    tzid: &str,
    due_date: Option<DateTime<Utc>>,
    end_date: Option<DateTime<Utc>>,
    mode: Mode,
    now: DateTime<Utc>,
) -> Result<Preview, FieldError> {
    if recurrence.trim().is_empty() {
        return Err(FieldError::new("recurrence", "recurrence is required"));
    }
    let plan = schedule::resolve(recurrence, tzid, due_date, end_date, mode, now)?;
    let dtstart = plan.dtstart_local.format(LOCAL_FORMAT).to_string();
    let series = schedule::stored_series(&plan.rule, &dtstart, &plan.tzid, plan.end_date, mode)
        .ok_or_else(|| FieldError::new("recurrence", "the recurrence cannot be rebuilt"))?;
    let occurrences = series
        .take(PREVIEW_COUNT + 1)
        .into_iter()
        .filter(|at| *at >= plan.first_due)
        .take(PREVIEW_COUNT)
        .map(|at| PreviewOccurrence {
            at: at.to_rfc3339_opts(SecondsFormat::Secs, true),
            local: to_local(at, series.tz).format(LOCAL_FORMAT).to_string(),
        })
        .collect();
    Ok(Preview {
        describe: plan.describe,
        rule: plan.rule,
        tzid: plan.tzid,
        occurrences,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        // A Thursday.
        Utc.with_ymd_and_hms(2026, 11, 26, 7, 0, 0).unwrap()
    }

    fn locals(p: &Preview) -> Vec<&str> {
        p.occurrences.iter().map(|o| o.local.as_str()).collect()
    }

    #[test]
    fn a_phrase_is_described_and_its_next_five_dates_listed() {
        let p = preview(
            "every 2 weeks on Monday and Wednesday at 9am",
            "Europe/Berlin",
            None,
            None,
            Mode::Fixed,
            now(),
        )
        .unwrap();
        assert_eq!(p.describe, "every 2 weeks on Monday and Wednesday");
        assert_eq!(p.rule, "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE");
        // DTSTART is today (Thursday 26 Nov): the fortnights count from its week, whose Monday
        // and Wednesday are past, so the first dates are in the week of 7 Dec (RFC 5545).
        assert_eq!(
            locals(&p),
            [
                "2026-12-07T09:00:00",
                "2026-12-09T09:00:00",
                "2026-12-21T09:00:00",
                "2026-12-23T09:00:00",
                "2027-01-04T09:00:00"
            ]
        );
        assert_eq!(p.occurrences[0].at, "2026-12-07T08:00:00Z");
    }

    #[test]
    fn a_preset_starts_at_the_due_date_and_an_end_date_cuts_the_list() {
        let due = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2026, 12, 3, 23, 0, 0).unwrap();
        let p = preview("daily", "UTC", Some(due), Some(end), Mode::Fixed, now()).unwrap();
        assert_eq!(p.describe, "daily");
        assert_eq!(
            locals(&p),
            [
                "2026-12-01T09:00:00",
                "2026-12-02T09:00:00",
                "2026-12-03T09:00:00"
            ]
        );
    }

    #[test]
    fn bad_input_names_its_field() {
        assert_eq!(
            preview(" ", "UTC", None, None, Mode::Fixed, now())
                .unwrap_err()
                .field,
            "recurrence"
        );
        assert_eq!(
            preview("every blue moon", "UTC", None, None, Mode::Fixed, now())
                .unwrap_err()
                .field,
            "recurrence"
        );
        assert_eq!(
            preview("daily", "Mars/Olympus", None, None, Mode::Fixed, now())
                .unwrap_err()
                .field,
            "tzid"
        );
        assert_eq!(
            preview("FREQ=MINUTELY", "UTC", None, None, Mode::Fixed, now())
                .unwrap_err()
                .field,
            "recurrence"
        );
    }
}
