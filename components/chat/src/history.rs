//! The conversation kept in the Dapr state store: one key per user and conversation, saved
//! with ETag (first-write-wins) concurrency. Only messages live here, never task data.

use component_kit::dapr::Dapr;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
    /// Turns taken so far (user messages ever appended); unlike `messages`, never capped.
    /// Absent in conversations stored before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turns: Option<u64>,
}

impl Conversation {
    /// The number of the next turn: it never repeats within a conversation, however long
    /// (a conversation stored without `turns` counts on from its user messages).
    pub fn turn(&self) -> u64 {
        self.turns
            .unwrap_or_else(|| self.messages.iter().filter(|m| m.role == "user").count() as u64)
    }

    /// Appends `new`, keeps the newest [`MAX_MESSAGES`] and counts the turns it adds.
    pub fn add(&mut self, tzid: Option<&str>, new: &[Message]) {
        if self.tzid.is_none() {
            self.tzid = tzid.map(str::to_string);
        }
        let turns = new.iter().filter(|m| m.role == "user").count() as u64;
        self.turns = Some(self.turn().saturating_add(turns));
        self.messages.extend_from_slice(new);
        let excess = self.messages.len().saturating_sub(MAX_MESSAGES);
        self.messages.drain(..excess);
    }
}

/// The idempotency key of a turn's create: SHA-256 (stable across Rust releases, unlike
/// `DefaultHasher`) over the conversation, the turn number and the text, so a turn retried
/// with the same text creates once and no two turns share a key.
pub fn turn_key(conversation: &str, turn: u64, text: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        conversation.as_bytes(),
        &turn.to_be_bytes(),
        text.as_bytes(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("chat-{conversation}-{turn}-{}", &digest[..32])
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
        conv.add(tzid, new);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn said(role: &str, text: &str) -> Message {
        Message {
            role: role.into(),
            text: text.into(),
            at: "2026-12-01T09:00:00.000Z".into(),
        }
    }

    #[test]
    fn turns_keep_counting_after_the_history_is_capped() {
        let mut conv = Conversation::default();
        let mut keys = std::collections::HashSet::new();
        for _ in 0..150 {
            assert!(keys.insert(turn_key("c1", conv.turn(), "add water plants")));
            conv.add(
                None,
                &[said("user", "add water plants"), said("assistant", "Added")],
            );
        }
        assert_eq!(conv.messages.len(), MAX_MESSAGES);
        assert_eq!(conv.turn(), 150);
        assert_eq!(keys.len(), 150);
    }

    #[test]
    fn a_conversation_stored_without_turns_counts_on_from_its_user_messages() {
        let messages: Vec<Message> = (0..MAX_MESSAGES)
            .map(|i| said(if i % 2 == 0 { "user" } else { "assistant" }, "x"))
            .collect();
        let mut conv: Conversation =
            serde_json::from_value(serde_json::json!({ "messages": messages }))
                .expect("conversation");
        assert_eq!(conv.turn(), 100);
        let before = turn_key("c1", conv.turn(), "x");
        conv.add(None, &[said("user", "x"), said("assistant", "y")]);
        assert_eq!(conv.turn(), 101);
        assert_ne!(turn_key("c1", conv.turn(), "x"), before);
        let stored = serde_json::to_value(&conv).expect("json");
        assert_eq!(stored["turns"], 101);
    }

    #[test]
    fn turn_keys_are_stable_and_tell_inputs_apart() {
        // SHA-256, not DefaultHasher: the same key on every build and Rust release.
        assert_eq!(
            turn_key("c1", 7, "buy milk"),
            "chat-c1-7-5f45a9bc8bef3e4775cd8f78ea4c326c"
        );
        assert_eq!(turn_key("c1", 7, "buy milk"), turn_key("c1", 7, "buy milk"));
        assert_ne!(turn_key("c1", 7, "buy milk"), turn_key("c1", 8, "buy milk"));
        assert_ne!(
            turn_key("c1", 7, "buy milk"),
            turn_key("c1", 7, "buy milk!")
        );
        assert_ne!(turn_key("c1", 7, "buy milk"), turn_key("c2", 7, "buy milk"));
        assert!(turn_key(&"z".repeat(64), u64::MAX, "x").len() <= 255);
    }
}
