//! Every SQL statement of the platform, one module per service and concern. Each builder answers
//! SQL text with `$n` placeholders and the JSON array of values bound to them (values are never
//! interpolated into the SQL); a statement that answers rows is a [`Query`] naming the row type it
//! answers, decoded by column name (see [`guard`]). Each write is one statement that also inserts
//! its outbox events, so a change and its events commit together.
//!
//! | module | service | statements |
//! |---|---|---|
//! | [`tasks`] | Task API | create, read, list, complete, delete, idempotent replay, a task's reminders |
//! | [`edits`] | Task API | patch, series rule edit and split |
//! | [`settings`] | Task API | user settings, push credentials |
//! | [`calendar`] | Task API | one series, the calendar feed |
//! | [`health`] | every service | readiness probe |
//! | [`outbox`] | Task API, recurrence engine | publishing the outbox |
//! | [`jobs`] | every service | processed events, scheduled jobs |
//! | [`engine`] | recurrence engine | next instance, pre-creation, catch-up |
//! | [`reminders`] | reminder dispatcher | reconcile, claim, record outcomes, sweep |
//! | [`changes`] | dashboard | the per-user change log |
//! | [`retention`] | Task API (daily job) | purges of bookkeeping rows |
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod calendar;
pub mod changes;
pub mod edits;
pub mod engine;
mod fragments;
pub mod guard;
pub mod health;
pub mod jobs;
pub mod outbox;
pub mod reminders;
pub mod retention;
pub mod settings;
mod statement;
pub mod tasks;

pub use fragments::{events_of, Admission, ENGINE_SOURCE, TASK_API_SOURCE};
pub use statement::{decode_rows, Binder, Query, RowError, Statement};

#[cfg(test)]
mod tests;
