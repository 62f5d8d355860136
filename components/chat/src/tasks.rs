//! The Task API, reached only through Dapr service invocation with the caller's own token, so
//! every call is scoped to that user by the Task API itself.

use component_kit::dapr::{encode, Dapr};
use component_kit::invoke::Invoked;
use serde_json::Value;
use spin_sdk::http::Method;

use crate::error::ChatError;

/// The Task API's Dapr app id.
pub fn app_id() -> String {
    std::env::var("TASK_API_APP_ID").unwrap_or_else(|_| "task-api".to_string())
}

/// Most pending tasks read when resolving a name (4 pages of 50).
pub const MAX_CANDIDATES: usize = 200;

/// A Task API client acting for one user.
pub struct TaskApi<'a> {
    dapr: &'a Dapr,
    authorization: String,
}

impl<'a> TaskApi<'a> {
    /// A client that forwards `authorization` (the caller's `Bearer …`).
    pub fn new(dapr: &'a Dapr, authorization: &str) -> Self {
        Self {
            dapr,
            authorization: authorization.to_string(),
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Invoked, ChatError> {
        let mut headers = vec![
            ("authorization", self.authorization.as_str()),
            ("accept", "application/json"),
        ];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        headers.extend_from_slice(extra);
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        Ok(self
            .dapr
            .invoke(&app_id(), method, path, &headers, bytes)
            .await?)
    }

    /// The answer's JSON if 2xx; otherwise the Task API's problem `detail` as an error.
    fn accept(answer: Invoked) -> Result<Result<Value, String>, ChatError> {
        if answer.ok() {
            return Ok(Ok(answer.json()));
        }
        if answer.status == 503 {
            // The Task API shed the write (nothing was written): the caller may retry.
            if let Some(secs) = answer
                .header("retry-after")
                .and_then(|v| v.trim().parse().ok())
            {
                return Err(ChatError::Overloaded { retry_after: secs });
            }
        }
        if answer.status >= 500 {
            return Err(ChatError::Upstream(format!(
                "the Task API answered {}",
                answer.status
            )));
        }
        let problem = answer.json();
        let mut detail = problem
            .get("detail")
            .and_then(Value::as_str)
            .unwrap_or("the Task API refused")
            .to_string();
        if let Some(errors) = problem.get("errors").and_then(Value::as_array) {
            let fields: Vec<&str> = errors
                .iter()
                .filter_map(|e| e.get("message").and_then(Value::as_str))
                .collect();
            if !fields.is_empty() {
                detail = fields.join("; ");
            }
        }
        Ok(Err(detail))
    }

    /// `POST /api/tasks` with an idempotency key; `Err(detail)` when the Task API refused it.
    pub async fn create(
        &self,
        body: &Value,
        idempotency_key: &str,
    ) -> Result<Result<Value, String>, ChatError> {
        let answer = self
            .call(
                Method::Post,
                "/api/tasks",
                &[("idempotency-key", idempotency_key)],
                Some(body),
            )
            .await?;
        Self::accept(answer)
    }

    /// Pending tasks, optionally due in `[from, to)`, earliest due first; answers whether more exist.
    pub async fn pending(
        &self,
        from: Option<String>,
        to: Option<String>,
        limit: usize,
    ) -> Result<(Vec<Value>, bool), ChatError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec!["status=pending".to_string(), "limit=50".to_string()];
            if let Some(f) = &from {
                query.push(format!("due_from={}", encode(f)));
            }
            if let Some(t) = &to {
                query.push(format!("due_to={}", encode(t)));
            }
            if let Some(c) = &cursor {
                query.push(format!("cursor={}", encode(c)));
            }
            let page = match Self::accept(
                self.call(
                    Method::Get,
                    &format!("/api/tasks?{}", query.join("&")),
                    &[],
                    None,
                )
                .await?,
            )? {
                Ok(v) => v,
                Err(detail) => return Err(ChatError::Upstream(detail)),
            };
            items.extend(
                page.get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            );
            cursor = page
                .get("next_cursor")
                .and_then(Value::as_str)
                .map(str::to_string);
            if cursor.is_none() || items.len() >= limit {
                let more = cursor.is_some();
                items.truncate(limit);
                return Ok((items, more));
            }
        }
    }

    /// `POST /api/tasks/{id}/complete`.
    pub async fn complete(&self, id: &str) -> Result<Result<Value, String>, ChatError> {
        Self::accept(
            self.call(
                Method::Post,
                &format!("/api/tasks/{}/complete", encode(id)),
                &[],
                None,
            )
            .await?,
        )
    }

    /// `PATCH /api/tasks/{id}?scope=…`.
    pub async fn patch(
        &self,
        id: &str,
        scope: &str,
        body: &Value,
    ) -> Result<Result<Value, String>, ChatError> {
        let path = format!("/api/tasks/{}?scope={scope}", encode(id));
        Self::accept(self.call(Method::Patch, &path, &[], Some(body)).await?)
    }

    /// `DELETE /api/tasks/{id}?scope=…&confirm=true`.
    pub async fn delete(&self, id: &str, scope: &str) -> Result<Result<Value, String>, ChatError> {
        let path = format!("/api/tasks/{}?scope={scope}&confirm=true", encode(id));
        Self::accept(self.call(Method::Delete, &path, &[], None).await?)
    }
}
