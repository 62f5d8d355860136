//! Newtypes that can only be built by parsing: once a value exists, it is valid.

use std::fmt;

/// One invalid field and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The JSON field (or query parameter) name.
    pub field: String,
    /// A message the user can act on.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
#[error("{} invalid field(s)", .0.len())]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// Adds an error.
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// True if nothing was wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A task title: 1–200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    /// Longest title, in characters.
    pub const MAX: usize = 200;

    /// Parses a title.
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("title must not be empty".into());
        }
        if t.chars().count() > Self::MAX {
            return Err(format!("title must be at most {} characters", Self::MAX));
        }
        if t.chars().any(char::is_control) {
            return Err("title must not contain control characters".into());
        }
        Ok(Self(t.to_string()))
    }

    /// The title text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Longest description, in characters.
pub const DESCRIPTION_MAX: usize = 4000;

/// Parses a description (may be empty, at most [`DESCRIPTION_MAX`] characters).
pub fn parse_description(s: &str) -> Result<String, String> {
    if s.chars().count() > DESCRIPTION_MAX {
        return Err(format!(
            "description must be at most {DESCRIPTION_MAX} characters"
        ));
    }
    if s.contains('\0') {
        return Err("description must not contain NUL characters".into());
    }
    Ok(s.to_string())
}

/// Task priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// `low`
    Low,
    /// `medium` (default)
    Medium,
    /// `high`
    High,
}

impl Priority {
    /// Parses `low`, `medium` or `high`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            _ => Err("priority must be one of low, medium, high".into()),
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// Task status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not done yet.
    Pending,
    /// Done; stays in history.
    Completed,
    /// Deleted (hidden unless asked for).
    Deleted,
}

impl Status {
    /// Parses `pending`, `completed` or `deleted`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "pending" => Ok(Self::Pending),
            "completed" => Ok(Self::Completed),
            "deleted" => Ok(Self::Deleted),
            _ => Err("status must be one of pending, completed, deleted".into()),
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Completed => "completed",
            Self::Deleted => "deleted",
        }
    }
}

/// How a series computes its next due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The rule's calendar grid.
    #[default]
    Fixed,
    /// Counted from the completion of the previous instance.
    FromCompletion,
}

impl Mode {
    /// Parses `fixed` or `from_completion`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "fixed" => Ok(Self::Fixed),
            "from_completion" => Ok(Self::FromCompletion),
            _ => Err("mode must be fixed or from_completion".into()),
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::FromCompletion => "from_completion",
        }
    }
}

/// Which instances of a series an edit or delete applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Only this instance.
    #[default]
    This,
    /// This and every later pending instance.
    Following,
    /// Every pending instance and the series template.
    All,
}

impl Scope {
    /// Parses `this`, `following` or `all`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "this" => Ok(Self::This),
            "following" => Ok(Self::Following),
            "all" => Ok(Self::All),
            _ => Err("scope must be one of this, following, all".into()),
        }
    }

    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::This => "this",
            Self::Following => "following",
            Self::All => "all",
        }
    }
}

/// Defines an id type: a UUID in canonical lower-case text. Each kind of row has its own type,
/// so a series id cannot be passed where a task id is expected.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Parses a UUID (`8-4-4-4-12` hex digits, any case).
            pub fn parse(s: &str) -> Option<Self> {
                parse_uuid(s).map(Self)
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

/// A UUID in canonical lower-case text, if `s` is one.
fn parse_uuid(s: &str) -> Option<String> {
    let groups: Vec<&str> = s.split('-').collect();
    let ok = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    ok.then(|| s.to_ascii_lowercase())
}

uuid_id!(
    /// A task's id (a one-off task, or one instance of a series).
    TaskId
);
uuid_id!(
    /// A series' id.
    SeriesId
);
uuid_id!(
    /// A reminder's id.
    ReminderId
);

/// A reminder offset before the due date: an ISO 8601 duration such as `P1D`, `PT1H`,
/// `PT0S`, `P1W`, `P1DT12H` (no years or months, at most 365 days).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderOffset {
    text: String,
    seconds: i64,
}

impl ReminderOffset {
    /// The longest offset: 365 days.
    pub const MAX_SECONDS: i64 = 365 * 86_400;

    /// Parses an ISO 8601 duration of weeks, days, hours, minutes and seconds.
    pub fn parse(s: &str) -> Result<Self, String> {
        let err = || format!("\"{s}\" is not an ISO 8601 duration such as P1D, PT1H or PT0S");
        let upper = s.trim().to_ascii_uppercase();
        let rest = upper.strip_prefix('P').ok_or_else(err)?;
        if rest.is_empty() {
            return Err(err());
        }
        let (date, time) = match rest.split_once('T') {
            Some((d, t)) if !t.is_empty() => (d, Some(t)),
            Some(_) => return Err(err()),
            None => (rest, None),
        };
        let mut seconds: i64 = 0;
        let mut add = |part: &str, units: &[(char, i64)]| -> Result<(), String> {
            let mut num = String::new();
            let mut idx = 0;
            for c in part.chars() {
                if c.is_ascii_digit() {
                    num.push(c);
                    continue;
                }
                let pos = units
                    .iter()
                    .skip(idx)
                    .position(|(u, _)| *u == c)
                    .ok_or_else(err)?;
                let (_, mult) = units[idx + pos];
                idx += pos + 1;
                if num.is_empty() || num.len() > 9 {
                    return Err(err());
                }
                let n: i64 = num.parse().map_err(|_| err())?;
                seconds = seconds.saturating_add(n.saturating_mul(mult));
                num.clear();
            }
            if num.is_empty() {
                Ok(())
            } else {
                Err(err())
            }
        };
        add(date, &[('W', 604_800), ('D', 86_400)])?;
        if let Some(t) = time {
            add(t, &[('H', 3600), ('M', 60), ('S', 1)])?;
        }
        if seconds > Self::MAX_SECONDS {
            return Err(format!("\"{s}\" is longer than 365 days"));
        }
        Ok(Self {
            text: upper,
            seconds,
        })
    }

    /// The duration as written (upper-case).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The offset in seconds.
    pub fn seconds(&self) -> i64 {
        self.seconds
    }
}

impl fmt::Display for ReminderOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles() {
        assert_eq!(
            Title::parse("  Buy milk ").map(|t| t.0),
            Ok("Buy milk".into())
        );
        assert!(Title::parse("   ").is_err());
        assert!(Title::parse(&"x".repeat(201)).is_err());
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert!(Title::parse("a\u{7}b").is_err());
    }

    #[test]
    fn reminder_offsets() {
        for (s, secs) in [
            ("P1D", 86_400),
            ("PT1H", 3600),
            ("PT0S", 0),
            ("P1W", 604_800),
            ("P1DT12H30M", 131_400),
            ("pt15m", 900),
        ] {
            assert_eq!(
                ReminderOffset::parse(s).map(|o| o.seconds()),
                Ok(secs),
                "{s}"
            );
        }
        for s in [
            "", "P", "PT", "1D", "P1Y", "P1M", "PT1D", "P1H", "P-1D", "PT1H1H", "PT1M1H", "P999D",
            "P1DT",
        ] {
            assert!(ReminderOffset::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn ids_and_enums() {
        assert!(TaskId::parse("0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a").is_some());
        assert_eq!(
            TaskId::parse("0B9F3C2E-8A1D-4C4E-9B7A-1F2E3D4C5B6A").map(|t| t.0),
            Some("0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a".into())
        );
        for bad in [
            "",
            "x",
            "0b9f3c2e8a1d4c4e9b7a1f2e3d4c5b6a", // pragma: allowlist secret (test input)
            "0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6g",
            "../etc",
        ] {
            assert!(TaskId::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Priority::parse("high"), Ok(Priority::High));
        assert!(Priority::parse("urgent").is_err());
        assert_eq!(Scope::parse("following"), Ok(Scope::Following));
        assert_eq!(Mode::parse("from_completion"), Ok(Mode::FromCompletion));
        assert!(Status::parse("done").is_err());
        assert_eq!(
            SeriesId::parse("0B9F3C2E-8A1D-4C4E-9B7A-1F2E3D4C5B6A").map(|s| s.0),
            ReminderId::parse("0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a").map(|r| r.0)
        );
    }
}
