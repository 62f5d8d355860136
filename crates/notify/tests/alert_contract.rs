//! The documented `alerts` example events (docs/events/examples) read as the dispatcher reads
//! them: a due reminder to deliver, a cancellation to acknowledge.

use notify::alert::{read, Alert};

#[test]
fn documented_reminder_events_read_as_documented() {
    let due = read(include_bytes!(
        "../../../docs/events/examples/v1.reminder.due.json"
    ))
    .expect("valid");
    assert!(
        matches!(&due, Alert::Due(d) if d.reminder_id.as_str() == "ab0b2d07-ba13-41df-8c68-8028386d8557"
            && d.user_id == "alice"
            && d.remind_at.to_rfc3339() == "2026-11-26T07:09:03+00:00"),
        "{due:?}"
    );
    let cancelled = read(include_bytes!(
        "../../../docs/events/examples/v1.reminder.cancelled.json"
    ))
    .expect("valid");
    assert!(matches!(cancelled, Alert::Ignored(_)));
}
