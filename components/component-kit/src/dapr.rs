//! The one Dapr client of the platform's components: every sidecar call (PostgreSQL binding,
//! pub/sub, secrets, jobs, health) is built here, on the configured `DAPR_URL`.
//!
//! Every request to the sidecar is bounded: the WASI HTTP request options give it a connect
//! timeout and a first-byte / between-bytes timeout (`DAPR_TIMEOUT_SECS`, see
//! [`config::dapr_timeout`]), so a sidecar that hangs (e.g. on a database that is shutting down)
//! fails the request instead of holding it until the host's own 600 s default. Two calls may send
//! more than one request: a binding statement and a secret read are sent again while the sidecar
//! answers that the component is reloading (up to `RELOAD_RETRIES` more, `RELOAD_RETRY_PAUSE`
//! apart), so their worst case is that many timeouts, not one.

use std::future::Future;
use std::task::Poll;

use futures::SinkExt;
use serde_json::{json, Value};
use spin_sdk::http::conversions::{TryFromIncomingResponse, TryIntoOutgoingRequest};
use spin_sdk::http::{IncomingResponse, Method, Request, Response};
use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{FutureIncomingResponse, RequestOptions};
use store::guard as completion;

use crate::config;

/// Why a Dapr call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaprError {
    /// The sidecar could not be reached.
    Unreachable(String),
    /// The sidecar answered with an error status.
    Status {
        /// HTTP status from daprd.
        status: u16,
        /// The body (Dapr's `{"errorCode","message"}`).
        body: String,
    },
    /// The answer was not what the API documents.
    Decode(String),
    /// A statement's answer did not prove it ran to completion (see
    /// [`store::guard`]): it failed while executing, or its connection was lost.
    Incomplete(String),
}

impl std::fmt::Display for DaprError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreachable(e) => write!(f, "Dapr sidecar unreachable: {e}"),
            Self::Status { status, body } => write!(f, "Dapr answered {status}: {body}"),
            Self::Decode(e) => write!(f, "unexpected answer from Dapr: {e}"),
            Self::Incomplete(e) => write!(f, "database statement not confirmed: {e}"),
        }
    }
}

impl std::error::Error for DaprError {}

impl DaprError {
    /// What a caller may be told about this failure: its kind only, never the sidecar's
    /// address or the raw answer of Dapr or PostgreSQL (log the error itself instead).
    pub fn public_detail(&self) -> &'static str {
        match self {
            Self::Unreachable(e) if e.to_ascii_lowercase().contains("timeout") => {
                "the Dapr sidecar did not answer in time"
            }
            Self::Unreachable(_) => "the Dapr sidecar could not be reached",
            Self::Status { .. } => "a backing service answered with an error",
            Self::Decode(_) => "a backing service answered unexpectedly",
            Self::Incomplete(_) => "a database statement could not be confirmed",
        }
    }

    /// True if the sidecar refused a binding call because the binding was being reloaded
    /// (Dapr's HotReload closes a changed component, then initialises it again): the statement
    /// never reached the database, so sending it again is safe.
    pub fn is_binding_reloading(&self) -> bool {
        matches!(self, Self::Status { status: 500, body } if body.contains("ERR_INVOKE_OUTPUT_BINDING")
            && (RELOADING.iter().any(|m| body.contains(m))
                || (body.contains("failed to connect") && DIAL_CANCELLED.iter().any(|m| body.contains(m)))))
    }

    /// True if the sidecar refused a secret read because its secret stores were being reloaded
    /// (HotReload of the store's component: for a moment no store, or not this one, exists).
    pub fn is_secret_store_reloading(&self) -> bool {
        matches!(self, Self::Status { body, .. } if body.contains("ERR_SECRET_STORES_NOT_CONFIGURED")
            || body.contains("ERR_SECRET_STORE_NOT_FOUND"))
    }

    /// True if a statement's answer did not prove it ran to completion.
    pub fn is_incomplete(&self) -> bool {
        matches!(self, Self::Incomplete(_))
    }

    /// True if a SQL statement failed on a unique constraint (SQLSTATE 23505).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Status { body, .. } if body.contains("SQLSTATE 23505"))
    }
}

/// What daprd answers for a binding in the middle of a hot reload: removed from the component
/// store, closed before the call ran, or its connection pool closed before the call acquired a
/// connection (or while it was still connecting: `failed to connect` and one of
/// [`DIAL_CANCELLED`]).
const RELOADING: [&str; 3] = [
    "couldn't find output binding",
    "component is closed",
    "closed pool",
];

/// How a connection attempt cut short by the pool's closing reads: pgx's context error, or Go's
/// net error when the dial itself was cancelled.
const DIAL_CANCELLED: [&str; 2] = ["context canceled", "operation was canceled"];

/// How often, and how far apart, a binding call refused mid-reload is sent again (a reload takes
/// a few tens of milliseconds).
const RELOAD_RETRIES: u32 = 40;
const RELOAD_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// A client for the sidecar at `base` (e.g. `http://127.0.0.1:3500`).
#[derive(Debug, Clone)]
pub struct Dapr {
    base: String,
}

impl Default for Dapr {
    fn default() -> Self {
        Self::from_env()
    }
}

impl Dapr {
    /// The sidecar configured by `DAPR_URL` / `DAPR_HTTP_PORT`.
    pub fn from_env() -> Self {
        Self {
            base: config::dapr_url(),
        }
    }

    /// The sidecar's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), DaprError> {
        let mut builder = Request::builder();
        builder
            .method(method)
            .uri(format!("{}{}", self.base, path))
            .header("content-type", content_type);
        // The request's trace continues through the sidecar (pub/sub, bindings, invocation).
        if let Some(trace) = crate::trace::current() {
            builder.header("traceparent", trace.header());
        }
        let req = builder.body(body).build();
        let resp = send_bounded(req)
            .await
            .map_err(|e| DaprError::Unreachable(format!("{}: {e}", self.base)))?;
        let status = *resp.status();
        let body = resp.into_body();
        if (200..300).contains(&status) {
            Ok((status, body))
        } else {
            Err(DaprError::Status {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            })
        }
    }

    async fn binding(
        &self,
        binding: &str,
        operation: &str,
        sql: &str,
        params: &str,
    ) -> Result<Vec<u8>, DaprError> {
        let body = json!({"operation": operation, "metadata": {"sql": sql, "params": params}});
        let path = format!("/v1.0/bindings/{binding}");
        self.call_across_reload(
            Method::Post,
            &path,
            body.to_string().into_bytes(),
            DaprError::is_binding_reloading,
        )
        .await
        .map(|(_, body)| body)
    }

    /// [`Self::call`] (JSON), sent again up to [`RELOAD_RETRIES`] times [`RELOAD_RETRY_PAUSE`]
    /// apart while the sidecar answers an error `reloading` says a hot reload caused (the call
    /// never reached the component's backend, so repeating it is safe).
    async fn call_across_reload(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        reloading: fn(&DaprError) -> bool,
    ) -> Result<(u16, Vec<u8>), DaprError> {
        let mut attempt = 0;
        loop {
            match self
                .call(method.clone(), path, "application/json", body.clone())
                .await
            {
                Err(e) if reloading(&e) && attempt < RELOAD_RETRIES => {
                    attempt += 1;
                    std::thread::sleep(RELOAD_RETRY_PAUSE);
                }
                other => return other,
            }
        }
    }

    /// Runs a query through a `bindings.postgresql` binding; answers its rows by column name.
    /// `params` is the JSON array text of the bound values. The statement is sent
    /// [`guard`](store::guard::guard)ed, so a statement that failed while executing (which
    /// the binding answers like an empty result) is [`DaprError::Incomplete`], never "no rows".
    pub async fn query(
        &self,
        binding: &str,
        sql: &str,
        params: &str,
    ) -> Result<Vec<completion::Row>, DaprError> {
        let guarded = completion::guard(sql).map_err(|e| DaprError::Decode(e.to_string()))?;
        let body = self.binding(binding, "query", &guarded, params).await?;
        let rows = match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Array(rows)) => rows
                .into_iter()
                .map(|r| match r {
                    Value::Array(cols) => cols,
                    other => vec![other],
                })
                .collect(),
            Ok(Value::Null) => Vec::new(),
            Ok(other) => return Err(DaprError::Decode(format!("expected rows, got {other}"))),
            Err(_) if body.is_empty() => Vec::new(),
            Err(e) => return Err(DaprError::Decode(e.to_string())),
        };
        completion::verify(rows).map_err(|e| DaprError::Incomplete(e.to_string()))
    }

    /// Runs a statement through a `bindings.postgresql` binding (`exec`, no rows).
    pub async fn exec(&self, binding: &str, sql: &str, params: &str) -> Result<(), DaprError> {
        self.binding(binding, "exec", sql, params).await.map(|_| ())
    }

    /// Invokes an output binding (`POST /v1.0/bindings/{name}`) with a request body
    /// `{"operation", "data", "metadata"}`; answers the binding's response body.
    pub async fn invoke_binding(
        &self,
        binding: &str,
        request: &Value,
    ) -> Result<Vec<u8>, DaprError> {
        let path = format!("/v1.0/bindings/{}", encode(binding));
        Ok(self
            .call(
                Method::Post,
                &path,
                "application/json",
                request.to_string().into_bytes(),
            )
            .await?
            .1)
    }

    /// Publishes a structured CloudEvent (its `id` is kept) with a Kafka partition key.
    pub async fn publish_cloudevent(
        &self,
        pubsub: &str,
        topic: &str,
        event_json: &str,
        partition_key: &str,
    ) -> Result<(), DaprError> {
        let path = format!(
            "/v1.0/publish/{}/{}?metadata.partitionKey={}",
            encode(pubsub),
            encode(topic),
            encode(partition_key)
        );
        self.call(
            Method::Post,
            &path,
            "application/cloudevents+json",
            event_json.as_bytes().to_vec(),
        )
        .await
        .map(|_| ())
    }

    /// Publishes structured CloudEvents in one call (`/v1.0-alpha1/publish/bulk`), each with
    /// its own Kafka partition key: `events` holds `(CloudEvent JSON, partition key)` pairs.
    /// Any failed entry makes the whole call an error (a retry republishes with the same ids).
    pub async fn publish_bulk_cloudevents(
        &self,
        pubsub: &str,
        topic: &str,
        events: &[(String, String)],
    ) -> Result<(), DaprError> {
        let mut entries = Vec::with_capacity(events.len());
        for (i, (event, key)) in events.iter().enumerate() {
            let event: Value =
                serde_json::from_str(event).map_err(|e| DaprError::Decode(e.to_string()))?;
            entries.push(json!({
                "entryId": i.to_string(),
                "event": event,
                "contentType": "application/cloudevents+json",
                "metadata": {"partitionKey": key},
            }));
        }
        let path = format!(
            "/v1.0-alpha1/publish/bulk/{}/{}",
            encode(pubsub),
            encode(topic)
        );
        self.call(
            Method::Post,
            &path,
            "application/json",
            Value::Array(entries).to_string().into_bytes(),
        )
        .await
        .map(|_| ())
    }

    /// Reads one secret; `None` if the store does not have the key.
    /// A store refused mid-reload is asked again (up to 40 × 50 ms), like a reloading binding.
    pub async fn secret(&self, store: &str, key: &str) -> Result<Option<String>, DaprError> {
        let path = format!("/v1.0/secrets/{store}/{}", encode(key));
        match self
            .call_across_reload(
                Method::Get,
                &path,
                Vec::new(),
                DaprError::is_secret_store_reloading,
            )
            .await
        {
            Ok((_, body)) => {
                let v: Value =
                    serde_json::from_slice(&body).map_err(|e| DaprError::Decode(e.to_string()))?;
                Ok(v.get(key).and_then(Value::as_str).map(str::to_string))
            }
            Err(DaprError::Status { body, .. })
                if body.contains("ERR_SECRET_GET") && body.contains("not found") =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Schedules a job (`POST /v1.0-alpha1/jobs/{name}`); `job` holds `schedule` or
    /// `dueTime`, and optionally `repeats`, `data`, `overwrite`, `failure_policy`.
    /// Answers false if a job of that name exists and `overwrite` was not set (409).
    pub async fn schedule_job(&self, name: &str, job: &Value) -> Result<bool, DaprError> {
        let path = format!("/v1.0-alpha1/jobs/{}", encode(name));
        match self
            .call(
                Method::Post,
                &path,
                "application/json",
                job.to_string().into_bytes(),
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(DaprError::Status { status: 409, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Reads a job (`GET /v1.0-alpha1/jobs/{name}`): the sidecar's status and body, whatever
    /// the status (Dapr 1.18 answers a missing job with 500); only an unreachable sidecar is an
    /// error.
    pub async fn get_job(&self, name: &str) -> Result<(u16, Vec<u8>), DaprError> {
        let path = format!("/v1.0-alpha1/jobs/{}", encode(name));
        match self
            .call(Method::Get, &path, "application/json", Vec::new())
            .await
        {
            Ok(answer) => Ok(answer),
            Err(DaprError::Status { status, body }) => Ok((status, body.into_bytes())),
            Err(e) => Err(e),
        }
    }

    /// Deletes a job (a missing job is not an error).
    pub async fn delete_job(&self, name: &str) -> Result<(), DaprError> {
        let path = format!("/v1.0-alpha1/jobs/{}", encode(name));
        self.call(Method::Delete, &path, "application/json", Vec::new())
            .await
            .map(|_| ())
    }

    /// The sidecar's own health.
    pub async fn healthy(&self) -> Result<(), DaprError> {
        self.call(Method::Get, "/v1.0/healthz", "application/json", Vec::new())
            .await
            .map(|_| ())
    }
}

/// Sends a request like `spin_sdk::http::send`, with the WASI HTTP request options set:
/// connect timeout [`config::DAPR_CONNECT_TIMEOUT`], first-byte and between-bytes timeout
/// [`config::dapr_timeout`]. A timeout is an error (`ConnectionTimeout`, `HttpResponseTimeout`).
pub async fn send_bounded(req: Request) -> Result<Response, String> {
    let (request, body) = req
        .try_into_outgoing_request()
        .map_err(|e| format!("request: {e}"))?;
    let options = RequestOptions::new();
    let nanos = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    // A host that does not support an option answers Err; the call then keeps its default.
    let _ = options.set_connect_timeout(Some(nanos(config::DAPR_CONNECT_TIMEOUT)));
    let _ = options.set_first_byte_timeout(Some(nanos(config::dapr_timeout())));
    let _ = options.set_between_bytes_timeout(Some(nanos(config::dapr_timeout())));
    let sink = body.as_ref().map(|_| request.take_body());
    let pending = outgoing_handler::handle(request, Some(options)).map_err(|e| format!("{e:?}"))?;
    if let (Some(mut sink), Some(bytes)) = (sink, body) {
        sink.send(bytes)
            .await
            .map_err(|e| format!("request body: {e}"))?;
    }
    let incoming = response(pending).await?;
    Response::try_from_incoming_response(incoming)
        .await
        .map_err(|e| format!("response body: {e}"))
}

/// Waits for an outgoing request's response on the Spin executor.
fn response(
    pending: FutureIncomingResponse,
) -> impl Future<Output = Result<IncomingResponse, String>> {
    // Keeps the executor's registration of the waker until the response arrives (dropping the
    // future cancels it).
    let mut waiting: Option<spin_executor::CancelOnDropToken> = None;
    std::future::poll_fn(move |cx| match pending.get() {
        Some(Ok(Ok(r))) => Poll::Ready(Ok(r)),
        Some(Ok(Err(code))) => Poll::Ready(Err(format!("{code:?}"))),
        Some(Err(())) => Poll::Ready(Err("response already taken".to_string())),
        None => {
            waiting.replace(spin_executor::CancelOnDropToken::from(
                spin_executor::push_waker_and_get_token(pending.subscribe(), cx.waker().clone()),
            ));
            Poll::Pending
        }
    })
}

/// What [`encode`] escapes: everything but the unreserved characters of RFC 3986.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a path segment or query value.
pub fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_escapes_all_but_unreserved_characters() {
        assert_eq!(encode("a-Z_0.~"), "a-Z_0.~");
        assert_eq!(encode("a b/c?d&é"), "a%20b%2Fc%3Fd%26%C3%A9");
    }

    fn binding_error(message: &str) -> DaprError {
        DaprError::Status {
            status: 500,
            body: format!(r#"{{"errorCode":"ERR_INVOKE_OUTPUT_BINDING","message":"{message}"}}"#),
        }
    }

    #[test]
    fn public_details_carry_no_address_and_no_raw_answer() {
        let raw = [
            DaprError::Unreachable(
                "http://10.0.0.7:3500: ErrorCode::ConnectionRefused".into(),
            ),
            DaprError::Unreachable("http://10.0.0.7:3500: ErrorCode::HttpResponseTimeout".into()),
            DaprError::Status {
                status: 500,
                body: r#"{"errorCode":"ERR_INVOKE_OUTPUT_BINDING","message":"error executing query: ERROR: permission denied for table tasks (SQLSTATE 42501) host=db.internal password=x"}"#.into(),
            },
            DaprError::Decode("expected value at line 1 column 1: <html>".into()),
            DaprError::Incomplete("relation \"tasks\" does not exist".into()),
        ];
        for e in &raw {
            let d = e.public_detail();
            for secret in [
                "10.0.0.7",
                "3500",
                "ERR_",
                "SQLSTATE",
                "permission",
                "tasks",
                "html",
                "db.internal",
            ] {
                assert!(!d.contains(secret), "{d} reveals {secret}");
            }
        }
        assert_eq!(
            raw[1].public_detail(),
            "the Dapr sidecar did not answer in time"
        );
    }

    #[test]
    fn answers_of_a_binding_mid_reload_are_retried() {
        for message in [
            "couldn't find output binding tasks-db",
            "error invoking output binding tasks-db: component is closed",
            "error executing query: closed pool",
            "failed to connect to `user=todo database=todo`: context canceled",
            "failed to connect to `user=todo database=todo`: 127.0.0.1:5432 (127.0.0.1): dial error: dial tcp 127.0.0.1:5432: operation was canceled",
        ] {
            assert!(binding_error(message).is_binding_reloading(), "{message}");
        }
    }

    #[test]
    fn failures_that_may_have_reached_the_database_are_not_retried() {
        for message in [
            "failed to connect to `user=todo database=todo`: dial tcp 127.0.0.1:5432: connect: connection refused",
            "error executing query: ERROR: division by zero (SQLSTATE 22012)",
            "operation was canceled",
        ] {
            assert!(!binding_error(message).is_binding_reloading(), "{message}");
        }
        let other_api = DaprError::Status {
            status: 500,
            body: "component is closed".into(),
        };
        assert!(!other_api.is_binding_reloading());
    }
}
