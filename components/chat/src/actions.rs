//! Carrying out an understood intent through the Task API and wording the answer.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use intent::answer::{self, TaskLine};
use intent::{match_task, Context, Intent, NewTask, TaskMatch, TaskRef, Understanding};
use serde_json::{json, Value};

use crate::error::ChatError;
use crate::tasks::{TaskApi, MAX_CANDIDATES};

/// What the chat did: the reply and the task it touched, if any.
pub struct Outcome {
    /// The reply text.
    pub reply: String,
    /// The task created or changed (the Task API's JSON).
    pub task: Option<Value>,
}

impl Outcome {
    fn say(reply: impl Into<String>) -> Self {
        Self {
            reply: reply.into(),
            task: None,
        }
    }
}

fn time_of(v: &Value, field: &str) -> Option<DateTime<Utc>> {
    v.get(field)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn text_of(v: &Value, field: &str) -> String {
    v.get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Runs `understanding` for the user behind `api`; `key` makes a create idempotent per turn.
#[allow(
    clippy::too_many_lines,
    reason = "one arm per command kind, each a Task API call and its answer"
)]
pub async fn run(
    understanding: &Understanding,
    api: &TaskApi<'_>,
    ctx: &Context,
    key: &str,
) -> Result<Outcome, ChatError> {
    let intent = match understanding {
        Understanding::Clarify(c) => return Ok(Outcome::say(c.question.clone())),
        Understanding::Action { intent } => intent,
    };
    let tz = ctx.now.timezone();
    match intent {
        Intent::Help => Ok(Outcome::say(answer::help())),
        Intent::Create(task) => create(api, task, ctx, key).await,
        Intent::ListDue { range } => {
            let (from, to) = range.bounds(ctx.now);
            let (mut items, more) = api
                .pending(from.map(|t| t.to_rfc3339()), to.map(|t| t.to_rfc3339()), 50)
                .await?;
            items.sort_by_key(|t| time_of(t, "due_date"));
            let lines: Vec<TaskLine> = items
                .iter()
                .map(|t| TaskLine {
                    title: text_of(t, "title"),
                    due: time_of(t, "due_date"),
                    recurring: t
                        .get("is_recurring")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                })
                .collect();
            Ok(Outcome::say(answer::listed(*range, &lines, more, tz)))
        }
        Intent::Complete { task } => {
            let (found, _) = match find(api, task).await? {
                Found::Task(t, due) => (t, due),
                Found::Ask(question) => return Ok(Outcome::say(question)),
            };
            let done = api.complete(&found.task_id).await?;
            Ok(finish(done, |_| {
                answer::completed(&found.title, found.series_id.is_some())
            }))
        }
        Intent::Move { task, to } => {
            let (found, current) = match find(api, task).await? {
                Found::Task(t, due) => (t, due),
                Found::Ask(question) => return Ok(Outcome::say(question)),
            };
            let due = to
                .resolve(ctx.now, current.map(|d| d.with_timezone(&tz)))
                .with_timezone(&Utc);
            let changed = api
                .patch(
                    &found.task_id,
                    "this",
                    &json!({"due_date": due.to_rfc3339()}),
                )
                .await?;
            Ok(finish(changed, |_| answer::moved(&found.title, due, tz)))
        }
        Intent::Repeat {
            task,
            recurrence,
            describe,
            ..
        } => {
            let (found, _) = match find(api, task).await? {
                Found::Task(t, due) => (t, due),
                Found::Ask(question) => return Ok(Outcome::say(question)),
            };
            if found.series_id.is_none() {
                return Ok(Outcome::say(format!(
                    "\"{}\" does not repeat yet. To make a repeating task say for example \"add {} {recurrence}\".",
                    found.title, found.title
                )));
            }
            let body = json!({"recurrence": recurrence});
            let changed = api.patch(&found.task_id, "all", &body).await?;
            Ok(finish(changed, |_| answer::repeats(&found.title, describe)))
        }
        Intent::EndSeries { task, last_day } => {
            let (found, _) = match find(api, task).await? {
                Found::Task(t, due) => (t, due),
                Found::Ask(question) => return Ok(Outcome::say(question)),
            };
            if found.series_id.is_none() {
                return Ok(Outcome::say(format!(
                    "\"{}\" does not repeat, so there is no series to stop.",
                    found.title
                )));
            }
            // The series may still occur on the last day: it ends at that day's last second.
            let end_of_day =
                chrono::NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(chrono::NaiveTime::MIN);
            let until = intent::When {
                date: Some(*last_day),
                time: Some(end_of_day),
            }
            .resolve(ctx.now, None);
            let body = json!({"recurrence_end_date": until.with_timezone(&Utc).to_rfc3339()});
            let changed = api.patch(&found.task_id, "all", &body).await?;
            Ok(finish(changed, |_| answer::ended(&found.title, *last_day)))
        }
        Intent::DeleteFuture { task } => {
            let (found, _) = match find(api, task).await? {
                Found::Task(t, due) => (t, due),
                Found::Ask(question) => return Ok(Outcome::say(question)),
            };
            let scope = if found.series_id.is_some() {
                "following"
            } else {
                "this"
            };
            let gone = api.delete(&found.task_id, scope).await?;
            Ok(finish(gone, |_| {
                answer::deleted(&found.title, found.series_id.is_some())
            }))
        }
        Intent::Delete { task } => {
            let (found, _) = match find(api, task).await? {
                Found::Task(t, due) => (t, due),
                Found::Ask(question) => return Ok(Outcome::say(question)),
            };
            let gone = api.delete(&found.task_id, "this").await?;
            Ok(finish(gone, |_| answer::deleted(&found.title, false)))
        }
    }
}

/// The reply for a Task API answer: the success text, or what the Task API objected to.
fn finish(result: Result<Value, String>, ok: impl FnOnce(&Value) -> String) -> Outcome {
    match result {
        Ok(task) => Outcome {
            reply: ok(&task),
            task: Some(task),
        },
        Err(detail) => Outcome::say(format!("That did not work: {detail}")),
    }
}

async fn create(
    api: &TaskApi<'_>,
    task: &NewTask,
    ctx: &Context,
    key: &str,
) -> Result<Outcome, ChatError> {
    let tz: Tz = ctx.now.timezone();
    let mut body = json!({"title": task.title, "tzid": tz.name()});
    // No reminder said: the field stays out, so the user's default reminders apply.
    if !task.reminders.is_empty() {
        body["reminders"] = json!(task.reminders);
    }
    if let Some(phrase) = &task.recurrence {
        body["recurrence"] = json!(phrase);
    }
    if let Some(due) = &task.due {
        body["due_date"] = json!(due.resolve(ctx.now, None).with_timezone(&Utc).to_rfc3339());
    }
    let created = api.create(&body, key).await?;
    Ok(finish(created, |t| {
        let due = time_of(t, "due_date");
        answer::created(
            &task.title,
            task.describe.as_deref(),
            due,
            t.get("reminders")
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
            tz,
        )
    }))
}

/// The task a command names, or the question to ask instead.
enum Found {
    /// Exactly one pending task (for a series, its next instance) and its due date.
    Task(TaskRef, Option<DateTime<Utc>>),
    /// None or several fit.
    Ask(String),
}

/// Resolves `name` against the user's pending tasks, earliest due first (so a series' next
/// instance is the one acted on).
async fn find(api: &TaskApi<'_>, name: &str) -> Result<Found, ChatError> {
    let (mut items, _) = api.pending(None, None, MAX_CANDIDATES).await?;
    items.sort_by_key(|t| (time_of(t, "due_date").is_none(), time_of(t, "due_date")));
    let candidates: Vec<TaskRef> = items
        .iter()
        .map(|t| TaskRef {
            task_id: text_of(t, "task_id"),
            title: text_of(t, "title"),
            series_id: t
                .get("series_id")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
        .collect();
    let found = match_task(name, &candidates);
    if let TaskMatch::One(t) = found {
        let due = items
            .iter()
            .find(|i| text_of(i, "task_id") == t.task_id)
            .and_then(|i| time_of(i, "due_date"));
        return Ok(Found::Task(t.clone(), due));
    }
    Ok(Found::Ask(found.question(name).unwrap_or_else(|| {
        format!("Which task do you mean by \"{name}\"?")
    })))
}
