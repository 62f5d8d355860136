//! What an utterance asks for.

use chrono::NaiveDate;
use serde::Serialize;

use crate::range::DueRange;
use crate::when::When;

/// The result of understanding an utterance: an action, or a question back to the user.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Understanding {
    /// A command to carry out.
    Action {
        /// What to do.
        intent: Intent,
    },
    /// The utterance allows more than one reading or lacks something; ask instead of guessing.
    Clarify(Clarification),
}

/// A question back to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clarification {
    /// The question, ready to show.
    pub question: String,
}

impl Understanding {
    /// Shorthand for a clarifying question.
    pub fn ask(question: impl Into<String>) -> Self {
        Understanding::Clarify(Clarification {
            question: question.into(),
        })
    }

    /// Shorthand for an action.
    pub fn act(intent: Intent) -> Self {
        Understanding::Action { intent }
    }
}

/// A task command.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "intent", rename_all = "snake_case")]
pub enum Intent {
    /// Create a one-off or recurring task.
    Create(NewTask),
    /// List pending tasks due in a range.
    ListDue {
        /// Which due dates.
        range: DueRange,
    },
    /// Complete the named task (the next pending instance of a series).
    Complete {
        /// The task as the user named it.
        task: String,
    },
    /// Move the named task's due date.
    Move {
        /// The task as the user named it.
        task: String,
        /// The new date and/or time (missing parts keep the task's own).
        to: When,
    },
    /// Change how the named task repeats (its series' rule, from its next instance on).
    Repeat {
        /// The task as the user named it.
        task: String,
        /// The recurrence phrase as written ("every other Tuesday").
        recurrence: String,
        /// The canonical RRULE the phrase means.
        rule: String,
        /// English for the phrase.
        describe: String,
    },
    /// End the named series after a day (inclusive).
    EndSeries {
        /// The series as the user named it.
        task: String,
        /// The last day (local) that may still have an occurrence.
        last_day: NaiveDate,
    },
    /// Delete the named series' pending and future occurrences (completed ones stay).
    DeleteFuture {
        /// The series as the user named it.
        task: String,
    },
    /// Delete the named task (one occurrence for a series).
    Delete {
        /// The task as the user named it.
        task: String,
    },
    /// Explain what the chat understands.
    Help,
}

/// A task to create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewTask {
    /// Title, as the user wrote it.
    pub title: String,
    /// The recurrence phrase as written ("every month on the 1st at 9am"), if recurring.
    pub recurrence: Option<String>,
    /// The canonical RRULE the phrase means (for display and checks), if recurring.
    pub rule: Option<String>,
    /// English for the rule, e.g. "every month on the 1st at 9 AM".
    pub describe: Option<String>,
    /// Due date/time of a one-off task.
    pub due: Option<When>,
    /// Reminder offsets before due (ISO 8601 durations: `PT1H`, `P1D`, `PT0S`).
    pub reminders: Vec<String>,
}
