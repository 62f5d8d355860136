//! Live sync: the fan-out server's channel of one user's changes and the output-binding request
//! that publishes a recorded change to it (docs/adr/0009-live-sync-fan-out.md).
//!
//! A dashboard connects to the fan-out server (Centrifugo) with the platform's own JWT and may
//! subscribe only to the channel whose user part is its token's `sub` (a user-limited channel).
//! The boundary before the user part is a control character, which no user id holds (tokens with
//! control characters in `sub` are refused), so the user part is the whole id: no id such as
//! `a#b` or `a,b` can name a channel another user may read.

use serde_json::{json, Value};

/// Namespace of the change channels on the fan-out server.
pub const NAMESPACE: &str = "changes";
/// Separates a channel's name from the one user allowed to subscribe to it (Centrifugo's
/// `channel.user_boundary`). Its `user_separator` (between several users of one channel) is
/// [`USER_SEPARATOR`], so one channel names one user, whole.
pub const USER_BOUNDARY: char = '\u{1f}';
/// Centrifugo's `channel.user_separator`: a control character too (its default `,` would let the
/// channel of a user id `a,b` be read by `a` and by `b`).
pub const USER_SEPARATOR: char = '\u{1e}';
/// Path of the publish method of the fan-out server's HTTP API, below the binding's URL.
pub const PUBLISH_PATH: &str = "/publish";
/// Path of its batch method: several commands in one request, one reply each, in order.
pub const BATCH_PATH: &str = "/batch";

/// Why a change cannot be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    /// The user id cannot name a user-limited channel.
    #[error("user id {0:?} is empty or holds a control character")]
    UnusableUser(String),
    /// The fan-out server refused the publication.
    #[error("the fan-out server refused the publication: {0}")]
    Refused(String),
}

/// The channel of `user_id`'s changes.
///
/// # Errors
/// [`LiveError::UnusableUser`] for an empty id or one with a control character.
pub fn channel(user_id: &str) -> Result<String, LiveError> {
    if user_id.is_empty() || user_id.chars().any(char::is_control) {
        return Err(LiveError::UnusableUser(user_id.to_string()));
    }
    Ok(format!("{NAMESPACE}:{USER_BOUNDARY}{user_id}"))
}

/// The `bindings.http` request publishing `data` to `user_id`'s channel. `idempotency_key` (the
/// event id) lets the server drop a second publication of the same change within its window, so
/// a redelivery after a lost answer is not shown twice, while one after a failed publish is.
///
/// # Errors
/// [`LiveError::UnusableUser`] as [`channel`].
pub fn publish_request(
    user_id: &str,
    data: &Value,
    idempotency_key: &str,
) -> Result<Value, LiveError> {
    Ok(json!({
        "operation": "post",
        "metadata": {"path": PUBLISH_PATH, "Content-Type": "application/json"},
        "data": {"channel": channel(user_id)?, "data": data, "idempotency_key": idempotency_key},
    }))
}

/// One publication of a batch: the user whose channel gets `data`, and its idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct Publication {
    /// The owning user.
    pub user_id: String,
    /// What the pages receive.
    pub data: Value,
    /// The event id (see [`publish_request`]).
    pub idempotency_key: String,
}

/// The `bindings.http` request publishing several changes in one call (the server's batch
/// method, commands in order). Every user id must name a channel ([`channel`]); check first.
///
/// # Errors
/// [`LiveError::UnusableUser`] for the first publication whose user id cannot name a channel.
pub fn batch_request(publications: &[Publication]) -> Result<Value, LiveError> {
    let commands = publications
        .iter()
        .map(|p| {
            Ok(json!({"publish": {
                "channel": channel(&p.user_id)?,
                "data": p.data,
                "idempotency_key": p.idempotency_key,
            }}))
        })
        .collect::<Result<Vec<Value>, LiveError>>()?;
    Ok(json!({
        "operation": "post",
        "metadata": {"path": BATCH_PATH, "Content-Type": "application/json"},
        "data": {"commands": commands},
    }))
}

/// Reads the fan-out server's answer to a batch of `n` commands: one outcome per command, in
/// order (a reply with an `error` is a refusal; a missing reply is one too).
///
/// # Errors
/// [`LiveError::Refused`] when the answer is not the server's JSON (no command is known to be
/// published).
pub fn batch_outcomes(body: &[u8], n: usize) -> Result<Vec<Result<(), LiveError>>, LiveError> {
    let answer: Value = serde_json::from_slice(body).map_err(|e| {
        LiveError::Refused(format!(
            "unreadable answer ({e}): {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ))
    })?;
    if let Some(error) = answer.get("error").filter(|e| !e.is_null()) {
        return Err(LiveError::Refused(error.to_string()));
    }
    let replies = answer
        .get("replies")
        .and_then(Value::as_array)
        .ok_or_else(|| LiveError::Refused(format!("no replies: {answer}")))?;
    Ok((0..n)
        .map(|i| match replies.get(i) {
            None => Err(LiveError::Refused(format!("no reply to command {i}"))),
            Some(r) => match r.get("error") {
                Some(error) if !error.is_null() => Err(LiveError::Refused(error.to_string())),
                _ => Ok(()),
            },
        })
        .collect())
}

/// Reads the fan-out server's answer to a publish: Centrifugo answers HTTP 200 with either a
/// `result` or an `error` object.
///
/// # Errors
/// [`LiveError::Refused`] with the server's error, or when the answer is not its JSON.
pub fn publish_outcome(body: &[u8]) -> Result<(), LiveError> {
    let answer: Value = serde_json::from_slice(body).map_err(|e| {
        LiveError::Refused(format!(
            "unreadable answer ({e}): {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ))
    })?;
    match answer.get("error") {
        Some(error) if !error.is_null() => Err(LiveError::Refused(error.to_string())),
        _ if answer.is_object() => Ok(()),
        _ => Err(LiveError::Refused(format!("not an object: {answer}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_names_exactly_one_whole_user() {
        let ch = channel("alice").unwrap_or_default();
        assert_eq!(ch, "changes:\u{1f}alice");
        // Characters Centrifugo's default boundary and separator use stay inside the user part.
        for id in ["a#b", "a,b", "x:y", "#", "user@example.com"] {
            let ch = channel(id).unwrap_or_default();
            let parts: Vec<&str> = ch.split(USER_BOUNDARY).collect();
            assert_eq!(parts, vec!["changes:", id]);
        }
    }

    #[test]
    fn ids_that_cannot_name_a_channel_are_refused() {
        for id in ["", "a\u{1f}b", "line\nbreak", "\u{0}"] {
            assert_eq!(channel(id), Err(LiveError::UnusableUser(id.to_string())));
        }
    }

    #[test]
    fn the_publish_request_targets_the_users_channel_with_the_event_id() {
        let r = publish_request("u1", &json!({"seq": 3}), "ev-1").unwrap_or_default();
        assert_eq!(r["operation"], "post");
        assert_eq!(r["metadata"]["path"], "/publish");
        assert_eq!(r["data"]["channel"], "changes:\u{1f}u1");
        assert_eq!(r["data"]["data"]["seq"], 3);
        assert_eq!(r["data"]["idempotency_key"], "ev-1");
    }

    #[test]
    fn a_batch_publishes_each_change_to_its_users_channel_in_order() {
        let p = |u: &str, k: &str| Publication {
            user_id: u.into(),
            data: json!({"seq": 1}),
            idempotency_key: k.into(),
        };
        let r = batch_request(&[p("u1", "e1"), p("u2", "e2")]).unwrap_or_default();
        assert_eq!(r["metadata"]["path"], "/batch");
        assert_eq!(
            r["data"]["commands"][0]["publish"]["channel"],
            "changes:\u{1f}u1"
        );
        assert_eq!(r["data"]["commands"][1]["publish"]["idempotency_key"], "e2");
        assert_eq!(
            batch_request(&[p("u1", "e1"), p("a\u{1f}b", "e2")]),
            Err(LiveError::UnusableUser("a\u{1f}b".into()))
        );
    }

    #[test]
    fn a_batch_answer_gives_one_outcome_per_command() {
        let body =
            br#"{"replies":[{"publish":{}},{"error":{"code":102,"message":"unknown channel"}}]}"#;
        let out = batch_outcomes(body, 3).unwrap_or_default();
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], Ok(()));
        assert!(matches!(&out[1], Err(LiveError::Refused(m)) if m.contains("unknown channel")));
        assert!(out[2].is_err(), "a missing reply is not a success");
        assert!(batch_outcomes(br#"{"error":{"code":101}}"#, 1).is_err());
        assert!(batch_outcomes(b"<html>", 1).is_err());
    }

    #[test]
    fn the_servers_answer_tells_success_from_refusal() {
        assert_eq!(
            publish_outcome(br#"{"result":{"offset":4,"epoch":"x"}}"#),
            Ok(())
        );
        assert_eq!(publish_outcome(b"{}"), Ok(()));
        assert!(matches!(
            publish_outcome(br#"{"error":{"code":102,"message":"unknown channel"}}"#),
            Err(LiveError::Refused(m)) if m.contains("unknown channel")
        ));
        assert!(matches!(
            publish_outcome(b"<html>"),
            Err(LiveError::Refused(_))
        ));
        assert!(matches!(
            publish_outcome(b"[1]"),
            Err(LiveError::Refused(_))
        ));
    }
}
