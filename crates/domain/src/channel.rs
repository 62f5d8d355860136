//! Per-user push channel names. Each user's MQTT topic and broker username come from the
//! SHA-256 of the exact user id (hex), so two different ids never share a channel (no lossy
//! character mapping) and the name is safe as an MQTT topic level and a username whatever the
//! id contains. Knowing a name grants nothing: the broker lets only the user's own
//! credentials subscribe to it (docs/notifications.md).

use serde_json::{json, Value};
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

/// The Mosquitto dynamic-security control topic the credential commands are published on.
pub const DYNSEC_CONTROL_TOPIC: &str = "$CONTROL/dynamic-security/v1";

/// The broker role of a user's push credentials: `push-<push identity>`.
pub fn push_role(user_id: &str) -> String {
    format!("push-{}", push_identity(user_id))
}

/// The Mosquitto dynamic-security commands that give the user's broker client (username = the
/// push identity) `password` and a role that may subscribe to the user's topic only
/// (`subscribeLiteral`, so no wildcard filter matches). Idempotent as a whole: creating a role
/// or client that exists fails harmlessly, then the password is set (a re-issue replaces the
/// old one, which stops working) and the role is attached.
pub fn issue_commands(user_id: &str, password: &str) -> Value {
    let username = push_identity(user_id);
    let role = push_role(user_id);
    json!({"commands": [
        {"command": "createRole", "rolename": role,
         "acls": [{"acltype": "subscribeLiteral", "topic": push_topic(user_id), "allow": true}]},
        {"command": "createClient", "username": username, "password": password,
         "roles": [{"rolename": role}]},
        {"command": "setClientPassword", "username": username, "password": password},
        {"command": "addClientRole", "username": username, "rolename": role},
    ]})
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
        let c = issue_commands("a@b", "pw");
        let id = push_identity("a@b");
        assert_eq!(
            c["commands"][0]["acls"][0]["topic"],
            json!(push_topic("a@b"))
        );
        assert_eq!(
            c["commands"][0]["acls"][0]["acltype"],
            json!("subscribeLiteral")
        );
        assert_eq!(c["commands"][1]["username"], json!(id));
        assert_eq!(c["commands"][2]["password"], json!("pw"));
        assert_eq!(c["commands"][3]["rolename"], json!(format!("push-{id}")));
        for t in &topics {
            assert!(!t[PUSH_TOPIC_PREFIX.len()..].contains(['/', '+', '#']));
        }
    }
}
