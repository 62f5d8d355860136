//! Phrase text → tokens: lower-cased words, numbers, ordinals (`1st`), times of day (`7:30`,
//! `6:30am`, `noon`), ISO dates and list separators (`,`, `&`, `and`, `/`, `;`, `+`).

use chrono::{NaiveDate, NaiveTime};

use super::words;
use super::PhraseError;

/// One token of a phrase.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A lower-case word.
    Word(String),
    /// A plain number.
    Num(u32),
    /// `1st`, `2nd`, `third`, …
    Ordinal(u32),
    /// A time of day (`7:30`, `6pm`, `noon`).
    Time(NaiveTime),
    /// An ISO date (`2026-12-31`).
    Date(NaiveDate),
    /// `,`, `&`, `and`, `/`, `;`, `+`
    Sep,
    /// `-` between words (`mon-fri`).
    Dash,
}

impl Tok {
    /// The token as the user wrote it (near enough), for error messages.
    pub(crate) fn text(&self) -> String {
        match self {
            Tok::Word(w) => w.clone(),
            Tok::Num(n) => n.to_string(),
            Tok::Ordinal(n) => crate::describe::ordinal_suffix(*n),
            Tok::Time(t) => crate::describe::format_time(*t),
            Tok::Date(d) => d.format("%Y-%m-%d").to_string(),
            Tok::Sep => ",".into(),
            Tok::Dash => "-".into(),
        }
    }
}

/// Splits the phrase into tokens.
pub(crate) fn tokenize(text: &str) -> Result<Vec<Tok>, PhraseError> {
    let mut spaced = String::with_capacity(text.len() + 8);
    for c in text.to_lowercase().chars() {
        match c {
            ',' | '&' | ';' | '+' | '/' | '(' | ')' | '!' | '?' | '"' => {
                spaced.push(' ');
                spaced.push(if matches!(c, ',' | '&' | ';' | '+' | '/') {
                    ','
                } else {
                    ' '
                });
                spaced.push(' ');
            }
            '@' => spaced.push_str(" at "),
            c => spaced.push(c),
        }
    }
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let w = words[i].trim_end_matches('.');
        i += 1;
        if w.is_empty() || w == "o'clock" || w == "oclock" {
            continue;
        }
        if w == "," {
            out.push(Tok::Sep);
            continue;
        }
        // "6 pm", "6:30 a.m."
        let next_ampm = words
            .get(i)
            .map(|n| n.trim_end_matches('.'))
            .and_then(|n| match n {
                "am" | "a.m" => Some(false),
                "pm" | "p.m" => Some(true),
                _ => None,
            });
        if let Some(tok) = time_token(w, next_ampm, &mut i)? {
            out.push(tok);
            continue;
        }
        word_tokens(w, words.get(i).copied(), &mut i, &mut out);
    }
    Ok(out)
}

/// A time of day starting at `w` (and the next word when it is `am`/`pm`).
fn time_token(w: &str, next_ampm: Option<bool>, i: &mut usize) -> Result<Option<Tok>, PhraseError> {
    match w {
        "noon" | "midday" => return Ok(NaiveTime::from_hms_opt(12, 0, 0).map(Tok::Time)),
        "midnight" => return Ok(Some(Tok::Time(NaiveTime::MIN))),
        _ => {}
    }
    let (core, mut ampm) = split_ampm(w);
    let numeric = !core.is_empty() && core.bytes().all(|b| b.is_ascii_digit() || b == b':');
    if ampm.is_none() && numeric && next_ampm.is_some() {
        ampm = next_ampm;
        *i += 1;
    }
    let clock = core.contains(':')
        && core
            .split(':')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if ampm.is_some() || clock {
        return parse_time(core, ampm)
            .map(|t| Some(Tok::Time(t)))
            .ok_or_else(|| PhraseError::InvalidTime(w.to_string()));
    }
    Ok(None)
}

/// Words, numbers, ordinals, ISO dates; hyphenated words are joined when the result is a known
/// word (`semi-annually`, `twenty-first`) and split around a dash otherwise (`mon-fri`).
fn word_tokens(w: &str, next: Option<&str>, i: &mut usize, out: &mut Vec<Tok>) {
    if let Ok(n) = w.parse::<u32>() {
        out.push(Tok::Num(n));
        return;
    }
    if let Some(n) = numeric_ordinal(w) {
        out.push(Tok::Ordinal(n));
        return;
    }
    if let Ok(d) = NaiveDate::parse_from_str(w, "%Y-%m-%d") {
        out.push(Tok::Date(d));
        return;
    }
    if w.contains('-') {
        let joined: String = w.chars().filter(|c| *c != '-').collect();
        if words::is_known(&joined) {
            return word_tokens(&joined, None, i, out);
        }
        let mut first = true;
        for part in w.split('-') {
            if !first {
                out.push(Tok::Dash);
            }
            first = false;
            if !part.is_empty() {
                word_tokens(part, None, i, out);
            }
        }
        return;
    }
    // "semi annually", "work day", "business day" written apart.
    if w == "business" && matches!(next, Some("day" | "days")) {
        *i += 1;
        let plural = next == Some("days");
        out.push(Tok::Word(
            if plural { "workdays" } else { "workday" }.into(),
        ));
        return;
    }
    if let Some(n) = next {
        let joined = format!("{w}{n}");
        if matches!(w, "semi" | "bi" | "half" | "work" | "week")
            && words::COMPOUNDS.contains(&joined.as_str())
        {
            *i += 1;
            return word_tokens(&joined, None, i, out);
        }
    }
    if let Some(n) = words::ordinal(w).filter(|n| *n > 0) {
        out.push(Tok::Ordinal(n.unsigned_abs().into()));
        return;
    }
    if let Some(n) = words::number(w) {
        out.push(Tok::Num(n));
        return;
    }
    out.push(Tok::Word(w.to_string()));
}

fn split_ampm(w: &str) -> (&str, Option<bool>) {
    for (suffix, pm) in [("a.m", false), ("p.m", true), ("am", false), ("pm", true)] {
        if let Some(core) = w.strip_suffix(suffix) {
            if !core.is_empty() && core.bytes().all(|b| b.is_ascii_digit() || b == b':') {
                return (core, Some(pm));
            }
        }
    }
    (w, None)
}

/// `7:30` (24-hour), `6:30` + pm, `6` + am.
pub(crate) fn parse_time(core: &str, pm: Option<bool>) -> Option<NaiveTime> {
    let (h, m) = match core.split_once(':') {
        Some((h, m)) if m.len() == 2 => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        Some(_) => return None,
        None => (core.parse::<u32>().ok()?, 0),
    };
    let h = match pm {
        None => h,
        Some(_) if !(1..=12).contains(&h) => return None,
        Some(false) => h % 12,
        Some(true) => h % 12 + 12,
    };
    NaiveTime::from_hms_opt(h, m, 0)
}

fn numeric_ordinal(w: &str) -> Option<u32> {
    ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|s| w.strip_suffix(s))
        .and_then(|n| n.parse::<u32>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> Tok {
        Tok::Time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN))
    }

    #[test]
    fn tokens() {
        let toks = tokenize("Every Mon, Wed & Fri at 6:30 a.m.").unwrap_or_default();
        assert_eq!(
            toks,
            vec![
                Tok::Word("every".into()),
                Tok::Word("mon".into()),
                Tok::Sep,
                Tok::Word("wed".into()),
                Tok::Sep,
                Tok::Word("fri".into()),
                Tok::Word("at".into()),
                t(6, 30),
            ]
        );
        let toks = tokenize("semi-annually mon-fri twenty-first 17:00 noon").unwrap_or_default();
        assert_eq!(
            toks,
            vec![
                Tok::Word("semiannually".into()),
                Tok::Word("mon".into()),
                Tok::Dash,
                Tok::Word("fri".into()),
                Tok::Ordinal(21),
                t(17, 0),
                t(12, 0),
            ]
        );
        assert!(tokenize("at 25:00").is_err());
        assert!(tokenize("at 13pm").is_err());
    }
}
