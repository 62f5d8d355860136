//! W3C trace context for one request. A component instance serves one request, so the context
//! lives in a static for the instance: [`begin`] takes the caller's `traceparent` (a user's
//! client, the ingress, or Dapr delivering an event or a job) or starts a trace, and gives this
//! request a span id of its own; every sidecar call then carries `traceparent` with this span
//! as parent, so Dapr continues the trace into pub/sub, bindings and service invocation; the
//! JSON logs ([`crate::log`]) carry the trace id.

use std::sync::Mutex;

/// The trace this request belongs to and its own span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// 32 lower-case hex digits.
    pub trace_id: String,
    /// This request's span, 16 lower-case hex digits.
    pub span_id: String,
    /// The caller's span, if the request came with one.
    pub parent_id: Option<String>,
    /// Trace flags (2 hex digits; `01` sampled).
    pub flags: String,
}

impl TraceContext {
    /// The `traceparent` header for calls made by this request (version 00).
    #[must_use]
    pub fn header(&self) -> String {
        format!("00-{}-{}-{}", self.trace_id, self.span_id, self.flags)
    }
}

static CURRENT: Mutex<Option<TraceContext>> = Mutex::new(None);

/// Serialises the tests that set the instance's context (they share the static).
#[cfg(test)]
pub(crate) static TEST_LOCK: Mutex<()> = Mutex::new(());

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Reads a `traceparent` value: `(trace id, parent span id, flags)`; `None` if it is not a valid
/// version-00 header (all-zero ids are invalid).
#[must_use]
pub fn parse(value: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = value.trim().split('-').collect();
    let [version, trace, parent, flags] = parts.as_slice() else {
        return None;
    };
    let valid = is_hex(version, 2)
        && *version != "ff"
        && is_hex(trace, 32)
        && is_hex(parent, 16)
        && is_hex(flags, 2)
        && trace.bytes().any(|b| b != b'0')
        && parent.bytes().any(|b| b != b'0');
    valid.then(|| (trace.to_string(), parent.to_string(), flags.to_string()))
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if getrandom::fill(&mut buf).is_err() || buf.iter().all(|b| *b == 0) {
        // No randomness: a fixed non-zero id still keeps the request's calls together.
        buf.iter_mut().for_each(|b| *b = 0x5a);
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts this request's span from the incoming `traceparent` (or a new trace) and keeps it for
/// the instance; answers it.
pub fn begin(incoming: Option<&str>) -> TraceContext {
    let ctx = match incoming.and_then(parse) {
        Some((trace_id, parent, flags)) => TraceContext {
            trace_id,
            span_id: random_hex(8),
            parent_id: Some(parent),
            flags,
        },
        None => TraceContext {
            trace_id: random_hex(16),
            span_id: random_hex(8),
            parent_id: None,
            flags: "01".into(),
        },
    };
    if let Ok(mut current) = CURRENT.lock() {
        *current = Some(ctx.clone());
    }
    ctx
}

/// This request's trace context, once [`begin`] ran.
#[must_use]
pub fn current() -> Option<TraceContext> {
    CURRENT.lock().ok().and_then(|c| c.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_is_continued_with_a_new_span() {
        let _serial = TEST_LOCK.lock();
        let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let ctx = begin(Some(incoming));
        assert_eq!(ctx.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(ctx.parent_id.as_deref(), Some("00f067aa0ba902b7"));
        assert_ne!(ctx.span_id, "00f067aa0ba902b7");
        assert!(ctx
            .header()
            .starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert_eq!(current(), Some(ctx));
    }

    #[test]
    fn invalid_headers_start_a_new_trace() {
        let _serial = TEST_LOCK.lock();
        for bad in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
            let ctx = begin(Some(bad));
            assert!(
                ctx.parent_id.is_none() && is_hex(&ctx.trace_id, 32),
                "{bad}"
            );
        }
    }
}
