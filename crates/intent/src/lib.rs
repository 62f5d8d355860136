//! Plain-English task commands, understood without any external service.
//!
//! [`understand`] turns an utterance such as "add pay rent every month on the 1st at 9am" or
//! "move dentist to Friday 3pm" into an [`Intent`], or into a clarifying question when the
//! words allow more than one reading (a bare "at 7", a missing title, an incomplete rule).
//! Resolving the task a command names ("complete team standup") against the user's tasks is
//! [`match_task`]; the chat component performs the resulting actions through the Task API.

pub mod answer;
mod command;
mod create;
mod intent;
mod matching;
mod range;
mod reminder;
mod text;
mod timing;
mod when;

pub use command::{understand, EXAMPLES};
pub use intent::{Clarification, Intent, NewTask, Understanding};
pub use matching::{match_task, TaskMatch, TaskRef};
pub use range::DueRange;
pub use when::{When, WhenError};

/// What an utterance is interpreted against: the current instant in the user's time zone.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// Now, in the user's zone.
    pub now: chrono::DateTime<chrono_tz::Tz>,
}

impl Context {
    /// A context for `now` in `tz`.
    pub fn new(now: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> Self {
        Self {
            now: now.with_timezone(&tz),
        }
    }
}
