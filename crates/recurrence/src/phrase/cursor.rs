//! A cursor over the tokens of a phrase and the small list readers the clauses share
//! (weekday lists and ranges, month lists, days of the month, ordinal weekdays, dates).

use chrono::{NaiveDate, Weekday};

use super::lexer::Tok;
use super::words;
use super::{PhraseDate, PhraseError};
use crate::parts::ByDay;

/// The position in the token list.
pub(crate) struct Cursor {
    toks: Vec<Tok>,
    pub(crate) pos: usize,
}

impl Cursor {
    /// A cursor at the first token.
    pub(crate) fn new(toks: Vec<Tok>) -> Self {
        Self { toks, pos: 0 }
    }

    /// The token at `pos + k`.
    pub(crate) fn at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.pos + k)
    }

    /// The current token.
    pub(crate) fn peek(&self) -> Option<&Tok> {
        self.at(0)
    }

    /// The word at `pos + k`, if that token is a word.
    pub(crate) fn word_at(&self, k: usize) -> Option<&str> {
        match self.at(k) {
            Some(Tok::Word(w)) => Some(w.as_str()),
            _ => None,
        }
    }

    /// The current word.
    pub(crate) fn word(&self) -> Option<&str> {
        self.word_at(0)
    }

    /// True when every token was read.
    pub(crate) fn done(&self) -> bool {
        self.pos >= self.toks.len()
    }

    /// Skips the word if it is one of `ws`.
    pub(crate) fn eat(&mut self, ws: &[&str]) -> bool {
        if self.word().is_some_and(|w| ws.contains(&w)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips list separators (`,`, `and`, `&`, `or`).
    pub(crate) fn eat_seps(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(Tok::Sep)) || self.eat(&["and", "or"]) {
            if matches!(self.peek(), Some(Tok::Sep)) {
                self.pos += 1;
            }
        }
        self.pos > start
    }

    /// The error for the current token: it names the word and suggests a near one.
    pub(crate) fn unexpected(&self) -> PhraseError {
        match self.peek() {
            None => PhraseError::Incomplete("more words"),
            Some(t) => PhraseError::unexpected(&t.text()),
        }
    }

    /// Reads items with `item` separated by list separators; restores the position after the
    /// last item that was read.
    pub(crate) fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<Vec<T>>) -> Vec<T> {
        let mut out = Vec::new();
        loop {
            let save = self.pos;
            if !out.is_empty() && !self.eat_seps() {
                break;
            }
            match item(self) {
                Some(v) => out.extend(v),
                None => {
                    self.pos = save;
                    break;
                }
            }
        }
        out
    }

    /// `monday`, `mon-fri`, `monday to friday`, `weekdays`, `weekends`.
    pub(crate) fn weekday_item(&mut self) -> Option<Vec<Weekday>> {
        let w = self.word()?;
        if words::is_workday(w) {
            self.pos += 1;
            return Some(WORKWEEK.to_vec());
        }
        if words::is_weekend(w) {
            self.pos += 1;
            return Some(vec![Weekday::Sat, Weekday::Sun]);
        }
        let first = words::weekday(w)?;
        self.pos += 1;
        let range = matches!(self.peek(), Some(Tok::Dash))
            || self
                .word()
                .is_some_and(|w| matches!(w, "to" | "through" | "thru"));
        if range {
            if let Some(last) = self.word_at(1).and_then(words::weekday) {
                self.pos += 2;
                let mut days = vec![first];
                let mut d = first;
                while d != last {
                    d = d.succ();
                    days.push(d);
                }
                return Some(days);
            }
        }
        Some(vec![first])
    }

    /// A list of weekdays (`mon, wed & fri`, `monday through friday`).
    pub(crate) fn weekdays(&mut self) -> Vec<Weekday> {
        let mut days = self.list(Self::weekday_item);
        let mut seen = Vec::new();
        days.retain(|d| {
            let new = !seen.contains(d);
            seen.push(*d);
            new
        });
        days
    }

    /// A list of months (`March and September`).
    pub(crate) fn months(&mut self) -> Vec<u8> {
        self.list(|c| {
            let m = words::month(c.word()?)?;
            c.pos += 1;
            Some(vec![m])
        })
    }

    /// An ordinal at the cursor (`2nd`, `second`, `last`, `2nd to last`) within ±`max`.
    pub(crate) fn ordinal(&mut self, max: u32) -> Option<i8> {
        let save = self.pos;
        let n: i8 = match self.peek()? {
            Tok::Ordinal(n) if (1..=max).contains(n) => i8::try_from(*n).ok()?,
            Tok::Word(w) if w == "last" => -1,
            Tok::Word(w) if w == "penultimate" => -2,
            _ => return None,
        };
        self.pos += 1;
        if n > 0 && self.word() == Some("to") && self.word_at(1) == Some("last") {
            self.pos += 2;
            return Some(-n);
        }
        if n > 0 && self.word() == Some("last") {
            // "second last"
            self.pos += 1;
            return Some(-n);
        }
        if self.pos == save {
            return None;
        }
        Some(n)
    }

    /// `first Monday`, `last Friday and 2nd Tuesday` (ordinals up to 5).
    pub(crate) fn nth_weekdays(&mut self) -> Vec<ByDay> {
        self.list(|c| {
            c.eat(&["the"]);
            let mut ords = vec![c.ordinal(5)?];
            loop {
                let save = c.pos;
                if !c.eat_seps() {
                    break;
                }
                c.eat(&["the"]);
                match c.ordinal(5) {
                    Some(n) => ords.push(n),
                    None => {
                        c.pos = save;
                        break;
                    }
                }
            }
            let days = c.weekday_item()?;
            if days.len() != 1 {
                return None;
            }
            Some(ords.into_iter().map(|n| ByDay::nth(n, days[0])).collect())
        })
    }

    /// `1st, 15th and last day`, `the 10th` (not followed by a weekday or `weekday`).
    pub(crate) fn month_days(&mut self) -> Vec<i8> {
        self.list(|c| {
            c.eat(&["the"]);
            let n = match c.peek().cloned()? {
                Tok::Num(n)
                    if (1..=31).contains(&n) && !c.word_at(1).is_some_and(is_count_unit) =>
                {
                    c.pos += 1;
                    i8::try_from(n).ok()?
                }
                _ => c.ordinal(31)?,
            };
            let next = c.word();
            if next.is_some_and(|w| words::weekday(w).is_some() || words::is_workday(w)) {
                return None;
            }
            if n < 0 && !matches!(next, Some("day" | "days")) {
                return None;
            }
            c.eat(&["day", "days"]);
            Some(vec![n])
        })
    }

    /// `March 10`, `10 March`, `10th of March`, `March 10th` (no year).
    pub(crate) fn month_and_day(&mut self) -> Option<(u8, u8)> {
        let save = self.pos;
        self.eat(&["the"]);
        if let Some(m) = self.word().and_then(words::month) {
            if let Some(Tok::Num(d) | Tok::Ordinal(d)) = self.at(1) {
                if let Ok(d) = u8::try_from(*d) {
                    self.pos += 2;
                    return Some((m, d));
                }
            }
        }
        if let Some(Tok::Num(d) | Tok::Ordinal(d)) = self.peek() {
            let d = u8::try_from(*d).ok();
            let of = usize::from(self.word_at(1) == Some("of"));
            if let (Some(d), Some(m)) = (d, self.word_at(1 + of).and_then(words::month)) {
                self.pos += 2 + of;
                return Some((m, d));
            }
        }
        self.pos = save;
        None
    }

    /// A date: ISO, `Dec 31[, 2026]`, `31 December 2026`, `June [2027]`, `the end of June`,
    /// `today`, `tomorrow`.
    pub(crate) fn date(&mut self) -> Result<PhraseDate, PhraseError> {
        self.eat(&["on", "the"]);
        if let Some(Tok::Date(d)) = self.peek() {
            let d = *d;
            self.pos += 1;
            return Ok(PhraseDate::Date(d));
        }
        match self.word() {
            Some("today") => {
                self.pos += 1;
                return Ok(PhraseDate::InDays(0));
            }
            Some("tomorrow") => {
                self.pos += 1;
                return Ok(PhraseDate::InDays(1));
            }
            Some("end") if self.word_at(1) == Some("of") => {
                self.pos += 2;
                self.eat(&["the"]);
                if self.eat(&["year"]) {
                    return Ok(PhraseDate::MonthDay { month: 12, day: 31 });
                }
            }
            _ => {}
        }
        if let Some((month, day)) = self.month_and_day() {
            let year = self.year();
            return match year {
                Some(y) => NaiveDate::from_ymd_opt(y, month.into(), day.into())
                    .map(PhraseDate::Date)
                    .ok_or_else(|| PhraseError::InvalidDate(format!("{y}-{month}-{day}"))),
                None if NaiveDate::from_ymd_opt(2000, month.into(), day.into()).is_none() => {
                    Err(PhraseError::InvalidDate(format!(
                        "{} {day}",
                        crate::describe::month_name(month.into())
                    )))
                }
                None => Ok(PhraseDate::MonthDay { month, day }),
            };
        }
        if let Some(month) = self.word().and_then(words::month) {
            self.pos += 1;
            return Ok(PhraseDate::Month {
                month,
                year: self.year(),
            });
        }
        Err(match self.peek() {
            None => PhraseError::Incomplete("a date (e.g. Dec 31, 2026-12-31 or June)"),
            Some(t) => PhraseError::NotADate(t.text()),
        })
    }

    /// An optional four-digit year after a date (`, 2026`).
    fn year(&mut self) -> Option<i32> {
        let save = self.pos;
        self.eat_seps();
        if let Some(Tok::Num(y)) = self.peek() {
            if (1000..=9999).contains(y) {
                let y = i32::try_from(*y).ok();
                self.pos += 1;
                return y;
            }
        }
        self.pos = save;
        None
    }
}

/// Monday to Friday.
pub(crate) const WORKWEEK: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

/// Words after a number that make it a count, not a day of the month.
fn is_count_unit(w: &str) -> bool {
    matches!(w, "times" | "time" | "occurrences" | "occurrence")
}
