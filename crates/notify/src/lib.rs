//! Reminder delivery of the notification service (`components/reminder-dispatcher`), as pure
//! functions: which task events make it look at a task's reminders ([`input`]), when and under
//! which name a reminder's Dapr job fires ([`job`]), the `v1.reminder.*` events on `alerts`
//! ([`alert`]), what to do with each reminder of a changed task ([`reconcile`]), what the user
//! receives on each channel ([`message`]), whether each reminder's job is scheduled
//! ([`status`]); its SQL statements are `store::reminders`. The component only performs the
//! calls.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod alert;
pub mod input;
pub mod job;
pub mod message;
pub mod reconcile;
pub mod status;

/// Why a delivery can never succeed: Dapr should dead-letter it (`{"status":"DROP"}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Poison {
    /// The body is not a platform CloudEvent.
    #[error("{0}")]
    Envelope(String),
    /// The event's `data` does not have the documented shape.
    #[error("event {event_id}: bad data: {reason}")]
    Data {
        /// The CloudEvent id (or job name).
        event_id: String,
        /// What is wrong.
        reason: String,
    },
}

impl From<domain::event::BadTaskEvent> for Poison {
    fn from(e: domain::event::BadTaskEvent) -> Self {
        match e {
            domain::event::BadTaskEvent::Envelope(reason) => Poison::Envelope(reason),
            domain::event::BadTaskEvent::Data { event_id, reason } => {
                Poison::Data { event_id, reason }
            }
        }
    }
}

/// A delivery channel. Both are mandatory for every reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Email through the Dapr SMTP output binding.
    Email,
    /// Push through the Dapr MQTT output binding.
    Push,
}

impl Channel {
    /// Every channel, in delivery order.
    pub const ALL: [Channel; 2] = [Channel::Email, Channel::Push];

    /// The stored name (`reminder_deliveries.channel`).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Push => "push",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}
