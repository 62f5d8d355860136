//! RFC 7807 `application/problem+json` answers: the one builder every component uses. A service
//! keeps only the mapping of its own error enum to a [`Problem`] (status, stable type, title,
//! detail); the body, the content type and the standard headers are written here.

use serde_json::Value;
use spin_sdk::http::Response;

/// Base of the platform's stable problem type URIs (`<base><kind>`).
pub const PROBLEM_BASE: &str = "https://todo.example/problems/";

/// One problem answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    status: u16,
    type_uri: String,
    title: String,
    detail: String,
    errors: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

impl Problem {
    /// A problem with the stable type `PROBLEM_BASE` + `kind`; a 401 also carries
    /// `WWW-Authenticate: Bearer`.
    pub fn typed(status: u16, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        let mut headers = Vec::new();
        if status == 401 {
            headers.push(("www-authenticate", "Bearer".to_string()));
        }
        Self {
            status,
            type_uri: format!("{PROBLEM_BASE}{kind}"),
            title: title.to_string(),
            detail: detail.into(),
            errors: None,
            headers,
        }
    }

    /// A problem of type `about:blank` (the HTTP status says it all).
    pub fn blank(status: u16, title: &str, detail: impl Into<String>) -> Self {
        Self {
            status,
            type_uri: "about:blank".to_string(),
            title: title.to_string(),
            detail: detail.into(),
            errors: None,
            headers: Vec::new(),
        }
    }

    /// Adds the field-level `errors` member.
    #[must_use]
    pub fn with_errors(mut self, errors: Value) -> Self {
        self.errors = Some(errors);
        self
    }

    /// Adds a response header.
    #[must_use]
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut body = serde_json::json!({
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        });
        if let Some(errors) = &self.errors {
            body["errors"] = errors.clone();
        }
        body
    }

    /// The response.
    pub fn response(&self) -> Response {
        let mut b = Response::builder();
        b.status(self.status)
            .header("content-type", "application/problem+json");
        for (name, value) in &self.headers {
            b.header(*name, value.as_str());
        }
        b.body(self.body().to_string()).build()
    }
}

/// Builds an `application/problem+json` response of type `about:blank`.
pub fn response(status: u16, title: &str, detail: &str) -> Response {
    Problem::blank(status, title, detail).response()
}
