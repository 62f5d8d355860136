//! The typed recurrence rule. A [`Rule`] can only be obtained by parsing or by validating
//! [`RuleParts`], so once a value exists it is a legal RFC 5545 rule.

use std::fmt;

use crate::error::RuleError;
pub use crate::parts::{ByDay, Frequency, RuleParts, Until};

/// A validated RFC 5545 recurrence rule (the value of an `RRULE` property).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    parts: RuleParts,
}

impl Rule {
    /// Parses RRULE text, with or without the `RRULE:` prefix, and validates it.
    ///
    /// ```
    /// let rule = recurrence::Rule::parse("RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR").unwrap();
    /// assert_eq!(rule.to_canonical_string(), "FREQ=WEEKLY;BYDAY=MO,WE,FR");
    /// ```
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        let parts = crate::parse::parse_parts(text)?;
        Self::from_parts(parts)
    }

    /// Validates parts against RFC 5545 §3.3.10 and normalises the lists (sorted, no duplicates).
    pub fn from_parts(mut parts: RuleParts) -> Result<Self, RuleError> {
        crate::validate::validate(&parts)?;
        normalise(&mut parts);
        Ok(Self { parts })
    }

    /// Builds a rule from parts the crate itself constructed and knows to be valid.
    pub(crate) fn from_trusted_parts(mut parts: RuleParts) -> Self {
        debug_assert!(crate::validate::validate(&parts).is_ok());
        normalise(&mut parts);
        Self { parts }
    }

    /// The validated parts.
    pub fn parts(&self) -> &RuleParts {
        &self.parts
    }

    /// Consumes the rule, returning its parts (e.g. to build a modified rule).
    pub fn into_parts(self) -> RuleParts {
        self.parts
    }

    /// `FREQ`
    pub fn freq(&self) -> Frequency {
        self.parts.freq
    }

    /// `INTERVAL`
    pub fn interval(&self) -> u32 {
        self.parts.interval
    }

    /// `COUNT`
    pub fn count(&self) -> Option<u32> {
        self.parts.count
    }

    /// `UNTIL`
    pub fn until(&self) -> Option<Until> {
        self.parts.until
    }

    /// The canonical RRULE value (without the `RRULE:` prefix): parts in a fixed order, lists
    /// sorted, defaults (`INTERVAL=1`, `WKST=MO`) omitted. Parsing it gives back an equal rule.
    pub fn to_canonical_string(&self) -> String {
        crate::write::write_rule(&self.parts)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_canonical_string())
    }
}

impl std::str::FromStr for Rule {
    type Err = RuleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_canonical_string())
    }
}

impl<'de> serde::Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn normalise(parts: &mut RuleParts) {
    fn set<T: Ord>(v: &mut Vec<T>) {
        v.sort_unstable();
        v.dedup();
    }
    set(&mut parts.by_second);
    set(&mut parts.by_minute);
    set(&mut parts.by_hour);
    set(&mut parts.by_day);
    set(&mut parts.by_month_day);
    set(&mut parts.by_year_day);
    set(&mut parts.by_week_no);
    set(&mut parts.by_month);
    set(&mut parts.by_set_pos);
}
