//! Kafka topics of the platform and their dead-letter topics.

/// A topic the platform publishes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// Task created, completed, deleted.
    TaskOperations,
    /// Task and series edits.
    TaskModifications,
    /// Reminders due and cancelled.
    Alerts,
}

impl Topic {
    /// Every topic, in a stable order.
    pub const ALL: [Topic; 3] = [
        Topic::TaskOperations,
        Topic::TaskModifications,
        Topic::Alerts,
    ];

    /// The Kafka topic name.
    pub const fn name(self) -> &'static str {
        match self {
            Topic::TaskOperations => "task-operations",
            Topic::TaskModifications => "task-modifications",
            Topic::Alerts => "alerts",
        }
    }

    /// The dead-letter topic its subscribers use.
    pub fn dead_letter(self) -> &'static str {
        match self {
            Topic::TaskOperations => "task-events-dlq",
            Topic::TaskModifications => "updates-dlq",
            Topic::Alerts => "alerts-dlq",
        }
    }
}
