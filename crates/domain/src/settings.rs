//! A user's settings: the default reminders a new task with a due date gets when its create
//! request has no `reminders` field, and the address reminder emails go to.

use serde_json::Value;

use crate::email::EmailAddress;
use crate::input::parse_offsets;
use crate::types::{ReminderOffset, ValidationErrors};

/// The fields `PUT /api/users/me/settings` accepts.
pub const FIELDS: [&str; 2] = ["default_reminders", "email"];

/// A validated settings body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserSettings {
    /// Offsets before due (longest first) applied to a new task that gives no `reminders` (an empty list: none).
    pub default_reminders: Vec<ReminderOffset>,
    /// The address reminder emails go to; `None` (absent or null): the token's `email` claim,
    /// if any.
    pub email: Option<EmailAddress>,
}

/// Parses a `PUT /api/users/me/settings` body: an object with exactly the fields of
/// [`FIELDS`]; `default_reminders` is required, `email` optional (a PUT replaces the settings,
/// so an absent `email` removes the one set before); unknown fields are refused.
pub fn parse_settings(body: &Value) -> Result<UserSettings, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let Some(map) = body.as_object() else {
        errors.push("body", "the body must be a JSON object");
        return Err(errors);
    };
    for key in map.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        errors.push(
            key,
            format!(
                "unknown field {key}; the settings are: {}",
                FIELDS.join(", ")
            ),
        );
    }
    let mut default_reminders = match map.get("default_reminders") {
        None => {
            errors.push(
                "default_reminders",
                "default_reminders is required (an empty list removes the default)",
            );
            Vec::new()
        }
        Some(Value::Null) => {
            errors.push(
                "default_reminders",
                "default_reminders must be a list of ISO 8601 durations (an empty list removes the default)",
            );
            Vec::new()
        }
        given => parse_offsets("default_reminders", given, &mut errors),
    };
    let email = match map.get("email") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match EmailAddress::parse(s) {
            Ok(e) => Some(e),
            Err(e) => {
                errors.push("email", format!("email: {e}"));
                None
            }
        },
        Some(_) => {
            errors.push("email", "email must be a string (one address) or null");
            None
        }
    };
    // Stored as answered: longest first.
    default_reminders.sort_by_key(|o| std::cmp::Reverse(o.seconds()));
    if errors.is_empty() {
        Ok(UserSettings {
            default_reminders,
            email,
        })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::MAX_REMINDERS;
    use serde_json::json;

    fn fields(body: Value) -> Vec<String> {
        parse_settings(&body)
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn valid_settings_keep_each_offset_once() {
        let s = parse_settings(&json!({"default_reminders": ["pt1h", "PT0S", "P1D", "PT60M"]}))
            .expect("valid");
        let offsets: Vec<&str> = s.default_reminders.iter().map(|o| o.as_str()).collect();
        assert_eq!(offsets, ["P1D", "PT1H", "PT0S"]);
        assert_eq!(
            parse_settings(&json!({"default_reminders": []})),
            Ok(UserSettings::default())
        );
        let s = parse_settings(&json!({"default_reminders": [], "email": "a@example.com"}))
            .expect("valid");
        assert_eq!(
            s.email.map(|e| e.as_str().to_string()),
            Some("a@example.com".into())
        );
        assert_eq!(
            parse_settings(&json!({"default_reminders": [], "email": null})),
            Ok(UserSettings::default())
        );
    }

    #[test]
    fn every_invalid_field_is_reported() {
        assert_eq!(fields(json!([])), ["body"]);
        assert_eq!(fields(json!({})), ["default_reminders"]);
        assert_eq!(
            fields(json!({"default_reminders": null})),
            ["default_reminders"]
        );
        assert_eq!(
            fields(json!({"default_reminders": "PT1H"})),
            ["default_reminders"]
        );
        assert_eq!(
            fields(json!({"default_reminders": ["P1Y", 5, "PT1H", "P400D"], "theme": "dark"})),
            [
                "theme",
                "default_reminders[0]",
                "default_reminders[1]",
                "default_reminders[3]"
            ]
        );
        for bad in [
            json!(5),
            json!(["a@example.com"]),
            json!("a@example.com, b@example.com"),
            json!("nobody"),
            json!(format!("{}@example.com", "a".repeat(250))),
        ] {
            assert_eq!(
                fields(json!({"default_reminders": [], "email": bad})),
                ["email"]
            );
        }
        let many: Vec<String> = (0..=MAX_REMINDERS).map(|i| format!("PT{i}M")).collect();
        assert_eq!(
            fields(json!({ "default_reminders": many })),
            ["default_reminders"]
        );
    }
}
