//! Words that say when: a date, a time, a weekday, an ordinal day, a month or a repetition.
//! A title that would keep such words was not understood; the chat asks instead of storing
//! them ("pay the bill on the 15th of" is never a title).

use recurrence::phrase::{month_word, WEEKDAY_NAMES};

use crate::text::Words;

/// Words that only ever say how often or when.
const ALWAYS: [&str; 11] = [
    "every",
    "everyday",
    "weekdays",
    "weekends",
    "workdays",
    "today",
    "tonight",
    "tomorrow",
    "yesterday",
    "noon",
    "midnight",
];

/// How-often words, which also name kinds of tasks ("Quarterly report", "weekly review"):
/// timing words at the end of a title or before a preposition ("gym weekly", "pay monthly on").
pub(crate) const ADVERBS: [&str; 13] = [
    "daily",
    "weekly",
    "monthly",
    "yearly",
    "annually",
    "hourly",
    "quarterly",
    "biweekly",
    "bi-weekly",
    "fortnightly",
    "semi-annually",
    "semiannually",
    "biannually",
];

/// Words that are timing words only next to a day, weekday or unit ("first Monday", "last
/// day", "each week", "next Friday", "Sunday evening") or at the end of a title ("report due
/// the third").
const CONTEXTUAL: [&str; 17] = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "last",
    "each",
    "next",
    "this",
    "other",
    "morning",
    "afternoon",
    "evening",
    "night",
    "twice",
    "weekday",
    "weekend",
];

/// What `CONTEXTUAL` words must stand next to.
const ANCHORS: [&str; 20] = [
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
    "weekday",
    "weekend",
    "of",
    "a",
    "today",
    "tomorrow",
    "quarter",
    "time",
    "times",
    "hour",
    "hours",
    "fortnight",
];

/// Prepositions after which a month name or weekday abbreviation says when.
const BEFORE_DATE: [&str; 9] = [
    "on", "in", "until", "by", "from", "every", "next", "this", "of",
];

/// Weekday abbreviations that are also words ("sun cream"): timing words after a preposition.
const SHORT_WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The first word of `from..to` (outside quotes) that says when, if any.
pub(crate) fn first_timing_word(words: &Words, from: usize, to: usize) -> Option<usize> {
    let w = words.lower();
    let at = |i: usize| w.get(i).map(String::as_str);
    (from..to).find(|&i| {
        if words.quoted(i) {
            return false;
        }
        let word = w[i].as_str();
        let prev = if i > from { at(i - 1) } else { None };
        let next = if i + 1 < to { at(i + 1) } else { None };
        let after_preposition = prev.is_some_and(|p| BEFORE_DATE.contains(&p));
        let anchored = |x: Option<&str>| x.is_some_and(|x| ANCHORS.contains(&x) || is_weekday(x));
        let ends_title = next.is_none_or(|n| BEFORE_DATE.contains(&n) || n == "at" || n == "for");
        ALWAYS.contains(&word)
            || (ADVERBS.contains(&word) && ends_title)
            || is_weekday(word)
            || is_clock_time(word, prev)
            || is_day_number(word)
            || is_date(word)
            || (month_word(word).is_some()
                && (after_preposition || next.is_some_and(|n| is_day_number(n) || is_number(n))))
            || (SHORT_WEEKDAYS.contains(&word) && after_preposition)
            || (CONTEXTUAL.contains(&word) && (anchored(next) || anchored(prev) || next.is_none()))
            || (word == "in" && next.is_some_and(is_number) && anchored(at(i + 2)))
    })
}

/// A weekday name or its plural (abbreviations are timing words only after a preposition).
fn is_weekday(w: &str) -> bool {
    WEEKDAY_NAMES.contains(&w)
        || w.strip_suffix('s')
            .is_some_and(|d| WEEKDAY_NAMES.contains(&d))
}

fn is_number(w: &str) -> bool {
    !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit())
}

/// `1st`, `15th`, `22nd`, `3rd`.
fn is_day_number(w: &str) -> bool {
    let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    is_number(digits)
        && digits.len() <= 2
        && matches!(&w[digits.len()..], "st" | "nd" | "rd" | "th")
}

/// `9am`, `6:30pm`, `17:00`, or a number after "at" (`at 5`).
fn is_clock_time(w: &str, prev: Option<&str>) -> bool {
    let core = ["a.m.", "p.m.", "a.m", "p.m", "am", "pm"]
        .iter()
        .find_map(|s| w.strip_suffix(s));
    let clock = |c: &str| match c.split_once(':') {
        Some((h, m)) => is_number(h) && h.len() <= 2 && is_number(m) && m.len() == 2,
        None => is_number(c) && c.len() <= 2,
    };
    core.is_some_and(clock) || (w.contains(':') && clock(w)) || (prev == Some("at") && clock(w))
}

/// `2026-12-31`, `12/25`.
fn is_date(w: &str) -> bool {
    let parts: Vec<&str> = w.split(['-', '/']).collect();
    parts.len() >= 2 && parts.len() <= 3 && parts.iter().all(|p| is_number(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(text: &str) -> Option<String> {
        let w = Words::new(text);
        first_timing_word(&w, 0, w.len()).map(|i| w.lower()[i].clone())
    }

    #[test]
    fn dates_times_weekdays_ordinals_months_and_repetition_are_found() {
        assert_eq!(
            timing("pay the electricity bill on the 15th of").as_deref(),
            Some("15th")
        );
        assert_eq!(
            timing("gym on mondays wednesdays and fridays").as_deref(),
            Some("mondays")
        );
        assert_eq!(
            timing("submit timesheet last friday of the month").as_deref(),
            Some("last")
        );
        assert_eq!(
            timing("call mom on sunday evening").as_deref(),
            Some("sunday")
        );
        assert_eq!(timing("review quarterly").as_deref(), Some("quarterly"));
        assert_eq!(timing("pay rent monthly on").as_deref(), Some("monthly"));
        assert_eq!(timing("standup at 9").as_deref(), Some("9"));
        assert_eq!(timing("report 6:30pm").as_deref(), Some("6:30pm"));
        assert_eq!(timing("taxes in june").as_deref(), Some("june"));
        assert_eq!(timing("taxes march 3").as_deref(), Some("march"));
        assert_eq!(timing("backup in 3 days").as_deref(), Some("in"));
        assert_eq!(timing("meet on wed").as_deref(), Some("wed"));
        assert_eq!(timing("report due the third").as_deref(), Some("third"));
    }

    #[test]
    fn ordinary_titles_pass() {
        for t in [
            "read 20 pages",
            "finish the first draft",
            "buy sun cream",
            "prepare March report",
            "walk the dog",
            "call mom",
            "water each plant",
            "evening walk",
            "pay rent",
            "Quarterly report",
            "weekly review of the budget",
        ] {
            assert_eq!(timing(t), None, "{t}");
        }
    }

    #[test]
    fn quoted_words_are_the_users_title() {
        assert_eq!(timing("\"quarterly review\""), None);
        assert_eq!(
            timing("\"quarterly review\" every quarter").as_deref(),
            Some("every")
        );
    }
}
