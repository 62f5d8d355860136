//! Dapr service invocation and the state store, on the same client as `dapr.rs`. Unlike the
//! other calls, an invoked app's own error answers (4xx problem+json) are returned, not turned
//! into errors, so a caller can relay them (the dashboard's proxy does, headers included). Every
//! call is one bounded request ([`crate::dapr::send_bounded`]): an invoked app that hangs fails
//! the call after the timeout.

use serde_json::Value;
use spin_sdk::http::{Method, Request, Response};

use crate::dapr::{encode, Dapr, DaprError};

/// An answer from an invoked app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoked {
    /// HTTP status the app answered.
    pub status: u16,
    /// Its body.
    pub body: Vec<u8>,
    /// Its headers (names in lower case), in the order received.
    pub headers: Vec<(String, String)>,
}

impl Invoked {
    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the app answered 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A stored state value and its ETag.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The value (JSON).
    pub value: Value,
    /// The ETag to pass back on save for first-write-wins concurrency.
    pub etag: Option<String>,
}

impl Dapr {
    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Response, DaprError> {
        let mut builder = Request::builder();
        builder
            .method(method)
            .uri(format!("{}{}", self.base(), path));
        for (name, value) in headers {
            builder.header(*name, *value);
        }
        // The request's trace continues into the invoked app.
        if let Some(trace) = crate::trace::current() {
            if !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("traceparent"))
            {
                builder.header("traceparent", trace.header());
            }
        }
        crate::dapr::send_bounded(builder.body(body).build())
            .await
            .map_err(|e| DaprError::Unreachable(format!("{}: {e}", self.base())))
    }

    /// Calls `path` (with query) on app `app_id` through service invocation, forwarding
    /// `headers`. Dapr's own failures (app not found, sidecar errors with a Dapr error code)
    /// are errors; the app's answers, whatever their status, are returned.
    pub async fn invoke(
        &self,
        app_id: &str,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Invoked, DaprError> {
        let path = format!(
            "/v1.0/invoke/{}/method/{}",
            encode(app_id),
            path.trim_start_matches('/')
        );
        let resp = self.send_raw(method, &path, headers, body).await?;
        let status = *resp.status();
        let headers = resp
            .headers()
            .filter_map(|(n, v)| Some((n.to_ascii_lowercase(), v.as_str()?.to_string())))
            .collect();
        let body = resp.into_body();
        // daprd's own errors carry an errorCode such as ERR_DIRECT_INVOKE.
        let from_dapr = status >= 500
            && serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("errorCode").cloned())
                .is_some();
        if from_dapr {
            return Err(DaprError::Status {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        Ok(Invoked {
            status,
            body,
            headers,
        })
    }

    /// Reads a key from a state store; `None` if absent.
    pub async fn state_get(&self, store: &str, key: &str) -> Result<Option<Stored>, DaprError> {
        let path = format!("/v1.0/state/{}/{}", encode(store), encode(key));
        let resp = self.send_raw(Method::Get, &path, &[], Vec::new()).await?;
        let status = *resp.status();
        let etag = resp
            .header("etag")
            .and_then(|h| h.as_str())
            .map(str::to_string);
        let body = resp.into_body();
        match status {
            204 => Ok(None),
            200 if body.is_empty() => Ok(None),
            200 => Ok(Some(Stored {
                value: serde_json::from_slice(&body)
                    .map_err(|e| DaprError::Decode(e.to_string()))?,
                etag,
            })),
            _ => Err(DaprError::Status {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            }),
        }
    }

    /// Saves a key with first-write-wins concurrency: with `etag` the save only succeeds if the
    /// stored value still has it (answers false on a conflict); without, the key must be new.
    pub async fn state_save(
        &self,
        store: &str,
        key: &str,
        value: &Value,
        etag: Option<&str>,
    ) -> Result<bool, DaprError> {
        let mut item = serde_json::json!({
            "key": key,
            "value": value,
            "options": {"concurrency": "first-write", "consistency": "strong"},
        });
        if let Some(etag) = etag {
            item["etag"] = Value::String(etag.to_string());
        }
        let path = format!("/v1.0/state/{}", encode(store));
        let body = Value::Array(vec![item]).to_string().into_bytes();
        let resp = self
            .send_raw(
                Method::Post,
                &path,
                &[("content-type", "application/json")],
                body,
            )
            .await?;
        let status = *resp.status();
        match status {
            200..=299 => Ok(true),
            409 => Ok(false),
            _ => Err(DaprError::Status {
                status,
                body: String::from_utf8_lossy(&resp.into_body()).into_owned(),
            }),
        }
    }
}
