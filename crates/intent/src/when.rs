//! Dates and times as people say them: "Friday 3pm", "tomorrow at 9", "Dec 5", "in 3 days".
//! The date part is read by the `interim` crate; the time of day is read here so that a bare
//! hour ("at 7") is recognised as ambiguous instead of guessed.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;

/// The time of day used when only a date is given for a new task.
pub const DEFAULT_TIME: NaiveTime = match NaiveTime::from_hms_opt(9, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// A date and/or a time of day, in the user's zone; missing parts are filled in by
/// [`When::resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct When {
    /// The day, if one was said.
    pub date: Option<NaiveDate>,
    /// The time of day, if one was said.
    pub time: Option<NaiveTime>,
}

/// Why a date/time expression was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    /// Nothing was said.
    #[error("no date or time was given")]
    Empty,
    /// An hour from 1 to 12 without am/pm.
    #[error("do you mean {0} in the morning or {0} in the evening? Say {0}am or {0}pm")]
    AmbiguousHour(u32),
    /// Words that are not a date.
    #[error("\"{0}\" is not a date or time I know")]
    NotADate(String),
    /// A week, month or year without the day ("next week"): which day is a guess.
    #[error("which day {0}? Say for example \"{1}\"")]
    WhichDay(String, &'static str),
    /// A part of the day without a time ("sunday evening", "tonight"): which hour is a guess.
    #[error("what time {0}? Say for example {1}")]
    PartOfDay(String, &'static str),
}

impl When {
    /// Reads a date/time expression from lower-case words (leading "on", "at", "by", "for",
    /// "to", "due" are ignored).
    pub fn parse(words: &[String], now: DateTime<Tz>) -> Result<When, WhenError> {
        let mut date_words: Vec<&str> = Vec::new();
        let mut time = None;
        let mut i = 0;
        while i < words.len() {
            let w = words[i].as_str();
            let leading = date_words.is_empty() && time.is_none();
            // Filler: "on friday at 3pm", "by tomorrow", "in 3 days".
            if matches!(w, "at" | "on" | "in")
                || (leading && matches!(w, "by" | "for" | "to" | "due" | "until"))
            {
                i += 1;
                continue;
            }
            let after_at = i > 0 && words[i - 1] == "at";
            if let Some((t, used)) = time_of_day(w, words.get(i + 1).map(String::as_str), after_at)?
            {
                if time.is_some() {
                    return Err(WhenError::NotADate(words.join(" ")));
                }
                time = Some(t);
                i += used;
                continue;
            }
            date_words.push(w);
            i += 1;
        }
        if date_words.is_empty() && time.is_none() {
            return Err(WhenError::Empty);
        }
        if let [this @ ("next" | "this"), span @ ("week" | "month" | "year" | "weekend")] =
            date_words.as_slice()
        {
            let example = match *span {
                "week" => "next Monday\" or \"Friday",
                "weekend" => "Saturday\" or \"Sunday",
                _ => "Dec 14\" or \"the 1st of next month",
            };
            return Err(WhenError::WhichDay(format!("{this} {span}"), example));
        }
        if let [month] = date_words.as_slice() {
            if is_month_name(month) {
                return Err(WhenError::WhichDay(
                    format!("in {month}"),
                    "June 15\" or \"the 1st of June",
                ));
            }
        }
        if time.is_none() {
            if let Some(part) = date_words.iter().find_map(|w| part_of_day(w)) {
                return Err(part);
            }
        }
        // "sunday evening at 7pm": the hour says it; the part of the day is not a date.
        date_words.retain(|w| part_of_day(w).is_none() || *w == "tonight");
        let date = if date_words.is_empty() {
            None
        } else {
            Some(date_of(&date_words.join(" "), now)?)
        };
        Ok(When { date, time })
    }

    /// The instant meant, relative to `now`; parts not said come from `keep` (the task's current
    /// due date) or default to the next such time of day / [`DEFAULT_TIME`].
    pub fn resolve(&self, now: DateTime<Tz>, keep: Option<DateTime<Tz>>) -> DateTime<Tz> {
        let tz = now.timezone();
        let keep_local = keep.map(|k| k.with_timezone(&tz));
        let time = self
            .time
            .or(keep_local.map(|k| k.time()))
            .unwrap_or(DEFAULT_TIME);
        let date = match (self.date, self.time) {
            (Some(d), _) => d,
            (None, Some(t)) => {
                let today = now.date_naive();
                if t > now.time() {
                    today
                } else {
                    today + Duration::days(1)
                }
            }
            (None, None) => keep_local.map_or(now.date_naive(), |k| k.date_naive()),
        };
        local(tz, date, time)
    }
}

/// The first valid instant at `date` `time` in `tz` (a time skipped by a DST gap moves forward).
fn local(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Tz> {
    let naive = date.and_time(time);
    (0..=3)
        .find_map(|h| {
            tz.from_local_datetime(&(naive + Duration::hours(h)))
                .earliest()
        })
        .unwrap_or_else(|| tz.from_utc_datetime(&naive))
}

/// A month said alone ("june", "sept"): a month is not a day.
fn is_month_name(w: &str) -> bool {
    recurrence::phrase::month_word(w).is_some()
}

/// A part of the day ("evening") or "tonight": a time is needed to place it.
fn part_of_day(w: &str) -> Option<WhenError> {
    let (when, example) = match w {
        "morning" => ("in the morning", "8am or 9:30am"),
        "afternoon" => ("in the afternoon", "2pm or 4:30pm"),
        "evening" => ("in the evening", "6pm or 7:30pm"),
        "night" | "tonight" => ("tonight", "8pm or 10pm"),
        _ => return None,
    };
    Some(WhenError::PartOfDay(when.to_string(), example))
}

/// The hour of a time of day said after "at" without am/pm ("7", "7:30"), which could be
/// morning or evening.
pub(crate) fn bare_hour(w: &str, next: Option<&str>) -> Option<u32> {
    match time_of_day(w, next, true) {
        Err(WhenError::AmbiguousHour(h)) => Some(h),
        _ => None,
    }
}

/// Reads a time of day at `w` (and `next`, for "3 pm"); answers the time and the words used.
/// A bare number is a time only after "at" ("dec 5" is a day, "at 5" an hour).
fn time_of_day(
    w: &str,
    next: Option<&str>,
    after_at: bool,
) -> Result<Option<(NaiveTime, usize)>, WhenError> {
    let fixed = |h, m| NaiveTime::from_hms_opt(h, m, 0);
    match w {
        "noon" | "midday" => return Ok(fixed(12, 0).map(|t| (t, 1))),
        "midnight" => return Ok(Some((NaiveTime::MIN, 1))),
        _ => {}
    }
    let (core, pm, used) = match split_meridiem(w) {
        (core, Some(pm)) => (core, Some(pm), 1),
        (core, None) => match next.map(meridiem) {
            Some(Some(pm)) if is_clock(core) => (core, Some(pm), 2),
            _ => (core, None, 1),
        },
    };
    if !is_clock(core) || (pm.is_none() && !core.contains(':') && !after_at) {
        return Ok(None);
    }
    let (h, m) = match core.split_once(':') {
        Some((h, m)) => (h.parse::<u32>().ok(), m.parse::<u32>().ok()),
        None => (core.parse::<u32>().ok(), Some(0)),
    };
    let (Some(h), Some(m)) = (h, m) else {
        return Ok(None);
    };
    let hour = match pm {
        Some(_) if !(1..=12).contains(&h) => return Err(WhenError::NotADate(w.to_string())),
        Some(false) => h % 12,
        Some(true) => h % 12 + 12,
        // "7" or "7:30" alone: morning or evening? "15:00" and "0:30" are clear.
        None if (1..=12).contains(&h) && !core.starts_with('0') => {
            if core.contains(':') && h == 12 {
                12
            } else {
                return Err(WhenError::AmbiguousHour(h));
            }
        }
        None => h,
    };
    // "25:00", "9:75": a clock that does not exist is not read as a date either.
    fixed(hour, m)
        .map(|t| Some((t, used)))
        .ok_or_else(|| WhenError::NotADate(w.to_string()))
}

fn is_clock(core: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    match core.split_once(':') {
        Some((h, m)) => digits(h) && m.len() == 2 && digits(m),
        None => digits(core),
    }
}

fn meridiem(w: &str) -> Option<bool> {
    match w {
        "am" | "a.m" | "a.m." => Some(false),
        "pm" | "p.m" | "p.m." => Some(true),
        _ => None,
    }
}

fn split_meridiem(w: &str) -> (&str, Option<bool>) {
    for (suffix, pm) in [
        ("a.m.", false),
        ("p.m.", true),
        ("a.m", false),
        ("p.m", true),
        ("am", false),
        ("pm", true),
    ] {
        if let Some(core) = w.strip_suffix(suffix) {
            if is_clock(core) {
                return (core, Some(pm));
            }
        }
    }
    (w, None)
}

/// A day from words such as "friday", "tomorrow", "dec 5", "next monday", "2026-12-01", "3 days".
fn date_of(text: &str, now: DateTime<Tz>) -> Result<NaiveDate, WhenError> {
    let not_a_date = || WhenError::NotADate(text.to_string());
    match text {
        "today" | "tonight" => return Ok(now.date_naive()),
        "tomorrow" => return Ok(now.date_naive() + Duration::days(1)),
        _ => {}
    }
    // A bare number is not a date ("move x to 5").
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_a_date());
    }
    let parse = |t: &str| interim::parse_date_string(t, now, interim::Dialect::Us).ok();
    // "dec 6 2026": the parser wants the comma the tokenizer dropped ("dec 6, 2026").
    let with_comma = || {
        let (head, year) = text.rsplit_once(' ')?;
        (year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()))
            .then(|| format!("{head}, {year}"))
    };
    let parsed = parse(text)
        .or_else(|| with_comma().and_then(|t| parse(&t)))
        .ok_or_else(not_a_date)?;
    let date = parsed.date_naive();
    // "dec 5" said in late December means next year's; an explicit year or "last" stays.
    let has_year = text
        .split(|c: char| !c.is_ascii_digit())
        .any(|p| p.len() == 4);
    if date < now.date_naive() && !has_year && !text.contains("last") && !text.contains("ago") {
        return Ok(date.with_year(date.year() + 1).unwrap_or(date));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Tz> {
        // Thursday 26 November 2026, 10:00 in New York.
        chrono_tz::America::New_York
            .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
            .single()
            .expect("valid")
    }

    fn when(s: &str) -> Result<When, WhenError> {
        let words: Vec<String> = s.split(' ').map(str::to_string).collect();
        When::parse(&words, now())
    }

    fn d(m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2026, m, day)
    }

    fn t(h: u32, m: u32) -> Option<NaiveTime> {
        NaiveTime::from_hms_opt(h, m, 0)
    }

    #[test]
    fn dates_and_times_are_read() {
        assert_eq!(
            when("friday 3pm"),
            Ok(When {
                date: d(11, 27),
                time: t(15, 0)
            })
        );
        assert_eq!(
            when("on friday at 3 pm"),
            Ok(When {
                date: d(11, 27),
                time: t(15, 0)
            })
        );
        assert_eq!(
            when("tomorrow at 9:30am"),
            Ok(When {
                date: d(11, 27),
                time: t(9, 30)
            })
        );
        assert_eq!(
            when("dec 5"),
            Ok(When {
                date: d(12, 5),
                time: None
            })
        );
        assert_eq!(
            when("dec 6 2026"),
            Ok(When {
                date: d(12, 6),
                time: None
            })
        );
        assert_eq!(
            when("at noon"),
            Ok(When {
                date: None,
                time: t(12, 0)
            })
        );
        assert_eq!(
            when("at 18:45"),
            Ok(When {
                date: None,
                time: t(18, 45)
            })
        );
        assert_eq!(
            when("in 3 days"),
            Ok(When {
                date: d(11, 29),
                time: None
            })
        );
    }

    #[test]
    fn a_bare_hour_is_a_question_and_nonsense_is_named() {
        assert_eq!(when("at 7"), Err(WhenError::AmbiguousHour(7)));
        assert_eq!(when("friday at 7:30"), Err(WhenError::AmbiguousHour(7)));
        assert!(matches!(when("someday"), Err(WhenError::NotADate(_))));
        assert_eq!(when("at"), Err(WhenError::Empty));
        assert!(matches!(when("13pm"), Err(WhenError::NotADate(_))));
    }

    #[test]
    fn missing_parts_come_from_the_task_or_the_clock() {
        let friday = When {
            date: d(11, 27),
            time: None,
        };
        let keep = now() + Duration::hours(30); // Friday 16:00
        assert_eq!(
            friday.resolve(now(), Some(keep)).to_rfc3339(),
            "2026-11-27T16:00:00-05:00"
        );
        assert_eq!(
            friday.resolve(now(), None).to_rfc3339(),
            "2026-11-27T09:00:00-05:00"
        );
        let nine = When {
            date: None,
            time: t(9, 0),
        };
        assert_eq!(
            nine.resolve(now(), None).to_rfc3339(),
            "2026-11-27T09:00:00-05:00"
        );
        let eleven = When {
            date: None,
            time: t(11, 0),
        };
        assert_eq!(
            eleven.resolve(now(), None).to_rfc3339(),
            "2026-11-26T11:00:00-05:00"
        );
    }

    #[test]
    fn a_time_in_a_dst_gap_moves_forward() {
        let ny = chrono_tz::America::New_York;
        let gap = local(
            ny,
            NaiveDate::from_ymd_opt(2027, 3, 14).expect("date"),
            NaiveTime::from_hms_opt(2, 30, 0).expect("time"),
        );
        assert_eq!(gap.to_rfc3339(), "2027-03-14T03:30:00-04:00");
    }
}
