//! Recurrence for the Todo platform: RFC 5545 recurrence rules with a DST-correct,
//! python-dateutil-compatible expansion, series operations as pure functions, natural
//! language both ways and iCalendar VTODO round-trips.
//!
//! Pure logic: no I/O, no clock. Everything that depends on the current time takes `now`.
//!
//! ```
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use recurrence::{Rule, Series, Zone};
//!
//! let rule = Rule::parse("FREQ=WEEKLY;BYDAY=MO,WE,FR").unwrap();
//! let start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap().and_hms_opt(9, 0, 0).unwrap();
//! let series = Series::new(rule, start, Zone::parse("Europe/Berlin").unwrap());
//! let next = series.next_after(Utc.with_ymd_and_hms(2026, 1, 6, 0, 0, 0).unwrap());
//! assert_eq!(next, Some(Utc.with_ymd_and_hms(2026, 1, 7, 8, 0, 0).unwrap()));
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod describe;
pub mod error;
pub mod expand;
pub mod ical;
pub mod parse;
pub mod parts;
pub mod phrase;
pub mod presets;
pub mod rule;
pub mod series;
pub mod tz;
pub mod validate;
#[cfg(feature = "vectors")]
pub mod vectors;
pub mod vtimezone;
pub mod write;

pub use describe::describe;
pub use error::{IcalError, RuleError, SeriesError};
pub use parts::{ByDay, Frequency, RuleParts, Until};
pub use phrase::{parse_phrase, PhraseError, PhraseRule};
pub use presets::{preset, Preset};
pub use rule::Rule;
pub use series::{catch_up, CatchUp, CatchUpPolicy, Instance, Mode, Occurrence, Override, Series};
pub use tz::Zone;
