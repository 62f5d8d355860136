//! CloudEvents 1.0 envelopes (structured JSON mode), the platform's topics and event types, and
//! the live-sync channels the dashboard publishes changes to.
#![forbid(unsafe_code)]

pub mod delivery;
mod envelope;
mod event_type;
pub mod live;
mod topic;

pub use envelope::{CloudEvent, EnvelopeError, SPEC_VERSION};
pub use event_type::EventType;
pub use topic::Topic;
