//! Repeat-from-completion: the series re-anchored at a completion.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use super::Series;
use crate::parts::{Frequency, RuleParts};
use crate::rule::Rule;
use crate::tz::{to_instant, to_local};

impl Series {
    /// Repeat-from-completion: the next due instant after completing at `completed_at`.
    ///
    /// The series is re-anchored at the completion's local date (keeping DTSTART's time of day
    /// for daily and coarser rules, the completion time itself for sub-daily ones), moved one
    /// period (INTERVAL × FREQ) forward, and the first occurrence of the rule from there is
    /// returned. `every! 3 days` completed on Tuesday evening is due Friday at the usual time.
    /// COUNT is not applied in this mode; UNTIL and the end date are.
    pub fn next_from_completion(&self, completed_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let rebased = self.rebased_after_completion(completed_at)?;
        rebased
            .after(to_instant(rebased.dtstart, rebased.tz), true)
            .map(|o| o.instant)
    }

    /// The series re-anchored after a completion (see [`Series::next_from_completion`]);
    /// store it to keep the next due date.
    pub fn rebased_after_completion(&self, completed_at: DateTime<Utc>) -> Option<Series> {
        let rule = self.rule.as_ref()?;
        let done = to_local(completed_at, self.tz);
        let anchor = if rule.freq() >= Frequency::Hourly {
            done
        } else {
            done.date().and_time(self.dtstart.time())
        };
        let interval = i64::from(rule.interval());
        let start = match rule.freq() {
            Frequency::Yearly => add_months(anchor, 12 * interval)?,
            Frequency::Monthly => add_months(anchor, interval)?,
            Frequency::Weekly => anchor.checked_add_signed(Duration::try_weeks(interval)?)?,
            Frequency::Daily => anchor.checked_add_signed(Duration::try_days(interval)?)?,
            Frequency::Hourly => anchor.checked_add_signed(Duration::try_hours(interval)?)?,
            Frequency::Minutely => anchor.checked_add_signed(Duration::try_minutes(interval)?)?,
            Frequency::Secondly => anchor.checked_add_signed(Duration::try_seconds(interval)?)?,
        };
        let mut parts = rule.parts().clone();
        parts.count = None;
        // Keep the rule's defaults (weekday, day of month) tied to the original DTSTART.
        let explicit = explicit_defaults(parts, self.dtstart);
        let mut rebased = self.clone();
        rebased.rule = Some(Rule::from_parts(explicit).ok()?);
        rebased.dtstart = start;
        rebased.rdates.clear();
        Some(rebased)
    }
}

fn add_months(t: NaiveDateTime, months: i64) -> Option<NaiveDateTime> {
    let m = u32::try_from(months).ok()?;
    let date = t.date().checked_add_months(chrono::Months::new(m))?;
    Some(date.and_time(t.time()))
}

/// Makes DTSTART-derived defaults explicit, so that the rule means the same with another DTSTART.
/// Only the day-level defaults are made explicit; the time of day stays DTSTART's.
fn explicit_defaults(mut p: RuleParts, dtstart: NaiveDateTime) -> RuleParts {
    use chrono::Datelike;
    let no_day_parts = p.by_week_no.is_empty()
        && p.by_year_day.is_empty()
        && p.by_month_day.is_empty()
        && p.by_day.is_empty();
    if no_day_parts {
        match p.freq {
            Frequency::Weekly => p.by_day = vec![crate::parts::ByDay::every(dtstart.weekday())],
            Frequency::Monthly => p.by_month_day = vec![dtstart.day() as i8],
            Frequency::Yearly => {
                if p.by_month.is_empty() {
                    p.by_month = vec![dtstart.month() as u8];
                }
                p.by_month_day = vec![dtstart.day() as i8];
            }
            _ => {}
        }
    }
    p
}
