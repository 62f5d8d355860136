//! The vocabulary of the phrase grammar: weekdays, months, ordinals, number words, units, and
//! the nearest known word for a misspelling (for refusals).

use chrono::Weekday;

use crate::parts::Frequency;

/// Month names, January first.
pub const MONTH_NAMES: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Ordinal words 1–31 as written in one word (hyphens are removed by the lexer).
const ORDINALS: [&str; 31] = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
    "twentyfirst",
    "twentysecond",
    "twentythird",
    "twentyfourth",
    "twentyfifth",
    "twentysixth",
    "twentyseventh",
    "twentyeighth",
    "twentyninth",
    "thirtieth",
    "thirtyfirst",
];

/// Cardinal number words 1–12.
const NUMBERS: [&str; 12] = [
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve",
];

/// Words that the lexer joins when they are written with a hyphen or apart.
pub(crate) const COMPOUNDS: [&str; 10] = [
    "semiannually",
    "semiannual",
    "biannually",
    "halfyearly",
    "biweekly",
    "bimonthly",
    "workday",
    "workdays",
    "weekday",
    "weekdays",
];

/// Every word the grammar knows, for suggestions.
const KEYWORDS: &[&str] = &[
    "every",
    "each",
    "other",
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
    "hour",
    "hours",
    "daily",
    "weekly",
    "monthly",
    "yearly",
    "annually",
    "hourly",
    "quarterly",
    "quarter",
    "biweekly",
    "fortnightly",
    "fortnight",
    "semiannually",
    "twice",
    "once",
    "times",
    "weekday",
    "weekdays",
    "workday",
    "workdays",
    "weekend",
    "weekends",
    "business",
    "last",
    "of",
    "the",
    "on",
    "at",
    "in",
    "and",
    "until",
    "ending",
    "starting",
    "from",
    "for",
    "noon",
    "midnight",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mondays",
    "tuesdays",
    "wednesdays",
    "thursdays",
    "fridays",
    "sundays",
];

/// Weekday names, Monday first.
pub const WEEKDAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A weekday name, abbreviation or plural (`monday`, `mon`, `mondays`, `thurs`).
pub(crate) fn weekday(w: &str) -> Option<Weekday> {
    let w = w.strip_suffix('s').filter(|s| s.len() >= 5).unwrap_or(w);
    Some(match w {
        "monday" | "mon" | "mo" => Weekday::Mon,
        "tuesday" | "tue" | "tues" | "tu" => Weekday::Tue,
        "wednesday" | "wed" | "we" | "weds" => Weekday::Wed,
        "thursday" | "thu" | "thur" | "thurs" | "th" => Weekday::Thu,
        "friday" | "fri" | "fr" => Weekday::Fri,
        "saturday" | "sat" | "sa" => Weekday::Sat,
        "sunday" | "sun" | "su" => Weekday::Sun,
        _ => return None,
    })
}

/// A month name or its three-letter abbreviation (`sept` too), 1–12.
pub(crate) fn month(w: &str) -> Option<u8> {
    if w.len() < 3 {
        return None;
    }
    let w = if w == "sept" { "sep" } else { w };
    MONTH_NAMES
        .iter()
        .position(|n| *n == w || (w.len() == 3 && n.starts_with(w)))
        .and_then(|i| u8::try_from(i + 1).ok())
}

/// An ordinal word (`first` … `thirtyfirst`), or `last` as -1.
pub(crate) fn ordinal(w: &str) -> Option<i8> {
    if w == "last" {
        return Some(-1);
    }
    ORDINALS
        .iter()
        .position(|n| *n == w)
        .and_then(|i| i8::try_from(i + 1).ok())
}

/// A cardinal number word (`one` … `twelve`).
pub(crate) fn number(w: &str) -> Option<u32> {
    NUMBERS
        .iter()
        .position(|n| *n == w)
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// A unit of repetition (`day`, `weeks`, `fortnight`, `quarter`) as frequency × multiplier.
pub(crate) fn unit(w: &str) -> Option<(Frequency, u32)> {
    let w = w.strip_suffix('s').unwrap_or(w);
    Some(match w {
        "day" => (Frequency::Daily, 1),
        "week" => (Frequency::Weekly, 1),
        "fortnight" => (Frequency::Weekly, 2),
        "month" => (Frequency::Monthly, 1),
        "quarter" => (Frequency::Monthly, 3),
        "year" => (Frequency::Yearly, 1),
        "hour" => (Frequency::Hourly, 1),
        "minute" => (Frequency::Minutely, 1),
        _ => return None,
    })
}

/// A one-word frequency (`daily`, `quarterly`, `fortnightly`) as frequency × interval.
pub(crate) fn adverb(w: &str) -> Option<(Frequency, u32)> {
    Some(match w {
        "daily" | "everyday" | "nightly" => (Frequency::Daily, 1),
        "weekly" => (Frequency::Weekly, 1),
        "biweekly" | "fortnightly" => (Frequency::Weekly, 2),
        "monthly" => (Frequency::Monthly, 1),
        "quarterly" => (Frequency::Monthly, 3),
        "semiannually" | "semiannual" | "biannually" | "halfyearly" => (Frequency::Monthly, 6),
        "yearly" | "annually" | "annual" => (Frequency::Yearly, 1),
        "hourly" => (Frequency::Hourly, 1),
        _ => return None,
    })
}

/// True for the words of "weekday"/"workday" (Monday to Friday).
pub(crate) fn is_workday(w: &str) -> bool {
    matches!(w, "weekday" | "weekdays" | "workday" | "workdays")
}

/// True for `weekend`/`weekends`.
pub(crate) fn is_weekend(w: &str) -> bool {
    matches!(w, "weekend" | "weekends")
}

/// True if the lexer should treat `w` as one word.
pub(crate) fn is_known(w: &str) -> bool {
    KEYWORDS.contains(&w)
        || COMPOUNDS.contains(&w)
        || weekday(w).is_some()
        || month(w).is_some()
        || ordinal(w).is_some()
        || number(w).is_some()
        || adverb(w).is_some()
        || unit(w).is_some()
}

/// The known word closest to `w` (at most two edits, one for short words), if any.
pub(crate) fn nearest(w: &str) -> Option<&'static str> {
    let limit = if w.chars().count() <= 4 { 1 } else { 2 };
    KEYWORDS
        .iter()
        .chain(MONTH_NAMES.iter())
        .chain(ORDINALS.iter().take(5))
        .chain(COMPOUNDS.iter())
        .copied()
        .map(|k| (edit_distance(w, k), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance with adjacent transpositions (optimal string alignment).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    if let Some(first) = d.first_mut() {
        for (j, cell) in first.iter_mut().enumerate() {
            *cell = j;
        }
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary() {
        assert_eq!(weekday("thurs"), Some(Weekday::Thu));
        assert_eq!(weekday("mondays"), Some(Weekday::Mon));
        assert_eq!(month("sept"), Some(9));
        assert_eq!(month("ma"), None);
        assert_eq!(ordinal("twentyfirst"), Some(21));
        assert_eq!(number("three"), Some(3));
        assert_eq!(unit("fortnights"), Some((Frequency::Weekly, 2)));
        assert_eq!(nearest("fortnighty"), Some("fortnightly"));
        assert_eq!(nearest("mondya"), Some("monday"));
        assert_eq!(nearest("xylophone"), None);
    }
}
