//! Named presets offered in the UI.

use crate::parts::{ByDay, Frequency, RuleParts};
use crate::rule::Rule;
use chrono::Weekday;

/// A preset recurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// `FREQ=DAILY`
    Daily,
    /// `FREQ=WEEKLY` (on DTSTART's weekday)
    Weekly,
    /// `FREQ=MONTHLY` (on DTSTART's day of month)
    Monthly,
    /// `FREQ=YEARLY` (on DTSTART's month and day)
    Yearly,
    /// `FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR`
    Weekdays,
}

impl Preset {
    /// All presets.
    pub const ALL: [Preset; 5] = [
        Preset::Daily,
        Preset::Weekly,
        Preset::Monthly,
        Preset::Yearly,
        Preset::Weekdays,
    ];

    /// The preset's name (`daily`, `weekly`, `monthly`, `yearly`, `weekdays`).
    pub fn name(self) -> &'static str {
        match self {
            Preset::Daily => "daily",
            Preset::Weekly => "weekly",
            Preset::Monthly => "monthly",
            Preset::Yearly => "yearly",
            Preset::Weekdays => "weekdays",
        }
    }

    /// The rule of the preset.
    pub fn rule(self) -> Rule {
        let freq = match self {
            Preset::Daily => Frequency::Daily,
            Preset::Weekly | Preset::Weekdays => Frequency::Weekly,
            Preset::Monthly => Frequency::Monthly,
            Preset::Yearly => Frequency::Yearly,
        };
        let mut parts = RuleParts::new(freq);
        if self == Preset::Weekdays {
            parts.by_day = workweek();
        }
        // Every preset is a valid rule (checked by the tests).
        Rule::from_trusted_parts(parts)
    }
}

/// The preset rule for a name (`daily`, `weekly`, `monthly`, `yearly`, `weekdays`;
/// case-insensitive), or `None`.
pub fn preset(name: &str) -> Option<Rule> {
    let name = name.trim();
    Preset::ALL
        .into_iter()
        .find(|p| p.name().eq_ignore_ascii_case(name))
        .map(Preset::rule)
}

/// Monday to Friday, every week (the `weekdays` preset and the phrase "every weekday").
pub(crate) fn workweek() -> Vec<ByDay> {
    [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ]
    .into_iter()
    .map(ByDay::every)
    .collect()
}
