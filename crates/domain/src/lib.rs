//! The task domain of the Task API, as pure functions: request bodies parsed into validated
//! types, recurrence resolved for tasks (HOURLY and coarser), pagination cursors, the series
//! edit planner, the rule preview and the task events' payload. The SQL lives in the `store`
//! crate, the recurrence engine's decisions in `engine`, reminder delivery in `notify`.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod channel;
pub mod cursor;
pub mod edit;
pub mod email;
pub mod event;
pub mod input;
pub mod preview;
pub mod schedule;
pub mod settings;
pub mod types;

pub use email::{EmailAddress, EmailError};
pub use input::{parse_create, parse_patch, CreateTask, PatchTask};
pub use settings::{parse_settings, UserSettings};
pub use types::{
    FieldError, Mode, Priority, ReminderId, ReminderOffset, Scope, SeriesId, Status, TaskId, Title,
    ValidationErrors,
};
