//! The due-date ranges of "what's due …" questions.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

/// Which pending tasks a question asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DueRange {
    /// Due today (local).
    Today,
    /// Due tomorrow.
    Tomorrow,
    /// Due from today to the end of this week (weeks start on Monday).
    ThisWeek,
    /// Due next week (Monday to Sunday).
    NextWeek,
    /// Due from today to the end of this month.
    ThisMonth,
    /// Due before now.
    Overdue,
    /// Every pending task.
    All,
}

impl DueRange {
    /// Reads a range from the words after the question ("this week", "for tomorrow", "overdue").
    pub(crate) fn from_words(words: &[String]) -> DueRange {
        let text = format!(" {} ", words.join(" "));
        let has = |p: &str| text.contains(&format!(" {p} "));
        if has("overdue") || has("late") || has("past due") {
            DueRange::Overdue
        } else if has("next week") {
            DueRange::NextWeek
        } else if has("this week") || has("the week") || has("week") {
            DueRange::ThisWeek
        } else if has("this month") || has("month") {
            DueRange::ThisMonth
        } else if has("tomorrow") {
            DueRange::Tomorrow
        } else if has("today") || has("tonight") {
            DueRange::Today
        } else {
            DueRange::All
        }
    }

    /// The `[from, to)` bounds in UTC for `now`; `None` is unbounded.
    pub fn bounds(self, now: DateTime<Tz>) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let tz = now.timezone();
        let today = now.date_naive();
        let start = |d: NaiveDate| Some(midnight(tz, d));
        let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
        match self {
            DueRange::Today => (start(today), start(today + Duration::days(1))),
            DueRange::Tomorrow => (
                start(today + Duration::days(1)),
                start(today + Duration::days(2)),
            ),
            DueRange::ThisWeek => (start(today), start(monday + Duration::days(7))),
            DueRange::NextWeek => (
                start(monday + Duration::days(7)),
                start(monday + Duration::days(14)),
            ),
            DueRange::ThisMonth => {
                let next_month = if today.month() == 12 {
                    NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(today.year(), today.month() + 1, 1)
                };
                (start(today), next_month.and_then(start))
            }
            DueRange::Overdue => (None, Some(now.with_timezone(&Utc))),
            DueRange::All => (None, None),
        }
    }

    /// English for the range, for answers ("due this week").
    pub fn phrase(self) -> &'static str {
        match self {
            DueRange::Today => "due today",
            DueRange::Tomorrow => "due tomorrow",
            DueRange::ThisWeek => "due this week",
            DueRange::NextWeek => "due next week",
            DueRange::ThisMonth => "due this month",
            DueRange::Overdue => "overdue",
            DueRange::All => "pending",
        }
    }
}

/// The first instant of `day` in `tz`.
fn midnight(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    let naive = day.and_time(NaiveTime::MIN);
    (0..=2)
        .find_map(|h| {
            tz.from_local_datetime(&(naive + Duration::hours(h)))
                .earliest()
        })
        .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_week_ends_on_sunday_night_in_the_users_zone() {
        let now = chrono_tz::Europe::Berlin
            .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
            .single()
            .expect("valid");
        let (from, to) = DueRange::ThisWeek.bounds(now);
        assert_eq!(
            from.map(|t| t.to_rfc3339()),
            Some("2026-11-25T23:00:00+00:00".into())
        );
        assert_eq!(
            to.map(|t| t.to_rfc3339()),
            Some("2026-11-29T23:00:00+00:00".into())
        );
        let (from, to) = DueRange::ThisMonth.bounds(now);
        assert!(from.is_some());
        assert_eq!(
            to.map(|t| t.to_rfc3339()),
            Some("2026-11-30T23:00:00+00:00".into())
        );
    }
}
