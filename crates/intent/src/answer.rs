//! What the chat says back once an action ran: short, specific sentences in the user's zone.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::range::DueRange;

/// A task as the chat shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskLine {
    /// Title.
    pub title: String,
    /// Due instant, if any.
    pub due: Option<DateTime<Utc>>,
    /// Whether it belongs to a series.
    pub recurring: bool,
}

/// "Fri 27 Nov, 3:00 PM" in `tz`.
pub fn format_due(due: DateTime<Utc>, tz: Tz) -> String {
    due.with_timezone(&tz)
        .format("%a %-d %b, %-I:%M %p")
        .to_string()
}

/// After a create: "Added "Pay rent" (monthly on the 1st at 9 AM), first due Tue 1 Dec, 9:00 AM."
pub fn created(
    title: &str,
    describe: Option<&str>,
    due: Option<DateTime<Utc>>,
    reminders: usize,
    tz: Tz,
) -> String {
    let mut text = format!("Added \"{title}\"");
    if let Some(rule) = describe {
        text.push_str(&format!(" ({rule})"));
    }
    match (due, describe.is_some()) {
        (Some(d), true) => text.push_str(&format!(", first due {}", format_due(d, tz))),
        (Some(d), false) => text.push_str(&format!(", due {}", format_due(d, tz))),
        (None, _) => {}
    }
    match reminders {
        0 => {}
        1 => text.push_str(", with a reminder"),
        n => text.push_str(&format!(", with {n} reminders")),
    }
    text.push('.');
    text
}

/// The answer to "what's due …": a count and one line per task.
pub fn listed(range: DueRange, tasks: &[TaskLine], more: bool, tz: Tz) -> String {
    if tasks.is_empty() {
        return format!("Nothing {}.", range.phrase());
    }
    let noun = if tasks.len() == 1 { "task" } else { "tasks" };
    let count = if more {
        format!("More than {}", tasks.len())
    } else {
        tasks.len().to_string()
    };
    let mut text = format!("{count} {noun} {}:", range.phrase());
    for t in tasks {
        text.push_str(&format!("\n• {}", t.title));
        if let Some(d) = t.due {
            text.push_str(&format!(" — {}", format_due(d, tz)));
        }
        if t.recurring {
            text.push_str(" (repeats)");
        }
    }
    text
}

/// After a completion; names the next occurrence when the task repeats.
pub fn completed(title: &str, recurring: bool) -> String {
    if recurring {
        format!("Completed \"{title}\". The next one will be created for you.")
    } else {
        format!("Completed \"{title}\".")
    }
}

/// After a move.
pub fn moved(title: &str, due: DateTime<Utc>, tz: Tz) -> String {
    format!("Moved \"{title}\" to {}.", format_due(due, tz))
}

/// After ending a series.
pub fn ended(title: &str, last_day: chrono::NaiveDate) -> String {
    format!(
        "\"{title}\" now ends after {}.",
        last_day.format("%a %-d %b %Y")
    )
}

/// After changing how a task repeats.
pub fn repeats(title: &str, describe: &str) -> String {
    format!("\"{title}\" now repeats {describe}.")
}

/// After deleting one task or the future of a series.
pub fn deleted(title: &str, future: bool) -> String {
    if future {
        format!("Deleted all future \"{title}\" occurrences; completed ones stay in your history.")
    } else {
        format!("Deleted \"{title}\".")
    }
}

/// What the chat can do.
pub fn help() -> String {
    format!(
        "I can add, list, complete, move and delete tasks, including repeating ones. Try: {}",
        crate::command::EXAMPLES
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn answers_name_the_task_and_the_local_time() {
        let tz = chrono_tz::Europe::Berlin;
        assert_eq!(
            created("Pay rent", Some("monthly on the 1st at 9 AM"), Some(at(8)), 1, tz),
            "Added \"Pay rent\" (monthly on the 1st at 9 AM), first due Tue 1 Dec, 9:00 AM, with a reminder."
        );
        assert_eq!(
            created("Buy milk", None, None, 0, tz),
            "Added \"Buy milk\"."
        );
        assert_eq!(
            moved("Dentist", at(14), tz),
            "Moved \"Dentist\" to Tue 1 Dec, 3:00 PM."
        );
    }

    #[test]
    fn lists_count_and_show_each_task() {
        let tz = chrono_tz::UTC;
        let tasks = [
            TaskLine {
                title: "Standup".into(),
                due: Some(at(9)),
                recurring: true,
            },
            TaskLine {
                title: "Taxes".into(),
                due: None,
                recurring: false,
            },
        ];
        assert_eq!(
            listed(DueRange::ThisWeek, &tasks, false, tz),
            "2 tasks due this week:\n• Standup — Tue 1 Dec, 9:00 AM (repeats)\n• Taxes"
        );
        assert_eq!(
            listed(DueRange::Today, &[], false, tz),
            "Nothing due today."
        );
    }
}
