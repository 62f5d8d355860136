//! Failures as RFC 7807 problem+json answers with stable types.

use component_kit::bearer::AuthFailure;
use component_kit::dapr::DaprError;
use component_kit::problem::Problem;
use spin_sdk::http::Response;

/// Everything a chat request can fail with.
#[derive(Debug)]
pub enum ChatError {
    /// 400: the body cannot be read or a field is invalid.
    BadRequest(String),
    /// 401: no valid token.
    Unauthorized(String),
    /// 404: no such conversation for this user.
    NotFound,
    /// 409: the conversation kept changing under concurrent writes.
    Conflict,
    /// 413: the body is larger than the service reads.
    PayloadTooLarge {
        /// The body's size in bytes.
        size: usize,
        /// The largest accepted size in bytes.
        limit: usize,
    },
    /// 503 with `Retry-After`: the chat or the Task API is overloaded; nothing was done.
    Overloaded {
        /// Seconds to wait.
        retry_after: i64,
    },
    /// 503: the sidecar, the state store or the Task API failed, or the service is
    /// misconfigured. The text is logged, never sent: it may hold Dapr's or PostgreSQL's own
    /// error and internal addresses.
    Upstream(String),
}

/// The detail of every 503 answer.
pub const UPSTREAM_DETAIL: &str = "a service the chat relies on failed; try again shortly";

impl From<DaprError> for ChatError {
    fn from(e: DaprError) -> Self {
        Self::Upstream(e.to_string())
    }
}

impl From<AuthFailure> for ChatError {
    fn from(e: AuthFailure) -> Self {
        match e {
            AuthFailure::Unauthorized(e) => Self::Unauthorized(e.to_string()),
            AuthFailure::Upstream(e) => Self::Upstream(e.to_string()),
            AuthFailure::Misconfigured(e) => Self::Upstream(format!("misconfigured: {e}")),
        }
    }
}

impl ChatError {
    fn parts(&self) -> (u16, &'static str, &'static str, String) {
        match self {
            Self::BadRequest(d) => (400, "bad-request", "The request is malformed", d.clone()),
            Self::Unauthorized(d) => (401, "unauthorized", "Authentication required", d.clone()),
            Self::NotFound => (404, "not-found", "Not found", "no such conversation".into()),
            Self::Conflict => (
                409,
                "conversation-conflict",
                "The conversation changed concurrently",
                "another message was saved at the same time; send yours again".into(),
            ),
            Self::PayloadTooLarge { size, limit } => (
                413,
                "payload-too-large",
                "The request body is too large",
                format!("the body has {size} bytes; at most {limit} are accepted"),
            ),
            Self::Overloaded { retry_after } => (
                503,
                "overloaded",
                "The service is overloaded",
                format!("nothing was done; send the message again after {retry_after} s"),
            ),
            Self::Upstream(_) => (
                503,
                "upstream-unavailable",
                "A dependency is unavailable",
                UPSTREAM_DETAIL.into(),
            ),
        }
    }
}

/// Turns a handler result into the HTTP answer.
pub fn respond(result: Result<Response, ChatError>) -> Response {
    match result {
        Ok(r) => r,
        Err(e) => {
            if let ChatError::Upstream(cause) = &e {
                component_kit::error!("chat upstream failure: {cause}");
            }
            let (status, kind, title, detail) = e.parts();
            let mut p = Problem::typed(status, kind, title, detail);
            if let ChatError::Overloaded { retry_after } = &e {
                p = p.with_header("retry-after", retry_after.to_string());
            }
            p.response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &Response) -> serde_json::Value {
        serde_json::from_slice(r.body()).expect("problem json")
    }

    #[test]
    fn a_503_carries_no_raw_dapr_or_database_text() {
        let raw = r#"Dapr answered 500: {"errorCode":"ERR_STATE_GET","message":"ERROR: permission denied for table dapr_chat_state (SQLSTATE 42501)"} at http://10.0.0.7:3503"#;
        let r = respond(Err(ChatError::Upstream(raw.into())));
        assert_eq!(*r.status(), 503);
        let b = body(&r);
        assert_eq!(b["detail"], UPSTREAM_DETAIL);
        let text = b.to_string();
        for leak in [
            "ERR_",
            "SQLSTATE",
            "permission",
            "10.0.0.7",
            "dapr_chat_state",
        ] {
            assert!(!text.contains(leak), "{text}");
        }
    }

    #[test]
    fn an_oversized_body_is_a_413_problem() {
        let r = respond(Err(ChatError::PayloadTooLarge {
            size: 2_097_152,
            limit: 16_384,
        }));
        assert_eq!(*r.status(), 413);
        assert_eq!(
            body(&r)["type"],
            "https://todo.example/problems/payload-too-large"
        );
    }
}
