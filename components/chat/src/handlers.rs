//! `POST /api/chat` and `GET /api/chat/{conversation}`.

use chrono::{SecondsFormat, Utc};
use chrono_tz::Tz;
use component_kit::admission;
use component_kit::bearer::authenticate;
use component_kit::dapr::Dapr;
use component_kit::json;
use intent::{understand, Context};
use serde_json::{json, Value};
use spin_sdk::http::{Params, Request, Response};

use crate::actions;
use crate::error::ChatError;
use crate::history::{self, Message};
use crate::tasks::TaskApi;

/// Longest message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// Largest accepted request body, in bytes: a message of 500 four-byte characters with its
/// conversation id and zone fits several times over.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The JSON body: 413 past [`MAX_BODY_BYTES`] (before parsing), 400 if it is not JSON.
fn json_body(req: &Request) -> Result<Value, ChatError> {
    let body = req.body();
    if body.len() > MAX_BODY_BYTES {
        return Err(ChatError::PayloadTooLarge {
            size: body.len(),
            limit: MAX_BODY_BYTES,
        });
    }
    serde_json::from_slice(body)
        .map_err(|e| ChatError::BadRequest(format!("the body is not valid JSON: {e}")))
}

/// A conversation id: 1–64 of `[A-Za-z0-9_-]`.
fn valid_conversation(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A new random conversation id.
fn new_conversation() -> Result<String, ChatError> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| ChatError::Upstream(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn field<'a>(body: &'a Value, name: &str) -> Result<Option<&'a str>, ChatError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ChatError::BadRequest(format!("{name} must be a string"))),
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `POST /api/chat` `{"message", "conversation_id"?, "tzid"?}` → the reply, what was
/// understood, and the task touched.
pub async fn chat(req: Request) -> Result<Response, ChatError> {
    let received = Utc::now();
    let dapr = Dapr::from_env();
    let user = authenticate(&req, &dapr).await?;
    let body = json_body(&req)?;
    let message = field(&body, "message")?
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| ChatError::BadRequest("message is required".into()))?;
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ChatError::BadRequest(format!(
            "message must be at most {MAX_MESSAGE_CHARS} characters"
        )));
    }
    let conversation = match field(&body, "conversation_id")? {
        Some(id) if valid_conversation(id) => id.to_string(),
        Some(_) => {
            return Err(ChatError::BadRequest(
                "conversation_id must be 1-64 letters, digits, '-' or '_'".into(),
            ))
        }
        None => new_conversation()?,
    };
    let key = history::key(&user, &conversation);
    let (stored, _) = history::load(&dapr, &key).await?;
    // Load shedding: a message that already waited its budget is refused before it acts.
    if admission::overdue(received, admission::max_queue_ms()) {
        return Err(ChatError::Overloaded {
            retry_after: admission::RETRY_AFTER_SECS,
        });
    }
    let tzid = match field(&body, "tzid")? {
        Some(name) => Some(name.to_string()),
        None => stored.tzid.clone(),
    };
    let tz: Tz = match &tzid {
        Some(name) => name.parse().map_err(|_| {
            ChatError::BadRequest(format!("tzid \"{name}\" is not an IANA time zone"))
        })?,
        None => Tz::UTC,
    };
    let ctx = Context::new(Utc::now(), tz);
    let understanding = understand(message, &ctx);
    let authorization = req
        .header("authorization")
        .and_then(|h| h.as_str())
        .unwrap_or_default();
    let api = TaskApi::new(&dapr, authorization);
    // The same turn retried (same conversation, same turn number, same text) creates once.
    let turn_key = history::turn_key(&conversation, stored.turn(), message);
    let outcome = actions::run(&understanding, &api, &ctx, &turn_key).await?;
    let said = [
        Message {
            role: "user".into(),
            text: message.to_string(),
            at: now(),
        },
        Message {
            role: "assistant".into(),
            text: outcome.reply.clone(),
            at: now(),
        },
    ];
    history::append(&dapr, &key, tzid.as_deref(), &said).await?;
    Ok(json::response(
        200,
        &json!({
            "conversation_id": conversation,
            "reply": outcome.reply,
            "understood": understanding,
            "task": outcome.task,
        }),
    ))
}

/// `GET /api/chat/{conversation}` → its messages.
pub async fn conversation(req: Request, params: Params) -> Result<Response, ChatError> {
    let dapr = Dapr::from_env();
    let user = authenticate(&req, &dapr).await?;
    let id = params.get("conversation").unwrap_or_default();
    if !valid_conversation(id) {
        return Err(ChatError::NotFound);
    }
    let (conv, etag) = history::load(&dapr, &history::key(&user, id)).await?;
    if etag.is_none() && conv.messages.is_empty() {
        return Err(ChatError::NotFound);
    }
    Ok(json::response(
        200,
        &json!({"conversation_id": id, "tzid": conv.tzid, "messages": conv.messages}),
    ))
}
