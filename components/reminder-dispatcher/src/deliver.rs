//! The `alerts` consumer: delivers a due reminder on each of its channels (email through the
//! `email` SMTP binding, push through the `push` MQTT binding), concurrently. Each channel is
//! claimed in `reminder_deliveries` first, so a channel already delivered is never sent again,
//! and recorded sent or failed afterwards. A failed channel makes the whole delivery RETRY (5 s
//! × 3, then `alerts-dlq`); the retry claims only the channels that have not been delivered.
//! Email goes only to the owner's own address; without one the channel is recorded `skipped`.

use chrono::Utc;
use component_kit::dapr::{Dapr, DaprError};
use futures::future::join_all;
use notify::alert::{self, Alert, Due};
use notify::message::{self, Message, Reminder};
use notify::Channel;
use store::reminders::{Delivery, Outcome};

use crate::db::{query, Verdict};

/// The Dapr output binding of each channel.
fn binding(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::Push => "push",
    }
}

/// Handles one delivery of `alerts`.
pub async fn handle(body: &[u8]) -> component_kit::delivery::Status {
    let verdict = match alert::read(body) {
        Err(p) => Verdict::Drop(p.to_string()),
        Ok(Alert::Ignored(_)) => Verdict::Success,
        Ok(Alert::Due(due)) => match deliver(&Dapr::from_env(), &due).await {
            Ok(v) => v,
            Err(e) => Verdict::Retry(format!("event {}: {e}", due.event_id)),
        },
    };
    verdict.answer("alerts")
}

/// Why an email is not sent to a user without an address (recorded in `last_error`).
const NO_ADDRESS: &str =
    "no email address: set one in /api/users/me/settings or sign in with an email claim";

async fn send(dapr: &Dapr, channel: Channel, r: &Reminder, m: &Message) -> Outcome {
    let request = match channel {
        Channel::Email => message::email_request(r, m),
        Channel::Push => Some(message::push_request(r, m)),
    };
    let result = match request {
        None => Delivery::Skipped(NO_ADDRESS.into()),
        Some(request) => match dapr.invoke_binding(binding(channel), &request).await {
            Ok(_) => Delivery::Sent(Utc::now()),
            Err(e) => Delivery::Failed(e.to_string()),
        },
    };
    Outcome { channel, result }
}

async fn deliver(dapr: &Dapr, due: &Due) -> Result<Verdict, DaprError> {
    let rows = query(
        dapr,
        &store::reminders::claim_deliveries(&due.reminder_id, due.remind_at, &due.event_id),
    )
    .await?;
    let Some(first) = rows.first() else {
        // Cancelled, missed, moved to another time, or its task is done: nothing to send.
        return Ok(Verdict::Success);
    };
    let Some(task_id) = domain::TaskId::parse(&first.task_id) else {
        return Ok(Verdict::Drop(format!(
            "event {}: unreadable reminder row {first:?}",
            due.event_id
        )));
    };
    let at = first.remind_at;
    let reminder = Reminder {
        reminder_id: due.reminder_id.clone(),
        task_id,
        user_id: first.user_id.clone(),
        title: first.title.clone(),
        due_date: first.due_date,
        offset: first.offset_text.clone(),
        offset_secs: first.offset_secs,
        remind_at: at,
        email: first.email.clone(),
    };
    let msg = message::compose_at(&reminder, Utc::now());
    let mut claimed = Vec::new();
    let mut in_flight = Vec::new();
    for row in &rows {
        let Some(channel) = Channel::parse(&row.channel) else {
            continue;
        };
        if row.claimed {
            claimed.push(channel);
        } else if row.previous_status.as_deref() != Some("sent") {
            in_flight.push(channel.as_str());
        }
    }
    let outcomes = join_all(claimed.iter().map(|c| send(dapr, *c, &reminder, &msg))).await;
    if !outcomes.is_empty() {
        query(
            dapr,
            &store::reminders::record_outcome(&due.reminder_id, at, &outcomes),
        )
        .await?;
    }
    let failed: Vec<String> = outcomes
        .iter()
        .filter_map(|o| match &o.result {
            Delivery::Failed(e) => Some(format!("{}: {e}", o.channel.as_str())),
            Delivery::Sent(_) | Delivery::Skipped(_) => None,
        })
        .collect();
    if !failed.is_empty() {
        return Ok(Verdict::Retry(format!(
            "event {}: reminder {}: {}",
            due.event_id,
            due.reminder_id.as_str(),
            failed.join("; ")
        )));
    }
    if !in_flight.is_empty() {
        return Ok(Verdict::Retry(format!(
            "event {}: {} being delivered by another attempt",
            due.event_id,
            in_flight.join(", ")
        )));
    }
    Ok(Verdict::Success)
}
