//! Completions for a phrase being typed: the next words that keep it on the grammar, so the
//! dashboard's rule field can suggest them at every keystroke.
//!
//! A candidate is the typed text with its last, unfinished word replaced (or, after a space,
//! one more word added). It is offered only if the grammar reads the result: as a whole phrase
//! (`complete`) or as the beginning of one (the parser only misses words at its end). Candidates
//! come from a short list for the word before (after "every": units, weekdays, ordinals; after
//! "at": times), most common first, so the order of suggestions is stable.

use super::{parse_phrase, words, PhraseError};
use crate::tz::Zone;

/// Groups of candidate words; a context offers several groups in order.
type Groups = &'static [&'static [&'static str]];

const DAYS: &[&str] = &words::WEEKDAY_NAMES;
const UNITS: &[&str] = &["day", "week", "month", "year"];
const NTH: &[&str] = &["first", "second", "third", "fourth", "last"];
const CLAUSE_HEADS: &[&str] = &["at", "until", "starting", "for"];

// The candidates of `follows`, one list per context.
#[rustfmt::skip]
const START: Groups = &[&["every", "daily", "weekly", "monthly", "yearly", "quarterly", "biweekly",
    "fortnightly", "twice", "the last", "on", "semi-annually", "annually", "hourly"]];
#[rustfmt::skip]
const AFTER_EVERY: Groups = &[&["day", "week", "weekday"], &["month", "year", "other", "2 weeks",
    "2 days", "3 months"], DAYS, NTH, &["1st", "15th", "quarter", "workday", "weekend",
    "mon, wed & fri", "hour", "fortnight"]];
const AFTER_OTHER: Groups = &[UNITS, DAYS, &["weekend"]];
const AFTER_NUMBER: Groups = &[&["weeks", "days", "months", "years", "hours", "times"]];
const AFTER_ORDINAL: Groups = &[DAYS, &["day", "weekday", "workday", "and"]];
#[rustfmt::skip]
const AFTER_WEEKDAY: Groups = &[&["at", "of the month", "of every month", "and"], CLAUSE_HEADS,
    &["of"]];
const AFTER_DAY_OF_MONTH: Groups = &[&["of the month", "of every month", "and", "at", "until"]];
const AFTER_MONTH: Groups = &[&["on the", "and", "at", "until", "starting"]];
const CLAUSES: Groups = &[&["at", "on", "on the", "until", "starting", "for", "in"]];
const AFTER_ON: Groups = &[&["the"], DAYS, &["weekdays", "weekends", "mon, wed & fri"]];
const AFTER_THE: Groups = &[NTH, &["1st", "15th", "last day", "last weekday", "month"]];
#[rustfmt::skip]
const AFTER_OF: Groups = &[&["the month", "every month", "every other month", "every quarter",
    "january", "march", "june", "september", "november", "december"]];
const TIMES: Groups = &[&["9am", "noon", "7:30", "17:00", "6:30pm", "midnight"]];
#[rustfmt::skip]
const DATES: Groups = &[&["tomorrow", "june", "december", "dec 31", "january", "march",
    "september"]];
const AFTER_TIME: Groups = &[&["until", "starting", "for"]];
#[rustfmt::skip]
const AFTER_AND: Groups = &[DAYS, &["15th", "last", "third", "fourth", "september", "december"]];
const AFTER_FOR: Groups = &[&["10 times", "5 times", "12 times"]];
const AFTER_RATE: Groups = &[&["a week", "a month", "a year"]];
const AFTER_A: Groups = &[&["week", "month", "year", "day"]];
#[rustfmt::skip]
const AFTER_LAST: Groups = &[&["day", "weekday", "friday", "monday", "sunday", "saturday", "workday",
    "business day"]];

/// What may follow the word before the one being typed, most useful first.
fn follows(prev: Option<&str>) -> Groups {
    let Some(w) = prev else { return START };
    let w = w.trim_end_matches(',').to_lowercase();
    match w.as_str() {
        "every" | "each" => AFTER_EVERY,
        "other" => AFTER_OTHER,
        "on" => AFTER_ON,
        "the" => AFTER_THE,
        "of" => AFTER_OF,
        "at" => TIMES,
        "until" | "ending" | "starting" | "from" => DATES,
        "and" | "&" => AFTER_AND,
        "for" => AFTER_FOR,
        "twice" | "once" => AFTER_RATE,
        "a" => AFTER_A,
        "last" => AFTER_LAST,
        "noon" | "midnight" | "times" => AFTER_TIME,
        w if w.ends_with("am") || w.ends_with("pm") || w.contains(':') => AFTER_TIME,
        w if w.parse::<u32>().is_ok() || words::number(w).is_some() => AFTER_NUMBER,
        w if words::ordinal(w).is_some() => AFTER_ORDINAL,
        w if is_day_of_month(w) => AFTER_DAY_OF_MONTH,
        w if words::weekday(w).is_some() || words::is_workday(w) || words::is_weekend(w) => {
            AFTER_WEEKDAY
        }
        w if words::month(w).is_some() => AFTER_MONTH,
        _ => CLAUSES,
    }
}

/// `1st`, `15th`, `22nd`, `3rd`: a day of the month written with digits.
fn is_day_of_month(w: &str) -> bool {
    let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    !digits.is_empty()
        && digits.len() < w.len()
        && digits.chars().all(|c| c.is_ascii_digit())
        && matches!(&w[digits.len()..], "st" | "nd" | "rd" | "th")
}

/// Longest typed text completed (longer input gets no suggestions).
pub const MAX_TYPED_CHARS: usize = 300;

/// One suggestion: the whole phrase as it would read with the suggested word.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Completion {
    /// The typed text with the suggestion applied.
    pub text: String,
    /// True if `text` is a whole phrase the grammar accepts (false: it needs more words).
    pub complete: bool,
}

/// Up to `limit` completions of `typed`, in the order of the candidate list.
///
/// ```
/// use recurrence::phrase::complete;
/// let c = complete("every oth", 5);
/// assert_eq!(c[0].text, "every other");
/// assert!(!c[0].complete);
/// assert!(complete("every first mon", 5).iter().any(|c| c.text == "every first monday" && c.complete));
/// ```
#[must_use]
pub fn complete(typed: &str, limit: usize) -> Vec<Completion> {
    if typed.chars().count() > MAX_TYPED_CHARS {
        return Vec::new();
    }
    let typed = typed.trim_start();
    let (head, partial) = split_last_word(typed);
    let partial = partial.to_lowercase();
    let prev = head.split_whitespace().next_back();
    let mut out: Vec<Completion> = Vec::new();
    for cand in follows(prev).iter().flat_map(|g| g.iter()) {
        if out.len() >= limit {
            break;
        }
        if !cand.starts_with(partial.as_str()) || *cand == partial {
            continue;
        }
        let text = format!("{head}{cand}");
        let Some(complete) = readable(&text) else {
            continue;
        };
        if out.iter().all(|c| c.text != text) {
            out.push(Completion { text, complete });
        }
    }
    // A finished word (`every other`): the words that may follow it, as after a space.
    if !partial.is_empty() && out.is_empty() && readable(typed).is_some() {
        for c in complete(&format!("{typed} "), limit - out.len()) {
            if out.iter().all(|o| o.text != c.text) {
                out.push(c);
            }
        }
    }
    out
}

/// The typed text up to its last word (with the space before it), and that word; after a
/// trailing space the word is empty.
fn split_last_word(typed: &str) -> (&str, &str) {
    match typed.rfind(char::is_whitespace) {
        Some(i) => {
            let space = typed[i..].chars().next().map_or(1, char::len_utf8);
            typed.split_at(i + space)
        }
        None => ("", typed),
    }
}

/// `Some(true)` for a whole phrase, `Some(false)` for one that only lacks words at its end,
/// `None` for text the grammar refuses.
fn readable(text: &str) -> Option<bool> {
    match parse_phrase(text, Zone::UTC) {
        Ok(_) => Some(true),
        Err(PhraseError::Incomplete(_) | PhraseError::Rate(_)) => Some(false),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(typed: &str) -> Vec<String> {
        complete(typed, 10).into_iter().map(|c| c.text).collect()
    }

    #[test]
    fn a_started_word_is_finished_with_words_that_fit() {
        assert_eq!(texts("every fir"), ["every first"]);
        let mo = texts("every mo");
        assert!(mo.contains(&"every month".to_string()), "{mo:?}");
        assert!(mo.contains(&"every monday".to_string()), "{mo:?}");
        assert!(!mo.contains(&"every monthly".to_string()), "{mo:?}");
        assert_eq!(texts("Every other tu"), ["Every other tuesday"]);
        assert_eq!(texts("every oth")[0], "every other");
    }

    #[test]
    fn a_finished_word_gets_the_words_that_follow_it() {
        let other = texts("every other");
        assert!(
            other.starts_with(&[
                "every other day".to_string(),
                "every other week".to_string()
            ]),
            "{other:?}"
        );
    }

    #[test]
    fn after_a_space_the_next_words_are_offered_and_marked_complete_or_not() {
        let c = complete("every first monday ", 10);
        assert!(c
            .iter()
            .any(|c| c.text == "every first monday of the month" && c.complete));
        assert!(c
            .iter()
            .any(|c| c.text == "every first monday at" && !c.complete));
        assert!(c.iter().all(|c| !c.text.ends_with("monday monday")));
        let at = texts("every weekday at ");
        assert!(at.contains(&"every weekday at 9am".to_string()), "{at:?}");
        assert!(at.contains(&"every weekday at noon".to_string()), "{at:?}");
    }

    #[test]
    fn every_suggestion_is_read_by_the_grammar() {
        for typed in [
            "",
            "e",
            "every ",
            "every 2",
            "twice a week on ",
            "the last ",
            "quarterly on the ",
        ] {
            for c in complete(typed, 20) {
                let r = parse_phrase(&c.text, Zone::UTC);
                assert_eq!(r.is_ok(), c.complete, "{typed:?} → {c:?}: {r:?}");
            }
        }
    }

    #[test]
    fn text_the_grammar_refuses_gets_no_suggestions() {
        assert!(complete("every blorp ", 10).is_empty());
        assert!(complete("daily weekly", 10).is_empty());
        assert!(complete(&"every ".repeat(60), 10).is_empty());
    }
}
