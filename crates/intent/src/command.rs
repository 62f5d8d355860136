//! The commands the chat understands, tried in order: help, questions about what is due,
//! create, complete, move, end or delete a series, delete one task.

use recurrence::{parse_phrase, Zone};

use crate::create::{ambiguous_hour, create, is_rule_head, morning_or_evening, when_question};
use crate::intent::{Intent, Understanding};
use crate::range::DueRange;
use crate::text::{task_name, Words};
use crate::when::{When, WhenError};
use crate::Context;

/// What the chat can do, for help and for utterances it does not understand.
pub const EXAMPLES: &str = "add pay rent every month on the 1st at 9am · remind me to call mom every Sunday at 6pm, 1 hour before · what's due this week? · complete team standup · move dentist to Friday 3pm · stop the exercise series after Dec 31 · delete all future gym sessions";

/// Understands one utterance.
#[allow(
    clippy::too_many_lines,
    reason = "one branch per command form, read top to bottom in the order they are tried"
)]
pub fn understand(text: &str, ctx: &Context) -> Understanding {
    let words = Words::new(text);
    // Politeness first: "please add …", "can you remind me …".
    if let Some(rest) = polite_request(text) {
        return understand(rest, ctx);
    }
    if words.len() == 0 {
        return Understanding::ask(format!(
            "What would you like to do? For example: {EXAMPLES}"
        ));
    }
    let w = words.lower();
    if words
        .starts_with_any(&["help", "hi", "hello", "hey", "what can you do"])
        .is_some()
        && words.len() <= 4
    {
        return Understanding::act(Intent::Help);
    }
    if let Some(n) = words.starts_with_any(&[
        "what's due",
        "whats due",
        "what is due",
        "what do i have",
        "what have i got",
        "what's on",
        "what is on",
        "what's overdue",
        "what is overdue",
        "which tasks",
        "show me",
        "show",
        "list",
        "what's left",
        "what tasks",
        "anything due",
        "what's coming up",
        "whats coming up",
        "what is coming up",
        "what's coming",
        "what is coming",
        "what's upcoming",
        "what's next",
        "what is next",
        "what's planned",
        "what is planned",
        "coming up",
        "upcoming",
        "do i have anything",
        "do i have",
        "is there anything",
        "is anything due",
        "anything",
    ]) {
        let from = if w[n - 1] == "overdue" { n - 1 } else { n };
        return Understanding::act(Intent::ListDue {
            range: DueRange::from_words(&w[from..]),
        });
    }
    // "every 2 weeks on Tuesday remind me to water the plants": the when first, then the command.
    if let Some(u) = when_then_command(&words, ctx) {
        return u;
    }
    if let Some(n) = words.starts_with_any(&["remind me to", "remind me about", "remind me of"]) {
        return create(&words, n, ctx, true);
    }
    if let Some(n) = words.starts_with_any(&["remind me"]) {
        return create(&words, n, ctx, true);
    }
    if let Some(n) = words.starts_with_any(&[
        "add a task to",
        "add task",
        "add a task",
        "add",
        "create a task to",
        "create task",
        "create a task",
        "create",
        "new task",
        "todo",
        "to do",
        "i need to",
        "i have to",
        "remember to",
    ]) {
        return create(&words, n, ctx, false);
    }
    // Verbs that plan something: "schedule team sync every weekday at 10am", "set up a dentist
    // appointment next Friday at 3pm", "put laundry on Saturday" (not "put away the dishes").
    if let Some(n) = words.starts_with_any(&[
        "schedule a",
        "schedule an",
        "schedule",
        "set up a",
        "set up an",
        "set up",
        "plan a",
        "plan an",
        "plan",
        "book a",
        "book an",
        "book",
        "put",
    ]) {
        let particle = w.get(n).is_some_and(|x| {
            matches!(
                x.as_str(),
                "away" | "out" | "up" | "back" | "down" | "off" | "together" | "on" | "in"
            )
        });
        if !(w[0] == "put" && particle) {
            return create(&words, n, ctx, false);
        }
    }
    if let Some(u) = complete(&words) {
        return u;
    }
    if let Some(u) = repeat_task(&words, ctx) {
        return u;
    }
    if let Some(n) = words.starts_with_any(&[
        "move",
        "reschedule",
        "postpone",
        "push",
        "change the due date of",
    ]) {
        return move_task(&words, n, ctx);
    }
    if let Some(n) = words.starts_with_any(&[
        "stop repeating",
        "stop recurring",
        "end the repetition of",
        "stop",
        "end",
        "finish the",
        "no more",
    ]) {
        if let Some(u) = end_series(&words, n, ctx) {
            return u;
        }
    }
    if let Some(n) = words.starts_with_any(&["delete", "remove", "cancel", "drop", "stop"]) {
        return delete(&words, n);
    }
    // "take out the trash every Wednesday at 7pm" without a verb: offer, do not assume.
    if let Understanding::Action {
        intent: Intent::Create(task),
    } = create(&words, 0, ctx, false)
    {
        if let Some(when) = task
            .describe
            .clone()
            .or_else(|| task.due.map(|_| "with that due date".to_string()))
        {
            return Understanding::ask(format!(
                "Do you want me to add \"{}\" {when}? Say \"add {}\" to create it.",
                task.title,
                words.original_text(0, words.len())
            ));
        }
    }
    Understanding::ask(format!(
        "Sorry, I did not understand that. You can say for example: {EXAMPLES}"
    ))
}

/// The request after "please", "can you" …, as the user wrote it (quotes and commas kept).
fn polite_request(text: &str) -> Option<&str> {
    let text = text.trim_start();
    let lower = text.to_ascii_lowercase();
    ["please", "can you", "could you", "would you", "pls"]
        .iter()
        .find(|p| {
            lower.starts_with(*p)
                && lower[p.len()..].starts_with(|c: char| c.is_whitespace() || c == ',')
                && !lower[p.len()..].trim_start_matches(',').trim().is_empty()
        })
        .map(|p| text[p.len()..].trim_start_matches(',').trim_start())
        .map(|rest| {
            rest.get(..7)
                .filter(|h| h.eq_ignore_ascii_case("please "))
                .map_or(rest, |_| &rest[7..])
        })
}

/// The commands that a when can come before.
const LEADING_VERBS: [&str; 7] = [
    "remind me to",
    "remind me",
    "add",
    "schedule",
    "set up",
    "create",
    "plan",
];

/// "every 2 weeks on Tuesday remind me to water the plants", "tomorrow at 9am add call the
/// bank": a recurrence phrase or a date before the command is read as if it came after it.
fn when_then_command(words: &Words, ctx: &Context) -> Option<Understanding> {
    let w = words.lower();
    let (k, _) = (1..words.len()).find_map(|k| {
        LEADING_VERBS
            .iter()
            .find(|v| words.has_at(k, v))
            .map(|v| (k, *v))
    })?;
    let head = words.phrase_text(0, k);
    let tz = Zone::Tz(ctx.now.timezone());
    let is_when = parse_phrase(&head, tz).is_ok() || When::parse(&w[..k], ctx.now).is_ok();
    if !is_when {
        return None;
    }
    let moved = format!(
        "{} {}",
        words.original_text(k, words.len()),
        words.original_text(0, k)
    );
    Some(understand(&moved, ctx))
}

/// "complete X", "mark X as done", "finish X", "I did X", "check off X".
fn complete(words: &Words) -> Option<Understanding> {
    let n = words.starts_with_any(&[
        "complete",
        "completed",
        "finish",
        "finished",
        "i did",
        "i've done",
        "done with",
        "check off",
        "tick off",
        "mark",
    ])?;
    let mut end = words.len();
    let mark = words.has_at(0, "mark");
    for suffix in [
        "as done",
        "as complete",
        "as completed",
        "as finished",
        "done",
        "complete",
        "completed",
        "finished",
        "off",
    ] {
        let k = suffix.split(' ').count();
        if end >= n + k && words.has_at(end - k, suffix) {
            end -= k;
            break;
        }
    }
    if mark && end == words.len() {
        return None;
    }
    Some(named(words, n, end, |task| Intent::Complete { task }))
}

/// "move X to W", "reschedule X for W", "postpone X until W".
fn move_task(words: &Words, n: usize, ctx: &Context) -> Understanding {
    let mut first_miss = None;
    for sep in ["to", "for", "until", "till", "on"] {
        let Some(i) = words.rfind(n + 1, sep) else {
            continue;
        };
        match When::parse(&words.lower()[i + 1..], ctx.now) {
            Ok(to) => return named(words, n, i, |task| Intent::Move { task, to }),
            Err(WhenError::AmbiguousHour(h)) => return morning_or_evening(h),
            Err(e @ (WhenError::PartOfDay(..) | WhenError::WhichDay(..))) => {
                return when_question(&e)
            }
            Err(e) => {
                first_miss.get_or_insert((i, e));
            }
        }
    }
    let (end, why) = match first_miss {
        Some((i, e)) => (i, format!("{e}. ")),
        None => (words.len(), String::new()),
    };
    let what = task_name(words, n, end);
    Understanding::ask(format!(
        "{why}When should \"{what}\" be due? For example \"move {what} to Friday 3pm\"."
    ))
}

/// "move my standup to every other Tuesday", "change rent to the first Monday of every month",
/// "make gym repeat every weekday at 7am", "X should repeat every …": a new recurrence for a
/// task. `None` when no recurrence phrase follows.
fn repeat_task(words: &Words, ctx: &Context) -> Option<Understanding> {
    let n = words.starts_with_any(&["move", "change", "switch", "set", "make", "reschedule"])?;
    let tz = Zone::Tz(ctx.now.timezone());
    let w = words.lower();
    for sep in [
        "to repeat",
        "to recur",
        "to",
        "repeat",
        "repeats",
        "recur",
        "recurs",
    ] {
        let Some(i) = words.rfind(n + 1, sep) else {
            continue;
        };
        let k = sep.split(' ').count();
        if i + k >= w.len() || !is_rule_head(&w[i + k]) && w[i + k] != "the" {
            continue;
        }
        let phrase = words.phrase_text(i + k, words.len());
        let says_how_often = w[i + k..]
            .iter()
            .any(|x| is_rule_head(x) || x == "month" || x == "week");
        let Ok(parsed) = parse_phrase(&phrase, tz) else {
            continue;
        };
        if !says_how_often {
            continue;
        }
        if let Some(h) = ambiguous_hour(&w[i + k..]) {
            return Some(morning_or_evening(h));
        }
        return Some(named(words, n, i, |task| Intent::Repeat {
            task,
            recurrence: phrase.clone(),
            rule: parsed.rule.to_string(),
            describe: parsed.describe(),
        }));
    }
    None
}

/// "stop the X series after Dec 31", "end X on Jan 5", "stop repeating X after June"; `None`
/// when no date follows.
fn end_series(words: &Words, n: usize, ctx: &Context) -> Option<Understanding> {
    for (sep, inclusive) in [
        ("after", true),
        ("at the end of", true),
        ("from", false),
        ("on", true),
        ("by", true),
    ] {
        let Some(i) = words.rfind(n + 1, sep) else {
            continue;
        };
        let k = sep.split(' ').count();
        let Some(day) = end_day(&words.lower()[i + k..], ctx) else {
            continue;
        };
        let last_day = if inclusive {
            day
        } else {
            day.pred_opt().unwrap_or(day)
        };
        return Some(named(words, n, i, |task| Intent::EndSeries {
            task,
            last_day,
        }));
    }
    if words.starts_with_any(&["stop", "end", "no more"]).is_some() && !words.has_at(n, "all") {
        let what = task_name(words, n, words.len());
        return Some(Understanding::ask(format!(
            "Should I stop \"{what}\" now, deleting all future occurrences, or after a date? Say \"delete all future {what}\" or \"stop {what} after Dec 31\"."
        )));
    }
    None
}

/// The day a date names: a date the chat reads ("Dec 31", "next Friday"), else a month or a
/// date of the recurrence grammar ("June": its last day, "the end of June").
fn end_day(words: &[String], ctx: &Context) -> Option<chrono::NaiveDate> {
    let today = ctx.now.date_naive();
    let grammar = recurrence::phrase::parse_date(&words.join(" ")).ok();
    // "after June" is after the whole month.
    if let Some(month @ recurrence::phrase::PhraseDate::Month { .. }) = grammar {
        return month.as_end(today);
    }
    if let Some(day) = When::parse(words, ctx.now).ok().and_then(|w| w.date) {
        return Some(day);
    }
    grammar?.as_end(today)
}

/// "delete all future X", "delete the X series", "delete X and all future ones", "delete X".
fn delete(words: &Words, n: usize) -> Understanding {
    let end = words.len();
    for lead in [
        "all future",
        "all upcoming",
        "all the future",
        "all the upcoming",
        "all remaining",
        "every future",
        "future",
        "all",
    ] {
        if words.has_at(n, lead) {
            let k = lead.split(' ').count();
            return named(words, n + k, end, |task| Intent::DeleteFuture { task });
        }
    }
    for tail in [
        "and all future ones",
        "and all future occurrences",
        "and everything after",
        "series",
    ] {
        let k = tail.split(' ').count();
        if end >= n + k && words.has_at(end - k, tail) {
            return named(words, n, end - k, |task| Intent::DeleteFuture { task });
        }
    }
    named(words, n, end, |task| Intent::Delete { task })
}

/// Builds the intent when words `from..to` name a task, or asks which task.
fn named(
    words: &Words,
    from: usize,
    to: usize,
    intent: impl FnOnce(String) -> Intent,
) -> Understanding {
    let task = task_name(words, from, to);
    if task.is_empty() {
        return Understanding::ask("Which task do you mean?");
    }
    Understanding::act(intent(task))
}
