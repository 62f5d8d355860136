//! Structured logs: one JSON object per line on stderr, with the time, level, service (`APP_ID`)
//! and the request's trace id ([`crate::trace`]), so logs and traces of one request join.

use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};

/// How severe a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Normal operation worth recording.
    Info,
    /// Something failed and will be retried or repaired.
    Warn,
    /// Something failed for good (data dead-lettered, a request refused by a dependency).
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// The JSON line for `message` at `level` (without writing it).
#[must_use]
pub fn line(level: Level, message: &str) -> Value {
    let trace = crate::trace::current();
    json!({
        "time": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "level": level.name(),
        "service": crate::config::app_id(),
        "trace_id": trace.as_ref().map(|t| t.trace_id.clone()),
        "span_id": trace.as_ref().map(|t| t.span_id.clone()),
        "msg": message,
    })
}

/// Writes one log line.
pub fn write(level: Level, message: &str) {
    eprintln!("{}", line(level, message));
}

/// `log::write(Level::Info, &format!(…))`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Info, &format!($($arg)*)) };
}

/// `log::write(Level::Warn, &format!(…))`.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Warn, &format!($($arg)*)) };
}

/// `log::write(Level::Error, &format!(…))`.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Error, &format!($($arg)*)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_json_with_the_requests_trace() {
        let _serial = crate::trace::TEST_LOCK.lock();
        let ctx = crate::trace::begin(Some(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ));
        let l = line(Level::Warn, "publish of e-1 failed");
        assert_eq!(l["level"], "warn");
        assert_eq!(l["msg"], "publish of e-1 failed");
        assert_eq!(l["trace_id"], ctx.trace_id);
        assert_eq!(l["span_id"], ctx.span_id);
        assert!(l["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
}
