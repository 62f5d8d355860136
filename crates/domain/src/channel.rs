//! Per-user push channel names. Each user's MQTT topic and broker username come from the
//! SHA-256 of the exact user id (hex), so two different ids never share a channel (no lossy
//! character mapping) and the name is safe as an MQTT topic level and a username whatever the
//! id contains. Knowing a name grants nothing: the broker lets only the user's own
//! credentials subscribe to it (docs/notifications.md).

use sha2::{Digest, Sha256};

/// Prefix of each user's push topic.
pub const PUSH_TOPIC_PREFIX: &str = "todo/reminders/";

/// The user's push identity: 64 lowercase hex digits of SHA-256(user id); the broker username
/// of the user's push credentials and the last level of the user's topic.
pub fn push_identity(user_id: &str) -> String {
    Sha256::digest(user_id.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The user's push topic: `todo/reminders/<push identity>`.
pub fn push_topic(user_id: &str) -> String {
    format!("{PUSH_TOPIC_PREFIX}{}", push_identity(user_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_a_character_mapping_would_merge_get_different_topics() {
        let ids = ["a@b", "a_b", "a/b", "a+b", "a#b", "", "ä"];
        let topics: std::collections::HashSet<String> = ids.iter().map(|i| push_topic(i)).collect();
        assert_eq!(topics.len(), ids.len());
        assert_eq!(
            push_topic("alice"),
            "todo/reminders/2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"
        );
        for t in &topics {
            assert!(!t[PUSH_TOPIC_PREFIX.len()..].contains(['/', '+', '#']));
        }
    }
}
