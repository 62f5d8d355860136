//! CloudEvents 1.0 envelopes (structured JSON mode) and the platform's topics and event types.
#![forbid(unsafe_code)]

mod envelope;
mod event_type;
mod topic;

pub use envelope::{CloudEvent, EnvelopeError, SPEC_VERSION};
pub use event_type::EventType;
pub use topic::Topic;
