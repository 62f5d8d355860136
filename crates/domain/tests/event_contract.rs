//! The documented example events (docs/events/examples) parse as consumers read them, also
//! with fields this version does not know, in the envelope and in `data`.

use domain::event::TaskEventData;
use events::CloudEvent;
use serde_json::{json, Value};

const EXAMPLES: [&str; 4] = [
    include_str!("../../../docs/events/examples/v1.task.updated.json"),
    include_str!("../../../docs/events/examples/v1.task.completed.json"),
    include_str!("../../../docs/events/examples/v1.task.updated.split.json"),
    include_str!("../../../docs/events/examples/v1.reminder.planned.json"),
];

fn with_unknown_fields(text: &str) -> Value {
    let mut v: Value = serde_json::from_str(text).expect("example is JSON");
    v["traceparent"] = json!("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    v["futureattribute"] = json!({"nested": [1, 2]});
    v["data"]["added_in_v1_5"] = json!("ignored");
    v["data"]["task"]["labels"] = json!(["home"]);
    v["data"]["task"]["estimate_minutes"] = json!(30);
    v
}

#[test]
fn consumers_ignore_unknown_fields() {
    for text in EXAMPLES {
        let plain = CloudEvent::from_json(text.as_bytes()).expect("example envelope");
        let extended = with_unknown_fields(text);
        let event = CloudEvent::from_json(extended.to_string().as_bytes())
            .expect("envelope with unknown fields");
        assert_eq!(event.id, plain.id);
        assert!(
            event.event_type.starts_with("v1.task.") || event.event_type == "v1.reminder.planned"
        );
        let data = TaskEventData::from_value(&event.data).expect("data with unknown fields");
        assert_eq!(
            data,
            TaskEventData::from_value(&plain.data).expect("plain data")
        );
        assert_eq!(data.task.task_id, data.task_id);
        assert_eq!(event.partitionkey.as_deref(), Some(data.user_id.as_str()));
    }
}

#[test]
fn a_split_names_the_old_and_the_new_series() {
    let event = CloudEvent::from_json(EXAMPLES[2].as_bytes()).expect("split example");
    let data = TaskEventData::from_value(&event.data).expect("data");
    assert!(data.rule_changed);
    assert_eq!(data.scope.as_deref(), Some("following"));
    let new = data.new_series_id.expect("new series id");
    assert_ne!(data.series_id.as_deref(), Some(new.as_str()));
    // Older events carry neither field.
    let plain = CloudEvent::from_json(EXAMPLES[1].as_bytes()).expect("completed example");
    let data = TaskEventData::from_value(&plain.data).expect("data");
    assert!(!data.rule_changed && data.new_series_id.is_none());
}

#[test]
fn a_missing_required_field_is_still_an_error() {
    let mut v: Value = serde_json::from_str(EXAMPLES[0]).expect("json");
    v["data"].as_object_mut().expect("object").remove("task_id");
    assert!(TaskEventData::from_value(&v["data"]).is_err());
}
