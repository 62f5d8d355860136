//! Reminder clauses at the end of a create command: "1 hour before", "a day and an hour
//! before", "the day before", "at the time". Offsets come out as ISO 8601 durations.

use crate::text::Words;

/// A reminder clause found at the end of words `..end`: where it starts and its offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReminderClause {
    /// Index of the clause's first word.
    pub start: usize,
    /// Offsets before due, e.g. `PT1H`.
    pub offsets: Vec<String>,
}

/// Finds a reminder clause ending at `end`.
pub(crate) fn trailing_reminders(words: &Words, end: usize) -> Option<ReminderClause> {
    let w = words.lower();
    let at_due = [
        "at the time",
        "when it's due",
        "when due",
        "on time",
        "when it is due",
    ];
    for phrase in at_due {
        let n = phrase.split(' ').count();
        if end >= n && words.has_at(end - n, phrase) {
            let start = lead_in(words, end - n);
            return Some(ReminderClause {
                start,
                offsets: vec!["PT0S".into()],
            });
        }
    }
    let last = end.checked_sub(1)?;
    let mut i = match w[last].as_str() {
        "before" | "ahead" | "beforehand" | "early" | "earlier" => last,
        "it" | "that" if last > 0 && w[last - 1] == "before" => last - 1,
        _ => return None,
    };
    let mut offsets = Vec::new();
    // Walk back over "<amount> <unit> [and <amount> <unit>]*".
    loop {
        if i < 2 {
            break;
        }
        let Some(unit) = unit_of(&w[i - 1]) else {
            break;
        };
        let Some(amount) = amount_of(&w[i - 2]) else {
            break;
        };
        offsets.push(iso_duration(amount, unit));
        i -= 2;
        if i >= 1 && w[i - 1] == "and" && i >= 3 && unit_of(&w[i - 2]).is_some() {
            i -= 1;
        } else {
            break;
        }
    }
    if offsets.is_empty() {
        return None;
    }
    offsets.reverse();
    Some(ReminderClause {
        start: lead_in(words, i),
        offsets,
    })
}

/// Steps back over "remind me", "with a reminder", "and" before a clause starting at `i`.
fn lead_in(words: &Words, mut i: usize) -> usize {
    for phrase in [
        "with a reminder",
        "with reminders",
        "with reminder",
        "remind me",
        "reminder",
        "and",
    ] {
        let n = phrase.split(' ').count();
        if i >= n && words.has_at(i - n, phrase) {
            i -= n;
        }
    }
    i
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Minute,
    Hour,
    Day,
    Week,
}

fn unit_of(w: &str) -> Option<Unit> {
    Some(match w {
        "minute" | "minutes" | "min" | "mins" | "m" => Unit::Minute,
        "hour" | "hours" | "hr" | "hrs" | "h" => Unit::Hour,
        "day" | "days" | "d" => Unit::Day,
        "week" | "weeks" | "wk" | "wks" => Unit::Week,
        _ => return None,
    })
}

fn amount_of(w: &str) -> Option<u32> {
    const WORDS: [&str; 13] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    match w {
        "a" | "an" | "the" => Some(1),
        "half" => None,
        _ => w.parse::<u32>().ok().filter(|n| *n <= 10_000).or_else(|| {
            WORDS
                .iter()
                .position(|x| *x == w)
                .and_then(|n| u32::try_from(n).ok())
        }),
    }
}

fn iso_duration(amount: u32, unit: Unit) -> String {
    match unit {
        Unit::Minute => format!("PT{amount}M"),
        Unit::Hour => format!("PT{amount}H"),
        Unit::Day => format!("P{amount}D"),
        Unit::Week => format!("P{amount}W"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(s: &str) -> Option<(String, Vec<String>)> {
        let w = Words::new(s);
        trailing_reminders(&w, w.len()).map(|c| (w.lower_text(0, c.start), c.offsets))
    }

    #[test]
    fn offsets_are_read_from_the_end() {
        assert_eq!(
            clause("call mom every sunday at 6pm, 1 hour before"),
            Some(("call mom every sunday at 6pm".into(), vec!["PT1H".into()]))
        );
        assert_eq!(
            clause("x a day and an hour before"),
            Some(("x".into(), vec!["P1D".into(), "PT1H".into()]))
        );
        assert_eq!(
            clause("x remind me 30 minutes before it"),
            Some(("x".into(), vec!["PT30M".into()]))
        );
        assert_eq!(
            clause("x with a reminder two weeks ahead"),
            Some(("x".into(), vec!["P2W".into()]))
        );
        assert_eq!(
            clause("x at the time"),
            Some(("x".into(), vec!["PT0S".into()]))
        );
    }

    #[test]
    fn other_endings_are_not_reminders() {
        assert_eq!(clause("finish the report before"), None);
        assert_eq!(clause("buy milk"), None);
        assert_eq!(clause("before"), None);
    }
}
