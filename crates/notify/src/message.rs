//! What the user receives: one subject and text per reminder, rendered for email (the Dapr
//! `bindings.smtp` request) and push (the Dapr `bindings.mqtt3` request, a JSON payload in the
//! shape of ntfy's `title`/`message`).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use domain::{ReminderId, TaskId};

use crate::job::rfc3339_ms;

pub use domain::channel::{push_topic, PUSH_TOPIC_PREFIX};

/// A stored reminder about to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// The reminder.
    pub reminder_id: ReminderId,
    /// Its task.
    pub task_id: TaskId,
    /// The owner.
    pub user_id: String,
    /// The task's title.
    pub title: String,
    /// The task's due date.
    pub due_date: Option<DateTime<Utc>>,
    /// The offset as written (`PT1H`).
    pub offset: String,
    /// The offset in seconds.
    pub offset_secs: i64,
    /// The reminder time.
    pub remind_at: DateTime<Utc>,
    /// The owner's own address (set in the settings, else the token's `email` claim); `None`:
    /// the email channel is skipped.
    pub email: Option<String>,
}

/// The rendered notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Email subject and push title.
    pub subject: String,
    /// Plain text body.
    pub text: String,
}

/// "1 day", "1 hour", "2 days 3 hours", "90 minutes" is "1 hour 30 minutes".
pub fn human_offset(secs: i64) -> String {
    let units = [
        (86_400, "day"),
        (3600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    let mut left = secs.max(0);
    let mut parts = Vec::new();
    for (size, name) in units {
        let n = left / size;
        left %= size;
        if n > 0 {
            parts.push(format!("{n} {name}{}", if n == 1 { "" } else { "s" }));
        }
    }
    if parts.is_empty() {
        "0 seconds".into()
    } else {
        parts.join(" ")
    }
}

/// [`compose`], marked late when it is sent more than [`crate::job::LATE_GRACE_SECS`] after its
/// time (delivery was interrupted, e.g. by an outage): the subject starts with "Late: " and the
/// text says when it was due to arrive.
pub fn compose_at(r: &Reminder, now: chrono::DateTime<chrono::Utc>) -> Message {
    let m = compose(r);
    if (now - r.remind_at).num_seconds() <= crate::job::LATE_GRACE_SECS {
        return m;
    }
    Message {
        subject: format!("Late: {}", m.subject),
        text: format!(
            "{} This reminder was due to arrive at {} and is late because its delivery was interrupted.",
            m.text,
            r.remind_at.format("%Y-%m-%d %H:%M UTC")
        ),
    }
}

/// Renders a reminder: at due (`PT0S`) "Due now: …", otherwise "Reminder: … is due in …".
pub fn compose(r: &Reminder) -> Message {
    let due = r
        .due_date
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "an unknown time".into());
    if r.offset_secs <= 0 {
        Message {
            subject: format!("Due now: {}", r.title),
            text: format!("\"{}\" is due now ({due}).", r.title),
        }
    } else {
        let human = human_offset(r.offset_secs);
        Message {
            subject: format!("Reminder: {} is due in {human}", r.title),
            text: format!("\"{}\" is due in {human}, at {due}.", r.title),
        }
    }
}

/// Escapes text for HTML (the SMTP binding sends `text/html`).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The email binding's request (`bindings.smtp` locally, `bindings.twilio.sendgrid` in
/// production): the per-message fields (recipient, subject) in the request metadata; the sender
/// is the component's own `emailFrom`. `None` when the user has no address (nothing may be sent).
pub fn email_request(r: &Reminder, m: &Message) -> Option<Value> {
    let to = r.email.as_deref()?;
    let html = format!(
        "<p>{}</p><p>Reminder {} (set {} before due), scheduled for {}.</p>",
        escape_html(&m.text),
        escape_html(r.reminder_id.as_str()),
        escape_html(&r.offset),
        rfc3339_ms(r.remind_at),
    );
    Some(json!({
        "operation": "create",
        "data": html,
        "metadata": {
            "emailTo": to,
            "subject": m.subject,
            "priority": "1",
        },
    }))
}

/// The push payload (also what ntfy's JSON publish API takes: `topic`, `title`, `message`).
pub fn push_payload(r: &Reminder, m: &Message) -> Value {
    json!({
        "topic": push_topic(&r.user_id),
        "title": m.subject,
        "message": m.text,
        "reminder_id": r.reminder_id.as_str(),
        "task_id": r.task_id.as_str(),
        "offset": r.offset,
        "remind_at": rfc3339_ms(r.remind_at),
        "due_date": r.due_date.map(rfc3339_ms),
    })
}

/// The `bindings.mqtt3` request: the payload to the user's topic.
pub fn push_request(r: &Reminder, m: &Message) -> Value {
    json!({
        "operation": "create",
        "data": push_payload(r, m),
        "metadata": {"topic": push_topic(&r.user_id)},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn reminder(offset: &str, secs: i64) -> Reminder {
        Reminder {
            reminder_id: ReminderId::parse("2b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a").expect("id"),
            task_id: TaskId::parse("0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a").expect("id"),
            user_id: "alice".into(),
            title: "Pay <rent>".into(),
            due_date: Some(at(27, 9)),
            offset: offset.into(),
            email: Some("alice@example.com".into()),
            offset_secs: secs,
            remind_at: at(27, 9) - chrono::TimeDelta::seconds(secs),
        }
    }

    #[test]
    fn a_reminder_sent_after_an_outage_says_it_is_late() {
        let r = reminder("PT1H", 3600);
        let on_time = compose_at(&r, r.remind_at + chrono::TimeDelta::seconds(30));
        assert_eq!(on_time, compose(&r));
        let late = compose_at(&r, r.remind_at + chrono::TimeDelta::minutes(45));
        assert_eq!(late.subject, "Late: Reminder: Pay <rent> is due in 1 hour");
        assert!(late.text.ends_with(
            "This reminder was due to arrive at 2026-11-27 08:00 UTC and is late because its delivery was interrupted."
        ));
    }

    #[test]
    fn offsets_read_as_words() {
        assert_eq!(human_offset(86_400), "1 day");
        assert_eq!(human_offset(3600), "1 hour");
        assert_eq!(human_offset(5400), "1 hour 30 minutes");
        assert_eq!(human_offset(2 * 86_400 + 3 * 3600), "2 days 3 hours");
        assert_eq!(human_offset(0), "0 seconds");
    }

    #[test]
    fn subjects_name_the_task_and_the_offset() {
        let day = compose(&reminder("P1D", 86_400));
        assert_eq!(day.subject, "Reminder: Pay <rent> is due in 1 day");
        assert_eq!(
            day.text,
            "\"Pay <rent>\" is due in 1 day, at 2026-11-27 09:00 UTC."
        );
        assert_eq!(
            compose(&reminder("PT1H", 3600)).subject,
            "Reminder: Pay <rent> is due in 1 hour"
        );
        let now = compose(&reminder("PT0S", 0));
        assert_eq!(now.subject, "Due now: Pay <rent>");
        assert_eq!(
            now.text,
            "\"Pay <rent>\" is due now (2026-11-27 09:00 UTC)."
        );
    }

    #[test]
    fn email_request_escapes_html_and_addresses_the_user() {
        let r = reminder("PT1H", 3600);
        let req = email_request(&r, &compose(&r)).expect("an address");
        assert_eq!(req["operation"], json!("create"));
        assert_eq!(req["metadata"]["emailTo"], json!("alice@example.com"));
        assert_eq!(
            req["metadata"]["subject"],
            json!("Reminder: Pay <rent> is due in 1 hour")
        );
        let body = req["data"].as_str().expect("text");
        assert!(body.contains("Pay &lt;rent&gt;"), "{body}");
        assert!(!body.contains("<rent>"));
        let nobody = Reminder { email: None, ..r };
        assert_eq!(email_request(&nobody, &compose(&nobody)), None);
    }

    #[test]
    fn push_request_goes_to_the_users_topic() {
        let mut r = reminder("PT0S", 0);
        r.user_id = "bob/+#".into();
        let req = push_request(&r, &compose(&r));
        assert_eq!(req["metadata"]["topic"], json!(push_topic("bob/+#")));
        assert_ne!(push_topic("bob/+#"), push_topic("bob___"));
        assert_eq!(req["data"]["title"], json!("Due now: Pay <rent>"));
        assert_eq!(req["data"]["remind_at"], json!("2026-11-27T09:00:00.000Z"));
    }
}
