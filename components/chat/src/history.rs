//! The conversation kept in the Dapr state store: one key per user and conversation, saved
//! with ETag (first-write-wins) concurrency. Only messages live here, never task data.

use component_kit::dapr::Dapr;
use serde::{Deserialize, Serialize};

use crate::error::ChatError;

/// The state store component (`state.postgresql`).
pub fn store() -> String {
    std::env::var("CHAT_STATE_STORE").unwrap_or_else(|_| "chat-state".to_string())
}

/// Most messages kept per conversation (older ones are dropped).
pub const MAX_MESSAGES: usize = 200;

/// One message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `user` or `assistant`.
    pub role: String,
    /// The text.
    pub text: String,
    /// When (RFC 3339).
    pub at: String,
}

/// A conversation.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Conversation {
    /// The user's time zone, remembered from the first message that gave one.
    #[serde(default)]
    pub tzid: Option<String>,
    /// Messages, oldest first.
    #[serde(default)]
    pub messages: Vec<Message>,
}

/// The state key of a user's conversation (ids are validated to `[A-Za-z0-9_-]`).
pub fn key(user: &str, conversation: &str) -> String {
    format!("{user}|{conversation}")
}

/// Reads a conversation and its ETag (`None` for a new one).
pub async fn load(dapr: &Dapr, key: &str) -> Result<(Conversation, Option<String>), ChatError> {
    match dapr.state_get(&store(), key).await? {
        None => Ok((Conversation::default(), None)),
        Some(stored) => {
            let conv = serde_json::from_value(stored.value)
                .map_err(|e| ChatError::Upstream(format!("stored conversation unreadable: {e}")))?;
            Ok((conv, stored.etag))
        }
    }
}

/// Attempts of one append before answering 409: enough for a handful of writers racing on one
/// conversation, with a jittered pause between attempts so they stop colliding in lockstep.
const APPEND_ATTEMPTS: u32 = 12;

/// A random pause of 5..=25 ms times the attempt number (wasi:clocks sleep: the instance blocks,
/// the host thread does not).
fn back_off(attempt: u32) {
    let mut byte = [0u8; 1];
    let jitter = if getrandom::fill(&mut byte).is_ok() {
        u64::from(byte[0] % 21)
    } else {
        10
    };
    std::thread::sleep(std::time::Duration::from_millis(
        (5 + jitter) * u64::from(attempt),
    ));
}

/// Appends messages with optimistic concurrency, re-reading and retrying on a conflict.
pub async fn append(
    dapr: &Dapr,
    key: &str,
    tzid: Option<&str>,
    new: &[Message],
) -> Result<(), ChatError> {
    for attempt in 0..APPEND_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt);
        }
        let (mut conv, etag) = load(dapr, key).await?;
        if conv.tzid.is_none() {
            conv.tzid = tzid.map(str::to_string);
        }
        conv.messages.extend_from_slice(new);
        let excess = conv.messages.len().saturating_sub(MAX_MESSAGES);
        conv.messages.drain(..excess);
        let value = serde_json::to_value(&conv).map_err(|e| ChatError::Upstream(e.to_string()))?;
        if dapr
            .state_save(&store(), key, &value, etag.as_deref())
            .await?
        {
            return Ok(());
        }
    }
    Err(ChatError::Conflict)
}
