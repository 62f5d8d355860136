//! Request bodies parsed into validated commands, with every invalid field reported at once.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::schedule::{self, SeriesPlan};
use crate::types::{parse_description, Mode, Priority, ReminderOffset, Title, ValidationErrors};

/// Most reminders on one task.
pub const MAX_REMINDERS: usize = 10;

/// A validated `POST /api/tasks` body.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateTask {
    /// Title.
    pub title: Title,
    /// Description (may be empty).
    pub description: String,
    /// Priority (default medium).
    pub priority: Priority,
    /// Due date; for a recurring task, the first occurrence.
    pub due_date: Option<DateTime<Utc>>,
    /// Reminder offsets before the due date; `None` (the field absent or null) takes the
    /// user's default reminders, `Some(vec![])` means none.
    pub reminders: Option<Vec<ReminderOffset>>,
    /// The series, for a recurring task.
    pub series: Option<SeriesPlan>,
}

/// A validated `PATCH /api/tasks/{id}` body: only the fields given change.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatchTask {
    /// New title.
    pub title: Option<Title>,
    /// New description.
    pub description: Option<String>,
    /// New priority.
    pub priority: Option<Priority>,
    /// New due date (`Some(None)` clears it); only for scope `this`.
    pub due_date: Option<Option<DateTime<Utc>>>,
    /// New reminder offsets: they replace the reminders of every task the edit applies to.
    pub reminders: Option<Vec<ReminderOffset>>,
    /// New recurrence (preset, RRULE or phrase); scopes `all` and `following` only.
    pub recurrence: Option<String>,
    /// New time zone of the series (wall times are kept).
    pub tzid: Option<String>,
    /// New mode of the series.
    pub mode: Option<Mode>,
    /// New series end date (`Some(None)` removes it).
    pub end_date: Option<Option<DateTime<Utc>>>,
}

impl PatchTask {
    /// True if the edit changes the series' rule: recurrence, tzid, mode or end date.
    pub fn changes_rule(&self) -> bool {
        self.recurrence.is_some()
            || self.tzid.is_some()
            || self.mode.is_some()
            || self.end_date.is_some()
    }
}

fn string_field<'a>(body: &'a Value, name: &str, errors: &mut ValidationErrors) -> Option<&'a str> {
    match body.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            errors.push(name, format!("{name} must be a string"));
            None
        }
    }
}

/// Parses an RFC 3339 timestamp.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("\"{s}\" is not an RFC 3339 date-time such as 2026-12-01T09:00:00Z"))
}

fn time_field(body: &Value, name: &str, errors: &mut ValidationErrors) -> Option<DateTime<Utc>> {
    let s = string_field(body, name, errors)?;
    parse_time(s).map_err(|e| errors.push(name, e)).ok()
}

fn require_object(body: &Value) -> Result<(), ValidationErrors> {
    if body.is_object() {
        Ok(())
    } else {
        let mut e = ValidationErrors::default();
        e.push("body", "the body must be a JSON object");
        Err(e)
    }
}

/// Parses and validates a create body. Unknown fields are ignored.
pub fn parse_create(body: &Value, now: DateTime<Utc>) -> Result<CreateTask, ValidationErrors> {
    require_object(body)?;
    let mut errors = ValidationErrors::default();
    let title = match string_field(body, "title", &mut errors) {
        Some(t) => Title::parse(t).map_err(|e| errors.push("title", e)).ok(),
        None => {
            if !errors.0.iter().any(|e| e.field == "title") {
                errors.push("title", "title is required");
            }
            None
        }
    };
    let description = string_field(body, "description", &mut errors)
        .map(|d| {
            parse_description(d)
                .map_err(|e| errors.push("description", e))
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let priority = string_field(body, "priority", &mut errors)
        .and_then(|p| {
            Priority::parse(p)
                .map_err(|e| errors.push("priority", e))
                .ok()
        })
        .unwrap_or(Priority::Medium);
    let due_date = time_field(body, "due_date", &mut errors);
    let end_date = time_field(body, "recurrence_end_date", &mut errors)
        .or_else(|| time_field(body, "end_date", &mut errors));
    let tzid = string_field(body, "tzid", &mut errors).unwrap_or("UTC");
    let mode = string_field(body, "mode", &mut errors)
        .and_then(|m| Mode::parse(m).map_err(|e| errors.push("mode", e)).ok())
        .unwrap_or_default();
    let reminders = match body.get("reminders") {
        None | Some(Value::Null) => None,
        given => Some(parse_reminders(given, &mut errors)),
    };
    let recurrence = string_field(body, "recurrence", &mut errors);
    let series = match recurrence {
        Some(text) => schedule::resolve(text, tzid, due_date, end_date, mode, now)
            .map_err(|e| errors.0.push(e))
            .ok(),
        None => {
            if end_date.is_some() {
                errors.push("recurrence_end_date", "an end date needs a recurrence");
            }
            if let Some(t) = body.get("tzid").and_then(Value::as_str) {
                if let Err(e) = schedule::parse_zone(t) {
                    errors.0.push(e);
                }
            }
            None
        }
    };
    let due_date = series.as_ref().map(|s| s.first_due).or(due_date);
    if reminders.as_ref().is_some_and(|r| !r.is_empty()) && due_date.is_none() && errors.is_empty()
    {
        errors.push("reminders", "reminders need a due_date or a recurrence");
    }
    match (title, errors.is_empty()) {
        (Some(title), true) => Ok(CreateTask {
            title,
            description,
            priority,
            due_date,
            reminders,
            series,
        }),
        _ => Err(errors),
    }
}

fn parse_reminders(value: Option<&Value>, errors: &mut ValidationErrors) -> Vec<ReminderOffset> {
    parse_offsets("reminders", value, errors)
}

/// Parses a list of reminder offsets in the field `name` (null or absent: none). Duplicates
/// (same number of seconds) are kept once; at most [`MAX_REMINDERS`].
pub(crate) fn parse_offsets(
    name: &str,
    value: Option<&Value>,
    errors: &mut ValidationErrors,
) -> Vec<ReminderOffset> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            errors.push(name, format!("{name} must be a list of ISO 8601 durations"));
            return Vec::new();
        }
    };
    if items.len() > MAX_REMINDERS {
        errors.push(name, format!("at most {MAX_REMINDERS} reminders"));
        return Vec::new();
    }
    let mut out: Vec<ReminderOffset> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("{name}[{i}]");
        match item.as_str().map(ReminderOffset::parse) {
            Some(Ok(o)) => {
                if !out.iter().any(|x| x.seconds() == o.seconds()) {
                    out.push(o);
                }
            }
            Some(Err(e)) => errors.push(&field, e),
            None => errors.push(&field, "a reminder must be a string such as PT1H"),
        }
    }
    out
}

/// Parses and validates a patch body for the given scope (`due_date` only with `this`).
pub fn parse_patch(body: &Value, scope_is_this: bool) -> Result<PatchTask, ValidationErrors> {
    require_object(body)?;
    let mut errors = ValidationErrors::default();
    let mut patch = PatchTask {
        title: string_field(body, "title", &mut errors)
            .and_then(|t| Title::parse(t).map_err(|e| errors.push("title", e)).ok()),
        description: string_field(body, "description", &mut errors).and_then(|d| {
            parse_description(d)
                .map_err(|e| errors.push("description", e))
                .ok()
        }),
        priority: string_field(body, "priority", &mut errors).and_then(|p| {
            Priority::parse(p)
                .map_err(|e| errors.push("priority", e))
                .ok()
        }),
        due_date: None,
        reminders: None,
        recurrence: None,
        tzid: None,
        mode: None,
        end_date: None,
    };
    if let Some(v) = body.get("due_date") {
        if !scope_is_this {
            errors.push("due_date", "due_date can only be changed with scope=this");
        } else if v.is_null() {
            patch.due_date = Some(None);
        } else {
            patch.due_date = time_field(body, "due_date", &mut errors).map(Some);
        }
    }
    if body.get("reminders").is_some() {
        // null clears the reminders, like an empty list.
        patch.reminders = Some(parse_reminders(body.get("reminders"), &mut errors));
    }
    patch.recurrence = string_field(body, "recurrence", &mut errors).map(str::to_string);
    if body.get("recurrence").is_some_and(Value::is_null) {
        errors.push(
            "recurrence",
            "recurrence cannot be removed; delete the following instances instead",
        );
    }
    patch.tzid = string_field(body, "tzid", &mut errors).and_then(|t| {
        schedule::parse_zone(t)
            .map_err(|e| errors.0.push(e))
            .ok()
            .map(|_| t.to_string())
    });
    patch.mode = string_field(body, "mode", &mut errors)
        .and_then(|m| Mode::parse(m).map_err(|e| errors.push("mode", e)).ok());
    match body.get("recurrence_end_date") {
        None => {}
        Some(Value::Null) => patch.end_date = Some(None),
        Some(_) => {
            patch.end_date = time_field(body, "recurrence_end_date", &mut errors).map(Some);
        }
    }
    if scope_is_this && patch.changes_rule() {
        for field in ["recurrence", "tzid", "mode", "recurrence_end_date"] {
            if body.get(field).is_some() {
                errors.push(
                    field,
                    format!("{field} can only be changed with scope=all or scope=following"),
                );
            }
        }
    }
    if errors.is_empty() && patch == PatchTask::default() {
        errors.push(
            "body",
            "nothing to change: give title, description, priority, due_date, reminders, \
             recurrence, tzid, mode or recurrence_end_date",
        );
    }
    if errors.is_empty() {
        Ok(patch)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn a_full_one_off_task_parses() {
        let t = parse_create(
            &json!({"title": " Pay rent ", "priority": "high", "due_date": "2026-12-01T09:00:00+01:00", "reminders": ["P1D", "PT1H", "PT60M"], "extra": 1}),
            now(),
        )
        .expect("valid");
        assert_eq!(t.title.as_str(), "Pay rent");
        assert_eq!(
            t.due_date,
            Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).single()
        );
        assert_eq!(t.reminders.map(|r| r.len()), Some(2));
        assert!(t.series.is_none());
    }

    #[test]
    fn absent_or_null_reminders_take_the_default_and_an_empty_list_means_none() {
        let due = "2026-12-01T09:00:00Z";
        for body in [
            json!({"title": "a", "due_date": due}),
            json!({"title": "a", "due_date": due, "reminders": null}),
            json!({"title": "a"}),
        ] {
            assert_eq!(parse_create(&body, now()).expect("valid").reminders, None);
        }
        let t = parse_create(
            &json!({"title": "a", "due_date": due, "reminders": []}),
            now(),
        )
        .expect("valid");
        assert_eq!(t.reminders, Some(Vec::new()));
        // An empty list needs no due date.
        assert!(parse_create(&json!({"title": "a", "reminders": []}), now()).is_ok());
    }

    #[test]
    fn every_invalid_field_is_reported() {
        let e = parse_create(
            &json!({"title": 5, "priority": "urgent", "due_date": "tomorrow", "reminders": ["P1Y", 3], "mode": "x"}),
            now(),
        )
        .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "title",
                "priority",
                "due_date",
                "mode",
                "reminders[0]",
                "reminders[1]"
            ]
        );
        assert_eq!(
            parse_create(&json!({}), now()).unwrap_err().0[0].field,
            "title"
        );
        assert_eq!(
            parse_create(&json!([1]), now()).unwrap_err().0[0].field,
            "body"
        );
        let e =
            parse_create(&json!({"title": "a", "recurrence": "FREQ=SECONDLY"}), now()).unwrap_err();
        assert_eq!(e.0[0].field, "recurrence");
        let e = parse_create(&json!({"title": "a", "recurrence": "daily", "recurrence_end_date": "2020-01-01T00:00:00Z"}), now()).unwrap_err();
        assert_eq!(e.0[0].message, "End date must be in the future");
        let e = parse_create(&json!({"title": "a", "reminders": ["PT1H"]}), now()).unwrap_err();
        assert_eq!(e.0[0].field, "reminders");
    }

    #[test]
    fn recurring_task_gets_its_first_due_date() {
        let t = parse_create(&json!({"title": "Standup", "recurrence": "weekdays", "due_date": "2026-11-28T09:00:00Z"}), now())
            .expect("valid");
        // Saturday's DTSTART is no weekday: the first instance is Monday.
        assert_eq!(
            t.due_date,
            Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).single()
        );
    }

    #[test]
    fn patches() {
        let p = parse_patch(&json!({"title": "New", "due_date": null}), true).expect("valid");
        assert_eq!(p.due_date, Some(None));
        assert!(parse_patch(&json!({"due_date": "2026-12-01T00:00:00Z"}), false).is_err());
        assert!(parse_patch(&json!({}), true).is_err());
        assert!(parse_patch(&json!({"recurrence": "daily"}), true).is_err());
        let p = parse_patch(
            &json!({"recurrence": "weekly", "tzid": "Europe/Berlin", "mode": "fixed", "recurrence_end_date": null, "reminders": ["PT1H", "PT60M"]}),
            false,
        )
        .expect("rule edit");
        assert!(p.changes_rule());
        assert_eq!(p.end_date, Some(None));
        assert_eq!(p.reminders.map(|r| r.len()), Some(1));
        let e = parse_patch(
            &json!({"tzid": "Mars/Olympus", "reminders": ["P1Y"]}),
            false,
        )
        .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["reminders[0]", "tzid"]);
        let p = parse_patch(&json!({"reminders": null}), true).expect("clear reminders");
        assert_eq!(p.reminders, Some(Vec::new()));
        assert!(!p.changes_rule());
    }
}
