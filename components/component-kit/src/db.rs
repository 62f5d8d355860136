//! Running the platform's SQL statements on the `tasks-db` PostgreSQL binding. Every service that
//! touches the database goes through here; each query answers the typed rows its builder in the
//! `store` crate names, decoded by column name.

use serde::de::DeserializeOwned;
use store::{Query, Statement};

use crate::dapr::{Dapr, DaprError};

/// The Dapr PostgreSQL binding (`bindings.postgresql`) every service uses.
pub const DB: &str = "tasks-db";

/// Runs a query (guarded: see [`Dapr::query`]) and decodes its rows.
pub async fn query<R: DeserializeOwned>(dapr: &Dapr, q: &Query<R>) -> Result<Vec<R>, DaprError> {
    let rows = dapr.query(DB, &q.sql, &q.params_json()).await?;
    store::decode_rows(rows).map_err(|e| DaprError::Decode(e.to_string()))
}

/// Runs a statement without rows.
pub async fn exec(dapr: &Dapr, s: &Statement) -> Result<(), DaprError> {
    dapr.exec(DB, &s.sql, &s.params_json()).await
}
