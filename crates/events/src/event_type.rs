//! The platform's versioned event types, each published on one topic.

use crate::Topic;

/// An event type (`v1.<entity>.<what>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// A task (or a series' instance) was created.
    TaskCreated,
    /// A task was edited.
    TaskUpdated,
    /// A task was completed.
    TaskCompleted,
    /// A task was deleted.
    TaskDeleted,
    /// A pre-created instance has reminders to plan.
    ReminderPlanned,
    /// A reminder is due.
    ReminderDue,
    /// A pending reminder was cancelled.
    ReminderCancelled,
}

impl EventType {
    /// The task event types (the ones that can change a task's reminders).
    pub const TASK: [EventType; 4] = [
        EventType::TaskCreated,
        EventType::TaskUpdated,
        EventType::TaskCompleted,
        EventType::TaskDeleted,
    ];

    /// The CloudEvent `type`.
    pub const fn name(self) -> &'static str {
        match self {
            EventType::TaskCreated => "v1.task.created",
            EventType::TaskUpdated => "v1.task.updated",
            EventType::TaskCompleted => "v1.task.completed",
            EventType::TaskDeleted => "v1.task.deleted",
            EventType::ReminderPlanned => "v1.reminder.planned",
            EventType::ReminderDue => "v1.reminder.due",
            EventType::ReminderCancelled => "v1.reminder.cancelled",
        }
    }

    /// The topic it is published on.
    pub const fn topic(self) -> Topic {
        match self {
            EventType::TaskCreated | EventType::TaskCompleted | EventType::TaskDeleted => {
                Topic::TaskOperations
            }
            EventType::TaskUpdated => Topic::TaskModifications,
            EventType::ReminderPlanned | EventType::ReminderDue | EventType::ReminderCancelled => {
                Topic::Alerts
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_edits_go_to_modifications_the_rest_of_tasks_to_operations_reminders_to_alerts() {
        assert_eq!(EventType::TaskUpdated.topic().name(), "task-modifications");
        for t in [
            EventType::TaskCreated,
            EventType::TaskCompleted,
            EventType::TaskDeleted,
        ] {
            assert_eq!(t.topic(), Topic::TaskOperations, "{}", t.name());
        }
        assert_eq!(EventType::ReminderDue.topic().name(), "alerts");
        assert_eq!(EventType::TASK.map(EventType::name)[3], "v1.task.deleted");
    }
}
