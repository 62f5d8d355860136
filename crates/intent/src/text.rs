//! Tokenising an utterance: lower-case words for matching, original words for titles.

/// An utterance split into words, with the user's spelling kept beside the lower-cased form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Words {
    lower: Vec<String>,
    original: Vec<String>,
    /// Whether a comma followed the word (lists in recurrence phrases need it).
    comma_after: Vec<bool>,
    /// Whether the word stood in double quotes (the user's own title, read as is).
    quoted: Vec<bool>,
}

impl Words {
    /// Splits on white space and commas; drops closing punctuation; curly apostrophes become `'`
    /// and curly double quotes `"`; words between double quotes are marked quoted.
    pub(crate) fn new(text: &str) -> Self {
        let cleaned = text
            .replace(['\u{2019}', '\u{2018}'], "'")
            .replace(['\u{201c}', '\u{201d}'], "\"");
        let (mut original, mut comma_after, mut quoted) = (Vec::new(), Vec::new(), Vec::new());
        let mut in_quotes = false;
        for raw in cleaned.split_whitespace() {
            let opens = !in_quotes && raw.starts_with('"');
            let inside = in_quotes || opens;
            let closes = inside
                && raw
                    .trim_end_matches(['?', '!', '.', ',', ';'])
                    .strip_prefix(if opens { "\"" } else { "" })
                    .is_some_and(|r| r.ends_with('"'));
            for (k, piece) in raw.split([',', ';']).enumerate() {
                if k > 0 {
                    if let Some(last) = comma_after.last_mut() {
                        *last = true;
                    }
                }
                let word = piece.trim_end_matches(['?', '!', '.']).trim_matches('"');
                if !word.is_empty() {
                    original.push(word.to_string());
                    comma_after.push(false);
                    quoted.push(inside);
                }
            }
            in_quotes = inside && !closes;
        }
        let lower = original.iter().map(|w| w.to_lowercase()).collect();
        Self {
            lower,
            original,
            comma_after,
            quoted,
        }
    }

    /// Whether word `i` stood in double quotes.
    pub(crate) fn quoted(&self, i: usize) -> bool {
        self.quoted.get(i).copied().unwrap_or(false)
    }

    /// The lower-cased words.
    pub(crate) fn lower(&self) -> &[String] {
        &self.lower
    }

    /// Number of words.
    pub(crate) fn len(&self) -> usize {
        self.lower.len()
    }

    /// Words `from..to` (lower-cased) joined by spaces.
    #[cfg(test)]
    pub(crate) fn lower_text(&self, from: usize, to: usize) -> String {
        self.lower[from..to].join(" ")
    }

    /// Words `from..to` (lower-cased) with the user's commas, for recurrence phrases.
    pub(crate) fn phrase_text(&self, from: usize, to: usize) -> String {
        let mut out = String::new();
        for i in from..to {
            if i > from {
                out.push(' ');
            }
            out.push_str(&self.lower[i]);
            if self.comma_after[i] && i + 1 < to {
                out.push(',');
            }
        }
        out
    }

    /// Words `from..to` as the user wrote them, joined by spaces.
    pub(crate) fn original_text(&self, from: usize, to: usize) -> String {
        self.original[from..to].join(" ")
    }

    /// Whether the words starting at `at` are `phrase` (space-separated, lower case).
    pub(crate) fn has_at(&self, at: usize, phrase: &str) -> bool {
        let parts: Vec<&str> = phrase.split(' ').collect();
        at + parts.len() <= self.lower.len()
            && parts.iter().zip(&self.lower[at..]).all(|(p, w)| p == w)
    }

    /// Number of words of the first of `phrases` the utterance starts with.
    pub(crate) fn starts_with_any(&self, phrases: &[&str]) -> Option<usize> {
        phrases
            .iter()
            .find(|p| self.has_at(0, p))
            .map(|p| p.split(' ').count())
    }

    /// The last position `>= from` where `phrase` starts.
    pub(crate) fn rfind(&self, from: usize, phrase: &str) -> Option<usize> {
        (from..self.lower.len())
            .rev()
            .find(|&i| self.has_at(i, phrase))
    }
}

/// A task name as the user referred to it: without a leading article and a trailing
/// "task"/"series"/"reminder".
pub(crate) fn task_name(words: &Words, from: usize, to: usize) -> String {
    let (mut from, mut to) = (from, to);
    while from < to
        && matches!(
            words.lower()[from].as_str(),
            "the" | "my" | "a" | "an" | "our"
        )
    {
        from += 1;
    }
    while to > from
        && matches!(
            words.lower()[to - 1].as_str(),
            "task" | "series" | "reminder" | "one"
        )
    {
        to -= 1;
    }
    words.original_text(from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_the_users_spelling_and_drop_punctuation() {
        let w = Words::new("What’s due this week?");
        assert_eq!(w.lower(), ["what's", "due", "this", "week"]);
        assert_eq!(w.original_text(0, 2), "What's due");
        assert_eq!(w.starts_with_any(&["what is", "what's due"]), Some(2));
        let list = Words::new("every Monday, Wednesday and Friday, 1 hour before");
        assert_eq!(list.len(), 8);
        assert_eq!(list.phrase_text(0, 5), "every monday, wednesday and friday");
    }

    #[test]
    fn words_in_double_quotes_are_marked() {
        let w = Words::new("add \u{201c}Quarterly review\u{201d} every quarter");
        let q: Vec<bool> = (0..w.len()).map(|i| w.quoted(i)).collect();
        assert_eq!(q, [false, true, true, false, false]);
        assert_eq!(w.original_text(1, 3), "Quarterly review");
        let one = Words::new("add \"rent\" monthly");
        assert_eq!(
            (0..one.len()).map(|i| one.quoted(i)).collect::<Vec<_>>(),
            [false, true, false]
        );
    }

    #[test]
    fn task_names_lose_articles_and_kind_words() {
        let w = Words::new("the Exercise series");
        assert_eq!(task_name(&w, 0, w.len()), "Exercise");
    }
}
