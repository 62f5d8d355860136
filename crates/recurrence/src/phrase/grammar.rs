//! The clauses of a phrase, in any order: how often (`every other week`, `quarterly`, `twice a
//! week`), which days (`on Mon, Wed & Fri`, `the first Monday of the month`, `the last weekday
//! of every month`, `every March and September on the 10th`), when in the day (`at 7:30`), and
//! the bounds (`starting …`, `until …`, `for 10 times`). The result is a [`Draft`].

use chrono::NaiveTime;

use super::cursor::{Cursor, WORKWEEK};
use super::lexer::Tok;
use super::words;
use super::{PhraseDate, PhraseError};
use crate::parts::{ByDay, Frequency};

/// What the clauses said, before it becomes a rule.
#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub(crate) freq: Option<Frequency>,
    pub(crate) interval: Option<u32>,
    pub(crate) by_day: Vec<ByDay>,
    pub(crate) by_month_day: Vec<i8>,
    pub(crate) by_month: Vec<u8>,
    pub(crate) by_set_pos: Vec<i16>,
    pub(crate) count: Option<u32>,
    pub(crate) time: Option<NaiveTime>,
    pub(crate) until: Option<PhraseDate>,
    pub(crate) start: Option<PhraseDate>,
    /// "twice a week": (2, WEEKLY)
    pub(crate) per_period: Option<(u32, Frequency)>,
}

impl Draft {
    /// Sets how often; a second, different frequency is an error naming the word.
    fn set_freq(&mut self, freq: Frequency, interval: u32, word: &str) -> Result<(), PhraseError> {
        match (self.freq, self.interval) {
            (None, _) => {
                self.freq = Some(freq);
                self.interval = Some(interval);
                Ok(())
            }
            (Some(f), i) if f == freq && i.unwrap_or(1) == interval => Ok(()),
            _ => Err(PhraseError::Conflict(word.to_string())),
        }
    }
}

/// Parses every clause of the phrase into a draft.
pub(crate) fn clauses(c: &mut Cursor) -> Result<Draft, PhraseError> {
    let mut d = Draft::default();
    c.eat(&[
        "repeat",
        "repeats",
        "repeating",
        "recurring",
        "recurs",
        "recur",
    ]);
    while !c.done() {
        if c.eat_seps() || c.eat(&["and", "then", "it", "repeats", "repeat"]) {
            continue;
        }
        clause(c, &mut d)?;
    }
    Ok(d)
}

/// One clause at the cursor.
fn clause(c: &mut Cursor, d: &mut Draft) -> Result<(), PhraseError> {
    let Some(tok) = c.peek().cloned() else {
        return Ok(());
    };
    match tok {
        Tok::Time(t) => {
            c.pos += 1;
            set_time(d, t)
        }
        Tok::Num(_) => count_or_rate(c, d),
        Tok::Ordinal(_) => days_clause(c, d),
        Tok::Word(w) => word_clause(c, d, &w),
        Tok::Date(_) | Tok::Sep | Tok::Dash => Err(c.unexpected()),
    }
}

fn set_time(d: &mut Draft, t: NaiveTime) -> Result<(), PhraseError> {
    if d.time.is_some_and(|old| old != t) {
        return Err(PhraseError::TwoTimes);
    }
    d.time = Some(t);
    Ok(())
}

fn word_clause(c: &mut Cursor, d: &mut Draft, w: &str) -> Result<(), PhraseError> {
    if let Some((freq, n)) = words::adverb(w) {
        c.pos += 1;
        return d.set_freq(freq, n, w);
    }
    match w {
        "every" | "each" | "per" => {
            c.pos += 1;
            every(c, d)
        }
        "at" | "around" => {
            c.pos += 1;
            c.eat(&["about", "around"]);
            at_time(c, d)
        }
        "until" | "till" | "til" | "through" | "thru" | "ending" | "ends" | "end" | "up" => {
            c.pos += 1;
            c.eat(&["to", "on", "by", "with", "at"]);
            set_once(&mut d.until, c.date()?, "until")
        }
        "from" if c.word_at(1).and_then(words::weekday).is_some() => {
            c.pos += 1;
            days_clause(c, d)
        }
        "starting" | "starts" | "start" | "beginning" | "begins" | "from" | "effective" => {
            c.pos += 1;
            c.eat(&["on", "from", "at"]);
            set_once(&mut d.start, c.date()?, "starting")
        }
        "for" => {
            c.pos += 1;
            count_or_rate(c, d)
        }
        "once" | "twice" | "thrice" => count_or_rate(c, d),
        "on" | "the" | "of" | "in" | "last" | "penultimate" => days_clause(c, d),
        "bimonthly" | "biyearly" | "biennially" => Err(PhraseError::Ambiguous {
            words: w.to_string(),
            options: "say \"every 2 months\" or \"twice a month on the 1st and 15th\"",
        }),
        _ => {
            if words::weekday(w).is_some()
                || words::is_workday(w)
                || words::is_weekend(w)
                || words::month(w).is_some()
            {
                days_clause(c, d)
            } else {
                Err(c.unexpected())
            }
        }
    }
}

fn set_once(slot: &mut Option<PhraseDate>, v: PhraseDate, word: &str) -> Result<(), PhraseError> {
    if slot.is_some() {
        return Err(PhraseError::Conflict(word.to_string()));
    }
    *slot = Some(v);
    Ok(())
}

/// After `at`: `7:30`, `9` (a plain hour, 24-hour clock), `noon`.
fn at_time(c: &mut Cursor, d: &mut Draft) -> Result<(), PhraseError> {
    match c.peek().cloned() {
        Some(Tok::Time(t)) => {
            c.pos += 1;
            set_time(d, t)
        }
        Some(Tok::Num(h)) if h <= 23 => {
            c.pos += 1;
            set_time(
                d,
                NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN),
            )
        }
        Some(t) => Err(PhraseError::InvalidTime(t.text())),
        None => Err(PhraseError::Incomplete(
            "a time after \"at\" (e.g. at 9:30)",
        )),
    }
}

/// `10 times`, `once`, `twice a week`, `3 times a month`, `once a day`.
fn count_or_rate(c: &mut Cursor, d: &mut Draft) -> Result<(), PhraseError> {
    let n = match c.peek().cloned() {
        Some(Tok::Num(n)) => {
            c.pos += 1;
            if !c.eat(&["times", "time", "occurrences", "occurrence", "x"]) {
                return Err(match c.peek() {
                    Some(Tok::Word(u)) if words::unit(u).is_some() => PhraseError::Ambiguous {
                        words: format!("for {n} {u}"),
                        options: "say how many times (\"for 10 times\") or an end date (\"until Dec 31\")",
                    },
                    _ => PhraseError::Incomplete("\"times\" after the number (e.g. for 5 times)"),
                });
            }
            n
        }
        Some(Tok::Word(w)) if w == "once" || w == "twice" || w == "thrice" => {
            c.pos += 1;
            match w.as_str() {
                "once" => 1,
                "twice" => 2,
                _ => 3,
            }
        }
        _ => return Err(c.unexpected()),
    };
    let save = c.pos;
    if c.eat(&["a", "an", "per", "each", "every"]) {
        if let Some((freq, k)) = c.word().and_then(words::unit) {
            if n == 1 {
                // once a week, once a quarter
                c.pos += 1;
                return d.set_freq(freq, k, "once a");
            }
            if k == 1 {
                c.pos += 1;
                if d.per_period.is_some() {
                    return Err(PhraseError::Conflict("times a".into()));
                }
                d.per_period = Some((n, freq));
                return Ok(());
            }
        }
    }
    c.pos = save;
    if d.count.is_some() {
        return Err(PhraseError::Conflict("times".into()));
    }
    d.count = Some(n);
    Ok(())
}

/// After `every`/`each`: `other week`, `3 days`, `weekday`, `mon, wed & fri`, `first Monday of
/// the month`, `15th`, `last day of the month`, `March and September`, `March 10`.
fn every(c: &mut Cursor, d: &mut Draft) -> Result<(), PhraseError> {
    c.eat_seps();
    let mut n = 1;
    let mut n_word = None;
    if c.eat(&["other", "alternate"]) {
        n = 2;
        n_word = Some("other".to_string());
    } else if let Some(Tok::Num(k)) = c.peek() {
        // "every 25 December" is a date, not an interval.
        if c.word_at(1).and_then(words::month).is_none() {
            n = *k;
            n_word = Some(k.to_string());
            c.pos += 1;
        }
    }
    if let Some(w) = c.word().map(str::to_string) {
        if let Some((freq, k)) = words::unit(&w) {
            c.pos += 1;
            return d.set_freq(freq, n.saturating_mul(k), &w);
        }
        if w == "half" && c.word_at(1).is_some_and(|u| u.starts_with("year")) {
            c.pos += 2;
            return d.set_freq(Frequency::Monthly, n.saturating_mul(6), "half year");
        }
    }
    if n_word.is_some() {
        // every other Tuesday, every 2 weekdays (refused), every 3 Mondays (refused)
        let at = c.pos;
        let days = c.weekdays();
        if days.is_empty() || n_word.as_deref() != Some("other") {
            c.pos = at;
            return Err(c.unexpected_after(n_word.as_deref().unwrap_or("")));
        }
        d.set_freq(Frequency::Weekly, n, "every")?;
        d.by_day.extend(days.into_iter().map(ByDay::every));
        return Ok(());
    }
    // "every second Tuesday" without "of the month" is read two ways.
    if let (Some(Tok::Ordinal(2)), Some(w)) = (c.peek(), c.word_at(1)) {
        if words::weekday(w).is_some() && c.word_at(2) != Some("of") {
            return Err(PhraseError::Ambiguous {
                words: format!("every second {w}"),
                options: "say \"every other <day>\" or \"every second <day> of the month\"",
            });
        }
    }
    let before = c.pos;
    days_clause(c, d)?;
    if c.pos == before {
        return Err(c.unexpected());
    }
    if d.freq.is_none() && !d.by_day.is_empty() && d.by_day.iter().all(|b| b.ordinal.is_none()) {
        d.set_freq(Frequency::Weekly, 1, "every")?;
    }
    Ok(())
}

/// Which days: weekdays, ordinal weekdays, days of the month, months, month + day, the
/// first/last weekday, followed by an optional `of <month(s) | the month | every N months>`.
#[allow(
    clippy::too_many_lines,
    reason = "one branch per kind of day in the grammar, tried in order"
)]
fn days_clause(c: &mut Cursor, d: &mut Draft) -> Result<(), PhraseError> {
    c.eat(&["on", "in", "during"]);
    c.eat(&["the", "every", "each"]);
    let start = c.pos;
    // the first/last weekday (workday, business day) of …
    if let Some(pos) = setpos_weekday(c) {
        d.by_day.extend(WORKWEEK.iter().map(|w| ByDay::every(*w)));
        d.by_set_pos.push(pos);
        of_target(c, d, true)?;
        return Ok(());
    }
    c.pos = start;
    let nth = c.nth_weekdays();
    if !nth.is_empty() {
        d.by_day.extend(nth);
        of_target(c, d, true)?;
        return Ok(());
    }
    // March 10 and September 10 / 10 March
    let pairs = month_day_pairs(c);
    if !pairs.is_empty() {
        return add_pairs(d, &pairs);
    }
    let days = c.weekdays();
    if !days.is_empty() {
        d.by_day.extend(days.into_iter().map(ByDay::every));
        return Ok(());
    }
    let mdays = c.month_days();
    if !mdays.is_empty() {
        d.by_month_day.extend(mdays);
        of_target(c, d, true)?;
        return Ok(());
    }
    let months = c.months();
    if !months.is_empty() {
        d.by_month.extend(months);
        if d.freq.is_none() {
            d.set_freq(Frequency::Yearly, 1, "every")?;
        }
        return Ok(());
    }
    // "of the month" / "of every month" alone (after "monthly on the 1st" etc.).
    if c.word() == Some("of") || c.word() == Some("month") {
        c.pos = start;
        return of_target(c, d, false);
    }
    if c.pos == start {
        return Err(c.unexpected());
    }
    Ok(())
}

/// `first weekday`, `last business day`, `2nd workday` → BYSETPOS.
fn setpos_weekday(c: &mut Cursor) -> Option<i16> {
    let n = c.ordinal(5)?;
    let w = c.word()?;
    if !words::is_workday(w) || w.ends_with('s') {
        return None;
    }
    c.pos += 1;
    Some(i16::from(n))
}

/// `of the month`, `of every month`, `of every other month`, `of every 3 months`, `of March`,
/// `of March and September`, `of each quarter`. `optional`: no `of` is fine.
fn of_target(c: &mut Cursor, d: &mut Draft, optional: bool) -> Result<(), PhraseError> {
    let save = c.pos;
    if !c.eat(&["of", "in"]) {
        return if optional {
            Ok(())
        } else {
            Err(c.unexpected())
        };
    }
    c.eat(&["the", "every", "each", "a"]);
    let months = c.months();
    if !months.is_empty() {
        d.by_month.extend(months);
        if d.freq.is_none() || (d.freq == Some(Frequency::Monthly) && d.interval == Some(1)) {
            d.freq = Some(Frequency::Yearly);
            d.interval = Some(1);
        }
        return Ok(());
    }
    let mut n = 1;
    if c.eat(&["other"]) {
        n = 2;
    } else if let Some(Tok::Num(k)) = c.peek() {
        n = *k;
        c.pos += 1;
    }
    match c.word().and_then(words::unit) {
        Some((f @ (Frequency::Monthly | Frequency::Yearly), k)) => {
            c.pos += 1;
            if d.freq.is_none() || n * k != 1 {
                d.set_freq(f, n.saturating_mul(k), "of")?;
            } else if d.freq != Some(f) {
                return Err(PhraseError::Conflict("of the month".into()));
            }
            Ok(())
        }
        _ => {
            c.pos = save;
            Err(PhraseError::Incomplete(
                "a month after \"of\" (e.g. of the month, of March)",
            ))
        }
    }
}

/// `March 10, September 10`; `10 March`.
fn month_day_pairs(c: &mut Cursor) -> Vec<(u8, u8)> {
    c.list(|c| c.month_and_day().map(|p| vec![p]))
}

/// Adds month/day pairs when they form one rule (every month with every day).
fn add_pairs(d: &mut Draft, pairs: &[(u8, u8)]) -> Result<(), PhraseError> {
    let mut months: Vec<u8> = pairs.iter().map(|p| p.0).collect();
    let mut days: Vec<u8> = pairs.iter().map(|p| p.1).collect();
    months.sort_unstable();
    months.dedup();
    days.sort_unstable();
    days.dedup();
    if months.len() * days.len() != pairs.len() {
        return Err(PhraseError::Ambiguous {
            words: "different days in different months".into(),
            options: "give the same day for every month (e.g. \"every March and September on the 10th\") or one date per task",
        });
    }
    for (m, day) in pairs {
        if chrono::NaiveDate::from_ymd_opt(2000, u32::from(*m), u32::from(*day)).is_none() {
            return Err(PhraseError::InvalidDate(format!(
                "{} {day}",
                crate::describe::month_name(u32::from(*m))
            )));
        }
    }
    d.by_month.extend(months);
    d.by_month_day
        .extend(days.iter().filter_map(|x| i8::try_from(*x).ok()));
    if d.freq.is_none() {
        d.set_freq(Frequency::Yearly, 1, "every")?;
    }
    Ok(())
}

impl Cursor {
    /// The error for the word after `every <n>`: names it and suggests the usual forms.
    fn unexpected_after(&self, n: &str) -> PhraseError {
        let Some(word) = self.peek().map(Tok::text) else {
            return PhraseError::Incomplete(
                "a unit or a weekday (e.g. \"every 2 weeks\", \"every other Monday\")",
            );
        };
        PhraseError::Unexpected {
            word: if word.is_empty() { n.to_string() } else { word },
            suggestion: Some(format!(
                "every {n} weeks on Monday\", \"every {n} days\" or \"every other Monday"
            )),
        }
    }
}
