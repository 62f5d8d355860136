//! "add pay rent every month on the 1st at 9am", "remind me to call mom every Sunday at 6pm,
//! 1 hour before", "add dentist on Friday 3pm": title, then a recurrence phrase or a due date,
//! then reminders.

use recurrence::{parse_phrase, Zone};

use crate::intent::{Intent, NewTask, Understanding};
use crate::reminder::trailing_reminders;
use crate::text::Words;
use crate::timing::{first_timing_word, ADVERBS};
use crate::when::{bare_hour, When, WhenError};
use crate::Context;
use recurrence::phrase::WEEKDAY_NAMES;

/// Whether a word can begin a recurrence phrase: "every", "each", "twice", "once", a
/// how-often word ("daily", "quarterly" …), "weekdays"/"weekends"/"workdays"/"everyday", or a
/// weekday in the plural ("mondays").
pub(crate) fn is_rule_head(w: &str) -> bool {
    matches!(
        w,
        "every" | "each" | "twice" | "once" | "weekdays" | "weekends" | "workdays" | "everyday"
    ) || ADVERBS.contains(&w)
        || w.strip_suffix('s')
            .is_some_and(|d| WEEKDAY_NAMES.contains(&d))
}

/// Words that can begin a due date.
const DUE_HEADS: [&str; 12] = [
    "on", "at", "by", "due", "today", "tonight", "tomorrow", "next", "this", "in", "before",
    "until",
];

/// Understands the words `from..` of a create command. `is_reminder` ("remind me to …") makes
/// a reminder at due the default and requires a time.
pub(crate) fn create(
    words: &Words,
    from: usize,
    ctx: &Context,
    is_reminder: bool,
) -> Understanding {
    let mut end = words.len();
    let mut reminders = Vec::new();
    if let Some(clause) = trailing_reminders(words, end) {
        end = clause.start;
        reminders = clause.offsets;
    }
    let w = words.lower();

    let tz = Zone::Tz(ctx.now.timezone());
    // The phrase first, then "to <title>": "remind me every first Monday of the month at 9am to
    // pay rent".
    if let Some(u) = phrase_then_title(words, from, end, tz, is_reminder, &reminders) {
        return u;
    }
    // A recurrence phrase: the earliest head from which the rest parses.
    let mut rule_error = None;
    for i in from..end {
        if words.quoted(i) {
            continue;
        }
        // "on the last weekday of every month", "at 7pm every Tuesday": a lead-in word counts
        // when a head follows.
        let lead_in = matches!(w[i].as_str(), "on" | "the" | "last" | "first" | "at")
            && w[i + 1..end].iter().any(|x| is_rule_head(x));
        if !is_rule_head(&w[i]) && !lead_in {
            continue;
        }
        let phrase = words.phrase_text(i, end).replacen("each", "every", 1);
        match parse_phrase(&phrase, tz) {
            Ok(parsed) => {
                if i == from {
                    return Understanding::ask("What should the task be called?");
                }
                if let Some(h) = ambiguous_hour(&w[i..end]) {
                    return morning_or_evening(h);
                }
                if is_reminder && needs_time(&parsed) {
                    return reminder_time_question(words, (from, i), (i, end));
                }
                if is_reminder && reminders.is_empty() {
                    reminders.push("PT0S".into());
                }
                return titled(words, from, i, |title| NewTask {
                    title,
                    recurrence: Some(phrase.clone()),
                    rule: Some(parsed.rule.to_string()),
                    describe: Some(parsed.describe()),
                    due: None,
                    reminders: reminders.clone(),
                });
            }
            Err(e) => {
                rule_error.get_or_insert((i, e));
            }
        }
    }

    if let Some(u) = due_date(words, from, end, ctx, is_reminder, &reminders) {
        return u;
    }
    if let Some((i, e)) = rule_error {
        return Understanding::ask(format!(
            "I see a repeating task, but not how \"{}\" repeats: {e}. Try for example \"every Monday at 9am\".",
            words.original_text(i, end)
        ));
    }
    if is_reminder {
        let what = words.original_text(from, end);
        return Understanding::ask(format!("When should I remind you to {what}?"));
    }
    titled(words, from, end, |title| NewTask {
        title,
        recurrence: None,
        rule: None,
        describe: None,
        due: None,
        reminders: reminders.clone(),
    })
}

/// A due date: the earliest head from which the rest is a date/time ("on Friday at 3pm").
fn due_date(
    words: &Words,
    from: usize,
    end: usize,
    ctx: &Context,
    is_reminder: bool,
    reminders: &[String],
) -> Option<Understanding> {
    let w = words.lower();
    let mut reminders = reminders.to_vec();
    for i in from + 1..end {
        if words.quoted(i) || (!DUE_HEADS.contains(&w[i].as_str()) && !starts_a_date(&w[i])) {
            continue;
        }
        match When::parse(&w[i..end], ctx.now) {
            Ok(due) => {
                if is_reminder && reminders.is_empty() {
                    reminders.push("PT0S".into());
                }
                return Some(titled(words, from, i, |title| NewTask {
                    title,
                    recurrence: None,
                    rule: None,
                    describe: None,
                    due: Some(due),
                    reminders: reminders.clone(),
                }));
            }
            Err(WhenError::AmbiguousHour(h)) => return Some(morning_or_evening(h)),
            Err(e @ (WhenError::PartOfDay(..) | WhenError::WhichDay(..))) => {
                return Some(when_question(&e))
            }
            Err(_) => {}
        }
    }

    None
}

/// "every first Monday of the month at 9am to pay rent": a phrase from `from` up to a "to"
/// (the first one after which the words still make a title).
fn phrase_then_title(
    words: &Words,
    from: usize,
    end: usize,
    tz: Zone,
    is_reminder: bool,
    reminders: &[String],
) -> Option<Understanding> {
    let w = words.lower();
    if !w.get(from).is_some_and(|h| is_rule_head(h)) {
        return None;
    }
    let to = (from + 1..end.saturating_sub(1))
        .find(|&k| w[k] == "to" && parse_phrase(&words.phrase_text(from, k), tz).is_ok())?;
    let phrase = words.phrase_text(from, to);
    let parsed = parse_phrase(&phrase, tz).ok()?;
    if let Some(h) = ambiguous_hour(&w[from..to]) {
        return Some(morning_or_evening(h));
    }
    if is_reminder && needs_time(&parsed) {
        return Some(reminder_time_question(words, (to + 1, end), (from, to)));
    }
    let mut reminders = reminders.to_vec();
    if is_reminder && reminders.is_empty() {
        reminders.push("PT0S".into());
    }
    Some(titled(words, to + 1, end, |title| NewTask {
        title,
        recurrence: Some(phrase.clone()),
        rule: Some(parsed.rule.to_string()),
        describe: Some(parsed.describe()),
        due: None,
        reminders: reminders.clone(),
    }))
}

/// An hour said without am/pm after "at" in a recurrence phrase ("every Wednesday at 7:30").
pub(crate) fn ambiguous_hour(words: &[String]) -> Option<u32> {
    (1..words.len())
        .filter(|&i| words[i - 1] == "at")
        .find_map(|i| bare_hour(&words[i], words.get(i + 1).map(String::as_str)))
}

/// The question for an hour without am/pm.
pub(crate) fn morning_or_evening(h: u32) -> Understanding {
    Understanding::ask(format!(
        "Is that {h} in the morning or in the evening? Say {h}am or {h}pm."
    ))
}

/// "remind me to pay rent every month": a reminder of a repeating task needs the time of day
/// (midnight would be a guess); words `title` are the title, `phrase` the recurrence phrase.
fn reminder_time_question(
    words: &Words,
    title: (usize, usize),
    phrase: (usize, usize),
) -> Understanding {
    let title = words.original_text(title.0, title.1);
    let phrase = words.original_text(phrase.0, phrase.1);
    Understanding::ask(format!(
        "At what time should I remind you to {title} ({phrase})? Say for example \"remind me to {title} {phrase} at 9am\"."
    ))
}

/// Whether a reminder of rule `parsed` needs a time of day that the phrase did not give.
fn needs_time(parsed: &recurrence::PhraseRule) -> bool {
    parsed.time.is_none()
        && !matches!(
            parsed.rule.parts().freq,
            recurrence::Frequency::Hourly
                | recurrence::Frequency::Minutely
                | recurrence::Frequency::Secondly
        )
}

/// The question for a date or time that needs more ("what time in the evening?").
pub(crate) fn when_question(e: &WhenError) -> Understanding {
    let text = e.to_string();
    let mut chars = text.chars();
    let first = chars.next().map(|c| c.to_uppercase().to_string());
    Understanding::ask(format!("{}{}.", first.unwrap_or_default(), chars.as_str()))
}

/// Builds the intent when words `from..to` make a title, or asks for one. A title that would
/// keep words saying when (a weekday, a date, a time, "every" …) was not understood: the
/// chat asks instead of storing them.
fn titled(
    words: &Words,
    from: usize,
    to: usize,
    task: impl Fn(String) -> NewTask,
) -> Understanding {
    let title = words.original_text(from, to);
    if title.is_empty() {
        return Understanding::ask("What should the task be called?");
    }
    if let Some(j) = first_timing_word(words, from, to) {
        let mut k = j;
        while k > from
            && matches!(
                words.lower()[k - 1].as_str(),
                "on" | "the"
                    | "at"
                    | "by"
                    | "in"
                    | "of"
                    | "due"
                    | "last"
                    | "first"
                    | "next"
                    | "this"
            )
        {
            k -= 1;
        }
        let head = words.original_text(from, k);
        let rest = words.original_text(k, to);
        let example = if head.is_empty() {
            "call mom"
        } else {
            head.as_str()
        };
        return Understanding::ask(format!(
            "I did not understand when \"{title}\" is due: \"{rest}\" looks like a date, time or repetition I could not read. Say for example \"add {example} every Monday at 9am\" or \"add {example} on Friday at 3pm\"; if \"{rest}\" belongs to the title, put the title in quotes: add \"{title}\"."
        ));
    }
    Understanding::act(Intent::Create(task(title)))
}

/// Whether a word alone can start a date ("friday", "dec", "2026-12-01").
fn starts_a_date(w: &str) -> bool {
    recurrence::phrase::weekday_word(w).is_some()
        || recurrence::phrase::month_word(w).is_some()
        || (w.len() == 10 && w.as_bytes().get(4) == Some(&b'-'))
}
